import Foundation
import TetherCore
import TetherROS

/// Serves any `Robot` (the in-process simulation, the virtual robot) over ROS 2 as a real robot's
/// driver would: joint states and IMU published at `stateRateHz`, `tether_msgs/JointCommand`
/// applied as they arrive, the e-stop topic honoured by holding a damping stop. `tether emulate`
/// runs one of these; tests run one in-process.
///
/// Like a real driver it guards itself (`CommandWatchdog`): when no valid command has arrived for
/// `commandTimeout` (default 0.1 s) it applies a damping stop, then zero torque, so a controller
/// that dies (`kill -9`, a crash, a cut link) never leaves the last targets applied. A malformed
/// command (arrays of different lengths, non-finite values, negative gains) is rejected and
/// counted, never applied and never a crash. Each of these is reported through `onEvent`.
public final class ROS2RobotServer: @unchecked Sendable {
    /// A robot-side event: a command timeout, a rejected command, an e-stop.
    public struct Event: Sendable {
        /// On the server's clock, s.
        public var time: Double
        /// `command_timeout`, `zero_torque`, `command_rejected`, `commands_resumed` or `estop`.
        public var kind: String
        public var message: String
    }

    public let robot: Robot
    public let participant: DDSParticipant
    public let stateRateHz: Double
    let clock: ControlClock
    let states: DDSPublisher<SensorMsgs.JointState>
    let imu: DDSPublisher<SensorMsgs.Imu>
    let odometry: DDSPublisher<NavMsgs.Odometry>
    let commands: DDSSubscriber<TetherMsgs.JointCommand>
    let estop: DDSSubscriber<StdMsgs.Bool>
    let estopLatched: DDSSubscriber<StdMsgs.Bool>
    private let stopFlag = NSLock()
    private var stopRequested = false
    private var paused = false
    private var watchdog: CommandWatchdog
    /// Called on the serving thread for each robot-side event.
    public var onEvent: (Event) -> Void = { _ in }
    /// Called on the server's thread after each advance of the robot, with the tick's time (a
    /// virtual camera takes its snapshot of the robot here).
    public var afterAdvance: ((Double) -> Void)?
    /// Commands applied so far.
    public private(set) var commandsApplied = 0
    /// Commands rejected as malformed.
    public private(set) var commandsRejected = 0
    /// The command watchdog's mode now (robot-side).
    public var watchdogMode: CommandWatchdog.Mode { watchdog.mode }
    /// How many times the command timeout fired.
    public var commandTimeouts: Int { watchdog.timeouts }

    /// Serves `robot`. `commandTimeout`: the robot side's command timeout, s; `dampingSeconds`:
    /// how long the damping stop lasts before zero torque, s.
    public init(robot: Robot, participant: DDSParticipant, clock: ControlClock, stateRateHz: Double = 500,
                commandTimeout: Double? = nil, dampingSeconds: Double = 2) throws {
        guard (commandTimeout ?? 1) > 0, (commandTimeout ?? 1).isFinite, dampingSeconds >= 0, dampingSeconds.isFinite else {
            throw TetherError("command timeout \(commandTimeout ?? 0.1) s / damping \(dampingSeconds) s are not valid durations",
                              hint: "a positive timeout (default 0.1 s, or three control periods below 30 Hz) and a non-negative damping time")
        }
        self.robot = robot
        self.participant = participant
        self.clock = clock
        self.stateRateHz = stateRateHz
        watchdog = CommandWatchdog(configuration: .init(manifest: robot.manifest, timeout: commandTimeout, dampingSeconds: dampingSeconds))
        let t = robot.manifest.ros2
        states = try DDSPublisher(participant, topic: t.jointStates, qos: .sensorData)
        imu = try DDSPublisher(participant, topic: t.imu, qos: .sensorData)
        odometry = try DDSPublisher(participant, topic: t.odometry, qos: .sensorData)
        commands = try DDSSubscriber(participant, topic: t.jointCommands, qos: .default)
        // Best effort matches reliable and best-effort publishers alike; the latched reader gets
        // the last value of a transient-local publisher that was there first.
        estop = try DDSSubscriber(participant, topic: t.estop, qos: .sensorData)
        estopLatched = try DDSSubscriber(participant, topic: t.estop, qos: .latched)
    }

    /// Counts a rejected command and reports the first ten, then every hundredth.
    private func reject(_ error: Error, at time: Double) {
        commandsRejected += 1
        if commandsRejected <= 10 || commandsRejected % 100 == 0 {
            onEvent(Event(time: time, kind: "command_rejected", message: "rejected command #\(commandsRejected) (not applied): \(error)"))
        }
    }

    /// Asks `run` to return.
    public func stop() { stopFlag.lock(); stopRequested = true; stopFlag.unlock() }

    /// Stops publishing states (a stalled driver, a cut link) while the simulation goes on.
    public func setPaused(_ value: Bool) { stopFlag.lock(); paused = value; stopFlag.unlock() }

    /// Runs until `stop()` or `seconds` pass.
    public func run(seconds: Double = .infinity) throws {
        let loop = FixedRateLoop(configuration: .init(rateHz: stateRateHz), clock: clock)
        let names = robot.manifest.joints.map(\.name)
        let actuated = robot.manifest.actuatedJoints.map(\.name)
        let topic = robot.manifest.ros2.jointCommands
        let start = clock.now()
        var eStopped = false
        var lastPositions = [Double](repeating: 0, count: actuated.count)
        var lastMode = watchdog.mode
        try loop.run { tick in
            let now = clock.now()
            try robot.advance(to: tick.start)
            afterAdvance?(tick.start)
            for reader in [estop, estopLatched] {
                for _ in 0..<1000 {
                    let engaged: Bool
                    do {
                        guard let m = try reader.take() else { break }
                        engaged = m.message.data
                    } catch {
                        // An e-stop sample that cannot be read fails safe: it engages.
                        engaged = true
                        onEvent(Event(time: now - start, kind: "estop", message: "an unreadable e-stop sample engages the e-stop: \(error)"))
                    }
                    guard engaged, !eStopped else { continue }
                    eStopped = true
                    onEvent(Event(time: now - start, kind: "estop", message: "e-stop input engaged: damping stop held until restart"))
                }
            }
            // A bounded drain: a reader that keeps failing cannot hold the tick forever.
            for _ in 0..<1000 {
                let c: TetherMsgs.JointCommand
                do {
                    guard let m = try commands.take() else { break }
                    c = m.message
                } catch {
                    reject(error, at: now - start)
                    continue
                }
                guard c.name == actuated else {
                    reject(TetherError("a joint command names joints \(c.name.joined(separator: ", ")); this robot's are \(actuated.joined(separator: ", "))",
                                       at: topic, hint: "send one value per actuated joint, named in the manifest's order"), at: now - start)
                    continue
                }
                let command: JointCommand
                do {
                    guard c.position.count == actuated.count else {
                        throw TetherError("a joint command has \(c.position.count) positions for \(actuated.count) joints", at: topic,
                                          hint: "one value per actuated joint")
                    }
                    command = try JointCommand.validated(positions: c.position, velocities: c.velocity, torques: c.effort,
                                                         kp: c.kp, kd: c.kd, source: topic)
                } catch {
                    reject(error, at: now - start)
                    continue
                }
                watchdog.commandArrived(at: now)
                lastPositions = command.positions
                if !eStopped {
                    try robot.send(command)
                    commandsApplied += 1
                }
            }
            if eStopped {
                try robot.send(JointCommand(positions: lastPositions, velocities: lastPositions.map { _ in 0 }, torques: lastPositions.map { _ in 0 },
                                            kp: lastPositions.map { _ in 0 }, kd: watchdog.configuration.dampingKd))
            } else if let stopCommand = watchdog.check(at: now, positions: lastPositions) {
                try robot.send(stopCommand)
            }
            if watchdog.mode != lastMode {
                switch watchdog.mode {
                case .damping:
                    let silence = now - (watchdog.lastCommandAt ?? now)
                    onEvent(Event(time: now - start, kind: "command_timeout",
                                  message: String(format: "no valid command for %.3f s (timeout %.3f s): damping stop", silence,
                                                  watchdog.configuration.timeout)))
                case .zeroTorque:
                    onEvent(Event(time: now - start, kind: "zero_torque",
                                  message: String(format: "still no command after %.1f s of damping: zero torque", watchdog.configuration.dampingSeconds)))
                case .following where lastMode != .unarmed:
                    onEvent(Event(time: now - start, kind: "commands_resumed", message: "valid commands again: following them"))
                default: break
                }
                lastMode = watchdog.mode
            }
            stopFlag.lock()
            let done = stopRequested, quiet = paused
            stopFlag.unlock()
            if !quiet, let (s, _) = try robot.latestState() {
                let header = StdMsgs.Header(stamp: .now(), frameID: "base")
                try states.publish(SensorMsgs.JointState(state: s, names: names, header: header))
                if let message = SensorMsgs.Imu(state: s, header: header) { try imu.publish(message) }
                // The simulation's ground truth as odometry (what motion capture gives a lab robot).
                if let message = NavMsgs.Odometry(state: s, header: StdMsgs.Header(stamp: header.stamp, frameID: "odom")) { try odometry.publish(message) }
            }
            return (!done && tick.start - start < seconds, .init(readAt: nil, wroteAt: nil))
        }
    }
}
