import Foundation

/// Unitree's CRC-32 of a low-level command or state (the `crc` field of `LowCmd` / `LowState`).
///
/// The checksum runs over the message as the robot's C struct lies in memory (natural alignment,
/// little endian; see `UnitreePackedWriter`), read as 32-bit words, every word but the last (the
/// `crc` field itself). Each word enters most significant bit first with polynomial 0x04C11DB7,
/// initial value 0xFFFFFFFF, no reflection and no final XOR: bit by bit, Unitree's helper shifts
/// the register and then adds the polynomial for a set data bit, which is CRC-32/MPEG-2 over each
/// word's big-endian bytes, so a byte-wise table gives the same result eight times faster.
///
/// Not the IEEE CRC of MCAP (`CRC32`): a different polynomial direction and no final XOR.
public enum UnitreeCRC {
    /// The CRC of `words`, each taken most significant bit first.
    public static func checksum(words: some Sequence<UInt32>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for word in words { crc = update(crc, word) }
        return crc
    }

    /// The CRC of a packed message: its whole little-endian 32-bit words but the last (the CRC's
    /// own slot); a tail shorter than a word is not covered, as in the vendor's helper.
    public static func checksum(packed bytes: UnsafeRawBufferPointer) -> UInt32 {
        let words = bytes.count / 4 - 1
        var crc: UInt32 = 0xFFFF_FFFF
        guard words > 0 else { return crc }
        for i in 0..<words {
            let o = 4 * i
            let word = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
            crc = update(crc, word)
        }
        return crc
    }

    /// A checksum in progress, one word at a time.
    public struct Running: Sendable {
        private var crc: UInt32 = 0xFFFF_FFFF
        /// Nothing checked yet.
        public init() {}
        /// Continues over one word, most significant bit first.
        public mutating func update(_ word: UInt32) { crc = UnitreeCRC.update(crc, word) }
        /// The CRC of the words so far.
        public var value: UInt32 { crc }
    }

    /// Advances the register over one word: its four bytes, high byte first.
    @inline(__always)
    static func update(_ crc: UInt32, _ word: UInt32) -> UInt32 {
        var crc = crc
        table.withUnsafeBufferPointer { t in
            crc = (crc << 8) ^ t[Int((crc >> 24) ^ (word >> 24))]
            crc = (crc << 8) ^ t[Int(((crc >> 24) ^ (word >> 16)) & 0xFF)]
            crc = (crc << 8) ^ t[Int(((crc >> 24) ^ (word >> 8)) & 0xFF)]
            crc = (crc << 8) ^ t[Int(((crc >> 24) ^ word) & 0xFF)]
        }
        return crc
    }

    /// Entry b: the register after eight MSB-first steps from `b << 24`.
    private static let table: [UInt32] = (0..<256).map { (byte: UInt32) in
        var crc = byte << 24
        for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
        return crc
    }
}
