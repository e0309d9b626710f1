import Foundation
import TetherCore

// MCAP (https://mcap.dev/spec), the storage format of ROS 2 bags since Iron. A file is the magic,
// then records, each `opcode u8 | length u64 | body`, all integers little endian. Strings are a
// u32 byte length and UTF-8; byte arrays have a u32 (or u64 for chunk records) length; maps are a
// u32 byte length followed by key/value pairs. The data section (Header, Schema, Channel,
// Message, Chunk, MessageIndex, ..., DataEnd) is followed by an optional summary section
// (copies of schemas and channels, Statistics, ChunkIndex, SummaryOffset) and the Footer, then
// the magic again.

/// Constants of the MCAP format.
public enum MCAP {
    /// The 8 bytes that start and end every MCAP file: `0x89 M C A P 0 \r \n`.
    public static let magic: [UInt8] = [0x89, 0x4D, 0x43, 0x41, 0x50, 0x30, 0x0D, 0x0A]
    /// The ROS 2 profile name written in the Header.
    public static let ros2Profile = "ros2"
    /// Schema encoding of ROS 2 `.msg` definitions.
    public static let ros2msgEncoding = "ros2msg"
    /// Message encoding of ROS 2 CDR data.
    public static let cdrEncoding = "cdr"

    /// Record types (the first byte of each record).
    public enum Opcode: UInt8, Sendable {
        case header = 0x01, footer = 0x02, schema = 0x03, channel = 0x04, message = 0x05, chunk = 0x06
        case messageIndex = 0x07, chunkIndex = 0x08, attachment = 0x09, attachmentIndex = 0x0A
        case statistics = 0x0B, metadata = 0x0C, metadataIndex = 0x0D, summaryOffset = 0x0E, dataEnd = 0x0F
    }

    /// Size of a Footer record: opcode, length, summary_start u64, summary_offset_start u64, summary_crc u32.
    static let footerRecordSize = 1 + 8 + 8 + 8 + 4
}

/// The Header record: which profile the file follows and which library wrote it.
public struct MCAPHeader: Sendable, Equatable {
    public var profile: String
    public var library: String
}

/// A Schema record: how to interpret the messages of the channels that refer to it.
public struct MCAPSchema: Sendable, Equatable {
    /// Non-zero identifier, unique in the file.
    public var id: UInt16
    /// The type name, e.g. `sensor_msgs/msg/JointState`.
    public var name: String
    /// `ros2msg` for ROS 2 bags.
    public var encoding: String
    /// The definition (for `ros2msg`, the concatenated `.msg` text).
    public var data: [UInt8]
    /// `data` as text.
    public var text: String { String(decoding: data, as: UTF8.self) }
}

/// A Channel record: a topic, its message encoding and its schema.
public struct MCAPChannel: Sendable, Equatable {
    public var id: UInt16
    /// 0 when the channel has no schema.
    public var schemaID: UInt16
    public var topic: String
    /// `cdr` for ROS 2 bags.
    public var messageEncoding: String
    /// Free-form key/values; rosbag2 stores `offered_qos_profiles` here.
    public var metadata: [String: String]
}

/// A Message record.
public struct MCAPMessage: Sendable, Equatable {
    public var channelID: UInt16
    /// A per-channel counter assigned by the publisher or recorder.
    public var sequence: UInt32
    /// When the message was recorded, nanoseconds since the epoch.
    public var logTime: UInt64
    /// When it was published, nanoseconds since the epoch.
    public var publishTime: UInt64
    /// The serialized message (for ROS 2: CDR with its encapsulation header).
    public var data: [UInt8]
}

/// The Statistics record of the summary section.
public struct MCAPStatistics: Sendable, Equatable {
    public var messageCount: UInt64 = 0
    public var schemaCount: UInt16 = 0
    public var channelCount: UInt32 = 0
    public var attachmentCount: UInt32 = 0
    public var metadataCount: UInt32 = 0
    public var chunkCount: UInt32 = 0
    /// Earliest message log time (0 when there are no messages).
    public var messageStartTime: UInt64 = 0
    /// Latest message log time (0 when there are no messages).
    public var messageEndTime: UInt64 = 0
    /// Messages per channel id.
    public var channelMessageCounts: [UInt16: UInt64] = [:]
}

/// A Chunk Index record of the summary section: where a chunk is and what it holds.
public struct MCAPChunkIndex: Sendable, Equatable {
    public var messageStartTime: UInt64
    public var messageEndTime: UInt64
    /// Offset of the Chunk record from the start of the file.
    public var chunkStartOffset: UInt64
    /// Length of the Chunk record, opcode and length included.
    public var chunkLength: UInt64
    /// Offset of each channel's Message Index record after the chunk.
    public var messageIndexOffsets: [UInt16: UInt64]
    /// Total length of the Message Index records after the chunk.
    public var messageIndexLength: UInt64
    public var compression: String
    public var compressedSize: UInt64
    public var uncompressedSize: UInt64
}

// MARK: - Serialization

/// Builds record bytes: little-endian integers, length-prefixed strings, whole records.
struct RecordBuilder {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func string(_ s: String) {
        u32(UInt32(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }
    /// A map<string, string>, keys sorted so that the output is deterministic.
    mutating func stringMap(_ map: [String: String]) {
        var body = RecordBuilder()
        for key in map.keys.sorted() {
            body.string(key)
            body.string(map[key]!)
        }
        u32(UInt32(body.bytes.count))
        bytes.append(contentsOf: body.bytes)
    }

    /// Appends a whole record: opcode, body length, body.
    mutating func record(_ opcode: MCAP.Opcode, _ body: (inout RecordBuilder) -> Void) {
        u8(opcode.rawValue)
        let lengthAt = bytes.count
        u64(0)
        body(&self)
        let length = UInt64(bytes.count - lengthAt - 8)
        withUnsafeBytes(of: length.littleEndian) { raw in
            for k in 0..<8 { bytes[lengthAt + k] = raw[k] }
        }
    }

    mutating func header(_ h: MCAPHeader) {
        record(.header) { $0.string(h.profile); $0.string(h.library) }
    }
    mutating func schema(_ s: MCAPSchema) {
        record(.schema) {
            $0.u16(s.id)
            $0.string(s.name)
            $0.string(s.encoding)
            $0.u32(UInt32(s.data.count))
            $0.bytes.append(contentsOf: s.data)
        }
    }
    mutating func channel(_ c: MCAPChannel) {
        record(.channel) {
            $0.u16(c.id)
            $0.u16(c.schemaID)
            $0.string(c.topic)
            $0.string(c.messageEncoding)
            $0.stringMap(c.metadata)
        }
    }
    mutating func message(_ m: MCAPMessage) {
        record(.message) {
            $0.u16(m.channelID)
            $0.u32(m.sequence)
            $0.u64(m.logTime)
            $0.u64(m.publishTime)
            $0.bytes.append(contentsOf: m.data)
        }
    }
    mutating func statistics(_ s: MCAPStatistics) {
        record(.statistics) {
            $0.u64(s.messageCount)
            $0.u16(s.schemaCount)
            $0.u32(s.channelCount)
            $0.u32(s.attachmentCount)
            $0.u32(s.metadataCount)
            $0.u32(s.chunkCount)
            $0.u64(s.messageStartTime)
            $0.u64(s.messageEndTime)
            let ids = s.channelMessageCounts.keys.sorted()
            $0.u32(UInt32(ids.count * 10))
            for id in ids {
                $0.u16(id)
                $0.u64(s.channelMessageCounts[id]!)
            }
        }
    }
    mutating func chunkIndex(_ c: MCAPChunkIndex) {
        record(.chunkIndex) {
            $0.u64(c.messageStartTime)
            $0.u64(c.messageEndTime)
            $0.u64(c.chunkStartOffset)
            $0.u64(c.chunkLength)
            let ids = c.messageIndexOffsets.keys.sorted()
            $0.u32(UInt32(ids.count * 10))
            for id in ids {
                $0.u16(id)
                $0.u64(c.messageIndexOffsets[id]!)
            }
            $0.u64(c.messageIndexLength)
            $0.string(c.compression)
            $0.u64(c.compressedSize)
            $0.u64(c.uncompressedSize)
        }
    }
}

/// Reads little-endian fields from a byte range, throwing (never trapping) when the range is
/// too short. Only used inside `withUnsafeBytes` scopes: it must not outlive the buffer.
struct ByteCursor {
    let buffer: UnsafeRawBufferPointer
    var offset: Int
    let end: Int
    /// What is being read, for error messages ("Channel record at offset 1234").
    let context: String

    init(_ buffer: UnsafeRawBufferPointer, from start: Int, to end: Int, context: String) {
        self.buffer = buffer
        self.offset = start
        self.end = min(end, buffer.count)
        self.context = context
    }

    var remaining: Int { end - offset }

    private func need(_ n: Int, _ what: String) throws {
        guard n >= 0, n <= remaining else {
            throw TetherError("\(context): \(what) needs \(n) byte(s) but only \(max(remaining, 0)) remain",
                              hint: "the file is truncated or corrupt")
        }
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        try need(MemoryLayout<T>.size, what)
        let value = buffer.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }
    mutating func u8(_ what: String) throws -> UInt8 { try integer(UInt8.self, what) }
    mutating func u16(_ what: String) throws -> UInt16 { try integer(UInt16.self, what) }
    mutating func u32(_ what: String) throws -> UInt32 { try integer(UInt32.self, what) }
    mutating func u64(_ what: String) throws -> UInt64 { try integer(UInt64.self, what) }

    mutating func bytes(_ count: Int, _ what: String) throws -> [UInt8] {
        try need(count, what)
        defer { offset += count }
        return [UInt8](UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count]))
    }
    mutating func string(_ what: String) throws -> String {
        let n = Int(try u32(what))
        return String(decoding: try bytes(n, what), as: UTF8.self)
    }
    mutating func stringMap(_ what: String) throws -> [String: String] {
        let length = Int(try u32(what))
        try need(length, what)
        var inner = ByteCursor(buffer, from: offset, to: offset + length, context: context)
        var map: [String: String] = [:]
        while inner.remaining > 0 {
            let key = try inner.string("\(what) key")
            map[key] = try inner.string("\(what) value")
        }
        offset += length
        return map
    }
    mutating func idMap(_ what: String) throws -> [UInt16: UInt64] {
        let length = Int(try u32(what))
        try need(length, what)
        var inner = ByteCursor(buffer, from: offset, to: offset + length, context: context)
        var map: [UInt16: UInt64] = [:]
        while inner.remaining > 0 {
            let id = try inner.u16(what)
            map[id] = try inner.u64(what)
        }
        offset += length
        return map
    }

    // Record bodies (the cursor spans exactly one record's body).

    mutating func header() throws -> MCAPHeader {
        MCAPHeader(profile: try string("profile"), library: try string("library"))
    }
    mutating func schema() throws -> MCAPSchema {
        let id = try u16("schema id")
        let name = try string("schema name")
        let encoding = try string("schema encoding")
        let n = Int(try u32("schema data length"))
        return MCAPSchema(id: id, name: name, encoding: encoding, data: try bytes(n, "schema data"))
    }
    mutating func channel() throws -> MCAPChannel {
        MCAPChannel(id: try u16("channel id"), schemaID: try u16("schema id"), topic: try string("topic"),
                    messageEncoding: try string("message encoding"), metadata: try stringMap("channel metadata"))
    }
    /// A Message record's fields; the payload is the rest of the body.
    mutating func message() throws -> MCAPMessage {
        MCAPMessage(channelID: try u16("channel id"), sequence: try u32("sequence"), logTime: try u64("log time"),
                    publishTime: try u64("publish time"), data: try bytes(remaining, "message data"))
    }
    mutating func statistics() throws -> MCAPStatistics {
        MCAPStatistics(messageCount: try u64("message count"), schemaCount: try u16("schema count"),
                       channelCount: try u32("channel count"), attachmentCount: try u32("attachment count"),
                       metadataCount: try u32("metadata count"), chunkCount: try u32("chunk count"),
                       messageStartTime: try u64("start time"), messageEndTime: try u64("end time"),
                       channelMessageCounts: try idMap("channel message counts"))
    }
    mutating func chunkIndex() throws -> MCAPChunkIndex {
        MCAPChunkIndex(messageStartTime: try u64("start time"), messageEndTime: try u64("end time"),
                       chunkStartOffset: try u64("chunk offset"), chunkLength: try u64("chunk length"),
                       messageIndexOffsets: try idMap("message index offsets"),
                       messageIndexLength: try u64("message index length"), compression: try string("compression"),
                       compressedSize: try u64("compressed size"), uncompressedSize: try u64("uncompressed size"))
    }
}

/// The name of an opcode for messages ("Chunk", "opcode 0x42").
func recordName(_ opcode: UInt8) -> String {
    guard let known = MCAP.Opcode(rawValue: opcode) else { return "record with opcode \(opcode)" }
    switch known {
    case .header: return "Header"
    case .footer: return "Footer"
    case .schema: return "Schema"
    case .channel: return "Channel"
    case .message: return "Message"
    case .chunk: return "Chunk"
    case .messageIndex: return "Message Index"
    case .chunkIndex: return "Chunk Index"
    case .attachment: return "Attachment"
    case .attachmentIndex: return "Attachment Index"
    case .statistics: return "Statistics"
    case .metadata: return "Metadata"
    case .metadataIndex: return "Metadata Index"
    case .summaryOffset: return "Summary Offset"
    case .dataEnd: return "Data End"
    }
}
