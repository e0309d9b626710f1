/// Units in Tether.
///
/// Every quantity is in SI units and angles are in radians: metres, kilograms, seconds, newtons,
/// newton-metres, radians, rad/s, hertz. A value in any other unit says so in its name
/// (`tiltLimitDegrees`), and the CLI converts only for display.
public enum Units {
    /// Degrees to radians.
    @inlinable public static func radians(degrees: Double) -> Double { degrees * .pi / 180 }
    /// Radians to degrees (for display only).
    @inlinable public static func degrees(radians: Double) -> Double { radians * 180 / .pi }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
