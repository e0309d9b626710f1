import Foundation
import TetherPolicy

/// The statistics of the gap report: intervals and tests for small samples of trials.
///
/// Success rates: Wilson score interval, two-proportion z test (pooled) and Fisher's exact test
/// (two-sided: the probability of all tables with the same margins at most as likely as the one
/// observed). Continuous metrics: mean ± Student t interval, Welch's unequal-variance t test with
/// the Welch–Satterthwaite degrees of freedom. The t distribution comes from the regularized
/// incomplete beta function, evaluated by its continued fraction (modified Lentz method).
public enum GapStatistics {
    /// Wilson score 95 % interval of a success rate, [lower, upper].
    public static func wilson(successes: Int, trials: Int) -> [Double] {
        PolicyTrials.wilson(successes: successes, trials: trials)
    }

    /// Newcombe's hybrid score interval (his method 10) of the difference of two independent
    /// success rates, rate A − rate B, at 95 %, [lower, upper], from the two Wilson intervals
    /// (l, u): lower = d − √((p_A − l_A)² + (u_B − p_B)²), upper = d + √((u_A − p_A)² + (p_B − l_B)²).
    /// Reference: R. G. Newcombe, "Interval estimation for the difference between independent
    /// proportions: comparison of eleven methods", Statistics in Medicine 17 (1998) 873–890;
    /// his example 56/70 − 48/80 gives 0.2000 [0.0524, 0.3339]. [-1, 1] when a set is empty.
    public static func newcombeDifference(successesA: Int, trialsA: Int, successesB: Int, trialsB: Int) -> [Double] {
        guard trialsA > 0, trialsB > 0 else { return [-1, 1] }
        let a = Double(successesA) / Double(trialsA), b = Double(successesB) / Double(trialsB)
        let wa = wilson(successes: successesA, trials: trialsA), wb = wilson(successes: successesB, trials: trialsB)
        let low = (a - b) - ((a - wa[0]) * (a - wa[0]) + (wb[1] - b) * (wb[1] - b)).squareRoot()
        let high = (a - b) + ((wa[1] - a) * (wa[1] - a) + (b - wb[0]) * (b - wb[0])).squareRoot()
        return [max(-1, low), min(1, high)]
    }

    /// Two-proportion z test with the pooled proportion: (z, two-sided p). p is 1 when both rates
    /// are 0 or both 1 (no variance), and nil when a set is empty.
    public static func twoProportion(successesA: Int, trialsA: Int, successesB: Int, trialsB: Int) -> (z: Double, p: Double)? {
        guard trialsA > 0, trialsB > 0 else { return nil }
        let nA = Double(trialsA), nB = Double(trialsB)
        let pA = Double(successesA) / nA, pB = Double(successesB) / nB
        let pooled = Double(successesA + successesB) / (nA + nB)
        let se = (pooled * (1 - pooled) * (1 / nA + 1 / nB)).squareRoot()
        guard se > 0 else { return (0, 1) }
        let z = (pA - pB) / se
        return (z, erfc(abs(z) / 2.0.squareRoot()))
    }

    /// Fisher's exact test, two-sided, for the 2×2 table [[a, b], [c, d]] (rows: sets; columns:
    /// successes, failures).
    public static func fisherExact(_ a: Int, _ b: Int, _ c: Int, _ d: Int) -> Double {
        let row1 = a + b, col1 = a + c, n = a + b + c + d
        guard n > 0 else { return 1 }
        // log P(X = x) for the hypergeometric: x successes in row 1 given all margins.
        func logP(_ x: Int) -> Double {
            logChoose(col1, x) + logChoose(n - col1, row1 - x) - logChoose(n, row1)
        }
        let observed = logP(a)
        let lo = max(0, row1 - (n - col1)), hi = min(row1, col1)
        var p = 0.0
        for x in lo...hi {
            let lp = logP(x)
            if lp <= observed + 1e-7 { p += exp(lp) }
        }
        return min(1, p)
    }

    /// Welch's t test: (t, degrees of freedom, two-sided p); nil with fewer than 2 values in a set
    /// or when both sets have zero variance.
    public static func welch(_ a: [Double], _ b: [Double]) -> (t: Double, df: Double, p: Double)? {
        guard a.count >= 2, b.count >= 2 else { return nil }
        let va = variance(a) / Double(a.count), vb = variance(b) / Double(b.count)
        guard va + vb > 0 else { return nil }
        let t = (mean(a) - mean(b)) / (va + vb).squareRoot()
        let df = (va + vb) * (va + vb) / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
        return (t, df, studentTwoSidedP(t: t, df: df))
    }

    /// Mann–Whitney U test, two-sided, normal approximation with tie and continuity corrections:
    /// (U of `a`, p); nil when a set is empty or every value is tied.
    public static func mannWhitney(_ a: [Double], _ b: [Double]) -> (u: Double, p: Double)? {
        guard !a.isEmpty, !b.isEmpty else { return nil }
        // Mid-ranks of the pooled values; ties share the mean of their ranks.
        let pooled = (a.map { ($0, true) } + b.map { ($0, false) }).sorted { $0.0 < $1.0 }
        let n = Double(pooled.count), nA = Double(a.count), nB = Double(b.count)
        var rankSumA = 0.0, tieTerm = 0.0
        var i = 0
        while i < pooled.count {
            var j = i
            while j + 1 < pooled.count && pooled[j + 1].0 == pooled[i].0 { j += 1 }
            let rank = Double(i + j + 2) / 2
            let tied = Double(j - i + 1)
            tieTerm += tied * tied * tied - tied
            for k in i...j where pooled[k].1 { rankSumA += rank }
            i = j + 1
        }
        let u = rankSumA - nA * (nA + 1) / 2
        let meanU = nA * nB / 2
        let varianceU = nA * nB / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard varianceU > 0 else { return nil }
        let z = max(0, abs(u - meanU) - 0.5) / varianceU.squareRoot()
        return (u, erfc(z / 2.0.squareRoot()))
    }

    /// Mean and its 95 % Student t interval [lower, upper] (nil interval for fewer than 2 values).
    public static func meanInterval(_ x: [Double]) -> (mean: Double, interval: [Double]?) {
        guard !x.isEmpty else { return (.nan, nil) }
        let m = mean(x)
        guard x.count >= 2 else { return (m, nil) }
        let half = studentQuantile975(df: Double(x.count - 1)) * (variance(x) / Double(x.count)).squareRoot()
        return (m, [m - half, m + half])
    }

    /// Arithmetic mean.
    public static func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }

    /// Sample variance (n − 1 in the denominator).
    public static func variance(_ x: [Double]) -> Double {
        let m = mean(x)
        return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
    }

    /// Two-sided p-value of Student's t with `df` degrees of freedom: P(|T| ≥ |t|) = I_{df/(df+t²)}(df/2, 1/2).
    public static func studentTwoSidedP(t: Double, df: Double) -> Double {
        guard t.isFinite else { return 0 }
        return regularizedIncompleteBeta(x: df / (df + t * t), a: df / 2, b: 0.5)
    }

    /// The 97.5 % quantile of Student's t (the half-width factor of a 95 % interval), by bisection.
    public static func studentQuantile975(df: Double) -> Double {
        var lo = 0.0, hi = 1000.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if studentTwoSidedP(t: mid, df: df) > 0.05 { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// The regularized incomplete beta function I_x(a, b).
    public static func regularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        // The continued fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry
        // I_x(a, b) = 1 − I_{1−x}(b, a) on the other side.
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(x: 1 - x, a: b, b: a) }
        let logBeta: Double = logGamma(a) + logGamma(b) - logGamma(a + b)
        let logPowers: Double = a * Foundation.log(x) + b * Foundation.log(1 - x)
        let logFront = logPowers - logBeta
        let tiny = 1e-300
        var f = 1.0, c = 1.0, d = 0.0
        for i in 1...400 {
            let numerator: Double
            if i % 2 == 1 {
                let m = Double((i - 1) / 2)
                numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            } else {
                let m = Double(i / 2)
                numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            }
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = c * d
            f *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(logFront) / a / f
    }

    static func logChoose(_ n: Int, _ k: Int) -> Double {
        let top: Double = logGamma(Double(n + 1))
        let bottom: Double = logGamma(Double(k + 1)) + logGamma(Double(n - k + 1))
        return top - bottom
    }

    static func logGamma(_ x: Double) -> Double { Foundation.lgamma(x) }
}
