/// The robot manifest: the contract between a policy and the robot it drives.
///
/// One YAML file per robot and policy (format in `docs/manifest.md`). It names the model file,
/// the joints with limits, default pose and PD gains (and the policy's joint order when it differs,
/// `docs/conventions.md`), the physics and control rates, the observation terms, the action
/// mapping, safety limits and ROS 2 topics. All values
/// are SI units and radians. A manifest is validated once, at load, and is immutable afterwards.
public struct Manifest: Sendable, Equatable {
    /// Schema version of the manifest format this build reads.
    public static let formatVersion = 1

    /// Robot name (used in reports and recordings).
    public var name: String
    /// One line about the robot.
    public var description: String
    /// Path of the MJCF or URDF model, resolved against the manifest's directory.
    public var modelPath: String
    /// Physics and control rates.
    public var rates: Rates
    /// Floating-base information: base body, IMU sensors, foot contacts (nil for a fixed base).
    public var base: Base?
    /// Joints in the manifest's order (the order of `RobotState` arrays and of joint commands); the
    /// policy's order too unless `policyJointOrder` says otherwise.
    public var joints: [Joint]
    /// The policy's joint order by name, when it differs from `joints` (Isaac Lab orders joints
    /// breadth-first: every hip, then every thigh, ...). A permutation of every manifest joint,
    /// passive ones included; nil: the policy's order is `joints`' order. Joint observation terms
    /// follow it, and the policy's actions are its actuated joints in this order.
    public var policyJointOrder: [String]?
    /// Observation layout.
    public var observation: Observation
    /// How policy actions become commands.
    public var action: Action
    /// Safety limits beyond the per-joint ones.
    public var safety: Safety
    /// ROS 2 topic names.
    public var ros2: ROS2Topics
    /// The task the policy is trained and judged on (nil: none declared).
    public var task: Task?
    /// Unitree's low-level protocol (`--backend unitree`, `tether emulate --protocol`); nil when
    /// the manifest has no `unitree:` section.
    public var unitree: Unitree?
    /// The file this manifest was read from (for error messages), if any.
    public var sourcePath: String?
    /// 1-based line of each field in `sourcePath`, by field path (`joints[2].name`), for messages.
    public var fieldLines: [String: Int] = [:]

    /// Physics and control rates (Hz). The control period must be a whole number of physics steps.
    public struct Rates: Sendable, Equatable {
        /// Physics (simulation step) rate in Hz; must equal 1 / the model's timestep.
        public var physicsHz: Double
        /// Policy (control) rate in Hz.
        public var controlHz: Double
        /// Physics steps per control step.
        public var decimation: Int { Int((physicsHz / controlHz).rounded()) }
        /// Creates rates.
        public init(physicsHz: Double, controlHz: Double) {
            self.physicsHz = physicsHz
            self.controlHz = controlHz
        }
    }

    /// Floating-base sensing: the base body and where its IMU readings come from.
    public struct Base: Sendable, Equatable {
        /// Name of the base body (the one with the free joint).
        public var body: String
        /// Where orientation, angular velocity and acceleration come from.
        public var imu: IMU
        /// `touch` sensors on the feet, in a fixed order.
        public var footContactSensors: [String]
        /// Keyframe that holds the initial state, if the model has one.
        public var keyframe: String?

        /// The source of the base's IMU readings in simulation.
        public enum IMU: Sendable, Equatable {
            /// MuJoCo sensors named in the manifest: a `framequat` (orientation w, x, y, z in the
            /// world frame), a `gyro` (rad/s in the IMU frame) and optionally an `accelerometer`
            /// (specific force in the IMU frame, m/s²).
            case sensors(orientation: String, gyro: String, accelerometer: String?)
            /// The floating base itself, for models without IMU sensors (most vendor and
            /// MuJoCo Menagerie models): orientation from the free joint's quaternion, angular
            /// velocity from its rotational velocity (MuJoCo gives it in the body frame, which is
            /// what a gyro fixed to the base measures); no accelerometer.
            case floatingBase
        }

        /// `framequat` sensor giving the base orientation, when the IMU is made of sensors.
        public var orientationSensor: String? {
            if case .sensors(let name, _, _) = imu { return name }
            return nil
        }
        /// `gyro` sensor, when the IMU is made of sensors.
        public var gyroSensor: String? {
            if case .sensors(_, let name, _) = imu { return name }
            return nil
        }
        /// `accelerometer` sensor, when the IMU is made of sensors and has one.
        public var accelerometerSensor: String? {
            if case .sensors(_, _, let name) = imu { return name }
            return nil
        }

        /// Creates a base description with any IMU source.
        public init(body: String, imu: IMU, footContactSensors: [String], keyframe: String?) {
            self.body = body
            self.imu = imu
            self.footContactSensors = footContactSensors
            self.keyframe = keyframe
        }

        /// Creates a base description whose IMU is made of named sensors.
        public init(body: String, orientationSensor: String, gyroSensor: String,
                    accelerometerSensor: String?, footContactSensors: [String], keyframe: String?) {
            self.init(body: body, imu: .sensors(orientation: orientationSensor, gyro: gyroSensor, accelerometer: accelerometerSensor),
                      footContactSensors: footContactSensors, keyframe: keyframe)
        }
    }

    /// One joint, in policy order.
    public struct Joint: Sendable, Equatable {
        /// Joint name in the model.
        public var name: String
        /// Actuator that drives it; nil for a passive joint that is only observed.
        public var actuator: String?
        /// Default (nominal standing) position, rad (or m for a slide joint).
        public var defaultPosition: Double
        /// Lower and upper position limits, rad (or m).
        public var positionLimits: ClosedRange<Double>
        /// Maximum speed, rad/s (or m/s).
        public var velocityLimit: Double
        /// Maximum torque, N·m (or force, N).
        public var torqueLimit: Double?
        /// Proportional gain of the PD law, N·m/rad. In position mode it may be left out when the
        /// joint's actuator is a position servo; `RobotModel` then fills in the servo's kp.
        public var kp: Double?
        /// Derivative gain of the PD law, N·m·s/rad (filled from a position servo's kv, like `kp`).
        public var kd: Double?
        /// Constant feed-forward torque added to the PD law in position mode, N·m (typically the
        /// gravity load at the default pose, so the robot holds that pose instead of sagging).
        public var feedforward: Double
        /// Resting position when the robot lies powered off (e.g. legs folded), rad; nil: the default.
        public var rest: Double?
        /// Creates a joint entry.
        public init(name: String, actuator: String?, defaultPosition: Double,
                    positionLimits: ClosedRange<Double>, velocityLimit: Double,
                    torqueLimit: Double?, kp: Double?, kd: Double?, feedforward: Double = 0) {
            self.feedforward = feedforward
            self.name = name
            self.actuator = actuator
            self.defaultPosition = defaultPosition
            self.positionLimits = positionLimits
            self.velocityLimit = velocityLimit
            self.torqueLimit = torqueLimit
            self.kp = kp
            self.kd = kd
        }
    }

    /// The observation vector: terms concatenated in order, each scaled, clipped, with optional
    /// training noise, and stacked with its history in `historyLayout` (by default the whole frame
    /// `history` times, newest first).
    public struct Observation: Sendable, Equatable {
        /// Number of frames stacked (1 = no history); a term's own `history` overrides it in the
        /// per-term layouts.
        public var history: Int
        /// Terms in order.
        public var terms: [Term]
        /// Frequency of the `gait_phase` clock, Hz (exactly one of this and `gaitPeriod` when the
        /// term is observed).
        public var gaitFrequency: Double?
        /// Period of the `gait_phase` clock, s (the unitree_rl_gym / legged_gym form).
        public var gaitPeriod: Double?
        /// Value of the gait clock at the policy's first step, s (unitree_rl_gym counts its clock
        /// from one control period after the episode start; 0 by default).
        public var gaitClockStart: Double
        /// How the history is laid out in the vector.
        public var historyLayout: HistoryLayout
        /// Creates an observation layout.
        public init(history: Int, terms: [Term], gaitFrequency: Double? = nil, gaitPeriod: Double? = nil,
                    gaitClockStart: Double = 0, historyLayout: HistoryLayout = .frameNewestFirst) {
            self.history = history
            self.terms = terms
            self.gaitFrequency = gaitFrequency
            self.gaitPeriod = gaitPeriod
            self.gaitClockStart = gaitClockStart
            self.historyLayout = historyLayout
        }

        /// Where each past value sits in the observation vector.
        public enum HistoryLayout: String, Sendable, CaseIterable {
            /// Whole frames, newest first: [frame t, frame t−1, ...] (Tether's own, the default).
            case frameNewestFirst = "frame_newest_first"
            /// Whole frames, oldest first: [frame t−H+1, ..., frame t].
            case frameOldestFirst = "frame_oldest_first"
            /// Term after term, each term's history oldest first (Isaac Lab's flattened history):
            /// [term0 t−H+1 ... term0 t, term1 t−H+1 ... term1 t, ...].
            case termOldestFirst = "term_oldest_first"
            /// Term after term, each term's history newest first.
            case termNewestFirst = "term_newest_first"
            /// Whether the history is grouped by term (each term may then have its own length).
            public var isPerTerm: Bool { self == .termOldestFirst || self == .termNewestFirst }
        }

        /// Number of past values (the current one included) kept for `term`.
        public func history(of term: Term) -> Int { term.history ?? history }

        /// The value of one term, in the order the policy expects.
        public struct Term: Sendable, Equatable {
            /// What the term reads.
            public var source: Source
            /// Multiplier per element (one value broadcasts).
            public var scale: [Double]
            /// Symmetric clip after scaling (nil: none).
            public var clip: Double?
            /// Uniform noise half-width added during training, in the term's unit before scaling.
            public var noise: Double
            /// The term's own history length (per-term layouts only; nil: `observation.history`).
            public var history: Int?
            /// Creates a term.
            public init(source: Source, scale: [Double] = [1], clip: Double? = nil, noise: Double = 0, history: Int? = nil) {
                self.source = source
                self.scale = scale
                self.clip = clip
                self.noise = noise
                self.history = history
            }
        }

        /// Observation sources.
        public enum Source: String, Sendable, CaseIterable {
            /// Base linear velocity in the base frame (m/s, 3); simulation-only on most robots.
            case baseLinearVelocity = "base_linear_velocity"
            /// Base angular velocity in the base frame (rad/s, 3) from the gyro.
            case baseAngularVelocity = "base_angular_velocity"
            /// Gravity direction in the base frame (unit vector, 3).
            case projectedGravity = "projected_gravity"
            /// Velocity command (vx m/s, vy m/s, yaw rate rad/s).
            case velocityCommand = "velocity_command"
            /// Joint positions minus default positions (rad, one per manifest joint).
            case jointPositions = "joint_positions"
            /// Joint positions, absolute (rad, one per manifest joint).
            case jointPositionsAbsolute = "joint_positions_absolute"
            /// Joint velocities (rad/s, one per manifest joint).
            case jointVelocities = "joint_velocities"
            /// The previous action (one per actuated joint).
            case lastAction = "last_action"
            /// Foot contact flags (0 or 1, one per foot contact sensor).
            case footContacts = "foot_contacts"
            /// Gait clock: sin and cos of 2π · phase, phase = (t mod T) / T with T the
            /// `observation.gait_period` (or 1 / `gait_frequency`) and t the time since the policy
            /// started plus `gait_clock_start` (2 values). Lets a policy carry a periodic gait.
            case gaitPhase = "gait_phase"
            /// Heading error: base yaw minus the reference heading (the yaw when the policy started
            /// plus the integral of the commanded yaw rate), wrapped to (−π, π], rad (1 value).
            case headingError = "heading_error"
        }
    }

    /// How a policy action becomes a joint command.
    public struct Action: Sendable, Equatable {
        /// Position targets tracked by the PD law, or effort (torque / force) directly.
        public var mode: Mode
        /// Multiplier per actuated joint (one value broadcasts).
        public var scale: [Double]
        /// Offset per actuated joint; `nil` means the default pose for position mode, 0 for effort.
        public var offset: [Double]?
        /// Symmetric clip on the raw action before scaling.
        public var clip: Double
        /// Creates an action mapping.
        public init(mode: Mode, scale: [Double], offset: [Double]?, clip: Double) {
            self.mode = mode
            self.scale = scale
            self.offset = offset
            self.clip = clip
        }

        /// Command modes.
        public enum Mode: String, Sendable, CaseIterable {
            /// `target = offset + scale * action`, tracked by `tau = kp (target - q) - kd qd`.
            case position
            /// `effort = offset + scale * action`, applied directly (N·m or N).
            case effort
        }
    }

    /// Whole-robot safety limits (per-joint limits live in `Joint`).
    public struct Safety: Sendable, Equatable {
        /// Maximum base tilt from upright, rad.
        public var tiltLimit: Double
        /// Soft margin inside the position limits, rad.
        public var positionMargin: Double
        /// A robot state older than this stops the robot, s.
        public var stateTimeout: Double
        /// Torque stage at start, a fraction of the torque limits (0.25, 0.5 or 1.0).
        public var torqueStage: Double
        /// Longest a policy call may take before the robot stops, s (nil: two control periods).
        public var policyBudget: Double?
        /// Cutoff of the deployment's low-pass on position targets, Hz (nil: half the control
        /// rate; 0: off). On by default, as libfranka's low-pass is.
        public var smoothingCutoffHz: Double?
        /// Largest speed of the deployment's position targets, rad/s, one value or one per
        /// actuated joint (nil: each joint's velocity limit; 0: off). On by default, as
        /// libfranka's rate limiter is.
        public var maxTargetVelocity: [Double]?
        /// Whether position targets are clamped into the soft limits (default). `false`: targets
        /// may go past the joint's range, as in trainers whose PD pushes a joint against its limit
        /// (legged_gym, unitree_rl_gym); the measured position is still checked.
        public var clampTargets: Bool = true
        /// How the torque bound binds a position command at the full stage.
        public var torqueBound: TorqueBound = .shapeTargets
        /// How the safety wrapper keeps a position command's PD torque within the stage's bound.
        public enum TorqueBound: String, Sendable, Equatable, CaseIterable {
            /// Targets (and if need be gains) shaped so the PD torque at the measured state stays
            /// within the bound, at every stage.
            case shapeTargets = "shape_targets"
            /// At the full stage (100 %) the command is left as the policy wants it and the robot's
            /// driver saturates its PD torque at the torque limit, as the trainers' PD did; at the
            /// 25 % and 50 % stages targets are shaped as with `shape_targets` (the driver does not
            /// know the stage).
            case saturate
        }
        /// Creates safety limits.
        public init(tiltLimit: Double, positionMargin: Double, stateTimeout: Double, torqueStage: Double,
                    policyBudget: Double? = nil, smoothingCutoffHz: Double? = nil, maxTargetVelocity: [Double]? = nil) {
            self.tiltLimit = tiltLimit
            self.positionMargin = positionMargin
            self.stateTimeout = stateTimeout
            self.torqueStage = torqueStage
            self.policyBudget = policyBudget
            self.smoothingCutoffHz = smoothingCutoffHz
            self.maxTargetVelocity = maxTargetVelocity
        }
    }

    /// How the manifest's joints map onto a Unitree robot's low-level protocol (`unitree:`).
    public struct Unitree: Sendable, Equatable {
        /// Which message set the robot speaks.
        public var messages: UnitreeProtocol
        /// The motor slot of each actuated joint in `LowCmd.motor_cmd` / `LowState.motor_state`.
        public var motors: [String: Int]
        /// The network interface that reaches the robot (e.g. `eth0`); nil: Cyclone DDS's choice
        /// (or `$CYCLONEDDS_URI`).
        public var interface: String?
        /// Wireless-remote buttons that, pressed together, engage the e-stop (names in
        /// `UnitreeRemote.buttons`); empty: the remote is not an e-stop.
        public var estopButtons: [String]
        /// A motor reporting this temperature or more stops the robot, °C.
        public var maxMotorTemperature: Double
        /// A foot-force reading above this is a contact (the sensor's raw counts; `unitree_go` only).
        public var footContactThreshold: Double

        /// Creates a section; `motors` must give every actuated joint a distinct slot.
        public init(messages: UnitreeProtocol, motors: [String: Int], interface: String? = nil, estopButtons: [String] = [],
                    maxMotorTemperature: Double = 90, footContactThreshold: Double = 20) {
            self.messages = messages
            self.motors = motors
            self.interface = interface
            self.estopButtons = estopButtons
            self.maxMotorTemperature = maxMotorTemperature
            self.footContactThreshold = footContactThreshold
        }
    }

    /// ROS 2 topic names (absolute or relative to the node's namespace).
    public struct ROS2Topics: Sendable, Equatable {
        /// sensor_msgs/JointState in.
        public var jointStates: String
        /// sensor_msgs/Imu in.
        public var imu: String
        /// Joint commands out.
        public var jointCommands: String
        /// std_msgs/Bool e-stop in.
        public var estop: String
        /// diagnostic_msgs/DiagnosticArray safety status out.
        public var safetyStatus: String
        /// geometry_msgs/Twist velocity command in.
        public var velocityCommand: String
        /// nav_msgs/Odometry in: the base's pose and velocity from a state estimator or motion
        /// capture (optional; trials over ROS 2 measure distance with it).
        public var odometry: String
        /// The IMU's own timeout, s: an IMU message older than this stops the robot, so a dead
        /// IMU node cannot freeze the attitude the tilt check reads (nil: the state timeout).
        public var imuTimeout: Double?
        /// Odometry older than this is dropped from the state, s (nil: 0.5 s). Nothing on the
        /// control path uses odometry; trials measure distance with it.
        public var odometryTimeout: Double?
        /// When set, the e-stop topic must carry a message at least this often, s: a silent
        /// e-stop node stops the robot (a dead-man heartbeat). Nil: not required.
        public var estopHeartbeat: Double?
        /// What to do with joint states that carry no velocities (legal in sensor_msgs/JointState).
        public var missingVelocities: MissingVelocities
        /// How far a header stamp may lie in the future of the local wall clock, or before the
        /// previous message's, s. Unstamped messages (stamp 0) are not checked.
        public var stampTolerance: Double
        /// Joint states without velocities: refused with a clear error, or velocities from
        /// differencing consecutive positions over their stamps (stated in the report).
        public enum MissingVelocities: String, Sendable, Equatable, CaseIterable {
            case refuse
            case difference
        }
        /// Creates topic names.
        public init(jointStates: String, imu: String, jointCommands: String, estop: String,
                    safetyStatus: String, velocityCommand: String, odometry: String = "/odom",
                    imuTimeout: Double? = nil, odometryTimeout: Double? = nil, estopHeartbeat: Double? = nil,
                    missingVelocities: MissingVelocities = .refuse, stampTolerance: Double = 0.5) {
            self.imuTimeout = imuTimeout
            self.odometryTimeout = odometryTimeout
            self.estopHeartbeat = estopHeartbeat
            self.missingVelocities = missingVelocities
            self.stampTolerance = stampTolerance
            self.odometry = odometry
            self.jointStates = jointStates
            self.imu = imu
            self.jointCommands = jointCommands
            self.estop = estop
            self.safetyStatus = safetyStatus
            self.velocityCommand = velocityCommand
        }
    }

    /// The task a policy for this robot does, with its success criterion.
    public struct Task: Sendable, Equatable {
        /// Task kinds.
        public enum Kind: String, Sendable, CaseIterable {
            /// Keep `balanceJoint` within ±`maxAngle` for the whole episode (cartpole).
            case balance
            /// Walk at the commanded velocity; success is `successDistance` without falling.
            case walk
        }
        public var kind: Kind
        /// Episode length, s.
        public var episodeSeconds: Double
        /// Velocity command (vx m/s, vy m/s, yaw rate rad/s) for walking.
        public var command: SIMD3<Double>
        /// Forward distance that counts as success for walking, m.
        public var successDistance: Double
        /// The joint to keep upright for balancing.
        public var balanceJoint: String?
        /// Largest |angle| of the balance joint before the episode fails, rad.
        public var maxAngle: Double
        /// Half-width of the uniform perturbation of every joint position at reset, rad (or m).
        public var initialNoise: Double
        /// Lowest base height before a walking robot counts as fallen, m.
        public var minBaseHeight: Double

        /// Creates a task.
        public init(kind: Kind, episodeSeconds: Double, command: SIMD3<Double> = .zero, successDistance: Double = 0,
                    balanceJoint: String? = nil, maxAngle: Double = 0.8, initialNoise: Double = 0, minBaseHeight: Double = 0.15) {
            self.kind = kind
            self.episodeSeconds = episodeSeconds
            self.command = command
            self.successDistance = successDistance
            self.balanceJoint = balanceJoint
            self.maxAngle = maxAngle
            self.initialNoise = initialNoise
            self.minBaseHeight = minBaseHeight
        }
    }

    /// Joints that have an actuator, in the manifest's order (the layout of joint commands).
    public var actuatedJoints: [Joint] { joints.filter { $0.actuator != nil } }

    /// For each joint in the policy's order, its index in `joints` (identity without a
    /// `policyJointOrder`). Joint observation terms read the robot state through it.
    public var policyJointIndices: [Int] {
        guard let order = policyJointOrder else { return Array(joints.indices) }
        var index: [String: Int] = [:]
        for (i, joint) in joints.enumerated() { index[joint.name] = i }
        return order.compactMap { index[$0] }
    }

    /// Every joint in the policy's order.
    public var policyJoints: [Joint] { policyJointIndices.map { joints[$0] } }

    /// The actuated joints in the policy's order: the layout of the policy's action vector.
    public var policyActuatedJoints: [Joint] { policyJoints.filter { $0.actuator != nil } }

    /// For each element of the policy's action vector, the index of its joint in
    /// `actuatedJoints` (the joint command's layout).
    public var policyActionIndices: [Int] {
        var index: [String: Int] = [:]
        for (i, joint) in actuatedJoints.enumerated() { index[joint.name] = i }
        return policyActuatedJoints.compactMap { index[$0.name] }
    }

    /// The command that holds the default pose: PD on the default positions plus feed-forward.
    public var defaultPoseCommand: JointCommand {
        let joints = actuatedJoints
        return JointCommand(positions: joints.map(\.defaultPosition),
                            velocities: .init(repeating: 0, count: joints.count),
                            torques: joints.map(\.feedforward),
                            kp: joints.map { $0.kp ?? 0 }, kd: joints.map { $0.kd ?? 0 })
    }

    /// Size of one observation frame (every term once, before history stacking).
    public var observationFrameSize: Int {
        observation.terms.reduce(0) { $0 + termSize($1.source) }
    }

    /// Size of the observation vector the policy reads.
    public var observationSize: Int {
        guard observation.historyLayout.isPerTerm else { return observationFrameSize * observation.history }
        return observation.terms.reduce(0) { $0 + termSize($1.source) * observation.history(of: $1) }
    }

    /// How `observationSize` adds up, for messages: e.g. `47 = 3 + 3 + 3 + 12 + 12 + 12 + 2`, or
    /// `235 = (3 + 3 + ...) × 5 frames (frame_newest_first)`.
    public var observationSizeBreakdown: String {
        let sizes = observation.terms.map { "\(termSize($0.source))" }
        if observation.historyLayout.isPerTerm {
            let parts = observation.terms.map { t in
                observation.history(of: t) == 1 ? "\(termSize(t.source))" : "\(termSize(t.source))×\(observation.history(of: t))"
            }
            return "\(observationSize) = \(parts.joined(separator: " + ")) (\(observation.historyLayout.rawValue))"
        }
        if observation.history == 1 { return "\(observationSize) = \(sizes.joined(separator: " + "))" }
        return "\(observationSize) = (\(sizes.joined(separator: " + "))) × \(observation.history) frames (\(observation.historyLayout.rawValue))"
    }

    /// Size of the action vector the policy writes.
    public var actionSize: Int { actuatedJoints.count }

    /// Number of elements of one observation term.
    public func termSize(_ source: Observation.Source) -> Int {
        switch source {
        case .baseLinearVelocity, .baseAngularVelocity, .projectedGravity, .velocityCommand: return 3
        case .jointPositions, .jointPositionsAbsolute, .jointVelocities: return joints.count
        case .lastAction: return actionSize
        case .footContacts: return base?.footContactSensors.count ?? 0
        case .gaitPhase: return 2
        case .headingError: return 1
        }
    }
}

/// Unitree's two low-level message sets.
public enum UnitreeProtocol: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `unitree_go`: Go2, B2 (20 motor slots).
    case go = "unitree_go"
    /// `unitree_hg`: G1, H1-2 (35 motor slots).
    case hg = "unitree_hg"

    /// Motor slots in the protocol's `LowCmd` / `LowState`.
    public var motorSlots: Int { self == .go ? 20 : 35 }
    /// The robots that speak it.
    public var robots: String { self == .go ? "Go2, B2" : "G1, H1-2" }
    public var description: String { rawValue }
    /// "unitree_go (Go2, B2) or unitree_hg (G1, H1-2)".
    public static var choices: String { allCases.map { "\($0.rawValue) (\($0.robots))" }.joined(separator: " or ") }
}

/// The wireless remote's frame in `LowState.wireless_remote`: bytes 2–3 are a little-endian
/// 16-bit word of buttons, bit i for `buttons[i]`; the sticks are float32 at bytes 4 (lx), 8 (rx),
/// 12 (ry) and 20 (ly).
public enum UnitreeRemote {
    /// Button names in bit order.
    public static let buttons = ["R1", "L1", "start", "select", "R2", "L2", "F1", "F2", "A", "B", "X", "Y", "up", "right", "down", "left"]

    /// The button word of a remote frame (0 when the frame is too short).
    public static func buttonBits(_ frame: [UInt8]) -> UInt16 {
        frame.count >= 4 ? UInt16(frame[2]) | UInt16(frame[3]) << 8 : 0
    }

    /// The bit mask of named buttons; nil when a name is not a button.
    public static func mask(_ names: [String]) -> UInt16? {
        var mask: UInt16 = 0
        for name in names {
            guard let bit = buttons.firstIndex(of: name) else { return nil }
            mask |= 1 << UInt16(bit)
        }
        return mask
    }
}
