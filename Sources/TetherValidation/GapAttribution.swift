import Foundation
import TetherNumerics
import TetherCore
import TetherEmulator
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
/// (calibrated or true) set by Fisher's exact test. Groups first, not single parameters: with
/// tens of trials per run, dozens of single-parameter runs could not be told apart, and most of
/// them would be spent on parameters that do not matter. Then a drill-down (on by default): a
/// group that explains the failures and holds more than one parameter that differs from nominal
/// is run again once per member, with that member alone set back, so the report can say
/// *which* damping or *which* physical difference it is — or that no member does it alone (the
/// members act together). The cost is one run per member of the explaining groups only.
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
        public var successInterval: ConfidenceInterval
        public var meanDistance: Double
        public var failureModes: [String: Int]
        /// Fisher's exact test (two-sided) against the full truth / calibration.
        public var fisherP: Double
        /// Success rate change against the full truth / calibration, percentage points.
        public var changePercentagePoints: Double
        /// A drill-down run (one member of a group set back alone): the group; nil for a group run.
        public var within: String?
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
        public var differenceInterval: ConfidenceInterval?
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
    /// The explaining groups drilled into (more than one member differing from nominal); nil in
    /// files written before the drill-down, or when it was turned off.
    public var drilled: [String]?
    /// Members of the drilled groups whose reset alone raises the success rate significantly.
    public var explainingMembers: [String]?
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

    /// The members of a truth group, named by their keys in a truth file (`physics.payload`,
    /// `actuators.lag`, …), in the file's order.
    public static func truthMembers(of group: String) -> [String] {
        let keys: [String]
        switch group {
        case "physics": keys = ["friction_scale", "mass_scale", "payload", "base_com_offset", "joint_damping", "joint_frictionloss"]
        case "actuators": keys = ["lag", "dead_time", "saturation", "backlash", "thermal"]
        case "sensors": keys = ["publish_hz", "position_noise", "velocity_noise", "position_bias", "velocity_bias", "position_drift", "resolution",
                                "encoder_offsets", "gyro_noise", "gyro_bias", "accelerometer_noise", "accelerometer_bias", "orientation_noise", "dropout"]
        case "link": keys = ["latency", "jitter", "command_loss", "state_loss", "stall"]
        default: keys = []
        }
        return keys.map { "\(group).\($0)" }
    }

    /// `truth` with single members (`physics.payload`, see `truthMembers(of:)`) set to nominal.
    public static func settingNominal(members: Set<String>, in truth: Truth) throws -> Truth {
        var t = truth
        let p = Truth.Physics(), a = Truth.Actuators(), s = Truth.Sensors(), l = Truth.Link()
        for name in members.sorted() {
            switch name {
            case "physics.friction_scale": t.physics.frictionScale = p.frictionScale
            case "physics.mass_scale": t.physics.massScale = p.massScale
            case "physics.payload": t.physics.payload = p.payload
            case "physics.base_com_offset": t.physics.baseCenterOfMassOffset = p.baseCenterOfMassOffset
            case "physics.joint_damping": t.physics.jointDamping = p.jointDamping
            case "physics.joint_frictionloss": t.physics.jointFrictionLoss = p.jointFrictionLoss
            case "actuators.lag": t.actuators.lagTimeConstant = a.lagTimeConstant
            case "actuators.dead_time": t.actuators.deadTime = a.deadTime
            case "actuators.saturation": t.actuators.saturation = a.saturation
            case "actuators.backlash": t.actuators.backlash = a.backlash
            case "actuators.thermal": t.actuators.thermal = a.thermal
            case "sensors.publish_hz": t.sensors.publishHz = s.publishHz
            case "sensors.position_noise": t.sensors.positionNoise = s.positionNoise
            case "sensors.velocity_noise": t.sensors.velocityNoise = s.velocityNoise
            case "sensors.position_bias": t.sensors.positionBias = s.positionBias
            case "sensors.velocity_bias": t.sensors.velocityBias = s.velocityBias
            case "sensors.position_drift": t.sensors.positionDrift = s.positionDrift
            case "sensors.resolution": t.sensors.resolution = s.resolution
            case "sensors.encoder_offsets": t.sensors.encoderOffsets = s.encoderOffsets
            case "sensors.gyro_noise": t.sensors.gyroNoise = s.gyroNoise
            case "sensors.gyro_bias": t.sensors.gyroBias = s.gyroBias
            case "sensors.accelerometer_noise": t.sensors.accelerometerNoise = s.accelerometerNoise
            case "sensors.accelerometer_bias": t.sensors.accelerometerBias = s.accelerometerBias
            case "sensors.orientation_noise": t.sensors.orientationNoise = s.orientationNoise
            case "sensors.dropout": t.sensors.dropout = s.dropout
            case "link.latency": t.link.latency = l.latency
            case "link.jitter": t.link.jitter = l.jitter
            case "link.command_loss": t.link.commandLoss = l.commandLoss
            case "link.state_loss": t.link.stateLoss = l.stateLoss
            case "link.stall": t.link.stall = l.stall
            default:
                let all = groups.flatMap(truthMembers(of:))
                let close = all.filter { $0.hasPrefix(name.split(separator: ".").first.map(String.init) ?? name) }
                throw TetherError("no truth member \(name)", hint: "the members are \((close.isEmpty ? all : close).joined(separator: ", "))")
            }
        }
        return t
    }

    /// The members of `group` that differ from nominal in `truth` (those a drill-down runs).
    public static func differingMembers(of group: String, in truth: Truth) throws -> [String] {
        try truthMembers(of: group).filter { try settingNominal(members: [$0], in: truth) != truth }
    }

    /// Runs the attribution: `baseline` are the full truth's (or full calibration's) trials (run
    /// with `plan` if nil). The plan is the emulator backend (truth groups) or the sim backend
    /// with `calibrated` set (calibrated groups, then all of them). With `drillDown`, each
    /// explaining group with more than one member differing from nominal is run again once per
    /// member (that member alone nominal); `progress` names those runs `group › member`.
    public static func run(plan: TrialPlan, robot: RobotModel, policyName: String, baseline: [TrialRecord]? = nil,
                           drillDown: Bool = true, makePolicy: () throws -> any PolicyRuntime,
                           progress: (String, [TrialRecord]) -> Void = { _, _ in }) throws -> GapAttribution {
        let calibrated = plan.backend == .sim ? plan.calibrated : nil
        guard plan.backend == .emulator || calibrated != nil else {
            throw TetherError("gap attribution needs the emulator backend (its truth is set back to nominal) or the sim backend with a calibration (its "
                + "calibrated parameters are)",
                              at: "--backend", hint: "add --calibration CALIBRATION.yaml to the sim backend")
        }
        var quiet = plan
        quiet.recordingFolder = nil
        quiet.nominalGroups = []
        quiet.nominalMembers = []
        let full = try baseline ?? quiet.run(robot: robot, policyName: policyName, makePolicy: makePolicy)
        var runs: [(name: String, records: [TrialRecord], within: String?)] = [("none", full, nil)]
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
            runs.append((name, records, nil))
        }
        let base = TrialTally(full)
        func entry(_ run: (name: String, records: [TrialRecord], within: String?)) -> Entry {
            let t = TrialTally(run.records)
            return Entry(nominal: run.name, trials: t.trials, successes: t.successes, successInterval: t.wilson, meanDistance: t.meanDistance,
                         failureModes: t.outcomes, fisherP: t.fisherP(against: base), changePercentagePoints: t.change(from: base), within: run.within)
        }
        func explains(_ e: Entry) -> Bool { e.changePercentagePoints > 0 && e.fisherP < 0.05 }
        var entries = runs.map(entry)
        let explaining = entries.dropFirst().filter { $0.nominal != allNominal && explains($0) }.map(\.nominal)
        var drilled: [String]?
        var explainingMembers: [String]?
        if drillDown {
            drilled = []
            explainingMembers = []
            let truth = calibrated == nil ? try Truth.named(plan.truth) : nil
            for group in explaining {
                let members = try calibrated.map { c in c.groups.first { $0.name == group }?.members.map(\.name) ?? [] }
                    ?? differingMembers(of: group, in: truth!)
                guard members.count > 1 else { continue }
                drilled?.append(group)
                for member in members {
                    var p = quiet
                    p.nominalMembers = [member]
                    let records = try p.run(robot: robot, policyName: policyName, makePolicy: makePolicy)
                    progress("\(group) › \(member)", records)
                    let e = entry((member, records, group))
                    entries.append(e)
                    if explains(e) { explainingMembers?.append(member) }
                }
            }
        }
        return GapAttribution(format: TetherValidationModule.formatVersion, kind: calibrated == nil ? "truth" : "calibration",
                              truth: calibrated?.source ?? plan.truth, entries: entries, explaining: explaining,
                              drilled: drilled, explainingMembers: explainingMembers,
                              calibratedGroups: calibrated?.groups, skipped: calibrated?.skipped)
    }

    /// One line saying what explains the failures, groups and (drilled) members.
    public var explanation: String {
        guard !explaining.isEmpty else { return "no single group explains the failures" }
        var parts: [String] = []
        for group in explaining {
            guard drilled?.contains(group) == true else { parts.append(group); continue }
            let runs = entries.filter { $0.within == group }
            let members = runs.filter { explainingMembers?.contains($0.nominal) == true }.map(\.nominal)
            if members.isEmpty {
                // The member that gave back the most (success, then distance): where to look first.
                let closest = runs.max { ($0.successes, $0.meanDistance) < ($1.successes, $1.meanDistance) }
                parts.append("\(group) (no member alone: they act together" + (closest.map { "; closest \($0.nominal), "
                    + "\($0.successes)/\($0.trials)" } ?? "") + ")")
            } else {
                parts.append("\(group), within it \(members.joined(separator: ", "))")
            }
        }
        return "explained by " + parts.joined(separator: "; ")
    }

    /// Compares the full calibration's trials (entry "none") with the real trials.
    public mutating func compare(realSuccesses: Int, realTrials: Int) {
        guard isCalibration, let full = entries.first, realTrials > 0, full.trials > 0 else { return }
        let p = HypothesisTests.fisherExact(full.successes, full.trials - full.successes, realSuccesses, realTrials - realSuccesses)
        let smallest = min(HypothesisTests.fisherExact(full.trials, 0, 0, realTrials), HypothesisTests.fisherExact(0, full.trials, realTrials, 0))
        let a = Double(full.successes) / Double(full.trials), b = Double(realSuccesses) / Double(realTrials)
        let interval = ConfidenceInterval.newcombeDifference(successesA: full.successes, trialsA: full.trials, successesB: realSuccesses, trialsB: realTrials)
        let low = interval.lower, high = interval.upper
        let verdict = p < 0.05 ? "differs" : smallest >= 0.05 ? "too few trials" : "consistent"
        versusReal = VersusReal(realTrials: realTrials, realSuccesses: realSuccesses, differencePercentagePoints: 100 * (a - b),
                                differenceInterval: ConfidenceInterval(lower: 100 * low, upper: 100 * high, level: interval.level),
                                fisherP: p, smallestPossibleP: smallest,
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
            throw TetherError("no gap attribution at \(path)", at: path,
                              hint: "write it with `tether trials --backend sim --calibration CAL --attribute --out DIR` or `tether trials --backend "
                                  + "emulator --attribute --out DIR` (DIR/attribution.json)")
        }
        do { return try JSONDecoder().decode(GapAttribution.self, from: data) } catch {
            throw TetherError("not a gap attribution: \(TrialRecords.describe(error))", at: path,
                              hint: "pass the attribution.json that `tether trials --attribute` wrote")
        }
    }
}
