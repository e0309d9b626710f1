// Summaries of a sample of numbers: mean, variance, standard deviation, median and quantiles.
import Foundation

/// Sample statistics with one definition each, used everywhere in Tether.
///
/// Empty samples: the mean, median and quantiles of no values are 0 (callers that must tell an
/// empty sample apart check the count first); variance and standard deviation need two values
/// and are 0 below that.
public enum SampleStatistics {
    /// The arithmetic mean; 0 for no values.
    public static func mean(_ x: some Collection<Double>) -> Double {
        x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count)
    }

    /// The sample variance, with n − 1 in the denominator; 0 for fewer than two values.
    public static func variance(_ x: some Collection<Double>) -> Double {
        guard x.count > 1 else { return 0 }
        let m = mean(x)
        return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
    }

    /// The sample standard deviation, √variance (n − 1); 0 for fewer than two values.
    public static func standardDeviation(_ x: some Collection<Double>) -> Double {
        variance(x).squareRoot()
    }

    /// The median: the middle value, or the mean of the two middle values (`quantile(x, 0.5)`); 0 for no values.
    public static func median(_ x: [Double]) -> Double {
        guard !x.isEmpty else { return 0 }
        let s = x.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }

    /// The q-quantile (q in [0, 1]) by linear interpolation between order statistics: with the
    /// values sorted as x₀ ≤ … ≤ x_{n−1} and h = q (n − 1), it is x_⌊h⌋ + (h − ⌊h⌋)(x_⌊h⌋₊₁ − x_⌊h⌋).
    /// This is Hyndman & Fan's definition 7, the default of numpy and R; 0 for no values.
    public static func quantile(_ x: [Double], _ q: Double) -> Double {
        precondition(q >= 0 && q <= 1, "a quantile needs q in [0, 1]")
        guard !x.isEmpty else { return 0 }
        let s = x.sorted()
        let h = q * Double(s.count - 1)
        let below = Int(h.rounded(.down))
        let above = min(below + 1, s.count - 1)
        let fraction = h - Double(below)
        return fraction == 0 ? s[below] : s[below] + fraction * (s[above] - s[below])
    }

    /// The p-th percentile (p in [0, 100]): `quantile(x, p / 100)`.
    public static func percentile(_ x: [Double], _ p: Double) -> Double {
        quantile(x, p / 100)
    }

    /// The median of consecutive differences: the nominal sample interval of a time series, s.
    public static func medianInterval(_ times: [Double]) -> Double {
        median(zip(times.dropFirst(), times).map { $0 - $1 })
    }
}
