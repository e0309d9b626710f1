import Foundation
import TetherNumerics
import TetherCore
import TetherPolicy
import TetherSim

/// How much an improvement run may spend: wall time or environment steps of training.
public struct ImprovementBudget: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Wall-clock seconds (training and the gate checks together), or nil.
    public var seconds: Double?
    /// Environment steps of training (the gate checks are not counted), or nil.
    public var environmentSteps: Int?

    public init(seconds: Double) { self.seconds = seconds }
    public init(environmentSteps: Int) { self.environmentSteps = environmentSteps }

    /// Reads "8min", "8 min", "8m", "480s", "1.5h", "2e6 steps", "2M steps", "500k steps".
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double, Bool)] = [("steps", 1, true), ("step", 1, true), ("min", 60, false), ("h", 3600, false),
                                               ("s", 1, false), ("m", 60, false)]
        for (suffix, scale, steps) in units where t.hasSuffix(suffix) {
            var number = String(t.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
            var multiplier = 1.0
            if steps, let last = number.last, ["k", "m"].contains(last) {
                multiplier = last == "k" ? 1e3 : 1e6
                number = String(number.dropLast()).trimmingCharacters(in: .whitespaces)
            }
            guard let value = Double(number), value.isFinite, value > 0 else { break }
            if steps {
                self.environmentSteps = Int((value * multiplier).rounded())
            } else {
                self.seconds = value * scale
            }
            return
        }
        throw TetherError("cannot read the budget '\(text)'", at: "--budget",
                          hint: "give wall time (e.g. 8min, 480s, 1h) or environment steps of training (e.g. 2M steps, 500k steps)")
    }

    public var description: String {
        if let seconds { return seconds >= 60 ? String(format: "%.3g min", seconds / 60) : String(format: "%.3g s", seconds) }
        return "\(environmentSteps ?? 0) env steps"
    }

    /// Whether `elapsed` seconds and `steps` leave room for one more step of `nextSeconds`,
    /// `nextSteps` (an estimate from the last one).
    func allows(elapsed: Double, steps: Int, nextSeconds: Double, nextSteps: Int) -> Bool {
        if let seconds { return elapsed + nextSeconds <= seconds }
        if let environmentSteps { return steps + nextSteps <= environmentSteps }
        return false
    }
}

/// The improvement loop as one library call: validate the policy under the gate's
/// randomization, then train it (ARS, warm-started) under the training randomization in chunks,
/// checking after each chunk on fresh trials whether the gate would pass, until it does or the
/// budget is spent; finally validate the chosen policy once more on trials no choice has seen.
///
/// What keeps the result honest:
/// - **Held-out checks.** Training draws its episodes from the training seed; each check uses
///   trials of its own seed (`seed + 1 + k` for check k), never a training episode. A check is
///   the gate's fixed-size decision (`trials` trials, Clopper–Pearson lower bound ≥ threshold);
///   it stops early only when the GO has become impossible (futility: too many failures for the
///   remaining trials to reach it), which never changes a decision.
/// - **A confirmation on fresh trials.** Stopping at the first passing check selects a lucky
///   check as often as a good policy; the `after` validation runs on a seed no check or
///   training used (`seed + 1000 + k` for the k-th confirmation), and is what the comparison
///   reports. If it fails and the budget allows, training goes on.
/// - **Before and after on different trials.** The `before` trials' failures become training
///   scenarios, so re-running them afterwards would test on the training set. The "scenarios
///   fixed" count (the before's failures run again with the new policy) is reported as such.
///
/// The warm start continues the policy's ARS checkpoint, observation normalization included (its
/// statistics carry the original training's weight, so the new randomization shifts them
/// slowly): a warm start that reset them would first have to relearn its input scaling.
public struct ImprovementRun: Sendable {
    public var robot: RobotModel
    /// The ONNX policy to improve; its ARS checkpoint (`policy + ".checkpoint.json"`) is the warm start.
    public var policyPath: String
    /// What the gate tests (the robot as measured, e.g. calibration's randomization.yaml).
    public var gate: RandomizationSpec
    /// What training runs under (e.g. calibration's training-randomization.yaml); the gate's spec when nil.
    public var training: RandomizationSpec?
    public var budget: ImprovementBudget
    /// Gate trials N and threshold (the lower bound of the Clopper–Pearson interval must reach it).
    public var trials = 100
    public var threshold = 0.9
    /// Seed of the `before` validation (the gate the policy failed).
    public var seed: UInt64 = 7
    /// ARS settings; `iterations` is ignored (the budget decides), `seed` is the training seed.
    public var config = ARSConfig()
    /// Training iterations between gate checks.
    public var chunk = 5
    /// Successes beyond the gate's bare GO that a check and its confirmation must reach before the
    /// loop stops (2: 98 of 100 for a 90 % gate). A policy that just scrapes 96/100 has a true
    /// rate near 96 %, and a fresh 100-trial validation then passes only about half the time; at
    /// 98/100 it passes about nine times in ten. The user's own `tether validate` afterwards is
    /// the gate that binds.
    public var margin = 2
    /// Share of training directions that replay the `before` gate's failures (0: none).
    public var scenarioShare = 0.125
    /// Recorded failure states to start training episodes from, and their share.
    public var starts: [EpisodeStart] = []
    public var startShare = 0.125
    /// Where the candidates and the chosen policy go (`improved.onnx` and its checkpoint).
    public var outputDirectory: String
    /// Metadata written into the exported ONNX files (the policy contract).
    public var metadata: [String: String] = [:]

    public init(robot: RobotModel, policyPath: String, gate: RandomizationSpec, training: RandomizationSpec?,
                budget: ImprovementBudget, outputDirectory: String) {
        self.robot = robot
        self.policyPath = policyPath
        self.gate = gate
        self.training = training
        self.budget = budget
        self.outputDirectory = outputDirectory
        config.directions = 16
        config.topDirections = 8
        config.evaluateEvery = 0
        if robot.manifest.task?.kind == .walk { config.episodeSeconds = 15 }
    }

    /// Why the loop ended.
    public enum StopReason: String, Sendable, Codable {
        /// The policy passed the gate before any training.
        case alreadyPasses = "already passes"
        /// A check passed and the confirmation on fresh trials passed too.
        case gatePasses = "gate passes"
        /// The budget ran out first (the best checked policy is kept).
        case budgetSpent = "budget spent"
    }

    /// One held-out check of a candidate.
    public struct Check: Sendable, Codable, Equatable {
        /// Training iterations so far.
        public var iteration: Int
        public var seed: UInt64
        /// Trials run (fewer than planned when futility stopped it) and successes.
        public var trials: Int
        public var successes: Int
        /// GO, or NO-GO with the reason.
        public var decision: GateDecision
        public var reason: String
        /// Whether this check confirmed a passing one on fresh trials.
        public var confirmation: Bool
        /// The candidate ONNX file.
        public var policy: String
        public var seconds: Double
    }

    /// What a run did.
    public struct Outcome: Sendable, Codable {
        public var before: GateResult
        /// The chosen policy's validation on fresh trials (nil when the policy already passed).
        public var after: GateResult?
        /// The chosen policy file (the input policy when nothing was trained).
        public var policy: String
        public var checks: [Check]
        public var stopReason: StopReason
        public var iterations: Int
        public var environmentSteps: Int
        public var trainingSeconds: Double
        public var checkSeconds: Double
        public var wallSeconds: Double
        /// The before gate's failures that the chosen policy passes when they are run again (they were trained on).
        public var scenariosFixed: Int
        public var scenariosTotal: Int
    }

    /// Progress, in words, one line at a time.
    public typealias Progress = @Sendable (String) -> Void

    /// Smallest success count of `trials` whose Clopper–Pearson lower bound reaches `threshold`.
    public static func successesForGo(trials: Int, threshold: Double, confidence: Double = 0.95) -> Int? {
        (0...trials).first { ConfidenceInterval.clopperPearson(successes: $0, trials: trials, level: confidence).lower >= threshold }
    }

    /// Runs the loop.
    public func run(progress: Progress = { _ in }) throws -> Outcome {
        let started = ContinuousClock.now
        func elapsed() -> Double { (ContinuousClock.now - started).seconds }
        let manifest = robot.manifest
        guard manifest.task != nil else {
            throw TetherError("the manifest declares no task to improve on", at: manifest.sourcePath, hint: "add a task: section (docs/manifest.md)")
        }
        guard let bare = Self.successesForGo(trials: trials, threshold: threshold) else {
            throw TetherError("no result of \(trials) trials can pass a \(Int(threshold * 100)) % gate", at: "--trials",
                              hint: "use more trials (100 for a 90 % gate)")
        }
        let needed = min(trials, bare + max(0, margin))
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        let simulation = try GateSimulation(robot: robot, randomization: gate, threads: config.threads)
        /// The full fixed-size gate (before and the confirmation): `tether validate`'s own run.
        func validate(_ path: String, seed: UInt64, what: String) throws -> GateResult {
            var validation = ValidationRun(robot: robot, policy: path, randomization: gate)
            validation.trials = trials
            validation.seed = seed
            validation.threshold = threshold
            validation.threads = self.config.threads
            let result = try validation.run()
            progress("  \(what): \(result.summary.successes)/\(result.summary.trials) (lower bound \(Self.percent(result.summary.decisionInterval.lower))) "
                + "\(result.summary.decision.rawValue)")
            return result
        }
        /// A check with futility stopping, in batches of 25.
        func check(_ path: String, seed: UInt64, iteration: Int) throws -> Check {
            let t0 = ContinuousClock.now
            var done = 0, successes = 0
            var reason = ""
            while done < trials {
                let batch = Array(done..<min(trials, done + 25))
                let records = try simulation.run(indices: batch, seed: seed) { try OnnxPolicy(path: path, manifest: manifest) }
                done += records.count
                successes += records.filter(\.success).count
                if successes + (trials - done) < needed {
                    reason = "\(done - successes) failures in \(done) trials: at most \(trials - needed) of \(trials) allowed to stop (GO with a margin of "
                        + "\(margin))"
                    break
                }
            }
            let go = done == trials && successes >= needed
            if go || reason.isEmpty {
                let lower = ConfidenceInterval.clopperPearson(successes: successes, trials: done, level: 0.95).lower
                reason = "lower bound \(Self.percent(lower)) \(go ? "≥" : "<") \(Self.percent(threshold))"
            }
            return Check(iteration: iteration, seed: seed, trials: done, successes: successes, decision: go ? .go : .noGo, reason: reason,
                         confirmation: false, policy: path, seconds: (ContinuousClock.now - t0).seconds)
        }

        progress("① the gate the policy failed: \(policyPath), \(trials) trials (seed \(seed)) under \(gate.sourcePath ?? "the gate's randomization")")
        let before = try validate(policyPath, seed: seed, what: "before")
        let failures = ImprovementLoop.scenarios(from: before)
        if before.summary.decision == .go {
            progress("  the policy already passes the gate: nothing to improve")
            return Outcome(before: before, after: nil, policy: policyPath, checks: [], stopReason: .alreadyPasses, iterations: 0,
                           environmentSteps: 0, trainingSeconds: 0, checkSeconds: elapsed(), wallSeconds: elapsed(), scenariosFixed: 0,
                           scenariosTotal: failures.count)
        }

        // The warm start: the policy's own ARS checkpoint, normalization included.
        let checkpointPath = policyPath + ".checkpoint.json"
        var state = try TrainingRun.warmStartCheckpoint(policy: policyPath, manifest: manifest)
        var config = self.config
        config.hidden = state.config.hidden
        config.activation = state.config.activation
        if !failures.isEmpty, scenarioShare > 0 {
            config.scenarios = ImprovementLoop.episodeStreams(failures)
            config.scenarioShare = scenarioShare
        }
        if !starts.isEmpty, startShare > 0 {
            config.starts = starts
            config.startShare = startShare
        }
        state.config = config
        state.iteration = 0
        state.history = []
        let trainingSpec = training ?? gate
        state.randomization = trainingSpec.sourcePath
        progress("② training (ARS, warm-started from \(checkpointPath)) under \(trainingSpec.sourcePath ?? "the gate's randomization"), "
                 + "\(chunk) iterations of \(config.directions) directions between checks; budget \(budget)"
                 + (config.scenarios.map { "; \($0.count) gate failures replayed in \(config.scenarioDirections) directions" } ?? "")
                 + (config.starts.map { "; \($0.count) recorded failure states in \(config.startDirections) directions" } ?? ""))

        var checks: [Check] = []
        var best: (check: Check, state: ARSCheckpoint)?
        var steps = 0
        var trainingSeconds = 0.0
        var lastChunkSeconds = 0.0, lastChunkSteps = 0, lastCheckSeconds = 0.0
        var stop: StopReason = .budgetSpent
        var after: GateResult?
        var chosen: (path: String, state: ARSCheckpoint)?
        var checkIndex: UInt64 = 0, confirmations: UInt64 = 0
        while budget.allows(elapsed: elapsed(), steps: steps, nextSeconds: lastChunkSeconds + lastCheckSeconds, nextSteps: lastChunkSteps) {
            // Train one chunk.
            config.iterations = state.iteration + chunk
            let trainer = try ARSTrainer(robot: robot, randomization: trainingSpec, config: config)
            let t0 = ContinuousClock.now
            var chunkSteps = 0
            state = try trainer.train(from: state, progress: { log in
                chunkSteps += log.environmentSteps
                progress(String(format: "  iter %3d  mean return %8.2f  best %8.2f  %7.0f env steps/s", log.iteration, log.meanReturn, log.bestReturn,
                                log.stepsPerSecond))
            })
            lastChunkSeconds = (ContinuousClock.now - t0).seconds
            lastChunkSteps = chunkSteps
            trainingSeconds += lastChunkSeconds
            steps += chunkSteps
            // Export the candidate and check it on fresh trials.
            let candidate = "\(outputDirectory)/candidate-\(state.iteration).onnx"
            try OnnxWriter.write(trainer.exportedPolicy(state), metadata: metadata(iteration: state.iteration), to: candidate)
            checkIndex += 1
            let c = try check(candidate, seed: seed &+ checkIndex, iteration: state.iteration)
            lastCheckSeconds = c.seconds
            checks.append(c)
            progress("  check after \(state.iteration) iterations (fresh trials, seed \(c.seed)): \(c.successes)/\(c.trials) \(c.decision): \(c.reason)  "
                + "[\(Self.clock(elapsed()))]")
            if best == nil || Self.rate(c) > Self.rate(best!.check) { best = (c, state) }
            guard c.decision == .go else { continue }
            // Confirm on trials nothing has seen.
            confirmations += 1
            let confirmationSeed = seed &+ 1000 &+ confirmations
            progress("③ the check passes: confirming on fresh trials (seed \(confirmationSeed))")
            let confirmationStart = ContinuousClock.now
            let confirmation = try validate(candidate, seed: confirmationSeed, what: "confirmation")
            let s = confirmation.summary
            let confirmed = s.decision == .go && s.successes >= needed
            checks.append(Check(iteration: state.iteration, seed: confirmationSeed, trials: s.trials, successes: s.successes,
                                decision: s.decision, reason: s.reason + (s.decision == .go && !confirmed ? "; below the margin (\(needed) needed to "
                                    + "stop)" : ""),
                                confirmation: true, policy: candidate, seconds: (ContinuousClock.now - confirmationStart).seconds))
            after = confirmation
            chosen = (candidate, state)
            if confirmed {
                stop = .gatePasses
                break
            }
        }
        if stop != .gatePasses {
            // The budget is spent: keep the best checked policy, validated on the fresh trials.
            guard let best else {
                throw TetherError("the budget (\(budget)) was spent before one training chunk finished", at: "--budget",
                                  hint: "give more time or steps (one chunk of \(chunk) iterations takes about \(Self.clock(lastChunkSeconds)))")
            }
            if chosen?.path != best.check.policy || after == nil {
                let freshSeed = seed &+ 1000 &+ confirmations &+ 1
                progress("③ budget spent: keeping the best checked policy (after \(best.check.iteration) iterations, "
                    + "\(best.check.successes)/\(best.check.trials)); validating it on fresh trials (seed \(freshSeed))")
                after = try validate(best.check.policy, seed: freshSeed, what: "after")
            } else {
                progress("③ budget spent: keeping the best checked policy (after \(best.check.iteration) iterations), whose confirmation is the after")
            }
            chosen = (best.check.policy, best.state)
        }
        // The chosen policy as improved.onnx, with its checkpoint (a further improve warm-starts from it).
        let final = "\(outputDirectory)/improved.onnx"
        try? FileManager.default.removeItem(atPath: final)
        try FileManager.default.copyItem(atPath: chosen!.path, toPath: final)
        var finalState = chosen!.state
        finalState.config.iterations = finalState.iteration
        try finalState.write(to: final + ".checkpoint.json")
        // The before gate's failures, run again with the chosen policy (trained on: reported as such).
        var fixed = 0
        if !failures.isEmpty {
            let rerun = try simulation.run(indices: failures.map(\.trial), seed: seed) { try OnnxPolicy(path: final, manifest: manifest) }
            fixed = rerun.filter(\.success).count
        }
        after?.identity.policy = final
        return Outcome(before: before, after: after, policy: final, checks: checks, stopReason: stop, iterations: finalState.iteration,
                       environmentSteps: steps, trainingSeconds: trainingSeconds, checkSeconds: elapsed() - trainingSeconds,
                       wallSeconds: elapsed(), scenariosFixed: fixed, scenariosTotal: failures.count)
    }

    private func metadata(iteration: Int) -> [String: String] {
        var m = metadata
        m["training"] = "ARS V2-t, warm-started from \((policyPath as NSString).lastPathComponent), \(iteration) iterations (tether improve)"
        return m
    }

    static func rate(_ c: Check) -> Double { Double(c.successes + 1) / Double(c.trials + 2) }
    static func percent(_ x: Double) -> String { String(format: "%.1f %%", 100 * x) }
    static func clock(_ s: Double) -> String { s >= 60 ? String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) : String(format: "%.0f s", s) }
}
