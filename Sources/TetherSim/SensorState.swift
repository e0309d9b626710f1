/// What a `SensorModel` changes over time: the joint position drift.
public struct SensorState: Sendable, Equatable {
    /// Accumulated drift per joint (manifest order), rad.
    public var drift: [Double]

    /// No drift yet, for `joints` joints.
    public init(joints: Int) {
        drift = [Double](repeating: 0, count: joints)
    }
}
