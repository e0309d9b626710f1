import Foundation
import TetherCore
import TetherPolicy
import TetherSim

/// Gap attribution on the virtual robot: which group of the truth's imperfections, set back to
/// nominal, gives back the success the full truth lost.
///
/// The same trials (same seeds) are run once per group with that group nominal; a group whose
/// reset raises the success rate (compared with the full truth by Fisher's exact test) explains
/// the failures. Groups, not single parameters: with 10 trials per run, a finer split would ask
/// for more runs than the statistics can tell apart. On a real robot the same idea needs the
/// calibrated parameters in place of the truth (not implemented).
public struct GapAttribution: Sendable, Codable {
    /// The groups of the emulator truth, in the order they are tried.
    public static let groups = ["physics", "actuators", "sensors", "link"]

    /// One run with a group set back to nominal.
    public struct Entry: Sendable, Codable {
        /// The group set to nominal ("none": the full truth).
        public var nominal: String
        public var trials: Int
        public var successes: Int
        /// Wilson score 95 % interval, [lower, upper].
        public var successInterval: [Double]
        public var meanDistance: Double
        public var failureModes: [String: Int]
        /// Fisher's exact test (two-sided) against the full truth.
        public var fisherP: Double
        /// Success rate change against the full truth, percentage points.
        public var changePercentagePoints: Double
    }

    public var format: Int
    public var truth: String
    public var entries: [Entry]
    /// The groups whose reset raises the success rate significantly (Fisher p < 0.05).
    public var explaining: [String]

    /// `truth` with `groups` set to their nominal values.
    public static func settingNominal(_ groups: Set<String>, in truth: Truth) -> Truth {
        var t = truth
        if groups.contains("physics") { t.physics = .init() }
        if groups.contains("actuators") { t.actuators = .init() }
        if groups.contains("sensors") { t.sensors = .init() }
        if groups.contains("link") { t.link = .init() }
        return t
    }

    /// Runs the attribution: `baseline` are the full truth's trials (run with `plan` if nil).
    public static func run(plan: TrialPlan, robot: RobotModel, policyName: String, baseline: [TrialRecord]? = nil,
                           makePolicy: () throws -> any PolicyRuntime,
                           progress: (String, [TrialRecord]) -> Void = { _, _ in }) throws -> GapAttribution {
        guard plan.backend == "emulator" else {
            throw TetherError("gap attribution needs the emulator backend (its truth is what is set back to nominal)", at: "--backend")
        }
        var quiet = plan
        quiet.recordingFolder = nil
        quiet.nominalGroups = []
        let full = try baseline ?? quiet.run(robot: robot, policyName: policyName, makePolicy: makePolicy)
        var runs: [(String, [TrialRecord])] = [("none", full)]
        for group in groups {
            var p = quiet
            p.nominalGroups = [group]
            let records = try p.run(robot: robot, policyName: policyName, makePolicy: makePolicy)
            progress(group, records)
            runs.append((group, records))
        }
        let base = full.filter(\.success).count
        let entries = runs.map { name, records in
            let k = records.filter(\.success).count
            var modes: [String: Int] = [:]
            for r in records { modes[r.failureMode, default: 0] += 1 }
            return Entry(nominal: name, trials: records.count, successes: k,
                         successInterval: GapStatistics.wilson(successes: k, trials: records.count),
                         meanDistance: records.map(\.distance).reduce(0, +) / Double(max(1, records.count)), failureModes: modes,
                         fisherP: GapStatistics.fisherExact(k, records.count - k, base, full.count - base),
                         changePercentagePoints: 100 * (Double(k) / Double(max(1, records.count)) - Double(base) / Double(max(1, full.count))))
        }
        let explaining = entries.dropFirst().filter { $0.changePercentagePoints > 0 && $0.fisherP < 0.05 }.map(\.nominal)
        return GapAttribution(format: TetherValidationModule.formatVersion, truth: plan.truth, entries: entries, explaining: explaining)
    }

    /// JSON (sorted keys).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Reads an attribution written by `tether trials --attribute`.
    public static func read(path: String) throws -> GapAttribution {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TetherError("no gap attribution at \(path)", at: path, hint: "write it with `tether trials --backend emulator --attribute --out DIR` (DIR/attribution.json)")
        }
        do { return try JSONDecoder().decode(GapAttribution.self, from: data) } catch {
            throw TetherError("not a gap attribution: \(TrialRecords.describe(error))", at: path, hint: "pass the attribution.json that `tether trials --attribute` wrote")
        }
    }
}
