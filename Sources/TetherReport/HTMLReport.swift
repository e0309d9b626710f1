import Foundation
import TetherCore

/// How a figure, cell or the whole report came out.
public enum ReportStatus: String, Sendable, Equatable, CaseIterable {
    /// Within tolerance.
    case pass
    /// Usable, but look at it.
    case warn
    /// Outside tolerance.
    case fail
    /// Neutral information.
    case info

    /// The word shown on badges ("PASS").
    public var word: String { rawValue.uppercased() }

    /// A symbol shown with the colour, so that status never depends on colour alone.
    var symbol: String {
        switch self {
        case .pass: return "✓"
        case .warn: return "!"
        case .fail: return "✕"
        case .info: return "i"
        }
    }
}

/// The overall outcome shown as a badge next to the title ("FAIL · 3 of 12 metrics outside
/// tolerance").
public struct ReportVerdict: Sendable {
    /// Pass, warn, fail or info: the badge colour.
    public var status: ReportStatus
    /// One line of explanation after the badge word; empty for none.
    public var headline: String

    /// Creates a verdict.
    public init(_ status: ReportStatus, _ headline: String = "") {
        self.status = status
        self.headline = headline
    }
}

/// A key figure at the top of a report: a big number with its label and unit.
public struct SummaryCard: Sendable {
    /// What the number is ("success rate, real").
    public var label: String
    /// The number as shown ("92.5").
    public var value: String
    /// The unit, shown small after the value; nil for none.
    public var unit: String?
    /// Colours the card and adds a status word; nil for a neutral card.
    public var status: ReportStatus?
    /// A short line under the value ("sim 97.1 %, gap 4.6 points"); nil for none.
    public var detail: String?

    /// Creates a card with a value already formatted.
    public init(_ label: String, value: String, unit: String? = nil, status: ReportStatus? = nil,
                detail: String? = nil) {
        self.label = label
        self.value = value
        self.unit = unit
        self.status = status
        self.detail = detail
    }

    /// Creates a card with a number shown to `digits` significant digits.
    public init(_ label: String, value: Double, digits: Int = 3, unit: String? = nil,
                status: ReportStatus? = nil, detail: String? = nil) {
        self.init(label, value: ReportNumber.significant(value, digits: digits), unit: unit,
                  status: status, detail: detail)
    }
}

/// One cell of a report table: its text, whether it is a number (numeric columns are
/// right-aligned), and an optional status colour.
///
/// Cells can be written as literals: `["kp", 20.5, 19.8]` is a row of a text cell and two
/// numeric cells.
public struct ReportCell: Sendable, ExpressibleByStringLiteral, ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral {
    /// The text shown.
    public var text: String
    /// Whether the cell holds a number.
    public var isNumeric: Bool
    /// Tints the cell; nil for none.
    public var status: ReportStatus?

    /// Creates a text cell; it counts as numeric when it starts with a number ("12.5 ms",
    /// "-0.3", "4.2 %").
    public init(_ text: String, status: ReportStatus? = nil) {
        self.text = text
        self.isNumeric = ReportCell.looksNumeric(text)
        self.status = status
    }

    /// Creates a numeric cell with up to `digits` significant digits (no padding zeros: "0.82")
    /// and an optional unit. Use ``fixed(_:decimals:unit:status:)`` for aligned decimals.
    public init(_ value: Double, digits: Int = 4, unit: String? = nil, status: ReportStatus? = nil) {
        self.text = ReportNumber.compact(value, digits: digits) + (unit.map { " \($0)" } ?? "")
        self.isNumeric = true
        self.status = status
    }

    /// Creates a numeric cell with exactly `decimals` places.
    public static func fixed(_ value: Double, decimals: Int, unit: String? = nil,
                             status: ReportStatus? = nil) -> ReportCell {
        var cell = ReportCell(value, unit: unit, status: status)
        cell.text = ReportNumber.fixed(value, decimals: decimals) + (unit.map { " \($0)" } ?? "")
        return cell
    }

    /// A text cell from a string literal (numeric if it reads as a number).
    public init(stringLiteral value: String) { self.init(value) }
    /// A numeric cell from a floating-point literal, up to 4 significant digits.
    public init(floatLiteral value: Double) { self.init(value) }
    /// A numeric cell from an integer literal, shown in full.
    public init(integerLiteral value: Int) {
        self.text = String(value)
        self.isNumeric = true
        self.status = nil
    }

    static func looksNumeric(_ text: String) -> Bool {
        guard let token = text.trimmingCharacters(in: .whitespaces).split(separator: " ").first else { return false }
        var t = String(token)
        if t.hasSuffix("%") { t.removeLast() }
        if t.hasPrefix("−") { t = "-" + t.dropFirst() }
        if t.hasPrefix("+") { t.removeFirst() }
        guard let first = t.first, first.isNumber || first == "-" || first == "." else {
            return ["NaN", "∞", "-∞", "—", "–"].contains(t)
        }
        return Double(t) != nil
    }
}

/// A table: a header row and data rows. Columns in which every non-empty cell is numeric are
/// right-aligned with tabular figures.
public struct ReportTable: Sendable {
    /// Column titles.
    public var header: [String]
    /// Data rows; a short row is padded with empty cells.
    public var rows: [[ReportCell]]
    /// A line under the table; nil for none.
    public var caption: String?

    /// Creates a table.
    public init(header: [String], rows: [[ReportCell]], caption: String? = nil) {
        self.header = header
        self.rows = rows
        self.caption = caption
    }
}

/// A figure: SVG markup (normally ``SVGPlot/render()``) with a caption.
public struct ReportFigure: Sendable {
    /// The SVG document, placed in the page as it is (it is not escaped: pass only markup you
    /// trust, such as a rendered ``SVGPlot``).
    public var svg: String
    /// The text under the figure; nil for none.
    public var caption: String?

    /// Creates a figure from SVG markup.
    public init(svg: String, caption: String? = nil) {
        self.svg = svg
        self.caption = caption
    }

    /// Creates a figure from a plot.
    public init(_ plot: SVGPlot, caption: String? = nil) {
        self.init(svg: plot.render(), caption: caption)
    }
}

/// One piece of a section's content.
public indirect enum ReportBlock: Sendable {
    /// A paragraph of plain text (escaped; blank lines start new paragraphs).
    case paragraph(String)
    /// A highlighted note coloured by status ("Only 3 real trials: the gap is uncertain.").
    case callout(ReportStatus, String)
    /// A table.
    case table(ReportTable)
    /// A figure.
    case figure(ReportFigure)
    /// Preformatted text in a monospaced font (a command line, a patched model excerpt).
    case code(String)
    /// A video (an MP4 beside the report, `src` relative to it), with a caption.
    case video(src: String, caption: String?)
    /// A collapsible block: a one-line summary that opens to show `blocks` (raw numbers,
    /// per-trial tables). `open` shows it expanded from the start (and on paper).
    case details(summary: String, blocks: [ReportBlock], open: Bool)
}

/// A titled section of a report.
public struct ReportSection: Sendable {
    /// The section heading.
    public var title: String
    /// The content, in order.
    public var blocks: [ReportBlock]

    /// Creates a section.
    public init(_ title: String, blocks: [ReportBlock] = []) {
        self.title = title
        self.blocks = blocks
    }

    /// Appends a paragraph.
    public mutating func paragraph(_ text: String) { blocks.append(.paragraph(text)) }
    /// Appends a status-coloured note.
    public mutating func callout(_ status: ReportStatus, _ text: String) { blocks.append(.callout(status, text)) }
    /// Appends a table.
    public mutating func table(_ table: ReportTable) { blocks.append(.table(table)) }
    /// Appends a plot as a figure.
    public mutating func figure(_ plot: SVGPlot, caption: String? = nil) {
        blocks.append(.figure(ReportFigure(plot, caption: caption)))
    }
    /// Appends preformatted text.
    public mutating func code(_ text: String) { blocks.append(.code(text)) }
    /// Adds a video player for `src` (relative to the report).
    public mutating func video(_ src: String, caption: String? = nil) { blocks.append(.video(src: src, caption: caption)) }
    /// Appends a collapsible block.
    public mutating func details(_ summary: String, open: Bool = false, _ blocks: [ReportBlock]) {
        self.blocks.append(.details(summary: summary, blocks: blocks, open: open))
    }
}

/// A self-contained HTML report: one file with inline CSS and inline SVG, no scripts, no
/// external fonts, styles or images, so it opens offline, mails as one attachment and prints.
///
/// Layout from top to bottom: title with the verdict badge, subtitle, the generated-at line,
/// summary cards with the key figures, a table of contents (three sections or more), the
/// sections, and the footer. It follows the reader's light or dark preference and prints in
/// light colours. All user text is escaped.
///
/// ```swift
/// var report = HTMLReport(title: "Gap report: quadruped", subtitle: "policy v7 on robot 2",
///                         generatedAt: Date())
/// report.verdict = ReportVerdict(.warn, "2 of 9 metrics outside tolerance")
/// report.cards = [SummaryCard("success, real", value: 92.5, unit: "%", status: .pass)]
/// var fit = ReportSection("Fit")
/// fit.figure(plot, caption: "Measured and simulated knee angle.")
/// report.sections.append(fit)
/// try report.write(to: "gap.html")
/// ```
public struct HTMLReport: Sendable {
    /// The report title (also the page title).
    public var title: String
    /// A line under the title; nil for none.
    public var subtitle: String?
    /// When the report was made, shown in UTC; nil to leave it out (for byte-identical output).
    public var generatedAt: Date?
    /// What made it ("tether gap --robot quadruped"), shown after the time; nil for none.
    public var generatedBy: String?
    /// The verdict badge; nil for none.
    public var verdict: ReportVerdict?
    /// The key figures.
    public var cards: [SummaryCard]
    /// The body.
    public var sections: [ReportSection]
    /// The last line of the page; nil for none.
    public var footer: String?

    /// Creates a report.
    public init(title: String, subtitle: String? = nil, generatedAt: Date? = nil, generatedBy: String? = nil,
                verdict: ReportVerdict? = nil, cards: [SummaryCard] = [], sections: [ReportSection] = [],
                footer: String? = nil) {
        self.title = title
        self.subtitle = subtitle
        self.generatedAt = generatedAt
        self.generatedBy = generatedBy
        self.verdict = verdict
        self.cards = cards
        self.sections = sections
        self.footer = footer
    }

    /// The complete HTML document. It is also well-formed XML (every element closed, only the
    /// five XML character references), so it can be checked with any XML parser.
    public func render() -> String {
        HTMLRenderer(report: self).document()
    }

    /// Writes ``render()`` to `path` (UTF-8, replacing the file atomically).
    ///
    /// - Throws: ``TetherError`` naming the path when the folder does not exist or the file
    ///   cannot be written.
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) || !isFolder.boolValue {
            throw TetherError("cannot write the HTML report: the folder \(folder) does not exist", at: path,
                              hint: "create the folder first, or choose another output path")
        }
        do {
            try Data(render().utf8).write(to: url, options: .atomic)
        } catch {
            throw TetherError("cannot write the HTML report (\(error.localizedDescription))", at: path,
                              hint: "check that the folder is writable and that the path is not a folder")
        }
    }
}
