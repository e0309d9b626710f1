import Foundation
import TetherCore
import TetherROS

/// A robot reached over ROS 2: joint states and IMU in, joint commands out, on the topics the
/// manifest names; an e-stop topic in (std_msgs/Bool) and the safety status out
/// (diagnostic_msgs/DiagnosticArray).
///
/// Commands go out both as `tether_msgs/JointCommand` (targets, feed-forward and gains per joint:
/// robots with on-board PD) on `joint_commands`, and as a `std_msgs/Float64MultiArray` of position
/// targets on `joint_commands/forward` in the layout ros2_control's forward command controllers
/// read (one value per joint, manifest order). Incoming joint states are matched to the manifest
/// by name, so a robot may publish its joints in any order; a missing joint is an error. When the
/// robot publishes odometry (nav_msgs/Odometry on the manifest's `odometry` topic, default
/// `/odom`: a state estimator, motion capture, or the virtual robot's ground truth), the state
/// carries the base position and linear velocity from it; nothing on the control path uses them.
public final class ROS2Robot: Robot {
    public let manifest: Manifest
    public let participant: DDSParticipant
    let clock: ControlClock
    let joints: DDSSubscriber<SensorMsgs.JointState>
    let imu: DDSSubscriber<SensorMsgs.Imu>
    let estop: DDSSubscriber<StdMsgs.Bool>
    let odometry: DDSSubscriber<NavMsgs.Odometry>
    let commands: DDSPublisher<TetherMsgs.JointCommand>
    let forward: DDSPublisher<StdMsgs.Float64MultiArray>
    let diagnostics: DDSPublisher<DiagnosticMsgs.DiagnosticArray>
    private var lastJoints: (SensorMsgs.JointState, Double)?
    private var lastImu: SensorMsgs.Imu?
    private var lastOdometry: NavMsgs.Odometry?
    /// The e-stop topic's latest value (true: engaged).
    public private(set) var eStopInputActive = false
    private var order: [Int]?
    private let actuatedNames: [String]

    /// Subscribes and advertises the manifest's topics.
    public init(manifest: Manifest, participant: DDSParticipant, clock: ControlClock) throws {
        self.manifest = manifest
        self.participant = participant
        self.clock = clock
        actuatedNames = manifest.actuatedJoints.map(\.name)
        let t = manifest.ros2
        joints = try DDSSubscriber(participant, topic: t.jointStates, qos: .sensorData)
        imu = try DDSSubscriber(participant, topic: t.imu, qos: .sensorData)
        estop = try DDSSubscriber(participant, topic: t.estop, qos: .default)
        odometry = try DDSSubscriber(participant, topic: t.odometry, qos: .sensorData)
        commands = try DDSPublisher(participant, topic: t.jointCommands, qos: .default)
        forward = try DDSPublisher(participant, topic: t.jointCommands + "/forward", qos: .default)
        diagnostics = try DDSPublisher(participant, topic: t.safetyStatus, qos: .default)
    }

    /// Waits until joint states arrive (the robot is there), or throws after `timeout` seconds.
    public func waitForRobot(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try latestState() == nil {
            guard Date() < deadline else {
                throw TetherError("no joint states on \(manifest.ros2.jointStates) after \(timeout) s",
                                  hint: "is the robot (or `tether emulate`) running on the same ROS_DOMAIN_ID and network?")
            }
            usleep(2000)
        }
    }

    public func latestState() throws -> (state: RobotState, receivedAt: Double)? {
        while let m = try joints.take() { lastJoints = (m.message, clock.now()) }
        while let m = try imu.take() { lastImu = m.message }
        while let m = try estop.take() { eStopInputActive = m.message.data }
        while let m = try odometry.take() { lastOdometry = m.message }
        guard let (msg, received) = lastJoints else { return nil }
        if order == nil {
            var indices: [Int] = []
            for joint in manifest.joints {
                guard let i = msg.name.firstIndex(of: joint.name) else {
                    throw TetherError("the robot's joint states have no joint '\(joint.name)' (it publishes \(msg.name.joined(separator: ", ")))",
                                      at: manifest.ros2.jointStates, hint: "check the manifest's joint names against the robot")
                }
                indices.append(i)
            }
            order = indices
        }
        let idx = order!
        func pick(_ values: [Double]) -> [Double] { idx.map { $0 < values.count ? values[$0] : 0 } }
        var state = RobotState(time: Double(msg.header.stamp.nanoseconds) * 1e-9, jointPositions: pick(msg.position),
                               jointVelocities: pick(msg.velocity), jointTorques: pick(msg.effort))
        if let i = lastImu { state.apply(imu: i) }
        if let o = lastOdometry { state.apply(odometry: o) }
        return (state, received)
    }

    public func send(_ command: JointCommand) throws {
        try commands.publish(TetherMsgs.JointCommand(header: .init(stamp: .now()), name: actuatedNames, position: command.positions,
                                                     velocity: command.velocities,
                                                     effort: command.torques, kp: command.kp, kd: command.kd))
        try forward.publish(StdMsgs.Float64MultiArray(vector: command.positions, label: "joints"))
    }

    /// Publishes the safety status: level OK / WARN / ERROR with the mode and counters as values.
    public func publishStatus(level: UInt8, message: String, values: [String: String]) throws {
        let status = DiagnosticMsgs.DiagnosticStatus(level: level, name: "tether/safety", message: message, hardwareID: manifest.name,
                                                     values: values.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) })
        try diagnostics.publish(DiagnosticMsgs.DiagnosticArray(header: .init(stamp: .now()),
                                                               status: [status]))
    }

    /// A networked robot runs on its own clock.
    public func advance(to time: Double) throws {}
}
