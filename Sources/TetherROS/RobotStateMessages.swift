import Foundation
import TetherCore

// The one place where Tether's vocabulary (RobotState, JointCommand) meets ROS 2 messages, used
// by the flight recorder, the ROS 2 robot and its server, and the safety replay.

extension BuiltinInterfaces.Time {
    /// The wall-clock time now.
    public static func now() -> Self {
        .init(nanoseconds: Int64(Date().timeIntervalSince1970 * 1e9))
    }
}

extension SensorMsgs.JointState {
    /// The joints of `state`, named in manifest order.
    public init(state: RobotState, names: [String], header: StdMsgs.Header) {
        self.init(header: header, name: names, position: state.jointPositions, velocity: state.jointVelocities,
                  effort: state.jointTorques)
    }
}

extension SensorMsgs.Imu {
    /// The IMU part of `state`; nil for a fixed base (no orientation).
    public init?(state: RobotState, header: StdMsgs.Header) {
        guard let q = state.baseOrientation else { return nil }
        self.init(header: header, orientation: .init(x: q[1], y: q[2], z: q[3], w: q[0]),
                  angularVelocity: .init(state.baseAngularVelocity ?? .zero),
                  linearAcceleration: .init(state.baseAcceleration ?? .zero))
    }
}

extension NavMsgs.Odometry {
    /// The base's pose and velocity of `state` (simulation ground truth, as motion capture would
    /// give it); nil when the state has no base position.
    public init?(state: RobotState, header: StdMsgs.Header, childFrameID: String = "base") {
        guard let p = state.basePosition else { return nil }
        let q = state.baseOrientation ?? SIMD4(1, 0, 0, 0)
        self.init(header: header, childFrameID: childFrameID,
                  pose: .init(pose: .init(position: .init(x: p.x, y: p.y, z: p.z), orientation: .init(x: q[1], y: q[2], z: q[3], w: q[0]))),
                  twist: .init(twist: .init(linear: .init(state.baseLinearVelocity ?? .zero), angular: .init(state.baseAngularVelocity ?? .zero))))
    }
}

extension RobotState {
    /// Fills the base position and (base-frame) linear velocity from odometry.
    public mutating func apply(odometry o: NavMsgs.Odometry) {
        let p = o.pose.pose.position, v = o.twist.twist.linear
        basePosition = SIMD3(p.x, p.y, p.z)
        baseLinearVelocity = SIMD3(v.x, v.y, v.z)
    }

    /// Fills the base orientation (w, x, y, z), angular velocity and acceleration from an IMU message.
    public mutating func apply(imu i: SensorMsgs.Imu) {
        baseOrientation = SIMD4(i.orientation.w, i.orientation.x, i.orientation.y, i.orientation.z)
        baseAngularVelocity = SIMD3(i.angularVelocity.x, i.angularVelocity.y, i.angularVelocity.z)
        baseAcceleration = SIMD3(i.linearAcceleration.x, i.linearAcceleration.y, i.linearAcceleration.z)
    }
}

extension StdMsgs.Float64MultiArray {
    /// A joint command as a 5 × n array: rows position, velocity, effort, kp, kd (dimensions
    /// labelled `fields` and `joints`), the layout the flight recorder writes.
    public init(jointCommand c: JointCommand) {
        let n = c.count
        self.init(layout: .init(dim: [.init(label: "fields", size: 5, stride: UInt32(5 * n)),
                                      .init(label: "joints", size: UInt32(n), stride: UInt32(n))]),
                  data: c.positions + c.velocities + c.torques + c.kp + c.kd)
    }
}

extension JointCommand {
    /// The command in a 5 × `joints` array written by `Float64MultiArray(jointCommand:)`; nil
    /// when the array has another size.
    public init?(multiArray a: StdMsgs.Float64MultiArray, joints n: Int) {
        guard a.data.count == 5 * n else { return nil }
        let d = a.data
        self.init(positions: Array(d[0..<n]), velocities: Array(d[n..<(2 * n)]), torques: Array(d[(2 * n)..<(3 * n)]),
                  kp: Array(d[(3 * n)..<(4 * n)]), kd: Array(d[(4 * n)..<(5 * n)]))
    }
}
