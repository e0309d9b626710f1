import Foundation

// The renderers of each plot kind. Layout is computed from the canvas size: title band, legend
// rows, then margins sized to the tick labels, then the plot frame.

/// The smallest and largest of the values added to it.
private struct Extent {
    var lo = Double.infinity
    var hi = -Double.infinity

    mutating func add(_ v: Double) {
        if v < lo { lo = v }
        if v > hi { hi = v }
    }

    var values: [Double] { lo <= hi ? [lo, hi] : [] }
}

/// Whether `v` can be placed on an axis of `scale`.
private func placeable(_ v: Double, _ scale: AxisScale) -> Bool {
    v.isFinite && (scale != .log || v > 0)
}

private func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { min(max(v, lo), hi) }

/// The frame and the vertical axis of a plot with a legend and a value axis on the left.
private struct FrameLayout {
    var frame: PlotRect
    var legend: String
    var yMap: AxisMap
    var yTicks: [Tick]
}

extension SVGPlot {
    private var w: Double { Double(width) }
    private var h: Double { Double(height) }

    private func frameLayout(legend: [LegendEntry], yScale: AxisScale, yDomain: (lo: Double, hi: Double),
                             xTitle: String, yTitle: String, extraBottom: Double = 0) -> FrameLayout {
        let top0 = titleHeight(title)
        let (legendMarkup, legendHeight) = svgLegend(legend, top: top0 - 2, width: w - 24)
        let top = top0 + legendHeight + 6
        let bottom = max(top + 24, h - (8 + 18 + (xTitle.isEmpty ? 0 : 16)) - extraBottom)
        let yMap = AxisMap(scale: yScale, lo: yDomain.lo, hi: yDomain.hi, p0: bottom, p1: top)
        let yTicks = yMap.ticks(target: clamp(Int((bottom - top) / 45), 3, 8))
        let labelWidth = yTicks.filter(\.major).map { textWidth($0.label, size: 10.5) }.max() ?? 0
        let left = 10 + (yTitle.isEmpty ? 0 : 20) + labelWidth + 8
        return FrameLayout(frame: PlotRect(left: left, top: top, right: max(left + 24, w - 18), bottom: bottom),
                           legend: legendMarkup, yMap: yMap, yTicks: yTicks)
    }

    /// Linear ticks thinned until their labels do not overlap.
    private func horizontalTicks(_ map: AxisMap) -> [Tick] {
        var target = clamp(Int((map.p1 - map.p0) / 80), 3, 10)
        var ticks = map.ticks(target: target)
        while target > 2 && map.scale == .linear {
            let positions = ticks.filter(\.major).compactMap { map.px($0.value) }
            let widest = ticks.map { textWidth($0.label, size: 10.5) }.max() ?? 0
            let spacing = zip(positions, positions.dropFirst()).map { $1 - $0 }.min() ?? .infinity
            if spacing >= widest + 10 { break }
            target -= 1
            ticks = map.ticks(target: target)
        }
        return ticks
    }

    private func pixelTicks(_ ticks: [Tick], _ map: AxisMap) -> [(pos: Double, label: String, major: Bool)] {
        ticks.compactMap { t in map.px(t.value).map { ($0, t.label, t.major) } }
    }

    // MARK: Line, scatter, band, residual

    func renderCartesian(_ c: Cartesian) -> String {
        let xs = c.x.scale, ys = c.y.scale
        var xExtent = Extent(), yExtent = Extent()
        var seriesHasData: [Bool] = []
        for s in c.series {
            var any = false
            for i in 0..<min(s.x.count, s.y.count) where placeable(s.x[i], xs) && placeable(s.y[i], ys) {
                xExtent.add(s.x[i])
                yExtent.add(s.y[i])
                any = true
            }
            seriesHasData.append(any)
        }
        var bandHasData: [Bool] = []
        for b in c.bands {
            var any = false
            for i in 0..<min(b.x.count, b.lower.count, b.upper.count)
            where placeable(b.x[i], xs) && placeable(b.lower[i], ys) && placeable(b.upper[i], ys) {
                xExtent.add(b.x[i])
                yExtent.add(b.lower[i])
                yExtent.add(b.upper[i])
                any = true
            }
            bandHasData.append(any)
        }

        var legend: [LegendEntry] = []
        for (j, b) in c.bands.enumerated() where !b.label.isEmpty {
            legend.append(LegendEntry(label: b.label + (bandHasData[j] ? "" : " (no data)"),
                                      swatch: .fill(b.color ?? .palette(j))))
        }
        for (i, s) in c.series.enumerated() where !s.label.isEmpty {
            let color = s.color ?? .palette(i)
            let swatch: Swatch = c.lines ? .line(color, dashed: s.dashed, marker: s.markers ? .dot : nil)
                                         : .marker(color, .forSeries(i))
            legend.append(LegendEntry(label: s.label + (seriesHasData[i] ? "" : " (no data)"), swatch: swatch))
        }
        if legend.count == 1 && c.bands.isEmpty { legend = [] }  // one series: the title says it

        let hasData = seriesHasData.contains(true) || bandHasData.contains(true)
        let vertical = c.references.filter { $0.orientation == .vertical }.map(\.value)
        let horizontal = c.references.filter { $0.orientation == .horizontal }.map(\.value)
        guard hasData,
              let xd = AxisMap.domain([xExtent.values, vertical], axis: c.x),
              let yd = AxisMap.domain([yExtent.values, horizontal], axis: c.y) else {
            return svgEmptyPlot(width: width, height: height, title: title, kind: kind.rawValue, legend: legend)
        }

        let layout = frameLayout(legend: legend, yScale: ys, yDomain: yd, xTitle: c.x.title, yTitle: c.y.title)
        let frame = layout.frame
        let xMap = AxisMap(scale: xs, lo: xd.lo, hi: xd.hi, p0: frame.left, p1: frame.right)
        let yMap = layout.yMap
        let columns = max(1, Int(frame.width))

        var data = ""
        for (j, b) in c.bands.enumerated() {
            let n = min(b.x.count, b.lower.count, b.upper.count)
            let px = (0..<n).map { xMap.px(b.x[$0]) ?? .nan }
            let upper = (0..<n).map { yMap.px(b.upper[$0]) ?? .nan }
            let lower = (0..<n).map { yMap.px(b.lower[$0]) ?? .nan }
            let d = bandPath(px: px, upper: upper, lower: lower, columns: columns)
            guard !d.isEmpty else { continue }
            let color = b.color ?? .palette(j)
            data += "<path d=\"\(d)\" fill=\"\(color.hex)\" fill-opacity=\"0.22\" stroke=\"none\">"
                + (b.label.isEmpty ? "" : "<title>\(Markup.escape(b.label))</title>") + "</path>"
        }
        for (i, s) in c.series.enumerated() where seriesHasData[i] {
            let n = min(s.x.count, s.y.count)
            let px = (0..<n).map { xMap.px(s.x[$0]) ?? .nan }
            let py = (0..<n).map { yMap.px(s.y[$0]) ?? .nan }
            let color = s.color ?? .palette(i)
            data += "<g>" + (s.label.isEmpty ? "" : "<title>\(Markup.escape(s.label))</title>")
            if c.lines {
                let lines = curvePolylines(px: px, py: py, columns: columns)
                data += "<path d=\"\(pathData(lines))\" fill=\"none\" stroke=\"\(color.hex)\" stroke-width=\"1.8\" "
                    + "stroke-linejoin=\"round\" stroke-linecap=\"round\"" + (s.dashed ? " stroke-dasharray=\"6 4\"/>" : "/>")
                let points = lines.flatMap { $0 }
                if s.markers { data += markerPath(points, shape: .dot, color: color, size: markerSize(count: points.count) + 0.5) }
            } else {
                let points = thinnedPoints(px: px, py: py)
                data += markerPath(points, shape: .forSeries(i), color: color, size: markerSize(count: points.count))
            }
            data += "</g>"
        }
        for r in c.references { data += referenceLine(r, frame: frame, xMap: xMap, yMap: yMap) }

        return svgOpen(width: width, height: height, title: title, kind: kind.rawValue) + svgTitle(title) + layout.legend
            + svgAxes(frame: frame, xTicks: pixelTicks(horizontalTicks(xMap), xMap),
                      yTicks: pixelTicks(layout.yTicks, yMap), xTitle: c.x.title, yTitle: c.y.title, canvasHeight: h)
            + svgClipped(data, frame: frame, salt: title) + "</svg>"
    }

    private func referenceLine(_ r: PlotReference, frame: PlotRect, xMap: AxisMap, yMap: AxisMap) -> String {
        let style = "stroke=\"currentColor\" stroke-opacity=\"0.6\" stroke-dasharray=\"4 3\" fill=\"none\""
        var out = ""
        switch r.orientation {
        case .horizontal:
            guard let y = yMap.px(r.value) else { return "" }
            out += "<path d=\"M\(svgNumber(frame.left)) \(svgNumber(y))H\(svgNumber(frame.right))\" \(style)/>"
            if let label = r.label, !label.isEmpty {
                out += "<text x=\"\(svgNumber(frame.right - 4))\" y=\"\(svgNumber(y - 4))\" text-anchor=\"end\" "
                    + "font-size=\"10\" fill=\"currentColor\" fill-opacity=\"0.75\">\(Markup.escape(label))</text>"
            }
        case .vertical:
            guard let x = xMap.px(r.value) else { return "" }
            out += "<path d=\"M\(svgNumber(x)) \(svgNumber(frame.top))V\(svgNumber(frame.bottom))\" \(style)/>"
            if let label = r.label, !label.isEmpty {
                out += "<text x=\"\(svgNumber(x + 4))\" y=\"\(svgNumber(frame.top + 12))\" "
                    + "font-size=\"10\" fill=\"currentColor\" fill-opacity=\"0.75\">\(Markup.escape(label))</text>"
            }
        }
        return out
    }

    /// Path data of a band: one closed polygon per run of drawable points (upper curve forward,
    /// lower curve back). Long bands keep, per pixel column, the outermost upper and lower values.
    private func bandPath(px: [Double], upper: [Double], lower: [Double], columns: Int) -> String {
        let n = min(px.count, upper.count, lower.count)
        var finite = 0
        var monotonic = true
        var last = -Double.infinity
        for i in 0..<n where px[i].isFinite && upper[i].isFinite && lower[i].isFinite {
            finite += 1
            if px[i] < last { monotonic = false }
            last = px[i]
        }
        let merge = monotonic && finite > 4 * columns
        var polygons: [[(x: Double, top: Double, bottom: Double)]] = []
        var current: [(x: Double, top: Double, bottom: Double)] = []
        var column = Int.min
        var gap = false
        for i in 0..<n {
            guard px[i].isFinite, upper[i].isFinite, lower[i].isFinite else {
                gap = true
                if !merge && !current.isEmpty {
                    polygons.append(current)
                    current = []
                }
                continue
            }
            let top = min(upper[i], lower[i]), bottom = max(upper[i], lower[i])
            if merge {
                let k = Int(min(max(px[i], -1e6), 1e6).rounded(.down))
                if k == column, let previous = current.last {
                    current[current.count - 1] = (previous.x, min(previous.top, top), max(previous.bottom, bottom))
                    gap = false
                    continue
                }
                if gap && k > column + 1 && !current.isEmpty {
                    polygons.append(current)
                    current = []
                }
                column = k
            }
            current.append((px[i], top, bottom))
            gap = false
        }
        if !current.isEmpty { polygons.append(current) }
        var d = ""
        for polygon in polygons where polygon.count > 1 {
            d += "M" + polygon.map { "\(svgNumber($0.x)) \(svgNumber($0.top))" }.joined(separator: "L")
            d += "L" + polygon.reversed().map { "\(svgNumber($0.x)) \(svgNumber($0.bottom))" }.joined(separator: "L") + "Z"
        }
        return d
    }

    // MARK: Interval (forest) plot

    func renderIntervals(_ c: Intervals) -> String {
        let color = PlotColor.palette(0)
        let truthColor = PlotColor.palette(1)
        let scale = c.axis.scale
        var legend = [LegendEntry(label: "estimate and interval", swatch: .interval(color))]
        if c.estimates.contains(where: { $0.nominal != nil }) { legend.append(LegendEntry(label: "nominal", swatch: .nominal)) }
        if c.estimates.contains(where: { $0.reference != nil }) { legend.append(LegendEntry(label: "reference", swatch: .truth)) }

        var extent = Extent()
        for e in c.estimates {
            for v in [e.estimate, e.lower, e.upper, e.nominal ?? .nan, e.reference ?? .nan] where placeable(v, scale) {
                extent.add(v)
            }
        }
        guard !c.estimates.isEmpty, extent.lo <= extent.hi,
              let domain = AxisMap.domain([extent.values, c.referenceLine.map { [$0] } ?? []], axis: c.axis, padding: 0.06) else {
            return svgEmptyPlot(width: width, height: height, title: title, kind: kind.rawValue, legend: [])
        }

        let top0 = titleHeight(title)
        let (legendMarkup, legendHeight) = svgLegend(legend, top: top0 - 2, width: w - 24)
        let top = top0 + legendHeight + 6
        let bottom = max(top + 20, h - (8 + 18 + (c.axis.title.isEmpty ? 0 : 16)))
        let valueTexts = c.estimates.map {
            "\(ReportNumber.significant($0.estimate)) [\(ReportNumber.significant($0.lower)), \(ReportNumber.significant($0.upper))]"
        }
        let valuesWidth = c.showValues ? min(w * 0.3, valueTexts.map { textWidth($0, size: 10.5) }.max() ?? 0) + 16 : 0
        let labelWidth = min(w * 0.3, c.estimates.map { textWidth($0.label) }.max() ?? 0)
        let frame = PlotRect(left: 12 + labelWidth + 10, top: top, right: max(12 + labelWidth + 40, w - 14 - valuesWidth),
                             bottom: bottom)
        let xMap = AxisMap(scale: scale, lo: domain.lo, hi: domain.hi, p0: frame.left, p1: frame.right)
        let rowHeight = frame.height / Double(c.estimates.count)

        var rows = "", labels = "", values = ""
        for (r, e) in c.estimates.enumerated() {
            let cy = top + (Double(r) + 0.5) * rowHeight
            if r % 2 == 1 {
                rows += "<rect x=\"\(svgNumber(frame.left))\" y=\"\(svgNumber(top + Double(r) * rowHeight))\" width=\"\(svgNumber(frame.width))\" "
                    + "height=\"\(svgNumber(rowHeight))\" fill=\"currentColor\" fill-opacity=\"0.035\"/>"
            }
            labels += "<text x=\"\(svgNumber(frame.left - 10))\" y=\"\(svgNumber(cy + 4))\" text-anchor=\"end\">"
                + Markup.escape(truncated(e.label, width: labelWidth)) + "</text>"
            if c.showValues {
                values += "<text x=\"\(svgNumber(frame.right + 12))\" y=\"\(svgNumber(cy + 4))\">\(Markup.escape(valueTexts[r]))</text>"
            }
            var tip = "\(e.label): \(valueTexts[r])"
            if let n = e.nominal { tip += "; nominal \(ReportNumber.significant(n))" }
            if let t = e.reference { tip += "; reference \(ReportNumber.significant(t))" }
            rows += "<g><title>\(Markup.escape(tip))</title>"
            // An interval end that cannot be placed (≤ 0 on a log axis) runs to the frame edge, uncapped.
            let lo = xMap.px(e.lower) ?? (e.lower.isFinite ? frame.left : nil)
            let hi = xMap.px(e.upper) ?? (e.upper.isFinite ? frame.right : nil)
            if let lo, let hi {
                var d = "M\(svgNumber(lo)) \(svgNumber(cy))H\(svgNumber(hi))"
                if xMap.px(e.lower) != nil { d += "M\(svgNumber(lo)) \(svgNumber(cy - 5))v10" }
                if xMap.px(e.upper) != nil { d += "M\(svgNumber(hi)) \(svgNumber(cy - 5))v10" }
                rows += "<path d=\"\(d)\" stroke=\"\(color.hex)\" stroke-width=\"2\" fill=\"none\"/>"
            }
            if let n = e.nominal, let x = xMap.px(n) { rows += nominalDiamond(x: x, y: cy) }
            if let x = xMap.px(e.estimate) {
                rows += "<circle cx=\"\(svgNumber(x))\" cy=\"\(svgNumber(cy))\" r=\"4\" fill=\"\(color.hex)\"/>"
            }
            if let t = e.reference, let x = xMap.px(t) { rows += truthCross(x: x, y: cy, color: truthColor) }
            rows += "</g>"
        }
        if let v = c.referenceLine {
            rows += referenceLine(.vertical(v), frame: frame, xMap: xMap, yMap: xMap)
        }

        return svgOpen(width: width, height: height, title: title, kind: kind.rawValue) + svgTitle(title) + legendMarkup
            + svgAxes(frame: frame, xTicks: pixelTicks(horizontalTicks(xMap), xMap), yTicks: [],
                      xTitle: c.axis.title, yTitle: "", canvasHeight: h)
            + svgClipped(rows, frame: frame, salt: title)
            + "<g fill=\"currentColor\">\(labels)</g>"
            + "<g fill=\"currentColor\" fill-opacity=\"0.8\" font-size=\"10.5\">\(values)</g></svg>"
    }

    // MARK: Bar chart

    func renderBars(_ c: Bars) -> String {
        var yAxis = c.y
        yAxis.scale = .linear
        let categories = c.categories.count
        var extent = Extent()
        for g in c.groups {
            for k in 0..<min(categories, g.values.count) where g.values[k].isFinite {
                let e = g.errors.flatMap { k < $0.count && $0[k].isFinite ? abs($0[k]) : nil } ?? 0
                extent.add(g.values[k] - e)
                extent.add(g.values[k] + e)
            }
        }
        let legend = c.groups.count > 1 || c.groups.contains(where: { !$0.label.isEmpty })
            ? c.groups.enumerated().map { LegendEntry(label: $1.label, swatch: .solid($1.color ?? .palette($0))) } : []
        guard categories > 0, extent.lo <= extent.hi,
              let yd = AxisMap.domain([extent.values], axis: yAxis, padding: 0.06, includeZero: true) else {
            return svgEmptyPlot(width: width, height: height, title: title, kind: kind.rawValue, legend: legend)
        }

        let widest = c.categories.map { textWidth($0, size: 10.5) }.max() ?? 0
        let rotate = widest > (w - 90) / Double(categories) - 6
        let extra = rotate ? min(110, widest * 0.62) : 0
        let layout = frameLayout(legend: legend, yScale: .linear, yDomain: yd, xTitle: "", yTitle: yAxis.title,
                                 extraBottom: extra)
        let frame = layout.frame, yMap = layout.yMap
        let band = frame.width / Double(categories)
        let groupWidth = band * 0.78
        let barWidth = groupWidth / Double(max(1, c.groups.count))
        let zero = yMap.px(0) ?? frame.bottom

        var bars = "", errors = "", labels = ""
        for k in 0..<categories {
            let center = frame.left + (Double(k) + 0.5) * band
            let label = rotate ? truncated(c.categories[k], width: 180, size: 10.5) : truncated(c.categories[k], width: band - 4, size: 10.5)
            if rotate {
                labels += "<text transform=\"translate(\(svgNumber(center)) \(svgNumber(frame.bottom + 12))) rotate(-35)\" "
                    + "text-anchor=\"end\">\(Markup.escape(label))</text>"
            } else {
                labels += "<text x=\"\(svgNumber(center))\" y=\"\(svgNumber(frame.bottom + 16))\" text-anchor=\"middle\">\(Markup.escape(label))</text>"
            }
            for (g, group) in c.groups.enumerated() where k < group.values.count {
                let v = group.values[k]
                guard let y = yMap.px(v) else { continue }
                let color = group.color ?? .palette(g)
                let x = frame.left + Double(k) * band + (band - groupWidth) / 2 + Double(g) * barWidth
                let error = group.errors.flatMap { k < $0.count && $0[k].isFinite ? abs($0[k]) : nil }
                var tip = "\(group.label.isEmpty ? "" : group.label + " · ")\(c.categories[k]): \(ReportNumber.significant(v, digits: 4))"
                if let error { tip += " ± \(ReportNumber.significant(error, digits: 3))" }
                bars += "<rect x=\"\(svgNumber(x + 1))\" y=\"\(svgNumber(min(y, zero)))\" width=\"\(svgNumber(max(1, barWidth - 2)))\" "
                    + "height=\"\(svgNumber(max(0.5, abs(zero - y))))\" rx=\"1.5\" fill=\"\(color.hex)\" fill-opacity=\"0.88\">"
                    + "<title>\(Markup.escape(tip))</title></rect>"
                if let error, error > 0, let a = yMap.px(v - error), let b = yMap.px(v + error) {
                    let cx = x + barWidth / 2, cap = min(barWidth * 0.25, 6)
                    errors += "M\(svgNumber(cx)) \(svgNumber(a))V\(svgNumber(b))"
                        + "M\(svgNumber(cx - cap)) \(svgNumber(a))h\(svgNumber(2 * cap))M\(svgNumber(cx - cap)) \(svgNumber(b))h\(svgNumber(2 * cap))"
                }
            }
        }
        var data = bars
        if !errors.isEmpty {
            data += "<path d=\"\(errors)\" stroke=\"currentColor\" stroke-opacity=\"0.85\" stroke-width=\"1.3\" fill=\"none\"/>"
        }
        data += "<path d=\"M\(svgNumber(frame.left)) \(svgNumber(zero))H\(svgNumber(frame.right))\" stroke=\"currentColor\" stroke-opacity=\"0.6\" "
            + "fill=\"none\"/>"

        return svgOpen(width: width, height: height, title: title, kind: kind.rawValue) + svgTitle(title) + layout.legend
            + svgAxes(frame: frame, xTicks: [], yTicks: pixelTicks(layout.yTicks, yMap), xTitle: "", yTitle: yAxis.title,
                      canvasHeight: h)
            + svgClipped(data, frame: frame, salt: title)
            + "<g fill=\"currentColor\" fill-opacity=\"0.85\" font-size=\"10.5\">\(labels)</g></svg>"
    }

    // MARK: Histogram

    func renderHistogram(_ c: Histogram) -> String {
        var xAxis = c.x
        xAxis.scale = .linear
        let fixed = xAxis.range.flatMap { $0.lowerBound.isFinite && $0.upperBound.isFinite && $0.upperBound > $0.lowerBound ? $0 : nil }
        let sets = c.data.map { set in set.values.filter { $0.isFinite && (fixed?.contains($0) ?? true) } }
        let pooled = sets.flatMap { $0 }
        let legend = c.data.count > 1 || c.data.contains(where: { !$0.label.isEmpty })
            ? c.data.enumerated().map { i, d in
                LegendEntry(label: d.label + (sets[i].isEmpty ? " (no data)" : " (n = \(sets[i].count))"),
                            swatch: .fill(d.color ?? .palette(i)))
            } : []
        guard let first = pooled.first else {
            return svgEmptyPlot(width: width, height: height, title: title, kind: kind.rawValue, legend: legend)
        }

        var lo = fixed?.lowerBound ?? pooled.reduce(first, min)
        var hi = fixed?.upperBound ?? pooled.reduce(first, max)
        if lo == hi {
            let half = lo == 0 ? 0.5 : abs(lo) * 0.05
            lo -= half
            hi += half
        }
        let bins = max(1, min(500, c.bins ?? automaticBins(pooled, span: hi - lo)))
        let binWidth = (hi - lo) / Double(bins)
        let heights: [[Double]] = sets.map { set in
            var counts = [Double](repeating: 0, count: bins)
            for v in set { counts[min(bins - 1, max(0, Int(((v - lo) / binWidth).rounded(.down))))] += 1 }
            return c.density && !set.isEmpty ? counts.map { $0 / (Double(set.count) * binWidth) } : counts
        }
        // Counts are whole numbers: a low top (3) would otherwise get ticks at 0.5, 1.5, ….
        let tallest = max(heights.flatMap { $0 }.max() ?? 1, c.density ? 0 : 4.6)
        let yAxis = PlotAxis(c.density ? "density" : "count", unit: c.density ? xAxis.unit.map { "1/\($0)" } : nil)
        let yd = AxisMap.domain([[0, tallest]], axis: yAxis, padding: 0.06, includeZero: true) ?? (0, 1)
        let layout = frameLayout(legend: legend, yScale: .linear, yDomain: yd, xTitle: xAxis.title, yTitle: yAxis.title)
        let frame = layout.frame, yMap = layout.yMap
        let pad = (hi - lo) * 0.02
        let xMap = AxisMap(scale: .linear, lo: lo - pad, hi: hi + pad, p0: frame.left, p1: frame.right)
        let base = yMap.px(0) ?? frame.bottom

        var data = ""
        for (i, counts) in heights.enumerated() where !sets[i].isEmpty {
            let color = c.data[i].color ?? .palette(i)
            var d = "M\(svgNumber(xMap.px(lo) ?? frame.left)) \(svgNumber(base))"
            for (b, count) in counts.enumerated() {
                let y = svgNumber(yMap.px(count) ?? base)
                d += "V\(y)H\(svgNumber(xMap.px(lo + Double(b + 1) * binWidth) ?? frame.right))"
            }
            d += "V\(svgNumber(base))Z"
            let tip = (c.data[i].label.isEmpty ? "" : c.data[i].label + ": ") + "n = \(sets[i].count), \(bins) bins of \(ReportNumber.significant(binWidth))"
            data += "<path d=\"\(d)\" fill=\"\(color.hex)\" fill-opacity=\"0.32\" stroke=\"\(color.hex)\" stroke-width=\"1.3\" "
                + "stroke-linejoin=\"round\"><title>\(Markup.escape(tip))</title></path>"
        }

        return svgOpen(width: width, height: height, title: title, kind: kind.rawValue) + svgTitle(title) + layout.legend
            + svgAxes(frame: frame, xTicks: pixelTicks(horizontalTicks(xMap), xMap), yTicks: pixelTicks(layout.yTicks, yMap),
                      xTitle: xAxis.title, yTitle: yAxis.title, canvasHeight: h)
            + svgClipped(data, frame: frame, salt: title) + "</svg>"
    }

    /// Freedman–Diaconis (bin width 2 IQR / n^⅓), falling back to Sturges (log₂ n + 1) when the
    /// interquartile range is zero; clamped to 5...60 bins.
    private func automaticBins(_ values: [Double], span: Double) -> Int {
        let sorted = values.sorted()
        let n = sorted.count
        func quantile(_ q: Double) -> Double { sorted[min(n - 1, Int((q * Double(n - 1)).rounded()))] }
        let iqr = quantile(0.75) - quantile(0.25)
        let bins: Double
        if iqr > 0 && span > 0 {
            bins = (span / (2 * iqr / cbrt(Double(n)))).rounded(.up)
        } else {
            bins = (log2(Double(max(1, n)))).rounded(.up) + 1
        }
        return Int(min(60, max(5, bins)))
    }

    // MARK: Heatmap

    func renderHeatmap(_ c: Heatmap) -> String {
        let columnCount = max(c.columns.count, c.values.map(\.count).max() ?? 0)
        let rowCount = max(c.rows.count, c.values.count)
        guard rowCount > 0, columnCount > 0 else {
            return svgEmptyPlot(width: width, height: height, title: title, kind: kind.rawValue, legend: [])
        }
        let rowLabel = { (r: Int) in r < c.rows.count ? c.rows[r] : "" }
        let columnLabel = { (k: Int) in k < c.columns.count ? c.columns[k] : "" }
        let value = { (r: Int, k: Int) in r < c.values.count && k < c.values[r].count ? c.values[r][k] : .nan }

        let top = titleHeight(title) + 8
        let labelWidth = min(w * 0.3, (0..<rowCount).map { textWidth(rowLabel($0)) }.max() ?? 0)
        let left = 12 + labelWidth + 8
        let columnLabels = (0..<columnCount).map(columnLabel)
        let widest = columnLabels.map { textWidth($0, size: 10.5) }.max() ?? 0
        let cellWidth = min(56, max(4, (w - left - 70) / Double(columnCount)))
        let rotate = columnLabelsRotated(columnLabels, cell: cellWidth)
        let bottomSpace = rotate ? min(140, widest * 0.82 + 16) : 28
        let cell = max(4, min(cellWidth, (h - top - bottomSpace) / Double(rowCount)))
        let gridRight = left + cell * Double(columnCount), gridBottom = top + cell * Double(rowCount)

        var cells = "", texts = "", labels = ""
        let fontSize = min(11, cell * 0.3)
        let range = c.range.upperBound > c.range.lowerBound ? c.range : -1...1
        for r in 0..<rowCount {
            let y = top + Double(r) * cell
            labels += "<text x=\"\(svgNumber(left - 8))\" y=\"\(svgNumber(y + cell / 2 + 4))\" text-anchor=\"end\">"
                + Markup.escape(truncated(rowLabel(r), width: labelWidth)) + "</text>"
            for k in 0..<columnCount {
                let x = left + Double(k) * cell
                let v = value(r, k)
                let color = PlotColor.diverging(v, range: range)
                let shown = v.isFinite ? ReportNumber.fixed(v, decimals: c.decimals) : "–"
                let tip = "\(rowLabel(r)) × \(columnLabel(k)): \(v.isFinite ? ReportNumber.significant(v, digits: 4) : "no value")"
                cells += "<rect x=\"\(svgNumber(x + 0.5))\" y=\"\(svgNumber(y + 0.5))\" width=\"\(svgNumber(cell - 1))\" "
                    + "height=\"\(svgNumber(cell - 1))\" fill=\"\(color.hex)\"><title>\(Markup.escape(tip))</title></rect>"
                if c.cellLabels && cell >= 20 {
                    let ink = color.luminance > 0.3 ? "#1b1b1b" : "#ffffff"
                    texts += "<text x=\"\(svgNumber(x + cell / 2))\" y=\"\(svgNumber(y + cell / 2 + fontSize * 0.35))\" "
                        + "fill=\"\(ink)\">\(Markup.escape(shown))</text>"
                }
            }
        }
        for k in 0..<columnCount {
            let cx = left + (Double(k) + 0.5) * cell
            if rotate {
                labels += "<text transform=\"translate(\(svgNumber(cx)) \(svgNumber(gridBottom + 10))) rotate(-40)\" "
                    + "text-anchor=\"end\">\(Markup.escape(truncated(columnLabel(k), width: 160, size: 10.5)))</text>"
            } else {
                labels += "<text x=\"\(svgNumber(cx))\" y=\"\(svgNumber(gridBottom + 16))\" text-anchor=\"middle\">"
                    + Markup.escape(columnLabel(k)) + "</text>"
            }
        }

        // Colour bar: 40 steps from the top of the range down to the bottom, with nice ticks.
        let barX = gridRight + 14, barHeight = max(40, gridBottom - top)
        var bar = ""
        let steps = 40
        for s in 0..<steps {
            let v = range.upperBound - (Double(s) + 0.5) / Double(steps) * (range.upperBound - range.lowerBound)
            bar += "<rect x=\"\(svgNumber(barX))\" y=\"\(svgNumber(top + Double(s) * barHeight / Double(steps)))\" width=\"12\" "
                + "height=\"\(svgNumber(barHeight / Double(steps) + 0.4))\" fill=\"\(PlotColor.diverging(v, range: range).hex)\"/>"
        }
        let barMap = AxisMap(scale: .linear, lo: range.lowerBound, hi: range.upperBound, p0: top + barHeight, p1: top)
        var barLabels = ""
        for tick in barMap.ticks(target: 4) {
            guard let y = barMap.px(tick.value) else { continue }
            barLabels += "<text x=\"\(svgNumber(barX + 17))\" y=\"\(svgNumber(y + 3.5))\">\(Markup.escape(tick.label))</text>"
        }

        return svgOpen(width: width, height: height, title: title, kind: kind.rawValue) + svgTitle(title)
            + "<g>\(cells)</g>"
            + "<g text-anchor=\"middle\" font-size=\"\(svgNumber(fontSize))\">\(texts)</g>"
            + "<g fill=\"currentColor\" fill-opacity=\"0.85\" font-size=\"10.5\">\(labels)</g>"
            + "<g>\(bar)</g><g fill=\"currentColor\" fill-opacity=\"0.78\" font-size=\"10\">\(barLabels)</g></svg>"
    }
}
