import ArgumentParser
import Foundation
import TetherCore
import TetherPolicy
import TetherSim
import TetherValidation

struct Improve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One iteration of the improvement loop: validate, extract the failures, retrain warm-started, validate again.",
        discussion: """
        Validates the policy under the randomization (e.g. the one calibration derived), writes \
        the failed trials as reproducible scenarios (seed + trial index + drawn parameters), \
        retrains with ARS warm-started from the policy under the same randomization, validates \
        the new policy on the same trials, and reports before / after (success, Wilson \
        intervals, Fisher's exact test, scenarios fixed). Redeploy the new policy with \
        `tether deploy --policy DIR/improved.onnx`.

        Examples:
          tether improve --robot quadruped --policy policies/quadruped.onnx --randomize calibration/randomization.yaml --out improve/
        """
    )

    @Option(help: "Built-in robot name or manifest path.") var robot = "quadruped"
    @Option(help: "ONNX policy to improve (its training checkpoint beside it is used for the warm start).") var policy: String
    @Option(help: "Randomization spec (YAML).") var randomize: String
    @Option(help: "Retraining iterations.") var iterations = 15
    @Option(help: "Validation trials before and after.") var trials = 60
    @Option(help: "Validation seed (the same trials before and after).") var seed: UInt64 = 7
    @Option(help: "Training seed.") var trainingSeed: UInt64 = 2
    @Option(help: "Output folder.") var out = "improve"
    @Option(help: "Trials folder of the deployed policy (tether trials on the virtual or real robot): its failures are extracted from the flight recordings and replayed in simulation.") var recordings: String?
    @Option(help: "Seconds before each recorded failure to extract.") var window = 2.0
    @Option(help: "Share of each training iteration's directions that replay the gate's failure scenarios (0: none).") var scenarioShare = 0.125
    @Option(help: "Share of each training iteration's directions that start from a recorded failure's state (with --recordings; 0: none).") var startShare = 0.125
    @Flag(help: "Only extract and replay the recorded failures (with --recordings); no retraining.") var replayOnly = false
    @Option(help: "Redeploy on the virtual robot with this truth (preset or YAML): trials of the policy before and after on it, compared.") var redeployTruth: String?
    @Option(help: "Trials per policy when redeploying.") var redeployCount = 10
    @Option(help: "Length of each redeployment trial, s.") var redeploySeconds = 15.0
    @Option(help: "Torque stage of the redeployment trials in percent (25, 50, 100).") var redeployStage = 100

    func validate() throws {
        if replayOnly && recordings == nil { throw ValidationError("--replay-only needs --recordings DIR (a tether trials folder)") }
        if ![25, 50, 100].contains(redeployStage) { throw ValidationError("--redeploy-stage must be 25, 50 or 100 (percent)") }
        guard redeployCount > 0 else { throw ValidationError("--redeploy-count must be positive") }
        guard scenarioShare >= 0, scenarioShare <= 1 else { throw ValidationError("--scenario-share must be in [0, 1]") }
        guard startShare >= 0, startShare <= 1 else { throw ValidationError("--start-share must be in [0, 1]") }
        guard window > 0 else { throw ValidationError("--window must be positive (seconds)") }
    }

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        try report {
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                throw TetherError("cannot create the output folder: \(error.localizedDescription)", at: out)
            }
        }
        func validate(_ policyPath: String, _ name: String) throws -> GateResult {
            let gate = try Validate.RunGate.parse(["--robot", robot, "--policy", policyPath, "--randomize", randomize, "--trials", "\(trials)",
                                                   "--seed", "\(seed)", "--out", "\(out)/\(name).json", "--report", "\(out)/\(name).html"])
            try gate.run()
            return try report { try GateResult.load(path: "\(out)/\(name).json") }
        }
        var recordedStates = 0
        if let recordings {
            recordedStates = try replayRecorded(recordings, robotModel: robotModel)
            if replayOnly { return }
        }
        try report { try refuseRecurrentWarmStart(policy) }
        emit("① validate \(policy)")
        let before = try validate(policy, "before")
        let scenarios = ImprovementLoop.scenarios(from: before)
        try writeOutput(to: "\(out)/failure-scenarios.yaml", what: "the scenarios") {
            Data(ImprovementLoop.scenariosYAML(scenarios, policy: policy, randomization: randomize).utf8)
        }
        emit("② \(scenarios.count) failure scenarios → \(out)/failure-scenarios.yaml")
        let useStarts = recordedStates > 0 && startShare > 0
        emit("③ retrain, warm-started from \(policy), \(iterations) iterations under \(randomize), replaying the failure scenarios"
             + (useStarts ? " and starting from the \(recordedStates) recorded failure states" : ""))
        var arguments = ["--robot", robot, "--warm-start", policy, "--randomize", randomize, "--iterations", "\(iterations)",
                         "--seed", "\(trainingSeed)", "--out", "\(out)/improved.onnx"]
        if !scenarios.isEmpty, scenarioShare > 0 { arguments += ["--scenarios", "\(out)/failure-scenarios.yaml", "--scenario-share", "\(scenarioShare)"] }
        if useStarts { arguments += ["--starts", "\(out)/recorded-scenarios.json", "--start-share", "\(startShare)"] }
        if robotModel.manifest.task?.kind == .walk { arguments += ["--gait", "trot", "--episode-seconds", "15"] }
        let train = try Train.parse(arguments)
        try train.run()
        emit("④ validate \(out)/improved.onnx on the same trials")
        let after = try validate("\(out)/improved.onnx", "after")
        let comparison = try report { try ImprovementLoop.compare(before: before, after: after) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeOutput(to: "\(out)/improve.json", what: "improve.json") { try encoder.encode(comparison) }
        HistoryHooks.improvement(comparison, robot: robotModel.manifest.name, artifact: "\(out)/improve.json")
        let b = comparison.before, a = comparison.after
        print(String(format: "improve: success %d/%d (%.1f %%, %@) → %d/%d (%.1f %%, %@), %+.1f points, Fisher p = %.3g; %d of %d failure scenarios now pass",
                     b.successes, b.trials, 100 * b.rate, b.decision, a.successes, a.trials, 100 * a.rate, a.decision, comparison.change,
                     comparison.fisherP, comparison.scenariosFixed, comparison.scenariosTotal))
        print("  new policy \(out)/improved.onnx (redeploy: tether deploy --policy \(out)/improved.onnx); reports \(out)/before.html, \(out)/after.html")
        if let redeployTruth { try redeploy(truth: redeployTruth, robotModel: robotModel) }
    }

    /// Failures out of the flight recordings of `folder`, replayed in simulation; writes
    /// recorded-scenarios.yaml and .json. Returns how many measured start states training can use.
    private func replayRecorded(_ folder: String, robotModel: RobotModel) throws -> Int {
        emit("⓪ failures in the flight recordings of \(folder) (\(fmt(window, 1)) s before each)")
        let manifest = robotModel.manifest, path = policy
        _ = try report { try OnnxPolicy(path: path, manifest: manifest) }
        let spec = try report { try RandomizationSpec.load(path: randomize) }
        let extracted = try report { try RecordedFailures.extract(trials: folder, robot: robotModel, window: window) }
        let replayed = try report {
            try RecordedFailures.replay(extracted, robot: robotModel, makePolicy: { try OnnxPolicy(path: path, manifest: manifest) }, randomization: spec)
        }
        for s in replayed {
            let r = s.replay!
            emit(String(format: "  trial %3d  %@ at %.2f s  peak tilt %.2f rad, rate %.2f rad/s  %@", s.trial, s.failureMode, s.failureTime, s.peakTilt, s.peakAngularRate,
                        s.interventions.isEmpty ? "" : "interventions " + s.interventions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
            emit("             replay: nominal \(r.nominalOutcome) after \(fmt(r.nominalSeconds, 2)) s, randomized \(r.randomizedReproduced)/\(r.randomizedDraws) reproduce: \(r.verdict)")
        }
        let yamlPath = "\(out)/recorded-scenarios.yaml", jsonPath = "\(out)/recorded-scenarios.json"
        try writeOutput(to: yamlPath, what: "the recorded scenarios") { Data(RecordedFailures.yaml(replayed, policy: path).utf8) }
        try writeOutput(to: jsonPath, what: "the recorded scenarios") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return try encoder.encode(replayed)
        }
        emit("  \(replayed.count) recorded failure\(replayed.count == 1 ? "" : "s") → \(yamlPath), \(jsonPath)")
        return RecordedFailures.starts(replayed, manifest: manifest).count
    }

    /// Trials of the policy before and after on the virtual robot with the same truth and seeds
    /// (the same robots), compared; writes redeploy.json and the two trial folders.
    private func redeploy(truth: String, robotModel: RobotModel) throws {
        emit("⑤ redeploy on the virtual robot (truth \(truth)): \(redeployCount) trials each of \(policy) and \(out)/improved.onnx")
        let manifest = robotModel.manifest
        func trials(_ path: String, _ folder: String) throws -> [TrialRecord] {
            let plan = try report {
                try TrialPlan(backend: "emulator", truth: truth, count: redeployCount, seconds: redeploySeconds, seed: seed,
                              recordingFolder: "\(out)/\(folder)", stage: Double(redeployStage) / 100)
            }
            try report { try FileManager.default.createDirectory(atPath: "\(out)/\(folder)", withIntermediateDirectories: true) }
            let records = try report {
                try plan.run(robot: robotModel, policyName: path, makePolicy: { try OnnxPolicy(path: path, manifest: manifest) }) { r in
                    emit(String(format: "  %@ trial %3d  %@  distance %5.2f m  %@", folder, r.trial + 1, r.success ? "ok  " : "FAIL", r.distance, r.failureMode))
                }
            }
            try report { try TrialRecords.write(records, to: "\(out)/\(folder)/trials.jsonl") }
            HistoryHooks.trials(records, robot: manifest.name, policy: path, backend: "emulator", truth: truth, artifact: "\(out)/\(folder)/trials.jsonl")
            return records
        }
        let before = try trials(policy, "redeploy-before"), after = try trials("\(out)/improved.onnx", "redeploy-after")
        let comparison = RedeployComparison(before: before, after: after, truth: truth)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeOutput(to: "\(out)/redeploy.json", what: "redeploy.json") { try encoder.encode(comparison) }
        print(String(format: "redeploy on the virtual robot: success %d/%d → %d/%d (%+.1f points, Fisher p = %.3g); mean distance %.2f → %.2f m; %@/redeploy.json",
                     comparison.beforeSuccesses, comparison.trials, comparison.afterSuccesses, comparison.trials, comparison.change,
                     comparison.fisherP, comparison.beforeMeanDistance, comparison.afterMeanDistance, out))
    }
}
