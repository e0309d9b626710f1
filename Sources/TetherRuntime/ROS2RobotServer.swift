import Foundation
import TetherCore
import TetherROS

/// Serves any `Robot` (the in-process simulation, the virtual robot) over ROS 2 as a real robot's
/// driver would: joint states and IMU published at `stateRateHz`, `tether_msgs/JointCommand` (or
/// the forward position array) applied as they arrive, the e-stop topic honoured by holding a
/// damping stop. `tether emulate` runs one of these; tests run one in-process.
public final class ROS2RobotServer: @unchecked Sendable {
    public let robot: Robot
    public let participant: DDSParticipant
    public let stateRateHz: Double
    let clock: ControlClock
    let states: DDSPublisher<SensorMsgs.JointState>
    let imu: DDSPublisher<SensorMsgs.Imu>
    let odometry: DDSPublisher<NavMsgs.Odometry>
    let commands: DDSSubscriber<TetherMsgs.JointCommand>
    let estop: DDSSubscriber<StdMsgs.Bool>
    private let stopFlag = NSLock()
    private var stopRequested = false
    private var paused = false
    /// Commands applied so far.
    public private(set) var commandsApplied = 0

    public init(robot: Robot, participant: DDSParticipant, clock: ControlClock, stateRateHz: Double = 500) throws {
        self.robot = robot
        self.participant = participant
        self.clock = clock
        self.stateRateHz = stateRateHz
        let t = robot.manifest.ros2
        states = try DDSPublisher(participant, topic: t.jointStates, qos: .sensorData)
        imu = try DDSPublisher(participant, topic: t.imu, qos: .sensorData)
        odometry = try DDSPublisher(participant, topic: t.odometry, qos: .sensorData)
        commands = try DDSSubscriber(participant, topic: t.jointCommands, qos: .default)
        estop = try DDSSubscriber(participant, topic: t.estop, qos: .default)
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
        let start = clock.now()
        var eStopped = false
        try loop.run { tick in
            try robot.advance(to: tick.start)
            while let m = try estop.take() { eStopped = eStopped || m.message.data }
            while let m = try commands.take() {
                let c = m.message
                guard c.name == actuated, c.position.count == actuated.count else { continue }  // not for this robot
                if !eStopped {
                    try robot.send(JointCommand(positions: c.position, velocities: c.velocity, torques: c.effort, kp: c.kp, kd: c.kd))
                    commandsApplied += 1
                }
            }
            if eStopped {
                let n = actuated.count
                let zero = [Double](repeating: 0, count: n)
                try robot.send(JointCommand(positions: zero, velocities: zero, torques: zero, kp: zero,
                                            kd: robot.manifest.actuatedJoints.map { $0.kd ?? 1 }))
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
