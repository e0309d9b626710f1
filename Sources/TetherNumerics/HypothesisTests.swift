// Tests that compare two small samples: of successes (two-proportion z, Fisher's exact) and of
// continuous values (Welch's t, Mann–Whitney U).
//
// References: R. A. Fisher, "Statistical Methods for Research Workers" (1925), §21.02; B. L. Welch,
// "The generalization of Student's problem when several different population variances are
// involved", Biometrika 34 (1947); H. B. Mann and D. R. Whitney, "On a test of whether one of two
// random variables is stochastically larger than the other", Ann. Math. Stat. 18 (1947).
import Foundation

/// Two-sample hypothesis tests; every p-value is two-sided.
public enum HypothesisTests {
    /// Two-proportion z test with the pooled proportion: (z, two-sided p). p is 1 when both rates
    /// are 0 or both 1 (no variance), and the result nil when a set is empty.
    public static func twoProportion(successesA: Int, trialsA: Int, successesB: Int, trialsB: Int) -> (z: Double, p: Double)? {
        guard trialsA > 0, trialsB > 0 else { return nil }
        let nA = Double(trialsA), nB = Double(trialsB)
        let pA = Double(successesA) / nA, pB = Double(successesB) / nB
        let pooled = Double(successesA + successesB) / (nA + nB)
        let se = (pooled * (1 - pooled) * (1 / nA + 1 / nB)).squareRoot()
        guard se > 0 else { return (0, 1) }
        let z = (pA - pB) / se
        return (z, Distributions.normalTwoSidedP(z))
    }

    /// Fisher's exact test for the 2×2 table [[a, b], [c, d]] (rows: sets; columns: successes,
    /// failures): the probability, given the margins, of every table at most as likely as the one
    /// observed (with a relative tolerance of 1e-7 for ties). 1 for an empty table.
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

    /// Welch's unequal-variance t test of mean(a) − mean(b): (t, Welch–Satterthwaite degrees of
    /// freedom, two-sided p); nil with fewer than 2 values in a set or when both have zero variance.
    public static func welch(_ a: [Double], _ b: [Double]) -> (t: Double, df: Double, p: Double)? {
        guard a.count >= 2, b.count >= 2 else { return nil }
        let va = SampleStatistics.variance(a) / Double(a.count), vb = SampleStatistics.variance(b) / Double(b.count)
        guard va + vb > 0 else { return nil }
        let t = (SampleStatistics.mean(a) - SampleStatistics.mean(b)) / (va + vb).squareRoot()
        let df = (va + vb) * (va + vb) / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
        return (t, df, Distributions.studentTTwoSidedP(t, degreesOfFreedom: df))
    }

    /// Mann–Whitney U test, normal approximation with tie and continuity corrections: (U of `a`,
    /// two-sided p); nil when a set is empty or every value is tied.
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
        return (u, Distributions.normalTwoSidedP(z))
    }

    /// ln C(n, k).
    static func logChoose(_ n: Int, _ k: Int) -> Double {
        Distributions.logGamma(Double(n + 1)) - (Distributions.logGamma(Double(k + 1)) + Distributions.logGamma(Double(n - k + 1)))
    }
}
