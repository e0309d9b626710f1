import Foundation
import TetherCore
import TetherROS
import TetherSafety

/// A robot reached over ROS 2: joint states and IMU in, joint commands out, on the topics the
/// manifest names; an e-stop topic in (std_msgs/Bool) and the safety status out
/// (diagnostic_msgs/DiagnosticArray).
///
/// Commands go out both as `tether_msgs/JointCommand` (targets, feed-forward and gains per joint:
/// robots with on-board PD) on `joint_commands`, and as a `std_msgs/Float64MultiArray` of position
/// targets on `joint_commands/forward` in the layout ros2_control's forward command controllers
/// read (one value per joint, manifest order). The forward topic cannot express a damping stop:
/// during a stop it carries the last measured positions (hold where you are), so a robot driven
/// only through it holds position under its own controller's gains instead of damping; the
/// diagnostics say so (`forward_topic_stop: hold_position`). Prefer `joint_commands`.
///
/// Every input is checked for age and shape on every message:
/// - joint states are matched to the manifest by name on every message (a driver may change its
///   order); a missing joint, arrays of different lengths, or non-monotonic stamps are faults;
/// - a joint state without velocities is refused (`ros2.missing_velocities: refuse`, the
///   default) or, when declared (`difference`), velocities come from consecutive positions over
///   their stamps, which the report states; never zeros. Missing efforts leave the torques
///   unmeasured (empty), never zeros;
/// - the IMU has its own timeout (`ros2.imu_timeout`, default the state timeout): a dead IMU
///   node stops the robot instead of freezing the attitude the tilt check reads; odometry older
///   than `ros2.odometry_timeout` is dropped from the state (nothing on the control path uses it);
/// - freshness is the local receive clock's; header stamps from the future (beyond
///   `ros2.stamp_tolerance` of this computer's wall clock) or going backwards are faults;
/// - the e-stop topic is read best effort (matching reliable and best-effort publishers) and
///   latched (the last value of a transient-local publisher); any `true` in a tick engages the
///   e-stop, however short the pulse; with `ros2.estop_heartbeat` a silent e-stop node stops the robot.
/// A fault is thrown as `RobotFault`; the deployment stops the robot with its reason.
public final class ROS2Robot: Robot {
    public let manifest: Manifest
    public let participant: DDSParticipant
    let clock: ControlClock
    let joints: DDSSubscriber<SensorMsgs.JointState>
    let imu: DDSSubscriber<SensorMsgs.Imu>
    let estop: DDSSubscriber<StdMsgs.Bool>
    let estopLatched: DDSSubscriber<StdMsgs.Bool>
    let odometry: DDSSubscriber<NavMsgs.Odometry>
    let commands: DDSPublisher<TetherMsgs.JointCommand>
    let forward: DDSPublisher<StdMsgs.Float64MultiArray>
    let diagnostics: DDSPublisher<DiagnosticMsgs.DiagnosticArray>
    /// A writer of its own for `emergencyStop`, used from another thread.
    let emergency: DDSPublisher<TetherMsgs.JointCommand>
    private let emergencyLock = NSLock()
    private var emergencyCommand: TetherMsgs.JointCommand
    /// Set by `emergencyStop`: no command is published after the emergency stop.
    private var sealed = false
    private var lastJoints: (state: RobotState, received: Double)?
    private var lastJointStamp: Int64?
    private var lastJointNames: [String]?
    private var order: [Int] = []
    private var lastImu: (message: SensorMsgs.Imu, received: Double)?
    private var lastImuStamp: Int64?
    private var lastOdometry: (message: NavMsgs.Odometry, received: Double)?
    private var lastEStopValue = false
    private var lastEStopMessage: Double
    /// The e-stop topic's value this tick (true: engaged, or a pulse arrived since the last read).
    public private(set) var eStopInputActive = false
    private let actuatedNames: [String]
    private let imuTimeout: Double
    private let odometryTimeout: Double
    /// What this backend fills in that the robot does not report.
    public private(set) var inputNotes: [String] = []

    /// Subscribes and advertises the manifest's topics.
    public init(manifest: Manifest, participant: DDSParticipant, clock: ControlClock) throws {
        self.manifest = manifest
        self.participant = participant
        self.clock = clock
        actuatedNames = manifest.actuatedJoints.map(\.name)
        let t = manifest.ros2
        imuTimeout = t.imuTimeout ?? manifest.safety.stateTimeout
        odometryTimeout = t.odometryTimeout ?? 0.5
        joints = try DDSSubscriber(participant, topic: t.jointStates, qos: .sensorData)
        imu = try DDSSubscriber(participant, topic: t.imu, qos: .sensorData)
        estop = try DDSSubscriber(participant, topic: t.estop, qos: .sensorData)
        estopLatched = try DDSSubscriber(participant, topic: t.estop, qos: .latched)
        odometry = try DDSSubscriber(participant, topic: t.odometry, qos: .sensorData)
        commands = try DDSPublisher(participant, topic: t.jointCommands, qos: .default)
        emergency = try DDSPublisher(participant, topic: t.jointCommands, qos: .default)
        forward = try DDSPublisher(participant, topic: t.jointCommands + "/forward", qos: .default)
        diagnostics = try DDSPublisher(participant, topic: t.safetyStatus, qos: .default)
        lastEStopMessage = clock.now()
        let n = manifest.actuatedJoints.count
        let zero = [Double](repeating: 0, count: n)
        let kd = CommandWatchdog.Configuration(manifest: manifest).dampingKd   // the robot side's damping gains
        emergencyCommand = TetherMsgs.JointCommand(header: .init(stamp: .now()), name: manifest.actuatedJoints.map(\.name),
                                                   position: manifest.actuatedJoints.map(\.defaultPosition), velocity: zero,
                                                   effort: zero, kp: zero, kd: kd)
        if t.missingVelocities == .difference {
            inputNotes.append("joint velocities are computed by differencing positions over their stamps when \(t.jointStates) carries none "
                + "(ros2.missing_velocities: difference)")
        }
    }

    /// Waits until joint states arrive, and the IMU too on a floating-base robot (the robot is
    /// there: a first tick without the base's orientation would stop it), or throws after
    /// `timeout` seconds.
    public func waitForRobot(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try latestState() == nil || (manifest.base != nil && lastImu == nil) {
            guard Date() < deadline else {
                let missing = lastJoints == nil ? "no joint states on \(manifest.ros2.jointStates)" : "joint states but no IMU on \(manifest.ros2.imu)"
                throw TetherError("\(missing) after \(timeout) s",
                                  hint: "is the robot (or `tether emulate`) running on the same ROS_DOMAIN_ID and network, and its IMU node up?")
            }
            usleep(2000)
        }
        lastEStopMessage = clock.now()
    }

    private func fault(_ reason: SafetyReason, _ what: String, topic: String, hint: String) -> RobotFault {
        RobotFault(reason, TetherError(what, at: topic, hint: hint))
    }

    /// Checks a header stamp against the previous one on its topic and the local wall clock.
    private func checkStamp(_ stamp: Int64, previous: Int64?, topic: String) throws {
        guard stamp != 0 else { return }  // unstamped
        let tolerance = manifest.ros2.stampTolerance
        let wall = Int64(Date().timeIntervalSince1970 * 1e9)
        if Double(stamp - wall) * 1e-9 > tolerance {
            throw fault(.invalidTime, String(format: "a message is stamped %.3f s in the future of this computer's clock", Double(stamp - wall) * 1e-9),
                        topic: topic, hint: "synchronise the robot's and this computer's clocks (chrony, PTP), or raise ros2.stamp_tolerance (now "
                            + "\(tolerance) s)")
        }
        if let previous, Double(previous - stamp) * 1e-9 > tolerance {
            throw fault(.invalidTime, String(format: "a message's stamp went back %.3f s from the previous one", Double(previous - stamp) * 1e-9),
                        topic: topic, hint: "the driver restarted or its clock jumped; restart the deployment once the robot's clock is steady")
        }
    }

    /// Converts one joint-state message into a state in manifest order, or throws a fault.
    /// `sourceTime`: the DDS sample's source timestamp, ns (what differencing uses for unstamped messages).
    private func jointState(_ msg: SensorMsgs.JointState, received: Double, sourceTime: Int64) throws -> RobotState? {
        let topic = manifest.ros2.jointStates
        let n = msg.name.count
        guard msg.position.count == n, msg.velocity.isEmpty || msg.velocity.count == n, msg.effort.isEmpty || msg.effort.count == n else {
            throw fault(.invalidInput,
                        "a joint state names \(n) joints but has \(msg.position.count) positions, \(msg.velocity.count) velocities, \(msg.effort.count) "
                            + "efforts",
                        topic: topic, hint: "positions must match the names one to one; velocities and efforts likewise, or be empty")
        }
        guard n > 0 else {
            throw fault(.invalidInput, "a joint state names no joints", topic: topic, hint: "the driver must publish every joint the manifest names")
        }
        if msg.name != lastJointNames {
            // Matched by name on every message whose names differ from the last one's.
            var indices: [Int] = []
            for joint in manifest.joints {
                guard let i = msg.name.firstIndex(of: joint.name) else {
                    throw fault(.invalidInput, "the robot's joint states have no joint '\(joint.name)' (it publishes \(msg.name.joined(separator: ", ")))",
                                topic: topic, hint: "check the manifest's joint names against the robot")
                }
                indices.append(i)
            }
            order = indices
            lastJointNames = msg.name
        }
        let stamp = msg.header.stamp.nanoseconds
        try checkStamp(stamp, previous: lastJointStamp, topic: topic)
        let positions = order.map { msg.position[$0] }
        var velocities: [Double]
        if !msg.velocity.isEmpty {
            velocities = order.map { msg.velocity[$0] }
        } else {
            switch manifest.ros2.missingVelocities {
            case .refuse:
                throw fault(.invalidInput,
                            "the joint states carry no velocities (legal in sensor_msgs/JointState, but the policy and the safety checks need them)",
                            topic: topic, hint: "publish velocities, or declare `ros2: {missing_velocities: difference}` in the manifest to compute them "
                                + "from positions")
            case .difference:
                // Over the header stamps where the robot stamps them, else over the samples' DDS
                // source timestamps (one per sample, unlike the receive time of a drained batch).
                let sampleTime = stamp != 0 ? stamp : sourceTime
                defer { lastDifferenced = (positions, sampleTime) }
                guard let (previousPositions, previousTime) = lastDifferenced else { return nil }   // the first has no velocity yet
                let dt = Double(sampleTime - previousTime) * 1e-9
                guard dt > 1e-6 else { return nil }   // no time passed: wait for the next sample
                velocities = zip(positions, previousPositions).map { ($0 - $1) / dt }
            }
        }
        let torques = msg.effort.isEmpty ? [] : order.map { msg.effort[$0] }
        lastJointStamp = max(lastJointStamp ?? stamp, stamp)   // the newest seen: small steps back cannot add up
        return RobotState(time: Double(stamp) * 1e-9, jointPositions: positions, jointVelocities: velocities, jointTorques: torques)
    }

    public func latestState() throws -> (state: RobotState, receivedAt: Double)? {
        let now = clock.now()
        let t = manifest.ros2
        while let m = try joints.take() {
            if let state = try jointState(m.message, received: now, sourceTime: m.sourceTime) { lastJoints = (state, now) }
        }
        while let m = try imu.take() {
            try checkStamp(m.message.header.stamp.nanoseconds, previous: lastImuStamp, topic: t.imu)
            lastImuStamp = max(lastImuStamp ?? m.message.header.stamp.nanoseconds, m.message.header.stamp.nanoseconds)
            lastImu = (m.message, now)
        }
        var pulse = false
        for reader in [estop, estopLatched] {
            while let m = try reader.take() {
                pulse = pulse || m.message.data
                lastEStopValue = m.message.data
                lastEStopMessage = now
            }
        }
        // A pulse shorter than a tick (true then false between two reads) still engages.
        eStopInputActive = pulse || lastEStopValue
        if let heartbeat = t.estopHeartbeat, now - lastEStopMessage > heartbeat {
            throw fault(.eStop, String(format: "no message on the e-stop topic for %.3f s (heartbeat required every %.3f s)", now - lastEStopMessage,
                                       heartbeat),
                        topic: t.estop, hint: "the e-stop node is dead or disconnected: check it, then restart the deployment")
        }
        while let m = try odometry.take() { lastOdometry = (m.message, now) }
        guard let (joint, received) = lastJoints else { return nil }
        var state = joint
        if let (message, at) = lastImu {
            // The IMU's own age: its attitude must not freeze while joint states keep coming.
            // (When both are silent, the wrapper's state timeout stops the robot on the joint states' age.)
            if now - at > imuTimeout, received - at > imuTimeout {
                throw fault(.stateTimeout, String(format: "the IMU has been silent for %.3f s (timeout %.3f s) while joint states keep coming", now - at,
                                                  imuTimeout),
                            topic: t.imu, hint: "check the IMU node; ros2.imu_timeout sets the timeout")
            }
            state.apply(imu: message)
        }
        if let (message, at) = lastOdometry, now - at <= odometryTimeout { state.apply(odometry: message) }
        return (state, received)
    }
    /// Positions and time of the last joint state, for differencing.
    private var lastDifferenced: (positions: [Double], time: Int64)?

    public func send(_ command: JointCommand) throws {
        // Under the emergency lock, so that nothing is published after an emergency stop.
        emergencyLock.lock()
        defer { emergencyLock.unlock() }
        guard !sealed else { return }
        try commands.publish(TetherMsgs.JointCommand(header: .init(stamp: .now()), name: actuatedNames, position: command.positions,
                                                     velocity: command.velocities,
                                                     effort: command.torques, kp: command.kp, kd: command.kd))
        try forward.publish(StdMsgs.Float64MultiArray(vector: command.positions, label: "joints"))
        // The emergency stop's positions follow the last command's (they matter only to drivers
        // that add gains of their own; with kp = 0 they change nothing).
        emergencyCommand.position = command.positions
    }

    /// Publishes one damping stop from any thread, through a writer of its own (a second Ctrl-C,
    /// just before exiting), and seals the robot: no command is published after it. The forward
    /// topic gets the last positions (hold where you are: it cannot express damping).
    public func emergencyStop() {
        emergencyLock.lock()
        defer { emergencyLock.unlock() }
        sealed = true
        var message = emergencyCommand
        message.header = .init(stamp: .now())
        try? emergency.publish(message)
        try? forward.publish(StdMsgs.Float64MultiArray(vector: message.position, label: "joints"))
    }

    /// Publishes the safety status: level OK / WARN / ERROR with the mode and counters as values.
    public func publishStatus(level: UInt8, message: String, values: [String: String]) throws {
        var values = values
        values["forward_topic_stop"] = "hold_position"
        let status = DiagnosticMsgs.DiagnosticStatus(level: level, name: "tether/safety", message: message, hardwareID: manifest.name,
                                                     values: values.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) })
        try diagnostics.publish(DiagnosticMsgs.DiagnosticArray(header: .init(stamp: .now()),
                                                               status: [status]))
    }

    /// A networked robot runs on its own clock.
    public func advance(to time: Double) throws {}
}
