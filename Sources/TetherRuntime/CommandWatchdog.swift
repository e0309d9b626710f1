import TetherCore

/// The robot side's own command timeout: when no valid command has arrived for `timeout`, the
/// robot goes to a damping stop (kp = 0, kd > 0), and after `dampingSeconds` more to zero torque.
///
/// The controller's safety wrapper cannot help when the controller itself is gone (`kill -9`, a
/// crash, a cut cable): the last PD targets would stay applied forever. A real robot's driver
/// guards against that on its side (MoveIt Servo halts after 0.1 s without commands, a UR's RTDE
/// watchdog stops the program, Unitree's drivers hold their last command), and so does every
/// robot Tether serves: `ROS2RobotServer` (what `tether emulate` runs) and the in-process
/// `VirtualRobot`.
///
/// Decisions, stated once:
/// - The watchdog arms with the first valid command: a robot that has never been commanded
///   keeps its power-on behaviour (lying passive, or holding its initial pose).
/// - A new valid command after a timeout is followed again, as MoveIt Servo and ros2_control
///   controllers do. A controller that restarts begins passive and stands up from the pose it
///   finds (`tether deploy` does), so no stale target is ever resumed.
/// - Pure logic: time is passed in (the robot's clock: simulation time for the virtual robot, the
///   server's monotonic clock for the ROS 2 server).
public struct CommandWatchdog: Sendable, Equatable {
    /// Settings.
    public struct Configuration: Sendable, Equatable {
        /// Longest time without a valid command before the damping stop, s.
        public var timeout: Double
        /// Duration of the damping stop before zero torque, s.
        public var dampingSeconds: Double
        /// Damping gain per actuated joint, N·m·s/rad.
        public var dampingKd: [Double]

        /// Creates settings; `timeout` and `dampingSeconds` must be positive.
        public init(timeout: Double = 0.1, dampingSeconds: Double = 2, dampingKd: [Double]) {
            precondition(timeout > 0 && timeout.isFinite, "the command timeout must be positive")
            precondition(dampingSeconds >= 0 && dampingSeconds.isFinite, "the damping duration must be non-negative")
            self.timeout = timeout
            self.dampingSeconds = dampingSeconds
            self.dampingKd = dampingKd
        }

        /// Settings for a manifest's robot: the damping gain is each joint's kd where positive,
        /// otherwise torque limit / velocity limit (the gain that saturates at the velocity limit).
        /// The default timeout is 0.1 s, or three control periods where the manifest's control
        /// rate is below 30 Hz (a slow controller's commands are further apart than 0.1 s).
        public init(manifest: Manifest, timeout: Double? = nil, dampingSeconds: Double = 2) {
            let kd = manifest.actuatedJoints.map { j -> Double in
                if let kd = j.kd, kd > 0 { return kd }
                return (j.torqueLimit ?? 1) / max(j.velocityLimit, 1e-9)
            }
            let period = 1 / max(manifest.rates.controlHz, 1e-9)
            self.init(timeout: timeout ?? max(0.1, 3 * period), dampingSeconds: dampingSeconds, dampingKd: kd)
        }
    }

    /// What the watchdog asks of the robot now.
    public enum Mode: String, Sendable, Codable {
        /// No command yet: the power-on behaviour.
        case unarmed
        /// Commands are fresh: follow them.
        case following
        /// No valid command for longer than the timeout: damping stop.
        case damping
        /// Damping for `dampingSeconds` already: zero torque.
        case zeroTorque = "zero_torque"
    }

    public let configuration: Configuration
    /// When the last valid command arrived, s (nil: none yet).
    public private(set) var lastCommandAt: Double?
    /// The mode at the last `check`.
    public private(set) var mode: Mode = .unarmed
    /// How many times the timeout fired.
    public private(set) var timeouts = 0
    /// When the current timeout fired, s.
    public private(set) var timedOutAt: Double?

    /// An unarmed watchdog.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// A valid command arrived at `time`.
    public mutating func commandArrived(at time: Double) {
        lastCommandAt = time
        if mode != .following { mode = .following }
        timedOutAt = nil
    }

    /// The mode at `time`; returns the stop command to apply instead of the last command, if any.
    /// - Parameter positions: the last command's position targets (kept in the stop for drivers
    ///   that add their own gains; they do not matter with kp = 0).
    public mutating func check(at time: Double, positions: [Double]) -> JointCommand? {
        guard let last = lastCommandAt else { mode = .unarmed; return nil }
        let silence = time - last
        guard silence > configuration.timeout else { mode = .following; return nil }
        if mode == .following {
            timeouts += 1
            timedOutAt = time
        }
        let n = configuration.dampingKd.count
        let zero = [Double](repeating: 0, count: n)
        let targets = positions.count == n ? positions : zero
        if silence > configuration.timeout + configuration.dampingSeconds {
            mode = .zeroTorque
            return JointCommand(positions: targets, velocities: zero, torques: zero, kp: zero, kd: zero)
        }
        mode = .damping
        return JointCommand(positions: targets, velocities: zero, torques: zero, kp: zero, kd: configuration.dampingKd)
    }
}
