import Foundation

// Pieces every plot kind shares: the root element, title, legend, axes, clip region, and the
// "no data" placeholder. Colours of text, axes and grid are `currentColor`, so a plot inherits
// the page's text colour (dark mode) and is black on white when opened on its own.

/// A rectangle in pixels.
struct PlotRect {
    var left: Double
    var top: Double
    var right: Double
    var bottom: Double
    var width: Double { right - left }
    var height: Double { bottom - top }
}

/// The shape of a point marker. Series in scatter and residual plots cycle through them so that
/// they differ by more than colour.
enum MarkerShape: CaseIterable {
    case dot, square, diamond

    static func forSeries(_ index: Int) -> MarkerShape { allCases[index % allCases.count] }
}

/// What a legend entry draws before its label.
enum Swatch {
    case line(PlotColor, dashed: Bool, marker: MarkerShape?)
    case marker(PlotColor, MarkerShape)
    case fill(PlotColor)
    case solid(PlotColor)
    case reference
    case nominal
    case truth
    case interval(PlotColor)
}

struct LegendEntry {
    var label: String
    var swatch: Swatch
}

/// An approximate rendered width of `text` in the plots' sans-serif font: enough to lay out
/// margins and legends without measuring glyphs.
func textWidth(_ text: String, size: Double = 11) -> Double {
    Double(text.count) * size * 0.58
}

/// `text` cut to about `width` pixels, with an ellipsis when cut.
func truncated(_ text: String, width: Double, size: Double = 11) -> String {
    let fits = max(1, Int(width / (size * 0.58) + 0.01))
    return text.count <= fits ? text : String(text.prefix(max(1, fits - 1))) + "…"
}

let plotFont = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"

/// The opening of a plot's SVG document, with an accessible name.
func svgOpen(width: Int, height: Int, title: String, kind: String) -> String {
    let name = Markup.escape(title.isEmpty ? "\(kind) plot" : title)
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"tether-plot\" viewBox=\"0 0 \(width) \(height)\" "
        + "width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(name)\" "
        + "font-family=\"\(plotFont)\" font-size=\"11\"><title>\(name)</title>"
}

/// The plot title, top left.
func svgTitle(_ title: String) -> String {
    guard !title.isEmpty else { return "" }
    return "<text x=\"12\" y=\"20\" font-size=\"14\" font-weight=\"600\" fill=\"currentColor\">\(Markup.escape(title))</text>"
}

/// The height taken by the title band.
func titleHeight(_ title: String) -> Double { title.isEmpty ? 8 : 30 }

/// Lays out legend entries left to right from (12, `top`), wrapping at `width`; returns the
/// markup and the height used (0 for no entries).
func svgLegend(_ entries: [LegendEntry], top: Double, width: Double) -> (markup: String, height: Double) {
    guard !entries.isEmpty else { return ("", 0) }
    var out = "<g class=\"legend\" font-size=\"11\">"
    var x = 12.0, row = 0
    for entry in entries {
        let label = truncated(entry.label, width: max(60, width - 40))
        let w = 24 + textWidth(label) + 16
        if x > 12 && x + w > width + 12 {
            x = 12
            row += 1
        }
        let cy = top + 8 + Double(row) * 17
        out += swatch(entry.swatch, x: x, cy: cy)
        out += "<text x=\"\(svgNumber(x + 24))\" y=\"\(svgNumber(cy + 4))\" fill=\"currentColor\">\(Markup.escape(label))</text>"
        x += w
    }
    out += "</g>"
    return (out, Double(row + 1) * 17 + 2)
}

private func swatch(_ kind: Swatch, x: Double, cy: Double) -> String {
    let x0 = svgNumber(x), x1 = svgNumber(x + 18), xm = x + 9, y = svgNumber(cy)
    switch kind {
    case let .line(color, dashed, marker):
        var s = "<path d=\"M\(x0) \(y)H\(x1)\" stroke=\"\(color.hex)\" stroke-width=\"2\" fill=\"none\""
            + (dashed ? " stroke-dasharray=\"5 3\"/>" : "/>")
        if let marker { s += markerPath([(xm, cy)], shape: marker, color: color) }
        return s
    case let .marker(color, shape):
        return markerPath([(xm, cy)], shape: shape, color: color)
    case let .fill(color):
        return "<rect x=\"\(x0)\" y=\"\(svgNumber(cy - 5))\" width=\"18\" height=\"10\" rx=\"2\" fill=\"\(color.hex)\" fill-opacity=\"0.3\"/>"
    case let .solid(color):
        return "<rect x=\"\(x0)\" y=\"\(svgNumber(cy - 5))\" width=\"18\" height=\"10\" rx=\"2\" fill=\"\(color.hex)\" fill-opacity=\"0.88\"/>"
    case .reference:
        return "<path d=\"M\(x0) \(y)H\(x1)\" stroke=\"currentColor\" stroke-opacity=\"0.6\" stroke-dasharray=\"4 3\" fill=\"none\"/>"
    case .nominal:
        return nominalDiamond(x: xm, y: cy)
    case .truth:
        return truthCross(x: xm, y: cy, color: PlotColor.palette(1))
    case let .interval(color):
        return "<path d=\"M\(x0) \(y)H\(x1)M\(x0) \(svgNumber(cy - 4))v8M\(x1) \(svgNumber(cy - 4))v8\" stroke=\"\(color.hex)\" stroke-width=\"2\" "
            + "fill=\"none\"/>"
            + "<circle cx=\"\(svgNumber(xm))\" cy=\"\(y)\" r=\"3.5\" fill=\"\(color.hex)\"/>"
    }
}

/// The marker diameter for a series of `count` points: smaller markers for denser clouds.
func markerSize(count: Int) -> Double {
    count <= 300 ? 5 : count <= 2000 ? 4 : 3
}

/// All markers of one series as a single path element: dots are zero-length segments with round
/// caps (a few bytes per point), squares and diamonds small filled paths.
func markerPath(_ points: [(Double, Double)], shape: MarkerShape, color: PlotColor, size: Double = 5) -> String {
    guard !points.isEmpty else { return "" }
    var d = ""
    d.reserveCapacity(points.count * 14)
    switch shape {
    case .dot:
        for (x, y) in points { d += "M\(svgNumber(x)) \(svgNumber(y))h0" }
        return "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color.hex)\" stroke-width=\"\(svgNumber(size))\" stroke-linecap=\"round\"/>"
    case .square:
        let side = size * 0.85, s = svgNumber(size * 0.85)
        for (x, y) in points { d += "M\(svgNumber(x - side / 2)) \(svgNumber(y - side / 2))h\(s)v\(s)h-\(s)z" }
        return "<path d=\"\(d)\" fill=\"\(color.hex)\"/>"
    case .diamond:
        let r = svgNumber(size * 0.7)
        for (x, y) in points {
            d += "M\(svgNumber(x)) \(svgNumber(y - size * 0.7))l\(r) \(r) -\(r) \(r) -\(r) -\(r)z"
        }
        return "<path d=\"\(d)\" fill=\"\(color.hex)\"/>"
    }
}

func nominalDiamond(x: Double, y: Double) -> String {
    "<path d=\"M\(svgNumber(x)) \(svgNumber(y - 5))l5 5-5 5-5-5z\" fill=\"none\" stroke=\"currentColor\" stroke-opacity=\"0.75\" stroke-width=\"1.4\"/>"
}

func truthCross(x: Double, y: Double, color: PlotColor) -> String {
    "<path d=\"M\(svgNumber(x - 4)) \(svgNumber(y - 4))l8 8m0-8l-8 8\" stroke=\"\(color.hex)\" stroke-width=\"2\" fill=\"none\"/>"
}

/// Horizontal and vertical grid lines, the two axis lines, tick marks and labels, and the axis
/// titles. `xTicks` and `yTicks` are in pixels; minor ticks get a fainter line and no label.
func svgAxes(frame: PlotRect, xTicks: [(pos: Double, label: String, major: Bool)],
             yTicks: [(pos: Double, label: String, major: Bool)], xTitle: String, yTitle: String,
             canvasHeight: Double, xLabelsRotated: Bool = false) -> String {
    var grid = "", minor = "", marks = "", labels = ""
    let l = svgNumber(frame.left), r = svgNumber(frame.right), t = svgNumber(frame.top), b = svgNumber(frame.bottom)
    for tick in yTicks where tick.pos >= frame.top - 0.5 && tick.pos <= frame.bottom + 0.5 {
        let y = svgNumber(tick.pos)
        if tick.major {
            grid += "M\(l) \(y)H\(r)"
            marks += "M\(svgNumber(frame.left - 4)) \(y)H\(l)"
            labels += "<text x=\"\(svgNumber(frame.left - 7))\" y=\"\(svgNumber(tick.pos + 3.5))\" text-anchor=\"end\">\(Markup.escape(tick.label))</text>"
        } else {
            minor += "M\(l) \(y)H\(r)"
        }
    }
    for tick in xTicks where tick.pos >= frame.left - 0.5 && tick.pos <= frame.right + 0.5 {
        let x = svgNumber(tick.pos)
        if tick.major {
            grid += "M\(x) \(t)V\(b)"
            marks += "M\(x) \(b)v4"
            if xLabelsRotated {
                labels += "<text transform=\"translate(\(x) \(svgNumber(frame.bottom + 12))) rotate(-35)\" "
                    + "text-anchor=\"end\">\(Markup.escape(tick.label))</text>"
            } else {
                labels += "<text x=\"\(x)\" y=\"\(svgNumber(frame.bottom + 16))\" text-anchor=\"middle\">\(Markup.escape(tick.label))</text>"
            }
        } else {
            minor += "M\(x) \(t)V\(b)"
        }
    }
    var out = "<g class=\"axes\">"
    if !minor.isEmpty {
        out += "<path d=\"\(minor)\" stroke=\"currentColor\" stroke-opacity=\"0.05\" fill=\"none\"/>"
    }
    if !grid.isEmpty {
        out += "<path d=\"\(grid)\" stroke=\"currentColor\" stroke-opacity=\"0.11\" fill=\"none\"/>"
    }
    out += "<path d=\"M\(l) \(t)V\(b)H\(r)\(marks)\" stroke=\"currentColor\" stroke-opacity=\"0.55\" fill=\"none\"/>"
    out += "<g fill=\"currentColor\" fill-opacity=\"0.78\" font-size=\"10.5\">\(labels)</g>"
    if !xTitle.isEmpty {
        out += "<text x=\"\(svgNumber((frame.left + frame.right) / 2))\" y=\"\(svgNumber(canvasHeight - 8))\" text-anchor=\"middle\" "
            + "fill=\"currentColor\">\(Markup.escape(xTitle))</text>"
    }
    if !yTitle.isEmpty {
        out += "<text transform=\"translate(16 \(svgNumber((frame.top + frame.bottom) / 2))) rotate(-90)\" text-anchor=\"middle\" "
            + "fill=\"currentColor\">\(Markup.escape(yTitle))</text>"
    }
    return out + "</g>"
}

/// `content` drawn only inside `frame`. The clip path's id is derived from the content, so it is
/// the same on every run and two different plots on one page never share one.
func svgClipped(_ content: String, frame: PlotRect, salt: String) -> String {
    let id = "tp" + stableIdentifier(salt + content)
    return "<defs><clipPath id=\"\(id)\"><rect x=\"\(svgNumber(frame.left))\" y=\"\(svgNumber(frame.top))\" "
        + "width=\"\(svgNumber(frame.width))\" height=\"\(svgNumber(frame.height))\"/></clipPath></defs>"
        + "<g clip-path=\"url(#\(id))\">\(content)</g>"
}

/// A dashed empty frame saying "no data", for plots with nothing that can be drawn.
func svgNoData(frame: PlotRect) -> String {
    "<rect x=\"\(svgNumber(frame.left))\" y=\"\(svgNumber(frame.top))\" width=\"\(svgNumber(frame.width))\" "
        + "height=\"\(svgNumber(frame.height))\" fill=\"none\" stroke=\"currentColor\" stroke-opacity=\"0.3\" stroke-dasharray=\"4 4\"/>"
        + "<text x=\"\(svgNumber((frame.left + frame.right) / 2))\" y=\"\(svgNumber((frame.top + frame.bottom) / 2 + 4))\" "
        + "text-anchor=\"middle\" fill=\"currentColor\" fill-opacity=\"0.6\" font-size=\"13\">no data</text>"
}

/// A whole plot that has nothing to draw: title, legend and the placeholder.
func svgEmptyPlot(width: Int, height: Int, title: String, kind: String, legend: [LegendEntry]) -> String {
    let top = titleHeight(title)
    let (legendMarkup, legendHeight) = svgLegend(legend, top: top, width: Double(width) - 24)
    let frame = PlotRect(left: 12, top: top + legendHeight + 6, right: Double(width) - 12,
                         bottom: max(top + legendHeight + 40, Double(height) - 12))
    return svgOpen(width: width, height: height, title: title, kind: kind) + svgTitle(title) + legendMarkup
        + svgNoData(frame: frame) + "</svg>"
}

/// Pixel-space points of one curve, split into polylines at points that cannot be drawn; long
/// curves are reduced with ``Decimation`` to two points per pixel column.
func curvePolylines(px: [Double], py: [Double], columns: Int) -> [[(Double, Double)]] {
    let n = min(px.count, py.count)
    var finite = 0
    for i in 0..<n where px[i].isFinite && py[i].isFinite { finite += 1 }
    if finite > 4 * columns {
        return Decimation.polylines(position: px, y: py, columns: columns, breakOnGaps: true)
            .map { $0.map { (px[$0], py[$0]) } }
    }
    var lines: [[(Double, Double)]] = []
    var current: [(Double, Double)] = []
    for i in 0..<n {
        if px[i].isFinite && py[i].isFinite {
            current.append((px[i], py[i]))
        } else if !current.isEmpty {
            lines.append(current)
            current = []
        }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
}

/// SVG path data for polylines; a lone point becomes a zero-length segment (shown as a dot by a
/// round line cap).
func pathData(_ lines: [[(Double, Double)]]) -> String {
    var d = ""
    for line in lines {
        guard let first = line.first else { continue }
        d += "M\(svgNumber(first.0)) \(svgNumber(first.1))"
        if line.count == 1 {
            d += "h0"
            continue
        }
        for (x, y) in line.dropFirst() { d += "L\(svgNumber(x)) \(svgNumber(y))" }
    }
    return d
}

/// At most one point per `cell`×`cell` pixel square, in the original order: a scatter of 100 000
/// points looks the same and stays small.
func thinnedPoints(px: [Double], py: [Double], cell: Double = 1.5, limit: Int = 2000) -> [(Double, Double)] {
    let n = min(px.count, py.count)
    var points: [(Double, Double)] = []
    for i in 0..<n where px[i].isFinite && py[i].isFinite { points.append((px[i], py[i])) }
    guard points.count > limit else { return points }
    var seen = Set<Int64>()
    var kept: [(Double, Double)] = []
    for (x, y) in points {
        let cx = Int64((min(max(x, -1e6), 1e6) / cell).rounded(.down))
        let cy = Int64((min(max(y, -1e6), 1e6) / cell).rounded(.down))
        if seen.insert(cx << 32 ^ (cy & 0xFFFF_FFFF)).inserted { kept.append((x, y)) }
    }
    return kept
}
