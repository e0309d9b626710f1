import ArgumentParser
import Foundation
import TetherCore
import TetherPolicy
import TetherSim
import TetherValidation

struct Trials: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run N deployment trials of a walking policy and write one trial record per line (JSON Lines).",
        discussion: """
        Each trial is a fresh robot taken through the full runtime (stand-up → policy → stop, \
        safety wrapper, flight recorder) on a simulated clock. The emulator's truth seed of trial i \
        derives from (--seed, i). Writes DIR/trials.jsonl and, per trial, DIR/trial-NNN.mcap \
        (continuous recording). Compare two sets with `tether report`. See docs/gap-report.md.

        Examples:
          tether trials --policy policies/quadruped.onnx --backend sim --count 10 --out runs/sim
          tether trials --policy policies/quadruped.onnx --backend emulator --truth typical --count 10 --out runs/typical
          tether trials --policy policies/quadruped.onnx --backend ros2 --count 10 --pause 20 --out runs/real   # a robot on ROS 2
        """
    )

    @Option(help: "Built-in robot name or manifest path.") var robot = "quadruped"
    @Option(help: "ONNX policy.") var policy: String
    @Option(help: "Backend: sim or emulator (in-process, simulated clock), or ros2 (the manifest's topics, real time).") var backend = "sim"
    @Flag(help: "ros2: keep DDS on the loopback interface (one machine).") var loopback = false
    @Option(help: "ros2: seconds between trials, to reposition the robot.") var pause = 3.0
    @Option(help: "Emulator truth: preset (mild, typical, harsh) or truth YAML.") var truth = "typical"
    @Option(help: "Number of trials.") var count = 10
    @Option(help: "Length of each trial, s.") var seconds = 15.0
    @Option(help: "Output folder (trials.jsonl and one MCAP per trial).") var out = "trials"
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Success distance, m (default: the task's, scaled to the policy time).") var successDistance: Double?
    @Option(help: "Oscillation cutoff, Hz.") var oscillationHz = 10.0
    @Option(help: "Torque stage in percent: 25, 50 or 100 (default: the manifest's).") var stage: Int?
    @Flag(help: "Do not write flight recordings.") var noRecord = false
    @Flag(help: "Emulator: rerun the trials with each truth group (physics, actuators, sensors, link) set back to nominal; writes DIR/attribution.json.") var attribute = false

    func validate() throws {
        if attribute && backend != "emulator" { throw ValidationError("--attribute needs --backend emulator (its truth is what is set back to nominal)") }
        guard pause >= 0 else { throw ValidationError("--pause must be zero or positive (seconds)") }
        if let stage, ![25, 50, 100].contains(stage) { throw ValidationError("--stage must be 25, 50 or 100 (percent of the torque limits)") }
    }

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        let manifest = robotModel.manifest
        var plan = try report {
            try TrialPlan(backend: backend, truth: truth, count: count, seconds: seconds, seed: seed, successDistance: successDistance,
                          oscillationCutoffHz: oscillationHz, recordingFolder: noRecord ? nil : out,
                          stage: stage.map { Double($0) / 100 })
        }
        plan.loopback = loopback
        plan.pauseSeconds = pause
        _ = try report { try OnnxPolicy(path: policy, manifest: manifest) }  // fail before the first trial
        try report { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
        emit("tether trials: \(manifest.name), policy \(policy), backend \(backend)\(backend == "emulator" ? " (truth \(truth))" : ""), \(count) × \(fmt(seconds, 1)) s, success ≥ \(fmt(plan.requiredDistance(task: manifest.task), 2)) m, stage \(stage.map { "\($0) %" } ?? "the manifest's")")
        let path = policy
        let records = try report {
            try plan.run(robot: robotModel, policyName: policy, makePolicy: { try OnnxPolicy(path: path, manifest: manifest) }) { r in
                emit(String(format: "  trial %3d/%d  %@  distance %5.2f m  policy %5.2f s  %@", r.trial + 1, count, r.success ? "ok  " : "FAIL",
                            r.distance, r.episodeSeconds, r.failureMode + (r.stopReason.map { " (\($0))" } ?? "")))
            }
        }
        let file = (out as NSString).appendingPathComponent("trials.jsonl")
        try report { try TrialRecords.write(records, to: file) }
        HistoryHooks.trials(records, robot: manifest.name, policy: policy, backend: backend, truth: backend == "emulator" ? truth : nil, artifact: file)
        let successes = records.filter(\.success).count
        let wilson = GapStatistics.wilson(successes: successes, trials: records.count)
        emit("success \(successes)/\(records.count) (\(fmt(100 * Double(successes) / Double(records.count), 1)) %, 95 % \(fmt(100 * wilson[0], 1))–\(fmt(100 * wilson[1], 1)) %); records \(file)")
        guard attribute else { return }
        emit("gap attribution: the same \(count) trials with each truth group set back to nominal")
        let attribution = try report {
            try GapAttribution.run(plan: plan, robot: robotModel, policyName: policy, baseline: records,
                                   makePolicy: { try OnnxPolicy(path: path, manifest: manifest) }) { group, rs in
                emit("  \(group) nominal: success \(rs.filter(\.success).count)/\(rs.count)")
            }
        }
        for e in attribution.entries {
            emit(String(format: "  %@ nominal  success %2d/%d  %+6.1f pp  Fisher p %.3g  mean distance %.2f m", e.nominal.padding(toLength: 10, withPad: " ", startingAt: 0), e.successes, e.trials,
                        e.changePercentagePoints, e.fisherP, e.meanDistance))
        }
        emit(attribution.explaining.isEmpty ? "no single group explains the failures" : "explained by: \(attribution.explaining.joined(separator: ", "))")
        let attributionFile = (out as NSString).appendingPathComponent("attribution.json")
        try report {
            do { try attribution.json().write(to: URL(fileURLWithPath: attributionFile)) } catch {
                throw TetherError("cannot write the attribution: \(error.localizedDescription)", at: attributionFile)
            }
        }
        emit("attribution \(attributionFile)")
    }
}
