import Foundation
import TetherCore

/// A forward-only reader over the bytes of one JSON document, for COCO files.
///
/// Foundation's `JSONSerialization` / `JSONDecoder` build a tree of boxed values, which costs
/// more than the whole evaluation for 100 000 detections. COCO files are large arrays of small
/// flat objects, so this cursor lets the loader pick the fields it needs and skip everything else
/// (segmentation polygons, captions) without allocating. Numbers are validated against JSON's
/// grammar and converted with `strtod`, which rounds correctly, as Python's `float()` does, so
/// every value is the same double pycocotools sees.
struct JSONCursor {
    private let bytes: UnsafeBufferPointer<UInt8>
    /// The offset of the next unread byte.
    private(set) var offset = 0
    /// The file the bytes came from, for error messages.
    let path: String

    /// A cursor over `bytes`, which must end with a NUL byte that is not part of the document
    /// (so `strtod` never reads past the buffer).
    init(bytes: UnsafeBufferPointer<UInt8>, path: String) {
        precondition(bytes.last == 0, "JSONCursor needs a NUL-terminated buffer")
        self.bytes = UnsafeBufferPointer(rebasing: bytes.dropLast())
        self.path = path
    }

    // MARK: Errors

    /// An error at the current position, located as `path:line:column`.
    func error(_ what: String, hint: String? = nil) -> TetherError {
        var line = 1, column = 1
        for i in 0..<min(offset, bytes.count) {
            if bytes[i] == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return TetherError(what, at: "\(path):\(line):\(column)", hint: hint ?? "the file is not valid JSON; check it with `python -m json.tool \(path)`")
    }

    private func describeNext() -> String {
        guard offset < bytes.count else { return "the end of the file" }
        let b = bytes[offset]
        return b >= 0x20 && b < 0x7f ? "'\(Character(UnicodeScalar(b)))'" : "byte 0x\(String(b, radix: 16))"
    }

    // MARK: Structure

    mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    /// The next non-space byte without consuming it (0 at the end).
    mutating func peek() -> UInt8 {
        skipSpace()
        return offset < bytes.count ? bytes[offset] : 0
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws {
        guard peek() == byte else { throw error("expected \(what), found \(describeNext())") }
        offset += 1
    }

    /// Consumes `{`; false when the object is empty (its `}` consumed too).
    mutating func openObject() throws -> Bool {
        try expect(UInt8(ascii: "{"), "an object '{'")
        if peek() == UInt8(ascii: "}") { offset += 1; return false }
        return true
    }

    /// After a member's value: consumes `,` (true, another member follows) or `}` (false).
    mutating func nextMember() throws -> Bool {
        switch peek() {
        case UInt8(ascii: ","): offset += 1; return true
        case UInt8(ascii: "}"): offset += 1; return false
        default: throw error("expected ',' or '}' in an object, found \(describeNext())")
        }
    }

    /// Consumes `[`; false when the array is empty (its `]` consumed too).
    mutating func openArray() throws -> Bool {
        try expect(UInt8(ascii: "["), "an array '['")
        if peek() == UInt8(ascii: "]") { offset += 1; return false }
        return true
    }

    /// After an element: consumes `,` (true) or `]` (false).
    mutating func nextElement() throws -> Bool {
        switch peek() {
        case UInt8(ascii: ","): offset += 1; return true
        case UInt8(ascii: "]"): offset += 1; return false
        default: throw error("expected ',' or ']' in an array, found \(describeNext())")
        }
    }

    /// Reads a member's key and its `:`; the key's raw bytes (escapes are not decoded, which is
    /// fine for comparing with COCO's plain ASCII field names).
    mutating func key() throws -> UnsafeBufferPointer<UInt8> {
        let range = try rawString()
        try expect(UInt8(ascii: ":"), "':' after a key")
        return UnsafeBufferPointer(rebasing: bytes[range])
    }

    /// The byte range of the string's contents, quotes excluded; validates escapes.
    private mutating func rawString() throws -> Range<Int> {
        try expect(UInt8(ascii: "\""), "a string")
        let start = offset
        while offset < bytes.count {
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") { offset += 1; return start..<(offset - 1) }
            if b == UInt8(ascii: "\\") { offset += 2; continue }
            if b < 0x20 { throw error("control character inside a string") }
            offset += 1
        }
        throw error("unterminated string")
    }

    /// Reads a string value, decoding escapes.
    mutating func string() throws -> String {
        let range = try rawString()
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        if !raw.contains(UInt8(ascii: "\\")) { return String(decoding: raw, as: UTF8.self) }
        // Rare: let Foundation decode the escapes of this one string.
        let quoted = Data(bytes[(range.lowerBound - 1)...range.upperBound])
        guard let value = try? JSONDecoder().decode(String.self, from: quoted) else { throw error("invalid escape in a string") }
        return value
    }

    /// Reads a number, exactly as Python's `json` module reads it (ints are exact, floats
    /// correctly rounded).
    mutating func number() throws -> Double {
        _ = peek()
        let start = offset
        var i = offset
        func digit(_ j: Int) -> Bool { j < bytes.count && bytes[j] >= 0x30 && bytes[j] <= 0x39 }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard digit(i) else {
            if matches("NaN") { offset += 3; return .nan }
            if matches("Infinity") { offset += 8; return .infinity }
            if matches("-Infinity") { offset += 9; return -.infinity }
            throw error("expected a number, found \(describeNext())")
        }
        // Significant digits into a mantissa (while exact), then the fraction and exponent.
        var mantissa: UInt64 = 0
        var digits = 0, fractionDigits = 0
        if bytes[i] == 0x30 { i += 1 } else {
            while digit(i) { mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 0x30); digits += 1; i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digit(i) else { offset = i; throw error("expected a digit after '.'") }
            while digit(i) {
                if mantissa != 0 || bytes[i] != 0x30 { digits += 1 }
                mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 0x30); fractionDigits += 1; i += 1
            }
        }
        var exponentValue = 0
        var hasExponent = false
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            hasExponent = true
            i += 1
            var negative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { negative = bytes[i] == UInt8(ascii: "-"); i += 1 }
            guard digit(i) else { offset = i; throw error("expected a digit in an exponent") }
            while digit(i) { exponentValue = min(exponentValue * 10 + Int(bytes[i] &- 0x30), 100_000); i += 1 }
            if negative { exponentValue = -exponentValue }
        }
        offset = i
        // Clinger's fast path: an exact mantissa below 2^53 times or over an exact power of ten
        // (at most 10^22) is one correctly rounded operation, the same double strtod returns.
        let scale = exponentValue - fractionDigits
        if digits <= 15 && mantissa < (1 << 53) && scale >= -22 && scale <= 22 && (!hasExponent || exponentValue.magnitude < 1000) {
            let m = Double(mantissa)
            let magnitude = scale >= 0 ? m * Self.powersOfTen[scale] : m / Self.powersOfTen[-scale]
            if scale >= 0 && magnitude >= 9007199254740992 { return strtodAt(start, i) }   // product may round
            return bytes[start] == UInt8(ascii: "-") ? -magnitude : magnitude
        }
        return strtodAt(start, i)
    }

    private static let powersOfTen: [Double] = (0...22).map { p in (0..<p).reduce(1.0) { r, _ in r * 10 } }

    private func strtodAt(_ start: Int, _ end: Int) -> Double {
        bytes.baseAddress!.advanced(by: start).withMemoryRebound(to: CChar.self, capacity: end - start + 1) { strtod($0, nil) }
    }

    private func matches(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard offset + n <= bytes.count else { return false }
        return memcmp(bytes.baseAddress! + offset, word.utf8Start, n) == 0
    }

    /// Consumes `null` if it is next.
    mutating func null() -> Bool {
        _ = peek()
        if matches("null") { offset += 4; return true }
        return false
    }

    /// Reads `true`, `false`, or a number (non-zero is true), as Python's truthiness reads COCO's
    /// `iscrowd`.
    mutating func truthy() throws -> Bool {
        _ = peek()
        if matches("true") { offset += 4; return true }
        if matches("false") { offset += 5; return false }
        if null() { return false }
        return try number() != 0
    }

    /// Skips one value of any kind.
    mutating func skipValue() throws {
        switch peek() {
        case UInt8(ascii: "{"):
            var more = try openObject()
            while more { _ = try key(); try skipValue(); more = try nextMember() }
        case UInt8(ascii: "["):
            var more = try openArray()
            while more { try skipValue(); more = try nextElement() }
        case UInt8(ascii: "\""):
            _ = try rawString()
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            _ = try truthy()
        default:
            _ = try number()
        }
    }

    /// Fails unless only white space is left.
    mutating func expectEnd() throws {
        guard peek() == 0, offset >= bytes.count else { throw error("unexpected \(describeNext()) after the end of the document") }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether these bytes spell `word` (a COCO field name).
    func equals(_ word: StaticString) -> Bool {
        count == word.utf8CodeUnitCount && memcmp(baseAddress!, word.utf8Start, count) == 0
    }
}

/// Reads a whole file and runs `body` over its bytes with a NUL appended.
func withJSONFile<T>(_ path: String, _ body: (inout JSONCursor) throws -> T) throws -> T {
    guard var data = FileManager.default.contents(atPath: path) else {
        throw TetherError("cannot read the file", at: path, hint: "check the path and its permissions")
    }
    data.append(0)
    return try data.withUnsafeBytes { raw in
        var cursor = JSONCursor(bytes: raw.bindMemory(to: UInt8.self), path: path)
        return try body(&cursor)
    }
}
