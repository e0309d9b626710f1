import ArgumentParser
import Foundation
import TetherCalibration
import TetherCore
import TetherEmulator
import TetherHistory
import TetherONNX
import TetherPolicy
import TetherRender
import TetherReport
import TetherROS
import TetherRuntime
import TetherSafety
import TetherSim
import TetherValidation
import TetherVision

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole loop on the built-in robot, with no hardware.",
        discussion: """
        The chapter's loop on the built-in quadruped and a virtual robot it was not made for (the \
        field: robots/quadruped/field-truth.yaml, a slow link, a heavier body, a slippery floor): \
        the manifest checked, simulation standing and pushed, randomized batches, the default \
        policies in trials, a deployment rehearsal with an e-stop and its flight recording; then \
        experiments on the virtual robot and a calibration from the recordings alone, the \
        validation gate under the robot as measured (NO-GO), the deployment gate refusing the \
        policy, trials under a recorded override and the gap report (with the gate against the \
        robot and the attribution), the improvement loop until the gate passes, the deployment \
        gate clearing the new policy, a staged deployment (25 % stand and hold, 50 % a short \
        walk, 100 % the task in trials) and its gap report, the vision stage and the history. \
        Everything is linked from out/index.html.

        Examples:
          tether demo
          tether demo --trials 64 --seed 7
        """
    )

    @Option(help: "Built-in robot name or manifest path.") var robot = "quadruped"
    @Option(help: "Randomized trials in the batch stage.") var trials = 32
    @Option(help: "Seed of the batch stage.") var seed: UInt64 = 1

    func run() throws {
        Self.useDemoHistory()
        try simulationBasics()
        try defaultPolicies()
        try deploymentRehearsal()
        try virtualRobotFirstLook()
        try experimentsAndCalibration()
        try validationAndGap()
        try firstStageGap()
        try improveAndRedeploy()
        try vision()
        liveVisionGap()
        try historyAndIndex()
    }

    /// ① the manifest against its model, ② standing, ③ pushes, ④ a randomized batch.
    func simulationBasics() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        let m = robotModel.manifest
        print("① manifest: \(m.name) checked against \(URL(fileURLWithPath: robotModel.model.source).lastPathComponent): \(m.joints.count) joints, obs "
            + "\(m.observationSize), action \(m.actionSize), \(fmt(robotModel.model.totalMass, 2)) kg")

        let stand = HoldRollout(seconds: 5).run(SimRobot(robot: robotModel))
        print("② stand 5 s: held=\(stand.held) max tilt \(fmt(Units.degrees(radians: stand.maxTilt ?? 0), 2))°, max joint dev "
            + "\(fmt(stand.maxJointDeviation)) rad, \(fmt(stand.realTimeFactor, 0))x real time")

        let pushes = (0..<3).map { HoldRollout.Push(time: 1.5 + Double($0), force: SIMD2(25 * cos(Double($0) * 2.4), 25 * sin(Double($0) * 2.4)),
                                                    duration: 0.1) }
        let pushed = HoldRollout(seconds: 5, pushes: pushes).run(SimRobot(robot: robotModel))
        print("③ three 25 N pushes: held=\(pushed.held) max tilt \(fmt(Units.degrees(radians: pushed.maxTilt ?? 0), 2))°")

        // ④ A randomized batch: the seed of domain randomization (friction and payload).
        let batch = BatchRollout(trials: trials, seed: seed)
        let footGeoms = robotModel.model.names(of: .geom).filter { $0.hasSuffix("_foot_geom") }
        let baseBody = m.base?.body
        let results = try report {
            try robotModel.rollouts(batch) { sim, random, _ -> (Double, Double, Bool) in
                let friction = random.uniform(0.4, 1.2)
                for g in footGeoms { try sim.robot.model.set(.geomFriction(g), [friction, 0.02, 0.01]) }
                var payload = 0.0
                if let baseBody {
                    payload = random.uniform(-0.5, 1.5)
                    let mass = try sim.robot.model.get(.bodyMass(baseBody))[0]
                    try sim.robot.model.set(.bodyMass(baseBody), [mass + payload])
                }
                sim.reset()
                let push = HoldRollout.Push(time: 1.0, force: SIMD2(random.uniform(-30, 30), random.uniform(-30, 30)), duration: 0.1)
                let summary = HoldRollout(seconds: 3, pushes: [push]).run(sim)
                return (friction, payload, summary.held)
            }
        }
        let held = results.filter(\.2).count
        print("④ \(trials) randomized trials on \(batch.threads) threads (friction 0.4–1.2, payload −0.5…+1.5 kg, one push ≤ 42 N): \(held)/\(trials) held "
            + "their pose")
        if held < trials {
            for r in results where !r.2 { print("    fell: friction \(fmt(r.0, 2)), payload \(fmt(r.1, 2)) kg") }
        }
    }

    /// ⑤ The committed default policies, checked against their manifests, run in trials.
    func defaultPolicies() throws {
        // ⑤ Policies: the committed default policies, checked against their manifests, run in trials.
        for (name, trialsCount) in [("cartpole", 50), ("quadruped", 20)] {
            guard let root = TetherPaths.checkoutRoot() else { break }
            let path = "\(root)/policies/\(name).onnx"
            guard FileManager.default.fileExists(atPath: path) else {
                print("⑤ policy \(name): no default policy at \(path) yet")
                continue
            }
            let robotModel = try report { try BuiltinRobots.load(name) }
            let manifest = robotModel.manifest
            let summary = try report {
                try PolicyTrials(trials: trialsCount, seed: seed).run(robot: robotModel, policyName: path) {
                    try OnnxPolicy(path: path, manifest: manifest)
                }
            }
            print("⑤ policy \(name) (ONNX Runtime \(OnnxRuntime.version ?? "?")): contract ok, \(summary.successes)/\(summary.trials) trials succeeded (95 "
                + "% CI \(fmt(100 * summary.successInterval.lower, 0))–\(fmt(100 * summary.successInterval.upper, 0)) %), mean distance "
                    + "\(fmt(summary.meanDistance, 2)) m")
        }
    }

    /// ⑥ Safe deployment rehearsal, ⑦ its recording replayed offline at 25 %.
    func deploymentRehearsal() throws {
        // ⑥ Safe deployment rehearsal: passive on the ground → stand up → walk → e-stop → damping stop,
        //    on a simulated clock, with the flight recorder, then the recording replayed offline.
        if let root = TetherPaths.checkoutRoot(), FileManager.default.fileExists(atPath: "\(root)/policies/quadruped.onnx") {
            let robotModel = try report { try BuiltinRobots.load("quadruped") }
            let manifest = robotModel.manifest
            let outDir = "\(root)/out"
            try? FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
            let recording = "\(outDir)/demo-flight.mcap"
            let deployed = try report { () throws -> Deployment.Report in
                let policy = try OnnxPolicy(path: "\(root)/policies/quadruped.onnx", manifest: manifest)
                let clock = ManualClock()
                // No scheduled stop: the operator's e-stop at 10 s ends the walk.
                let schedule = DeploymentSchedule(seconds: 12, policyAt: 3, stopAt: 12)
                let deployment = try Deployment(robot: try RobotBackend.sim.makeRobot(robotModel, clock: clock), policy: policy, stage: .full,
                                                schedule: schedule,
                                                recorder: FlightRecorder(manifest: manifest, path: recording, windowSeconds: 10, clockStart: clock.now()),
                                                clock: clock)
                var pressed = false
                return try deployment.run(schedule) { status in
                    if status.time >= 10, !pressed { deployment.eStopRequest.set("demo operator"); pressed = true }
                }
            }
            print("⑥ deployment (stage 100 %): stood up, walked \(fmt(deployed.distance ?? 0, 2)) m, e-stop at 10 s → \(deployed.stopReason ?? "no stop"), "
                + "damping stop, final phase \(deployed.finalPhase); flight recording \(recording)")
            let config = try report { try SafetyConfig(manifest: manifest, stage: TorqueStage.quarter.fraction) }
            let replayed = SafetyReplay.run(try report { try SafetyReplay.inputs(path: recording, manifest: manifest) }, config: config)
            let bounded = replayed.reduce(0) { $0 + $1.events.filter { $0.hasPrefix("torque_bound") }.count }
            print("⑦ replay of that recording at stage 25 %: \(replayed.count) ticks, \(bounded) torque-bound events, first stop: "
                + "\(replayed.first { $0.mode.hasPrefix("stopped") }?.mode ?? "none")")
        }
    }

    /// ⑧ The same policy on the virtual robot's presets: a first look at the gap.
    func virtualRobotFirstLook() throws {
        // ⑧ The same policy on the virtual robot (hidden imperfections, in-process, simulated clock):
        //    a first look at the sim-to-real gap, before any hardware.
        if let root = TetherPaths.checkoutRoot(), FileManager.default.fileExists(atPath: "\(root)/policies/quadruped.onnx") {
            let robotModel = try report { try BuiltinRobots.load("quadruped") }
            let manifest = robotModel.manifest
            var parts: [String] = []
            for preset in Truth.presetNames {
                let result = try report { () throws -> Deployment.Report in
                    let clock = ManualClock()
                    let virtual = try RobotBackend.emulator.makeRobot(robotModel, clock: clock, setup: .init(truth: preset))
                    // 8 s of walking, no scheduled stop.
                    let schedule = DeploymentSchedule(seconds: 11, policyAt: 3, stopAt: 11)
                    let policy = try OnnxPolicy(path: "\(root)/policies/quadruped.onnx", manifest: manifest)
                    return try Deployment(robot: virtual, policy: policy, stage: .full, schedule: schedule, clock: clock).run(schedule)
                }
                parts.append("\(preset) \(fmt(result.distance ?? 0, 2)) m\(result.stopped ? " (stopped: \(result.stopReason ?? "?"))" : "")")
            }
            print("⑧ virtual robot (hidden truth), 8 s of walking at stage 100 %: " + parts.joined(separator: ", "))
        }
    }

    /// ⑮ The fixture detector (trained on MuJoCo scenes) on the synthetic and the "real" test
    /// sets: COCO mAP of each, the gap, latency per stage, and the detector gap report.
    func vision() throws {
        guard let root = TetherPaths.checkoutRoot(), FileManager.default.fileExists(atPath: "\(root)/fixtures/vision/detector.onnx") else { return }
        let directory = "out/demo-vision"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var options = DetectorOptions()
        options.decode.confidence = 0.001  // mAP needs the whole precision–recall curve
        let model = "\(root)/fixtures/vision/detector.onnx"
        let detector = try report { try Detector(modelPath: model, options: options) }
        var paths: [String: (gt: String, dt: String)] = [:]
        var latency: [DetectionTimings] = []
        for split in ["synthetic", "real"] {
            let gt = "\(root)/fixtures/vision/\(split)/annotations.json", dt = "\(directory)/\(split)-detections.json"
            let result = try report { try DetectorEvaluation.run(detector: detector, groundTruthPath: gt) }
            try writeOutput(to: dt, what: "the detections") { try DetectionResultEntry.encode(result.entries) }
            latency += result.timings
            paths[split] = (gt, dt)
        }
        let gap = try report {
            try DetectionGapReport.load(simGroundTruth: paths["synthetic"]!.gt, simDetections: paths["synthetic"]!.dt,
                                        realGroundTruth: paths["real"]!.gt, realDetections: paths["real"]!.dt)
        }
        try report { try gap.html(generatedAt: Date()).write(to: "\(directory)/report.html") }
        try writeOutput(to: "\(directory)/report.json", what: "the vision report") { try gap.json() }
        HistoryHooks.detection(robot: "quadruped", model: model, set: "synthetic images", stats: gap.sim.stats, images: gap.sim.images,
                               artifact: "\(directory)/report.json")
        HistoryHooks.detection(robot: "quadruped", model: model, set: "real images", stats: gap.real.stats, images: gap.real.images,
                               artifact: "\(directory)/report.json")
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.isEmpty ? 0 : 1000 * s[s.count / 2] }
        print("⑮ vision: the fixture detector (\(detector.classNames.joined(separator: ", ")); trained on MuJoCo scenes) on \(gap.sim.images) synthetic and "
            + "\(gap.real.images) camera-degraded images:")
        print("   mAP@[.5:.95] \(fmt(gap.sim.mAP, 3)) → \(fmt(gap.real.mAP, 3)) (\(fmt(100 * (gap.real.mAP - gap.sim.mAP), 1)) points), AP50 "
            + "\(fmt(gap.sim.ap50, 3)) → \(fmt(gap.real.ap50, 3)); per frame \(fmt(median(latency.map(\.preprocess)), 2)) ms letterbox + "
                + "\(fmt(median(latency.map(\.inference)), 2)) ms inference + \(fmt(median(latency.map(\.postprocess)), 2)) ms decode/NMS (medians)")
        print("   report \(directory)/report.html (JSON twin report.json)")
    }

    /// ⑮b The same detector live, on the virtual robot walking past three objects: its front
    /// camera renders each frame (5 per second of robot time), labels it exactly (MuJoCo's
    /// segmentation) and degrades it as the harsh truth's camera; the detector, on a second DDS
    /// participant (loopback, domain 231), pairs the frames by stamp and scores both, as `tether
    /// emulate --camera front --camera-ground-truth` and `tether detect --ros2 --live-gap` do across
    /// processes. The robot runs on a simulated clock and waits for each due frame, so the frames
    /// are the same whatever the machine's speed. Non-fatal: the reports above stand.
    func liveVisionGap() {
        guard let root = TetherPaths.checkoutRoot(), FileManager.default.fileExists(atPath: "\(root)/fixtures/vision/detector.onnx") else { return }
        let directory = "out/demo-vision/live"
        do {
            var options = DetectorOptions()
            options.decode.confidence = 0.001
            let detector = try Detector(modelPath: "\(root)/fixtures/vision/detector.onnx", options: options)
            let robotModel = try BuiltinRobots.load("quadruped")
            let clock = ManualClock()
            let virtual = try VirtualRobot(robot: robotModel, truth: try Truth.named("harsh"), clock: clock)
            let cameraSide = try DDSParticipant(domain: 231, configuration: DDSParticipant.loopbackConfiguration)
            let detectorSide = try DDSParticipant(domain: 231, configuration: DDSParticipant.loopbackConfiguration)
            let camera = try VirtualCamera(model: virtual.renderModel, camera: "front", participant: cameraSide, width: 320, height: 240, rateHz: 5,
                                           degradation: .forTruth("harsh"), groundTruth: CameraGroundTruth())
            let gap = try LiveDetectionGap(detector: detector, participant: detectorSide, directory: directory)
            let walkDone = StopFlag()
            // The collector thread is the only user of `gap` (and of `collected`) until it has ended.
            let handoff = Handoff((gap: gap, error: Error?.none))
            let collector = Thread {
                do { try handoff.value.gap.collect(frames: 1000, timeout: 20, shouldStop: { walkDone.isSet }) } catch { handoff.value.error = error }
            }
            collector.start()
            camera.start()
            usleep(300_000)  // the subscribers match the publishers
            let schedule = DeploymentSchedule(seconds: 15)  // stands up from 0.5 s to 2.5 s, walks from 3 s to 13.5 s
            let policy = try OnnxPolicy(path: "\(root)/policies/quadruped.onnx", manifest: robotModel.manifest)
            let walk = try Deployment(robot: FilmedRobot(virtual, camera: camera, everyFrame: true), policy: policy, stage: .full, schedule: schedule,
                                      clock: clock).run(schedule)
            usleep(1_500_000)  // the last frames arrive and are scored
            walkDone.set()
            while !collector.isFinished { usleep(10_000) }
            try camera.stop()
            if let error = handoff.value.error { throw error }
            let result = try gap.write()
            print("⑮b the same detector live on the virtual robot (harsh camera, \(camera.framesPublished) frames of a \(fmt(walk.distance ?? 0, 1)) m walk"
                + (walk.stopped ? " stopped by \(walk.stopReason ?? "a safety stop")" : "")
                + " past a cube, a ball and a cylinder; exact boxes from MuJoCo's segmentation): \(gap.frames) frame pairs scored")
            print("   mAP@[.5:.95] \(fmt(result.sim.mAP, 3)) rendered → \(fmt(result.real.mAP, 3)) degraded (\(fmt(100 * (result.real.mAP - result.sim.mAP), 1)) "
                + "points), AP50 \(fmt(result.sim.ap50, 3)) → \(fmt(result.real.ap50, 3)); report \(directory)/detection-gap.html")
        } catch {
            print("⑮b the live detector gap could not run: \(error) (the reports above are complete)")
        }
    }

    /// The demo's runs in its own history database (unless TETHER_HISTORY is set), so that a
    /// demo does not mix into the project's history.
    static func useDemoHistory() {
        if ProcessInfo.processInfo.environment["TETHER_HISTORY"] == nil {
            try? FileManager.default.createDirectory(atPath: "out", withIntermediateDirectories: true)
            setenv("TETHER_HISTORY", "out/demo-history.sqlite", 1)
        }
    }

    /// The history of this demo's runs, and one page that links every report.
    func historyAndIndex() throws {
        if let path = History.defaultPath(), FileManager.default.fileExists(atPath: path) {
            let entries = try report { try History(path: path).entries(.init(robot: "quadruped")) }
            try report { try HistoryReport.html(entries, database: path).write(to: "out/history.html") }
            print("⑯ history (\(path)): \(entries.count) runs of the quadruped recorded by this and earlier demos; the last ones:")
            for e in entries.suffix(6) {
                print("   \(e.kind.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) "
                    + "\(((e.policy ?? "—") as NSString).lastPathComponent.padding(toLength: 16, withPad: " ", startingAt: 0)) \(HistoryReport.result(e))")
            }
        }
        let reports: [(String, String)] = [
            ("Calibration from the virtual robot's experiments", "demo-calibration/report.html"),
            ("Validation gate under the robot as measured (NO-GO), with videos of its first failed trials", "demo-gap/validation.html"),
            ("Gap report: simulation vs virtual robot, the gate against the robot", "demo-gap/gap-report.html"),
            ("Gap report at the first deployment's 25 % torque stage, with attribution", "demo-gap-25/gap-report.html"),
            ("Improvement: NO-GO → GO, every check, the cost", "demo-improve/improve.html"),
            ("Improvement: validation before", "demo-improve/before.html"),
            ("Improvement: validation after, on fresh trials", "demo-improve/after.html"),
            ("Staged redeployment: the gap at 100 % and the gate against the robot", "demo-deploy/gap-report.html"),
            ("Vision: detector mAP, synthetic vs real images", "demo-vision/report.html"),
            ("Vision, live: the detector on the virtual robot's camera, as rendered vs degraded", "demo-vision/live/detection-gap.html"),
            ("History: success rate by run", "history.html"),
        ].filter { FileManager.default.fileExists(atPath: "out/\($0.1)") }
        let items = reports.map { "<li><a href=\"\(Markup.escape($0.1))\">\(Markup.escape($0.0))</a> <code>out/\(Markup.escape($0.1))</code></li>" }
        // The redeployed policy on the virtual robot, as a video (the chapter's deliverable).
        let video = FileManager.default.fileExists(atPath: "out/demo-deploy/redeployed.mp4")
            ? "<h2>The redeployed policy on the virtual robot</h2><video controls width=\"640\" src=\"demo-deploy/redeployed.mp4\">"
                + "</video><p><a href=\"demo-deploy/redeployed.mp4\">demo-deploy/redeployed.mp4</a> (H.264), "
                + "<a href=\"demo-deploy/redeployed.gif\">GIF</a>; rendered from the flight recordings with <code>tether render</code>.</p>" : ""
        let page = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"/><title>Tether demo</title>
        <style>body{font-family:system-ui,sans-serif;max-width:760px;margin:2rem \
        auto;line-height:1.5;color:#222}code{color:#666;font-size:.85em}li{margin:.4rem 0}</style></head>
        <body><h1>Tether demo: the whole loop on the built-in quadruped</h1>
        <p>Experiments and calibration on the virtual robot, validation under the calibrated randomization, trials and the sim-vs-real gap, the improvement \
        loop, staged redeployment, vision, and the history of every run.</p>
        \(video)<ul>\(items.joined())</ul></body></html>
        """
        try writeOutput(to: "out/index.html", what: "the demo's index") { Data(page.utf8) }
        let absolute = URL(fileURLWithPath: "out/index.html").standardizedFileURL.path
        print("done: every report is linked from \(absolute) (open it in a browser)")
    }

    /// The virtual robot the loop runs on: the field truth (a slow link, a heavier body, a slippery
    /// floor), which the shipped policy was not made for.
    static var fieldTruth: String { (TetherPaths.checkoutRoot() ?? ".") + "/robots/quadruped/field-truth.yaml" }

    /// The deployment gate's decision for `policy` on the virtual robot, from the demo's history.
    static func clearance(_ policy: String, override: String? = nil) throws -> DeploymentClearance {
        let manifest = try BuiltinRobots.load("quadruped").manifest
        let subject = try DeploymentGate.Subject(robot: manifest.name, policy: policy, manifest: manifest.sourcePath ?? "", backend: .emulator,
                                                 robotArgument: "quadruped", suggestedRandomization: "out/demo-calibration/randomization.yaml")
        let clearance = try DeploymentGate.clear(subject, source: .default(), override: override)
        HistoryHooks.deployment(clearance, artifact: nil)
        return clearance
    }

    /// ⑬ The improvement loop under the calibrated randomization, until the gate passes; ⑭ the
    /// new policy through the deployment gate and deployed in stages on the virtual robot; the gap
    /// at 100 % and the gate against the robot.
    func improveAndRedeploy() throws {
        guard let root = TetherPaths.checkoutRoot(), FileManager.default.fileExists(atPath: "\(root)/policies/quadruped.onnx") else { return }
        print("⑬ improvement loop: the gate's failures and the robot's recorded failures replayed while ARS trains (warm-started) under the robot")
        print("   as measured, checked on fresh trials every 5 iterations, until the gate would pass (confirmed on other fresh trials)")
        let robotModel = try report { try BuiltinRobots.load("quadruped") }
        let manifest = robotModel.manifest
        let gateSpec = try report { try RandomizationSpec.load(path: "out/demo-calibration/randomization.yaml") }
        var run = ImprovementRun(robot: robotModel, policyPath: "\(root)/policies/quadruped.onnx", gate: gateSpec, training: nil,
                                 budget: try report { try ImprovementBudget(parsing: "6min") }, outputDirectory: "out/demo-improve")
        run.metadata = PolicyContract(manifest: manifest).metadata
        run.config.seed = 2  // tether improve's default --training-seed: the demo runs what the README's command runs
        let workflow = ImprovementWorkflow(run: run, recordings: "out/demo-gap/emulator", history: HistoryHooks.recorder)
        let result = try report { try workflow.perform { emit($0) } }
        if let after = result.outcome.after {
            let b = result.outcome.before.summary, a = after.summary
            print("   improve: gate \(b.successes)/\(b.trials) (\(b.decision.rawValue)) → \(a.successes)/\(a.trials) on fresh trials (\(a.decision.rawValue)); "
                  + "\(result.outcome.stopReason.rawValue) after \(result.outcome.iterations) iterations, \(fmt(result.outcome.wallSeconds, 0)) s; "
                  + "out/demo-improve/improve.html")
        }
        let improved = result.outcome.policy
        let cleared: DeploymentClearance
        do { cleared = try Self.clearance(improved) } catch {
            print("⑭ the deployment gate refuses \(improved): \(String(describing: error).split(separator: "\n").first ?? "")")
            print("   so the demo does not deploy it (the budget ran out before the gate passed; run tether improve again with a larger --budget)")
            return
        }
        print("⑭ the deployment gate clears \(improved): \(cleared.sentence)")
        print("   staged deployment on the virtual robot (the field), each stage with its task, the next only when the last passed:")
        let directory = "out/demo-deploy"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var staged = StagedDeployment(backend: .emulator, truth: Self.fieldTruth, seed: 21, recordingFolder: directory)
        staged.gate = cleared
        let results = try report {
            try staged.run(robot: robotModel, policyName: improved, makePolicy: { try OnnxPolicy(path: improved, manifest: manifest) }) { r in
                print("   \(Int((r.stage.fraction * 100).rounded())) %: \(r.stage.description): \(r.passed ? "passed" : "NOT passed"), \(r.summary)")
            }
        }
        guard let full = results.last, full.stage.task == .fullTask else { return }
        try report { try TrialRecords.write(full.records, to: "\(directory)/robot.jsonl") }
        HistoryHooks.trials(full.records, robot: manifest.name, policy: improved, backend: .emulator, truth: "field", artifact: "\(directory)/robot.jsonl",
                            gate: cleared)
        let simPlan = try report { try TrialPlan(backend: .sim, count: full.records.count, seconds: full.stage.seconds, seed: 21, stage: .full) }
        let sim = try report { try simPlan.run(robot: robotModel, policyName: improved, makePolicy: { try OnnxPolicy(path: improved, manifest: manifest) }) }
        try report { try TrialRecords.write(sim, to: "\(directory)/sim.jsonl") }
        var gap = try report { try GapReport(sim: sim, real: full.records, simSource: "\(directory)/sim.jsonl", realSource: "\(directory)/robot.jsonl") }
        if let after = try? GateResult.load(path: "out/demo-improve/after.json") {
            gap.gateVersusRobot = try? GateVersusRobot(gate: after, gateSource: "out/demo-improve/after.json", robot: full.records,
                                                       robotSource: "\(directory)/robot.jsonl")
        }
        attachWorstTrialVideo(&gap, sim: sim, real: full.records, robot: robotModel, directory: directory)
        try report { try gap.html(generatedAt: Date()).write(to: "\(directory)/gap-report.html") }
        try writeOutput(to: "\(directory)/gap-report.json", what: "the gap report's JSON") { try gap.json() }
        func rate(_ r: [TrialRecord]) -> String { "\(r.filter(\.success).count)/\(r.count)" }
        print("   gap at 100 %: sim \(rate(sim)), virtual robot \(rate(full.records)) (Fisher p \(String(format: "%.2g", gap.success.fisherP)))"
              + (gap.gateVersusRobot.map { "; gate vs robot: \($0.sentence)" } ?? ""))
        print("   gap report \(directory)/gap-report.html; flight recordings \(directory)/stage-*/")
        renderVideo(robotModel, recordings: "\(directory)/stage-100", to: "\(directory)/redeployed.mp4")
    }

    /// The chapter's deliverable: a 60 s video of the redeployed policy on the virtual robot, the
    /// full-task trials at 100 % one after the other (640×360, 30 fps, no shadows: about a minute
    /// with a software renderer), and a GIF poster. A failure to render is reported, not fatal.
    func renderVideo(_ robot: RobotModel, recordings folder: String, to output: String) {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".mcap") }.sorted()
        var segments: [(label: String?, timeline: RecordingTimeline)] = []
        var total = 0.0
        for file in files where total < 60 {
            guard let timeline = try? RecordingTimeline(path: "\(folder)/\(file)", robot: robot), timeline.duration > 1 else { continue }
            segments.append((label: (file as NSString).deletingPathExtension.replacingOccurrences(of: "-", with: " "), timeline: timeline))
            total += timeline.duration
        }
        guard !segments.isEmpty else {
            print("   (no flight recording in \(folder) to render)")
            return
        }
        var render = RecordingRender()
        (render.width, render.height) = (640, 360)
        render.effects = false
        let budget = 60.0 / Double(segments.count)
        if total > 60 { render.seconds = budget }
        print("   rendering the redeployed policy on the virtual robot: \(segments.count) trials, \(Int(min(total, 60).rounded())) s of video …")
        do {
            var shown = -1
            let result = try render.render(segments, robot: robot, to: output) { frame, frames in
                let percent = frame * 100 / frames
                if percent / 10 != shown / 10 { shown = percent; FileHandle.standardError.write(Data("\r   frame \(frame)/\(frames)".utf8)) }
                if frame == frames { FileHandle.standardError.write(Data("\n".utf8)) }
            }
            let poster = (output as NSString).deletingPathExtension + ".gif"
            try? VideoEncoder.poster(from: output, to: poster)
            print("   video \(output) (\(String(format: "%.0f", result.seconds)) s, \(String(format: "%.0f", result.framesPerWallSecond)) frames/s "
                + "with \(result.renderer))")
        } catch {
            print("   the video could not be rendered: \(error) (the reports above are complete; tether render makes it later)")
        }
    }

    /// ⑪ The validation gate on the randomization calibration derived (the robot as measured);
    /// ⑫ the deployment gate refuses the NO-GO policy, trials in simulation and on the virtual
    /// robot under a recorded override, the gap report and the gate against the robot.
    func validationAndGap() throws {
        guard let root = TetherPaths.checkoutRoot(), FileManager.default.fileExists(atPath: "\(root)/policies/quadruped.onnx") else { return }
        let policy = "\(root)/policies/quadruped.onnx"
        let directory = "out/demo-gap"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        print("⑪ validation gate: the shipped quadruped policy under the robot as measured (out/demo-calibration/randomization.yaml)")
        let robotModel = try report { try BuiltinRobots.load("quadruped") }
        let manifest = robotModel.manifest
        let validation = ValidationRun(robot: robotModel, policy: policy,
                                       randomization: try report { try RandomizationSpec.load(path: "out/demo-calibration/randomization.yaml") })
        var gateResult = try report { try validation.run { emit($0) } }
        attachFailedTrialVideos(&gateResult, run: validation, reportPath: "\(directory)/validation.html", count: 2)
        try report { try gateResult.write(to: "\(directory)/validation.json") }
        try writeGateReport(gateResult, to: "\(directory)/validation.html")
        HistoryHooks.validation(gateResult, artifact: "\(directory)/validation.json")
        printGateSummary(gateResult)
        print("  report           \(directory)/validation.html")
        var clearance: DeploymentClearance?
        do {
            clearance = try Self.clearance(policy)
            print("⑫ the deployment gate clears the shipped policy: \(clearance!.sentence)")
        } catch {
            print("⑫ the deployment gate refuses the shipped policy: \(String(describing: error).split(separator: "\n").first ?? "")")
            print("   the demo runs its trials anyway, as an operator measuring the gap would, with the override recorded (history, records, recordings)")
            clearance = try report { try Self.clearance(policy, override: "demo: trials of a NO-GO policy to measure the gap the gate predicts") }
        }
        var sets: [[TrialRecord]] = []
        for backend in [RobotBackend.sim, .emulator] {
            var plan = try report { try TrialPlan(backend: backend, truth: Self.fieldTruth, count: 10, seconds: 15, seed: 1,
                                                  recordingFolder: "\(directory)/\(backend)", stage: .full) }
            if backend == .emulator { plan.gate = clearance }
            let records = try report { try plan.run(robot: robotModel, policyName: policy, makePolicy: { try OnnxPolicy(path: policy,
                                                                                                                        manifest: manifest) }) { _ in } }
            try report { try TrialRecords.write(records, to: "\(directory)/\(backend).jsonl") }
            try report { try TrialRecords.write(records, to: "\(directory)/\(backend)/trials.jsonl") }
            HistoryHooks.trials(records, robot: manifest.name, policy: policy, backend: backend, truth: backend == .emulator ? "field" : nil,
                                artifact: "\(directory)/\(backend).jsonl", gate: backend == .emulator ? clearance : nil)
            sets.append(records)
        }
        var gap = try report { try GapReport(sim: sets[0], real: sets[1], simSource: "\(directory)/sim.jsonl", realSource: "\(directory)/emulator.jsonl") }
        gap.gateVersusRobot = try? GateVersusRobot(gate: gateResult, gateSource: "\(directory)/validation.json", robot: sets[1],
                                                   robotSource: "\(directory)/emulator.jsonl")
        // Attribution over what ⑩ calibrated: the same trials in the calibrated simulation, then
        // with each group of calibrated parameters set back to nominal.
        var attributionLine: String?
        let calibratedSimulation: CalibratedSimulation?
        do { calibratedSimulation = try CalibratedSimulation.load(path: "out/demo-calibration", robot: robotModel) } catch {
            print("   no attribution over calibrated parameters: \(error)")
            calibratedSimulation = nil
        }
        if let calibrated = calibratedSimulation {
            var plan = try report { try TrialPlan(backend: .sim, count: 10, seconds: 15, seed: 1, stage: .full) }
            plan.calibrated = calibrated
            let attribution = try report {
                try GapAttribution.run(plan: plan, robot: robotModel, policyName: policy, makePolicy: { try OnnxPolicy(path: policy, manifest: manifest) })
            }
            gap.attributions = [attribution]
            let a = gap.attributions?.first ?? attribution, full = a.entries[0]
            try writeOutput(to: "\(directory)/attribution.json", what: "the attribution") { try a.json() }
            attributionLine = "   calibrated simulation (\(calibrated.groups.map(\.name).joined(separator: ", "))): \(full.successes)/\(full.trials)"
                + (a.versusReal.map { String(format: " vs virtual robot %d/%d (Fisher p %.2g: %@)", $0.realSuccesses, $0.realTrials, $0.fisherP,
                                             $0.verdict ?? "?") } ?? "")
                + "; " + (a.explaining.isEmpty ? "no calibrated group explains a failure" : "explained by \(a.explaining.joined(separator: ", "))")
                + " (\(directory)/attribution.json)"
        }
        attachWorstTrialVideo(&gap, sim: sets[0], real: sets[1], robot: robotModel, directory: directory)
        try report { try gap.html(generatedAt: Date()).write(to: "\(directory)/gap-report.html") }
        func rate(_ r: [TrialRecord]) -> String { "\(r.filter(\.success).count)/\(r.count)" }
        func mean(_ r: [TrialRecord], _ f: (TrialRecord) -> Double?) -> String {
            let v = r.compactMap(f)
            return v.isEmpty ? "—" : fmt(v.reduce(0, +) / Double(v.count), 3)
        }
        print("   trials at stage 100 %: sim \(rate(sets[0])) succeeded, virtual robot (the field) \(rate(sets[1])); tracking error "
            + "\(mean(sets[0], { $0.trackingError })) → \(mean(sets[1], { $0.trackingError })) m/s")
        if let g = gap.gateVersusRobot { print("   gate vs robot: \(g.sentence)") }
        if let attributionLine { print(attributionLine) }
        print("   gap report \(directory)/gap-report.html (JSON twin via `tether report --json`); validation report \(directory)/validation.html")
    }

    /// ⑫b The gap at the torque stage a first deployment runs at (the manifest's 25 %), where the
    /// virtual robot fails and simulation does not, attributed twice: over what ⑩ calibrated
    /// (does the calibrated simulation reproduce the failures, and which measured group explains
    /// them) and over the virtual robot's hidden truth (the answer the first should find).
    func firstStageGap() throws {
        guard let root = TetherPaths.checkoutRoot(), FileManager.default.fileExists(atPath: "\(root)/policies/quadruped.onnx") else { return }
        let policy = "\(root)/policies/quadruped.onnx"
        let directory = "out/demo-gap-25"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let robotModel = try report { try BuiltinRobots.load("quadruped") }
        let manifest = robotModel.manifest
        let makePolicy: () throws -> any PolicyRuntime = { try OnnxPolicy(path: policy, manifest: manifest) }
        var sets: [[TrialRecord]] = []
        for backend in [RobotBackend.sim, .emulator] {
            let plan = try report { try TrialPlan(backend: backend, truth: Self.fieldTruth, count: 8, seconds: 15, seed: 1, stage: .quarter) }
            let records = try report { try plan.run(robot: robotModel, policyName: policy, makePolicy: makePolicy) }
            try report { try TrialRecords.write(records, to: "\(directory)/\(backend).jsonl") }
            sets.append(records)
        }
        var gap = try report { try GapReport(sim: sets[0], real: sets[1], simSource: "\(directory)/sim.jsonl", realSource: "\(directory)/emulator.jsonl") }
        func rate(_ r: [TrialRecord]) -> String { let t = TrialTally(r); return "\(t.successes)/\(t.trials)" }
        print("⑫b trials at the first deployment's stage (25 %): sim \(rate(sets[0])), virtual robot (the field) \(rate(sets[1])) (Fisher p "
            + "\(String(format: "%.2g", gap.success.fisherP)))")
        var attributions: [GapAttribution] = []
        var calibrated: CalibratedSimulation?
        do { calibrated = try CalibratedSimulation.load(path: "out/demo-calibration", robot: robotModel) } catch {
            print("   attribution over calibrated parameters skipped: \(error)")
        }
        if let calibrated {
            var plan = try report { try TrialPlan(backend: .sim, count: 8, seconds: 15, seed: 1, stage: .quarter) }
            plan.calibrated = calibrated
            attributions.append(try report { try GapAttribution.run(plan: plan, robot: robotModel, policyName: policy, makePolicy: makePolicy) })
        }
        let truthPlan = try report { try TrialPlan(backend: .emulator, truth: Self.fieldTruth, count: 8, seconds: 15, seed: 1, stage: .quarter) }
        attributions.append(try report { try GapAttribution.run(plan: truthPlan, robot: robotModel, policyName: policy, baseline: sets[1],
                                                                makePolicy: makePolicy) })
        gap.attributions = attributions
        for a in gap.attributions ?? [] {
            let full = a.entries[0]
            if a.isCalibration, let v = a.versusReal {
                let verdict = v.verdict == "differs" ? "does not reproduce the failures: their cause is outside what was "
                    + "calibrated" : v.verdict == "consistent" ? "reproduces them" : "too few trials to tell"
                print("   attribution over calibrated parameters: calibrated simulation \(full.successes)/\(full.trials) vs virtual robot "
                    + "\(v.realSuccesses)/\(v.realTrials): \(verdict)"
                      + (a.explaining.isEmpty ? "" : "; \(a.explanation)"))
            } else if !a.isCalibration {
                let runs = a.entries.dropFirst().filter { a.explaining.contains($0.nominal) || a.explainingMembers?.contains($0.nominal) == true }
                print("   attribution over the hidden truth: \(a.explanation)"
                      + (runs.isEmpty ? "" : " (" + runs.map { "\($0.nominal) nominal: \($0.successes)/\($0.trials)" }.joined(separator: "; ") + ")"))
            }
        }
        try report { try gap.html(generatedAt: Date()).write(to: "\(directory)/gap-report.html") }
        try writeOutput(to: "\(directory)/gap-report.json", what: "the gap report's JSON") { try gap.json() }
        print("   gap report \(directory)/gap-report.html, JSON \(directory)/gap-report.json")
    }

    /// The calibration experiments on a virtual robot (sweep, torque steps, 30 s stationary, a
    /// 10 s chirp, and a 6 s chirp of another seed held out), recorded into `directory`, and the
    /// calibration from those recordings alone written there (the demo's ⑨⑩, `bench improve`).
    /// `recorded` gets the robot time recorded before calibrating. Returns the outcome and that time.
    static func experimentsAndCalibration(robot robotModel: RobotModel, truth: Truth, directory: String,
                                          recorded: (Double) -> Void = { _ in }) throws -> (Calibration.Outcome, Double) {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var still = ExperimentOptions()
        still.seconds = 30
        var chirp = ExperimentOptions()
        chirp.seconds = 10
        var heldOut = ExperimentOptions()
        heldOut.seconds = 6
        heldOut.seed = 2
        let plan: [(ExperimentKind, ExperimentOptions, String)] = [
            (.sweep, ExperimentOptions(), "sweep"), (.torqueStep, ExperimentOptions(), "torque-step"),
            (.stationary, still, "stationary"), (.chirp, chirp, "chirp"), (.chirp, heldOut, "chirp-held-out"),
        ]
        var paths: [String] = []
        var seconds = 0.0
        for (kind, options, name) in plan {
            let path = "\(directory)/\(name).mcap"
            let r = try report { try VirtualExperiments.record(kind, options: options, robot: robotModel, truth: truth, path: path) }
            seconds += r.seconds
            paths.append(path)
        }
        recorded(seconds)
        var calibration = Calibration(robot: robotModel,
                                      baseRandomization: try? RandomizationSpec.load(
                                          path: (robotModel.model.source as NSString).deletingLastPathComponent + "/randomization.yaml"))
        calibration.trajectoryFit = TrajectoryCalibration.step()
        let outcome = try report { try calibration.run(paths: Array(paths.dropLast()), heldOut: [paths.last!]) }
        try report { try CalibrationOutput.write(outcome, robot: robotModel, to: directory) }
        return (outcome, seconds)
    }

    /// ⑨ The system-identification experiments on the virtual robot (the field truth, hidden),
    /// recorded as MCAP; ⑩ calibration from those recordings alone, with a report.
    func experimentsAndCalibration() throws {
        let robotModel = try report { try BuiltinRobots.load("quadruped") }
        let truth = try report { try Truth.load(path: Self.fieldTruth) }
        let directory = "out/demo-calibration"
        let start = Date()
        var calibrationStart = start
        let (outcome, _) = try Self.experimentsAndCalibration(robot: robotModel, truth: truth, directory: directory) {
            print("⑨ experiments on the virtual robot (the field: robots/quadruped/field-truth.yaml, hidden from everything but the robot): sweep, torque "
                + "steps, 30 s stationary, two chirps: \(fmt($0, 0)) s of robot time in \(fmt(Date().timeIntervalSince(start), 1)) s, recorded to "
                    + "\(directory)/*.mcap")
            calibrationStart = Date()
        }
        HistoryHooks.calibration(outcome.file, artifact: "\(directory)/calibration.json")
        func show(_ name: String, _ truth: String? = nil) -> String {
            guard let p = outcome.file.parameters.first(where: { $0.name == name }) else { return "\(name) —" }
            let scale = p.unit == "s" ? 1000.0 : 1.0
            let unit = p.unit == "s" ? "ms" : p.unit
            let truthText = truth ?? p.nominal.map { "the model's \(String(format: "%.3g", $0[0]))" } ?? "—"
            return "\(name) \(String(format: "%.3g", p.estimate[0] * scale)) [\(String(format: "%.3g", p.interval[0].lower * scale)), "
                + "\(String(format: "%.3g", p.interval[0].upper * scale))] \(unit) (truth \(truthText))"
        }
        print("⑩ calibration from the recordings alone (\(outcome.file.parameters.count) parameters, \(fmt(Date().timeIntervalSince(calibrationStart), 1)) s):")
        print("   " + show("joint[FR_calf_joint].damping"))
        print("   " + show("joint[FR_calf_joint].frictionloss"))
        print("   " + show("driver.lag", "4 ms"))
        print("   " + show("driver.delay", "2 × 12 ms link + 2 ms driver + about a sample ≈ 27 ms"))
        print("   " + show("sensor.gyro.x.noise", "0.01"))
        for h in outcome.file.heldOut {
            print("   held-out chirp: error \(fmt(h.nominal, 3)) (nominal model) → \(fmt(h.calibrated, 3)) (calibrated)")
        }
        print("   report \(directory)/report.html, patched model \(directory)/quadruped.xml (+ .urdf, model.diff); randomization: the robot as measured")
        print("   \(directory)/randomization.yaml (for the gate), widened with pushes \(directory)/training-randomization.yaml (for training from scratch)")
    }
}

/// A value handed to one other thread: the owner does not touch it until that thread has ended.
private final class Handoff<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
