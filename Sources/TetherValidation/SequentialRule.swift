// The go / no-go decision of the validation gate and its group-sequential rule. The intervals
// (Clopper–Pearson, Wilson) are TetherNumerics' ConfidenceInterval.
import Foundation
import TetherCore
import TetherNumerics

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
        let bounds = ConfidenceInterval.clopperPearson(successes: successes, trials: done, level: lookConfidence)
        if bounds.lower >= threshold { return .go }
        if bounds.upper < threshold { return .noGo }
        if done >= trials { return .noGo }
        let best = ConfidenceInterval.clopperPearson(successes: successes + trials - done, trials: trials, level: lookConfidence)
        if best.lower < threshold { return .noGo }
        return nil
    }
}
