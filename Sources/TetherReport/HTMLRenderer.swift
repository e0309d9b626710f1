import Foundation

/// Turns an ``HTMLReport`` into its document. Every piece of user text goes through
/// ``Markup/escape(_:)``; the only markup inserted as it is comes from figures.
struct HTMLRenderer {
    let report: HTMLReport

    func document() -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        out += "<meta name=\"generator\" content=\"Tether\"/>\n"
        out += "<title>\(e(report.title))</title>\n<style>\(HTMLRenderer.css)</style>\n</head>\n<body>\n<main>\n"
        out += header()
        if !report.cards.isEmpty {
            out += "<div class=\"cards\">\n" + report.cards.map(card).joined() + "</div>\n"
        }
        if report.sections.count >= 3 {
            out += "<nav class=\"toc\"><ol>"
            for (i, section) in report.sections.enumerated() {
                out += "<li><a href=\"#section-\(i + 1)\">\(e(section.title))</a></li>"
            }
            out += "</ol></nav>\n"
        }
        for (i, section) in report.sections.enumerated() {
            out += "<section id=\"section-\(i + 1)\">\n<h2>\(e(section.title))</h2>\n"
            out += section.blocks.map(block).joined()
            out += "</section>\n"
        }
        if let footer = report.footer, !footer.isEmpty {
            out += "<footer>\(e(footer))</footer>\n"
        }
        return out + "</main>\n</body>\n</html>\n"
    }

    private func e(_ text: String) -> String { Markup.escape(text) }

    private func header() -> String {
        var out = "<header class=\"report-head\">\n<div class=\"heading\">\n<h1>\(e(report.title))</h1>\n"
        if let subtitle = report.subtitle, !subtitle.isEmpty {
            out += "<p class=\"subtitle\">\(e(subtitle))</p>\n"
        }
        var generated: [String] = []
        if let date = report.generatedAt { generated.append("Generated " + HTMLRenderer.utc(date)) }
        if let by = report.generatedBy, !by.isEmpty { generated.append("by " + by) }
        if !generated.isEmpty {
            out += "<p class=\"generated\">\(e(generated.joined(separator: " ")))</p>\n"
        }
        out += "</div>\n"
        if let verdict = report.verdict {
            out += "<div class=\"badge \(verdict.status.rawValue)\" role=\"status\">"
                + "<span class=\"word\">\(verdict.status.symbol) \(verdict.status.word)</span>"
            if !verdict.headline.isEmpty { out += "<span class=\"headline\">\(e(verdict.headline))</span>" }
            out += "</div>\n"
        }
        return out + "</header>\n"
    }

    private func card(_ card: SummaryCard) -> String {
        var out = "<div class=\"card\(card.status.map { " " + $0.rawValue } ?? "")\">"
        out += "<div class=\"label\">\(e(card.label))</div>"
        out += "<div class=\"value\">\(e(card.value))"
        if let unit = card.unit, !unit.isEmpty { out += "<span class=\"unit\">\(e(unit))</span>" }
        out += "</div>"
        if let status = card.status { out += "<div class=\"status\">\(status.symbol) \(status.word)</div>" }
        if let detail = card.detail, !detail.isEmpty { out += "<div class=\"detail\">\(e(detail))</div>" }
        return out + "</div>\n"
    }

    private func block(_ block: ReportBlock) -> String {
        switch block {
        case let .paragraph(text):
            return text.components(separatedBy: "\n\n")
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty }
                .map { "<p>\(e($0))</p>\n" }
                .joined()
        case let .callout(status, text):
            return "<div class=\"callout \(status.rawValue)\"><strong>\(status.symbol) \(status.word)</strong> \(e(text))</div>\n"
        case let .table(table):
            return self.table(table)
        case let .figure(figure):
            // Figures fill the column, but a small plot is not blown up beyond 1.45× its size.
            let limit = HTMLRenderer.intrinsicWidth(figure.svg).map { " style=\"max-width: \(Int(Double($0) * 1.45))px\"" } ?? ""
            var out = "<figure\(limit)>\n\(figure.svg)\n"
            if let caption = figure.caption, !caption.isEmpty { out += "<figcaption>\(e(caption))</figcaption>\n" }
            return out + "</figure>\n"
        case let .code(text):
            return "<pre><code>\(e(text))</code></pre>\n"
        case let .video(src, caption):
            var out = "<figure><video controls preload=\"metadata\" style=\"max-width: 100%\" src=\"\(e(src))\"></video>\n"
            out += "<figcaption>\(caption.map(e) ?? "")\(caption == nil ? "" : " · ")<a href=\"\(e(src))\">\(e(src))</a></figcaption>\n"
            return out + "</figure>\n"
        case let .details(summary, blocks, open):
            return "<details\(open ? " open=\"open\"" : "")>\n<summary>\(e(summary))</summary>\n"
                + blocks.map(self.block).joined() + "</details>\n"
        }
    }

    private func table(_ table: ReportTable) -> String {
        let columns = max(table.header.count, table.rows.map(\.count).max() ?? 0)
        let numeric = (0..<columns).map { k in
            let cells = table.rows.compactMap { k < $0.count ? $0[k] : nil }.filter { !$0.text.isEmpty }
            return !cells.isEmpty && cells.allSatisfy(\.isNumeric)
        }
        var out = "<div class=\"table-wrap\"><table>\n"
        if !table.header.isEmpty {
            out += "<thead><tr>"
            for k in 0..<columns {
                let title = k < table.header.count ? table.header[k] : ""
                out += "<th\(numeric[k] ? " class=\"num\"" : "")>\(e(title))</th>"
            }
            out += "</tr></thead>\n"
        }
        out += "<tbody>\n"
        for row in table.rows {
            out += "<tr>"
            for k in 0..<columns {
                let cell = k < row.count ? row[k] : ReportCell("")
                var classes: [String] = []
                if numeric[k] { classes.append("num") }
                if let status = cell.status { classes.append(status.rawValue) }
                let attribute = classes.isEmpty ? "" : " class=\"\(classes.joined(separator: " "))\""
                let tip = cell.status.map { " title=\"\($0.word)\"" } ?? ""
                out += "<td\(attribute)\(tip)>\(e(cell.text))</td>"
            }
            out += "</tr>\n"
        }
        out += "</tbody></table>"
        if let caption = table.caption, !caption.isEmpty { out += "<p class=\"table-caption\">\(e(caption))</p>" }
        return out + "</div>\n"
    }

    /// The `width` attribute of an SVG document's root element, in pixels.
    static func intrinsicWidth(_ svg: String) -> Int? {
        guard let start = svg.range(of: "<svg"), let end = svg[start.upperBound...].firstIndex(of: ">") else { return nil }
        let tag = svg[start.upperBound..<end]
        guard let attribute = tag.range(of: " width=\"") else { return nil }
        return Int(tag[attribute.upperBound...].prefix { $0.isNumber })
    }

    /// "2025-06-01 14:03 UTC".
    static func utc(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ v: Int?) -> String { let v = v ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        return "\(c.year ?? 1970)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)) UTC"
    }

    private static let lightColors = """
    --bg: #f4f5f7; --surface: #ffffff; --fg: #1b1e23; --muted: #5b6470; --line: #dde1e6; --zebra: #f8f9fb;
    --code-bg: #f0f2f5; --accent: #0b62b4;
    --pass: #1b7a3a; --pass-bg: #e2f3e7; --warn: #8a5700; --warn-bg: #fcf0d4;
    --fail: #b4231b; --fail-bg: #fbe3e1; --info: #1d5ea6; --info-bg: #e3edfa;
    """

    private static let darkColors = """
    --bg: #111317; --surface: #1a1d22; --fg: #e3e6ea; --muted: #9aa3ae; --line: #2f343c; --zebra: #1f2227;
    --code-bg: #22262c; --accent: #79b0f0;
    --pass: #5fc57d; --pass-bg: #183224; --warn: #e2b551; --warn-bg: #372c12;
    --fail: #f27d74; --fail-bg: #3b1e1c; --info: #80b2f0; --info-bg: #19283b;
    """

    /// The whole style sheet. Only CSS that is also valid XML text (no `<` or `&`).
    static let css = """

    :root { color-scheme: light dark; \(lightColors) }
    @media (prefers-color-scheme: dark) { :root { \(darkColors) } }
    * { box-sizing: border-box; }
    body { margin: 0; background: var(--bg); color: var(--fg);
      font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
    main { max-width: 1040px; margin: 0 auto; padding: 32px 24px 48px; }
    .report-head { display: flex; flex-wrap: wrap; align-items: flex-start; justify-content: space-between; gap: 12px 24px; }
    h1 { font-size: 30px; line-height: 1.2; margin: 0; letter-spacing: -0.015em; }
    .subtitle { margin: 6px 0 0; color: var(--muted); font-size: 17px; }
    .generated { margin: 4px 0 0; color: var(--muted); font-size: 13px; }
    .pass { --s: var(--pass); --s-bg: var(--pass-bg); }
    .warn { --s: var(--warn); --s-bg: var(--warn-bg); }
    .fail { --s: var(--fail); --s-bg: var(--fail-bg); }
    .info { --s: var(--info); --s-bg: var(--info-bg); }
    .badge { display: inline-flex; align-items: center; gap: 10px; padding: 7px 16px; border-radius: 999px;
      border: 1.5px solid var(--s); background: var(--s-bg); color: var(--s); font-size: 15px; }
    .badge .word { font-weight: 750; letter-spacing: 0.05em; white-space: nowrap; }
    .badge .headline { font-weight: 500; }
    .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 14px; margin: 28px 0 6px; }
    .card { background: var(--surface); border: 1px solid var(--line); border-top: 4px solid var(--s, var(--line));
      border-radius: 10px; padding: 12px 16px 12px; }
    .card .label { font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); }
    .card .value { font-size: 34px; font-weight: 650; line-height: 1.15; margin-top: 4px;
      font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
    .card .unit { font-size: 15px; font-weight: 500; color: var(--muted); margin-left: 5px; }
    .card .status { margin-top: 4px; font-size: 12px; font-weight: 700; letter-spacing: 0.05em; color: var(--s); }
    .card .detail { margin-top: 2px; font-size: 13px; color: var(--muted); }
    .toc { margin: 20px 0 0; font-size: 14px; }
    .toc ol { margin: 0; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: 6px 18px; counter-reset: toc; }
    .toc li { counter-increment: toc; }
    .toc li::before { content: counter(toc) ". "; color: var(--muted); }
    a { color: var(--accent); text-decoration: none; }
    a:hover { text-decoration: underline; }
    section { background: var(--surface); border: 1px solid var(--line); border-radius: 10px;
      padding: 4px 24px 18px; margin-top: 20px; }
    h2 { font-size: 20px; margin: 18px 0 10px; letter-spacing: -0.005em; }
    p { margin: 10px 0; max-width: 78ch; }
    .callout { margin: 12px 0; padding: 10px 14px; border-left: 4px solid var(--s); background: var(--s-bg); border-radius: 6px; }
    .callout strong { color: var(--s); margin-right: 6px; letter-spacing: 0.04em; font-size: 13px; }
    .table-wrap { overflow-x: auto; margin: 14px 0; }
    table { border-collapse: collapse; width: 100%; font-size: 14px; }
    th, td { padding: 7px 12px; text-align: left; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 650;
      border-bottom-width: 2px; white-space: nowrap; }
    tbody tr:nth-child(even) { background: var(--zebra); }
    .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    td.pass, td.warn, td.fail, td.info { background: var(--s-bg); color: var(--s); font-weight: 600; }
    td.pass::before { content: "✓ "; }
    td.warn::before { content: "! "; }
    td.fail::before { content: "✕ "; }
    .table-caption { margin: 6px 0 0; color: var(--muted); font-size: 13px; }
    figure { margin: 18px 0; }
    figure svg { display: block; width: 100%; height: auto; color: var(--fg); }
    figcaption { margin-top: 6px; color: var(--muted); font-size: 13.5px; max-width: 78ch; }
    pre { background: var(--code-bg); padding: 12px 14px; border-radius: 6px; overflow-x: auto;
      font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
    details { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; margin: 12px 0; }
    summary { cursor: pointer; font-weight: 600; }
    details[open] > summary { margin-bottom: 6px; }
    footer { margin-top: 28px; color: var(--muted); font-size: 13px; text-align: center; }
    @media print {
      :root { color-scheme: light; \(lightColors) }
      body { background: #ffffff; font-size: 10.5pt; }
      main { max-width: none; padding: 0; }
      section { border: none; padding: 0; margin-top: 14pt; }
      .toc { display: none; }
      .card, figure, tr, .callout, details { break-inside: avoid; }
      h2 { break-after: avoid; }
      a { color: inherit; }
    }

    """
}
