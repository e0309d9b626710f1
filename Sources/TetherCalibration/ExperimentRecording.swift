import TetherCore

/// One recorded experiment as calibration sees it: what was commanded and what was measured, on
/// one time axis (seconds from the recording's start), in manifest joint order.
///
/// Built from an MCAP recording of `tether experiment`, a ROS 2 bag recorded elsewhere, or CSV
/// (`RecordingLoader`). Samples are sorted by time and free of duplicates (the loader checks).
public struct ExperimentRecording: Sendable {
    /// Where it came from (a path), used in every message about it.
    public var source: String
    /// The experiment kind (`stationary`, `sweep`, `torque-step`, `pendulum`, `chirp`), if known.
    public var kind: String?
    /// Experiment parameters written by `tether experiment` (joint, speeds, step size …).
    public var metadata: [String: String]
    /// Joint names in manifest order.
    public var jointNames: [String]
    /// Measured joint states.
    public var states: [StateSample]
    /// Commands as sent (after the safety wrapper), each in force until the next; in the
    /// manifest's actuated-joint order (the order of `JointCommand`).
    public var commands: [CommandSample]
    /// Measured IMU samples (empty for a fixed-base robot or when not recorded).
    public var imu: [IMUSample]

    public init(source: String, kind: String? = nil, metadata: [String: String] = [:], jointNames: [String],
                states: [StateSample], commands: [CommandSample], imu: [IMUSample] = []) {
        self.source = source
        self.kind = kind
        self.metadata = metadata
        self.jointNames = jointNames
        self.states = states
        self.commands = commands
        self.imu = imu
    }

    /// A joint-state sample.
    public struct StateSample: Sendable, Equatable {
        /// s from the recording's start.
        public var time: Double
        /// rad (manifest order).
        public var positions: [Double]
        /// rad/s.
        public var velocities: [Double]
        /// N·m (measured or estimated torque; empty when the robot does not report it).
        public var efforts: [Double]
        public init(time: Double, positions: [Double], velocities: [Double], efforts: [Double]) {
            self.time = time
            self.positions = positions
            self.velocities = velocities
            self.efforts = efforts
        }
    }

    /// A command sample: in force from `time` until the next one.
    public struct CommandSample: Sendable, Equatable {
        public var time: Double
        public var command: JointCommand
        public init(time: Double, command: JointCommand) {
            self.time = time
            self.command = command
        }
    }

    /// An IMU sample (body frame).
    public struct IMUSample: Sendable, Equatable {
        public var time: Double
        /// rad/s.
        public var angularVelocity: SIMD3<Double>
        /// m/s² (specific force).
        public var linearAcceleration: SIMD3<Double>
        /// (w, x, y, z), nil when not reported.
        public var orientation: SIMD4<Double>?
        public init(time: Double, angularVelocity: SIMD3<Double>, linearAcceleration: SIMD3<Double>, orientation: SIMD4<Double>? = nil) {
            self.time = time
            self.angularVelocity = angularVelocity
            self.linearAcceleration = linearAcceleration
            self.orientation = orientation
        }
    }

    /// Index of a joint by name, or a clear error naming the recording.
    public func jointIndex(_ name: String) throws -> Int {
        guard let i = jointNames.firstIndex(of: name) else {
            throw TetherError("joint '\(name)' is not in the recording", at: source,
                              hint: "its joints: \(jointNames.joined(separator: ", "))")
        }
        return i
    }

    /// One joint's measured signal: times and values of positions, velocities or efforts.
    public func series(joint: Int, _ field: KeyPath<StateSample, [Double]>) -> (times: [Double], values: [Double]) {
        var t: [Double] = [], v: [Double] = []
        t.reserveCapacity(states.count)
        v.reserveCapacity(states.count)
        for s in states where joint < s[keyPath: field].count {
            t.append(s.time)
            v.append(s[keyPath: field][joint])
        }
        return (t, v)
    }
}
