import TetherCore

/// Everything an `ActuatorModel` changes while stepping, kept apart from the model (as MuJoCo
/// keeps mjData apart from mjModel): commands waiting out the dead time, the lagged torque, the
/// winding temperatures and the motor-side positions.
public struct ActuatorState: Sendable {
    /// A command waiting for its effective time.
    public struct Pending: Sendable, Equatable {
        /// Simulation time at which the command takes effect, s.
        public var effective: Double
        /// The command.
        public var command: JointCommand
    }

    /// Commands not yet in effect, by effective time.
    public internal(set) var pending: [Pending] = []
    /// The lag's output per actuated joint (before saturation and derating), N·m.
    public var torques: [Double]
    /// Winding temperature above ambient per actuated joint, K.
    public var temperatures: [Double]
    /// Motor-side position per manifest joint (the joint seen through the backlash), rad.
    public var motorPositions: [Double]

    /// A driver at rest: no pending command, zero torque, at ambient temperature, each motor at
    /// its joint's position (`jointPositions`, manifest order).
    public init(actuatedJoints: Int, jointPositions: [Double]) {
        torques = [Double](repeating: 0, count: actuatedJoints)
        temperatures = [Double](repeating: 0, count: actuatedJoints)
        motorPositions = jointPositions
    }

    /// Removes and returns the first pending command whose effective time has come at `time`
    /// (s, within 1 ns), nil when none has.
    @inline(__always)
    public mutating func takeDue(at time: Double) -> Pending? {
        guard let first = pending.first, first.effective <= time + 1e-9 else { return nil }
        pending.removeFirst()
        return first
    }

    /// Drops every pending command and returns to zero torque at ambient temperature.
    public mutating func rest(jointPositions: [Double]) {
        pending.removeAll()
        for k in torques.indices { torques[k] = 0; temperatures[k] = 0 }
        motorPositions = jointPositions
    }
}
