import Foundation

/// An sRGB colour for plots, written as `#rrggbb`.
public struct PlotColor: Sendable, Hashable, CustomStringConvertible {
    /// Red, green and blue, 0...255.
    public let red: UInt8, green: UInt8, blue: UInt8

    /// Creates a colour from its components.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Parses `"#0072b2"` or `"0072B2"`; nil for anything else.
    public init?(hex: String) {
        let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        guard digits.count == 6, digits.allSatisfy(\.isHexDigit), let value = UInt32(digits, radix: 16) else {
            return nil
        }
        self.init(red: UInt8(value >> 16 & 0xFF), green: UInt8(value >> 8 & 0xFF), blue: UInt8(value & 0xFF))
    }

    /// `#rrggbb`, lower case.
    public var hex: String {
        func two(_ v: UInt8) -> String { (v < 16 ? "0" : "") + String(v, radix: 16) }
        return "#" + two(red) + two(green) + two(blue)
    }

    /// The colour as `#rrggbb`.
    public var description: String { hex }

    /// Series colours, distinguishable with the common forms of colour-vision deficiency (the
    /// Okabe–Ito set, without black so that it works on dark backgrounds, yellow last because it
    /// is faint on white). Series take them in order.
    public static let palette: [PlotColor] = [
        PlotColor(red: 0x00, green: 0x72, blue: 0xB2),  // blue
        PlotColor(red: 0xD5, green: 0x5E, blue: 0x00),  // vermillion
        PlotColor(red: 0x00, green: 0x9E, blue: 0x73),  // bluish green
        PlotColor(red: 0xCC, green: 0x79, blue: 0xA7),  // reddish purple
        PlotColor(red: 0x56, green: 0xB4, blue: 0xE9),  // sky blue
        PlotColor(red: 0xE6, green: 0x9F, blue: 0x00),  // orange
        PlotColor(red: 0x8C, green: 0x8C, blue: 0x8C),  // grey
        PlotColor(red: 0xF0, green: 0xE4, blue: 0x42),  // yellow
    ]

    /// The palette colour for series number `index` (wrapping around).
    public static func palette(_ index: Int) -> PlotColor {
        palette[((index % palette.count) + palette.count) % palette.count]
    }

    /// The colour of `value` on a blue–white–red diverging scale over `range` (the middle of the
    /// range is near-white): for correlations, signed errors, sim − real differences. Values
    /// outside the range take the end colours; NaN is a neutral grey.
    public static func diverging(_ value: Double, range: ClosedRange<Double> = -1...1) -> PlotColor {
        guard value.isFinite, range.upperBound > range.lowerBound else {
            return PlotColor(red: 0xB8, green: 0xB8, blue: 0xB8)
        }
        let mid = (range.lowerBound + range.upperBound) / 2
        let t = max(-1, min(1, (value - mid) / ((range.upperBound - range.lowerBound) / 2)))
        let negative = (37.0, 99.0, 170.0), middle = (246.0, 246.0, 246.0), positive = (190.0, 40.0, 45.0)
        let end = t < 0 ? negative : positive
        let f = abs(t)
        func mix(_ a: Double, _ b: Double) -> UInt8 { UInt8((a + (b - a) * f).rounded()) }
        return PlotColor(red: mix(middle.0, end.0), green: mix(middle.1, end.1), blue: mix(middle.2, end.2))
    }

    /// Relative luminance (0 black … 1 white), to choose dark or light text on a filled cell.
    public var luminance: Double {
        func channel(_ v: UInt8) -> Double {
            let c = Double(v) / 255
            return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)
    }
}
