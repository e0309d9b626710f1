import ArgumentParser
import Foundation
import TetherCore
import TetherEmulator
import TetherROS
import TetherRuntime
import TetherSim

struct Emulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the virtual robot: MuJoCo with hidden imperfections, served over ROS 2 in real time.",
        discussion: """
        The robot's true parameters (physics, actuator lag and dead time, saturation, backlash, \
        thermal torque loss, sensor noise / bias / drift / quantization / offsets / dropouts, link \
        latency, jitter, loss and stalls) come from a preset (mild, typical, harsh) or a truth \
        file (docs/emulator.md); they stay hidden from calibration. It publishes joint states and \
        the IMU at --rate and applies joint commands from the manifest's topics; the e-stop \
        topic holds a damping stop. Run `tether deploy --backend ros2` in another terminal.

        Like a real driver, the virtual robot guards itself: when no valid command has arrived \
        for --command-timeout (default 0.1 s) it applies a damping stop, then zero torque after \
        --damping-seconds; a malformed command is rejected and counted. Each such event prints a \
        line with its time on the monotonic clock (CLOCK_MONOTONIC, for measuring reactions).

        Examples:
          tether emulate --robot quadruped --truth typical
          tether emulate --robot quadruped --truth my_truth.yaml --seconds 60 --loopback
        """
    )

    @Option(help: "Built-in robot name or manifest path.") var robot = "quadruped"
    @Option(help: "Truth preset (mild, typical, harsh) or truth YAML file.") var truth = "typical"
    @Option(help: "State publishing rate, Hz.") var rate = 500.0
    @Option(help: "Run for this many seconds (default: until Ctrl-C).") var seconds: Double?
    @Flag(help: "Keep all DDS traffic on 127.0.0.1 (no multicast).") var loopback = false
    @Option(help: "Hang the robot on a gantry at this base height, m (for `tether experiment`).") var hung: Double?
    @Option(help: ArgumentHelp("Robot-side command timeout, s: no valid command for this long → damping stop (default 0.1 s, or three control periods below 30 "
        + "Hz).")) var commandTimeout: Double?
    @Option(help: "Damping stop after a command timeout before zero torque, s.") var dampingSeconds = 2.0

    func validate() throws {
        if let commandTimeout, !(commandTimeout > 0 && commandTimeout.isFinite) { throw ValidationError("--command-timeout must be a positive number of "
            + "seconds") }
        guard dampingSeconds >= 0, dampingSeconds.isFinite else { throw ValidationError("--damping-seconds must be a non-negative number of seconds") }
        guard rate > 0, rate.isFinite else { throw ValidationError("--rate must be a positive number of Hz") }
    }

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        let truthValue = try report { try Truth.named(truth) }
        let clock = MonotonicClock()
        // The robot and its server share one command timeout (the server's is the one that fires
        // first; the robot's own would otherwise damp a slow controller between its commands).
        let virtual = try report {
            try VirtualRobot(robot: robotModel, truth: truthValue, clock: clock, hungAt: hung, commandTimeout: commandTimeout, dampingSeconds: dampingSeconds)
        }
        let participant = try report { try DDSParticipant(configuration: loopback ? DDSParticipant.loopbackConfiguration : nil) }
        let server = try report {
            try ROS2RobotServer(robot: virtual, participant: participant, clock: clock, stateRateHz: rate,
                                commandTimeout: commandTimeout, dampingSeconds: dampingSeconds)
        }
        server.onEvent = { event in
            emit(String(format: "[robot] t %.3f s (monotonic %.6f) %@: %@", event.time, clock.now(), event.kind, event.message))
        }
        let sources = onTerminationSignals { _ in server.stop() }
        emit("tether emulate: virtual \(robotModel.manifest.name) (truth '\(truthValue.name)', hidden), ROS 2 domain "
            + "\(participant.domain)\(loopback ? " on loopback" : ""), states at \(fmt(rate, 0)) Hz on \(robotModel.manifest.ros2.jointStates) and "
                + "\(robotModel.manifest.ros2.imu); Ctrl-C to stop")
        try report { try server.run(seconds: seconds ?? .infinity) }
        sources.forEach { $0.cancel() }
        emit("stopped after applying \(server.commandsApplied) commands (\(server.commandsRejected) rejected, \(server.commandTimeouts) command timeouts)")
    }
}
