import Foundation
import TetherNumerics
import TetherCore

/// One randomized trial of the validation gate.
public struct GateTrial: Sendable, Codable, Equatable {
    /// Trial index in 0..<N; its randomization and noise come from the stream (seed, index).
    public var index: Int
    /// Whether the task's success criterion was met.
    public var success: Bool
    /// `FailureMode`'s raw value: "success", or why not: "fall", "no_progress", "pole_fell",
    /// "track_limit", "non_finite", "policy_error", "timeout".
    public var failureMode: String
    /// Forward distance of the base (walking) or largest |cart position| (balance), m.
    public var distance: Double
    /// Episode length, s.
    public var seconds: Double
    /// Sum of rewards.
    public var totalReward: Double
    /// The sampled value of every randomized parameter that has one value per trial, by term name.
    public var parameters: [String: Double]

    /// Creates a record.
    public init(index: Int, success: Bool, failureMode: String, distance: Double, seconds: Double, totalReward: Double,
                parameters: [String: Double] = [:]) {
        self.index = index
        self.success = success
        self.failureMode = failureMode
        self.distance = distance
        self.seconds = seconds
        self.totalReward = totalReward
        self.parameters = parameters
    }
}

/// Slice I of N of the trial indices (`--shard I/N`, I counted from 0 as Slurm array task ids and
/// Kubernetes completion indices are).
public struct GateShard: Sendable, Codable, Equatable {
    /// Slice number, 0..<count.
    public var index: Int
    /// Number of slices.
    public var count: Int

    /// Creates a shard; throws unless 0 ≤ index < count.
    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw TetherError("a run cannot be cut into \(count) shards", at: "--shard", hint: "use I/N with N ≥ 1, e.g. 0/4") }
        guard index >= 0, index < count else {
            throw TetherError("shard \(index) does not exist among \(count) shards (they are numbered 0…\(count - 1))", at: "--shard",
                              hint: "use I/N with 0 ≤ I < N, e.g. $SLURM_ARRAY_TASK_ID/\(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses "I/N".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw TetherError("'\(text)' is not a shard", at: "--shard", hint: "write I/N: slice I (0-based) of N, e.g. --shard 2/8")
        }
        try self.init(index: i, count: n)
    }

    /// The contiguous slice of 0..<trials this shard runs; the slices of all shards partition it.
    public func indices(of trials: Int) -> Range<Int> {
        (index * trials / count)..<((index + 1) * trials / count)
    }
}

/// What a result is a result of; shards merge only when these are equal.
public struct GateIdentity: Sendable, Codable, Equatable {
    /// Robot name.
    public var robot: String
    /// The task, in words.
    public var task: String
    /// Policy path as given.
    public var policy: String
    /// FNV-1a 64 digest of the policy file's bytes.
    public var policyDigest: String
    /// Randomization spec path (nil: nominal model).
    public var randomization: String?
    /// FNV-1a 64 digest of the spec file's bytes.
    public var randomizationDigest: String?
    /// Seed; trial i draws from the stream (seed, i).
    public var seed: UInt64
    /// Planned number of trials N.
    public var trials: Int
    /// Success-rate threshold of the gate.
    public var threshold: Double
    /// Confidence of the intervals (0.95).
    public var confidence: Double
    /// FNV-1a 64 digest of the manifest file's bytes: joint order, gains and observation layout
    /// are part of what was validated, so the deployment gate only counts a validation under the
    /// same manifest. nil in results written before it was recorded.
    public var manifestDigest: String?

    /// Creates an identity.
    public init(robot: String, task: String, policy: String, policyDigest: String, randomization: String? = nil,
                randomizationDigest: String? = nil, seed: UInt64, trials: Int, threshold: Double, confidence: Double = 0.95,
                manifestDigest: String? = nil) {
        self.robot = robot
        self.task = task
        self.policy = policy
        self.policyDigest = policyDigest
        self.randomization = randomization
        self.randomizationDigest = randomizationDigest
        self.seed = seed
        self.trials = trials
        self.threshold = threshold
        self.confidence = confidence
        self.manifestDigest = manifestDigest
    }

    /// FNV-1a 64 digest of a file's bytes, "fnv1a64:…" (identity of inputs, not security; see `FileDigest`).
    public static func digest(ofFile path: String) throws -> String {
        try FileDigest.fnv1a64(ofFile: path)
    }

    /// The digest of the manifest a robot was loaded from (`Manifest.sourcePath`); nil for a
    /// manifest that did not come from a file.
    public static func manifestDigest(of manifest: Manifest) -> String? {
        manifest.sourcePath.flatMap { try? FileDigest.fnv1a64(ofFile: $0) }
    }

    /// Names of the fields in which two identities differ.
    func differences(from other: GateIdentity) -> [String] {
        var out: [String] = []
        if robot != other.robot { out.append("robot \(robot) vs \(other.robot)") }
        if task != other.task { out.append("task '\(task)' vs '\(other.task)'") }
        if policyDigest != other.policyDigest { out.append("policy \(policy) (\(policyDigest)) vs \(other.policy) (\(other.policyDigest))") }
        if randomizationDigest != other.randomizationDigest {
            out.append("randomization \(randomization ?? "none") vs \(other.randomization ?? "none")")
        }
        if seed != other.seed { out.append("seed \(seed) vs \(other.seed)") }
        if trials != other.trials { out.append("trials \(trials) vs \(other.trials)") }
        if threshold != other.threshold { out.append("threshold \(threshold) vs \(other.threshold)") }
        if confidence != other.confidence { out.append("confidence \(confidence) vs \(other.confidence)") }
        if manifestDigest != other.manifestDigest { out.append("manifest \(manifestDigest ?? "not recorded") vs \(other.manifestDigest ?? "not recorded")") }
        return out
    }
}

/// How strongly one randomized parameter drives failures.
public struct GateSensitivity: Sendable, Codable, Equatable {
    /// Term name.
    public var parameter: String
    /// Point-biserial correlation of failure (1) with the parameter's value, −1…1.
    public var correlation: Double
    /// (mean over failed − mean over successful trials) / standard deviation over all trials.
    public var standardizedDifference: Double
    /// Mean value over failed trials.
    public var meanFailed: Double
    /// Mean value over successful trials.
    public var meanSucceeded: Double
    /// One sentence for people.
    public var sentence: String
}

/// The figures of a set of trials: rate, intervals, decision, failure modes, sensitivity.
public struct GateSummary: Sendable, Codable, Equatable {
    /// Trials run.
    public var trials: Int
    /// Successful trials.
    public var successes: Int
    /// successes / trials.
    public var successRate: Double
    /// Wilson score interval at the identity's confidence.
    public var wilson: ConfidenceInterval
    /// Clopper–Pearson interval at the identity's confidence.
    public var clopperPearson: ConfidenceInterval
    /// The interval the decision used (Clopper–Pearson; at the per-look level for a sequential run).
    public var decisionInterval: ConfidenceInterval
    /// GO, NO-GO, or PARTIAL for a shard.
    public var decision: GateDecision
    /// Why, in one sentence.
    public var reason: String
    /// Trials per failure mode ("success" included).
    public var outcomes: [String: Int]
    /// Mean distance, m.
    public var meanDistance: Double
    /// Mean episode length, s.
    public var meanSeconds: Double
    /// Mean return.
    public var meanReturn: Double
    /// Parameters ranked by |correlation| with failure, strongest first.
    public var sensitivity: [GateSensitivity]
}

/// Facts of a sequential run.
public struct GateSequentialRecord: Sendable, Codable, Equatable {
    /// The rule.
    public var rule: SequentialRule
    /// Whether the gate stopped before N trials.
    public var stoppedEarly: Bool
    /// Looks taken.
    public var looksTaken: Int
}

/// The JSON result of `tether validate` (a whole run, a shard, or merged shards).
public struct GateResult: Sendable, Codable, Equatable {
    /// `TetherValidationModule.formatVersion`.
    public var format: Int
    /// What was validated.
    public var identity: GateIdentity
    /// The slice, for a shard; nil for a whole or merged run.
    public var shard: GateShard?
    /// Present when the run stopped by the sequential rule.
    public var sequential: GateSequentialRecord?
    /// The trials, by index.
    public var trialRecords: [GateTrial]
    /// Figures.
    public var summary: GateSummary
    /// Wall time of the trials, s (summed over shards when merged).
    public var wallSeconds: Double
    /// Videos of replayed trials (the first failed ones), relative to the report (`tether validate
    /// --report … --videos N`); nil: none made.
    public var videos: [ReportVideo]? = nil
}

/// Progress of a gate, for terminal lines.
public struct GateProgress: Sendable {
    /// Trials done.
    public var done: Int
    /// Successes so far.
    public var successes: Int
    /// Trials the run will do at most.
    public var planned: Int
    /// Clopper–Pearson interval so far (at the decision level).
    public var interval: ConfidenceInterval
}

/// The validation gate: runs trials (through a caller's trial function, so the statistics do not
/// depend on physics), in one go, by shard, or sequentially, and summarizes them.
public struct ValidationGate: Sendable {
    /// What is validated.
    public var identity: GateIdentity
    /// Run only this slice.
    public var shard: GateShard?
    /// Trials between looks of the sequential rule (nil: fixed-size gate, all N trials).
    public var sequentialBatch: Int?

    /// Creates a gate; a sequential gate cannot be sharded (where it stops depends on all trials).
    public init(identity: GateIdentity, shard: GateShard? = nil, sequentialBatch: Int? = nil) throws {
        guard identity.trials > 0 else { throw TetherError("the gate needs at least 1 trial, got \(identity.trials)", at: "--trials") }
        guard identity.threshold > 0, identity.threshold < 1 else {
            throw TetherError("the threshold is a success rate strictly between 0 and 1, got \(identity.threshold)", at: "--threshold",
                              hint: "e.g. --threshold 0.9")
        }
        if shard != nil && sequentialBatch != nil {
            throw TetherError("a sequential gate cannot be sharded: where it stops depends on every trial before", at: "--sequential",
                              hint: "run shards without --sequential, then merge them")
        }
        self.identity = identity
        self.shard = shard
        self.sequentialBatch = sequentialBatch
    }

    /// Runs the gate. `runTrials` gets a list of trial indices and returns one record per index,
    /// in order; it must make trial i depend only on (seed, i).
    public func run(progress: ((GateProgress) -> Void)? = nil, runTrials: ([Int]) throws -> [GateTrial]) throws -> GateResult {
        let clock = ContinuousClock.now
        var records: [GateTrial] = []
        var sequentialRecord: GateSequentialRecord?
        let indices = Array(shard?.indices(of: identity.trials) ?? 0..<identity.trials)
        if let sequentialBatch {
            let rule = try SequentialRule(batch: sequentialBatch, trials: identity.trials, confidence: identity.confidence)
            var looks = 0, decided: GateDecision?
            while records.count < identity.trials && decided == nil {
                let next = Array(records.count..<min(identity.trials, records.count + rule.batch))
                records += try checked(runTrials(next), next)
                looks += 1
                let s = records.filter(\.success).count
                decided = rule.decide(successes: s, done: records.count, threshold: identity.threshold)
                progress?(GateProgress(done: records.count, successes: s, planned: identity.trials,
                                       interval: ConfidenceInterval.clopperPearson(successes: s, trials: records.count, level: rule.lookConfidence)))
            }
            sequentialRecord = GateSequentialRecord(rule: rule, stoppedEarly: records.count < identity.trials, looksTaken: looks)
        } else {
            records = try checked(runTrials(indices), indices)
            let s = records.filter(\.success).count
            progress?(GateProgress(done: records.count, successes: s, planned: indices.count,
                                   interval: ConfidenceInterval.clopperPearson(successes: s, trials: records.count, level: identity.confidence)))
        }
        let wall = ContinuousClock.now - clock
        return GateResult(format: TetherValidationModule.formatVersion, identity: identity, shard: shard, sequential: sequentialRecord,
                          trialRecords: records, summary: Self.summarize(records, identity: identity, sequential: sequentialRecord?.rule,
                                                                         partial: shard != nil),
                          wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18)
    }

    private func checked(_ records: [GateTrial], _ indices: [Int]) throws -> [GateTrial] {
        guard records.map(\.index) == indices else {
            throw TetherError("the trial function returned trials \(records.prefix(5).map(\.index)) for indices \(indices.prefix(5))…",
                              hint: "return one record per index, in order")
        }
        return records
    }

    /// Summarizes trials (sorted by index). The decision: GO when the lower bound of the
    /// Clopper–Pearson interval (at the identity's confidence, or the per-look level of `sequential`)
    /// is at least the threshold.
    public static func summarize(_ records: [GateTrial], identity: GateIdentity, sequential: SequentialRule? = nil, partial: Bool = false) -> GateSummary {
        let n = records.count, s = records.filter(\.success).count
        let denominator = Double(max(1, n))
        var outcomes: [String: Int] = [:]
        for r in records { outcomes[r.failureMode, default: 0] += 1 }
        let level = sequential?.lookConfidence ?? identity.confidence
        let decisionInterval = ConfidenceInterval.clopperPearson(successes: s, trials: n, level: level)
        let decision: GateDecision, reason: String
        let pct = { (x: Double) in String(format: "%.1f %%", 100 * x) }
        if partial {
            decision = .partial
            reason = "a shard of \(n) of \(identity.trials) trials; merge the shards for the decision"
        } else if let sequential {
            decision = sequential.decide(successes: s, done: n, threshold: identity.threshold) ?? .noGo
            let levelText = String(format: "%.4g %%", 100 * level)
            switch decision {
            case .go: reason = "after \(n) trials the \(levelText) lower bound \(pct(decisionInterval.lower)) reaches the threshold \(pct(identity.threshold))"
            default:
                if decisionInterval.upper < identity.threshold {
                    reason = "after \(n) trials the \(levelText) upper bound \(pct(decisionInterval.upper)) is below the threshold \(pct(identity.threshold))"
                } else if n < identity.trials {
                    reason = "after \(n) trials even \(identity.trials - n) more successes could not lift the lower bound to \(pct(identity.threshold))"
                } else {
                    reason = "the \(levelText) lower bound \(pct(decisionInterval.lower)) is below the threshold \(pct(identity.threshold))"
                }
            }
        } else {
            decision = decisionInterval.lower >= identity.threshold ? .go : .noGo
            let levelText = String(format: "%.4g %%", 100 * level)
            reason = "the \(levelText) Clopper–Pearson lower bound \(pct(decisionInterval.lower)) is \(decision == .go ? "at or above" : "below") the "
                + "threshold \(pct(identity.threshold))"
        }
        return GateSummary(trials: n, successes: s, successRate: Double(s) / denominator,
                           wilson: ConfidenceInterval.wilson(successes: s, trials: n, level: identity.confidence),
                           clopperPearson: ConfidenceInterval.clopperPearson(successes: s, trials: n, level: identity.confidence),
                           decisionInterval: decisionInterval, decision: decision, reason: reason, outcomes: outcomes,
                           meanDistance: records.map(\.distance).reduce(0, +) / denominator,
                           meanSeconds: records.map(\.seconds).reduce(0, +) / denominator,
                           meanReturn: records.map(\.totalReward).reduce(0, +) / denominator,
                           sensitivity: sensitivity(records))
    }

    /// Ranks parameters by the point-biserial correlation of failure with their value.
    public static func sensitivity(_ records: [GateTrial]) -> [GateSensitivity] {
        let failed = records.filter { !$0.success }, succeeded = records.filter(\.success)
        guard !failed.isEmpty, !succeeded.isEmpty else { return [] }
        let names = Set(records.flatMap(\.parameters.keys)).sorted()
        var out: [GateSensitivity] = []
        for name in names {
            let pairs = records.compactMap { r in r.parameters[name].map { (value: $0, failure: r.success ? 0.0 : 1.0) } }
            guard pairs.count >= 3 else { continue }
            let n = Double(pairs.count)
            let mean = pairs.map(\.value).reduce(0, +) / n
            let sd = (pairs.map { ($0.value - mean) * ($0.value - mean) }.reduce(0, +) / n).squareRoot()
            let f = pairs.filter { $0.failure == 1 }.map(\.value), g = pairs.filter { $0.failure == 0 }.map(\.value)
            guard sd > 0, sd.isFinite, !f.isEmpty, !g.isEmpty else { continue }
            let meanF = f.reduce(0, +) / Double(f.count), meanG = g.reduce(0, +) / Double(g.count)
            let pf = Double(f.count) / n
            let r = (meanF - meanG) / sd * (pf * (1 - pf)).squareRoot()
            let d = (meanF - meanG) / sd
            let direction = d < 0 ? "low" : "high"
            let strength = abs(r) >= 0.3 ? "strongly" : abs(r) >= 0.1 ? "moderately" : "hardly"
            let sentence = "\(name): failed trials drew values \(String(format: "%.2f", abs(d))) standard deviations \(d < 0 ? "lower" : "higher") "
                + "than successful ones (mean \(String(format: "%.4g", meanF)) vs \(String(format: "%.4g", meanG)), r = \(String(format: "%+.2f", r))): "
                + "\(direction) values \(strength) go with failure."
            out.append(GateSensitivity(parameter: name, correlation: r, standardizedDifference: d, meanFailed: meanF, meanSucceeded: meanG, sentence: sentence))
        }
        return out.sorted { abs($0.correlation) != abs($1.correlation) ? abs($0.correlation) > abs($1.correlation) : $0.parameter < $1.parameter }
    }
}

extension GateResult {
    /// Combines shards into the result of the unsharded run: same identity, every index 0..<N
    /// exactly once. `sources` names each shard (file paths) for the errors.
    public static func merge(_ shards: [GateResult], sources: [String]? = nil) throws -> GateResult {
        let names = sources ?? shards.indices.map { "shard \($0)" }
        guard let first = shards.first else { throw TetherError("nothing to merge",
                                                                hint: "pass the shard files: tether validate merge a.json b.json --out result.json") }
        for (k, shard) in shards.enumerated() {
            if shard.format != TetherValidationModule.formatVersion {
                throw TetherError("format \(shard.format) is not the format this tether reads (\(TetherValidationModule.formatVersion))", at: names[k])
            }
            if shard.sequential != nil {
                throw TetherError("this result stopped by the sequential rule and cannot be merged", at: names[k], hint: "run shards without --sequential")
            }
            let diff = first.identity.differences(from: shard.identity)
            if !diff.isEmpty {
                throw TetherError("this shard is not from the same run as \(names[0]): " + diff.joined(separator: "; "), at: names[k],
                                  hint: "merge only shards of one `tether validate` command (same robot, policy, randomization, seed, trials, threshold)")
            }
        }
        var owner: [Int: Int] = [:]
        var records: [GateTrial] = []
        for (k, shard) in shards.enumerated() {
            for r in shard.trialRecords {
                guard r.index >= 0, r.index < first.identity.trials else {
                    throw TetherError("trial \(r.index) lies outside 0..<\(first.identity.trials)", at: names[k])
                }
                if let other = owner[r.index] {
                    throw TetherError("trial \(r.index) appears twice, in \(names[other]) and \(names[k])", at: names[k],
                                      hint: "pass each shard once; shards must come from one --shard I/N split")
                }
                owner[r.index] = k
                records.append(r)
            }
        }
        let missing = (0..<first.identity.trials).filter { owner[$0] == nil }
        if !missing.isEmpty {
            let list = missing.prefix(8).map(String.init).joined(separator: ", ") + (missing.count > 8 ? ", …" : "")
            throw TetherError("\(missing.count) of \(first.identity.trials) trials are missing (\(list))",
                              hint: "run the missing shards (--shard I/N for the slices not passed) and merge again")
        }
        records.sort { $0.index < $1.index }
        return GateResult(format: TetherValidationModule.formatVersion, identity: first.identity, shard: nil, sequential: nil,
                          trialRecords: records, summary: ValidationGate.summarize(records, identity: first.identity),
                          wallSeconds: shards.map(\.wallSeconds).reduce(0, +))
    }

    /// Reads a result or shard from JSON.
    public static func load(path: String) throws -> GateResult {
        guard let data = FileManager.default.contents(atPath: path) else { throw TetherError("cannot read the file", at: path, hint: "check the path") }
        do {
            return try JSONDecoder().decode(GateResult.self, from: data)
        } catch {
            throw TetherError("not a validation result: \(error)", at: path, hint: "pass files written by tether validate --out")
        }
    }

    /// Writes the result as pretty JSON with sorted keys.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path))
        } catch {
            throw TetherError("cannot write the result: \(error.localizedDescription)", at: path)
        }
    }
}
