import Foundation

/// CRC-32 (IEEE 802.3; the one zlib, PNG and MCAP use): reflected polynomial 0xEDB88320,
/// initial value and final XOR 0xFFFFFFFF. `CRC32.checksum(Array("123456789".utf8))` is 0xCBF43926.
///
/// Table-driven, eight bytes per step ("slicing-by-8", Intel's technique): table k holds the CRC
/// of a byte followed by k zero bytes, so eight lookups advance the CRC over eight input bytes.
public struct CRC32: Sendable {
    /// The running state (complemented; use `value` for the checksum).
    private var state: UInt32 = 0xFFFF_FFFF

    /// A checksum of nothing yet.
    public init() {}

    /// The CRC of everything passed to `update` so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// The CRC of `bytes`.
    public static func checksum(_ bytes: some ContiguousBytes) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }

    /// Continues the checksum over `bytes`.
    public mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Continues the checksum over raw bytes.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        let t = crcTables
        var crc = state
        var i = 0
        let n = buffer.count
        t.withUnsafeBufferPointer { table in
            while n - i >= 8 {
                let lo = crc ^ (UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24)
                let hi = UInt32(buffer[i + 4]) | UInt32(buffer[i + 5]) << 8 | UInt32(buffer[i + 6]) << 16 | UInt32(buffer[i + 7]) << 24
                crc = table[7 * 256 + Int(lo & 0xFF)] ^ table[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((lo >> 16) & 0xFF)] ^ table[4 * 256 + Int(lo >> 24)]
                    ^ table[3 * 256 + Int(hi & 0xFF)] ^ table[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((hi >> 16) & 0xFF)] ^ table[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                crc = table[Int((crc ^ UInt32(buffer[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        state = crc
    }
}

/// Eight 256-entry tables, one after the other (see `CRC32`).
private let crcTables: [UInt32] = {
    var tables = [UInt32](repeating: 0, count: 8 * 256)
    for byte in 0..<256 {
        var c = UInt32(byte)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        tables[byte] = c
    }
    for k in 1..<8 {
        for byte in 0..<256 {
            let previous = tables[(k - 1) * 256 + byte]
            tables[k * 256 + byte] = tables[Int(previous & 0xFF)] ^ (previous >> 8)
        }
    }
    return tables
}()
