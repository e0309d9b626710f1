// What every closed-form analysis returns (an estimate with its uncertainty, a fit quality), the
// input checks they share, and the few probability distributions their intervals need.
import Foundation
import TetherCore

/// An estimated quantity with its standard error and a 95 % interval (SI units, radians).
public struct ParameterEstimate: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The estimate.
    public var value: Double
    /// Its standard error (one standard deviation of the estimate).
    public var standardError: Double
    /// Lower end of the 95 % interval.
    public var lower95: Double
    /// Upper end of the 95 % interval.
    public var upper95: Double

    /// An estimate with a normal (large-sample) interval `value ± 1.96 SE`.
    public init(value: Double, standardError: Double) {
        let half = Distributions.normalQuantile(0.975) * standardError
        self.init(value: value, standardError: standardError, lower95: value - half, upper95: value + half)
    }

    /// An estimate with a Student-t interval `value ± t(0.975, dof) SE`.
    public init(value: Double, standardError: Double, degreesOfFreedom: Int) {
        let half = Distributions.studentTQuantile(0.975, degreesOfFreedom: Double(max(degreesOfFreedom, 1))) * standardError
        self.init(value: value, standardError: standardError, lower95: value - half, upper95: value + half)
    }

    /// An estimate with an explicit (possibly asymmetric) 95 % interval.
    public init(value: Double, standardError: Double, lower95: Double, upper95: Double) {
        self.value = value
        self.standardError = standardError
        self.lower95 = lower95
        self.upper95 = upper95
    }

    /// Whether `x` lies in the 95 % interval.
    public func contains(_ x: Double) -> Bool { lower95 <= x && x <= upper95 }

    /// The estimate of `f(x)` for a monotone f, with the interval mapped through f and the
    /// standard error to first order (`|f'(x)| SE`).
    public func mapped(_ f: (Double) -> Double, derivative: Double) -> ParameterEstimate {
        let a = f(lower95), b = f(upper95)
        return ParameterEstimate(value: f(value), standardError: abs(derivative) * standardError, lower95: min(a, b), upper95: max(a, b))
    }

    /// "value ± SE (95 %: lower … upper)".
    public var description: String {
        String(format: "%.6g ± %.2g (95 %%: %.6g … %.6g)", value, standardError, lower95, upper95)
    }
}

/// How well a model fits its data.
public struct FitQuality: Codable, Sendable, Equatable {
    /// Number of observations (residuals).
    public var sampleCount: Int
    /// Number of fitted parameters.
    public var parameterCount: Int
    /// Root mean square of the residuals (units of the observations).
    public var rmsResidual: Double
    /// Residual standard deviation `s = √(RSS / (n − p))`, the noise level the fit implies.
    public var residualStandardDeviation: Double
    /// Coefficient of determination `1 − RSS / Σ(y − ȳ)²`; nil when the data does not vary.
    public var rSquared: Double?

    /// The quality of a fit from its residuals and, for R², the total sum of squares of the data.
    public init(residuals: [Double], parameterCount: Int, totalSumOfSquares: Double?) {
        let rss = residuals.reduce(0) { $0 + $1 * $1 }
        sampleCount = residuals.count
        self.parameterCount = parameterCount
        rmsResidual = residuals.isEmpty ? 0 : (rss / Double(residuals.count)).squareRoot()
        residualStandardDeviation = residuals.count > parameterCount ? (rss / Double(residuals.count - parameterCount)).squareRoot() : 0
        if let tss = totalSumOfSquares, tss > 0 { rSquared = 1 - rss / tss } else { rSquared = nil }
    }

    /// The quality of a fit from the data and its residuals.
    public init(observations: [Double], residuals: [Double], parameterCount: Int) {
        let mean = observations.reduce(0, +) / Double(max(observations.count, 1))
        let tss = observations.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        self.init(residuals: residuals, parameterCount: parameterCount, totalSumOfSquares: tss)
    }
}

/// Input checks shared by the analyses; each error names the analysis, the parameter and the source.
enum AnalysisInput {
    /// At least `minimum` samples of `name`.
    static func requireCount(_ count: Int, atLeast minimum: Int, of name: String, analysis: String, source: String,
                             hint: String = "record longer or at a higher rate") throws {
        guard count >= minimum else {
            throw TetherError("\(analysis): '\(name)' has \(count) sample\(count == 1 ? "" : "s"); at least \(minimum) are needed",
                              at: source, hint: hint)
        }
    }

    /// Every value of `name` finite.
    static func requireFinite(_ values: [Double], named name: String, analysis: String, source: String) throws {
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw TetherError("\(analysis): '\(name)' sample \(i) is not finite (\(values[i]))", at: source,
                              hint: "drop or repair non-finite samples before the analysis")
        }
    }

    /// `times` strictly increasing (sorted, no duplicates) and finite.
    static func requireIncreasing(_ times: [Double], named name: String, analysis: String, source: String) throws {
        try requireFinite(times, named: name, analysis: analysis, source: source)
        for i in times.indices.dropFirst() where !(times[i] > times[i - 1]) {
            let kind = times[i] == times[i - 1] ? "repeats" : "goes back"
            throw TetherError("\(analysis): '\(name)' \(kind) at sample \(i) (\(times[i]) after \(times[i - 1]))", at: source,
                              hint: "sort the samples by time and drop duplicates")
        }
    }

    /// Two parallel arrays with the same count.
    static func requireSameCount(_ a: Int, _ b: Int, names: (String, String), analysis: String, source: String) throws {
        guard a == b else {
            throw TetherError("\(analysis): '\(names.0)' has \(a) samples but '\(names.1)' has \(b)", at: source,
                              hint: "pass one value per time stamp")
        }
    }

    /// A time series checked for count, finiteness and increasing times.
    static func requireSeries(times: [Double], values: [Double], timeName: String = "time", valueName: String,
                              minimumCount: Int, analysis: String, source: String) throws {
        try requireSameCount(times.count, values.count, names: (timeName, valueName), analysis: analysis, source: source)
        try requireCount(values.count, atLeast: minimumCount, of: valueName, analysis: analysis, source: source)
        try requireIncreasing(times, named: timeName, analysis: analysis, source: source)
        try requireFinite(values, named: valueName, analysis: analysis, source: source)
    }

    /// A positive finite option value.
    static func requirePositive(_ value: Double, named name: String, analysis: String, source: String) throws {
        guard value.isFinite && value > 0 else {
            throw TetherError("\(analysis): '\(name)' must be positive and finite (got \(value))", at: source)
        }
    }
}

/// Small helpers over arrays of samples.
enum SampleStatistics {
    static func mean(_ x: some Collection<Double>) -> Double {
        x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count)
    }

    /// Sample standard deviation (n − 1).
    static func standardDeviation(_ x: some Collection<Double>) -> Double {
        guard x.count > 1 else { return 0 }
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
    }

    static func median(_ x: [Double]) -> Double {
        guard !x.isEmpty else { return 0 }
        let s = x.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }

    /// Median of consecutive differences (the nominal sample interval of a series).
    static func medianInterval(_ times: [Double]) -> Double {
        median(zip(times.dropFirst(), times).map { $0 - $1 })
    }
}

/// The normal, Student-t, χ² and F distributions that the intervals and tests need.
///
/// CDFs come from the regularized incomplete beta and gamma functions (Abramowitz & Stegun
/// 26.5.8 / 6.5; DLMF 8.17.22 and 8.9), evaluated by series and continued fractions; quantiles by
/// bisection on the CDF, to about 1e-12.
public enum Distributions {
    /// Φ⁻¹(p), the standard normal quantile.
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "probability must be in (0, 1)")
        return bisect(low: -40, high: 40) { 0.5 * erfc(-$0 / 2.0.squareRoot()) < p }
    }

    /// The Student-t quantile with `degreesOfFreedom` (> 0).
    public static func studentTQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1 && nu > 0, "probability in (0, 1) and positive degrees of freedom")
        if p == 0.5 { return 0 }
        if p < 0.5 { return -studentTQuantile(1 - p, degreesOfFreedom: nu) }
        var high = 1.0
        while studentTCDF(high, degreesOfFreedom: nu) < p { high *= 2 }
        return bisect(low: 0, high: high) { studentTCDF($0, degreesOfFreedom: nu) < p }
    }

    /// P(T ≤ t) for Student's t.
    public static func studentTCDF(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        let tail = 0.5 * regularizedIncompleteBeta(nu / (nu + t * t), nu / 2, 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The χ² quantile with `degreesOfFreedom` (> 0).
    public static func chiSquaredQuantile(_ p: Double, degreesOfFreedom k: Double) -> Double {
        precondition(p > 0 && p < 1 && k > 0, "probability in (0, 1) and positive degrees of freedom")
        var high = max(k, 1)
        while chiSquaredCDF(high, degreesOfFreedom: k) < p { high *= 2 }
        return bisect(low: 0, high: high) { chiSquaredCDF($0, degreesOfFreedom: k) < p }
    }

    /// P(X ≤ x) for χ² with k degrees of freedom.
    public static func chiSquaredCDF(_ x: Double, degreesOfFreedom k: Double) -> Double {
        x <= 0 ? 0 : regularizedLowerGamma(k / 2, x / 2)
    }

    /// P(F > f) for the F distribution with (d1, d2) degrees of freedom: the p-value of an F-test.
    public static func fSurvival(_ f: Double, _ d1: Double, _ d2: Double) -> Double {
        f <= 0 ? 1 : regularizedIncompleteBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2)
    }

    /// I_x(a, b), the regularized incomplete beta function.
    static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        // The continued fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry
        // I_x(a, b) = 1 − I_{1−x}(b, a) otherwise.
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, b, a) }
        let logFront = a * log(x) + b * log1p(-x) - (lgamma(a) + lgamma(b) - lgamma(a + b)) - log(a)
        // The fraction is 1/g with g = 1 + d1/(1 + d2/(1 + …)), d_{2m} = m(b − m)x / ((a + 2m − 1)(a + 2m))
        // and d_{2m+1} = −(a + m)(a + b + m)x / ((a + 2m)(a + 2m + 1)); g by the modified Lentz method.
        let tiny = 1e-300
        var g = 1.0, c = 1.0, d = 0.0
        for j in 1..<2000 {
            let m = Double(j / 2)
            let coefficient = j % 2 == 0
                ? m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                : -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + coefficient * d
            if abs(d) < tiny { d = tiny }
            d = 1 / d
            c = 1 + coefficient / c
            if abs(c) < tiny { c = tiny }
            let delta = c * d
            g *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(logFront) / g
    }

    /// P(a, x), the regularized lower incomplete gamma function.
    static func regularizedLowerGamma(_ a: Double, _ x: Double) -> Double {
        if x <= 0 { return 0 }
        let logFront = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            // Series: P = e^{−x} x^a / Γ(a + 1) · Σ xⁿ / ((a + 1)…(a + n)).
            var term = 1.0 / a, sum = term, ap = a
            for _ in 0..<10_000 {
                ap += 1
                term *= x / ap
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return min(1, exp(logFront) * sum)
        }
        // Continued fraction for Q = 1 − P: 1/(x + 1 − a − 1(1 − a)/(x + 3 − a − 2(2 − a)/(…))).
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny, d = 1 / b, h = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return max(0, 1 - exp(logFront) * h)
    }

    /// The x in [low, high] where `below(x)` turns false (below must be monotone: true then false).
    private static func bisect(low: Double, high: Double, below: (Double) -> Bool) -> Double {
        var lo = low, hi = high
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if mid == lo || mid == hi { break }
            if below(mid) { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }
}
