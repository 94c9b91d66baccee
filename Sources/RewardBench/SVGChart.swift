import Foundation

/// Accuracy against context length, one line per method/model.
public struct ChartSeries: Sendable, Equatable {
    public var name: String
    /// Bucket label → accuracy in 0...1; buckets without a value are left out of the line.
    public var values: [String: Double]

    public init(name: String, values: [String: Double]) {
        self.name = name
        self.values = values
    }
}

public enum ChartMetric: String, Sendable, CaseIterable {
    case pairwise
    case bonPosition = "bon-position"
    case bonExact = "bon-exact"
    case overall

    public func value(_ stats: GroupStats) -> Double? {
        switch self {
        case .pairwise: stats.pairAccuracy
        case .bonPosition: stats.bonPositionAccuracy
        case .bonExact: stats.bonExactAccuracy
        case .overall: stats.overall
        }
    }

    public var title: String {
        switch self {
        case .pairwise: "pairwise accuracy"
        case .bonPosition: "Best-of-N position accuracy"
        case .bonExact: "Best-of-N exact ranking accuracy"
        case .overall: "overall accuracy"
        }
    }
}

public enum SVGChart {
    public static func series(from summary: BenchSummary, metric: ChartMetric, name: String? = nil) -> ChartSeries {
        var values: [String: Double] = [:]
        for stats in summary.byLength {
            if let value = metric.value(stats) { values[stats.name] = value }
        }
        return ChartSeries(name: name ?? (summary.label.isEmpty ? "results" : summary.label), values: values)
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public static func render(_ series: [ChartSeries], title: String = "accuracy vs context length") -> String {
        let buckets = LengthBucket.ordered(series.flatMap(\.values.keys))
        // The legend goes under the plot, one row per series, so long model names are never clipped.
        let width = 720.0, plotHeight = 340.0
        let left = 60.0, right = 30.0, top = 40.0, bottom = 70.0 + 20.0 * Double(series.count)
        let height = top + plotHeight + bottom
        let plotWidth = width - left - right
        func x(_ index: Int) -> Double {
            buckets.count <= 1 ? left + plotWidth / 2 : left + plotWidth * Double(index) / Double(buckets.count - 1)
        }
        func y(_ value: Double) -> Double { top + plotHeight * (1 - min(max(value, 0), 1)) }

        var svg: [String] = []
        svg.append(
            "<svg"
                + attributes([
                    ("xmlns", "http://www.w3.org/2000/svg"), ("width", fmt(width)), ("height", fmt(height)),
                    ("viewBox", "0 0 \(fmt(width)) \(fmt(height))"), ("font-family", "sans-serif"), ("font-size", "12"),
                ]) + ">")
        svg.append(tag("rect", [("width", "100%"), ("height", "100%"), ("fill", "white")]))
        svg.append(tag("text", [("x", fmt(left)), ("y", "24"), ("font-size", "15")], text: title))
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            svg.append(
                tag(
                    "line",
                    [
                        ("x1", fmt(left)), ("y1", fmt(y(tick))), ("x2", fmt(left + plotWidth)), ("y2", fmt(y(tick))),
                        ("stroke", "#ddd"),
                    ]))
            svg.append(
                tag("text", [("x", fmt(left - 8)), ("y", fmt(y(tick) + 4)), ("text-anchor", "end")], text: fmt(tick)))
        }
        for (index, bucket) in buckets.enumerated() {
            svg.append(
                tag(
                    "text", [("x", fmt(x(index))), ("y", fmt(top + plotHeight + 20)), ("text-anchor", "middle")],
                    text: bucket))
        }
        svg.append(
            tag(
                "text",
                [("x", fmt(left + plotWidth / 2)), ("y", fmt(top + plotHeight + 40)), ("text-anchor", "middle")],
                text: "context length (tokens)"))
        let middle = fmt(top + plotHeight / 2)
        svg.append(
            tag(
                "text",
                [("x", "16"), ("y", middle), ("text-anchor", "middle"), ("transform", "rotate(-90 16 \(middle))")],
                text: "accuracy"))
        svg.append(
            tag(
                "rect",
                [
                    ("x", fmt(left)), ("y", fmt(top)), ("width", fmt(plotWidth)), ("height", fmt(plotHeight)),
                    ("fill", "none"), ("stroke", "#888"),
                ]))

        for (number, item) in series.enumerated() {
            let color = palette[number % palette.count]
            let points = buckets.enumerated().compactMap { index, bucket in
                item.values[bucket].map { (x(index), y($0)) }
            }
            let list = points.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
            svg.append(
                tag("polyline", [("fill", "none"), ("stroke", color), ("stroke-width", "2"), ("points", list)]))
            for point in points {
                svg.append(tag("circle", [("cx", fmt(point.0)), ("cy", fmt(point.1)), ("r", "3.5"), ("fill", color)]))
            }
            let legendX = left
            let legendY = top + plotHeight + 65 + Double(number) * 20
            svg.append(
                tag(
                    "line",
                    [
                        ("x1", fmt(legendX)), ("y1", fmt(legendY)), ("x2", fmt(legendX + 20)), ("y2", fmt(legendY)),
                        ("stroke", color), ("stroke-width", "2"),
                    ]))
            svg.append(tag("text", [("x", fmt(legendX + 25)), ("y", fmt(legendY + 4))], text: item.name))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    static func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    static func tag(_ name: String, _ pairs: [(String, String)], text: String? = nil) -> String {
        guard let text else { return "<\(name)\(attributes(pairs))/>" }
        return "<\(name)\(attributes(pairs))>\(escape(text))</\(name)>"
    }

    static func fmt(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
