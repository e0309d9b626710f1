// Confidence intervals as a type: bounds and the level they hold at.
//
// References: E. B. Wilson, "Probable inference, the law of succession, and statistical
// inference", JASA 22 (1927) (score interval); C. J. Clopper and E. S. Pearson, "The use of
// confidence or fiducial limits illustrated in the case of the binomial", Biometrika 26 (1934)
// (exact interval); R. G. Newcombe, "Interval estimation for the difference between independent
// proportions: comparison of eleven methods", Statistics in Medicine 17 (1998) 873–890.
import Foundation

/// A two-sided confidence interval [lower, upper] at a confidence level.
///
/// In JSON an interval is the two-element array `[lower, upper]`, the form Tether's result files
/// have always held; the level is not written, and an interval read back has level 0.95 (the
/// level of every interval in those files). Two intervals are equal when their bounds are.
public struct ConfidenceInterval: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Lower bound.
    public var lower: Double
    /// Upper bound.
    public var upper: Double
    /// Confidence level, 0…1 (0.95 for a 95 % interval).
    public var level: Double

    /// An interval from its bounds and level.
    public init(lower: Double, upper: Double, level: Double = 0.95) {
        self.lower = lower
        self.upper = upper
        self.level = level
    }

    /// The width, upper − lower.
    public var width: Double { upper - lower }

    /// Whether `x` lies in the closed interval.
    public func contains(_ x: Double) -> Bool { lower <= x && x <= upper }

    /// "[lower, upper]".
    public var description: String { "[\(lower), \(upper)]" }

    /// Equal bounds (the level is a label the JSON form does not carry).
    public static func == (a: ConfidenceInterval, b: ConfidenceInterval) -> Bool {
        a.lower == b.lower && a.upper == b.upper
    }

    /// Hashes the bounds, consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(lower)
        hasher.combine(upper)
    }

    /// Reads `[lower, upper]`; the level is 0.95.
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let lower = try container.decode(Double.self)
        let upper = try container.decode(Double.self)
        guard container.isAtEnd else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a confidence interval is the two-element array [lower, upper]")
        }
        self.init(lower: lower, upper: upper)
    }

    /// Writes `[lower, upper]`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(lower)
        try container.encode(upper)
    }
}

// MARK: - Proportions

extension ConfidenceInterval {
    /// The Wilson score interval of a success rate: the rates p whose score test
    /// |p̂ − p| / √(p(1 − p)/n) stays below z = Φ⁻¹(1 − α/2). [0, 1] when there are no trials.
    public static func wilson(successes: Int, trials: Int, level: Double = 0.95) -> ConfidenceInterval {
        guard trials > 0 else { return ConfidenceInterval(lower: 0, upper: 1, level: level) }
        let z = Distributions.normalQuantile(1 - (1 - level) / 2)
        let n = Double(trials), p = Double(successes) / n
        let denominator = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denominator
        return ConfidenceInterval(lower: max(0, centre - half), upper: min(1, centre + half), level: level)
    }

    /// The Clopper–Pearson ("exact") interval of a success rate: each bound errs with probability
    /// at most (1 − level) / 2 for every true rate. [0, 1] when there are no trials.
    ///
    /// The lower bound is the rate at which P(X ≥ successes) = α/2, the upper bound the rate at
    /// which P(X ≤ successes) = α/2, found by bisection on the binomial tails (60 halvings: below 1e-15).
    public static func clopperPearson(successes s: Int, trials n: Int, level: Double = 0.95) -> ConfidenceInterval {
        guard n > 0 else { return ConfidenceInterval(lower: 0, upper: 1, level: level) }
        precondition(s >= 0 && s <= n, "successes must lie in 0...trials")
        let tail = (1 - level) / 2
        var logFactorial = [Double](repeating: 0, count: n + 1)
        for k in stride(from: 1, through: n, by: 1) { logFactorial[k] = logFactorial[k - 1] + log(Double(k)) }
        func pmfLog(_ k: Int, _ p: Double) -> Double {
            logFactorial[n] - logFactorial[k] - logFactorial[n - k] + Double(k) * log(p) + Double(n - k) * log1p(-p)
        }
        // P(X ≥ s) rises with p; P(X ≤ s) falls with p.
        func atLeast(_ p: Double) -> Double { (s...n).reduce(0) { $0 + exp(pmfLog($1, p)) } }
        func atMost(_ p: Double) -> Double { (0...s).reduce(0) { $0 + exp(pmfLog($1, p)) } }
        var lower = 0.0, upper = 1.0
        if s > 0 {
            var lo = 0.0, hi = 1.0
            for _ in 0..<60 { let mid = (lo + hi) / 2; if atLeast(mid) < tail { lo = mid } else { hi = mid } }
            lower = (lo + hi) / 2
        }
        if s < n {
            var lo = 0.0, hi = 1.0
            for _ in 0..<60 { let mid = (lo + hi) / 2; if atMost(mid) > tail { lo = mid } else { hi = mid } }
            upper = (lo + hi) / 2
        }
        return ConfidenceInterval(lower: lower, upper: upper, level: level)
    }

    /// Newcombe's hybrid score interval (his method 10) of the difference of two independent
    /// success rates, rate A − rate B, from the two Wilson intervals (l, u):
    /// lower = d − √((p_A − l_A)² + (u_B − p_B)²), upper = d + √((u_A − p_A)² + (p_B − l_B)²).
    /// His example 56/70 − 48/80 gives [0.0524, 0.3339] at 95 %. [−1, 1] when a set is empty.
    public static func newcombeDifference(successesA: Int, trialsA: Int, successesB: Int, trialsB: Int,
                                          level: Double = 0.95) -> ConfidenceInterval {
        guard trialsA > 0, trialsB > 0 else { return ConfidenceInterval(lower: -1, upper: 1, level: level) }
        let a = Double(successesA) / Double(trialsA), b = Double(successesB) / Double(trialsB)
        let wa = wilson(successes: successesA, trials: trialsA, level: level)
        let wb = wilson(successes: successesB, trials: trialsB, level: level)
        let low = (a - b) - ((a - wa.lower) * (a - wa.lower) + (wb.upper - b) * (wb.upper - b)).squareRoot()
        let high = (a - b) + ((wa.upper - a) * (wa.upper - a) + (b - wb.lower) * (b - wb.lower)).squareRoot()
        return ConfidenceInterval(lower: max(-1, low), upper: min(1, high), level: level)
    }
}

// MARK: - Means

extension ConfidenceInterval {
    /// The Student-t interval of a mean, x̄ ± t(1 − α/2, n − 1) s/√n; nil for fewer than two values.
    public static func studentT(mean x: [Double], level: Double = 0.95) -> ConfidenceInterval? {
        guard x.count >= 2 else { return nil }
        let m = SampleStatistics.mean(x)
        let half = Distributions.studentTQuantile(1 - (1 - level) / 2, degreesOfFreedom: Double(x.count - 1))
            * (SampleStatistics.variance(x) / Double(x.count)).squareRoot()
        return ConfidenceInterval(lower: m - half, upper: m + half, level: level)
    }

    /// estimate ± `quantile` × `standardError`, the symmetric interval of an estimate whose
    /// error, divided by its standard error, has the given two-sided quantile at `level`.
    public static func symmetric(_ estimate: Double, standardError: Double, quantile: Double, level: Double = 0.95) -> ConfidenceInterval {
        ConfidenceInterval(lower: estimate - quantile * standardError, upper: estimate + quantile * standardError, level: level)
    }
}
