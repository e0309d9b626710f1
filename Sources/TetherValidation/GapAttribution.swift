import Foundation
import TetherCore
import TetherPolicy
import TetherSim

/// Gap attribution: which group of differences between the simulation and the robot, set back to
/// nominal, gives back the success the robot lost.
///
/// Two kinds, the same method:
/// - **calibration** (`tether trials --backend sim --calibration C --attribute`): the trials run
///   in the calibrated simulation (`CalibratedSimulation`: the patched model, the measured driver
///   lag and dead time, the measured sensor noise), then again with one group of calibrated
///   parameters set back to nominal, and once with all of them nominal. A group whose reset raises
///   the success rate explains the real failures, in so far as the calibrated simulation
///   reproduces the real success rate (the gap report tests that against the real trials). This
///   is what works on a real robot.
/// - **truth** (`tether trials --backend emulator --attribute`): on the virtual robot, the same
///   with the hidden truth's groups (physics, actuators, sensors, link): the answer the
///   calibration-based attribution should find.
///
/// The same trials (same seeds) are run once per group; each run is compared with the full
/// (calibrated or true) set by Fisher's exact test. Groups, not single parameters: with tens of
/// trials per run, a finer split would ask for more runs than the statistics can tell apart.
public struct GapAttribution: Sendable, Codable {
    /// The groups of the emulator truth, in the order they are tried.
    public static let groups = ["physics", "actuators", "sensors", "link"]
    /// The entry with every group nominal (calibration kind): the nominal simulation.
    public static let allNominal = "all"

    /// One run with a group set back to nominal.
    public struct Entry: Sendable, Codable {
        /// The group set to nominal ("none": the full truth or the full calibration; "all": every group).
        public var nominal: String
        public var trials: Int
        public var successes: Int
        /// Wilson score 95 % interval, [lower, upper].
        public var successInterval: [Double]
        public var meanDistance: Double
        public var failureModes: [String: Int]
        /// Fisher's exact test (two-sided) against the full truth / calibration.
        public var fisherP: Double
        /// Success rate change against the full truth / calibration, percentage points.
        public var changePercentagePoints: Double
    }

    /// How the calibrated simulation's success compares with the real trials' (filled in by the
    /// gap report, which has the real trials): a calibrated simulation that reproduces the real
    /// rate makes its attribution an explanation of the real failures.
    public struct VersusReal: Sendable, Codable {
        public var realTrials: Int
        public var realSuccesses: Int
        /// Calibrated minus real success rate, percentage points.
        public var differencePercentagePoints: Double
        /// Newcombe's 95 % interval of that difference (from the two Wilson intervals), points.
        public var differenceInterval: [Double]?
        /// Fisher's exact test, two-sided.
        public var fisherP: Double
        /// The smallest p these trial counts can give (every trial of one set succeeding, every
        /// one of the other failing): at or above 0.05 no difference could ever show.
        public var smallestPossibleP: Double?
        /// "consistent" (p ≥ 0.05 with counts that could have shown a difference), "differs"
        /// (p < 0.05) or "too few trials" (no difference could have shown).
        public var verdict: String?
        /// Whether the calibrated simulation's rate is consistent with the real one.
        public var reproduces: Bool
    }

    public var format: Int
    /// "truth" or "calibration" (nil in files written before calibration attribution: truth).
    public var kind: String?
    /// The emulator truth (truth kind), or the calibration file (calibration kind).
    public var truth: String
    public var entries: [Entry]
    /// The groups whose reset raises the success rate significantly (Fisher p < 0.05).
    public var explaining: [String]
    /// Calibration kind: what each group holds (names, nominal and calibrated values).
    public var calibratedGroups: [CalibratedSimulation.Group]?
    /// Calibration kind: calibrated parameters the trials do not simulate, with the reason.
    public var skipped: [String]?
    /// Calibration kind: the calibrated simulation against the real trials.
    public var versusReal: VersusReal?

    /// Whether this is an attribution over calibrated parameters.
    public var isCalibration: Bool { kind == "calibration" }

    /// `truth` with `groups` set to their nominal values.
    public static func settingNominal(_ groups: Set<String>, in truth: Truth) -> Truth {
        var t = truth
        if groups.contains("physics") { t.physics = .init() }
        if groups.contains("actuators") { t.actuators = .init() }
        if groups.contains("sensors") { t.sensors = .init() }
        if groups.contains("link") { t.link = .init() }
        return t
    }

    /// Runs the attribution: `baseline` are the full truth's (or full calibration's) trials (run
    /// with `plan` if nil). The plan is the emulator backend (truth groups) or the sim backend
    /// with `calibrated` set (calibrated groups, then all of them).
    public static func run(plan: TrialPlan, robot: RobotModel, policyName: String, baseline: [TrialRecord]? = nil,
                           makePolicy: () throws -> any PolicyRuntime,
                           progress: (String, [TrialRecord]) -> Void = { _, _ in }) throws -> GapAttribution {
        let calibrated = plan.backend == "sim" ? plan.calibrated : nil
        guard plan.backend == "emulator" || calibrated != nil else {
            throw TetherError("gap attribution needs the emulator backend (its truth is set back to nominal) or the sim backend with a calibration (its calibrated parameters are)",
                              at: "--backend", hint: "add --calibration CALIBRATION.yaml to the sim backend")
        }
        var quiet = plan
        quiet.recordingFolder = nil
        quiet.nominalGroups = []
        let full = try baseline ?? quiet.run(robot: robot, policyName: policyName, makePolicy: makePolicy)
        var runs: [(String, [TrialRecord])] = [("none", full)]
        var sets: [(String, Set<String>)] = []
        if let calibrated {
            let names = calibrated.groups.map(\.name)
            sets = names.map { ($0, [$0]) }
            if names.count > 1 { sets.append((allNominal, Set(names))) }
        } else {
            sets = groups.map { ($0, [$0]) }
        }
        for (name, nominal) in sets {
            var p = quiet
            p.nominalGroups = nominal
            let records = try p.run(robot: robot, policyName: policyName, makePolicy: makePolicy)
            progress(name, records)
            runs.append((name, records))
        }
        let base = TrialTally(full)
        let entries = runs.map { name, records in
            let t = TrialTally(records)
            return Entry(nominal: name, trials: t.trials, successes: t.successes, successInterval: t.wilson, meanDistance: t.meanDistance,
                         failureModes: t.outcomes, fisherP: t.fisherP(against: base), changePercentagePoints: t.change(from: base))
        }
        let explaining = entries.dropFirst().filter { $0.nominal != allNominal && $0.changePercentagePoints > 0 && $0.fisherP < 0.05 }.map(\.nominal)
        return GapAttribution(format: TetherValidationModule.formatVersion, kind: calibrated == nil ? "truth" : "calibration",
                              truth: calibrated?.source ?? plan.truth, entries: entries, explaining: explaining,
                              calibratedGroups: calibrated?.groups, skipped: calibrated?.skipped)
    }

    /// Compares the full calibration's trials (entry "none") with the real trials.
    public mutating func compare(realSuccesses: Int, realTrials: Int) {
        guard isCalibration, let full = entries.first, realTrials > 0, full.trials > 0 else { return }
        let p = GapStatistics.fisherExact(full.successes, full.trials - full.successes, realSuccesses, realTrials - realSuccesses)
        let smallest = min(GapStatistics.fisherExact(full.trials, 0, 0, realTrials), GapStatistics.fisherExact(0, full.trials, realTrials, 0))
        let a = Double(full.successes) / Double(full.trials), b = Double(realSuccesses) / Double(realTrials)
        let wa = GapStatistics.wilson(successes: full.successes, trials: full.trials), wb = GapStatistics.wilson(successes: realSuccesses, trials: realTrials)
        // Newcombe's hybrid score interval for a difference of two independent proportions.
        let low = (a - b) - ((a - wa[0]) * (a - wa[0]) + (wb[1] - b) * (wb[1] - b)).squareRoot()
        let high = (a - b) + ((wa[1] - a) * (wa[1] - a) + (b - wb[0]) * (b - wb[0])).squareRoot()
        let verdict = p < 0.05 ? "differs" : smallest >= 0.05 ? "too few trials" : "consistent"
        versusReal = VersusReal(realTrials: realTrials, realSuccesses: realSuccesses, differencePercentagePoints: 100 * (a - b),
                                differenceInterval: [100 * low, 100 * high], fisherP: p, smallestPossibleP: smallest,
                                verdict: verdict, reproduces: verdict == "consistent")
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
            throw TetherError("no gap attribution at \(path)", at: path, hint: "write it with `tether trials --backend sim --calibration CAL --attribute --out DIR` or `tether trials --backend emulator --attribute --out DIR` (DIR/attribution.json)")
        }
        do { return try JSONDecoder().decode(GapAttribution.self, from: data) } catch {
            throw TetherError("not a gap attribution: \(TrialRecords.describe(error))", at: path, hint: "pass the attribution.json that `tether trials --attribute` wrote")
        }
    }
}
