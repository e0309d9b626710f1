import ArgumentParser
import Foundation
import TetherCore
import TetherEmulator
import TetherROS
import TetherPolicy
import TetherRuntime
import TetherSafety
import TetherSim

struct Deploy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a policy on a robot behind the safety wrapper, in a fixed-rate loop, with the flight recorder.",
        discussion: """
        The deployment goes passive → stand-up → policy → stop (damping) → passive on a script \
        (--stand-up-at, --policy-at, --stop-at), with a live status line and a summary. Ctrl-C \
        (SIGINT) or SIGTERM engages the e-stop, finishes the damping stop, writes the recording \
        and exits with status 130 (SIGINT) or 143 (SIGTERM); a second signal sends one more stop \
        command and exits at once. These are controlled software stops, not safety-rated \
        functions; hardware e-stops remain mandatory. Any error in the loop (a malformed or \
        silent input, a failed send, a policy that fails or hangs past safety.policy_budget) stops \
        the robot first, then ends the run with the error (exit 1). The flight recorder writes the \
        last seconds to a ROS 2 bag (MCAP) at a stop or at exit (--record), or everything \
        (--continuous); it is backed by files as it runs, so a crash loses at most the last second \
        (`tether log recover`). The deployment's low-pass and target speed limit are on by \
        default (manifest safety.smoothing_cutoff_hz, safety.max_target_velocity); \
        --no-smoothing turns them off.

        Backends: sim (in-process MuJoCo, nominal), emulator (the virtual robot in-process, with a \
        hidden --truth), ros2 (any robot on the manifest's ROS 2 topics, e.g. `tether emulate`), \
        unitree (a Unitree robot over its low-level protocol, manifest section unitree:, e.g. \
        `tether emulate --protocol unitree_go`; docs/unitree.md).

        The deployment gate (docs/deployment-gate.md): on a robot (every backend but sim) the \
        policy runs only if its last validation for this robot and manifest, found by the policy \
        file's digest in the history database, said GO under a randomization. Otherwise deploy \
        refuses (exit 1) and says what to validate, unless --override "reason" is given: the \
        override is recorded in the history and in the flight recording's metadata.

        Examples:
          tether deploy --robot quadruped --policy policies/quadruped.onnx --backend sim --stage 25
          tether deploy --robot quadruped --policy policies/quadruped.onnx --stage 100 --seconds 20 --record walk.mcap --continuous
          tether deploy --robot cartpole --policy policies/cartpole.onnx --fast --json
          tether deploy --backend emulator --truth harsh --policy policies/quadruped.onnx --stage 100 --fast --override "rehearsal on the virtual robot"
          tether deploy --backend ros2 --policy policies/quadruped.onnx --stage 25   (with `tether emulate` running)
          tether deploy --backend unitree --policy policies/quadruped.onnx --stage 25   (a Go2, or `tether emulate --protocol unitree_go`)
        """
    )

    @Option(help: "Built-in robot name or manifest path.") var robot = "quadruped"
    @Option(help: "ONNX policy.") var policy: String
    @Option(help: "Backend: sim, emulator, ros2 or unitree.", transform: RobotBackend.argument) var backend: RobotBackend = .sim
    @Option(help: "Emulator truth: preset (mild, typical, harsh) or truth YAML.") var truth = "typical"
    @Flag(help: "ros2 and unitree backends: keep DDS traffic on 127.0.0.1.") var loopback = false
    @Option(help: "Torque stage in percent: 25, 50 or 100 (default: the manifest's).", transform: TorqueStage.argument) var stage: TorqueStage?
    @Option(help: "Total duration, s.") var seconds = 15.0
    @Option(help: "Loop rate, Hz (default: the manifest's control rate).") var rate: Double?
    @Option(help: "When to stand up, s.") var standUpAt = 0.5
    @Option(help: "Stand-up duration, s.") var standUp = 2.0
    @Option(help: "When to start the policy, s (default: right after standing up).") var policyAt: Double?
    @Option(help: "When to stop, s (default: 1.5 s before the end).") var stopAt: Double?
    @Option(help: "Flight recording (MCAP) path.") var record: String?
    @Flag(help: "Record everything, not only the last seconds before a stop or the exit.") var continuous = false
    @Option(help: "Seconds kept by the flight recorder's ring buffer.") var window = 10.0
    @Flag(help: "Run as fast as possible on a simulated clock instead of real time (sim backend).") var fast = false
    @Flag(help: ArgumentHelp("sim backend: start hung on a gantry at the standing height, let go once standing at the default pose (humanoids, which cannot "
        + "stand up "
        + "from lying).")) var gantry = false
    @Flag(help: "Run the policy even if its metadata contradicts the manifest (unsafe).") var allowMismatch = false
    @Flag(help: "Turn off the deployment's low-pass and target speed limit (on by default, from the manifest's safety section).") var noSmoothing = false
    @Flag(help: "Print the report as JSON.") var json = false
    @OptionGroup var realTime: RealTimeArguments
    @OptionGroup var engine: PolicyEngineArguments
    @Option(name: .customLong("override"),
            help: ArgumentHelp("Run on a robot without a GO validation, for this reason (recorded in the history and the recording).",
                               valueName: "reason")) var overrideReason: String?

    func validate() throws {
        if !backend.isInProcess && fast {
            throw ValidationError("--fast needs an in-process backend (sim or emulator): a networked robot (ros2, unitree) runs in real time")
        }
        guard seconds > 0, standUp > 0, window > 0 else { throw ValidationError("--seconds, --stand-up and --window must be positive") }
        if let rate { guard rate > 0 else { throw ValidationError("--rate must be positive") } }
        if gantry && backend != .sim { throw ValidationError("--gantry hangs the simulated robot (--backend sim); a real robot is hung and lowered by its "
            + "operator") }
        try checkOverride(overrideReason)
    }

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        let manifest = robotModel.manifest
        let onnx = try report { try OnnxPolicy(path: policy, manifest: manifest, allowMismatch: allowMismatch) }
        // The gate, before anything connects to the robot: a refusal moves nothing.
        let quietGate = json
        let gate = try deploymentGate(robot: robotModel, robotOption: robot, policy: policy, backend: backend, override: overrideReason) { line in
            if quietGate { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { emit(line) }
        }
        let clock: ControlClock = fast ? ManualClock() : MonotonicClock()
        let robotBackend: Robot = try report {
            try backend.makeRobot(robotModel, clock: clock, setup: .init(truth: truth, loopback: loopback, loopRateHz: rate, gantry: gantry))
        }
        let recorder = record.map { FlightRecorder(manifest: manifest, path: $0, windowSeconds: window, continuous: continuous, clockStart: clock.now(),
                                                   metadata: gate?.metadata ?? [:]) }
        if let gate { HistoryHooks.deployment(gate, artifact: record) }
        let loopRate = rate ?? manifest.rates.controlHz
        let schedule = DeploymentSchedule(seconds: seconds, standUpAt: standUpAt, standUpSeconds: standUp, policyAt: policyAt, stopAt: stopAt)
        let deployment = try report {
            try Deployment(robot: robotBackend, policy: onnx, stage: stage, schedule: schedule, recorder: recorder, clock: clock,
                           rateHz: loopRate, options: SafetyOptions(manifestFilters: !noSmoothing))
        }
        deployment.realtime = realTime.request
        let config = deployment.safety.config
        // The first Ctrl-C / SIGTERM: e-stop, finish the stop, write the recording, exit 130 / 143.
        // A second: one more stop command, then exit at once.
        let signals = SignalEscalation(deployment: deployment, robot: robotBackend)
        let sources = onTerminationSignals { signals.received($0) }
        if !json {
            emit("tether deploy: \(manifest.name), policy \(policy), backend "
                + "\(backend)\(backend == .emulator ? " (truth \(truth))" : "")\(fast ? " (simulated clock)" : " (real time)"), \(fmt(loopRate, 0)) Hz, "
                    + "stage \(Int(config.startStage * 100)) %")
        }
        let (report, failure) = try runShowingStatus(deployment, schedule)
        var result = report
        result.policy = policy
        result.policyEngine = onnx.engineSummary
        result.gate = gate
        sources.forEach { $0.cancel() }
        if json {
            try printJSON(result)
        } else {
            printSummary(result)
        }
        if let failure {
            FileHandle.standardError.write(Data("error: \(failure)\n".utf8))
            throw ExitCode.failure
        }
        if let signal = result.interruptedBy {
            throw ExitCode(signal == "SIGTERM" ? 143 : 130)
        }
    }

    /// Runs the deployment with a live status line (unless --json). An error after the robot was
    /// stopped and the recording written comes back beside the report, to be printed after it.
    private func runShowingStatus(_ deployment: Deployment, _ schedule: DeploymentSchedule) throws -> (Deployment.Report, Error?) {
        let quiet = json
        do {
            let result = try deployment.run(schedule) { s in
                guard !quiet else { return }
                var line = String(format: "\r  t %6.2f s  %-11@ safety %-8@ stage %3.0f%%  %6.1f Hz  p99 %7.1f µs  misses %d  events %d",
                                  s.time, s.phase.rawValue, s.safetyMode, 100 * s.stage, s.tickRate, s.computeP99Microseconds, s.deadlineMisses,
                                  s.safetyEvents)
                if let d = s.distance { line += String(format: "  distance %5.2f m", d) }
                FileHandle.standardError.write(Data(line.utf8))
            }
            return (result, nil)
        } catch {
            // The robot was stopped first and the recording written; print what happened, then the error.
            guard let last = deployment.lastReport else { try report { () throws -> Void in throw error }; throw ExitCode.failure }
            return (last, error)
        }
    }

    private func printSummary(_ result: Deployment.Report) {
        FileHandle.standardError.write(Data("\n".utf8))
        print("summary: \(fmt(result.seconds, 2)) s, final phase \(result.finalPhase), "
            + "\(result.stopped ? "STOPPED (\(result.stopReason ?? "?"))" : "no safety stop"), stage \(Int(result.stage * 100)) %")
        let l = result.loop
        if fast { print("  (simulated clock: the loop's timings below are not measured in fast mode)") }
        print("  loop     \(l.ticks) ticks at \(fmt(l.achievedRateHz, 1)) Hz, \(l.deadlineMisses) deadline misses, compute p50 "
            + "\(fmt(l.computeMicroseconds.p50, 1)) µs p99 \(fmt(l.computeMicroseconds.p99, 1)) µs, jitter p99 \(fmt(l.jitterMicroseconds.p99, 1)) µs")
        if let engine = result.policyEngine { print("  policy   \(engine)") }
        if let rt = result.realTime {
            print("  realtime \(rt.summary)")
            for note in rt.notes { print("    \(note)") }
        }
        if let d = result.distance { print("  distance \(fmt(d, 2)) m") }
        let counters = result.safetyCounters.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        print("  safety   " + (counters.isEmpty ? "no interventions" : counters.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")))
        // What stopped the robot first; the filters' routine interventions are only counted above.
        let routine = ["smoothing", "rate_limit", "position_clamp", "torque_bound", "action_clip"]
        let notable = result.events.filter { e in !routine.contains { e.contains("  \($0): ") } }
        for e in notable.prefix(10) { print("    \(e)") }
        let more = result.events.count - min(10, notable.count)
        if more > 0 { print("    … \(more) more (filter interventions: see the recording's /tether/safety_events)") }
        if let r = result.recording { print("  recording \(r)") }
        if let gate = result.gate { print("  gate     \(gate.status.rawValue): \(gate.sentence)") }
        for note in result.inputNotes ?? [] { print("  input    \(note)") }
        if let late = result.policyLate { print("  policy   \(late) late call(s): the last command was held") }
        if let signal = result.interruptedBy { print("  ended by \(signal): the robot was stopped, the recording written") }
    }
}

/// The first termination signal asks the deployment to stop and end; a second sends one more
/// stop command from the signal's thread and exits at once (the operator means it).
final class SignalEscalation: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private let deployment: Deployment
    private let robot: Robot

    init(deployment: Deployment, robot: Robot) {
        self.deployment = deployment
        self.robot = robot
    }

    func received(_ name: String) {
        lock.lock()
        count += 1
        let n = count
        lock.unlock()
        if n == 1 {
            FileHandle.standardError.write(Data("\n\(name): stopping the robot, then ending (again to exit at once)\n".utf8))
            deployment.requestEnd(source: name)
        } else {
            robot.emergencyStop()   // also seals the robot: the loop publishes nothing after it
            FileHandle.standardError.write(Data(("\n\(name) again: one more stop command sent; exiting now (the recording's spool is kept: tether log "
                + "recover)\n").utf8))
            // _exit: no atexit handlers or static destructors while the loop and the policy's
            // thread may still be inside ONNX Runtime or Cyclone DDS.
            _exit(name == "SIGTERM" ? 143 : 130)
        }
    }
}
