import Foundation

/// How an axis maps data to position.
public enum AxisScale: String, Sendable, Equatable {
    /// Equal distances for equal differences.
    case linear
    /// Equal distances for equal ratios (base 10). Values ≤ 0 cannot be placed and are skipped.
    case log
}

/// One axis of a plot: its label, unit, scale and (optionally) a fixed range.
public struct PlotAxis: Sendable, Equatable {
    /// What the axis shows ("joint angle").
    public var label: String
    /// The unit, shown in brackets after the label ("rad"); nil for dimensionless quantities.
    public var unit: String?
    /// Linear or logarithmic.
    public var scale: AxisScale
    /// A fixed range in data units; nil for a range fitted to the data with a little padding.
    /// On a log axis a bound ≤ 0 is ignored (that side is fitted to the data).
    public var range: ClosedRange<Double>?

    /// Creates an axis.
    public init(_ label: String = "", unit: String? = nil, scale: AxisScale = .linear,
                range: ClosedRange<Double>? = nil) {
        self.label = label
        self.unit = unit
        self.scale = scale
        self.range = range
    }

    /// A logarithmic axis (Allan deviation, frequency responses, parameter ratios).
    public static func log(_ label: String = "", unit: String? = nil,
                           range: ClosedRange<Double>? = nil) -> PlotAxis {
        PlotAxis(label, unit: unit, scale: .log, range: range)
    }

    /// The text under or beside the axis: "label [unit]", or just one of them.
    public var title: String {
        switch (label.isEmpty, unit) {
        case (_, nil): return label
        case (true, let unit?): return "[\(unit)]"
        case (false, let unit?): return "\(label) [\(unit)]"
        }
    }
}

/// Tick positions and labels: "nice" values in steps of 1, 2 or 5 times a power of ten on linear
/// axes, decades (with 2 and 5 between them when the range is short) on log axes.
public enum AxisTicks {
    /// The step (1, 2 or 5 × 10ᵏ) that divides `span` into the number of intervals closest to
    /// `target`; ties go to the larger step. Returns 0 for a span that is not positive and finite.
    public static func niceStep(span: Double, target: Int = 5) -> Double {
        guard span.isFinite, span > 0 else { return 0 }
        let (mantissa, exponent) = stepParts(span: span, target: target)
        return Double(mantissa) * ReportNumber.power10(exponent)
    }

    /// The multiples of ``niceStep(span:target:)`` that lie in `lo...hi` (either order), in
    /// increasing order. Values are computed as integer × power of ten, so 0.3 is exactly the
    /// double nearest 0.3 rather than 0.1 + 0.1 + 0.1. A single point gives `[lo]`; a
    /// non-finite bound gives `[]`.
    public static func linear(from lo: Double, to hi: Double, target: Int = 5) -> [Double] {
        guard lo.isFinite, hi.isFinite else { return [] }
        let a = min(lo, hi), b = max(lo, hi)
        if a == b { return [a] }
        let (mantissa, exponent) = stepParts(span: b - a, target: target)
        let step = Double(mantissa) * ReportNumber.power10(exponent)
        // A tiny span far from zero (1e9 ± 0.5) has more multiples than an Int can count.
        guard abs(a / step) < 1e15, abs(b / step) < 1e15 else { return [a, b] }
        let first = Int((a / step - 1e-9).rounded(.up))
        let last = Int((b / step + 1e-9).rounded(.down))
        guard first <= last else { return [] }
        return (first...min(last, first + 200)).map { i in
            exponent >= 0 ? Double(i * mantissa) * ReportNumber.power10(exponent)
                          : Double(i * mantissa) / ReportNumber.power10(-exponent)
        }
    }

    /// The labelled ticks of a log axis over `lo...hi` (both > 0): every decade (every second or
    /// more when the range spans many), plus 2× and 5× each decade when it spans under about
    /// two and a half decades; a range shorter than one decade falls back to ``linear(from:to:target:)``.
    public static func logarithmic(from lo: Double, to hi: Double) -> [Double] {
        guard lo.isFinite, hi.isFinite, lo > 0, hi > 0 else { return [] }
        let a = log10(min(lo, hi)), b = log10(max(lo, hi))
        if b - a < 1 { return linear(from: min(lo, hi), to: max(lo, hi), target: 4) }
        let first = Int((a - 1e-9).rounded(.up)), last = Int((b + 1e-9).rounded(.down))
        let stride = max(1, Int((Double(last - first + 1) / 8).rounded(.up)))
        var ticks: [Double] = []
        let withHalves = b - a < 2.5
        for k in Int((a).rounded(.down))...Int((b).rounded(.up)) {
            if k >= first && k <= last && k % stride == 0 {
                ticks.append(ReportNumber.power10(k))
            }
            if withHalves {
                for m in [2.0, 5.0] {
                    let v = m * ReportNumber.power10(k)
                    if v >= min(lo, hi) * (1 - 1e-12) && v <= max(lo, hi) * (1 + 1e-12) { ticks.append(v) }
                }
            }
        }
        return ticks.sorted()
    }

    /// The unlabelled minor ticks of a log axis: 2…9 × each decade inside `lo...hi`, except
    /// those already labelled; empty when decades are skipped or the range is under a decade.
    public static func logarithmicMinor(from lo: Double, to hi: Double) -> [Double] {
        guard lo.isFinite, hi.isFinite, lo > 0, hi > 0 else { return [] }
        let a = log10(min(lo, hi)), b = log10(max(lo, hi))
        guard b - a >= 1, b - a <= 8 else { return [] }
        let major = Set(logarithmic(from: lo, to: hi))
        var ticks: [Double] = []
        for k in Int(a.rounded(.down))...Int(b.rounded(.up)) {
            for m in 2...9 {
                let v = Double(m) * ReportNumber.power10(k)
                if v >= min(lo, hi), v <= max(lo, hi), !major.contains(v) { ticks.append(v) }
            }
        }
        return ticks
    }

    /// The label of a linear tick: as many decimals as `step` needs ("0.25" for step 0.05, "20"
    /// for step 10), switching to exponent form for magnitudes ≥ 10⁶ or steps below 10⁻⁵.
    public static func label(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        guard step > 0, step.isFinite else { return ReportNumber.significant(value, digits: 3) }
        let stepExponent = Int((log10(step) + 1e-9).rounded(.down))
        let decimals = max(0, -stepExponent)
        if abs(value) >= 1e6 || decimals > 5 {
            let magnitude = Int((log10(abs(value))).rounded(.down))
            return ReportNumber.significant(value, digits: max(1, min(15, magnitude - stepExponent + 1)))
        }
        return ReportNumber.fixed(value, decimals: decimals)
    }

    /// The label of a log-axis tick: plain for 0.001…10000 ("0.01", "500"), otherwise a power of
    /// ten with a superscript exponent ("10⁻⁶", "2×10⁷").
    public static func logLabel(_ value: Double) -> String {
        guard value > 0, value.isFinite else { return ReportNumber.significant(value, digits: 2) }
        let k = Int((log10(value) + 1e-9).rounded(.down))
        let mantissa = value / ReportNumber.power10(k)
        let whole = mantissa.rounded()
        guard abs(mantissa - whole) < 1e-6 * mantissa, whole >= 1, whole <= 9 else {
            return ReportNumber.significant(value, digits: 2)
        }
        if k >= -3 && k <= 4 { return ReportNumber.fixed(value, decimals: max(0, -k)) }
        return (whole == 1 ? "" : "\(Int(whole))×") + "10" + superscript(k)
    }

    static func superscript(_ n: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        return (n < 0 ? "⁻" : "") + String(String(abs(n)).compactMap { $0.wholeNumberValue.map { digits[$0] } })
    }

    static func stepParts(span: Double, target: Int) -> (mantissa: Int, exponent: Int) {
        let raw = span / Double(max(1, target))
        let exponent = Int(log10(raw).rounded(.down))
        let magnitude = ReportNumber.power10(exponent)
        var best = (mantissa: 1, exponent: exponent)
        var bestScore = Double.infinity
        for mantissa in [1, 2, 5, 10] {
            let score = abs(span / (Double(mantissa) * magnitude) - Double(max(1, target)))
            if score <= bestScore + 1e-9 {
                best = (mantissa, exponent)
                bestScore = score
            }
        }
        return best.mantissa == 10 ? (1, exponent + 1) : best
    }
}

/// One tick as drawn: where, what it says, and whether it gets a label and a grid line.
struct Tick {
    var value: Double
    var label: String
    var major: Bool
}

/// A data axis placed on the page: data units in `lo...hi` map to pixels `p0...p1`.
struct AxisMap {
    var scale: AxisScale
    var lo: Double
    var hi: Double
    var p0: Double
    var p1: Double

    /// The data value in the space that is linear on the page (log10 for a log axis); nil for
    /// values that cannot be placed (NaN, ±∞, ≤ 0 on a log axis).
    func transform(_ v: Double) -> Double? {
        guard v.isFinite else { return nil }
        if scale == .log { return v > 0 ? log10(v) : nil }
        return v
    }

    /// The pixel position of `v`, or nil when it cannot be placed.
    func px(_ v: Double) -> Double? {
        guard let t = transform(v), let a = transform(lo), let b = transform(hi), b > a else { return nil }
        return p0 + (t - a) / (b - a) * (p1 - p0)
    }

    /// Ticks for this axis with about `target` labelled ones.
    func ticks(target: Int) -> [Tick] {
        if scale == .log {
            let major = AxisTicks.logarithmic(from: lo, to: hi)
            let linearFallback = log10(hi) - log10(lo) < 1
            let step = linearFallback ? AxisTicks.niceStep(span: hi - lo, target: 4) : 0
            var ticks = major.map {
                Tick(value: $0, label: linearFallback ? AxisTicks.label($0, step: step) : AxisTicks.logLabel($0), major: true)
            }
            ticks += AxisTicks.logarithmicMinor(from: lo, to: hi).map { Tick(value: $0, label: "", major: false) }
            return ticks
        }
        let step = AxisTicks.niceStep(span: hi - lo, target: target)
        return AxisTicks.linear(from: lo, to: hi, target: target).map {
            Tick(value: $0, label: AxisTicks.label($0, step: step), major: true)
        }
    }

    /// The range to show for `values` on `axis`: the axis's fixed range where it has one,
    /// otherwise the finite (and, on a log axis, positive) values widened by `padding` of the
    /// span on each side; a single value gets a symmetric range around it. With `includeZero`
    /// (bars, histograms) a linear range reaches zero and is not padded past it. Nil when no
    /// value can be placed and the axis has no usable fixed range.
    static func domain(_ values: [[Double]], axis: PlotAxis, padding: Double = 0.04,
                       includeZero: Bool = false) -> (lo: Double, hi: Double)? {
        let isLog = axis.scale == .log
        var lo = Double.infinity, hi = -Double.infinity
        for array in values {
            for v in array where v.isFinite && (!isLog || v > 0) {
                if v < lo { lo = v }
                if v > hi { hi = v }
            }
        }
        if let range = axis.range, range.lowerBound.isFinite, range.upperBound.isFinite {
            let fixedLo = isLog && range.lowerBound <= 0 ? nil : range.lowerBound
            let fixedHi = isLog && range.upperBound <= 0 ? nil : range.upperBound
            if let fixedLo, let fixedHi, fixedLo < fixedHi { return (fixedLo, fixedHi) }
            if let fixedLo { lo = fixedLo }
            if let fixedHi { hi = fixedHi }
        }
        guard lo <= hi else { return nil }
        if includeZero && !isLog {
            lo = min(lo, 0)
            hi = max(hi, 0)
        }
        var a = isLog ? log10(lo) : lo
        var b = isLog ? log10(hi) : hi
        if a == b {
            let half = isLog ? 0.5 : (a == 0 ? 1 : abs(a) * 0.1)
            if includeZero && !isLog && a == 0 {
                b = 1
            } else {
                a -= half
                b += half
            }
        } else {
            let pad = (b - a) * padding
            if !(includeZero && !isLog && lo == 0) { a -= pad }
            if !(includeZero && !isLog && hi == 0) { b += pad }
        }
        if isLog { return (pow(10, a), pow(10, b)) }
        return (a, b)
    }
}
