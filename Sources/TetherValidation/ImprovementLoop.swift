import Foundation
import TetherNumerics
import TetherCore
import TetherPolicy
import Yams

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

    /// Reads a failure-scenarios file written by `scenariosYAML` (or by hand: `seed` and `trial`
    /// are required per entry, the rest is informative).
    public static func loadScenarios(path: String) throws -> [Scenario] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TetherError("cannot read the scenarios file: \(error.localizedDescription)", at: path,
                              hint: "pass the failure-scenarios.yaml that `tether improve` wrote")
        }
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch {
            throw TetherError("the scenarios file is not valid YAML: \(error)", at: path)
        }
        guard let document = root as? [String: Any], let list = document["scenarios"] as? [Any] else {
            throw TetherError("the scenarios file has no 'scenarios:' list", at: path,
                              hint: "expected the format of failure-scenarios.yaml (docs/validation.md)")
        }
        func number(_ v: Any?) -> Double? {
            switch v {
            case let d as Double: d
            case let i as Int: Double(i)
            case let s as String: Double(s)
            default: nil
            }
        }
        return try list.enumerated().map { i, item in
            guard let entry = item as? [String: Any] else { throw TetherError("scenario \(i + 1) is not a mapping", at: path) }
            guard let seed = number(entry["seed"]), seed >= 0, seed == seed.rounded(), let trial = entry["trial"] as? Int, trial >= 0 else {
                throw TetherError("scenario \(i + 1) needs a non-negative integer 'seed' and 'trial'", at: path)
            }
            var parameters: [String: Double] = [:]
            for (k, v) in (entry["parameters"] as? [String: Any]) ?? [:] { if let x = number(v) { parameters[k] = x } }
            return Scenario(seed: UInt64(seed), trial: trial, failureMode: entry["failure"] as? String ?? "unknown",
                            distance: number(entry["distance"]) ?? 0, parameters: parameters)
        }
    }

    /// The random streams that reproduce the scenarios' episodes, for training (ARS replays them).
    public static func episodeStreams(_ scenarios: [Scenario]) -> [EpisodeStream] {
        scenarios.map { EpisodeStream(seed: $0.seed, stream: UInt64($0.trial)) }
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

        public init(before: Side, after: Side, change: Double, fisherP: Double, scenariosFixed: Int, scenariosTotal: Int) {
            self.before = before; self.after = after; self.change = change; self.fisherP = fisherP
            self.scenariosFixed = scenariosFixed; self.scenariosTotal = scenariosTotal
        }

        public struct Side: Sendable, Codable, Equatable {
            public var policy: String
            public var trials: Int
            public var successes: Int
            public var rate: Double
            public var wilson: ConfidenceInterval
            public var decision: GateDecision

            public init(policy: String, trials: Int, successes: Int, rate: Double, wilson: ConfidenceInterval, decision: GateDecision) {
                self.policy = policy; self.trials = trials; self.successes = successes; self.rate = rate; self.wilson = wilson; self.decision = decision
            }
        }
    }

    /// Compares two gate results over the same trials (same seed and trial count).
    public static func compare(before: GateResult, after: GateResult) throws -> Comparison {
        guard before.identity.seed == after.identity.seed, before.identity.trials == after.identity.trials else {
            throw TetherError("the two validations did not face the same trials (seed \(before.identity.seed)/\(after.identity.seed), trials "
                + "\(before.identity.trials)/\(after.identity.trials))",
                              hint: "validate the retrained policy with the first run's --seed and --trials")
        }
        func side(_ r: GateResult) -> Comparison.Side {
            .init(policy: r.identity.policy, trials: r.summary.trials, successes: r.summary.successes, rate: r.summary.successRate,
                  wilson: r.summary.wilson, decision: r.summary.decision)
        }
        let b = before.summary, a = after.summary
        let p = HypothesisTests.fisherExact(b.successes, b.trials - b.successes, a.successes, a.trials - a.successes)
        let failed = Set(before.trialRecords.filter { !$0.success }.map(\.index))
        let fixed = after.trialRecords.filter { $0.success && failed.contains($0.index) }.count
        return Comparison(before: side(before), after: side(after), change: 100 * (a.successRate - b.successRate), fisherP: p,
                          scenariosFixed: fixed, scenariosTotal: failed.count)
    }
}
