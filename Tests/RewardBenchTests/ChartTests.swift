import Foundation
import Testing

@testable import RewardBench

@Suite struct ChartTests {
    func polylines(_ svg: String) -> [[String]] {
        svg.components(separatedBy: "\n").filter { $0.hasPrefix("<polyline") }.map { line in
            let points = line.components(separatedBy: "points=\"")[1].components(separatedBy: "\"")[0]
            return points.split(separator: " ").map(String.init)
        }
    }

    @Test func onePolylinePerSeriesWithItsPoints() {
        let series = [
            ChartSeries(name: "likelihood · gemma", values: ["4k": 0.9, "8k": 0.8, "16k": 0.7, "128k": 0.5]),
            ChartSeries(name: "judge <b>", values: ["8k": 0.6, "4k": 0.65]),
            ChartSeries(name: "classifier", values: ["32k": 0.55]),
        ]
        let svg = SVGChart.render(series)
        let lines = polylines(svg)
        #expect(lines.count == 3)
        #expect(lines.map(\.count) == [4, 2, 1])
        #expect(svg.components(separatedBy: "<circle").count - 1 == 7)
        #expect(svg.contains("judge &lt;b&gt;"))
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.hasSuffix("</svg>\n"))
        // x labels in length order: 4k, 8k, 16k, 32k, 128k.
        let labels = ["4k", "8k", "16k", "32k", "128k"].map { svg.range(of: ">\($0)</text>")!.lowerBound }
        #expect(labels == labels.sorted())
        // Points of the first line go left to right, and higher accuracy is drawn higher (smaller y).
        let xy = lines[0].map { $0.split(separator: ",").map { Double($0)! } }
        #expect(xy.map { $0[0] } == xy.map { $0[0] }.sorted())
        #expect(xy[0][1] < xy[3][1])
    }

    @Test func seriesFromSummaryUsesTheMetric() {
        let results = [
            ItemResult(
                key: "a", id: nil, task: "T", taskType: .pairWise, subtype: nil, lengthBucket: "4k", method: "m",
                order: [0, 1], score: 1, exact: true),
            ItemResult(
                key: "b", id: nil, task: "T", taskType: .pairWise, subtype: nil, lengthBucket: "8k", method: "m",
                order: [0, 1], score: 0, exact: false),
            ItemResult(
                key: "c", id: nil, task: "T", taskType: .bestOfN, subtype: nil, lengthBucket: "8k", method: "m",
                order: [0, 1, 2], ranking: [0, 2, 1], score: 1.0 / 3, exact: false),
        ]
        let summary = BenchSummary(results: results)
        let pairs = SVGChart.series(from: summary, metric: .pairwise)
        #expect(pairs.values == ["4k": 1, "8k": 0])
        let bon = SVGChart.series(from: summary, metric: .bonPosition)
        #expect(bon.values.keys.sorted() == ["8k"])
        #expect(pairs.name == "m")
    }
}
