/// How a trial or a gate episode ended, in one vocabulary for the validation gate, trials on a
/// robot, the gap report and the improvement loop: `success`, or why not. Written as its raw
/// string in JSON (`"no_progress"`, `"safety_stop:tilt_limit"`), so files stay plain and a mode
/// added later reads back.
public struct FailureMode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public var description: String { rawValue }

    /// The task was done.
    public static let success: FailureMode = "success"
    /// The robot fell (tilt or base height past the task's limits).
    public static let fall: FailureMode = "fall"
    /// No stop, no fall, but the distance fell short of the task's (a walk that timed out).
    public static let noProgress: FailureMode = "no_progress"
    /// The episode ran out of time on a task that is not a walk.
    public static let timeout: FailureMode = "timeout"
    /// Cart-pole: the pole fell past its limit.
    public static let poleFell: FailureMode = "pole_fell"
    /// Cart-pole: the cart reached the end of its track.
    public static let trackLimit: FailureMode = "track_limit"
    /// The simulation diverged (a non-finite state).
    public static let nonFinite: FailureMode = "non_finite"
    /// The policy failed to run (an inference error).
    public static let policyError: FailureMode = "policy_error"
    /// The safety wrapper stopped the robot for `reason` (`tilt_limit`, `late_tick`, …).
    public static func safetyStop(_ reason: String) -> FailureMode { FailureMode(rawValue: "safety_stop:\(reason)") }

    /// Whether this is the success mode.
    public var isSuccess: Bool { self == .success }
    /// The safety stop's reason, if the mode is a safety stop.
    public var safetyStopReason: String? {
        rawValue.hasPrefix("safety_stop:") ? String(rawValue.dropFirst("safety_stop:".count)) : nil
    }
}
