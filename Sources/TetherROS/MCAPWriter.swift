import Foundation
import TetherCore

/// Writes a ROS 2 bag as an MCAP file: schemas, channels, and CDR messages in uncompressed,
/// CRC-checked chunks, each followed by its message indexes; `close()` adds the summary
/// (schemas, channels, statistics, chunk indexes, summary offsets) and the footer.
///
/// Crash safety: schemas and channels go to the file as soon as they are added, and messages
/// are buffered in memory until their chunk is full (or `flush()` is called), then the whole
/// chunk and its indexes are written in one call. A process that dies mid-recording therefore
/// leaves a file that is valid up to its last complete chunk, and loses only the chunk in
/// progress; `MCAPReader.recover(from:to:)` turns such a file into a cleanly closed one.
///
/// Not thread-safe: one owner (an actor or a single thread) writes.
public final class MCAPWriter {
    /// How chunks are cut and what the header says.
    public struct Options: Sendable {
        /// A chunk is written once its records reach this many bytes.
        public var chunkSize: Int
        /// A chunk is also written once it spans this much log time (nanoseconds), if set.
        /// With a recorder this bounds what a crash can lose, in time rather than bytes.
        public var chunkDuration: UInt64?
        /// `fsync` after every chunk (survives power loss, not just a process crash; slower).
        public var syncToDisk: Bool
        /// The Header's profile.
        public var profile: String
        /// The Header's library.
        public var library: String

        /// Options; the defaults suit a ROS 2 bag of robot state at a few hundred hertz.
        public init(chunkSize: Int = 1 << 20, chunkDuration: UInt64? = nil, syncToDisk: Bool = false,
                    profile: String = MCAP.ros2Profile, library: String = "tether") {
            precondition(chunkSize > 0, "chunkSize must be positive")
            self.chunkSize = chunkSize
            self.chunkDuration = chunkDuration
            self.syncToDisk = syncToDisk
            self.profile = profile
            self.library = library
        }
    }

    /// The file being written.
    public let path: String
    public let options: Options

    private var file: FileHandle?
    /// Bytes written to the file so far (the offset of the next write).
    private var offset: UInt64 = 0
    /// CRC of the data section (magic included), for the Data End record.
    private var dataCRC = CRC32()
    private var failure: TetherError?

    private var schemas: [MCAPSchema] = []
    private var channels: [MCAPChannel] = []
    private var schemaIDByDefinition: [String: UInt16] = [:]
    private var channelIDByTopic: [String: UInt16] = [:]
    /// Schema name of each channel, to check typed writes.
    private var schemaNameByChannel: [UInt16: String] = [:]
    private var channelIDs: Set<UInt16> = []
    private var nextSequence: [UInt16: UInt32] = [:]

    private var statistics = MCAPStatistics()
    private var chunkIndexes: [MCAPChunkIndex] = []

    // The chunk in progress.
    private var chunk = RecordBuilder()
    private var chunkMessageCount = 0
    private var chunkStart: UInt64 = .max
    private var chunkEnd: UInt64 = 0
    /// (log time, offset in the chunk's records) of each message, per channel.
    private var chunkMessageIndex: [UInt16: [(UInt64, UInt64)]] = [:]

    /// Creates (or truncates) the file at `path` and writes the magic and the Header.
    public init(path: String, options: Options = Options()) throws {
        self.path = path
        self.options = options
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: directory) {
            throw TetherError("cannot create the recording: the folder does not exist", at: directory,
                              hint: "create the folder first or choose another path")
        }
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw TetherError("cannot create the recording file", at: path, hint: "check the path and its permissions")
        }
        file = handle
        var start = RecordBuilder()
        start.bytes = MCAP.magic
        start.header(MCAPHeader(profile: options.profile, library: options.library))
        try append(start.bytes, data: true)
    }

    deinit {
        // A writer dropped without close() still produces a complete file.
        try? close()
    }

    /// Number of messages written (including those in the chunk in progress).
    public var messageCount: UInt64 { statistics.messageCount }
    /// Whether `close()` has run.
    public var isClosed: Bool { file == nil }

    // MARK: schemas and channels

    /// Adds a schema and returns its id; the same name, encoding and data give the same id.
    @discardableResult
    public func addSchema(name: String, encoding: String = MCAP.ros2msgEncoding, data: [UInt8]) throws -> UInt16 {
        let key = "\(name)\u{0}\(encoding)\u{0}\(String(decoding: data, as: UTF8.self))"
        if let id = schemaIDByDefinition[key] { return id }
        guard schemas.count < Int(UInt16.max) else { throw TetherError("too many schemas in one MCAP file (65535 at most)", at: path) }
        let id = UInt16(schemas.count + 1)
        try addSchema(MCAPSchema(id: id, name: name, encoding: encoding, data: data))
        schemaIDByDefinition[key] = id
        return id
    }

    /// Adds a channel for `topic` and returns its id; a topic can have only one channel.
    @discardableResult
    public func addChannel(topic: String, schemaID: UInt16, messageEncoding: String = MCAP.cdrEncoding,
                           metadata: [String: String] = [:]) throws -> UInt16 {
        if channelIDByTopic[topic] != nil {
            throw TetherError("topic \(topic) already has a channel in this recording", at: path)
        }
        guard schemaID == 0 || schemas.contains(where: { $0.id == schemaID }) else {
            throw TetherError("unknown schema id \(schemaID) for topic \(topic)", at: path, hint: "add the schema first")
        }
        guard channels.count < Int(UInt16.max) else { throw TetherError("too many channels in one MCAP file (65535 at most)", at: path) }
        let id = UInt16(channels.count + 1)
        try addChannel(MCAPChannel(id: id, schemaID: schemaID, topic: topic, messageEncoding: messageEncoding, metadata: metadata))
        return id
    }

    /// Adds a ROS 2 topic of message type `type` (its schema once per type) and returns the
    /// channel id to write with; a topic already added with the same type returns its id.
    @discardableResult
    public func addTopic<M: ROSMessage>(_ topic: String, type: M.Type, metadata: [String: String] = [:]) throws -> UInt16 {
        if let id = channelIDByTopic[topic] {
            guard schemaNameByChannel[id] == M.typeName else {
                throw TetherError("topic \(topic) is already recorded as \(schemaNameByChannel[id] ?? "untyped"), not \(M.typeName)", at: path)
            }
            return id
        }
        let schema = try addSchema(name: M.typeName, encoding: MCAP.ros2msgEncoding, data: Array(M.definition.utf8))
        return try addChannel(topic: topic, schemaID: schema, messageEncoding: MCAP.cdrEncoding, metadata: metadata)
    }

    /// Writes a schema with a given id (recovery keeps the source's ids).
    func addSchema(_ schema: MCAPSchema) throws {
        try checkOpen()
        precondition(schema.id != 0, "schema id 0 means 'no schema'")
        var record = RecordBuilder()
        record.schema(schema)
        try append(record.bytes, data: true)
        schemas.append(schema)
        statistics.schemaCount += 1
    }

    /// Writes a channel with a given id (recovery keeps the source's ids).
    func addChannel(_ channel: MCAPChannel) throws {
        try checkOpen()
        var record = RecordBuilder()
        record.channel(channel)
        try append(record.bytes, data: true)
        channels.append(channel)
        channelIDByTopic[channel.topic] = channel.id
        channelIDs.insert(channel.id)
        schemaNameByChannel[channel.id] = schemas.first(where: { $0.id == channel.schemaID })?.name
        statistics.channelCount += 1
    }

    // MARK: messages

    /// Writes a serialized message on `channel`. Times are nanoseconds since the epoch;
    /// `publishTime` defaults to `logTime`, `sequence` to a per-channel count from 0.
    public func write(channel: UInt16, logTime: UInt64, publishTime: UInt64? = nil, sequence: UInt32? = nil,
                      data: [UInt8]) throws {
        try checkOpen()
        guard channelIDs.contains(channel) else {
            throw TetherError("unknown channel id \(channel)", at: path, hint: "add the topic with addTopic or addChannel first")
        }
        let seq = sequence ?? nextSequence[channel, default: 0]
        nextSequence[channel] = seq &+ 1
        let message = MCAPMessage(channelID: channel, sequence: seq, logTime: logTime, publishTime: publishTime ?? logTime, data: data)
        try add(message)
    }

    /// Serializes `message` as CDR and writes it on `channel`, which must carry its type.
    public func write<M: ROSMessage>(_ message: M, channel: UInt16, logTime: UInt64, publishTime: UInt64? = nil,
                                     sequence: UInt32? = nil) throws {
        if let name = schemaNameByChannel[channel], name != M.typeName {
            throw TetherError("channel \(channel) carries \(name), not \(M.typeName)", at: path)
        }
        try write(channel: channel, logTime: logTime, publishTime: publishTime, sequence: sequence, data: message.cdrBytes())
    }

    /// Adds a message to the chunk in progress, writing the chunk when it is full.
    func add(_ message: MCAPMessage) throws {
        let recordOffset = UInt64(chunk.bytes.count)
        chunk.message(message)
        chunkMessageIndex[message.channelID, default: []].append((message.logTime, recordOffset))
        chunkMessageCount += 1
        chunkStart = min(chunkStart, message.logTime)
        chunkEnd = max(chunkEnd, message.logTime)

        if statistics.messageCount == 0 {
            statistics.messageStartTime = message.logTime
            statistics.messageEndTime = message.logTime
        } else {
            statistics.messageStartTime = min(statistics.messageStartTime, message.logTime)
            statistics.messageEndTime = max(statistics.messageEndTime, message.logTime)
        }
        statistics.messageCount += 1
        statistics.channelMessageCounts[message.channelID, default: 0] += 1

        if chunk.bytes.count >= options.chunkSize
            || (options.chunkDuration.map { chunkEnd - chunkStart >= $0 } ?? false) {
            try writeChunk()
        }
    }

    /// Writes the chunk in progress (if it holds messages) so that it survives a crash.
    public func flush() throws {
        try checkOpen()
        try writeChunk()
    }

    /// Asks the kernel to put what was written so far on the disk (`fsync`), so that it
    /// survives a power loss, not only a process crash. The chunk in progress is not written
    /// first: call `flush()` before to include it.
    public func sync() throws {
        try checkOpen()
        guard let handle = file else { return }
        if fsync(handle.fileDescriptor) != 0 {
            let code = errno
            throw TetherError("cannot sync the recording to disk: \(String(cString: strerror(code))) (errno \(code))", at: path,
                              hint: "check the disk and its free space; what was written before is in the file")
        }
    }

    /// Writes the last chunk, the Data End record, the summary section, the footer and the
    /// closing magic, then closes the file. Calling it again does nothing.
    public func close() throws {
        guard let handle = file else { return }
        if let failure {
            file = nil
            try? handle.close()
            throw failure
        }
        try writeChunk()

        var end = RecordBuilder()
        end.record(.dataEnd) { $0.u32(dataCRC.value) }
        try append(end.bytes, data: false)

        let summaryStart = offset
        var summary = RecordBuilder()
        var groups: [(MCAP.Opcode, UInt64, UInt64)] = []
        func group(_ opcode: MCAP.Opcode, _ write: (inout RecordBuilder) -> Void) {
            let start = summary.bytes.count
            write(&summary)
            if summary.bytes.count > start {
                groups.append((opcode, summaryStart + UInt64(start), UInt64(summary.bytes.count - start)))
            }
        }
        group(.schema) { b in for s in schemas { b.schema(s) } }
        group(.channel) { b in for c in channels { b.channel(c) } }
        group(.statistics) { b in b.statistics(statistics) }
        group(.chunkIndex) { b in for c in chunkIndexes { b.chunkIndex(c) } }
        let summaryOffsetStart = summaryStart + UInt64(summary.bytes.count)
        for (opcode, start, length) in groups {
            summary.record(.summaryOffset) { $0.u8(opcode.rawValue); $0.u64(start); $0.u64(length) }
        }

        // The footer's CRC covers the summary and the footer up to (not including) the CRC.
        var footer = RecordBuilder()
        footer.u8(MCAP.Opcode.footer.rawValue)
        footer.u64(8 + 8 + 4)
        footer.u64(summaryStart)
        footer.u64(summaryOffsetStart)
        var crc = CRC32()
        crc.update(summary.bytes)
        crc.update(footer.bytes)
        footer.u32(crc.value)

        try append(summary.bytes + footer.bytes + MCAP.magic, data: false)
        do {
            if options.syncToDisk { try handle.synchronize() }
            try handle.close()
        } catch {
            file = nil
            throw TetherError("cannot close the recording: \(error.localizedDescription)", at: path)
        }
        file = nil
    }

    // MARK: internals

    private func checkOpen() throws {
        if let failure { throw failure }
        guard file != nil else { throw TetherError("the recording is already closed", at: path) }
    }

    /// Writes bytes at the end of the file; `data` adds them to the data-section CRC.
    private func append(_ bytes: [UInt8], data: Bool) throws {
        guard let handle = file else { throw TetherError("the recording is already closed", at: path) }
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            let failed = TetherError("cannot write the recording: \(error.localizedDescription)", at: path,
                                     hint: "check free disk space; the file is valid up to its last complete chunk (tether can recover it)")
            failure = failed
            throw failed
        }
        if data { dataCRC.update(bytes) }
        offset += UInt64(bytes.count)
    }

    /// Writes the chunk in progress and its message indexes in one call, and notes its index.
    private func writeChunk() throws {
        guard chunkMessageCount > 0 else { return }
        let records = chunk.bytes
        var out = RecordBuilder()
        out.bytes.reserveCapacity(records.count + 64 + chunkMessageIndex.count * 32 + chunkMessageCount * 16)
        out.record(.chunk) {
            $0.u64(chunkStart)
            $0.u64(chunkEnd)
            $0.u64(UInt64(records.count))
            $0.u32(CRC32.checksum(records))
            $0.string("")
            $0.u64(UInt64(records.count))
            $0.bytes.append(contentsOf: records)
        }
        let chunkLength = UInt64(out.bytes.count)
        var indexOffsets: [UInt16: UInt64] = [:]
        for channel in chunkMessageIndex.keys.sorted() {
            // Sorted by log time (stable, so equal times keep the order they were written in).
            let entries = chunkMessageIndex[channel]!.enumerated()
                .sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
            indexOffsets[channel] = offset + UInt64(out.bytes.count)
            out.record(.messageIndex) {
                $0.u16(channel)
                $0.u32(UInt32(entries.count * 16))
                for (time, at) in entries {
                    $0.u64(time)
                    $0.u64(at)
                }
            }
        }
        let index = MCAPChunkIndex(
            messageStartTime: chunkStart, messageEndTime: chunkEnd, chunkStartOffset: offset, chunkLength: chunkLength,
            messageIndexOffsets: indexOffsets, messageIndexLength: UInt64(out.bytes.count) - chunkLength,
            compression: "", compressedSize: UInt64(records.count), uncompressedSize: UInt64(records.count))
        try append(out.bytes, data: true)
        if options.syncToDisk, let file {
            do { try file.synchronize() } catch {
                throw TetherError("cannot sync the recording to disk: \(error.localizedDescription)", at: path)
            }
        }
        chunkIndexes.append(index)
        statistics.chunkCount += 1
        chunk = RecordBuilder()
        chunk.bytes.reserveCapacity(min(options.chunkSize + 4096, 1 << 24))
        chunkMessageCount = 0
        chunkStart = .max
        chunkEnd = 0
        chunkMessageIndex.removeAll(keepingCapacity: true)
    }
}
