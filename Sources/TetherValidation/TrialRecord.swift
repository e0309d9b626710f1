import Foundation
import TetherNumerics
import TetherCore

/// One deployment trial on a robot (simulated, virtual or real), as one line of a JSON Lines file.
///
/// All quantities are SI units. Metrics that a backend cannot measure (a real robot without a
/// ground-truth base velocity) are absent rather than zero. See docs/gap-report.md.
public struct TrialRecord: Sendable, Codable, Equatable {
    /// Format version of the record (`TetherValidationModule.formatVersion`).
    public var format: Int
    /// Trial index within its set (0-based).
    public var trial: Int
    /// Robot name (the manifest's).
    public var robot: String
    /// Policy file.
    public var policy: String
    /// Backend: sim, emulator or ros2.
    public var backend: RobotBackend
    /// Emulator truth name (nil for other backends).
    public var truth: String?
    /// The seed the trial's random streams derive from (the emulator truth's seed).
    public var seed: UInt64
    /// Whether the task criterion was met: `distance ≥ requiredDistance` with no fall and no safety stop.
    public var success: Bool
    /// `success`, or why not: `fall`, `safety_stop:<reason>`, `no_progress`.
    public var failureMode: String
    /// Forward distance of the base from the start of the run to its end, m.
    public var distance: Double
    /// Distance the task criterion asks for, m.
    public var requiredDistance: Double
    /// Time the policy ran (first to last action), s.
    public var episodeSeconds: Double
    /// Return-like score: forward distance per second of policy time, m/s.
    public var score: Double
    /// Mean absolute difference between achieved and commanded forward velocity in the base frame, m/s.
    public var trackingError: Double?
    /// Minimum over the run of 1 − |τ|/τ_limit over joints with a torque limit (1: no torque; < 0: over).
    public var torqueMargin: Double?
    /// Minimum over the run of 1 − |q̇|/q̇_limit over joints.
    public var velocityMargin: Double?
    /// Share of the policy actions' spectral power above `oscillationCutoffHz` (0…1).
    public var oscillation: Double?
    /// The cutoff frequency of `oscillation`, Hz.
    public var oscillationCutoffHz: Double
    /// Safety interventions by reason (counts of the safety wrapper's events, zero counts left out).
    public var interventions: [String: Int]
    /// Why the safety wrapper stopped the robot (nil: no safety stop).
    public var stopReason: String?
    /// The flight recording (MCAP) of the trial, if one was written.
    public var recording: String?
    /// Torque stage the trial ran at, fraction of the torque limits (nil: not recorded).
    public var stage: Double?
    /// How the policy got through the deployment gate on a robot backend: the validation that
    /// cleared it, or the operator's override and its reason (nil in simulation and in records
    /// written before the gate).
    public var gate: DeploymentClearance?

    /// Creates a record.
    public init(format: Int = TetherValidationModule.formatVersion, trial: Int, robot: String, policy: String, backend: RobotBackend,
                truth: String? = nil, seed: UInt64, success: Bool, failureMode: String, distance: Double,
                requiredDistance: Double, episodeSeconds: Double, score: Double, trackingError: Double? = nil,
                torqueMargin: Double? = nil, velocityMargin: Double? = nil, oscillation: Double? = nil,
                oscillationCutoffHz: Double = 10, interventions: [String: Int] = [:], stopReason: String? = nil,
                recording: String? = nil, stage: Double? = nil, gate: DeploymentClearance? = nil) {
        self.format = format
        self.trial = trial
        self.robot = robot
        self.policy = policy
        self.backend = backend
        self.truth = truth
        self.seed = seed
        self.success = success
        self.failureMode = failureMode
        self.distance = distance
        self.requiredDistance = requiredDistance
        self.episodeSeconds = episodeSeconds
        self.score = score
        self.trackingError = trackingError
        self.torqueMargin = torqueMargin
        self.velocityMargin = velocityMargin
        self.oscillation = oscillation
        self.oscillationCutoffHz = oscillationCutoffHz
        self.interventions = interventions
        self.stopReason = stopReason
        self.recording = recording
        self.stage = stage
        self.gate = gate
    }
}

/// What every summary of a set of trials starts from: counts, the success rate with its Wilson
/// interval, mean distance, outcomes and safety interventions. One place for them, so that the
/// gap report, the attributions, the redeployment comparison and the history agree.
public struct TrialTally: Sendable, Equatable {
    public let trials: Int
    public let successes: Int
    /// Success rate (0 for no trials).
    public let rate: Double
    /// Wilson score 95 % interval of the success rate, [lower, upper].
    public let wilson: ConfidenceInterval
    public let meanDistance: Double
    /// Trials by outcome (`success` included).
    public let outcomes: [String: Int]
    /// Safety interventions by reason, summed over the trials.
    public let interventions: [String: Int]

    public init(_ records: [TrialRecord]) {
        trials = records.count
        successes = records.filter(\.success).count
        rate = records.isEmpty ? 0 : Double(successes) / Double(records.count)
        wilson = ConfidenceInterval.wilson(successes: successes, trials: records.count)
        meanDistance = records.isEmpty ? 0 : records.map(\.distance).reduce(0, +) / Double(records.count)
        var outcomes: [String: Int] = [:], interventions: [String: Int] = [:]
        for r in records {
            outcomes[r.failureMode, default: 0] += 1
            for (k, v) in r.interventions { interventions[k, default: 0] += v }
        }
        self.outcomes = outcomes
        self.interventions = interventions
    }

    /// The failures by mode (outcomes without `success`).
    public var failureModes: [String: Int] { outcomes.filter { $0.key != "success" } }

    /// Fisher's exact test (two-sided) of this set's successes against `other`'s.
    public func fisherP(against other: TrialTally) -> Double {
        HypothesisTests.fisherExact(successes, trials - successes, other.successes, other.trials - other.successes)
    }

    /// This set's success rate minus `other`'s, percentage points.
    public func change(from other: TrialTally) -> Double { 100 * (rate - other.rate) }
}

/// Before / after of a redeployment: the old and the new policy on the same robots (same truth
/// and trial seeds), with Wilson intervals and Fisher's exact test.
public struct RedeployComparison: Sendable, Codable {
    public var truth: String
    public var trials: Int
    public var beforeSuccesses: Int
    public var afterSuccesses: Int
    public var beforeWilson: ConfidenceInterval
    public var afterWilson: ConfidenceInterval
    /// After minus before, percentage points.
    public var change: Double
    public var fisherP: Double
    public var beforeMeanDistance: Double
    public var afterMeanDistance: Double

    public init(before: [TrialRecord], after: [TrialRecord], truth: String) {
        let b = TrialTally(before), a = TrialTally(after)
        self.truth = truth
        trials = b.trials
        beforeSuccesses = b.successes
        afterSuccesses = a.successes
        beforeWilson = b.wilson
        afterWilson = a.wilson
        change = a.change(from: b)
        fisherP = b.fisherP(against: a)
        beforeMeanDistance = b.meanDistance
        afterMeanDistance = a.meanDistance
    }
}

/// Reads and writes trial records as JSON Lines: one JSON object per line.
public enum TrialRecords {
    /// One record as a single line of JSON (sorted keys, no trailing newline).
    public static func line(_ record: TrialRecord) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(record), as: UTF8.self)
    }

    /// The records as JSON Lines text (each line ends with a newline).
    public static func encode(_ records: [TrialRecord]) throws -> String {
        try records.map { try line($0) + "\n" }.joined()
    }

    /// Parses JSON Lines text; blank lines are skipped. Errors name the line.
    public static func decode(_ text: String, source: String = "<input>") throws -> [TrialRecord] {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var records: [TrialRecord] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            do {
                let record = try decoder.decode(TrialRecord.self, from: Data(line.utf8))
                guard record.format <= TetherValidationModule.formatVersion else {
                    throw TetherError("trial record format \(record.format) is newer than this tether understands (\(TetherValidationModule.formatVersion))",
                                      at: "\(source):\(index + 1)", hint: "update tether")
                }
                records.append(record)
            } catch let error as TetherError {
                throw error
            } catch {
                throw TetherError("line \(index + 1) is not a trial record: \(describe(error))", at: "\(source):\(index + 1)",
                                  hint: "each line must be one JSON object written by `tether trials`")
            }
        }
        return records
    }

    /// Reads a JSON Lines file of trial records; errors name the file and line.
    public static func read(path: String) throws -> [TrialRecord] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TetherError("no trial records at \(path)", at: path, hint: "write them with `tether trials … --out DIR` (DIR/trials.jsonl)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TetherError("cannot read \(path)", at: path, hint: "check the file's permissions")
        }
        return try decode(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Writes records as a JSON Lines file (replacing it).
    public static func write(_ records: [TrialRecord], to path: String) throws {
        do {
            try encode(records).write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw TetherError("cannot write trial records: \(error.localizedDescription)", at: path, hint: "check that the folder exists and is writable")
        }
    }

    /// A short description of a decoding error: the missing or mistyped field.
    static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
        case .typeMismatch(_, let c): return "field \"\(path(c))\" has the wrong type"
        case .valueNotFound(_, let c): return "field \"\(path(c))\" is null"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "invalid JSON" : "field \"\(path(c))\" is invalid"
        @unknown default: return "\(error)"
        }
    }
}
