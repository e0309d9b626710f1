import Foundation
import TetherPolicy
import TetherCore

/// Binomial confidence intervals and the go / no-go rule of the validation gate.
///
/// References: E. B. Wilson, "Probable inference, the law of succession, and statistical
/// inference", JASA 1927 (score interval); C. J. Clopper and E. S. Pearson, "The use of confidence
/// or fiducial limits illustrated in the case of the binomial", Biometrika 1934 (exact interval).
public enum GateStatistics {
    /// Two-sided Wilson score interval `[lower, upper]` of a success rate at `confidence`.
    public static func wilson(successes: Int, trials: Int, confidence: Double = 0.95) -> [Double] {
        PolicyTrials.wilson(successes: successes, trials: trials, z: normalQuantile(1 - (1 - confidence) / 2))
    }

    /// Two-sided Clopper–Pearson ("exact") interval `[lower, upper]` at `confidence`: each bound
    /// errs with probability at most (1 − confidence) / 2 for every true rate.
    ///
    /// The lower bound is the rate at which P(X ≥ successes) = α/2, the upper bound the rate at which
    /// P(X ≤ successes) = α/2, found by bisection on the binomial tails (60 halvings: below 1e-15).
    public static func clopperPearson(successes s: Int, trials n: Int, confidence: Double = 0.95) -> [Double] {
        guard n > 0 else { return [0, 1] }
        precondition(s >= 0 && s <= n, "successes must lie in 0...trials")
        let tail = (1 - confidence) / 2
        let logFactorial = logFactorials(n)
        func pmfLog(_ k: Int, _ p: Double) -> Double {
            logFactorial[n] - logFactorial[k] - logFactorial[n - k] + Double(k) * log(p) + Double(n - k) * log1p(-p)
        }
        // P(X >= s) rises with p; P(X <= s) falls with p.
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
        return [lower, upper]
    }

    /// log(k!) for k in 0...n.
    static func logFactorials(_ n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n + 1)
        if n >= 1 { for k in 1...n { out[k] = out[k - 1] + log(Double(k)) } }
        return out
    }

    /// Quantile of the standard normal distribution, by bisection on Φ(x) = erfc(−x/√2)/2
    /// (to double precision; it is called once per interval, so speed does not matter).
    public static func normalQuantile(_ q: Double) -> Double {
        precondition(q > 0 && q < 1, "a normal quantile needs 0 < q < 1")
        var lo = -40.0, hi = 40.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if 0.5 * erfc(-mid / 2.0.squareRoot()) < q { lo = mid } else { hi = mid }
            if hi - lo < 1e-15 { break }
        }
        return (lo + hi) / 2
    }
}

/// The go / no-go decision of the gate.
public enum GateDecision: String, Sendable, Codable, Equatable, CustomStringConvertible {
    /// The lower bound of the success rate's interval reaches the threshold.
    case go = "GO"
    /// It does not (or the upper bound is already below the threshold).
    case noGo = "NO-GO"
    /// A shard: a slice of the trials decides nothing; merge the shards.
    case partial = "PARTIAL"

    /// As printed and written: "GO", "NO-GO", "PARTIAL".
    public var description: String { rawValue }
}

/// A group-sequential version of the gate: look at the trials every `batch` trials and stop as
/// soon as the decision is certain.
///
/// With K = ⌈N / batch⌉ planned looks, every look uses the Clopper–Pearson interval at level
/// 1 − α/K (Bonferroni over the looks, α = 1 − confidence). At a look the gate stops with
/// - GO when the lower bound is at least the threshold,
/// - NO-GO when the upper bound is below the threshold,
/// - NO-GO when even all remaining trials succeeding could not lift the final lower bound to the
///   threshold (curtailment: no error added, the final answer is already fixed),
/// and at the last look it decides on the lower bound. The probability of a GO when the true rate
/// is below the threshold is at most K · (α/K)/2 = α/2, the same guarantee as the fixed-size gate
/// on the one-sided lower bound; the price is a slightly wider interval at each look.
public struct SequentialRule: Sendable, Codable, Equatable {
    /// Trials between looks.
    public var batch: Int
    /// Planned trials N.
    public var trials: Int
    /// Overall confidence (the fixed-size gate's level).
    public var confidence: Double

    /// Creates a rule; `batch` and `trials` must be positive.
    public init(batch: Int, trials: Int, confidence: Double = 0.95) throws {
        guard batch > 0 else { throw TetherError("the sequential batch must be at least 1 trial, got \(batch)", at: "--batch") }
        guard trials > 0 else { throw TetherError("the gate needs at least 1 trial, got \(trials)", at: "--trials") }
        self.batch = batch
        self.trials = trials
        self.confidence = confidence
    }

    /// Number of planned looks K.
    public var looks: Int { (trials + batch - 1) / batch }
    /// The level of each look's interval, 1 − α/K.
    public var lookConfidence: Double { 1 - (1 - confidence) / Double(looks) }

    /// The decision after `successes` of `done` trials, or nil to continue.
    public func decide(successes: Int, done: Int, threshold: Double) -> GateDecision? {
        let bounds = GateStatistics.clopperPearson(successes: successes, trials: done, confidence: lookConfidence)
        if bounds[0] >= threshold { return .go }
        if bounds[1] < threshold { return .noGo }
        if done >= trials { return .noGo }
        let best = GateStatistics.clopperPearson(successes: successes + trials - done, trials: trials, confidence: lookConfidence)
        if best[0] < threshold { return .noGo }
        return nil
    }
}
