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

        On a robot (every backend but sim) the deployment gate applies as for `tether deploy`: \
        the policy's last validation for this robot and manifest must say GO under a \
        randomization, or --override "reason" runs it anyway; each trial record, each recording \
        and the history say which (docs/deployment-gate.md).

        Examples:
          tether trials --policy policies/quadruped.onnx --backend sim --count 10 --out runs/sim
          tether trials --policy policies/quadruped.onnx --backend emulator --truth typical --count 10 --out runs/typical --override "gap measurement of \
        the shipped policy"
          tether trials --policy policies/quadruped.onnx --backend sim --calibration cal/ --attribute --real runs/typical/trials.jsonl --count 20 --out \
        runs/calibrated
          tether trials --policy policies/quadruped.onnx --backend ros2 --count 10 --pause 20 --out runs/real   # a robot on ROS 2
        """
    )

    @Option(help: "Built-in robot name or manifest path.") var robot = "quadruped"
    @Option(help: "ONNX policy.") var policy: String
    @OptionGroup var engine: PolicyEngineArguments
    @Option(help: "Backend: sim or emulator (in-process, simulated clock), ros2 (the manifest's topics) or unitree (Unitree's protocol), real time.",
            transform: RobotBackend.argument) var backend: RobotBackend = .sim
    @Flag(help: "ros2, unitree: keep DDS on the loopback interface (one machine).") var loopback = false
    @Option(help: "ros2, unitree: seconds between trials, to reposition the robot.") var pause = 3.0
    @Option(help: "Emulator truth: preset (mild, typical, harsh) or truth YAML.") var truth = "typical"
    @Option(help: "Number of trials.") var count = 10
    @Option(help: "Length of each trial, s.") var seconds = 15.0
    @Option(help: "Output folder (trials.jsonl and one MCAP per trial).") var out = "trials"
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Success distance, m (default: the task's, scaled to the policy time).") var successDistance: Double?
    @Option(help: "Oscillation cutoff, Hz.") var oscillationHz = 10.0
    @Option(help: "Torque stage in percent: 25, 50 or 100 (default: the manifest's).", transform: TorqueStage.argument) var stage: TorqueStage?
    @Flag(help: "Do not write flight recordings.") var noRecord = false
    @Flag(help: ArgumentHelp("sim: each trial starts hung on a gantry at the standing height, let go at the end of the stand-up (humanoids, which cannot "
        + "stand up from "
        + "lying).")) var gantry = false
    @Option(help: ArgumentHelp("sim: run in the calibrated simulation (calibration.yaml or the folder `tether calibrate` wrote): patched model, measured "
        + "driver lag and "
        + "dead time, sensor noise.")) var calibration: String?
    @Flag(help: ArgumentHelp("Rerun the trials with each group set back to nominal: calibrated parameter groups (sim with --calibration) or truth groups "
        + "(emulator); "
        + "writes DIR/attribution.json.")) var attribute = false
    @Flag(inversion: .prefixedNo,
          help: "With --attribute: rerun each explaining group once per member (that parameter alone nominal), to name which one it is.") var drillDown = true
    @Option(help: "With --calibration: the real trials (trials.jsonl) the calibrated simulation is compared with.") var real: String?
    @Option(name: .customLong("override"),
            help: ArgumentHelp("Run on a robot without a GO validation, for this reason (recorded in each trial record, recording and the history).",
                               valueName: "reason")) var overrideReason: String?

    func validate() throws {
        if calibration != nil && backend != .sim { throw ValidationError("--calibration runs the calibrated simulation: it needs --backend sim") }
        if attribute && backend == .sim && calibration == nil {
            throw ValidationError("--attribute needs something to set back to nominal: --backend sim with --calibration CAL (calibrated parameters), or "
                + "--backend emulator (the virtual robot's truth)")
        }
        if attribute && !backend.isInProcess { throw ValidationError("--attribute reruns trials with parameters set back to nominal; a robot over "
            + "\(backend) has none to set: run it on the sim backend with --calibration") }
        if real != nil && (calibration == nil || !attribute) {
            throw ValidationError("--real compares the calibrated simulation with real trials in the attribution: add --calibration CAL --attribute")
        }
        guard pause >= 0 else { throw ValidationError("--pause must be zero or positive (seconds)") }
        if gantry && backend != .sim { throw ValidationError("--gantry hangs the simulated robot (--backend sim); a real robot is hung and lowered by its "
            + "operator") }
        try checkOverride(overrideReason)
    }

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        let manifest = robotModel.manifest
        var plan = try report {
            try TrialPlan(backend: backend, truth: truth, count: count, seconds: seconds, seed: seed, successDistance: successDistance,
                          oscillationCutoffHz: oscillationHz, recordingFolder: noRecord ? nil : out,
                          stage: stage)
        }
        plan.loopback = loopback
        plan.pauseSeconds = pause
        plan.gantry = gantry
        if let calibration { plan.calibrated = try report { try CalibratedSimulation.load(path: calibration, robot: robotModel) } }
        let realRecords = try real.map { path in try report { try TrialRecords.read(path: path) } }
        if let real, realRecords?.isEmpty == true {
            try report { throw TetherError("no trial records in \(real)", at: real, hint: "pass the trials.jsonl of the real (or emulated) trials") }
        }
        _ = try report { try OnnxPolicy(path: policy, manifest: manifest) }  // fail before the first trial
        plan.gate = try deploymentGate(robot: robotModel, robotOption: robot, policy: policy, backend: backend, override: overrideReason) { emit($0) }
        try report { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
        let setting = backend == .emulator ? " (truth \(truth))" : plan.calibrated.map { " (calibrated: \($0.source))" } ?? ""
        emit("tether trials: \(manifest.name), policy \(policy), backend \(backend)\(setting), \(count) × \(fmt(seconds, 1)) s, success ≥ "
            + "\(fmt(plan.requiredDistance(task: manifest.task), 2)) m, stage "
                + "\(stage.map { "\($0)" } ?? "\(Int((manifest.safety.torqueStage * 100).rounded())) % (the manifest's)")")
        if (stage?.fraction ?? manifest.safety.torqueStage) < 1, manifest.task?.kind == .walk {
            emit("note: below 100 % torque the robot may not do the task (the chapter gives 25 % to slow, safe movements); the gate validated full torque: "
                + "--stage 100 measures what it predicts")
        }
        let path = policy
        let records = try report {
            try plan.run(robot: robotModel, policyName: policy, makePolicy: { try OnnxPolicy(path: path, manifest: manifest) }) { r in
                emit(String(format: "  trial %3d/%d  %@  distance %5.2f m  policy %5.2f s  %@", r.trial + 1, count, r.success ? "ok  " : "FAIL",
                            r.distance, r.episodeSeconds, r.failureMode + (r.stopReason.map { " (\($0))" } ?? "")))
            }
        }
        let file = (out as NSString).appendingPathComponent("trials.jsonl")
        try report { try TrialRecords.write(records, to: file) }
        HistoryHooks.trials(records, robot: manifest.name, policy: policy, backend: backend,
                            truth: backend == .emulator ? truth : plan.calibrated.map { "calibrated (\($0.source))" }, artifact: file, gate: plan.gate)
        let tally = TrialTally(records)
        emit("success \(tally.successes)/\(tally.trials) (\(fmt(100 * tally.rate, 1)) %, 95 % "
            + "\(fmt(100 * tally.wilson.lower, 1))–\(fmt(100 * tally.wilson.upper, 1)) %); records \(file)")
        if attribute { try attribute(plan: plan, robotModel: robotModel, baseline: records, realRecords: realRecords) }
    }

    /// `--attribute`: the same trials with each group set back to nominal, compared; writes DIR/attribution.json.
    private func attribute(plan: TrialPlan, robotModel: RobotModel, baseline records: [TrialRecord], realRecords: [TrialRecord]?) throws {
        let manifest = robotModel.manifest, path = policy
        if let calibrated = plan.calibrated {
            emit("calibrated simulation: " + calibrated.groups.map { "\($0.name) (\($0.summary))" }.joined(separator: "; "))
            for s in calibrated.skipped { emit("  not simulated: \(s)") }
        }
        emit("gap attribution: the same \(count) trials with each \(plan.calibrated == nil ? "truth group" : "group of calibrated parameters") set back to "
            + "nominal")
        var attribution = try report {
            try GapAttribution.run(plan: plan, robot: robotModel, policyName: policy, baseline: records, drillDown: drillDown,
                                   makePolicy: { try OnnxPolicy(path: path, manifest: manifest) }) { group, rs in
                emit("  \(group) nominal: success \(rs.filter(\.success).count)/\(rs.count)")
            }
        }
        for e in attribution.entries {
            let name = e.within == nil ? e.nominal : "  ↳ " + e.nominal
            emit(String(format: "  %@ nominal  success %2d/%d  %+6.1f pp  Fisher p %.3g  mean distance %.2f m", name.padding(toLength: max(18, name.count),
                withPad: " ", startingAt: 0), e.successes, e.trials,
                        e.changePercentagePoints, e.fisherP, e.meanDistance))
        }
        if let realRecords {
            let real = TrialTally(realRecords)
            attribution.compare(realSuccesses: real.successes, realTrials: real.trials)
            if let v = attribution.versusReal {
                let verdict = v.verdict == "differs" ? "the calibrated simulation does NOT reproduce the real rate"
                    : v.verdict == "too few trials" ? "too few trials to tell" : "consistent"
                emit(String(format: "calibrated simulation %d/%d vs real %d/%d (Fisher p %.3g): %@", attribution.entries[0].successes,
                            attribution.entries[0].trials,
                            v.realSuccesses, v.realTrials, v.fisherP, verdict))
            }
        }
        emit(attribution.explanation)
        let attributionFile = (out as NSString).appendingPathComponent("attribution.json")
        try writeOutput(to: attributionFile, what: "the attribution") { try attribution.json() }
        emit("attribution \(attributionFile)")
    }
}
