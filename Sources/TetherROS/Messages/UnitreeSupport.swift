import TetherCore

// Unitree's low-level messages are IDL structs of fixed size: primitives and fixed arrays, no
// strings and no sequences. Each is written once, field by field, to a `UnitreeFieldWriter`:
// the CDR writer (what DDS sends) and the packed writer (the C struct the CRC covers) differ only
// in where padding goes, so one list of fields serves both and they cannot drift apart.

/// Where a Unitree message's fields go: CDR for DDS, or the packed C layout for the CRC.
public protocol UnitreeFieldWriter {
    /// Writes an integer, aligned to its size.
    mutating func write<T: FixedWidthInteger>(_ value: T)
    /// Writes a `float32`.
    mutating func write(_ value: Float)
    /// Writes a fixed array of exactly `count` integers (padded with zeros or cut to `count`).
    mutating func writeArray<T: FixedWidthInteger>(_ values: [T], count: Int)
    /// Writes a fixed `float32[count]` (padded with zeros or cut to `count`).
    mutating func writeArray(_ values: [Float], count: Int)
    /// Writes a nested struct.
    mutating func writeStruct<S: UnitreeStruct>(_ value: S)
    /// Writes a fixed array of exactly `count` nested structs (padded with blank ones or cut).
    mutating func writeStructs<S: UnitreeStruct>(_ values: [S], count: Int)
}

/// A Unitree IDL struct: a ROS message whose fields also pack into the vendor's C layout.
public protocol UnitreeStruct: ROSMessage {
    /// Every field zero, as the vendor's IDL defaults make it.
    init()
    /// The alignment of the C struct (its widest member): where it starts and how far it is
    /// padded at its end in the packed layout.
    static var packedAlignment: Int { get }
    /// Writes the fields in declaration order.
    func writeFields<W: UnitreeFieldWriter>(to writer: inout W)
}

extension UnitreeStruct {
    public static var packedAlignment: Int { 4 }

    public func encode(to writer: inout CDRWriter) { writeFields(to: &writer) }

    /// The message as the robot's C struct lies in memory: what the CRC covers.
    public var packedBytes: [UInt8] {
        var writer = UnitreePackedWriter()
        writer.writeStruct(self)
        return writer.bytes
    }
}

/// A low-level command or state: the whole message is covered by a CRC in its last field.
public protocol UnitreeCheckedMessage: UnitreeStruct {
    /// Unitree's CRC-32 of the packed message (`UnitreeCRC`).
    var crc: UInt32 { get set }
}

extension UnitreeCheckedMessage {
    /// The CRC the message's fields call for: the packed layout streamed through the CRC, with
    /// no buffer in between (`UnitreeCRC.checksum(packed:)` of `packedBytes` gives the same).
    public var expectedCRC: UInt32 {
        var writer = UnitreeCRCWriter()
        writer.writeStruct(self)
        return writer.value
    }

    /// Whether `crc` matches the fields: a state that fails this was corrupted on the way.
    public var hasValidCRC: Bool { crc == expectedCRC }

    /// Sets `crc` from the fields; call it last, after every other change to a command.
    public mutating func sealCRC() { crc = expectedCRC }

    /// A copy with `crc` set from the fields.
    public func sealed() -> Self {
        var copy = self
        copy.sealCRC()
        return copy
    }
}

/// `values`, padded with `filler` or cut so that it has exactly `count` elements.
@inline(__always)
func exactly<T>(_ values: [T], _ count: Int, filler: @autoclosure () -> T) -> [T] {
    if values.count == count { return values }
    return Array((values + repeatElement(filler(), count: max(0, count - values.count))).prefix(count))
}

extension CDRWriter: UnitreeFieldWriter {
    public mutating func writeArray<T: FixedWidthInteger>(_ values: [T], count: Int) { writeArray(exactly(values, count, filler: 0)) }
    public mutating func writeArray(_ values: [Float], count: Int) { writeArray(exactly(values, count, filler: 0)) }
    public mutating func writeStruct<S: UnitreeStruct>(_ value: S) { value.writeFields(to: &self) }
    public mutating func writeStructs<S: UnitreeStruct>(_ values: [S], count: Int) {
        for value in exactly(values, count, filler: S()) { value.writeFields(to: &self) }
    }
}

/// Writes a Unitree message in the C layout the vendor's CRC covers: little endian, each member
/// aligned to its size counted from the first byte, and each struct aligned to its widest member
/// at both ends (the trailing padding CDR does not have). Padding bytes are zero.
public struct UnitreePackedWriter: UnitreeFieldWriter {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty buffer.
    public init() { bytes.reserveCapacity(2100) }

    mutating func align(_ alignment: Int) {
        let misalignment = bytes.count % alignment
        if misalignment != 0 { bytes.append(contentsOf: repeatElement(0, count: alignment - misalignment)) }
    }

    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        align(MemoryLayout<T>.size)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    public mutating func write(_ value: Float) { write(value.bitPattern) }
    public mutating func writeArray<T: FixedWidthInteger>(_ values: [T], count: Int) {
        for value in exactly(values, count, filler: 0) { write(value) }
    }
    public mutating func writeArray(_ values: [Float], count: Int) {
        for value in exactly(values, count, filler: 0) { write(value.bitPattern) }
    }
    public mutating func writeStruct<S: UnitreeStruct>(_ value: S) {
        align(S.packedAlignment)
        value.writeFields(to: &self)
        align(S.packedAlignment)
    }
    public mutating func writeStructs<S: UnitreeStruct>(_ values: [S], count: Int) {
        for value in exactly(values, count, filler: S()) { writeStruct(value) }
    }
}

/// The packed layout of `UnitreePackedWriter`, fed straight into Unitree's CRC: every whole
/// 32-bit word but the last (the CRC's own slot), without building the bytes.
struct UnitreeCRCWriter: UnitreeFieldWriter {
    /// Bytes fed so far.
    private var count = 0
    /// The word being assembled, little endian.
    private var word: UInt32 = 0
    /// The last complete word, held back until the next one completes (the last is not covered).
    private var held: UInt32?
    private var crc = UnitreeCRC.Running()

    /// The CRC of everything fed.
    var value: UInt32 { crc.value }

    @inline(__always)
    private mutating func feed(_ byte: UInt8) {
        word |= UInt32(byte) << (8 * UInt32(count & 3))
        count += 1
        if count & 3 == 0 {
            if let held { crc.update(held) }
            held = word
            word = 0
        }
    }

    @inline(__always)
    private mutating func align(_ alignment: Int) {
        while count % alignment != 0 { feed(0) }
    }

    mutating func write<T: FixedWidthInteger>(_ value: T) {
        align(MemoryLayout<T>.size)
        let bits = UInt64(truncatingIfNeeded: value)
        for i in 0..<MemoryLayout<T>.size { feed(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
    }
    mutating func write(_ value: Float) { write(value.bitPattern) }
    mutating func writeArray<T: FixedWidthInteger>(_ values: [T], count: Int) {
        for i in 0..<count { write(i < values.count ? values[i] : 0) }
    }
    mutating func writeArray(_ values: [Float], count: Int) {
        for i in 0..<count { write(i < values.count ? values[i].bitPattern : 0) }
    }
    mutating func writeStruct<S: UnitreeStruct>(_ value: S) {
        align(S.packedAlignment)
        value.writeFields(to: &self)
        align(S.packedAlignment)
    }
    mutating func writeStructs<S: UnitreeStruct>(_ values: [S], count: Int) {
        for i in 0..<count { writeStruct(i < values.count ? values[i] : S()) }
    }
}
