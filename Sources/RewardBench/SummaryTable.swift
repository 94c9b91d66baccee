import Foundation

/// The terminal report: one row per task and per length bucket, then the totals.
public enum SummaryTable {
    public static func render(_ summary: BenchSummary) -> String {
        let header = ["group", "pairs", "pair acc", "BoN", "BoN pos", "BoN exact", "overall", "failed"]
        var rows: [[String]] = []
        rows.append(["by task"] + Array(repeating: "", count: header.count - 1))
        rows += summary.byTask.map(row)
        rows.append(["by length"] + Array(repeating: "", count: header.count - 1))
        rows += summary.byLength.map(row)
        if !summary.bySubtype.isEmpty {
            rows.append(["by subtype"] + Array(repeating: "", count: header.count - 1))
            rows += summary.bySubtype.map(row)
        }
        rows.append(row(summary.total))
        let columnWidths = widths(header, rows)
        var lines = [format(header, widths: columnWidths)]
        lines.append(columnWidths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        lines += rows.map { format($0, widths: columnWidths) }
        var text = "\(summary.label.isEmpty ? "results" : summary.label): \(summary.items) items\n"
        text += lines.joined(separator: "\n") + "\n"
        if let rate = summary.total.consistencyRate {
            text += "position consistency (judge): \(percent(rate)) of \(summary.total.consistencyCount)\n"
        }
        text += "failed items: \(summary.total.failed)"
        if summary.badLines > 0 { text += ", bad input lines: \(summary.badLines)" }
        return text + "\n"
    }

    static func row(_ stats: GroupStats) -> [String] {
        [
            stats.name, "\(stats.pairCount)", percent(stats.pairAccuracy), "\(stats.bonCount)",
            percent(stats.bonPositionAccuracy), percent(stats.bonExactAccuracy), percent(stats.overall),
            "\(stats.failed)",
        ]
    }

    public static func percent(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.1f%%", value * 100)
    }

    static func widths(_ header: [String], _ rows: [[String]]) -> [Int] {
        header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    }

    static func format(_ cells: [String], widths: [Int]) -> String {
        cells.enumerated().map { column, cell in
            let pad = String(repeating: " ", count: widths[column] - cell.count)
            return column == 0 ? cell + pad : pad + cell
        }.joined(separator: "  ")
    }
}
