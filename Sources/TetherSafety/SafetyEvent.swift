import TetherCore

/// Why the safety wrapper intervened. The raw values are stable names for logs and recordings.
///
/// Some reasons only modify a command (clip, clamp, bound, filter); the others stop the robot
/// (see ``stops``). `reset`, `resetRefused` and `stageChange` record operator actions.
public enum SafetyReason: String, Sendable, CaseIterable, Hashable, Codable {
    /// A raw policy action was outside ±`action.clip` and was clipped.
    case actionClip = "action_clip"
    /// A position target was outside the soft position limits and was clamped into them.
    case positionClamp = "position_clamp"
    /// A command would have produced more than stage × torque limit and was bounded.
    case torqueBound = "torque_bound"
    /// The low-pass filter held a position target back.
    case smoothing
    /// The rate limiter (velocity, acceleration, jerk of the targets) held a target back.
    case rateLimit = "rate_limit"
    /// A measured joint velocity was beyond the joint's velocity limit.
    case velocityLimit = "velocity_limit"
    /// A measured joint position was beyond the joint's hard limits by more than the tolerance.
    case positionLimit = "position_limit"
    /// The base tilted beyond the tilt limit.
    case tiltLimit = "tilt_limit"
    /// The fall detector fired (base too low, or tilting fast while already tilted).
    case fall
    /// No robot state, or one older than the state timeout.
    case stateTimeout = "state_timeout"
    /// The policy produced no action this tick.
    case missingAction = "missing_action"
    /// The control tick ran later than the lateness bound.
    case lateTick = "late_tick"
    /// The robot state held a NaN or an infinite value.
    case nonFiniteState = "non_finite_state"
    /// The policy's action held a NaN or an infinite value.
    case nonFiniteAction = "non_finite_action"
    /// A state or action of the wrong shape (sizes, missing orientation, non-unit quaternion).
    case invalidInput = "invalid_input"
    /// A non-finite time, time going backwards, or a state received after the tick time.
    case invalidTime = "invalid_time"
    /// The e-stop was engaged (by a call, a signal, the e-stop input, or a lost e-stop heartbeat).
    case eStop = "estop"
    /// A motor reported an error or overheated (the robot's own diagnostics, e.g. Unitree's
    /// motor state).
    case motorFault = "motor_fault"
    /// The policy's call did not return within its budget (it may still be running).
    case policyTimeout = "policy_timeout"
    /// The policy's call failed (an ONNX Runtime error, an observation that could not be built).
    case policyError = "policy_error"
    /// An error elsewhere in the control loop: the robot link, a send, the flight recorder.
    case runtimeError = "runtime_error"
    /// A reset was accepted and the wrapper runs again.
    case reset
    /// A reset was refused because a cause of a stop persists.
    case resetRefused = "reset_refused"
    /// The torque stage was raised or lowered.
    case stageChange = "stage_change"

    /// Whether a condition of this kind stops the robot (velocity after it persists; see
    /// `SafetyOptions.velocityLimitTicks`).
    public var stops: Bool {
        switch self {
        case .actionClip, .positionClamp, .torqueBound, .smoothing, .rateLimit, .reset, .resetRefused, .stageChange:
            return false
        case .velocityLimit, .positionLimit, .tiltLimit, .fall, .stateTimeout, .missingAction, .lateTick,
             .nonFiniteState, .nonFiniteAction, .invalidInput, .invalidTime, .eStop, .motorFault, .policyTimeout, .policyError, .runtimeError:
            return true
        }
    }

    /// Stop causes in priority order: when several hold on one tick, the first names the stop.
    static let stopPriority: [SafetyReason] = [
        .eStop, .motorFault, .runtimeError, .invalidTime, .nonFiniteState, .invalidInput, .stateTimeout, .tiltLimit, .fall,
        .positionLimit, .velocityLimit, .policyTimeout, .policyError, .lateTick, .missingAction, .nonFiniteAction,
    ]
}

/// How the robot is stopped.
///
/// Both are controlled software stops — not safety-rated functions; hardware e-stops remain
/// mandatory on every real robot.
public enum StopBehaviour: String, Sendable, CaseIterable, Hashable, Codable {
    /// Damping stop: kp = 0, kd > 0 (`SafetyConfig.dampingKd`), no feed-forward. It slows the
    /// joints and holds nothing: a robot under gravity sinks slowly.
    case damping
    /// Zero-torque stop: kp = kd = 0, no feed-forward. The joints go limp.
    case zeroTorque = "zero_torque"

    /// The honest label every stop message carries.
    public static let label = "controlled software stop — not a safety-rated function; hardware e-stops remain mandatory"

    /// What the behaviour commands, in words.
    public var summary: String {
        switch self {
        case .damping: return "damping stop (kp = 0, kd > 0, no feed-forward)"
        case .zeroTorque: return "zero-torque stop (kp = 0, kd = 0, no feed-forward)"
        }
    }
}

/// Whether the wrapper passes the policy's commands on or holds a latched stop.
public enum SafetyMode: Sendable, Equatable {
    /// Policy commands pass, within the limits.
    case running
    /// Latched: every command is the stop command for `behaviour` until an accepted reset.
    case stopped(reason: SafetyReason, behaviour: StopBehaviour)

    /// Whether the mode is a latched stop.
    public var isStopped: Bool {
        if case .stopped = self { return true }
        return false
    }
}

/// One intervention of the safety wrapper, with the values that caused it.
public struct SafetyEvent: Sendable, Equatable {
    /// Time of the tick (or call) that raised it, s.
    public var time: Double
    /// What kind of intervention.
    public var reason: SafetyReason
    /// One sentence for a person; stops carry `StopBehaviour.label`.
    public var message: String
    /// The joint concerned, if one.
    public var joint: String?
    /// The values that caused it, by name (SI units, radians).
    public var values: [String: Double]

    /// Creates an event.
    public init(time: Double, reason: SafetyReason, message: String, joint: String? = nil, values: [String: Double] = [:]) {
        self.time = time
        self.reason = reason
        self.message = message
        self.joint = joint
        self.values = values
    }
}

/// What the control loop hands the wrapper on every tick.
public struct SafetyInput: Sendable, Equatable {
    /// Time of the tick, s (the caller's clock; the wrapper never reads one).
    public var time: Double
    /// The latest robot state; nil when none has arrived (the wrapper then uses the last one it
    /// was given, if any, with its receive time, so stale state still trips the watchdog).
    public var state: RobotState?
    /// When `state` was received, s, on the same clock as `time`; ignored when `state` is nil.
    public var stateReceivedAt: Double
    /// The policy's raw action, one per actuated joint; nil when the policy produced none.
    public var action: [Float]?
    /// How late this tick started against its schedule, s (0 when on time).
    public var lateness: Double
    /// A command from the runtime itself (stand-up, hold, passive) used when `action` is nil. It
    /// goes through the same checks and bounds as a policy's; the targets of joints with kp = 0
    /// carry no meaning and are replaced by the measured positions before the limits apply.
    public var command: JointCommand?
    /// Whether the robot is meant to be upright now. False while it is passive or standing up
    /// from the ground, where a low, tilted base is expected: the tilt and fall checks then wait.
    public var expectUpright: Bool

    /// Creates an input.
    public init(time: Double, state: RobotState?, stateReceivedAt: Double, action: [Float]?, lateness: Double = 0,
                command: JointCommand? = nil, expectUpright: Bool = true) {
        self.expectUpright = expectUpright
        self.time = time
        self.state = state
        self.stateReceivedAt = stateReceivedAt
        self.action = action
        self.lateness = lateness
        self.command = command
    }
}

/// What the wrapper returns on every tick.
public struct SafetyOutput: Sendable, Equatable {
    /// The command to send, in the manifest's actuated-joint order.
    public var command: JointCommand
    /// Running, or the latched stop.
    public var mode: SafetyMode
    /// Events raised this tick (and by calls since the previous tick: e-stop, reset, stage).
    public var events: [SafetyEvent]

    /// Creates an output.
    public init(command: JointCommand, mode: SafetyMode, events: [SafetyEvent]) {
        self.command = command
        self.mode = mode
        self.events = events
    }
}
