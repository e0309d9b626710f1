/// The torque stages of a first deployment: the safety wrapper bounds every joint's torque to
/// 25 %, 50 % or 100 % of its limit, and an operator raises the stage as the robot earns trust
/// (stand at 25 %, walk a little at 50 %, run trials at 100 %). The library works in fractions of
/// the limit (`fraction`), the command line in percent (`percent`, the raw value).
public enum TorqueStage: Int, CaseIterable, Sendable, Codable, Comparable, CustomStringConvertible {
    case quarter = 25
    case half = 50
    case full = 100

    /// The share of the torque limits, 0.25 / 0.5 / 1.
    public var fraction: Double { Double(rawValue) / 100 }
    /// The stage in percent, as the command line writes it.
    public var percent: Int { rawValue }

    public var description: String { "\(rawValue) %" }

    public static func < (a: TorqueStage, b: TorqueStage) -> Bool { a.rawValue < b.rawValue }

    /// The stage whose fraction is `fraction` (within 1e-9), or nil.
    public init?(fraction: Double) {
        guard let stage = Self.allCases.first(where: { abs($0.fraction - fraction) <= 1e-9 }) else { return nil }
        self = stage
    }

    /// The stages in percent as a user types them: "25, 50 or 100".
    public static var choices: String {
        let values = allCases.map { String($0.rawValue) }
        return values.dropLast().joined(separator: ", ") + " or " + values.last!
    }

    /// The stage of `percent`; another value is an error naming the choices.
    public init(percent: Int, at field: String = "--stage") throws {
        guard let stage = TorqueStage(rawValue: percent) else {
            throw TetherError("torque stage \(percent) % is not a stage", at: field, hint: "use \(Self.choices) (percent of the torque limits)")
        }
        self = stage
    }
}
