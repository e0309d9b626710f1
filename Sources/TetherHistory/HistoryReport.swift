import Foundation
import TetherCore
import TetherReport

/// `tether history` output: a text table, a JSON document and an HTML page with the success
/// rate of each robot over its recorded runs.
public enum HistoryReport {
    /// "55/60  91.7 % [81.9, 96.4]" or the rate alone, or "—".
    public static func result(_ e: History.Entry) -> String {
        var parts: [String] = []
        if let s = e.successes, let n = e.trials { parts.append("\(s)/\(n)") }
        if let r = e.rate {
            var text = String(format: "%.1f %%", 100 * r)
            if let lo = e.lower, let hi = e.upper { text += String(format: " [%.1f, %.1f]", 100 * lo, 100 * hi) }
            parts.append(text)
        }
        if let d = e.decision { parts.append(d) }
        return parts.isEmpty ? "—" : parts.joined(separator: "  ")
    }

    /// The entries as aligned text, oldest first.
    public static func table(_ entries: [History.Entry]) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
        let header = ["#", "when (UTC)", "kind", "robot", "policy", "backend", "result"]
        let rows = entries.map { e -> [String] in
            [e.id.map { "\($0)" } ?? "", formatter.string(from: e.createdAt), e.kind.rawValue, e.robot,
             e.policy.map { ($0 as NSString).lastPathComponent } ?? "—", e.backend ?? "—", result(e)]
        }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        var out = [line(header)]
        for (row, e) in zip(rows, entries) {
            out.append(line(row))
            out.append(String(repeating: " ", count: widths[0] + 2) + e.summary)
        }
        return out.joined(separator: "\n")
    }

    /// The entries as a JSON document `{"database": …, "entries": [...]}` (dates in ISO 8601).
    public static func json(_ entries: [History.Entry], database: String) throws -> Data {
        struct Document: Encodable { var database: String; var entries: [History.Entry] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(Document(database: database, entries: entries))
    }

    /// An HTML page: per robot, the success rate with its interval over the runs (x = run number
    /// in time order, one series per kind), then the table of every run.
    public static func html(_ entries: [History.Entry], database: String) -> HTMLReport {
        var sections: [ReportSection] = []
        let robots = Array(Set(entries.map(\.robot))).sorted()
        for robot in robots {
            let mine = entries.filter { $0.robot == robot }
            var series: [PlotSeries] = []
            var bands: [PlotBand] = []
            for kind in History.Kind.allCases {
                let points = mine.enumerated().filter { $0.element.kind == kind && $0.element.rate != nil }
                guard !points.isEmpty else { continue }
                let x = points.map { Double($0.offset + 1) }
                series.append(PlotSeries(kind.rawValue, x: x, y: points.map { 100 * $0.element.rate! }, markers: true))
                let withInterval = points.filter { $0.element.lower != nil && $0.element.upper != nil }
                if withInterval.count == points.count, points.count > 1 {
                    bands.append(PlotBand("\(kind.rawValue) 95 %", x: x, lower: points.map { 100 * $0.element.lower! },
                                          upper: points.map { 100 * $0.element.upper! }))
                }
            }
            var blocks: [ReportBlock] = []
            if !series.isEmpty {
                blocks.append(.figure(ReportFigure(SVGPlot.line(title: "\(robot): success rate by run", x: PlotAxis("run (time order)"),
                                                                y: PlotAxis("success / mAP", unit: "%"), series: series, bands: bands,
                                                                references: [.horizontal(90, label: "90 % gate")]),
                                                   caption: "Each point is one recorded run; bands are 95 % intervals where the run had one.")))
            }
            let formatter = ISO8601DateFormatter()
            let rows: [[ReportCell]] = mine.map { e in
                let status: ReportStatus? = switch e.decision {
                case "GO", "PASS": .pass
                case "NO-GO", "FAIL": .fail
                case "WARN", "CONTINUE", "OVERRIDE": .warn
                default: nil
                }
                return [ReportCell(e.id.map { "\($0)" } ?? ""), ReportCell(formatter.string(from: e.createdAt)), ReportCell(e.kind.rawValue),
                        ReportCell(e.policy ?? "—"), ReportCell(e.backend ?? "—"), ReportCell(result(e), status: status), ReportCell(e.summary)]
            }
            blocks.append(.table(ReportTable(header: ["#", "when (UTC)", "kind", "policy", "backend", "result", "summary"], rows: rows)))
            sections.append(ReportSection(robot, blocks: blocks))
        }
        if sections.isEmpty { sections.append(ReportSection("No runs", blocks: [.paragraph("Nothing recorded yet in \(database).")])) }
        let latest = entries.last
        var cards = [SummaryCard("runs", value: "\(entries.count)")]
        if let latest, let rate = latest.rate { cards.append(SummaryCard("latest \(latest.kind.rawValue)", value: String(format: "%.1f", 100 * rate),
                                                                         unit: "%")) }
        return HTMLReport(title: "Tether history", subtitle: database, generatedAt: Date(), generatedBy: "tether history",
                          cards: cards, sections: sections)
    }
}
