/// An error a user can act on: what was wrong, where, and what to do about it.
///
/// Every layer of Tether throws this (or a type that converts to it) at its public boundary so
/// the CLI can print one consistent message.
public struct TetherError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, in one sentence.
    public var what: String
    /// Where: a file (with line when known), a joint, a field, a topic.
    public var location: String?
    /// What the user can do about it.
    public var hint: String?

    /// Creates an error with what happened, where, and a hint.
    public init(_ what: String, at location: String? = nil, hint: String? = nil) {
        self.what = what
        self.location = location
        self.hint = hint
    }

    public var description: String {
        var text = location.map { "\($0): \(what)" } ?? what
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }
}

/// The text of a NUL-terminated C buffer (an error message filled in by a C library).
public func stringFromCBuffer(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
