import Foundation

/// Escaping for text that goes into an HTML or SVG (XML) document.
///
/// Reports show names a user chose (joints, parameters, robots, file paths); any of them can hold
/// `<`, `&`, quotes or stray control characters. Everything user-supplied passes through
/// ``escape(_:)`` before it reaches markup, so a report is always well-formed.
public enum Markup {
    /// `text` made safe as element content and inside a quoted attribute.
    ///
    /// `&`, `<`, `>`, `"` and `'` become character references; characters that XML 1.0 forbids
    /// (C0 controls other than tab, newline and carriage return, and U+FFFE / U+FFFF), DEL and the
    /// C1 controls become U+FFFD. Everything else, non-ASCII included, is kept as it is (reports
    /// are UTF-8).
    public static func escape(_ text: String) -> String {
        if !text.unicodeScalars.contains(where: needsWork) { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            case "'": out.append(contentsOf: "&#39;".unicodeScalars)
            default: out.append(isForbidden(scalar) ? "\u{FFFD}" : scalar)
            }
        }
        return String(out)
    }

    private static func needsWork(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "&", "<", ">", "\"", "'": return true
        default: return isForbidden(scalar)
        }
    }

    private static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x20 { return v != 0x09 && v != 0x0A && v != 0x0D }
        return (0x7F...0x9F).contains(v) || v == 0xFFFE || v == 0xFFFF
    }
}

/// Deterministic number formatting for reports and plots.
///
/// Independent of locale and of the platform's `printf`, so the same inputs give byte-identical
/// reports on every machine (reports are compared and committed).
public enum ReportNumber {
    /// `value` rounded to `decimals` places after the point (`fixed(3.14159, decimals: 2)` is
    /// `"3.14"`); no exponent unless the magnitude is beyond 10¹⁵.
    ///
    /// `decimals` is clamped to 0...12. NaN is `"NaN"`, infinities are `"∞"` and `"-∞"`; a value
    /// that rounds to zero has no minus sign.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        if let special = nonFinite(value) { return special }
        let places = max(0, min(decimals, 12))
        let scaled = (abs(value) * power10(places)).rounded()
        if scaled >= 9.0e15 { return significant(value, digits: 15) }
        var digits = String(UInt64(scaled))
        if places > 0 {
            if digits.count <= places {
                digits = String(repeating: "0", count: places - digits.count + 1) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -places))
        }
        return (value < 0 && scaled != 0 ? "-" : "") + digits
    }

    /// `value` with `digits` significant digits: fixed notation when 10⁻⁴ ≤ |value| < 10⁶
    /// (`"0.00123"`, `"12.5"`, `"250000"`), otherwise a short exponent form (`"1.23e-7"`).
    ///
    /// `digits` is clamped to 1...15; trailing zeros are kept so a column reads evenly.
    public static func significant(_ value: Double, digits: Int = 3) -> String {
        if let special = nonFinite(value) { return special }
        if value == 0 { return "0" }
        let n = max(1, min(digits, 15))
        var exponent = Int((log10(abs(value))).rounded(.down))
        // Rounding to n digits can carry into the next power of ten (9.996 → 10.0).
        if (abs(value) / power10(exponent - n + 1)).rounded() >= power10(n) { exponent += 1 }
        if exponent >= -4 && exponent < 6 {
            return fixed(value, decimals: max(0, n - 1 - exponent))
        }
        var mantissa = value / power10(exponent)
        if abs((mantissa * power10(n - 1)).rounded()) >= power10(n) {
            mantissa /= 10
            exponent += 1
        }
        return fixed(mantissa, decimals: n - 1) + "e" + String(exponent)
    }

    /// Like ``significant(_:digits:)`` but without trailing zeros ("0.82", "120", "1.5e-7"):
    /// for table cells, where padded zeros suggest a precision the number does not have.
    public static func compact(_ value: Double, digits: Int = 4) -> String {
        let text = significant(value, digits: digits)
        guard value.isFinite else { return text }
        let exponentStart = text.firstIndex(of: "e") ?? text.endIndex
        var mantissa = String(text[..<exponentStart])
        guard mantissa.contains(".") else { return text }
        while mantissa.hasSuffix("0") { mantissa.removeLast() }
        if mantissa.hasSuffix(".") { mantissa.removeLast() }
        return mantissa + text[exponentStart...]
    }

    /// 10ⁿ, computed so that exact powers (0.001, 1000) are the nearest doubles.
    static func power10(_ n: Int) -> Double {
        var p = 1.0
        for _ in 0..<min(abs(n), 330) { p *= 10 }
        return n >= 0 ? p : 1 / p
    }

    private static func nonFinite(_ value: Double) -> String? {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "∞" : "-∞" }
        return nil
    }
}

/// A pixel coordinate with one decimal: "12.3", "-4", "0.5". Clamped to ±10⁶ so that data far
/// outside an explicit axis range still produce finite, short numbers (the clip path hides them).
func svgNumber(_ value: Double) -> String {
    let v = value.isFinite ? min(max(value, -1e6), 1e6) : 0
    let tenths = Int((v * 10).rounded())
    let a = abs(tenths)
    let sign = tenths < 0 ? "-" : ""
    return a % 10 == 0 ? "\(sign)\(a / 10)" : "\(sign)\(a / 10).\(a % 10)"
}

/// A short, stable identifier derived from `text` (FNV-1a, 64 bit), for SVG ids that must be
/// unique within a page but identical between runs.
func stableIdentifier(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}
