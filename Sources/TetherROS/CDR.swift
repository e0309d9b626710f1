import Foundation
import TetherCore

// CDR as ROS 2 puts it on the wire (XCDR1, "plain CDR"): a 4-byte encapsulation header, then the
// fields in declaration order, each primitive aligned to its own size (8 for 64-bit types) counted
// from the first byte after the header. Strings are a uint32 length that counts the terminating
// NUL, the UTF-8 bytes, and the NUL; sequences are a uint32 element count and the elements; fixed
// arrays are just the elements. Nested messages add no header and no alignment of their own.
// References: OMG CDR (CORBA 3.0 §15.3), rmw_cyclonedds' serializer, rosbags' serde.

/// The encapsulation identifiers (first two bytes of a serialized message, big-endian on the wire).
public enum CDREncapsulation: UInt16, Sendable {
    /// Plain CDR, big endian (XCDR1).
    case cdrBigEndian = 0x0000
    /// Plain CDR, little endian (XCDR1): what ROS 2 publishes and records on every common platform.
    case cdrLittleEndian = 0x0001
}

/// Serializes a message into CDR, little endian, with the 4-byte encapsulation header.
public struct CDRWriter: Sendable {
    /// Every byte written so far, the encapsulation header included.
    public private(set) var bytes: [UInt8]

    /// The payload starts after the header; alignment counts from here.
    private static let origin = 4

    /// Starts a message: writes the header `00 01 00 00` (little-endian CDR, no options).
    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(max(capacity, 8))
        bytes.append(contentsOf: [0x00, 0x01, 0x00, 0x00])
    }

    /// Makes room for `additional` more bytes at once, so that a large payload (an image) is
    /// appended without the buffer growing and copying itself several times on the way.
    public mutating func reserveCapacity(additional: Int) {
        bytes.reserveCapacity(bytes.count + max(0, additional))
    }

    /// Starts a new message in the same buffer: keeps the header and the capacity, drops the rest
    /// (a publisher encodes every message into one buffer without allocating).
    public mutating func restart() {
        bytes.removeSubrange(Self.origin...)
    }

    /// Bytes of payload written so far (without the header).
    public var payloadCount: Int { bytes.count - Self.origin }

    /// Pads with zeros until the payload length is a multiple of `alignment`.
    public mutating func align(_ alignment: Int) {
        let misalignment = payloadCount % alignment
        if misalignment != 0 { bytes.append(contentsOf: repeatElement(0, count: alignment - misalignment)) }
    }

    /// Writes an integer, aligned to its size.
    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        align(MemoryLayout<T>.size)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Writes a `float32`.
    public mutating func write(_ value: Float) { write(value.bitPattern) }
    /// Writes a `float64` (8-byte aligned).
    public mutating func write(_ value: Double) { write(value.bitPattern) }
    /// Writes a `bool` as one byte, 0 or 1.
    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Writes a `string`: uint32 length including the NUL, the UTF-8 bytes, then the NUL.
    public mutating func write(_ value: String) {
        var value = value
        // Straight from the string's own UTF-8 storage: no temporary array per string.
        value.withUTF8 { utf8 in
            // A NUL inside the string would end it early for every C reader; drop what follows, as they would.
            let count = utf8.firstIndex(of: 0) ?? utf8.count
            write(UInt32(count + 1))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[..<count]))
            bytes.append(0)
        }
    }

    /// Writes a nested message in place (no header, no extra alignment).
    public mutating func write<M: ROSMessage>(_ message: M) { message.encode(to: &self) }

    // MARK: sequences (uint32 count, then the elements)

    /// Writes a sequence of integers.
    public mutating func writeSequence<T: FixedWidthInteger>(_ values: [T]) {
        write(UInt32(values.count))
        writeArray(values)
    }
    /// Writes a `float64[]`.
    public mutating func writeSequence(_ values: [Double]) {
        write(UInt32(values.count))
        writeArray(values)
    }
    /// Writes a `float32[]`.
    public mutating func writeSequence(_ values: [Float]) {
        write(UInt32(values.count))
        writeArray(values)
    }
    /// Writes a `bool[]`.
    public mutating func writeSequence(_ values: [Bool]) {
        write(UInt32(values.count))
        writeArray(values)
    }
    /// Writes a `string[]`.
    public mutating func writeSequence(_ values: [String]) {
        write(UInt32(values.count))
        for value in values { write(value) }
    }
    /// Writes a sequence of nested messages.
    public mutating func writeSequence<M: ROSMessage>(_ values: [M]) {
        write(UInt32(values.count))
        for value in values { value.encode(to: &self) }
    }

    // MARK: fixed arrays (the elements only; the length is part of the type)

    /// Writes a fixed array of integers: one copy of the whole array on a little-endian host.
    public mutating func writeArray<T: FixedWidthInteger>(_ values: [T]) {
        if values.isEmpty { return }
        align(MemoryLayout<T>.size)
        if hostIsLittleEndian || MemoryLayout<T>.size == 1 {
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        } else {
            for value in values { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        }
    }
    /// Writes a fixed `float64[N]`.
    public mutating func writeArray(_ values: [Double]) {
        if values.isEmpty { return }
        align(8)
        if hostIsLittleEndian {
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        } else {
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        }
    }
    /// Writes a fixed `float32[N]`.
    public mutating func writeArray(_ values: [Float]) {
        if values.isEmpty { return }
        align(4)
        if hostIsLittleEndian {
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        } else {
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        }
    }
    /// Writes a fixed `bool[N]`.
    public mutating func writeArray(_ values: [Bool]) {
        for value in values { bytes.append(value ? 1 : 0) }
    }
    /// Writes a fixed array of nested messages.
    public mutating func writeArray<M: ROSMessage>(_ values: [M]) {
        for value in values { value.encode(to: &self) }
    }
}

/// Deserializes a CDR message: checks the encapsulation header, then reads fields in order.
///
/// Every read checks the bounds first and throws a `TetherError` that says which field was cut
/// short and where, so a truncated or hostile buffer never crashes the reader.
public struct CDRReader: Sendable {
    /// Where the bytes live: an array the reader holds, or memory borrowed for the length of one
    /// decode (`ROSMessage.init(cdrBytes:)` over a DDS sample: no copy of the received bytes).
    private enum Storage: @unchecked Sendable {
        case array([UInt8])
        case borrowed(UnsafeRawBufferPointer)
    }
    private let storage: Storage
    /// Bytes in the buffer, the header included.
    private let count: Int
    /// Absolute offset of the next byte to read.
    public private(set) var position: Int
    /// The encapsulation the header announced.
    public let encapsulation: CDREncapsulation
    private var littleEndian: Bool { encapsulation == .cdrLittleEndian }
    private static let origin = 4

    /// Checks the encapsulation header and positions the reader on the first field.
    ///
    /// Accepts plain CDR, little endian (`00 01`, what ROS 2 sends) and big endian (`00 00`);
    /// rejects parameter lists and XCDR2, which ROS 2's default data representation never uses.
    public init(_ bytes: [UInt8]) throws {
        try self.init(storage: .array(bytes), count: bytes.count, first: bytes.first ?? 0, second: bytes.count > 1 ? bytes[1] : 0)
    }

    /// A reader over memory that stays valid and unchanged while the reader is used; the reader
    /// must not outlive it (hence internal: `ROSMessage.init(cdrBytes:)` scopes it to one decode).
    init(borrowing bytes: UnsafeRawBufferPointer) throws {
        try self.init(storage: .borrowed(bytes), count: bytes.count, first: bytes.first ?? 0, second: bytes.count > 1 ? bytes[1] : 0)
    }

    private init(storage: Storage, count: Int, first: UInt8, second: UInt8) throws {
        guard count >= Self.origin else {
            throw TetherError("a CDR message needs a 4-byte encapsulation header, but the buffer has \(count) byte(s)",
                              hint: "the data is truncated or is not a serialized ROS 2 message")
        }
        let id = UInt16(first) << 8 | UInt16(second)
        guard let encapsulation = CDREncapsulation(rawValue: id) else {
            let name: String
            switch id {
            case 0x0002, 0x0003: name = "parameter-list CDR (PL_CDR)"
            case 0x0006, 0x0007: name = "XCDR2 plain CDR2"
            case 0x0008, 0x0009: name = "XCDR2 delimited CDR2"
            case 0x000a, 0x000b: name = "XCDR2 parameter-list CDR2"
            default: name = "an unknown representation"
            }
            throw TetherError(
                "unsupported CDR encapsulation \(hex16(id)) (\(name))",
                hint: "Tether decodes plain CDR (XCDR1, 0x0001 little endian or 0x0000 big endian), as ROS 2 publishes it")
        }
        self.storage = storage
        self.count = count
        self.encapsulation = encapsulation
        self.position = Self.origin
    }

    /// Checks the header of a `Data` buffer (copied once).
    public init(_ data: Data) throws { try self.init([UInt8](data)) }

    /// Bytes left after the current position.
    public var remaining: Int { count - position }

    /// Runs `body` over the whole buffer.
    @inline(__always)
    private func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .array(let bytes): return try bytes.withUnsafeBytes(body)
        case .borrowed(let bytes): return try body(bytes)
        }
    }

    private mutating func align(_ alignment: Int) {
        let misalignment = (position - Self.origin) % alignment
        if misalignment != 0 {
            let pad = alignment - misalignment
            // Trailing padding may be missing at the very end; reading the value after it fails anyway.
            position = min(position + pad, count)
        }
    }

    private func need(_ count: Int, for what: @autoclosure () -> String) throws {
        guard count <= remaining else {
            throw TetherError("CDR buffer truncated: \(what()) needs \(count) byte(s) at offset \(position - Self.origin) of the payload, but only "
                + "\(remaining) remain",
                              hint: "the message was cut short, or it was serialized with a different type definition")
        }
    }

    private mutating func load<T: FixedWidthInteger>(_ type: T.Type) -> T {
        var raw: T = 0
        withUnsafeMutableBytes(of: &raw) { destination in
            withBytes { source in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[position..<position + MemoryLayout<T>.size]))
            }
        }
        position += MemoryLayout<T>.size
        return littleEndian ? T(littleEndian: raw) : T(bigEndian: raw)
    }

    /// Reads an integer, aligned to its size.
    public mutating func read<T: FixedWidthInteger>(_ type: T.Type = T.self) throws -> T {
        align(MemoryLayout<T>.size)
        try need(MemoryLayout<T>.size, for: "a \(MemoryLayout<T>.size)-byte integer")
        return load(T.self)
    }
    /// Reads a `float32`.
    public mutating func read(_ type: Float.Type = Float.self) throws -> Float { Float(bitPattern: try read(UInt32.self)) }
    /// Reads a `float64`.
    public mutating func read(_ type: Double.Type = Double.self) throws -> Double { Double(bitPattern: try read(UInt64.self)) }
    /// Reads a `bool` (any non-zero byte is true).
    public mutating func read(_ type: Bool.Type = Bool.self) throws -> Bool {
        try need(1, for: "a bool")
        defer { position += 1 }
        return withBytes { $0[position] } != 0
    }

    /// Reads a `string` (uint32 length including the NUL, bytes, NUL).
    public mutating func read(_ type: String.Type = String.self) throws -> String {
        let length = Int(try read(UInt32.self))
        try need(length, for: "a string of \(length) byte(s)")
        var end = position + length
        // The length counts the NUL; a writer that left it out (length 0 for "") is tolerated.
        if length > 0 && withBytes({ $0[end - 1] }) == 0 { end -= 1 }
        let text = withBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[position..<end]), as: UTF8.self) }
        position += length
        return text
    }

    /// Reads a nested message in place.
    public mutating func read<M: ROSMessage>(_ type: M.Type) throws -> M { try M(from: &self) }

    /// Reads a sequence's element count and checks that that many elements of at least
    /// `minimumSize` bytes can fit in what is left, so a corrupt count cannot allocate gigabytes.
    private mutating func count(minimumSize: Int, what: String) throws -> Int {
        let count = Int(try read(UInt32.self))
        guard count <= remaining / max(minimumSize, 1) else {
            throw TetherError("CDR buffer truncated: a sequence of \(count) \(what) cannot fit in the \(remaining) byte(s) left",
                              hint: "the message was cut short, or it was serialized with a different type definition")
        }
        return count
    }

    // MARK: sequences

    /// Reads a sequence of integers.
    public mutating func readSequence<T: FixedWidthInteger>(of type: T.Type) throws -> [T] {
        try readArray(of: T.self, count: count(minimumSize: MemoryLayout<T>.size, what: "integers"))
    }
    /// Reads a `float64[]`.
    public mutating func readSequence(of type: Double.Type) throws -> [Double] {
        try readArray(of: Double.self, count: count(minimumSize: 8, what: "float64 values"))
    }
    /// Reads a `float32[]`.
    public mutating func readSequence(of type: Float.Type) throws -> [Float] {
        try readArray(of: Float.self, count: count(minimumSize: 4, what: "float32 values"))
    }
    /// Reads a `bool[]`.
    public mutating func readSequence(of type: Bool.Type) throws -> [Bool] {
        try readArray(of: Bool.self, count: count(minimumSize: 1, what: "bools"))
    }
    /// Reads a `string[]`.
    public mutating func readSequence(of type: String.Type) throws -> [String] {
        let n = try count(minimumSize: 4, what: "strings")
        var values: [String] = []
        values.reserveCapacity(n)
        for _ in 0..<n { values.append(try read(String.self)) }
        return values
    }
    /// Reads a sequence of nested messages.
    public mutating func readSequence<M: ROSMessage>(of type: M.Type) throws -> [M] {
        let n = try count(minimumSize: 1, what: "\(M.typeName) messages")
        var values: [M] = []
        values.reserveCapacity(n)
        for _ in 0..<n { values.append(try M(from: &self)) }
        return values
    }

    // MARK: fixed arrays

    /// Copies `count` elements of `size` bytes each into a new array in one pass (a `memcpy`);
    /// the caller has aligned and checked the bounds.
    private mutating func copyElements<T>(_ type: T.Type, count: Int, size: Int) -> [T] {
        let start = position
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            withBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: source[start..<start + count * size]))
            }
            initialized = count
        }
        position += count * size
        return values
    }

    /// Whether the bytes are in this machine's byte order, so arrays can be copied as they are.
    private var nativeOrder: Bool { littleEndian == hostIsLittleEndian }

    /// Reads a fixed array of `count` integers: one copy when the byte order is the host's.
    public mutating func readArray<T: FixedWidthInteger>(of type: T.Type, count: Int) throws -> [T] {
        if count <= 0 { return [] }
        let size = MemoryLayout<T>.size
        align(size)
        try need(count * size, for: "an array of \(count) \(size)-byte integers")
        let values = copyElements(T.self, count: count, size: size)
        return nativeOrder || size == 1 ? values : values.map(\.byteSwapped)
    }
    /// Reads a fixed `float64[count]`.
    public mutating func readArray(of type: Double.Type, count: Int) throws -> [Double] {
        if count <= 0 { return [] }
        guard nativeOrder else { return try readArray(of: UInt64.self, count: count).map(Double.init(bitPattern:)) }
        align(8)
        try need(count * 8, for: "an array of \(count) float64 values")
        return copyElements(Double.self, count: count, size: 8)
    }
    /// Reads a fixed `float32[count]`.
    public mutating func readArray(of type: Float.Type, count: Int) throws -> [Float] {
        if count <= 0 { return [] }
        guard nativeOrder else { return try readArray(of: UInt32.self, count: count).map(Float.init(bitPattern:)) }
        align(4)
        try need(count * 4, for: "an array of \(count) float32 values")
        return copyElements(Float.self, count: count, size: 4)
    }
    /// Reads a fixed `bool[count]`.
    public mutating func readArray(of type: Bool.Type, count: Int) throws -> [Bool] {
        try need(count, for: "an array of \(count) bools")
        defer { position += count }
        let start = position
        return withBytes { source in source[start..<start + count].map { $0 != 0 } }
    }
    /// Reads a fixed array of `count` nested messages.
    public mutating func readArray<M: ROSMessage>(of type: M.Type, count: Int) throws -> [M] {
        var values: [M] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try M(from: &self)) }
        return values
    }
}

/// Whether this machine stores integers little end first (every platform ROS 2 supports does),
/// in which case CDR little-endian arrays are the in-memory arrays, byte for byte.
let hostIsLittleEndian = 1.littleEndian == 1

/// `0x0001`-style text for a 16-bit identifier.
func hex16(_ value: UInt16) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
