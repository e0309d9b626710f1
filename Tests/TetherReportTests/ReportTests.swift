import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TetherCore
@testable import TetherReport

/// Parses `text` as XML; fails the test (and returns nil) when it is not well-formed.
@discardableResult
private func parseXML(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> XMLDocument? {
    do {
        return try XMLDocument(xmlString: text, options: [])
    } catch {
        Issue.record("not well-formed XML: \(error)\n\(text.prefix(400))", sourceLocation: sourceLocation)
        return nil
    }
}

/// Every element named `name` under `node`, depth first.
private func elements(_ name: String, in node: XMLNode) -> [XMLElement] {
    var found: [XMLElement] = []
    for child in node.children ?? [] {
        if let element = child as? XMLElement, element.name == name { found.append(element) }
        found += elements(name, in: child)
    }
    return found
}

/// The value of attribute `name` of `element` (by local name: SVG elements are in a namespace,
/// where `attribute(forName:)` does not find unprefixed attributes on every platform).
private func attribute(_ name: String, of element: XMLElement) -> String? {
    element.attributes?.first { $0.localName == name || $0.name == name }?.stringValue
}

/// The number of points in SVG path data (each M, L, or h0 starts one).
private func pointCount(_ d: String) -> Int {
    d.filter { $0 == "M" || $0 == "L" }.count
}

private let t = (0..<200).map { Double($0) * 0.01 }
private let sine = t.map { sin(2 * .pi * $0) }

/// One plot of every kind, with awkward labels, for the checks that apply to all.
private func everyKind() -> [SVGPlot] {
    let label = "q<1> & \"knee\" 'ß' ⟂"
    return [
        .line(title: label, x: PlotAxis("time", unit: "s"), y: PlotAxis("angle", unit: "rad"),
              series: [PlotSeries(label, x: t, y: sine), PlotSeries("sim", x: t, y: sine.map { $0 * 0.9 }, dashed: true, markers: true)],
              bands: [PlotBand("± σ", x: t, center: sine, spread: Array(repeating: 0.1, count: t.count))],
              references: [.horizontal(0.5, label: "limit <0.5>"), .vertical(1, label: "step")]),
        .scatter(title: "scatter", x: PlotAxis("x"), y: PlotAxis("y"),
                 series: [PlotSeries("a", x: t, y: sine), PlotSeries("b", x: t, y: sine.map { -$0 }),
                          PlotSeries("c", x: t, y: t)]),
        .band(title: "band", x: PlotAxis("time", unit: "s"), y: PlotAxis("torque", unit: "N m"),
              bands: [PlotBand("randomized", x: t, lower: sine.map { $0 - 0.2 }, upper: sine.map { $0 + 0.3 })],
              series: [PlotSeries("real", x: t, y: sine)]),
        .interval(title: "Parameters", axis: PlotAxis("ratio to nominal"),
                  estimates: [IntervalEstimate(label, estimate: 1.1, lower: 0.95, upper: 1.25, nominal: 1, reference: 1.15),
                              IntervalEstimate("damping", estimate: 0.8, lower: 0.7, upper: 0.92, nominal: 1)],
                  referenceLine: 1),
        .bar(title: "Sim vs real", categories: ["success", label, "energy"],
             groups: [BarGroup("sim", values: [0.97, 0.4, 1.2], errors: [0.01, 0.05, 0.1]),
                      BarGroup("real", values: [0.91, 0.55, 1.5], errors: [0.03, 0.08, 0.2])],
             y: PlotAxis("value")),
        .histogram(title: "Tracking error", x: PlotAxis("error", unit: "rad"),
                   data: [HistogramData("sim", values: sine), HistogramData("real", values: sine.map { $0 * 1.2 + 0.1 })],
                   density: true),
        .heatmap(title: "Correlation", rows: ["kp", "kd", label], columns: ["kp", "kd", label],
                 values: [[1, 0.4, -0.8], [0.4, 1, 0.1], [-0.8, 0.1, 1]]),
        .residual(title: "Residuals", x: PlotAxis("time", unit: "s"), y: PlotAxis("residual", unit: "rad"),
                  series: [PlotSeries("knee", x: t, y: sine.map { $0 * 0.05 })],
                  references: [.horizontal(0.04, label: "+tol"), .horizontal(-0.04, label: "-tol")]),
    ]
}

@Suite struct ReportTests {
    // MARK: Numbers and ticks

    @Test func niceStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        #expect(AxisTicks.niceStep(span: 10, target: 5) == 2)
        #expect(AxisTicks.niceStep(span: 1, target: 5) == 0.2)
        #expect(AxisTicks.niceStep(span: 37, target: 5) == 10)
        #expect(AxisTicks.niceStep(span: 0.0042, target: 4) == 0.001)
        #expect(AxisTicks.niceStep(span: 0, target: 5) == 0)
        #expect(AxisTicks.niceStep(span: .nan, target: 5) == 0)
        var random = SeededRandom(seed: 7)
        for _ in 0..<2000 {
            let lo = (random.uniform() - 0.5) * pow(10, random.uniform() * 12 - 6)
            let span = pow(10, random.uniform() * 14 - 7)
            let target = 3 + Int(random.uniform() * 6)
            let step = AxisTicks.niceStep(span: span, target: target)
            let mantissa = step / pow(10, (log10(step)).rounded(.down))
            #expect([1.0, 2.0, 5.0].contains { abs(mantissa - $0) < 1e-9 }, "span \(span) step \(step)")
            let ticks = AxisTicks.linear(from: lo, to: lo + span, target: target)
            #expect(ticks.count >= 1 && ticks.count <= 2 * target + 2, "span \(span): \(ticks.count) ticks")
            #expect(ticks.allSatisfy { $0 >= lo - 1e-9 * span && $0 <= lo + span + 1e-9 * span })
            #expect(ticks == ticks.sorted())
        }
    }

    @Test func linearTicksAreExactDecimals() {
        #expect(AxisTicks.linear(from: 0, to: 10) == [0, 2, 4, 6, 8, 10])
        #expect(AxisTicks.linear(from: 0, to: 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(AxisTicks.linear(from: 0.05, to: 0.72, target: 6) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
        #expect(AxisTicks.linear(from: -3.3, to: 7.9) == [-2, 0, 2, 4, 6])
        #expect(AxisTicks.linear(from: 5, to: 5) == [5])
        #expect(AxisTicks.linear(from: 10, to: 0) == [0, 2, 4, 6, 8, 10])
        #expect(AxisTicks.linear(from: .nan, to: 1).isEmpty)
        #expect(AxisTicks.linear(from: 1e9, to: 1e9 + 1e-6).count == 2)
    }

    @Test func tickLabelsShowTheDecimalsTheStepNeeds() {
        #expect(AxisTicks.label(0.25, step: 0.05) == "0.25")
        #expect(AxisTicks.label(0.3, step: 0.1) == "0.3")
        #expect(AxisTicks.label(20, step: 10) == "20")
        #expect(AxisTicks.label(-1.5, step: 0.5) == "-1.5")
        #expect(AxisTicks.label(0, step: 0.001) == "0")
        #expect(AxisTicks.label(2_000_000, step: 1_000_000) == "2e6")
        #expect(AxisTicks.label(1.5e-7, step: 5e-8) == "1.5e-7")
    }

    @Test func logTicksAreDecades() {
        #expect(AxisTicks.logarithmic(from: 1e-3, to: 1e2) == [1e-3, 1e-2, 0.1, 1, 10, 100])
        #expect(AxisTicks.logarithmic(from: 0.9, to: 60) == [1, 2, 5, 10, 20, 50])
        let wide = AxisTicks.logarithmic(from: 1e-12, to: 1e12)
        #expect(wide.count <= 9 && wide.count >= 5)
        #expect(AxisTicks.logarithmic(from: 2, to: 8) == AxisTicks.linear(from: 2, to: 8, target: 4))
        #expect(AxisTicks.logarithmic(from: -1, to: 10).isEmpty)
        let minor = AxisTicks.logarithmicMinor(from: 1, to: 1000)
        #expect(minor.contains(3) && minor.contains(300) && !minor.contains(10) && minor.count == 24)
        #expect(AxisTicks.logLabel(1e-6) == "10⁻⁶")
        #expect(AxisTicks.logLabel(1e12) == "10¹²")
        #expect(AxisTicks.logLabel(0.01) == "0.01")
        #expect(AxisTicks.logLabel(1000) == "1000")
        #expect(AxisTicks.logLabel(2e7) == "2×10⁷")
    }

    @Test func numbersFormatDeterministically() {
        #expect(ReportNumber.fixed(3.14159, decimals: 2) == "3.14")
        #expect(ReportNumber.fixed(-0.001, decimals: 2) == "0.00")
        #expect(ReportNumber.fixed(-2.5, decimals: 0) == "-3")
        #expect(ReportNumber.fixed(0.05, decimals: 3) == "0.050")
        #expect(ReportNumber.fixed(1234567, decimals: 1) == "1234567.0")
        #expect(ReportNumber.significant(9.996, digits: 3) == "10.0")
        #expect(ReportNumber.significant(0.0012345, digits: 3) == "0.00123")
        #expect(ReportNumber.significant(1.234e-7, digits: 3) == "1.23e-7")
        #expect(ReportNumber.significant(-123_456_789, digits: 3) == "-1.23e8")
        #expect(ReportNumber.significant(999_999_999, digits: 2) == "1.0e9")
        #expect(ReportNumber.significant(0) == "0")
        #expect(ReportNumber.compact(0.8200) == "0.82" && ReportNumber.compact(120) == "120" && ReportNumber.compact(100) == "100")
        #expect(ReportNumber.compact(1.5e-7) == "1.5e-7" && ReportNumber.compact(2e9) == "2e9" && ReportNumber.compact(.nan) == "NaN")
        #expect(ReportNumber.significant(.nan) == "NaN")
        #expect(ReportNumber.fixed(-.infinity, decimals: 2) == "-∞")
        #expect(svgNumber(12.34) == "12.3" && svgNumber(-0.04) == "0" && svgNumber(-3.25) == "-3.3" && svgNumber(.nan) == "0")
    }

    // MARK: Escaping

    @Test func markupEscapesEverythingXMLNeeds() {
        #expect(Markup.escape("a < b && c > \"d\" 'e'") == "a &lt; b &amp;&amp; c &gt; &quot;d&quot; &#39;e&#39;")
        #expect(Markup.escape("Gelenk ß ⟂ 関節 🤖") == "Gelenk ß ⟂ 関節 🤖")
        #expect(Markup.escape("bell\u{7}nul\u{0}") == "bell\u{FFFD}nul\u{FFFD}")
        #expect(Markup.escape("tab\tnewline\n") == "tab\tnewline\n")
        // The escaped text survives a round trip through an XML parser as the original.
        let name = "<joint name=\"a&b\"> 'x' ß"
        let document = parseXML("<r a=\"\(Markup.escape(name))\">\(Markup.escape(name))</r>")
        #expect(document?.rootElement()?.stringValue == name)
        #expect(document?.rootElement()?.attribute(forName: "a")?.stringValue == name)
    }

    // MARK: Plots

    @Test func everyPlotKindRendersWellFormedSVG() {
        let plots = everyKind()
        #expect(Set(plots.map(\.kind)).count == 8)
        for plot in plots {
            let svg = plot.render()
            guard let document = parseXML(svg) else { continue }
            guard let root = document.rootElement() else { continue }
            #expect(root.name == "svg", "\(plot.kind)")
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
            #expect(attribute("viewBox", of: root) == "0 0 \(plot.width) \(plot.height)")
            #expect(!svg.contains("no data"), "\(plot.kind) has data")
            #expect(!svg.contains("nan") && !svg.contains("inf"), "\(plot.kind)")
            #expect(!svg.contains("<script"))
            #expect(svg == plot.render(), "\(plot.kind) is deterministic")
        }
    }

    @Test func userTextInPlotsIsEscaped() throws {
        let name = "q<1> & \"knee\" 'ß' ⟂"
        for plot in everyKind() {
            let svg = plot.render()
            #expect(!svg.contains("q<1>"), "\(plot.kind)")
            guard [.line, .interval, .bar, .heatmap].contains(plot.kind) else { continue }  // the others do not show it
            guard let document = parseXML(svg) else { continue }
            let texts = elements("text", in: document).compactMap(\.stringValue)
                + elements("title", in: document).compactMap(\.stringValue)
            #expect(texts.contains { $0.contains(name) || $0.contains("q<1>") }, "\(plot.kind): \(texts.prefix(8))")
        }
    }

    @Test func axesCarryLabelsUnitsAndNiceTicks() throws {
        let plot = SVGPlot.line(title: "Knee", x: PlotAxis("time", unit: "s", range: 0...2),
                                y: PlotAxis("angle", unit: "rad"), series: [PlotSeries("q", x: t, y: sine)])
        let document = try #require(parseXML(plot.render()))
        let texts = elements("text", in: document).compactMap(\.stringValue)
        #expect(texts.contains("time [s]") && texts.contains("angle [rad]") && texts.contains("Knee"))
        // Labels of one axis share their number of decimals.
        for label in ["0", "0.5", "1.0", "1.5", "2.0"] { #expect(texts.contains(label), "x tick \(label)") }
        #expect(texts.contains("-1.0") && texts.contains("-0.5"))
        #expect(PlotAxis("", unit: "s").title == "[s]" && PlotAxis("ratio").title == "ratio")
    }

    @Test func logLogPlotsPlaceDecadesAndSkipNonPositiveValues() throws {
        // Allan deviation of white noise: σ(τ) = σ₁ / √τ over τ = 10⁻² … 10³ s, with a zero and
        // a negative value that a log axis cannot place.
        let tau = (0...50).map { pow(10, -2 + Double($0) * 0.1) }
        var adev = tau.map { 0.02 / sqrt($0) }
        adev[3] = 0
        adev[4] = -1
        let plot = SVGPlot.line(title: "Allan deviation", x: .log("averaging time τ", unit: "s"),
                                y: .log("σ", unit: "rad/s"), series: [PlotSeries("gyro x", x: tau, y: adev, markers: true)])
        let svg = plot.render()
        let document = try #require(parseXML(svg))
        let texts = elements("text", in: document).compactMap(\.stringValue)
        for label in ["0.01", "0.1", "1", "10", "100", "1000"] { #expect(texts.contains(label), "τ tick \(label)") }
        #expect(texts.contains("10⁻³") || texts.contains("0.001"))
        // The curve breaks at the two unplaceable points: two subpaths.
        let curve = try #require(elements("path", in: document).first { attribute("stroke-width", of: $0) == "1.8" })
        let d = try #require(attribute("d", of: curve))
        #expect(d.filter { $0 == "M" }.count == 2)
        #expect(pointCount(d) == 49)
        // On a log axis equal ratios are equal distances: decade ticks are evenly spaced.
        let map = AxisMap(scale: .log, lo: 0.01, hi: 1000, p0: 0, p1: 500)
        let p = [0.01, 0.1, 1, 10].compactMap(map.px)
        #expect(abs((p[1] - p[0]) - (p[3] - p[2])) < 1e-9 && abs(p[1] - p[0] - 100) < 1e-9)
        #expect(map.px(0) == nil && map.px(-2) == nil)
    }

    @Test func nonFiniteValuesAreSkippedNeverDrawn() throws {
        let x: [Double] = [0, 1, .nan, 3, 4, .infinity, 6, 7]
        let y: [Double] = [0, 1, 2, .nan, 4, 5, -.infinity, 7]
        let plots: [SVGPlot] = [
            .line(x: PlotAxis(), y: PlotAxis(), series: [PlotSeries("a", x: x, y: y, markers: true)]),
            .scatter(x: PlotAxis(), y: PlotAxis(), series: [PlotSeries("a", x: x, y: y)]),
            .band(x: PlotAxis(), y: PlotAxis(), bands: [PlotBand("b", x: x, lower: y, upper: y.map { $0 + 1 })]),
            .residual(x: PlotAxis(), y: PlotAxis(), series: [PlotSeries("r", x: x, y: y)]),
            .interval(axis: PlotAxis(), estimates: [IntervalEstimate("p", estimate: .nan, lower: 1, upper: .infinity, nominal: 2),
                                                   IntervalEstimate("q", estimate: 1, lower: 0.5, upper: 1.5)]),
            .bar(categories: ["a", "b", "c"], groups: [BarGroup("g", values: [1, .nan, 3], errors: [.nan, 1, .infinity])], y: PlotAxis()),
            .histogram(x: PlotAxis(), data: [HistogramData("h", values: y)]),
            .heatmap(rows: ["a", "b"], columns: ["a", "b"], values: [[1, .nan], [.infinity]]),
        ]
        for plot in plots {
            let svg = plot.render()
            parseXML(svg)
            #expect(!svg.contains("nan") && !svg.contains("inf"), "\(plot.kind)")
            #expect(!svg.contains("no data"), "\(plot.kind) still has finite data")
        }
        // The line breaks at each non-finite point: [0,1], [4], [7] → three subpaths.
        let line = try #require(parseXML(plots[0].render()))
        let curve = try #require(elements("path", in: line).first { attribute("stroke-width", of: $0) == "1.8" })
        #expect(attribute("d", of: curve)?.filter { $0 == "M" }.count == 3)
    }

    @Test func plotsWithNothingToDrawSayNoData() {
        let allNaN = [Double](repeating: .nan, count: 10)
        let plots: [SVGPlot] = [
            .line(title: "empty", x: PlotAxis(), y: PlotAxis(), series: [PlotSeries("a", x: [], y: [])]),
            .line(x: PlotAxis(), y: PlotAxis(), series: []),
            .line(x: PlotAxis(), y: .log(), series: [PlotSeries("a", y: [0, -1, -2])]),
            .scatter(x: PlotAxis(), y: PlotAxis(), series: [PlotSeries("a", x: allNaN, y: allNaN)]),
            .band(x: PlotAxis(), y: PlotAxis(), bands: [PlotBand("b", x: allNaN, lower: allNaN, upper: allNaN)]),
            .residual(x: PlotAxis(), y: PlotAxis(), series: [PlotSeries("a", x: [], y: [])]),
            .interval(axis: PlotAxis(), estimates: []),
            .interval(axis: PlotAxis(), estimates: [IntervalEstimate("p", estimate: .nan, lower: .nan, upper: .nan)]),
            .bar(categories: [], groups: [], y: PlotAxis()),
            .bar(categories: ["a"], groups: [BarGroup("g", values: [.nan])], y: PlotAxis()),
            .histogram(x: PlotAxis(), data: [HistogramData("h", values: allNaN)]),
            .histogram(x: PlotAxis(), data: []),
            .heatmap(rows: [], columns: [], values: []),
        ]
        for plot in plots {
            let svg = plot.render()
            parseXML(svg)
            #expect(svg.contains(">no data</text>"), "\(plot.kind)")
        }
        // An empty series next to one with data: drawn, and its legend entry says so.
        let mixed = SVGPlot.line(x: PlotAxis(), y: PlotAxis(),
                                 series: [PlotSeries("real", y: [1, 2, 3]), PlotSeries("sim", y: [])]).render()
        #expect(mixed.contains("sim (no data)") && !mixed.contains(">no data</text>"))
    }

    @Test func singlePointsAndConstantSeriesGetARange() throws {
        for series in [[PlotSeries("one", x: [3], y: [7])], [PlotSeries("flat", y: [2, 2, 2, 2])],
                       [PlotSeries("zero", y: [0, 0])]] {
            let svg = SVGPlot.line(x: PlotAxis(), y: PlotAxis(), series: series).render()
            let document = try #require(parseXML(svg))
            #expect(!svg.contains("no data"))
            #expect(elements("text", in: document).count >= 4, "ticks on both axes")
        }
        let domain = try #require(AxisMap.domain([[5]], axis: PlotAxis()))
        #expect(domain.lo < 5 && domain.hi > 5)
        let fixed = try #require(AxisMap.domain([[5, 6]], axis: PlotAxis(range: 0...10)))
        #expect(fixed == (0, 10))
        let bars = try #require(AxisMap.domain([[2, 9]], axis: PlotAxis(), includeZero: true))
        #expect(bars.lo == 0 && bars.hi > 9)
    }

    // MARK: Decimation

    @Test func decimationKeepsExtremesAndBoundsThePointCount() {
        let n = 100_000
        let x = (0..<n).map { Double($0) * 1e-3 }
        var y = x.map { sin($0 * 3) * 0.5 }
        y[54_321] = 10
        y[77_777] = -10
        y[100] = .nan
        let columns = 500
        let reduced = Decimation.minMaxPerColumn(x: x, y: y, columns: columns)
        #expect(reduced.x.count <= 2 * columns && reduced.x.count >= columns)
        #expect(reduced.y.contains(10) && reduced.y.contains(-10))
        #expect(reduced.y.max() == 10 && reduced.y.min() == -10)
        #expect(reduced.x == reduced.x.sorted(), "original order kept")
        #expect(reduced.x.first == 0 && reduced.y.allSatisfy(\.isFinite))
        // A phase portrait (x not in order) is reduced by runs of points, with the same bound.
        let loop = Decimation.minMaxPerColumn(x: y.map { $0.isNaN ? 0 : $0 }, y: x, columns: columns)
        #expect(loop.x.count <= 2 * columns && loop.y.contains(x[n - 1]) && loop.y.contains(0))
        // Short input passes through unchanged (apart from non-finite points).
        let short = Decimation.minMaxPerColumn(x: [0, 1, 2], y: [5, .nan, 6], columns: 100)
        #expect(short.x == [0, 2] && short.y == [5, 6])
        #expect(Decimation.minMaxPerColumn(x: [], y: [], columns: 10).x.isEmpty)
    }

    @Test func largeSeriesMakeSmallSVGsThatKeepSpikes() throws {
        let n = 100_000
        let x = (0..<n).map { Double($0) * 1e-3 }
        var y = x.map { sin($0) + 0.05 * sin($0 * 977) }
        y[31_415] = 8
        let plot = SVGPlot.line(title: "100k samples", x: PlotAxis("time", unit: "s"), y: PlotAxis("q", unit: "rad"),
                                series: [PlotSeries("q", x: x, y: y), PlotSeries("sim", x: x, y: y.map { $0 * 0.9 }, dashed: true)],
                                bands: [PlotBand("spread", x: x, center: y, spread: Array(repeating: 0.2, count: n))])
        let svg = plot.render()
        #expect(svg.utf8.count < 150_000, "\(svg.utf8.count) bytes")
        let document = try #require(parseXML(svg))
        let curves = elements("path", in: document).filter { attribute("stroke-width", of: $0) == "1.8" }
        #expect(curves.count == 2)
        for curve in curves {
            let points = pointCount(attribute("d", of: curve) ?? "")
            #expect(points <= 2 * plot.width && points > 100, "\(points) points")
        }
        // The spike reaches the top of the plot: the smallest y coordinate of the curve is the
        // top of the frame plus the padding.
        let d = try #require(curves.first.flatMap { attribute("d", of: $0) })
        let ys = d.split(whereSeparator: { $0 == "M" || $0 == "L" }).compactMap { Double($0.split(separator: " ")[1]) }
        let top = try #require(ys.min())
        #expect(top < 80, "the spike at 8 rad is drawn near the top, \(top)")
        // 100k scattered points are thinned too.
        let cloud = SVGPlot.scatter(x: PlotAxis(), y: PlotAxis(), series: [PlotSeries("c", x: x, y: y)]).render()
        #expect(cloud.utf8.count < 400_000, "\(cloud.utf8.count) bytes")
        parseXML(cloud)
    }

    @Test func longGapsBreakDecimatedLines() throws {
        let n = 20_000
        let x = (0..<n).map(Double.init)
        var y = x.map { sin($0 / 500) }
        for i in 8_000..<12_000 { y[i] = .nan }  // a fifth of the plot: a visible gap
        for i in stride(from: 100, to: 7_000, by: 97) { y[i] = .nan }  // sub-pixel dropouts
        let svg = SVGPlot.line(x: PlotAxis(), y: PlotAxis(), series: [PlotSeries("gappy", x: x, y: y)]).render()
        let document = try #require(parseXML(svg))
        let curve = try #require(elements("path", in: document).first { attribute("stroke-width", of: $0) == "1.8" })
        #expect(attribute("d", of: curve)?.filter { $0 == "M" }.count == 2)
    }

    // MARK: Kinds

    @Test func intervalPlotShowsEstimatesNominalAndReference() throws {
        let plot = SVGPlot.interval(title: "Fitted parameters",
                                    axis: PlotAxis("ratio to nominal"),
                                    estimates: [IntervalEstimate("mass", estimate: 1.08, lower: 1.02, upper: 1.14, nominal: 1, reference: 1.1),
                                                IntervalEstimate("friction", estimate: 0.7, lower: 0.5, upper: 0.9, nominal: 1),
                                                IntervalEstimate("latency", estimate: 1.5, lower: 1.2, upper: 1.8)],
                                    referenceLine: 1)
        let svg = plot.render()
        let document = try #require(parseXML(svg))
        let texts = elements("text", in: document).compactMap(\.stringValue)
        #expect(texts.contains("mass") && texts.contains("friction") && texts.contains("latency"))
        #expect(texts.contains("1.08 [1.02, 1.14]"))
        #expect(texts.contains("nominal") && texts.contains("reference"))
        #expect(elements("circle", in: document).count == 3 + 1)  // three estimates and the legend swatch
        #expect(plot.height > 3 * 24)
        let tips = elements("title", in: document).compactMap(\.stringValue)
        #expect(tips.contains("mass: 1.08 [1.02, 1.14]; nominal 1.00; reference 1.10"))
    }

    @Test func barChartGroupsBarsWithErrorBars() throws {
        let plot = SVGPlot.bar(title: "Sim vs real", categories: ["success", "energy", "slip"],
                               groups: [BarGroup("sim", values: [0.97, 1.2, -0.1], errors: [0.01, 0.1, 0.05]),
                                        BarGroup("real", values: [0.91, 1.5, 0.2], errors: [0.03, 0.2, 0.05])],
                               y: PlotAxis("value"))
        let document = try #require(parseXML(plot.render()))
        let bars = elements("rect", in: document).filter { $0.children?.contains { $0.name == "title" } ?? false }
        #expect(bars.count == 6)
        let tips = elements("title", in: document).compactMap(\.stringValue)
        #expect(tips.contains("real · energy: 1.500 ± 0.200"))
        let texts = elements("text", in: document).compactMap(\.stringValue)
        #expect(texts.contains("success") && texts.contains("sim") && texts.contains("real"))
    }

    @Test func histogramBinsSharedAcrossSets() throws {
        var random = SeededRandom(seed: 3)
        let sim = (0..<1000).map { _ in random.uniform() }
        let real = (0..<20).map { _ in random.uniform() * 0.5 + 0.25 }
        let plot = SVGPlot.histogram(x: PlotAxis("error", unit: "rad"), data: [HistogramData("sim", values: sim),
                                                                              HistogramData("real", values: real)],
                                     bins: 10, density: true)
        let document = try #require(parseXML(plot.render()))
        let texts = elements("text", in: document).compactMap(\.stringValue)
        #expect(texts.contains("sim (n = 1000)") && texts.contains("real (n = 20)") && texts.contains("density [1/rad]"))
        let steps = elements("path", in: document).filter { attribute("fill-opacity", of: $0) == "0.32" }
        #expect(steps.count == 2)
        #expect(steps.allSatisfy { (attribute("d", of: $0)?.filter { $0 == "H" }.count ?? 0) == 10 })
        // Counts get whole-number ticks even when they are small.
        let few = try #require(parseXML(SVGPlot.histogram(x: PlotAxis("x"), data: [HistogramData("", values: [3, 3, 3])]).render()))
        let ticks = elements("text", in: few).compactMap(\.stringValue).compactMap(Double.init)
        #expect(ticks.contains(3) && ticks.allSatisfy { $0 == $0.rounded() || $0 > 2.5 && $0 < 3.5 })
    }

    @Test func heatmapUsesADivergingScaleWithCellLabels() throws {
        #expect(PlotColor.diverging(0).luminance > 0.85)
        let cold = PlotColor.diverging(-1), hot = PlotColor.diverging(1)
        #expect(cold.blue > cold.red && hot.red > hot.blue)
        #expect(PlotColor.diverging(5) == hot && PlotColor.diverging(-5) == cold)
        #expect(PlotColor.diverging(0.5, range: 0...1) == PlotColor.diverging(0))
        let plot = SVGPlot.heatmap(title: "Correlation", rows: ["kp", "kd", "mass"], columns: ["kp", "kd", "mass"],
                                   values: [[1, 0.42, -0.8], [0.42, 1, 0.05], [-0.8, 0.05, 1]])
        let document = try #require(parseXML(plot.render()))
        let texts = elements("text", in: document).compactMap(\.stringValue)
        #expect(texts.contains("-0.80") && texts.contains("0.42") && texts.filter { $0 == "1.00" }.count == 3)
        #expect(texts.contains("-1.0") && texts.contains("0") && texts.contains("1.0"), "colour bar ticks")
        let cells = elements("rect", in: document).filter { $0.children?.contains { $0.name == "title" } ?? false }
        #expect(cells.count == 9)
        #expect(attribute("fill", of: cells[2]) == PlotColor.diverging(-0.8).hex)
    }

    @Test func paletteAndColoursParse() {
        #expect(PlotColor.palette.count == 8 && Set(PlotColor.palette).count == 8)
        #expect(PlotColor.palette(0) == PlotColor.palette(8) && PlotColor.palette(-1) == PlotColor.palette(7))
        #expect(PlotColor(hex: "#0072B2")?.hex == "#0072b2" && PlotColor(hex: "d55e00") == PlotColor.palette(1))
        #expect(PlotColor(hex: "#12345") == nil && PlotColor(hex: "#gg0000") == nil)
    }

    @Test func clipIdentifiersDifferBetweenPlots() throws {
        let a = SVGPlot.line(x: PlotAxis(), y: PlotAxis(), series: [PlotSeries("a", y: [1, 2, 3])]).render()
        let b = SVGPlot.line(x: PlotAxis(), y: PlotAxis(), series: [PlotSeries("a", y: [1, 3, 2])]).render()
        func clipID(_ svg: String) -> String? {
            guard let range = svg.range(of: "clipPath id=\"") else { return nil }
            return String(svg[range.upperBound...].prefix { $0 != "\"" })
        }
        let idA = try #require(clipID(a)), idB = try #require(clipID(b))
        #expect(idA != idB && a.contains("url(#\(idA))"))
    }

    // MARK: Report

    private func exampleReport() -> HTMLReport {
        var summary = ReportSection("Summary <&>")
        summary.paragraph("The policy was run 200 times in simulation and 20 times on the robot.\n\nA second paragraph with <tags> & \"quotes\".")
        summary.callout(.warn, "Only 20 real trials: the gap estimates are uncertain.")
        summary.table(ReportTable(
            header: ["metric", "sim", "real", "gap", "verdict"],
            rows: [["success rate", ReportCell(0.97), ReportCell(0.91), ReportCell.fixed(-6, decimals: 1, unit: "%"), ReportCell("pass", status: .pass)],
                   ["energy <J>", 120, 150.5, "30.5 J", ReportCell("fail", status: .fail)],
                   ["slip", "—", 0.02, "n/a", ReportCell("warn", status: .warn)]],
            caption: "Gap = real − sim."))

        var fit = ReportSection("Fit")
        for plot in everyKind() { fit.figure(plot, caption: "A \(plot.kind.rawValue) plot & its caption.") }
        fit.code("tether calibrate --robot quadruped <recording.mcap>")
        fit.details("Raw numbers", [.table(ReportTable(header: ["t", "q"], rows: t.prefix(5).map { [ReportCell($0), ReportCell(sin($0))] })),
                                    .details(summary: "nested", blocks: [.paragraph("deeper")], open: true)])

        return HTMLReport(title: "Gap report: <quadruped> & friends", subtitle: "policy v7 — robot 2 (Zürich)",
                          generatedAt: Date(timeIntervalSince1970: 1_750_000_000), generatedBy: "tether gap --robot quadruped",
                          verdict: ReportVerdict(.warn, "2 of 9 metrics outside tolerance"),
                          cards: [SummaryCard("success, real", value: 91.0, unit: "%", status: .pass, detail: "sim 97.0 %"),
                                  SummaryCard("energy gap", value: 25.4, unit: "%", status: .fail),
                                  SummaryCard("trials", value: "20 / 200"),
                                  SummaryCard("latency", value: 3.2, unit: "ms", status: .warn)],
                          sections: [summary, fit, ReportSection("Empty section")],
                          footer: "Tether — sim-to-real. Software stops are not safety-rated.")
    }

    @Test func reportRendersEveryElementAsWellFormedMarkup() throws {
        let html = exampleReport().render()
        let document = try #require(parseXML(html))
        #expect(document.rootElement()?.name == "html")
        #expect(elements("h1", in: document).first?.stringValue == "Gap report: <quadruped> & friends")
        #expect(elements("title", in: document).first?.stringValue == "Gap report: <quadruped> & friends")
        #expect(html.contains("Generated 2025-06-15 15:06 UTC by tether gap --robot quadruped"))
        #expect(html.contains("<div class=\"badge warn\" role=\"status\"><span class=\"word\">! WARN</span>"))
        #expect(elements("svg", in: document).count == 8)
        #expect(elements("figcaption", in: document).count == 8)
        #expect(elements("section", in: document).count == 3)
        #expect(elements("nav", in: document).count == 1, "table of contents for three sections")
        #expect(elements("details", in: document).count == 2)
        #expect(elements("pre", in: document).first?.stringValue == "tether calibrate --robot quadruped <recording.mcap>")
        #expect(elements("p", in: document).contains { $0.stringValue == "A second paragraph with <tags> & \"quotes\"." })
        let cards = elements("div", in: document).filter { attribute("class", of: $0)?.split(separator: " ").first == "card" }
        #expect(cards.count == 4)
        #expect(attribute("class", of: cards[1]) == "card fail")
        #expect(html.contains("<div class=\"value\">91.0<span class=\"unit\">%</span></div>"))
        #expect(elements("footer", in: document).first?.stringValue?.hasPrefix("Tether") == true)
        // No scripts, no external resources: the file stands alone.
        #expect(!html.contains("<script"))
        #expect(!html.contains("<link") && !html.contains("@import") && !html.contains("src=\""))
        #expect(html.contains("prefers-color-scheme: dark") && html.contains("@media print"))
        #expect(html == exampleReport().render(), "deterministic")
    }

    @Test func tableColumnsAlignByContent() throws {
        let html = exampleReport().render()
        let document = try #require(parseXML(html))
        let table = try #require(elements("table", in: document).first)
        let headers = elements("th", in: table).map { attribute("class", of: $0) }
        #expect(headers == [nil, "num", "num", nil, nil], "gap has a text cell (n/a), sim has a dash placeholder")
        let cells = elements("td", in: table)
        #expect(attribute("class", of: cells[1]) == "num" && cells[1].stringValue == "0.97")
        #expect(cells[3].stringValue == "-6.0 %")
        #expect(attribute("class", of: cells[4]) == "pass")
        #expect(cells[5].stringValue == "energy <J>")
        #expect(attribute("class", of: cells[9]) == "fail")
        #expect(ReportCell("12.5 ms").isNumeric && ReportCell("-0.3").isNumeric && ReportCell("4.2 %").isNumeric)
        #expect(ReportCell("+1e-3").isNumeric && ReportCell("NaN").isNumeric)
        #expect(!ReportCell("knee").isNumeric && !ReportCell("").isNumeric && !ReportCell("3rd").isNumeric)
    }

    @Test func reportWritesAFileAndNamesThePathOnFailure() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tether-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("gap report.html").path
        let report = exampleReport()
        try report.write(to: path)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written == report.render())
        #expect(written.utf8.count < 400_000, "\(written.utf8.count) bytes")

        let missing = folder.appendingPathComponent("no/such/folder/report.html").path
        #expect {
            try report.write(to: missing)
        } throws: { error in
            guard let error = error as? TetherError else { return false }
            return error.location == missing && error.what.contains("does not exist") && error.hint != nil
        }
        // A path that is a folder cannot be written either.
        #expect(throws: TetherError.self) { try report.write(to: folder.path) }
    }

    @Test func minimalReportHasNoEmptyChrome() throws {
        let html = HTMLReport(title: "Just a title").render()
        let document = try #require(parseXML(html))
        #expect(elements("h1", in: document).count == 1)
        #expect(!html.contains("class=\"cards\"") && !html.contains("class=\"badge") && !html.contains("<nav"))
        #expect(!html.contains("<footer") && !html.contains("Generated"))
    }
}
