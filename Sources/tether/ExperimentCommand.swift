import ArgumentParser
import Foundation
import TetherCore
import TetherEmulator
import TetherROS
import TetherRuntime
import TetherSafety
import TetherSim

struct Experiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a system-identification experiment on a robot, behind the safety wrapper, and record it as MCAP.",
        discussion: """
        Kinds: stationary (IMU and encoder noise; the robot still, lying with zero torque), sweep \
        (constant-velocity sweeps per joint, several speeds, both directions: friction), \
        torque-step (feed-forward steps per joint: motor time constant and dead time), pendulum \
        (a joint released from its hanging equilibrium + an amplitude: link inertia), chirp \
        (multisine position targets: trajectory fitting and latency). All but stationary need a \
        floating-base robot HUNG with its legs in the air; the sim and emulator backends hang it \
        themselves, a real robot (ros2) must be hung by you (and `tether emulate --hung 0.8`).

        The plan and its duration are printed before anything moves (--dry-run: only that). \
        Ctrl-C engages the e-stop (a controlled software stop; hardware e-stops remain mandatory).

        Examples:
          tether experiment stationary --backend emulator --truth typical --seconds 60 --fast --out still.mcap
          tether experiment sweep --backend emulator --joints FR_thigh_joint --fast --out sweep.mcap
          tether experiment pendulum --dry-run
          tether experiment chirp --backend ros2 --loopback --out chirp.mcap   (with `tether emulate --hung 0.8`)
        """
    )

    @Argument(help: "stationary, sweep, torque-step, pendulum or chirp.") var kind: String
    @Option(help: "Built-in robot name or manifest path.") var robot = "quadruped"
    @Option(help: "Backend: sim, emulator, ros2 or unitree.", transform: RobotBackend.argument) var backend: RobotBackend = .emulator
    @Option(help: "Emulator truth: preset (mild, typical, harsh) or truth YAML.") var truth = "typical"
    @Flag(help: "ros2 and unitree backends: keep DDS traffic on 127.0.0.1.") var loopback = false
    @Option(help: "Recording (MCAP) path (default: <kind>.mcap).") var out: String?
    @Option(help: "Joints to excite, comma-separated (default: the kind's).") var joints: String?
    @Option(help: "Duration of a stationary recording or a chirp, s.") var seconds: Double?
    @Option(help: "Sweep speeds, rad/s, comma-separated.") var speeds = "0.5,1,2"
    @Option(help: "Torque step, N·m.") var stepTorque = 2.0
    @Option(help: "Pendulum release amplitude from the hanging equilibrium, rad.") var amplitude = 0.6
    @Option(help: "Chirp (multisine) RMS-scaled amplitude per joint, rad.") var chirpAmplitude = 0.15
    @Option(help: "Loop rate, Hz (default: the manifest's physics rate).") var rate: Double?
    @Option(help: "Torque stage in percent: 25, 50 or 100.", transform: TorqueStage.argument) var stage: TorqueStage = .half
    @Option(help: "Base height when hung in sim/emulator, m.") var hangHeight = 0.8
    @Flag(help: "Run as fast as possible on a simulated clock (sim and emulator backends).") var fast = false
    @Flag(help: "Print the plan and its duration, run nothing.") var dryRun = false
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        guard ExperimentKind(rawValue: kind) != nil else {
            throw ValidationError("unknown experiment '\(kind)': one of \(ExperimentKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if !backend.isInProcess && fast {
            throw ValidationError("--fast needs an in-process backend (sim or emulator): a networked robot (ros2, unitree) runs in real time")
        }
    }

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        let manifest = robotModel.manifest
        let plan = try report { try ExperimentPlan(kind: ExperimentKind(rawValue: kind)!, manifest: manifest, options: try experimentOptions()) }
        let rateHz = rate ?? manifest.rates.physicsHz
        if !json || dryRun {
            for line in plan.summary { emit(line) }
            emit("backend \(backend)\(backend == .emulator ? " (truth \(truth), hidden)" : ""), \(fmt(rateHz, 0)) Hz, stage \(stage), "
                + "\(fast ? "simulated clock" : "real time: \(fmt(plan.duration, 1)) s")")
        }
        if dryRun { return }
        let clock: ControlClock = fast ? ManualClock() : MonotonicClock()
        let hang: Double? = plan.hung ? hangHeight : nil
        let robotBackend: Robot = try report {
            try backend.makeRobot(robotModel, clock: clock, setup: .init(truth: truth, loopback: loopback, hungAt: hang))
        }
        // Experiments run without the deployment filters: a low-pass would reshape the excitation.
        let config = try report { try SafetyConfig(manifest: manifest, stage: stage.fraction, options: SafetyOptions(manifestFilters: false)) }
        let path = out ?? "\(kind).mcap"
        let recorder = FlightRecorder(manifest: manifest, path: path, continuous: true, clockStart: clock.now(), metadata: plan.metadata)
        let request = EStopRequest()
        let sources = onTerminationSignals { request.set($0) }
        let quiet = json
        let result = try report {
            try ExperimentRunner.run(plan: plan, robot: robotBackend, safety: SafetyWrapper(config: config), clock: clock,
                                     rateHz: rateHz, recorder: recorder, eStop: request) { p in
                guard !quiet else { return }
                let line = String(format: "\r  t %6.2f s  %3.0f%%  %-50@", p.time, 100 * p.fraction, String(p.segment.prefix(50)))
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
        sources.forEach { $0.cancel() }
        if json { try printJSON(result); return }
        printSummary(result)
        if result.stopped { throw ExitCode(2) }
    }

    /// The options as the experiment plan takes them.
    private func experimentOptions() throws -> ExperimentOptions {
        var options = ExperimentOptions()
        options.joints = joints.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? []
        options.seconds = seconds
        options.speeds = try report {
            try speeds.split(separator: ",").map {
                guard let v = Double($0.trimmingCharacters(in: .whitespaces)) else {
                    throw TetherError("'\($0)' is not a number", at: "--speeds", hint: "speeds in rad/s, e.g. 0.5,1,2")
                }
                return v
            }
        }
        options.stepTorque = stepTorque
        options.hangHeight = hangHeight
        options.pendulumAmplitude = amplitude
        options.chirpAmplitude = chirpAmplitude
        return options
    }

    private func printSummary(_ result: ExperimentRunner.Report) {
        FileHandle.standardError.write(Data("\n".utf8))
        print("\(result.kind): \(fmt(result.seconds, 2)) s, \(result.ticks) ticks at \(fmt(result.rateHz, 0)) Hz, "
            + "\(result.stopped ? "STOPPED (\(result.stopReason ?? "?"))" : "completed")")
        let counters = result.safetyCounters.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        print("  safety   " + (counters.isEmpty ? "no interventions" : counters.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")))
        for e in result.events.prefix(8) { print("    \(e)") }
        for (j, e) in result.equilibria.sorted(by: { $0.key < $1.key }) { print("  equilibrium \(j) \(fmt(e, 4)) rad") }
        if let r = result.recording { print("  recording \(r)") }
    }
}
