/// What a robot reports at one instant, in the manifest's joint order. SI units, radians.
///
/// Simulation-only ground truth (base position and linear velocity) is optional: a real robot
/// does not have it, and nothing on the deployment path may depend on it.
public struct RobotState: Sendable, Equatable {
    /// Time of the measurement on the robot's clock, s.
    public var time: Double
    /// Joint positions, rad (m for slide joints), manifest order.
    public var jointPositions: [Double]
    /// Joint velocities, rad/s, manifest order.
    public var jointVelocities: [Double]
    /// Measured joint torques, N·m (0 for passive joints), manifest order.
    public var jointTorques: [Double]
    /// Base orientation as a unit quaternion (w, x, y, z), world frame; nil for a fixed base.
    public var baseOrientation: SIMD4<Double>?
    /// Angular velocity of the base in the base (IMU) frame, rad/s.
    public var baseAngularVelocity: SIMD3<Double>?
    /// Specific force measured by the accelerometer in the base frame, m/s².
    public var baseAcceleration: SIMD3<Double>?
    /// Foot contact flags, in the manifest's foot order.
    public var footContacts: [Bool]
    /// Base position in the world frame, m (simulation ground truth only).
    public var basePosition: SIMD3<Double>?
    /// Base linear velocity in the base frame, m/s (simulation ground truth only).
    public var baseLinearVelocity: SIMD3<Double>?

    /// Creates a state.
    public init(time: Double, jointPositions: [Double], jointVelocities: [Double], jointTorques: [Double],
                baseOrientation: SIMD4<Double>? = nil, baseAngularVelocity: SIMD3<Double>? = nil,
                baseAcceleration: SIMD3<Double>? = nil, footContacts: [Bool] = [],
                basePosition: SIMD3<Double>? = nil, baseLinearVelocity: SIMD3<Double>? = nil) {
        self.time = time
        self.jointPositions = jointPositions
        self.jointVelocities = jointVelocities
        self.jointTorques = jointTorques
        self.baseOrientation = baseOrientation
        self.baseAngularVelocity = baseAngularVelocity
        self.baseAcceleration = baseAcceleration
        self.footContacts = footContacts
        self.basePosition = basePosition
        self.baseLinearVelocity = baseLinearVelocity
    }

    /// The world's down direction (0, 0, -1) expressed in the base frame; nil for a fixed base.
    public var projectedGravity: SIMD3<Double>? {
        baseOrientation.map { Rotation.worldToBody(SIMD3(0, 0, -1), orientation: $0) }
    }

    /// Yaw of the base (rotation about the world's vertical axis), rad in (−π, π].
    public var yaw: Double? {
        baseOrientation.map { q in
            let (w, x, y, z) = (q[0], q[1], q[2], q[3])
            return _atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        }
    }

    /// Angle between the base's up axis and the world's up axis, rad (0 when level).
    public var tilt: Double? {
        projectedGravity.map { g in
            let c = max(-1, min(1, -g.z / max(1e-12, (g * g).sum().squareRoot())))
            return _acos(c)
        }
    }
}

/// A command for every actuated joint, in the manifest's actuated-joint order.
///
/// The robot applies `tau = kp (position - q) + kd (velocity - qd) + torque` at its own rate and
/// clips it to the torque limits, like the motor drivers of Unitree-class robots and ros2_control's
/// effort interfaces. `kp = 0` with `kd > 0` is a damping stop; all zero is a zero-torque stop.
public struct JointCommand: Sendable, Equatable {
    /// Position targets, rad.
    public var positions: [Double]
    /// Velocity targets, rad/s.
    public var velocities: [Double]
    /// Feed-forward torques, N·m.
    public var torques: [Double]
    /// Proportional gains, N·m/rad.
    public var kp: [Double]
    /// Derivative gains, N·m·s/rad.
    public var kd: [Double]

    /// Creates a command; all arrays must have the same length.
    public init(positions: [Double], velocities: [Double], torques: [Double], kp: [Double], kd: [Double]) {
        precondition([velocities.count, torques.count, kp.count, kd.count].allSatisfy { $0 == positions.count },
                     "JointCommand arrays must have equal length")
        self.positions = positions
        self.velocities = velocities
        self.torques = torques
        self.kp = kp
        self.kd = kd
    }

    /// Creates a command from arrays that come from outside (a message off the wire, a file):
    /// throws a clear error when their lengths differ or a value is not finite, where the
    /// plain initializer would trap.
    /// - Parameter source: Where the arrays came from, for the error (e.g. a topic name).
    public static func validated(positions: [Double], velocities: [Double], torques: [Double], kp: [Double], kd: [Double],
                                 source: String) throws -> JointCommand {
        let n = positions.count
        let fields = [("velocity", velocities), ("effort", torques), ("kp", kp), ("kd", kd)]
        if let (name, values) = fields.first(where: { $0.1.count != n }) {
            throw TetherError("a joint command has \(n) positions but \(values.count) \(name) values", at: source,
                              hint: "every array of a command holds one value per actuated joint")
        }
        for (name, values) in [("position", positions)] + fields {
            if let k = values.firstIndex(where: { !$0.isFinite }) {
                throw TetherError("a joint command's \(name) for joint \(k) is \(values[k])", at: source,
                                  hint: "commands must be finite numbers")
            }
        }
        if let k = kp.indices.first(where: { kp[$0] < 0 || kd[$0] < 0 }) {
            throw TetherError("a joint command's gains for joint \(k) are negative (kp \(kp[k]), kd \(kd[k]))", at: source,
                              hint: "gains are non-negative")
        }
        return JointCommand(positions: positions, velocities: velocities, torques: torques, kp: kp, kd: kd)
    }

    /// A zero-torque command for `count` joints.
    public static func zeroTorque(count: Int) -> JointCommand {
        let z = [Double](repeating: 0, count: count)
        return JointCommand(positions: z, velocities: z, torques: z, kp: z, kd: z)
    }

    /// Number of joints commanded.
    public var count: Int { positions.count }
}

/// Small rotation helpers on (w, x, y, z) quaternions.
public enum Rotation {
    /// An angle wrapped to (−π, π].
    public static func wrap(_ angle: Double) -> Double {
        var a = angle.truncatingRemainder(dividingBy: 2 * .pi)
        if a <= -.pi { a += 2 * .pi }
        if a > .pi { a -= 2 * .pi }
        return a
    }

    /// Rotates a world-frame vector into the body frame of `orientation` (q* v q).
    public static func worldToBody(_ v: SIMD3<Double>, orientation q: SIMD4<Double>) -> SIMD3<Double> {
        let w = q[0], u = SIMD3(-q[1], -q[2], -q[3])  // conjugate
        return rotate(v, w: w, u: u)
    }

    /// Rotates a body-frame vector into the world frame (q v q*).
    public static func bodyToWorld(_ v: SIMD3<Double>, orientation q: SIMD4<Double>) -> SIMD3<Double> {
        rotate(v, w: q[0], u: SIMD3(q[1], q[2], q[3]))
    }

    private static func rotate(_ v: SIMD3<Double>, w: Double, u: SIMD3<Double>) -> SIMD3<Double> {
        // v' = v + 2w (u × v) + 2 u × (u × v)
        let t = 2 * cross(u, v)
        return v + w * t + cross(u, t)
    }

    /// Cross product.
    public static func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _acos(_ x: Double) -> Double { Glibc.acos(x) }
@inline(__always) func _atan2(_ y: Double, _ x: Double) -> Double { Glibc.atan2(y, x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _acos(_ x: Double) -> Double { Darwin.acos(x) }
@inline(__always) func _atan2(_ y: Double, _ x: Double) -> Double { Darwin.atan2(y, x) }
#endif
