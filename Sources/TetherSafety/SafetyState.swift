import TetherCore

/// Everything the safety wrapper changes while it runs: the latch, the stage, counters, filters.
///
/// The data half of the model/state split (`SafetyConfig` is the model). Copy it to snapshot
/// the wrapper; it holds no reference to anything.
public struct SafetyState: Sendable, Equatable {
    /// Running, or the latched stop with its reason and behaviour.
    public internal(set) var mode: SafetyMode = .running
    /// Current torque stage (one of `SafetyConfig.stages`).
    public internal(set) var stage: Double
    /// Whether the last tick expected the robot upright (tilt and fall checks active).
    public internal(set) var uprightExpected = true
    /// The e-stop input (for example a ROS topic): while true the robot is stopped and resets are refused.
    public internal(set) var eStopInputActive = false
    /// How many ticks (per joint, for joint conditions) each condition held, plus one per
    /// operator action (e-stop, reset, refused reset, stage change).
    public internal(set) var counters: [SafetyReason: Int] = [:]
    /// How many times the wrapper latched a stop.
    public internal(set) var stopCount = 0
    /// Time of the latest tick, s (nil before the first).
    public internal(set) var lastTickTime: Double?
    /// The latest robot state the wrapper was given, valid or not.
    public internal(set) var latestState: RobotState?
    /// When `latestState` was received, s.
    public internal(set) var latestStateReceivedAt: Double?
    /// The latest state with every value finite and the right sizes (for stop commands).
    public internal(set) var lastValidState: RobotState?

    /// Conditions active on the last tick, so an event is raised when one starts, not every tick.
    var activeConditions: Set<ConditionKey> = []
    /// Consecutive ticks each actuated joint has been over its velocity limit.
    var velocityOverTicks: [Int]
    /// Low-pass state (nil until the first running tick after start or reset).
    var smoother: LowPassFilter?
    /// Rate-limiter state (nil until the first running tick after start or reset).
    var limiter: RateLimiter?
    /// Events raised by calls between ticks, returned by the next tick.
    var pendingEvents: [SafetyEvent] = []

    /// The state at start: running, at the configuration's start stage.
    public init(config: SafetyConfig) {
        stage = config.startStage
        velocityOverTicks = Array(repeating: 0, count: config.count)
    }

    /// The counter of `reason` (0 when it never happened).
    public func count(_ reason: SafetyReason) -> Int { counters[reason, default: 0] }
}

/// Identifies one ongoing condition: a reason, on one joint or on the whole robot.
struct ConditionKey: Hashable, Sendable {
    var reason: SafetyReason
    var joint: String?
}

/// A condition found on one tick.
struct Condition {
    var reason: SafetyReason
    var joint: String?
    var message: String
    var values: [String: Double]
    /// Whether it stops the robot this tick.
    var stops: Bool

    var key: ConditionKey { ConditionKey(reason: reason, joint: joint) }
}
