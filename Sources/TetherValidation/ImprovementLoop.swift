import Foundation
import TetherCore

/// The improvement loop's bookkeeping: failure cases out of a validation run, and the before /
/// after comparison of a retrained policy.
///
/// A failure scenario is one failed gate trial: its seed and trial index (which reproduce the
/// exact episode: `tether validate` draws everything of trial i from the stream (seed, i)), its
/// failure mode and the parameter values it drew. `tether improve` writes them, retrains
/// (warm-started) under the randomization that produced them, and validates again with the same
/// seed, so before and after face the same episodes.
public enum ImprovementLoop {
    /// One failed trial, reproducible from (seed, trial).
    public struct Scenario: Sendable, Codable, Equatable {
        public var seed: UInt64
        public var trial: Int
        public var failureMode: String
        public var distance: Double
        public var parameters: [String: Double]
    }

    /// The failure scenarios of a gate result, worst (shortest distance) first.
    public static func scenarios(from result: GateResult) -> [Scenario] {
        result.trialRecords.filter { !$0.success }
            .sorted { $0.distance < $1.distance }
            .map { Scenario(seed: result.identity.seed, trial: $0.index, failureMode: $0.failureMode, distance: $0.distance, parameters: $0.parameters) }
    }

    /// The scenarios as YAML (one entry per failure, parameters sorted by name).
    public static func scenariosYAML(_ scenarios: [Scenario], policy: String, randomization: String?) -> String {
        var lines = ["# Failure scenarios from `tether validate` of \(policy)" + (randomization.map { " under \($0)" } ?? "") + ".",
                     "# Each reruns exactly with the same seed and trial index (the gate's per-trial random stream).",
                     "tether_scenarios: 1", "scenarios:"]
        if scenarios.isEmpty { lines[lines.count - 1] = "scenarios: []" }
        for s in scenarios {
            lines.append("  - seed: \(s.seed)")
            lines.append("    trial: \(s.trial)")
            lines.append("    failure: \(s.failureMode)")
            lines.append(String(format: "    distance: %.3f", s.distance))
            if s.parameters.isEmpty { lines.append("    parameters: {}") } else {
                lines.append("    parameters:")
                for (k, v) in s.parameters.sorted(by: { $0.key < $1.key }) { lines.append("      \"\(k)\": \(String(format: "%.6g", v))") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Before / after of one improvement iteration.
    public struct Comparison: Sendable, Codable, Equatable {
        public var before: Side
        public var after: Side
        /// Percentage points, after − before.
        public var change: Double
        /// Fisher's exact test on the two success counts (two-sided).
        public var fisherP: Double
        /// Failure scenarios of the first run that the new policy now passes.
        public var scenariosFixed: Int
        public var scenariosTotal: Int

        public struct Side: Sendable, Codable, Equatable {
            public var policy: String
            public var trials: Int
            public var successes: Int
            public var rate: Double
            public var wilson: [Double]
            public var decision: String
        }
    }

    /// Compares two gate results over the same trials (same seed and trial count).
    public static func compare(before: GateResult, after: GateResult) throws -> Comparison {
        guard before.identity.seed == after.identity.seed, before.identity.trials == after.identity.trials else {
            throw TetherError("the two validations did not face the same trials (seed \(before.identity.seed)/\(after.identity.seed), trials \(before.identity.trials)/\(after.identity.trials))",
                              hint: "validate the retrained policy with the first run's --seed and --trials")
        }
        func side(_ r: GateResult) -> Comparison.Side {
            .init(policy: r.identity.policy, trials: r.summary.trials, successes: r.summary.successes, rate: r.summary.successRate,
                  wilson: r.summary.wilson, decision: r.summary.decision.rawValue)
        }
        let b = before.summary, a = after.summary
        let p = GapStatistics.fisherExact(b.successes, b.trials - b.successes, a.successes, a.trials - a.successes)
        let failed = Set(before.trialRecords.filter { !$0.success }.map(\.index))
        let fixed = after.trialRecords.filter { $0.success && failed.contains($0.index) }.count
        return Comparison(before: side(before), after: side(after), change: 100 * (a.successRate - b.successRate), fisherP: p,
                          scenariosFixed: fixed, scenariosTotal: failed.count)
    }
}
