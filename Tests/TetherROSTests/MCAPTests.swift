import Foundation
import Testing
import TetherCore
@testable import TetherROS

struct PeerRead: Decodable {
    struct Header: Decodable { var profile: String; var library: String }
    struct Statistics: Decodable {
        var message_count: Int
        var chunk_count: Int
        var channel_count: Int
        var schema_count: Int
        var message_start_time: UInt64
        var message_end_time: UInt64
        var per_topic: [String: Int]
    }
    var header: Header
    var messages_read: Int
    var linear_messages_read: Int
    var counts: [String: Int]
    var statistics: Statistics?
    var chunk_indexes: Int
    var message_index_entries: Int?
    var mismatches: [String]
}

struct PeerOK: Decodable { var ok: Bool }

/// One recorded message, kept for comparison.
struct Recorded {
    var topic: String
    var logTime: UInt64
    var value: JSON
}

/// A recording of a robot at work: joint states at 500 Hz, IMU at 200 Hz, commands, diagnostics
/// at 1 Hz, and safety events; `chunkSize` small so that it spans many chunks.
struct Recording {
    var path: String
    /// Every message written, in order, for comparison.
    var recorded: [Recorded] = []
    var writer: MCAPWriter

    init(chunkSize: Int = 8 * 1024, chunkDuration: UInt64? = nil) throws {
        path = temporaryPath("recording.mcap")
        writer = try MCAPWriter(path: path, options: .init(chunkSize: chunkSize, chunkDuration: chunkDuration))
    }

    /// Writes `seconds` of the robot's topics starting at `start` (nanoseconds).
    mutating func record(seconds: Double, from start: UInt64 = 1_700_000_000_000_000_000, seed: UInt64 = 1) throws {
        var v = Values(seed: seed)
        let joints = try writer.addTopic("/joint_states", type: SensorMsgs.JointState.self)
        let imu = try writer.addTopic("/imu", type: SensorMsgs.Imu.self)
        let command = try writer.addTopic("/cmd_vel", type: GeometryMsgs.Twist.self, metadata: ["offered_qos_profiles": ""])
        let diagnostics = try writer.addTopic("/diagnostics", type: DiagnosticMsgs.DiagnosticArray.self)
        let events = try writer.addTopic("/tether/safety_events", type: TetherMsgs.SafetyEvent.self)
        let enabled = try writer.addTopic("/tether/enabled", type: StdMsgs.Bool.self)
        let targets = try writer.addTopic("/tether/joint_targets", type: StdMsgs.Float64MultiArray.self)
        let names = ["FR_hip_joint", "FR_thigh_joint", "FR_calf_joint", "FL_hip_joint", "FL_thigh_joint", "FL_calf_joint"]
        let steps = Int(seconds * 500)
        for step in 0..<steps {
            let t = start + UInt64(step) * 2_000_000
            let header = StdMsgs.Header(stamp: .init(nanoseconds: Int64(t)), frameID: "base")
            let js = SensorMsgs.JointState(header: header, name: names, position: v.doubles(6), velocity: v.doubles(6), effort: v.doubles(6))
            try write(js, joints, "/joint_states", t)
            if step % 5 == 0 || step % 5 == 2 {
                var m = v.imu()
                m.header = header
                try write(m, imu, "/imu", t + 100)
            }
            if step % 25 == 0 {
                try write(v.twist(), command, "/cmd_vel", t + 200)
                try write(StdMsgs.Float64MultiArray(vector: v.doubles(12), label: "joints"), targets, "/tether/joint_targets", t + 300)
            }
            if step % 500 == 0 {
                var d = v.diagnostics()
                d.header = header
                try write(d, diagnostics, "/diagnostics", t + 400)
                try write(StdMsgs.Bool(data: step % 1000 == 0), enabled, "/tether/enabled", t + 500)
            }
            if step % 333 == 7 {
                var e = v.safetyEvent()
                e.header = header
                try write(e, events, "/tether/safety_events", t + 600)
            }
        }
    }

    mutating func write<M: ROSMessage & PeerValue>(_ message: M, _ channel: UInt16, _ topic: String, _ time: UInt64) throws {
        try writer.write(message, channel: channel, logTime: time)
        recorded.append(Recorded(topic: topic, logTime: time, value: message.peer))
    }

    /// The expectations for the peer.
    static func expectations(_ recorded: [Recorded]) -> JSON {
        .array(recorded.map { .object([("topic", .string($0.topic)), ("log_time", .int(Int($0.logTime))), ("value", $0.value)]) })
    }
}

func peerRead(_ path: String, expect: [Recorded]?) throws -> PeerRead {
    try rosPeer(.object([("op", .string("read_mcap")), ("path", .string(path)),
                         ("expect", expect.map(Recording.expectations) ?? .null)]), as: PeerRead.self)
}

func fileBytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
func writeBytes(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

@Suite("MCAP writer and reader")
struct MCAPTests {
    @Test func swiftRecordingIsReadByPythonMCAPWithEveryMessageEqual() throws {
        var recording = try Recording()
        try recording.record(seconds: 3)
        try recording.writer.close()
        let total = recording.recorded.count

        let swift = try MCAPReader(path: recording.path)
        #expect(swift.isCleanlyClosed)
        #expect(swift.problems.isEmpty, "\(swift.problems)")
        let chunkCount = swift.info.chunkCount
        #expect(chunkCount > 10, "the recording should span many chunks")

        let python = try peerRead(recording.path, expect: recording.recorded)
        #expect(python.mismatches.isEmpty, "\(python.mismatches.prefix(3))")
        #expect(python.messages_read == total)
        #expect(python.linear_messages_read == total, "the linear reader checks chunk and data-section CRCs")
        #expect(python.header.profile == "ros2" && python.header.library == "tether")
        let stats = try #require(python.statistics)
        #expect(stats.message_count == total)
        #expect(stats.chunk_count == chunkCount)
        #expect(stats.channel_count == 7 && stats.schema_count == 7)
        #expect(stats.message_start_time == recording.recorded.map(\.logTime).min())
        #expect(stats.message_end_time == recording.recorded.map(\.logTime).max())
        #expect(python.chunk_indexes == chunkCount)
        #expect((python.message_index_entries ?? 0) >= chunkCount)
        for topic in Set(recording.recorded.map(\.topic)) {
            let n = recording.recorded.filter { $0.topic == topic }.count
            #expect(stats.per_topic[topic] == n, "\(topic)")
            #expect(python.counts[topic] == n, "\(topic)")
        }
    }

    @Test func swiftReaderReadsItsOwnRecording() throws {
        var recording = try Recording()
        try recording.record(seconds: 1.2, seed: 5)
        try recording.writer.close()

        let reader = try MCAPReader(path: recording.path)
        let info = reader.info
        #expect(info.isCleanlyClosed && info.truncatedBytes == 0 && info.unreadableChunkCount == 0)
        #expect(info.messageCount == UInt64(recording.recorded.count))
        #expect(info.messageCount(topic: "/joint_states") == 600)
        #expect(info.startTime == recording.recorded.map(\.logTime).min())
        #expect(info.endTime == recording.recorded.map(\.logTime).max())
        #expect(info.topics.map(\.schemaName).contains("tether_msgs/msg/SafetyEvent"))
        #expect(info.description.contains("cleanly closed"))
        #expect(reader.summaryStatistics?.messageCount == info.messageCount)
        #expect(reader.summaryChunkIndexes.count == info.chunkCount)
        #expect(reader.header == MCAPHeader(profile: "ros2", library: "tether"))
        let schema = try #require(reader.schemas.values.first { $0.name == "sensor_msgs/msg/Imu" })
        #expect(schema.encoding == "ros2msg" && schema.text == SensorMsgs.Imu.definition)
        #expect(reader.channels.values.first { $0.topic == "/cmd_vel" }?.metadata == ["offered_qos_profiles": ""])

        // Typed decoding equals what was written, in order; sequence numbers count per channel.
        var v = Values(seed: 5)
        let joints = try reader.messages(SensorMsgs.JointState.self, topic: "/joint_states")
        #expect(joints.count == 600)
        #expect(joints.map(\.logTime) == recording.recorded.filter { $0.topic == "/joint_states" }.map(\.logTime))
        #expect(joints[0].message.position == v.doubles(6))
        let raw = try reader.messages(topic: "/joint_states")
        #expect(raw.map(\.sequence) == (0..<600).map(UInt32.init))
        #expect(throws: TetherError.self) { try reader.messages(SensorMsgs.Imu.self, topic: "/joint_states") }
        #expect(throws: TetherError.self) { try reader.messages(SensorMsgs.Imu.self, topic: "/nope") }
    }

    @Test func pythonRecordingIsReadBySwift() throws {
        var v = Values(seed: 9)
        var sent: [(String, String, UInt64, any PeerValue)] = []
        var expectedJoints: [SensorMsgs.JointState] = []
        var expectedImu: [SensorMsgs.Imu] = []
        var expectedDiagnostics: [DiagnosticMsgs.DiagnosticArray] = []
        var expectedTwists: [GeometryMsgs.Twist] = []
        for i in 0..<300 {
            let t = UInt64(1_000_000_000 + i * 2_000_000)
            let js = v.jointState()
            expectedJoints.append(js)
            sent.append(("/joint_states", SensorMsgs.JointState.typeName, t, js))
            if i % 3 == 0 {
                let imu = v.imu()
                expectedImu.append(imu)
                sent.append(("/imu", SensorMsgs.Imu.typeName, t + 1, imu))
            }
            if i % 50 == 0 {
                let d = v.diagnostics()
                expectedDiagnostics.append(d)
                sent.append(("/diagnostics", DiagnosticMsgs.DiagnosticArray.typeName, t + 2, d))
                let tw = v.twist()
                expectedTwists.append(tw)
                sent.append(("/cmd_vel", GeometryMsgs.Twist.typeName, t + 3, tw))
            }
        }
        let path = temporaryPath("python.mcap")
        let request = JSON.object([
            ("op", .string("write_mcap")), ("path", .string(path)), ("chunk_size", .int(4096)),
            ("messages", .array(sent.map { .object([("topic", .string($0.0)), ("type", .string($0.1)),
                                                   ("log_time", .int(Int($0.2))), ("value", $0.3.peer)]) })),
        ])
        #expect(try rosPeer(request, as: PeerOK.self).ok)

        let reader = try MCAPReader(path: path)
        let info = reader.info
        #expect(info.isCleanlyClosed, "\(info.problems)")
        #expect(info.library.contains("mcap-ros2-support"))
        #expect(info.messageCount == UInt64(sent.count))
        #expect(info.chunkCount > 5)
        #expect(reader.summaryStatistics?.messageCount == UInt64(sent.count))
        #expect(try reader.messages(SensorMsgs.JointState.self, topic: "/joint_states").map(\.message) == expectedJoints)
        #expect(try reader.messages(SensorMsgs.Imu.self, topic: "/imu").map(\.message) == expectedImu)
        #expect(try reader.messages(DiagnosticMsgs.DiagnosticArray.self, topic: "/diagnostics").map(\.message) == expectedDiagnostics)
        #expect(try reader.messages(GeometryMsgs.Twist.self, topic: "/cmd_vel").map(\.message) == expectedTwists)
    }

    @Test func fileCutInTheLastChunkIsReportedAndRecovered() throws {
        var recording = try Recording()
        try recording.record(seconds: 2, seed: 2)
        try recording.writer.close()
        let full = try MCAPReader(path: recording.path)
        let lastChunk = try #require(full.summaryChunkIndexes.max { $0.chunkStartOffset < $1.chunkStartOffset })
        let complete = full.summaryChunkIndexes.count - 1
        // Messages in the complete chunks: those logged before the last chunk's first message
        // (each chunk holds a contiguous run of the messages as written).
        let expected = Array(recording.recorded.prefix { $0.logTime < lastChunk.messageStartTime })

        let cut = temporaryPath("cut.mcap")
        try writeBytes(Array(try fileBytes(recording.path).prefix(Int(lastChunk.chunkStartOffset + lastChunk.chunkLength / 2))), cut)
        let reader = try MCAPReader(path: cut)
        let info = reader.info
        #expect(!info.isCleanlyClosed)
        #expect(info.truncatedBytes > 0)
        #expect(info.chunkCount == complete)
        #expect(info.messageCount == UInt64(expected.count))
        #expect(info.problems.contains { $0.contains("incomplete") }, "\(info.problems)")
        #expect(info.description.contains("not cleanly closed"))
        #expect(try reader.messages().count == expected.count)

        let recovered = temporaryPath("recovered.mcap")
        let report = try MCAPReader.recover(from: cut, to: recovered)
        #expect(report.messagesRecovered == UInt64(expected.count))
        #expect(report.chunksRecovered == complete && report.chunksDropped == 0 && !report.sourceWasCleanlyClosed)
        #expect(report.bytesDiscarded == info.truncatedBytes)
        let again = try MCAPReader(path: recovered)
        #expect(again.isCleanlyClosed && again.problems.isEmpty, "\(again.problems)")
        #expect(again.info.chunkCount == complete)

        let python = try peerRead(recovered, expect: expected)
        #expect(python.mismatches.isEmpty, "\(python.mismatches.prefix(3))")
        #expect(python.messages_read == expected.count)
        #expect(python.statistics?.message_count == expected.count)
        #expect(python.chunk_indexes == complete)
    }

    @Test func fileMissingItsFooterIsReportedAndRecovered() throws {
        var recording = try Recording()
        try recording.record(seconds: 1, seed: 4)
        try recording.writer.close()
        let bytes = try fileBytes(recording.path)
        let full = try MCAPReader(path: recording.path)
        // Cut just before the Data End record: every chunk is complete, the summary and footer are gone.
        let cut = temporaryPath("nofooter.mcap")
        try writeBytes(Array(bytes.prefix(full.dataEnd)), cut)
        let info = try MCAPReader(path: cut).info
        #expect(!info.isCleanlyClosed)
        #expect(info.truncatedBytes == 0)
        #expect(info.messageCount == UInt64(recording.recorded.count))
        #expect(info.problems.contains { $0.contains("without a Data End") }, "\(info.problems)")

        // Cut inside the footer: Data End is there but the end is damaged.
        let cut2 = temporaryPath("halffooter.mcap")
        try writeBytes(Array(bytes.dropLast(12)), cut2)
        #expect(!(try MCAPReader(path: cut2).isCleanlyClosed))

        let recovered = temporaryPath("recovered.mcap")
        let report = try MCAPReader.recover(from: cut, to: recovered)
        #expect(report.messagesRecovered == UInt64(recording.recorded.count))
        let python = try peerRead(recovered, expect: recording.recorded)
        #expect(python.mismatches.isEmpty && python.messages_read == recording.recorded.count)
    }

    @Test func copyTakenMidRecordingHoldsEveryFlushedChunk() throws {
        var recording = try Recording(chunkSize: 1 << 20)
        try recording.record(seconds: 0.5, seed: 6)
        try recording.writer.flush()
        let flushed = recording.recorded
        try recording.record(seconds: 0.2, from: 1_800_000_000_000_000_000, seed: 7)
        // The process "dies" now: what is on disk is what a crash would leave.
        let snapshot = temporaryPath("crash.mcap")
        try FileManager.default.copyItem(atPath: recording.path, toPath: snapshot)
        try recording.writer.close()

        let info = try MCAPReader(path: snapshot).info
        #expect(!info.isCleanlyClosed)
        #expect(info.messageCount == UInt64(flushed.count))
        let recovered = temporaryPath("crash-recovered.mcap")
        try MCAPReader.recover(from: snapshot, to: recovered)
        let python = try peerRead(recovered, expect: flushed)
        #expect(python.mismatches.isEmpty && python.messages_read == flushed.count, "\(python.mismatches.prefix(2))")
        // The finished recording has everything.
        #expect(try MCAPReader(path: recording.path).info.messageCount == UInt64(recording.recorded.count))
    }

    @Test func chunkDurationBoundsWhatACrashCanLose() throws {
        var recording = try Recording(chunkSize: 1 << 30, chunkDuration: 100_000_000)
        try recording.record(seconds: 1, seed: 8)
        try recording.writer.close()
        let reader = try MCAPReader(path: recording.path)
        #expect(reader.summaryChunkIndexes.count >= 9)
        #expect(reader.summaryChunkIndexes.allSatisfy { $0.messageEndTime - $0.messageStartTime <= 100_000_000 })
    }

    @Test func damagedChunkIsDetectedAndLeftOutByRecovery() throws {
        var recording = try Recording()
        try recording.record(seconds: 1, seed: 10)
        try recording.writer.close()
        let full = try MCAPReader(path: recording.path)
        let chunks = full.summaryChunkIndexes.sorted { $0.chunkStartOffset < $1.chunkStartOffset }
        var bytes = try fileBytes(recording.path)
        let victim = chunks[2]
        bytes[Int(victim.chunkStartOffset + victim.chunkLength) - 5] ^= 0xFF // a byte of its last message
        let damaged = temporaryPath("damaged.mcap")
        try writeBytes(bytes, damaged)

        let reader = try MCAPReader(path: damaged)
        #expect(reader.problems.contains { $0.contains("CRC mismatch") }, "\(reader.problems)")
        #expect(reader.info.unreadableChunkCount == 1)
        #expect(throws: TetherError.self) { try reader.messages() }
        let lost = recording.recorded.filter { $0.logTime >= victim.messageStartTime && $0.logTime <= victim.messageEndTime }
        #expect(try reader.messages(skippingUnreadableChunks: true).count == recording.recorded.count - lost.count)

        let recovered = temporaryPath("damaged-recovered.mcap")
        let report = try MCAPReader.recover(from: damaged, to: recovered)
        #expect(report.chunksDropped == 1 && report.chunksRecovered == chunks.count - 1)
        let python = try peerRead(recovered, expect: nil)
        #expect(python.messages_read == recording.recorded.count - lost.count)
    }

    @Test func nonMCAPFilesGiveClearErrors() throws {
        func error(for bytes: [UInt8]) -> String {
            let path = temporaryPath("not.mcap")
            try? writeBytes(bytes, path)
            do {
                _ = try MCAPReader(path: path)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(error(for: []).contains("empty"))
        #expect(error(for: Array("SQLite format 3\0 and more bytes".utf8)).contains("SQLite"))
        #expect(error(for: Array("#ROSBAG V2.0\n".utf8)).contains("ROS 1"))
        #expect(error(for: Array("hello, world, this is text".utf8)).contains("not an MCAP file: it starts with 68 65 6c 6c"))
        #expect(error(for: Array(MCAP.magic.prefix(5))).contains("opening magic"))
        #expect(error(for: MCAP.magic).contains("no complete Header"))
        #expect(error(for: MCAP.magic + [0x05, 4, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]).contains("not a Header"))
        #expect(error(for: []).contains("not.mcap"), "the error names the file")
        do {
            _ = try MCAPReader(path: "/nonexistent/recording.mcap")
            Issue.record("a missing file was read")
        } catch let e as TetherError {
            #expect(e.location == "/nonexistent/recording.mcap")
        }
    }

    @Test func writerRefusesMisuse() throws {
        let path = temporaryPath("misuse.mcap")
        let writer = try MCAPWriter(path: path)
        let joints = try writer.addTopic("/joint_states", type: SensorMsgs.JointState.self)
        #expect(try writer.addTopic("/joint_states", type: SensorMsgs.JointState.self) == joints)
        #expect(throws: TetherError.self) { try writer.addTopic("/joint_states", type: SensorMsgs.Imu.self) }
        #expect(throws: TetherError.self) { try writer.write(channel: 42, logTime: 1, data: [0, 1, 0, 0]) }
        #expect(throws: TetherError.self) { try writer.write(StdMsgs.Bool(data: true), channel: joints, logTime: 1) }
        #expect(throws: TetherError.self) { try writer.addChannel(topic: "/x", schemaID: 9) }
        // The same definition gives the same schema.
        let imu1 = try writer.addTopic("/imu", type: SensorMsgs.Imu.self)
        let imu2 = try writer.addTopic("/imu2", type: SensorMsgs.Imu.self)
        #expect(imu1 != imu2)
        try writer.close()
        try writer.close() // a second close does nothing
        #expect(throws: TetherError.self) { try writer.write(SensorMsgs.JointState(), channel: joints, logTime: 1) }
        #expect(throws: TetherError.self) { try writer.flush() }
        let reader = try MCAPReader(path: path)
        #expect(reader.isCleanlyClosed && reader.schemas.count == 2 && reader.channels.count == 3)
        #expect(reader.info.messageCount == 0 && reader.info.startTime == nil)
        #expect(throws: TetherError.self) { try MCAPWriter(path: "/nonexistent-dir/x.mcap") }
        #expect(throws: TetherError.self) { try MCAPReader.recover(from: path, to: path) }
    }

    @Test func droppedWriterStillLeavesACompleteFile() throws {
        let path = temporaryPath("dropped.mcap")
        do {
            let writer = try MCAPWriter(path: path)
            let ch = try writer.addTopic("/enabled", type: StdMsgs.Bool.self)
            for i in 0..<10 { try writer.write(StdMsgs.Bool(data: i % 2 == 0), channel: ch, logTime: UInt64(i)) }
        }
        let reader = try MCAPReader(path: path)
        #expect(reader.isCleanlyClosed)
        #expect(try reader.messages(StdMsgs.Bool.self, topic: "/enabled").map(\.message.data) == (0..<10).map { $0 % 2 == 0 })
    }

    @Test func syncPutsTheWrittenChunksOnDiskAndRefusesAClosedFile() throws {
        let path = temporaryPath("sync.mcap")
        let writer = try MCAPWriter(path: path)
        let ch = try writer.addTopic("/enabled", type: StdMsgs.Bool.self)
        for i in 0..<10 { try writer.write(StdMsgs.Bool(data: i % 2 == 0), channel: ch, logTime: UInt64(i)) }
        try writer.flush()
        try writer.sync()
        // What a crash right after the sync leaves: the flushed chunk, readable.
        let snapshot = temporaryPath("sync-snapshot.mcap")
        try FileManager.default.copyItem(atPath: path, toPath: snapshot)
        let reader = try MCAPReader(path: snapshot)
        #expect(!reader.isCleanlyClosed && reader.info.messageCount == 10)
        try writer.close()
        #expect(throws: TetherError.self) { try writer.sync() }
    }

    @Test func mergingCutRecordingsKeepsEachMessageOnceInLogTimeOrder() throws {
        let a = temporaryPath("merge-a.mcap"), b = temporaryPath("merge-b.mcap")
        // A: /flag and /values at 0…9 ms, closed. B: the topics added in the other order (other
        // channel ids), 5…14 ms written out of log-time order, cut in its last chunk.
        do {
            let w = try MCAPWriter(path: a, options: .init(chunkSize: 1 << 20, chunkDuration: 3_000_000))
            let flag = try w.addTopic("/flag", type: StdMsgs.Bool.self)
            let values = try w.addTopic("/values", type: StdMsgs.Float64MultiArray.self)
            for i in 0..<10 {
                let t = UInt64(i) * 1_000_000
                try w.write(StdMsgs.Bool(data: i % 2 == 0), channel: flag, logTime: t)
                try w.write(StdMsgs.Float64MultiArray(vector: [Double(i)], label: "v"), channel: values, logTime: t)
            }
            try w.close()
        }
        let w = try MCAPWriter(path: b, options: .init(chunkSize: 1 << 20, chunkDuration: 3_000_000))
        let values = try w.addTopic("/values", type: StdMsgs.Float64MultiArray.self)
        let flag = try w.addTopic("/flag", type: StdMsgs.Bool.self)
        for i in [6, 5, 8, 7, 9, 10, 12, 11, 13, 14] {
            let t = UInt64(i) * 1_000_000
            try w.write(StdMsgs.Float64MultiArray(vector: [Double(i)], label: "v"), channel: values, logTime: t)
            try w.write(StdMsgs.Bool(data: i % 2 == 0), channel: flag, logTime: t)
        }
        try w.flush()
        let full = try fileBytes(b)
        try w.close()
        // Cut inside the last chunk: what B holds is what its complete chunks hold.
        let chunks = try MCAPReader(path: b).summaryChunkIndexes.sorted { $0.chunkStartOffset < $1.chunkStartOffset }
        let last = chunks[chunks.count - 1]
        try writeBytes(Array(full.prefix(Int(last.chunkStartOffset + last.chunkLength / 2))), b)
        let cutB = try MCAPReader(path: b)
        let keptFromB = try cutB.messages(StdMsgs.Float64MultiArray.self, topic: "/values").map { Int($0.message.data[0]) }
        let flagsFromB = try cutB.messages(StdMsgs.Bool.self, topic: "/flag").map { Int($0.logTime / 1_000_000) }
        #expect(keptFromB.count < 10 && flagsFromB.count < 10)

        let out = temporaryPath("merged.mcap")
        let garbage = temporaryPath("garbage.mcap")
        try writeBytes(Array("not a recording".utf8), garbage)
        let report = try MCAPReader.recover(merging: [a, garbage, b], to: out)
        let reader = try MCAPReader(path: out)
        #expect(reader.isCleanlyClosed)
        let got = try reader.messages(StdMsgs.Float64MultiArray.self, topic: "/values")
        let expected = Set(0..<10).union(keptFromB).sorted()
        #expect(got.map { Int($0.message.data[0]) } == expected)
        #expect(got.map(\.logTime) == expected.map { UInt64($0) * 1_000_000 })
        let flags = try reader.messages(StdMsgs.Bool.self, topic: "/flag")
        let expectedFlags = Set(0..<10).union(flagsFromB).sorted()
        #expect(flags.map(\.logTime) == expectedFlags.map { UInt64($0) * 1_000_000 })
        #expect(flags.map(\.message.data) == expectedFlags.map { $0 % 2 == 0 })
        // Every message is in log-time order in the file, and sequences count anew per channel.
        let all = try reader.messages()
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.logTime <= $1.logTime })
        let valuesID = try #require(reader.channels.values.first { $0.topic == "/values" }).id
        #expect(all.filter { $0.channelID == valuesID }.map(\.sequence) == (0..<UInt32(expected.count)).map { $0 })
        let total = expected.count + expectedFlags.count
        #expect(report.duplicatesSkipped == UInt64(Set(0..<10).intersection(keptFromB).count + Set(0..<10).intersection(flagsFromB).count))
        #expect(report.messagesRecovered == UInt64(total) && !report.sourceWasCleanlyClosed && report.bytesDiscarded > 0)
        #expect(report.unreadableSources.count == 1 && report.unreadableSources[0].contains(garbage))
        let python = try peerRead(out, expect: nil)
        #expect(python.messages_read == total && python.linear_messages_read == python.messages_read)

        // One topic with two types: not parts of one recording.
        let other = temporaryPath("merge-other.mcap")
        do {
            let w = try MCAPWriter(path: other)
            let ch = try w.addTopic("/flag", type: StdMsgs.Float64MultiArray.self)
            try w.write(StdMsgs.Float64MultiArray(vector: [1], label: "v"), channel: ch, logTime: 1)
            try w.close()
        }
        do {
            try MCAPReader.recover(merging: [a, other], to: temporaryPath("never.mcap"))
            Issue.record("two types on one topic were merged")
        } catch let error as TetherError {
            #expect(error.what.contains("/flag") && error.location == other)
        }
        #expect(throws: TetherError.self) { try MCAPReader.recover(merging: [a, b], to: b) }
        #expect(throws: TetherError.self) { try MCAPReader.recover(merging: [garbage], to: temporaryPath("never.mcap")) }
    }
}
