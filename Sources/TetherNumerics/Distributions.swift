// The normal, Student-t, χ² and F distributions, and the special functions beneath them.
//
// CDFs come from the regularized incomplete beta and gamma functions (Abramowitz & Stegun
// 26.5.8 / 6.5; DLMF 8.17.22 and 8.9), evaluated by series and continued fractions (modified
// Lentz method); quantiles by bisection on the CDF, to double precision. Every function here is
// called a handful of times per interval or test, so accuracy matters and speed does not.
import Foundation

/// Probability distributions: CDFs, survival functions, quantiles, and the special functions
/// they are built on.
public enum Distributions {
    // MARK: Normal

    /// Φ(x), the standard normal CDF.
    public static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// Φ⁻¹(p), the standard normal quantile, `p` in (0, 1).
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "probability must be in (0, 1)")
        // Φ(x) < p for p near 1 loses precision; use the symmetry Φ⁻¹(p) = −Φ⁻¹(1 − p).
        if p > 0.5 { return -normalQuantile(1 - p) }
        return bisect(low: -40, high: 0) { normalCDF($0) < p }
    }

    /// Two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|).
    public static func normalTwoSidedP(_ z: Double) -> Double {
        erfc(abs(z) / 2.0.squareRoot())
    }

    // MARK: Student t

    /// P(T ≤ t) for Student's t with `degreesOfFreedom` ν > 0.
    public static func studentTCDF(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        let tail = 0.5 * studentTTwoSidedP(t, degreesOfFreedom: nu)
        return t >= 0 ? 1 - tail : tail
    }

    /// Two-sided p-value of Student's t: P(|T| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, 1/2); 0 for an infinite t.
    public static func studentTTwoSidedP(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        guard t.isFinite else { return 0 }
        if t == 0 { return 1 }
        // x = ν/(ν + t²) and 1 − x = t²/(ν + t²), with ln x = −ln(1 + t²/ν) computed directly:
        // for a large ν, ν/2 · ln x would otherwise amplify the rounding of x.
        let t2 = t * t
        return incompleteBeta(x: nu / (nu + t2), y: t2 / (nu + t2), logX: -log1p(t2 / nu), logY: log(t2) - log(nu + t2), nu / 2, 0.5)
    }

    /// The Student-t quantile with `degreesOfFreedom` ν > 0, `p` in (0, 1).
    public static func studentTQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1 && nu > 0, "probability in (0, 1) and positive degrees of freedom")
        if p == 0.5 { return 0 }
        // Search for |t| on the smaller tail, which keeps its precision where the CDF rounds to 1
        // (1 − p is exact for p ≥ 0.5).
        let tail = min(p, 1 - p)
        var high = 1.0
        while 0.5 * studentTTwoSidedP(high, degreesOfFreedom: nu) > tail { high *= 2 }
        let t = bisect(low: 0, high: high) { 0.5 * studentTTwoSidedP($0, degreesOfFreedom: nu) > tail }
        return p < 0.5 ? -t : t
    }

    // MARK: χ²

    /// P(X ≤ x) for χ² with `degreesOfFreedom` k > 0.
    public static func chiSquaredCDF(_ x: Double, degreesOfFreedom k: Double) -> Double {
        x <= 0 ? 0 : regularizedLowerGamma(k / 2, x / 2)
    }

    /// The χ² quantile with `degreesOfFreedom` k > 0, `p` in (0, 1).
    public static func chiSquaredQuantile(_ p: Double, degreesOfFreedom k: Double) -> Double {
        precondition(p > 0 && p < 1 && k > 0, "probability in (0, 1) and positive degrees of freedom")
        var high = max(k, 1)
        if p > 0.5 {
            // Search on the upper tail, which keeps its precision where the CDF rounds to 1.
            let tail = 1 - p
            while regularizedUpperGamma(k / 2, high / 2) > tail { high *= 2 }
            return bisect(low: 0, high: high) { regularizedUpperGamma(k / 2, $0 / 2) > tail }
        }
        while chiSquaredCDF(high, degreesOfFreedom: k) < p { high *= 2 }
        return bisect(low: 0, high: high) { chiSquaredCDF($0, degreesOfFreedom: k) < p }
    }

    // MARK: F

    /// P(X ≤ f) for the F distribution with (d1, d2) degrees of freedom.
    public static func fCDF(_ f: Double, _ d1: Double, _ d2: Double) -> Double {
        f <= 0 ? 0 : regularizedIncompleteBeta(d1 * f / (d1 * f + d2), d1 / 2, d2 / 2)
    }

    /// P(X > f) for the F distribution with (d1, d2) degrees of freedom: the p-value of an F-test.
    public static func fSurvival(_ f: Double, _ d1: Double, _ d2: Double) -> Double {
        f <= 0 ? 1 : regularizedIncompleteBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2)
    }

    // MARK: Special functions

    /// ln Γ(x) for x > 0.
    public static func logGamma(_ x: Double) -> Double { Foundation.lgamma(x) }

    /// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b) for a, b > 0.
    ///
    /// For a large argument the three log-gammas nearly cancel; there the difference comes from
    /// Stirling's series with its correction terms δ(x) = ln Γ(x) − (x − ½) ln x + x − ½ ln 2π, in
    /// a form without cancellation.
    public static func logBeta(_ a: Double, _ b: Double) -> Double {
        let p = min(a, b), q = max(a, b), s = a + b
        if q < 10 { return logGamma(p) + logGamma(q) - logGamma(s) }
        if p < 10 {
            // ln Γ(q) − ln Γ(q + p) = −(q − ½) ln(1 + p/q) − p ln(q + p) + p + δ(q) − δ(q + p).
            return logGamma(p) - (q - 0.5) * log1p(p / q) - p * log(s) + p + stirlingCorrection(q) - stirlingCorrection(s)
        }
        return 0.5 * log(2 * Double.pi) - 0.5 * log(s) - (p - 0.5) * log1p(q / p) - (q - 0.5) * log1p(p / q)
            + stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(s)
    }

    /// δ(x) = ln Γ(x) − (x − ½) ln x + x − ½ ln 2π for x ≥ 10, by its asymptotic series (error below x⁻⁹).
    private static func stirlingCorrection(_ x: Double) -> Double {
        let r = 1 / x, r2 = r * r
        return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 / 1680)))
    }

    /// I_x(a, b), the regularized incomplete beta function, for a, b > 0 and x in [0, 1].
    public static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        return incompleteBeta(x: x, y: 1 - x, logX: log(x), logY: log1p(-x), a, b)
    }

    /// I_x(a, b) with y = 1 − x and both logarithms given, so that callers who know them more
    /// precisely than from x alone can pass them.
    private static func incompleteBeta(x: Double, y: Double, logX: Double, logY: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if y <= 0 { return 1 }
        // The continued fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry
        // I_x(a, b) = 1 − I_{1−x}(b, a) otherwise.
        if x > (a + 1) / (a + b + 2) { return 1 - incompleteBeta(x: y, y: x, logX: logY, logY: logX, b, a) }
        let logFront = a * logX + b * logY - logBeta(a, b) - log(a)
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

    /// P(a, x), the regularized lower incomplete gamma function, for a > 0 and x ≥ 0.
    public static func regularizedLowerGamma(_ a: Double, _ x: Double) -> Double {
        if x <= 0 { return 0 }
        if x < a + 1 { return min(1, lowerGammaSeries(a, x)) }
        return max(0, 1 - upperGammaFraction(a, x))
    }

    /// Q(a, x) = 1 − P(a, x), the regularized upper incomplete gamma function, for a > 0 and x ≥ 0.
    public static func regularizedUpperGamma(_ a: Double, _ x: Double) -> Double {
        if x <= 0 { return 1 }
        if x < a + 1 { return max(0, 1 - lowerGammaSeries(a, x)) }
        return min(1, upperGammaFraction(a, x))
    }

    /// P(a, x) by its series e^{−x} x^a / Γ(a + 1) · Σ xⁿ / ((a + 1)…(a + n)); converges fast for x < a + 1.
    private static func lowerGammaSeries(_ a: Double, _ x: Double) -> Double {
        let logFront = a * log(x) - x - logGamma(a)
        var term = 1.0 / a, sum = term, ap = a
        for _ in 0..<10_000 {
            ap += 1
            term *= x / ap
            sum += term
            if abs(term) < abs(sum) * 1e-16 { break }
        }
        return exp(logFront) * sum
    }

    /// Q(a, x) by its continued fraction 1/(x + 1 − a − 1(1 − a)/(x + 3 − a − 2(2 − a)/(…))); for x ≥ a + 1.
    private static func upperGammaFraction(_ a: Double, _ x: Double) -> Double {
        let logFront = a * log(x) - x - logGamma(a)
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
        return exp(logFront) * h
    }

    /// The x in [low, high] where `below(x)` turns false (below must be monotone: true, then false).
    static func bisect(low: Double, high: Double, below: (Double) -> Bool) -> Double {
        var lo = low, hi = high
        for _ in 0..<2000 {
            let mid = 0.5 * (lo + hi)
            if mid == lo || mid == hi { break }
            if below(mid) { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }
}
