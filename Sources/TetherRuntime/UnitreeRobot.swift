import Foundation
import TetherCore
import TetherROS
import TetherSafety

/// A Unitree robot over its own low-level protocol (`unitree_go`: Go2, B2; `unitree_hg`: G1,
/// H1-2): `rt/lowstate` in, `rt/lowcmd` out, on Cyclone DDS with no ROS 2 install needed.
///
/// - Joint positions, velocities and torques come from the manifest's motor slots
///   (`unitree.motors`), the IMU (quaternion, gyroscope, accelerometer) from the state's IMU,
///   foot contacts from the foot-force sensors where the protocol has them.
/// - Every state's CRC is checked: a state with a wrong one is counted and dropped
///   (`UnitreeStateSubscriber`); 50 in a row are a fault.
/// - Freshness is the robot's `tick`: a state whose tick did not advance is not new, so a
///   controller that keeps repeating a frozen state trips the safety wrapper's state timeout
///   like a silent one.
/// - A mapped motor reporting an error word or a temperature at `unitree.max_motor_temperature`
///   is a `motor_fault` stop with the motor named.
/// - The wireless remote's buttons `unitree.estop_buttons`, held together, engage the e-stop.
/// - Each command sets every mapped motor (mode 1, q, dq, tau, kp, kd) and leaves unmapped slots
///   off, CRC sealed. The safety wrapper's stops arrive as commands and map directly: a damping
///   stop is kp 0 with kd > 0, a zero-torque stop is all zeros.
public final class UnitreeRobot<D: UnitreeDialect>: Robot {
    public let manifest: Manifest
    /// The DDS participant the topics live on.
    public let participant: DDSParticipant
    /// The manifest's `unitree:` section.
    public let configuration: Manifest.Unitree
    let clock: ControlClock
    let states: UnitreeStateSubscriber<D.State>
    let commands: UnitreeCommandPublisher<D.Command>
    /// A writer of its own for `emergencyStop`, used from another thread.
    let emergency: UnitreeCommandPublisher<D.Command>
    /// A reader of `rt/lowcmd`: to see whether another program commands the motors too.
    let commandWatch: DDSSubscriber<D.Command>
    /// Motor slot of each manifest joint (state order) and of each actuated joint (command order).
    let jointSlots: [Int]
    let actuatedSlots: [Int]
    private let estopMask: UInt16?
    private let dampingKd: [Double]
    private let emergencyLock = NSLock()
    private var sealed = false
    private var last: (reading: UnitreeReading, received: Double)?
    private var lastState: RobotState?
    private var consecutiveRejected = 0
    private var seenCounts = UnitreeStateSubscriber<D.State>.Counts()
    /// Whether the remote's e-stop buttons are held (any time since the last read counts).
    public private(set) var eStopInputActive = false
    /// The latest wireless-remote frame (40 bytes; `UnitreeRemote` decodes its buttons).
    public private(set) var wirelessRemote: [UInt8] = Array(repeating: 0, count: 40)
    /// The latest foot-force readings, raw counts (`unitree_go`; empty otherwise).
    public private(set) var footForce: [Double] = []
    /// States accepted and dropped for a wrong CRC so far.
    public var stateCounts: UnitreeStateSubscriber<D.State>.Counts { states.counts }

    /// Subscribes to `rt/lowstate` and advertises `rt/lowcmd`. Throws when the manifest has no
    /// `unitree:` section for this protocol, or a joint has no motor slot.
    public init(manifest: Manifest, participant: DDSParticipant, clock: ControlClock) throws {
        guard let configuration = manifest.unitree else {
            throw TetherError("the manifest has no unitree: section", at: manifest.sourcePath ?? manifest.name,
                              hint: "add `unitree: {protocol: unitree_go, motors: {joint: slot, ...}}` (docs/unitree.md)")
        }
        guard configuration.messages == D.kind else {
            throw TetherError("the manifest speaks \(configuration.messages) but this backend was built for \(D.kind)",
                              at: "unitree.protocol", hint: "use UnitreeBackend.connect, which picks the protocol from the manifest")
        }
        var jointSlots: [Int] = []
        for joint in manifest.joints {
            guard let slot = configuration.motors[joint.name] else {
                throw TetherError("joint '\(joint.name)' has no motor index", at: "unitree.motors",
                                  hint: "give every joint its slot in LowState.motor_state, e.g. \(joint.name): 0")
            }
            jointSlots.append(slot)
        }
        self.manifest = manifest
        self.participant = participant
        self.configuration = configuration
        self.clock = clock
        self.jointSlots = jointSlots
        actuatedSlots = manifest.actuatedJoints.map { configuration.motors[$0.name] ?? 0 }
        estopMask = configuration.estopButtons.isEmpty ? nil : UnitreeRemote.mask(configuration.estopButtons)
        dampingKd = CommandWatchdog.Configuration(manifest: manifest).dampingKd
        states = try UnitreeStateSubscriber<D.State>(participant)
        commands = try UnitreeCommandPublisher<D.Command>(participant)
        emergency = try UnitreeCommandPublisher<D.Command>(participant)
        commandWatch = try DDSSubscriber<D.Command>(participant, topic: UnitreeTopics.lowCmd, qos: .sensorData)
    }

    /// Programs other than this one that publish on `rt/lowcmd` (the vendor's motion service,
    /// another controller): our own two writers match our reader too, so they are not counted.
    public var otherCommandWriters: Int { max(0, commandWatch.matchedPublishers - 2) }

    /// Waits for the robot's first valid state, then refuses to start while another program
    /// commands the motors (the vendor's high-level motion service must be released first).
    public func waitForRobot(timeout: Double, discoverySeconds: Double = 0.5) throws {
        let deadline = Date().addingTimeInterval(timeout)
        func ready() throws -> Bool {
            do { return try latestState() != nil } catch let fault as RobotFault {
                // Not started yet: a plain error that says why (a hot motor, an error word, CRCs).
                throw TetherError("the robot is not fit to start (\(fault.reason.rawValue)): \(fault.error.what)", at: fault.error.location,
                                  hint: fault.error.hint)
            }
        }
        while try !ready() {
            guard Date() < deadline else {
                let counts = states.counts
                let what = counts.rejected > 0
                    ? "\(counts.rejected) state(s) on rt/lowstate but none with a valid CRC after \(timeout) s"
                    : "no \(D.kind) state on rt/lowstate after \(timeout) s"
                throw TetherError(what, at: "rt/lowstate",
                                  hint: counts.rejected > 0
                                      ? "is the robot speaking \(D.kind.rawValue)? unitree.protocol must match the robot (\(UnitreeProtocol.choices))"
                                      : "is the robot on (or `tether emulate --protocol \(D.kind)`), and unitree.interface (now "
                                          + "\(configuration.interface ?? "Cyclone's choice")) the network port that reaches it?")
            }
            usleep(2000)
        }
        usleep(UInt32(max(0, min(discoverySeconds, 5)) * 1e6))
        let others = otherCommandWriters
        if others > 0 {
            throw TetherError("\(others) other program(s) publish on rt/lowcmd: the robot's high-level motion service, or another controller",
                              at: "rt/lowcmd",
                              hint: "release the vendor's motion service first (the app or the motion switcher; docs/unitree.md), and stop other "
                                  + "controllers")
        }
    }

    private func fault(_ reason: SafetyReason, _ what: String, hint: String) -> RobotFault {
        RobotFault(reason, TetherError(what, at: "rt/lowstate", hint: hint))
    }

    /// Checks the motors a new state reports: errors and temperatures of the mapped ones.
    private func checkMotors(_ reading: UnitreeReading) throws {
        for (joint, slot) in zip(manifest.joints, jointSlots) where slot < reading.motors.count {
            let motor = reading.motors[slot]
            if motor.error != 0 {
                throw fault(.motorFault, "motor \(slot) (\(joint.name)) reports error bits 0x\(String(motor.error, radix: 16))",
                            hint: "read the code in the vendor's motor documentation; power-cycle the motor once the cause is cleared")
            }
            if motor.temperature >= configuration.maxMotorTemperature {
                throw fault(.motorFault,
                            "motor \(slot) (\(joint.name)) is at \(fmtDegrees(motor.temperature)) °C "
                                + "(limit \(fmtDegrees(configuration.maxMotorTemperature)) °C)",
                            hint: "let it cool down; unitree.max_motor_temperature sets the limit")
            }
        }
    }

    public func latestState() throws -> (state: RobotState, receivedAt: Double)? {
        let now = clock.now()
        var pressed = false
        while let sample = try states.take() {
            let reading = D.reading(sample.message)
            if let mask = estopMask, UnitreeRemote.buttonBits(reading.wirelessRemote) & mask == mask { pressed = true }
            wirelessRemote = reading.wirelessRemote
            // A state whose tick did not move is a repeat: it does not refresh the state's age.
            if let last, last.reading.tick == reading.tick { continue }
            try checkMotors(reading)
            last = (reading, now)
            lastState = nil
        }
        eStopInputActive = pressed || estopMask.map { UnitreeRemote.buttonBits(wirelessRemote) & $0 == $0 } ?? false
        // States failing their CRC, with none passing in between: a broken link or the wrong protocol.
        let counts = states.counts
        if counts.accepted == seenCounts.accepted { consecutiveRejected += counts.rejected - seenCounts.rejected } else { consecutiveRejected = 0 }
        seenCounts = counts
        if consecutiveRejected >= 50 {
            throw fault(.invalidInput, "\(consecutiveRejected) states in a row failed their CRC (\(counts.rejected) in all)",
                        hint: "check the cable and unitree.protocol (\(UnitreeProtocol.choices)) against the robot")
        }
        guard let (reading, received) = last else { return nil }
        if let lastState { return (lastState, received) }
        var state = RobotState(time: Double(reading.tick) * 1e-3, jointPositions: jointSlots.map { reading.motors[$0].q },
                               jointVelocities: jointSlots.map { reading.motors[$0].dq }, jointTorques: jointSlots.map { reading.motors[$0].tau })
        if manifest.base != nil {
            state.baseOrientation = reading.quaternion
            state.baseAngularVelocity = reading.gyroscope
            state.baseAcceleration = reading.accelerometer
            let feet = manifest.base?.footContactSensors.count ?? 0
            if feet > 0, reading.footForce.count >= feet {
                state.footContacts = reading.footForce.prefix(feet).map { $0 > configuration.footContactThreshold }
            }
        }
        footForce = reading.footForce
        lastState = state
        return (state, received)
    }

    /// The motor commands of a joint command: mapped motors enabled with the command's values,
    /// unmapped slots off.
    private func motors(_ command: JointCommand) -> [UnitreeMotorCommand] {
        var motors = Array(repeating: UnitreeMotorCommand.off, count: D.kind.motorSlots)
        for (k, slot) in actuatedSlots.enumerated() where k < command.count {
            motors[slot] = UnitreeMotorCommand(mode: 1, q: command.positions[k], dq: command.velocities[k], tau: command.torques[k],
                                               kp: command.kp[k], kd: command.kd[k])
        }
        return motors
    }

    public func send(_ command: JointCommand) throws {
        emergencyLock.lock()
        defer { emergencyLock.unlock() }
        guard !sealed else { return }
        try commands.publish(D.command(motors(command), modeMachine: last?.reading.modeMachine ?? 0))
    }

    /// Publishes one damping stop (kp 0, kd the watchdog's damping gains) from any thread, through
    /// a writer of its own, and seals the robot: no command is published after it.
    public func emergencyStop() {
        emergencyLock.lock()
        defer { emergencyLock.unlock() }
        sealed = true
        let zero = [Double](repeating: 0, count: actuatedSlots.count)
        let stop = JointCommand(positions: zero, velocities: zero, torques: zero, kp: zero, kd: dampingKd)
        try? emergency.publish(D.command(motors(stop), modeMachine: last?.reading.modeMachine ?? 0))
    }

    public var inputNotes: [String] {
        ["Unitree \(D.kind.rawValue) on rt/lowstate: freshness from the robot's tick; \(states.counts.rejected) state(s) dropped for a wrong CRC"]
    }

    /// A networked robot runs on its own clock.
    public func advance(to time: Double) throws {}
}

private func fmtDegrees(_ value: Double) -> String { String(format: "%.0f", value) }

/// Connects the backend for a manifest's `unitree:` section.
public enum UnitreeBackend {
    /// A DDS configuration binding Cyclone to one network interface (the port that reaches the robot).
    public static func configuration(interface: String) -> String {
        "<CycloneDDS><Domain id=\"any\"><General><Interfaces><NetworkInterface name=\"\(interface)\"/></Interfaces></General></Domain></CycloneDDS>"
    }

    /// The robot of the manifest's `unitree:` section, once its first valid state arrived.
    /// `loopback` keeps DDS on 127.0.0.1 (the virtual robot on this machine), else
    /// `unitree.interface` picks the network port.
    public static func connect(manifest: Manifest, loopback: Bool, clock: ControlClock, waitSeconds: Double = 10) throws -> Robot {
        guard let section = manifest.unitree else {
            throw TetherError("the manifest has no unitree: section, which --backend unitree needs", at: manifest.sourcePath ?? manifest.name,
                              hint: "add `unitree: {protocol: \(UnitreeProtocol.go), motors: {joint: slot, ...}}` (docs/unitree.md)")
        }
        let xml = loopback ? DDSParticipant.loopbackConfiguration : section.interface.map(configuration(interface:))
        let participant = try DDSParticipant(configuration: xml)
        switch section.messages {
        case .go:
            let robot = try UnitreeRobot<UnitreeGoDialect>(manifest: manifest, participant: participant, clock: clock)
            try robot.waitForRobot(timeout: waitSeconds)
            return robot
        case .hg:
            let robot = try UnitreeRobot<UnitreeHGDialect>(manifest: manifest, participant: participant, clock: clock)
            try robot.waitForRobot(timeout: waitSeconds)
            return robot
        }
    }
}
