import Foundation
import TetherCore

/// Reads an MCAP file, cleanly closed or cut short (a recorder that crashed, a copy that stopped).
///
/// Opening scans the data section from the start, record by record, and stops at the Data End
/// record or at the first record that does not fit in the file; chunks are CRC-checked and their
/// schemas, channels and message counts noted. When the file ends with a valid footer, the summary
/// section (statistics, chunk indexes) is read too. Message payloads are only copied out when
/// asked for. Chunks are read when uncompressed; compressed chunks (zstd, lz4) are reported.
public struct MCAPReader: Sendable {
    /// Where a chunk is and whether it can be read.
    struct ChunkLocation: Sendable {
        enum State: Sendable, Equatable {
            case ok
            case compressed(String)
            case corrupt(String)
        }
        var recordOffset: Int
        var recordLength: Int
        var messageStartTime: UInt64
        var messageEndTime: UInt64
        /// The records inside the chunk (valid when `state == .ok`).
        var records: Range<Int>
        var state: State
        var messageCount: Int
    }

    /// What the data section holds, in file order.
    enum Item: Sendable {
        case chunk(Int)
        /// A Message record outside chunks: its body.
        case message(Range<Int>)
    }

    /// The file read, when read from a path.
    public let path: String?
    private let data: Data
    /// The Header record.
    public let header: MCAPHeader
    /// Schemas by id, from the data section (and the summary).
    public let schemas: [UInt16: MCAPSchema]
    /// Channels by id, from the data section (and the summary).
    public let channels: [UInt16: MCAPChannel]
    /// The Statistics record of the summary section, when the file has one.
    public let summaryStatistics: MCAPStatistics?
    /// The Chunk Index records of the summary section.
    public let summaryChunkIndexes: [MCAPChunkIndex]
    /// Whether the file ends properly: Data End, a footer whose summary CRC checks, the magic.
    public let isCleanlyClosed: Bool
    /// Whatever was wrong or unreadable, one sentence each (empty for a healthy file).
    public let problems: [String]
    /// Bytes after the last complete record of the data section, when the file was cut short.
    public let truncatedBytes: Int

    let chunks: [ChunkLocation]
    let items: [Item]
    /// Messages per channel in the readable part of the data section.
    let messageCounts: [UInt16: UInt64]
    let timeRange: ClosedRange<UInt64>?
    /// End of the last complete data-section record.
    let dataEnd: Int

    /// Reads the file at `path`.
    public init(path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw TetherError("cannot read the file: \(error.localizedDescription)", at: path)
        }
        try self.init(data: data, path: path)
    }

    /// Reads an MCAP file held in memory.
    public init(data: Data, path: String? = nil) throws {
        self.path = path
        self.data = data
        let scan = try data.withUnsafeBytes { try Scan(buffer: $0, where: path ?? "MCAP data") }
        header = scan.header
        schemas = scan.schemas
        channels = scan.channels
        summaryStatistics = scan.statistics
        summaryChunkIndexes = scan.chunkIndexes
        isCleanlyClosed = scan.cleanlyClosed
        problems = scan.problems
        truncatedBytes = scan.truncatedBytes
        chunks = scan.chunks
        items = scan.items
        messageCounts = scan.messageCounts
        timeRange = scan.timeRange
        dataEnd = scan.dataEnd
    }

    private var location: String { path ?? "MCAP data" }

    // MARK: messages

    /// Calls `body` with every message in file order (chunk by chunk, record by record).
    ///
    /// Throws on a chunk that cannot be read (compressed, or failing its CRC) unless
    /// `skippingUnreadableChunks`; a truncated tail is not an error: reading stops before it.
    public func forEachMessage(skippingUnreadableChunks: Bool = false, _ body: (MCAPMessage) throws -> Void) throws {
        try forEachItem { item in
            switch item {
            case .readableChunk(let messages): for m in messages { try body(m) }
            case .message(let m): try body(m)
            case .unreadableChunk(let chunk, let reason):
                if !skippingUnreadableChunks {
                    throw TetherError("chunk at offset \(chunk.recordOffset) cannot be read: \(reason)", at: location,
                                      hint: reason.contains("compress")
                                        ? "decompress the file first (e.g. `mcap decompress in.mcap -o out.mcap`)"
                                        : "recover what is readable with MCAPReader.recover(from:to:)")
                }
            }
        }
    }

    enum ReadItem {
        case readableChunk([MCAPMessage])
        case unreadableChunk(ChunkLocation, String)
        case message(MCAPMessage)
    }

    /// Walks the data section's chunks and top-level messages, decoding messages from readable chunks.
    func forEachItem(_ body: (ReadItem) throws -> Void) throws {
        for item in items {
            switch item {
            case .chunk(let index):
                let chunk = chunks[index]
                switch chunk.state {
                case .compressed(let compression):
                    try body(.unreadableChunk(chunk, "it is compressed with \(compression), and Tether reads uncompressed chunks only"))
                case .corrupt(let reason):
                    try body(.unreadableChunk(chunk, reason))
                case .ok:
                    let messages = try data.withUnsafeBytes { buffer -> [MCAPMessage] in
                        var result: [MCAPMessage] = []
                        result.reserveCapacity(chunk.messageCount)
                        var cursor = chunk.records.lowerBound
                        while cursor < chunk.records.upperBound {
                            let opcode = buffer[cursor]
                            let length = Int(buffer.loadUnaligned(fromByteOffset: cursor + 1, as: UInt64.self).littleEndian)
                            let bodyStart = cursor + 9
                            if opcode == MCAP.Opcode.message.rawValue {
                                var c = ByteCursor(buffer, from: bodyStart, to: bodyStart + length,
                                                   context: "Message record at offset \(cursor) of the chunk at \(chunk.recordOffset)")
                                result.append(try c.message())
                            }
                            cursor = bodyStart + length
                        }
                        return result
                    }
                    try body(.readableChunk(messages))
                }
            case .message(let range):
                let message = try data.withUnsafeBytes { buffer -> MCAPMessage in
                    var c = ByteCursor(buffer, from: range.lowerBound, to: range.upperBound, context: "Message record at offset \(range.lowerBound - 9)")
                    return try c.message()
                }
                try body(.message(message))
            }
        }
    }

    /// Every message, in file order, optionally only those on `topic`.
    public func messages(topic: String? = nil, skippingUnreadableChunks: Bool = false) throws -> [MCAPMessage] {
        let wanted: Set<UInt16>? = topic.map { t in Set(channels.values.filter { $0.topic == t }.map(\.id)) }
        var result: [MCAPMessage] = []
        try forEachMessage(skippingUnreadableChunks: skippingUnreadableChunks) { m in
            if wanted?.contains(m.channelID) ?? true { result.append(m) }
        }
        return result
    }

    /// The messages on `topic` decoded as `M`, with their log times, in file order.
    public func messages<M: ROSMessage>(_ type: M.Type, topic: String) throws -> [(logTime: UInt64, message: M)] {
        let matching = channels.values.filter { $0.topic == topic }
        guard !matching.isEmpty else {
            let known = Set(channels.values.map(\.topic)).sorted().joined(separator: ", ")
            throw TetherError("no topic \(topic) in the recording", at: location, hint: "topics: \(known.isEmpty ? "none" : known)")
        }
        for channel in matching {
            if let schema = schemas[channel.schemaID], schema.name != M.typeName, schema.name != M.shortTypeName {
                throw TetherError("topic \(topic) carries \(schema.name), not \(M.typeName)", at: location)
            }
            guard channel.messageEncoding == MCAP.cdrEncoding else {
                throw TetherError("topic \(topic) is encoded as \(channel.messageEncoding), not cdr", at: location)
            }
        }
        return try messages(topic: topic).map { m in
            do {
                return (m.logTime, try M(cdrBytes: m.data))
            } catch let error as TetherError {
                throw TetherError("cannot decode the \(M.typeName) message on \(topic) logged at \(m.logTime) ns: \(error.what)",
                                  at: location, hint: error.hint)
            }
        }
    }

    // MARK: info

    /// A summary of the recording: topics with message counts, time range, whether it was closed.
    public var info: MCAPInfo {
        // Compressed chunks cannot be counted here; a summary written at close can say.
        let anyCompressed = chunks.contains { if case .compressed = $0.state { return true } else { return false } }
        let counts: [UInt16: UInt64]
        let range: ClosedRange<UInt64>?
        if anyCompressed, let stats = summaryStatistics {
            counts = stats.channelMessageCounts
            range = stats.messageCount > 0 ? stats.messageStartTime...stats.messageEndTime : nil
        } else {
            counts = messageCounts
            range = timeRange
        }
        let topics = channels.values.sorted { $0.id < $1.id }.map { c in
            MCAPInfo.Topic(channelID: c.id, topic: c.topic, schemaName: schemas[c.schemaID]?.name ?? "",
                           messageEncoding: c.messageEncoding, messageCount: counts[c.id] ?? 0)
        }
        return MCAPInfo(
            path: path, profile: header.profile, library: header.library, isCleanlyClosed: isCleanlyClosed,
            fileSize: data.count, messageCount: counts.values.reduce(0, +), startTime: range?.lowerBound, endTime: range?.upperBound,
            chunkCount: chunks.count, unreadableChunkCount: chunks.filter { $0.state != .ok }.count,
            truncatedBytes: truncatedBytes, topics: topics, problems: problems)
    }

    // MARK: recovery

    /// Rewrites what is readable in `source` (every complete, intact chunk and message, with
    /// the schemas and channels they need) into a cleanly closed file at `destination`.
    ///
    /// A recorder that died leaves its last chunk incomplete and no summary or footer; the
    /// complete chunks before it are intact (each was written whole and carries a CRC), so the
    /// recovered file holds everything up to the last complete chunk. Chunk boundaries are kept.
    @discardableResult
    public static func recover(from source: String, to destination: String) throws -> MCAPRecovery {
        let a = URL(fileURLWithPath: source).standardizedFileURL.path
        let b = URL(fileURLWithPath: destination).standardizedFileURL.path
        guard a != b else {
            throw TetherError("recovery writes a new file; the destination is the source", at: source,
                              hint: "choose another destination, e.g. \(source).recovered.mcap")
        }
        let reader = try MCAPReader(path: source)
        var report = MCAPRecovery(sourceWasCleanlyClosed: reader.isCleanlyClosed, bytesDiscarded: reader.truncatedBytes)
        let writer = try MCAPWriter(path: destination, options: .init(profile: reader.header.profile, library: reader.header.library))
        for schema in reader.schemas.values.sorted(by: { $0.id < $1.id }) where schema.id != 0 {
            try writer.addSchema(schema)
        }
        // A channel whose schema was lost cannot be decoded; it and its messages are dropped.
        var kept = Set<UInt16>()
        for channel in reader.channels.values.sorted(by: { $0.id < $1.id })
        where channel.schemaID == 0 || reader.schemas[channel.schemaID] != nil {
            try writer.addChannel(channel)
            kept.insert(channel.id)
        }
        func keep(_ m: MCAPMessage) throws {
            if kept.contains(m.channelID) {
                try writer.add(m)
                report.messagesRecovered += 1
            } else {
                report.messagesDropped += 1
            }
        }
        try reader.forEachItem { item in
            switch item {
            case .readableChunk(let messages):
                for m in messages { try keep(m) }
                try writer.flush()
                report.chunksRecovered += 1
            case .unreadableChunk:
                report.chunksDropped += 1
            case .message(let m):
                try keep(m)
            }
        }
        try writer.close()
        return report
    }
}

extension MCAPReader {
    /// Merges what is readable in several recordings of one run (a crashed flight recorder's
    /// output and its spool segments) into one cleanly closed file at `destination`, in log-time
    /// order.
    ///
    /// Each source contributes its complete, intact chunks (as `recover(from:to:)` would);
    /// channels are matched by topic (one topic must carry one type in every source), and a
    /// message found in several sources (same topic, log time and bytes) is written once.
    /// Sequence numbers are counted anew per channel. A source that cannot be read at all is
    /// skipped and named in the result; when none can be read, this throws. Sources are never
    /// modified.
    @discardableResult
    public static func recover(merging sources: [String], to destination: String) throws -> MCAPRecovery {
        guard let first = sources.first else {
            throw TetherError("nothing to recover: no source recording was given", at: destination)
        }
        let target = URL(fileURLWithPath: destination).standardizedFileURL.path
        for source in sources where URL(fileURLWithPath: source).standardizedFileURL.path == target {
            throw TetherError("recovery writes a new file; the destination is one of the sources", at: source,
                              hint: "choose another destination, e.g. \(first).recovered.mcap")
        }
        var readers: [MCAPReader] = []
        var report = MCAPRecovery(sourceWasCleanlyClosed: true, bytesDiscarded: 0)
        for source in sources {
            do {
                readers.append(try MCAPReader(path: source))
            } catch let error as TetherError {
                report.unreadableSources.append("\(source): \(error.what)")
            }
        }
        guard !readers.isEmpty else {
            throw TetherError("none of the recordings can be read: \(report.unreadableSources.joined(separator: "; "))", at: first,
                              hint: "a file cut before its first complete chunk holds nothing to recover")
        }
        let head = readers[0].header
        let writer = try MCAPWriter(path: destination, options: .init(profile: head.profile, library: head.library))
        /// (source index, source channel id) → channel id in the output.
        var channelMap: [Int: [UInt16: UInt16]] = [:]
        var typeByTopic: [String: (schema: String, encoding: String, source: String)] = [:]
        var idByTopic: [String: UInt16] = [:]
        for (i, reader) in readers.enumerated() {
            report.sourceWasCleanlyClosed = report.sourceWasCleanlyClosed && reader.isCleanlyClosed
            report.bytesDiscarded += reader.truncatedBytes
            for channel in reader.channels.values.sorted(by: { $0.id < $1.id }) {
                let schema = channel.schemaID == 0 ? nil : reader.schemas[channel.schemaID]
                // A channel whose schema was lost cannot be decoded; its messages are dropped.
                if channel.schemaID != 0 && schema == nil { continue }
                let name = schema?.name ?? ""
                let source = reader.path ?? "source \(i + 1)"
                if let known = typeByTopic[channel.topic] {
                    guard known.schema == name, known.encoding == channel.messageEncoding else {
                        throw TetherError("topic \(channel.topic) carries \(known.schema) [\(known.encoding)] in \(known.source) but \(name) "
                            + "[\(channel.messageEncoding)] here: these are not parts of one recording",
                                          at: source, hint: "recover each file on its own with `tether log recover FILE OUT.mcap`")
                    }
                    channelMap[i, default: [:]][channel.id] = idByTopic[channel.topic]
                    continue
                }
                let schemaID = try schema.map { try writer.addSchema(name: $0.name, encoding: $0.encoding, data: $0.data) } ?? 0
                let id = try writer.addChannel(topic: channel.topic, schemaID: schemaID, messageEncoding: channel.messageEncoding,
                                               metadata: channel.metadata)
                typeByTopic[channel.topic] = (name, channel.messageEncoding, source)
                idByTopic[channel.topic] = id
                channelMap[i, default: [:]][channel.id] = id
            }
        }
        struct Key: Hashable { var channel: UInt16; var logTime: UInt64; var data: [UInt8] }
        var seen = Set<Key>()
        var merged: [(message: MCAPMessage, source: Int, order: Int)] = []
        for (i, reader) in readers.enumerated() {
            let map = channelMap[i] ?? [:]
            func keep(_ m: MCAPMessage) {
                guard let id = map[m.channelID] else {
                    report.messagesDropped += 1
                    return
                }
                var out = m
                out.channelID = id
                guard seen.insert(Key(channel: id, logTime: m.logTime, data: m.data)).inserted else {
                    report.duplicatesSkipped += 1
                    return
                }
                merged.append((out, i, merged.count))
            }
            try reader.forEachItem { item in
                switch item {
                case .readableChunk(let messages):
                    messages.forEach(keep)
                    report.chunksRecovered += 1
                case .unreadableChunk:
                    report.chunksDropped += 1
                case .message(let m):
                    keep(m)
                }
            }
        }
        merged.sort { ($0.message.logTime, $0.source, $0.order) < ($1.message.logTime, $1.source, $1.order) }
        for entry in merged {
            let m = entry.message
            try writer.write(channel: m.channelID, logTime: m.logTime, publishTime: m.publishTime, data: m.data)
            report.messagesRecovered += 1
        }
        try writer.close()
        return report
    }
}

/// What `MCAPReader.recover(from:to:)` did.
public struct MCAPRecovery: Sendable, Equatable, CustomStringConvertible {
    /// Whether the source needed no recovery.
    public var sourceWasCleanlyClosed: Bool
    /// Bytes at the end of the source that held no complete record (the lost tail).
    public var bytesDiscarded: Int
    public var messagesRecovered: UInt64 = 0
    public var chunksRecovered: Int = 0
    /// Chunks that could not be read (corrupt or compressed).
    public var chunksDropped: Int = 0
    /// Messages on channels whose definitions were lost.
    public var messagesDropped: UInt64 = 0
    /// When merging several sources: messages found in more than one, written once.
    public var duplicatesSkipped: UInt64 = 0
    /// When merging several sources: those that could not be read at all, each with why.
    public var unreadableSources: [String] = []

    public var description: String {
        var text = "recovered \(messagesRecovered) message(s) in \(chunksRecovered) chunk(s)"
        if bytesDiscarded > 0 { text += "; discarded an incomplete tail of \(bytesDiscarded) byte(s)" }
        if chunksDropped > 0 { text += "; dropped \(chunksDropped) unreadable chunk(s)" }
        if messagesDropped > 0 { text += "; dropped \(messagesDropped) message(s) whose channel was lost" }
        if duplicatesSkipped > 0 { text += "; \(duplicatesSkipped) message(s) found in several sources written once" }
        for u in unreadableSources { text += "; skipped unreadable \(u)" }
        if sourceWasCleanlyClosed { text += " (the source was already cleanly closed)" }
        return text
    }
}

/// The overview of a recording that `MCAPReader.info` gives.
public struct MCAPInfo: Sendable, Equatable, CustomStringConvertible {
    /// One channel of the recording.
    public struct Topic: Sendable, Equatable {
        public var channelID: UInt16
        public var topic: String
        /// The message type (schema name), or "" without a schema.
        public var schemaName: String
        public var messageEncoding: String
        public var messageCount: UInt64
    }

    public var path: String?
    public var profile: String
    public var library: String
    /// False for a recording that was cut short (no footer) or whose end is damaged.
    public var isCleanlyClosed: Bool
    public var fileSize: Int
    public var messageCount: UInt64
    /// First and last message log times, nanoseconds since the epoch.
    public var startTime: UInt64?
    public var endTime: UInt64?
    public var chunkCount: Int
    /// Chunks that could not be read (compressed, or failing their CRC).
    public var unreadableChunkCount: Int
    /// Bytes after the last complete record, lost when the file was cut short.
    public var truncatedBytes: Int
    /// Channels in id order.
    public var topics: [Topic]
    public var problems: [String]

    /// Messages recorded on `topic` (0 when absent).
    public func messageCount(topic: String) -> UInt64 {
        topics.filter { $0.topic == topic }.reduce(0) { $0 + $1.messageCount }
    }

    /// Duration between the first and last message, seconds.
    public var durationSeconds: Double {
        guard let startTime, let endTime else { return 0 }
        return Double(endTime - startTime) / 1e9
    }

    public var description: String {
        var lines: [String] = []
        if let path { lines.append("file:     \(path) (\(fileSize) bytes)") }
        lines.append("library:  \(library)   profile: \(profile)")
        lines.append("state:    "
            + "\(isCleanlyClosed ? "cleanly closed" : "not cleanly closed (truncated or unfinished; recoverable up to its last complete chunk)")")
        lines.append("messages: \(messageCount) in \(chunkCount) chunk(s)" + (unreadableChunkCount > 0 ? ", \(unreadableChunkCount) unreadable" : ""))
        if let startTime, let endTime {
            lines.append("time:     \(startTime) – \(endTime) ns (\(String(format: "%.3f", durationSeconds)) s)")
        }
        let width = topics.map(\.topic.count).max() ?? 0
        for t in topics {
            lines.append("  \(t.topic.padding(toLength: width, withPad: " ", startingAt: 0))  \(t.messageCount) msgs  \(t.schemaName) [\(t.messageEncoding)]")
        }
        for p in problems { lines.append("problem:  \(p)") }
        return lines.joined(separator: "\n")
    }
}

// MARK: - The scan

/// One pass over the file: the data section up to Data End (or the first incomplete record),
/// then the summary section when the footer is intact.
private struct Scan {
    var header = MCAPHeader(profile: "", library: "")
    var schemas: [UInt16: MCAPSchema] = [:]
    var channels: [UInt16: MCAPChannel] = [:]
    var statistics: MCAPStatistics?
    var chunkIndexes: [MCAPChunkIndex] = []
    var cleanlyClosed = false
    var problems: [String] = []
    var truncatedBytes = 0
    var chunks: [MCAPReader.ChunkLocation] = []
    var items: [MCAPReader.Item] = []
    var messageCounts: [UInt16: UInt64] = [:]
    var timeRange: ClosedRange<UInt64>?
    var dataEnd = 0

    init(buffer: UnsafeRawBufferPointer, where location: String) throws {
        let count = buffer.count
        try Self.checkMagic(buffer, location)

        var pos = MCAP.magic.count
        var sawDataEnd = false
        var sawFooterInData = false
        var dataSectionCRC: UInt32?
        var first = true
        var dataEndRecordStart = 0
        while true {
            if count - pos < 9 {
                if pos < count { problems.append("the file ends with \(count - pos) byte(s) of an incomplete record at offset \(pos)") }
                else { problems.append("the file ends without a Data End record or footer (recording not finished)") }
                break
            }
            let opcode = buffer[pos]
            let length = buffer.loadUnaligned(fromByteOffset: pos + 1, as: UInt64.self).littleEndian
            let bodyStart = pos + 9
            guard length <= UInt64(count - bodyStart) else {
                problems.append("the \(recordName(opcode)) record at offset \(pos) is incomplete: \(length) byte(s) announced, \(count - bodyStart) present "
                    + "(the file was cut short)")
                break
            }
            guard opcode != 0 else {
                problems.append("invalid record (opcode 0) at offset \(pos): the rest of the file is unreadable")
                break
            }
            let body = bodyStart..<(bodyStart + Int(length))
            if first {
                guard opcode == MCAP.Opcode.header.rawValue else {
                    throw TetherError("not a valid MCAP file: the first record is a \(recordName(opcode)), not a Header", at: location)
                }
                var c = ByteCursor(buffer, from: body.lowerBound, to: body.upperBound, context: "Header record")
                header = try c.header()
                first = false
                pos = body.upperBound
                continue
            }
            switch MCAP.Opcode(rawValue: opcode) {
            case .schema?, .channel?:
                do { try noteDefinition(opcode, buffer, body) } catch let e as TetherError {
                    problems.append("\(recordName(opcode)) record at offset \(pos) is malformed: \(e.what)")
                }
            case .message?:
                if body.count >= 22 {
                    noteMessage(buffer, body.lowerBound)
                    items.append(.message(body))
                } else {
                    problems.append("Message record at offset \(pos) is too short (\(body.count) bytes)")
                }
            case .chunk?:
                items.append(.chunk(chunks.count))
                chunks.append(readChunk(buffer, recordOffset: pos, body: body))
            case .dataEnd?:
                sawDataEnd = true
                dataEndRecordStart = pos
                if body.count >= 4 { dataSectionCRC = buffer.loadUnaligned(fromByteOffset: body.lowerBound, as: UInt32.self).littleEndian }
            case .footer?:
                sawFooterInData = true
            default:
                break // indexes, attachments, metadata and unknown records: not needed here
            }
            pos = body.upperBound
            if sawDataEnd || sawFooterInData { break }
        }
        if first {
            throw TetherError("not a valid MCAP file: it has the magic but no complete Header record", at: location,
                              hint: "the recording was cut short right after it started")
        }
        dataEnd = sawDataEnd ? dataEndRecordStart : pos
        if !sawDataEnd && !sawFooterInData { truncatedBytes = count - pos }

        if let expected = dataSectionCRC, expected != 0 {
            let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<dataEnd]))
            if actual != expected {
                problems.append("the data section fails its CRC (expected \(expected), computed \(actual))")
            }
        }
        if sawDataEnd { readSummary(buffer, location) }
    }

    static func checkMagic(_ buffer: UnsafeRawBufferPointer, _ location: String) throws {
        guard buffer.count > 0 else { throw TetherError("the file is empty, not an MCAP recording", at: location) }
        let head = Array(buffer.prefix(16))
        if head.starts(with: MCAP.magic) { return }
        if head.starts(with: Array("SQLite format 3".utf8)) {
            throw TetherError("not an MCAP file: this is a SQLite (.db3) ROS 2 bag", at: location,
                              hint: "convert it to MCAP first (`ros2 bag convert` with storage_id mcap)")
        }
        if head.starts(with: Array("#ROSBAG".utf8)) {
            throw TetherError("not an MCAP file: this is a ROS 1 bag", at: location, hint: "convert it to a ROS 2 MCAP bag first (e.g. with rosbags-convert)")
        }
        if MCAP.magic.starts(with: head) {
            throw TetherError("not a valid MCAP file: it ends inside the opening magic (\(buffer.count) byte(s))", at: location)
        }
        let shown = head.prefix(8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
        throw TetherError("not an MCAP file: it starts with \(shown), not the MCAP magic 89 4d 43 41 50 30 0d 0a", at: location,
                          hint: "Tether reads ROS 2 bags in MCAP format (.mcap)")
    }

    mutating func noteDefinition(_ opcode: UInt8, _ buffer: UnsafeRawBufferPointer, _ body: Range<Int>) throws {
        var c = ByteCursor(buffer, from: body.lowerBound, to: body.upperBound, context: recordName(opcode))
        if opcode == MCAP.Opcode.schema.rawValue {
            let s = try c.schema()
            schemas[s.id] = s
        } else {
            let ch = try c.channel()
            channels[ch.id] = ch
        }
    }

    mutating func noteMessage(_ buffer: UnsafeRawBufferPointer, _ bodyStart: Int) {
        let channel = buffer.loadUnaligned(fromByteOffset: bodyStart, as: UInt16.self).littleEndian
        let time = buffer.loadUnaligned(fromByteOffset: bodyStart + 6, as: UInt64.self).littleEndian
        messageCounts[channel, default: 0] += 1
        timeRange = timeRange.map { min($0.lowerBound, time)...max($0.upperBound, time) } ?? time...time
    }

    /// Checks a chunk (header, CRC, inner records) and notes what it holds.
    mutating func readChunk(_ buffer: UnsafeRawBufferPointer, recordOffset: Int, body: Range<Int>) -> MCAPReader.ChunkLocation {
        var location = MCAPReader.ChunkLocation(recordOffset: recordOffset, recordLength: body.upperBound - recordOffset,
                                                messageStartTime: 0, messageEndTime: 0, records: body.upperBound..<body.upperBound,
                                                state: .ok, messageCount: 0)
        func fail(_ reason: String) -> MCAPReader.ChunkLocation {
            location.state = .corrupt(reason)
            problems.append("chunk at offset \(recordOffset): \(reason)")
            return location
        }
        var c = ByteCursor(buffer, from: body.lowerBound, to: body.upperBound, context: "Chunk record at offset \(recordOffset)")
        let uncompressedSize: UInt64, crc: UInt32, compression: String, recordsLength: UInt64
        do {
            location.messageStartTime = try c.u64("start time")
            location.messageEndTime = try c.u64("end time")
            uncompressedSize = try c.u64("uncompressed size")
            crc = try c.u32("uncompressed CRC")
            compression = try c.string("compression")
            recordsLength = try c.u64("records length")
        } catch let e as TetherError {
            return fail(e.what)
        } catch {
            return fail("\(error)")
        }
        guard recordsLength <= UInt64(c.remaining) else {
            return fail("its records announce \(recordsLength) byte(s) but the record holds \(c.remaining)")
        }
        let records = c.offset..<(c.offset + Int(recordsLength))
        location.records = records
        guard compression.isEmpty else {
            location.state = .compressed(compression)
            problems.append("chunk at offset \(recordOffset) is compressed with \(compression); Tether reads uncompressed chunks only")
            return location
        }
        guard uncompressedSize == recordsLength else {
            return fail("uncompressed size \(uncompressedSize) differs from its \(recordsLength) byte(s) of records")
        }
        if crc != 0 {
            let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: buffer[records]))
            guard actual == crc else { return fail("CRC mismatch (stored \(crc), computed \(actual)): the chunk is damaged") }
        }
        // Walk the records first; note them only when the whole chunk is well formed.
        var inner: [(UInt8, Range<Int>)] = []
        var p = records.lowerBound
        while p < records.upperBound {
            guard records.upperBound - p >= 9 else { return fail("a record header is cut at offset \(p)") }
            let opcode = buffer[p]
            let length = buffer.loadUnaligned(fromByteOffset: p + 1, as: UInt64.self).littleEndian
            guard length <= UInt64(records.upperBound - p - 9) else { return fail("the \(recordName(opcode)) record at offset \(p) overruns the chunk") }
            let r = (p + 9)..<(p + 9 + Int(length))
            if opcode == MCAP.Opcode.message.rawValue && r.count < 22 { return fail("a Message record at offset \(p) is too short") }
            inner.append((opcode, r))
            p = r.upperBound
        }
        var scratch = self
        for (opcode, r) in inner {
            switch MCAP.Opcode(rawValue: opcode) {
            case .schema?, .channel?:
                do { try scratch.noteDefinition(opcode, buffer, r) } catch let e as TetherError {
                    return fail("malformed \(recordName(opcode)) record inside: \(e.what)")
                } catch { return fail("\(error)") }
            case .message?:
                scratch.noteMessage(buffer, r.lowerBound)
                location.messageCount += 1
            default:
                break
            }
        }
        self = scratch
        return location
    }

    /// Reads the footer and, when it checks, the summary section.
    mutating func readSummary(_ buffer: UnsafeRawBufferPointer, _ location: String) {
        let count = buffer.count
        let footerAt = count - MCAP.magic.count - MCAP.footerRecordSize
        guard footerAt >= MCAP.magic.count, Array(buffer[(count - 8)...]) == MCAP.magic else {
            problems.append("the file does not end with the MCAP magic (the footer is missing or cut)")
            return
        }
        guard buffer[footerAt] == MCAP.Opcode.footer.rawValue,
              buffer.loadUnaligned(fromByteOffset: footerAt + 1, as: UInt64.self).littleEndian == 20 else {
            problems.append("no valid Footer record before the closing magic")
            return
        }
        let summaryStart = Int(clamping: buffer.loadUnaligned(fromByteOffset: footerAt + 9, as: UInt64.self).littleEndian)
        let storedCRC = buffer.loadUnaligned(fromByteOffset: footerAt + 25, as: UInt32.self).littleEndian
        guard summaryStart == 0 || (summaryStart >= dataEnd && summaryStart <= footerAt) else {
            problems.append("the footer points at a summary outside the file (offset \(summaryStart))")
            return
        }
        if storedCRC != 0 {
            let from = summaryStart == 0 ? footerAt : summaryStart
            let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: buffer[from..<(footerAt + 25)]))
            guard actual == storedCRC else {
                problems.append("the summary section fails its CRC (stored \(storedCRC), computed \(actual))")
                return
            }
        }
        if summaryStart != 0 {
            var p = summaryStart
            while p + 9 <= footerAt {
                let opcode = buffer[p]
                let length = buffer.loadUnaligned(fromByteOffset: p + 1, as: UInt64.self).littleEndian
                guard length <= UInt64(footerAt - p - 9) else {
                    problems.append("the summary's \(recordName(opcode)) record at offset \(p) overruns the footer")
                    return
                }
                let body = (p + 9)..<(p + 9 + Int(length))
                var c = ByteCursor(buffer, from: body.lowerBound, to: body.upperBound, context: "summary \(recordName(opcode)) record at offset \(p)")
                do {
                    switch MCAP.Opcode(rawValue: opcode) {
                    case .statistics?: statistics = try c.statistics()
                    case .chunkIndex?: chunkIndexes.append(try c.chunkIndex())
                    case .schema?:
                        let s = try c.schema()
                        if schemas[s.id] == nil { schemas[s.id] = s }
                    case .channel?:
                        let ch = try c.channel()
                        if channels[ch.id] == nil { channels[ch.id] = ch }
                    default: break
                    }
                } catch let e as TetherError {
                    problems.append(e.description)
                    return
                } catch {
                    problems.append("\(error)")
                    return
                }
                p = body.upperBound
            }
        }
        cleanlyClosed = true
    }
}
