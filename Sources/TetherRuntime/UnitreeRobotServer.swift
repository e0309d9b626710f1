import Foundation
import TetherCore
import TetherROS

/// Serves any `Robot` (the virtual robot, the simulation) on Unitree's low-level protocol, as the
/// robot's own motor controller does: `LowState` on `rt/lowstate` at `stateRateHz` (tick in ms,
/// CRC sealed), `LowCmd` from `rt/lowcmd` applied as it arrives, each command's CRC checked.
/// `tether emulate --protocol unitree_go|unitree_hg` runs one of these.
///
/// Like `ROS2RobotServer` it guards itself: a command with a wrong CRC or non-finite values is
/// rejected and counted, never applied; with no valid command for the command timeout it
/// applies a damping stop, then zero torque. The manifest's `unitree.motors` place the joints
/// in the motor slots; a slot's mode 0 means that motor is off (no torque).
public final class UnitreeRobotServer<D: UnitreeDialect>: @unchecked Sendable {
    /// The robot served.
    public let robot: Robot
    /// The DDS participant the topics live on.
    public let participant: DDSParticipant
    /// How often a state is published, Hz.
    public let stateRateHz: Double
    let clock: ControlClock
    let slots: [Int]
    let actuatedSlots: [Int]
    let states: DDSPublisher<D.State>
    let commands: DDSSubscriber<D.Command>
    private let stopFlag = NSLock()
    private var stopRequested = false
    private var paused = false
    private var watchdog: CommandWatchdog
    /// The wireless remote frame every state carries (tests press buttons with it).
    private let remote = Locked<[UInt8]>(Array(repeating: 0, count: 40))
    /// Called on the serving thread for each robot-side event (same kinds as `ROS2RobotServer`'s).
    public var onEvent: (ROS2RobotServer.Event) -> Void = { _ in }
    /// Commands applied so far.
    public private(set) var commandsApplied = 0
    /// Commands rejected (wrong CRC, non-finite values).
    public private(set) var commandsRejected = 0
    /// How many times the command timeout fired.
    public var commandTimeouts: Int { watchdog.timeouts }

    /// Serves `robot`, whose manifest must have a `unitree:` section for this protocol.
    public init(robot: Robot, participant: DDSParticipant, clock: ControlClock, stateRateHz: Double = 500,
                commandTimeout: Double? = nil, dampingSeconds: Double = 2) throws {
        let manifest = robot.manifest
        guard let section = manifest.unitree, section.messages == D.kind else {
            throw TetherError("the manifest has no unitree: section for \(D.kind)", at: manifest.sourcePath ?? manifest.name,
                              hint: "add `unitree: {protocol: \(D.kind), motors: {joint: slot, ...}}` (docs/unitree.md)")
        }
        guard (commandTimeout ?? 1) > 0, (commandTimeout ?? 1).isFinite, dampingSeconds >= 0, dampingSeconds.isFinite, stateRateHz > 0 else {
            throw TetherError("command timeout \(commandTimeout ?? 0.1) s / damping \(dampingSeconds) s / rate \(stateRateHz) Hz are not valid",
                              hint: "a positive timeout and rate, and a non-negative damping time")
        }
        var slots: [Int] = []
        for joint in manifest.joints {
            guard let slot = section.motors[joint.name] else {
                throw TetherError("joint '\(joint.name)' has no motor index", at: "unitree.motors", hint: "give every joint its motor slot")
            }
            slots.append(slot)
        }
        self.robot = robot
        self.participant = participant
        self.clock = clock
        self.stateRateHz = stateRateHz
        self.slots = slots
        actuatedSlots = manifest.actuatedJoints.map { section.motors[$0.name] ?? 0 }
        watchdog = CommandWatchdog(configuration: .init(manifest: manifest, timeout: commandTimeout, dampingSeconds: dampingSeconds))
        // Reliable keep-last 1 like the robot: a best-effort reader matches it, and only the newest state matters.
        states = try DDSPublisher<D.State>(participant, topic: UnitreeTopics.lowState, qos: .reliableLatest)
        commands = try DDSSubscriber<D.Command>(participant, topic: UnitreeTopics.lowCmd, qos: .sensorData)
    }

    /// Asks `run` to return.
    public func stop() { stopFlag.lock(); stopRequested = true; stopFlag.unlock() }

    /// Stops publishing states (a stalled controller, a cut link) while the simulation goes on.
    public func setPaused(_ value: Bool) { stopFlag.lock(); paused = value; stopFlag.unlock() }

    /// Sets the wireless remote's frame the states carry (buttons: `UnitreeRemote`).
    public func setRemote(_ frame: [UInt8]) { remote.withLock { $0 = Array((frame + Array(repeating: 0, count: 40)).prefix(40)) } }

    private func reject(_ what: String, at time: Double) {
        commandsRejected += 1
        if commandsRejected <= 10 || commandsRejected % 100 == 0 {
            onEvent(.init(time: time, kind: "command_rejected", message: "rejected command #\(commandsRejected) (not applied): \(what)"))
        }
    }

    /// The joint command a low-level command asks for, or why it cannot be applied.
    private func jointCommand(_ command: D.Command) throws -> JointCommand {
        let motors = D.motors(command)
        let picked = actuatedSlots.map { $0 < motors.count ? motors[$0] : .off }
        // A motor that is off produces no torque: zero targets, gains and feed-forward.
        let on = picked.map { $0.mode == 0 ? UnitreeMotorCommand.off : $0 }
        return try JointCommand.validated(positions: on.map(\.q), velocities: on.map(\.dq), torques: on.map(\.tau), kp: on.map(\.kp),
                                          kd: on.map(\.kd), source: "rt/lowcmd")
    }

    /// Runs until `stop()` or `seconds` pass.
    public func run(seconds: Double = .infinity) throws {
        let loop = FixedRateLoop(configuration: .init(rateHz: stateRateHz), clock: clock)
        let start = clock.now()
        var lastPositions = [Double](repeating: 0, count: actuatedSlots.count)
        var lastMode = watchdog.mode
        var reading = UnitreeReading(slots: D.kind.motorSlots)
        try loop.run { tick in
            let now = clock.now()
            try robot.advance(to: tick.start)
            for _ in 0..<1000 {
                let command: D.Command
                do {
                    guard let m = try commands.take() else { break }
                    command = m.message
                } catch {
                    reject("\(error)", at: now - start)
                    continue
                }
                guard command.hasValidCRC else {
                    reject("CRC 0x\(String(command.crc, radix: 16)) does not match its fields (0x\(String(command.expectedCRC, radix: 16)))",
                           at: now - start)
                    continue
                }
                let joint: JointCommand
                do { joint = try jointCommand(command) } catch {
                    reject("\(error)", at: now - start)
                    continue
                }
                watchdog.commandArrived(at: now)
                lastPositions = joint.positions
                try robot.send(joint)
                commandsApplied += 1
            }
            if let stopCommand = watchdog.check(at: now, positions: lastPositions) { try robot.send(stopCommand) }
            if watchdog.mode != lastMode {
                switch watchdog.mode {
                case .damping:
                    onEvent(.init(time: now - start, kind: "command_timeout",
                                  message: String(format: "no valid command for %.3f s: damping stop", now - (watchdog.lastCommandAt ?? now))))
                case .zeroTorque:
                    onEvent(.init(time: now - start, kind: "zero_torque", message: "still no command after the damping stop: zero torque"))
                case .following where lastMode != .unarmed:
                    onEvent(.init(time: now - start, kind: "commands_resumed", message: "valid commands again: following them"))
                default: break
                }
                lastMode = watchdog.mode
            }
            stopFlag.lock()
            let done = stopRequested, quiet = paused
            stopFlag.unlock()
            if !quiet, let (s, _) = try robot.latestState() {
                reading.tick = UInt32(truncatingIfNeeded: Int64(((now - start) * 1000).rounded()))
                for (k, slot) in slots.enumerated() where k < s.jointPositions.count {
                    reading.motors[slot].q = s.jointPositions[k]
                    reading.motors[slot].dq = k < s.jointVelocities.count ? s.jointVelocities[k] : 0
                    reading.motors[slot].tau = k < s.jointTorques.count ? s.jointTorques[k] : 0
                    reading.motors[slot].temperature = 40
                }
                reading.quaternion = s.baseOrientation ?? SIMD4(1, 0, 0, 0)
                reading.gyroscope = s.baseAngularVelocity ?? .zero
                reading.accelerometer = s.baseAcceleration ?? .zero
                // Contacts as foot-force counts (the Go2 reads roughly 0 in the air, tens to hundreds on the ground).
                reading.footForce = D.kind == .go ? (0..<4).map { $0 < s.footContacts.count && s.footContacts[$0] ? 100 : 0 } : []
                reading.wirelessRemote = remote.withLock { $0 }
                try states.publish(D.state(reading))
            }
            return (!done && tick.start - start < seconds, .init(readAt: nil, wroteAt: nil))
        }
    }
}
