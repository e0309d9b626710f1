import CCycloneDDS
import Foundation
import Testing
import TetherCore
@testable import TetherROS

/// The first `count` elements of a stream, or those that came before `timeout` seconds passed
/// (the stream is then cancelled, which also tests that cancellation ends it).
func collect<Element: Sendable>(_ stream: AsyncThrowingStream<Element, any Error>, count: Int, timeout: Double) async throws -> [Element] {
    try await withThrowingTaskGroup(of: [Element]?.self) { group in
        group.addTask {
            var got: [Element] = []
            for try await element in stream {
                got.append(element)
                if got.count == count { break }
            }
            return got
        }
        group.addTask {
            try await Task.sleep(for: .seconds(timeout))
            return nil
        }
        var result: [Element]?
        while result == nil, let next = try await group.next() {
            if next == nil { group.cancelAll() }
            result = next
        }
        group.cancelAll()
        return result ?? []
    }
}

/// Waits (polling) until `condition` holds or `timeout` seconds pass.
func eventually(timeout: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}

/// Each test uses its own domain (73–79) so that tests running in parallel never see each other.
@Suite("DDS subscribers as async streams", .serialized)
struct DDSStreamTests {
    @Test func streamDeliversMessagesInOrderWithTheirTimestamps() async throws {
        let participant = try DDSParticipant(domain: 73, configuration: DDSParticipant.loopbackConfiguration)
        let publisher = try DDSPublisher<SensorMsgs.Image>(participant, topic: "/tether_test/images")
        let subscriber = try DDSSubscriber<SensorMsgs.Image>(participant, topic: "/tether_test/images")
        #expect(publisher.waitForSubscribers(timeout: 10))
        // VGA RGB frames (921 600 bytes, fragmented by DDS) and small ones.
        var sent: [SensorMsgs.Image] = []
        for i in 0..<6 {
            let (width, height) = i % 2 == 0 ? (640, 480) : (4, 2)
            let data = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 &+ i) }
            sent.append(SensorMsgs.Image(header: .init(stamp: .init(sec: Int32(i), nanosec: 0), frameID: "kamera_ü"),
                                         height: UInt32(height), width: UInt32(width), encoding: "rgb8", step: UInt32(width * 3), data: data))
        }
        let before = Int64(Date().timeIntervalSince1970 * 1e9)
        for image in sent { try publisher.publish(image) }
        // The reader keeps what arrived before the stream began (keep-last 10).
        let got = try await collect(subscriber.samples(), count: sent.count, timeout: 20)
        #expect(got.map(\.message) == sent)
        for sample in got {
            #expect(abs(sample.sourceTime - before) < 60_000_000_000, "source time \(sample.sourceTime) is not now")
        }
        #expect(await eventually(timeout: 5) { subscriber.runningStreams.withLock { $0 } == 0 }, "the stream's thread kept running")
    }

    @Test func cancellingTheConsumerEndsTheStreamAndItsThread() async throws {
        let participant = try DDSParticipant(domain: 74, configuration: DDSParticipant.loopbackConfiguration)
        let subscriber = try DDSSubscriber<StdMsgs.Bool>(participant, topic: "/tether_test/quiet")
        // Nothing is ever published: the consumer waits until it is cancelled.
        let consumer = Task {
            var count = 0
            for try await _ in subscriber.messages(pollInterval: .milliseconds(20)) { count += 1 }
            return count
        }
        #expect(await eventually(timeout: 5) { subscriber.runningStreams.withLock { $0 } == 1 })
        try await Task.sleep(for: .milliseconds(100))
        consumer.cancel()
        #expect(try await consumer.value == 0)
        #expect(await eventually(timeout: 5) { subscriber.runningStreams.withLock { $0 } == 0 }, "the stream's thread kept running")

        // Leaving the loop early ends it too.
        let publisher = try DDSPublisher<StdMsgs.Bool>(participant, topic: "/tether_test/quiet")
        #expect(publisher.waitForSubscribers(timeout: 10))
        try publisher.publish(StdMsgs.Bool(data: true))
        let first = try await collect(subscriber.messages(), count: 1, timeout: 10)
        #expect(first == [StdMsgs.Bool(data: true)])
        #expect(await eventually(timeout: 5) { subscriber.runningStreams.withLock { $0 } == 0 }, "the stream's thread kept running")
    }

    @Test func undecodableSampleEndsTheStreamWithAClearError() async throws {
        let participant = try DDSParticipant(domain: 75, configuration: DDSParticipant.loopbackConfiguration)
        let publisher = try DDSPublisher<StdMsgs.Header>(participant, topic: "/tether_test/mixed")
        let subscriber = try DDSSubscriber<StdMsgs.Header>(participant, topic: "/tether_test/mixed")
        #expect(publisher.waitForSubscribers(timeout: 10))
        // The same Header, but in XCDR2 (encapsulation 0x0007), which ROS 2 never sends.
        var xcdr2 = StdMsgs.Header(frameID: "a").cdrBytes()
        xcdr2[1] = 0x07
        try publisher.publish(serialized: xcdr2)
        do {
            _ = try await collect(subscriber.messages(), count: 1, timeout: 10)
            Issue.record("an XCDR2 sample was decoded")
        } catch let error as TetherError {
            #expect(error.what.contains("/tether_test/mixed") && error.what.contains("std_msgs/msg/Header"), "\(error)")
            #expect(error.what.contains("0x0007") && error.what.contains("XCDR2"), "\(error)")
            #expect(error.location == "rt/tether_test/mixed")
            #expect(error.hint?.contains("plain CDR") == true)
        }
        // The bad sample was consumed: a new stream carries on with the next good one.
        let good = StdMsgs.Header(stamp: .init(sec: 2, nanosec: 3), frameID: "gelenk_ü_日本")
        try publisher.publish(good)
        #expect(try await collect(subscriber.messages(), count: 1, timeout: 10) == [good])
    }

    @Test func samplesWithoutDataAreSkipped() async throws {
        let participant = try DDSParticipant(domain: 76, configuration: DDSParticipant.loopbackConfiguration)
        let subscriber = try DDSSubscriber<StdMsgs.Header>(participant, topic: "/tether_test/writers")
        // A writer sends one message, which is taken, and goes away: the reader then holds a
        // sample without data (the instance has no writers left).
        var first: DDSPublisher<StdMsgs.Header>? = try DDSPublisher(participant, topic: "/tether_test/writers")
        #expect(first?.waitForSubscribers(timeout: 10) == true)
        try first?.publish(StdMsgs.Header(frameID: "one"))
        #expect(try subscriber.next(timeout: 10)?.frameID == "one")
        first = nil
        #expect(tdds_wait_for_data(subscriber.reader, 5_000_000_000) == 1, "no sample without data arrived")
        // The stream must not hand it over, nor fail on it: the next message it yields is the second writer's.
        let second = try DDSPublisher<StdMsgs.Header>(participant, topic: "/tether_test/writers")
        #expect(second.waitForSubscribers(timeout: 10))
        try second.publish(StdMsgs.Header(frameID: "two"))
        let got = try await collect(subscriber.messages(), count: 1, timeout: 20)
        #expect(got.map(\.frameID) == ["two"])
    }

    @Test func detectionsCrossToPythonCycloneDDSAndBackThroughTheStream() async throws {
        let domain: UInt32 = 77
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let publisher = try DDSPublisher<VisionMsgs.Detection2DArray>(participant, topic: "/tether_test/out")
        let subscriber = try DDSSubscriber<VisionMsgs.Detection2DArray>(participant, topic: "/tether_test/back")
        let replies = subscriber.messages()
        let peer = try DDSPeer(op: "echo", type: "Detection2DArray", count: 3, domain: domain)
        defer { peer.stop() }
        #expect(publisher.waitForSubscribers(timeout: 20), "the Python peer never subscribed")
        #expect(await eventually(timeout: 20) { subscriber.matchedPublishers > 0 }, "the Python peer never published")
        var sent: [VisionMsgs.Detection2DArray] = []
        for i in 0..<3 {
            var covariance = [Double](repeating: 0, count: 36)
            covariance[0] = Double(i) + 0.25
            let person = VisionMsgs.Detection2D(
                header: .init(stamp: .init(sec: Int32(i), nanosec: 9), frameID: "kamera"),
                results: [.init(hypothesis: .init(classID: "person", score: 0.9),
                                pose: .init(pose: .init(position: .init(x: 1, y: 2, z: 3)), covariance: covariance)),
                          .init(hypothesis: .init(classID: "日本_ü", score: 0.5))],
                bbox: .init(minX: 10, minY: 20, maxX: 50, maxY: 100), id: "track_\(i)")
            let empty = VisionMsgs.Detection2D(bbox: .init(minX: 0, minY: 0, maxX: 1, maxY: 1), id: "")
            sent.append(VisionMsgs.Detection2DArray(header: .init(stamp: .init(sec: Int32(i), nanosec: 9), frameID: "kamera"),
                                                    detections: [person, empty]))
        }
        for message in sent { try publisher.publish(message) }
        let got = try await collect(replies, count: 3, timeout: 20)
        let report = try peer.finish()

        let received = report["received"] as? [[String: Any]] ?? []
        #expect(received.count == 3)
        #expect(received.first?["ids"] as? [String] == ["track_0", ""])
        #expect(received.first?["classes"] as? [[String]] == [["person", "日本_ü"], []])
        #expect(received.last?["scores"] as? [[Double]] == [[0.9, 0.5], []])
        #expect(received.last?["centers"] as? [[Double]] == [[30, 60], [0.5, 0.5]])
        #expect(received.last?["covariance_0"] as? [[Double]] == [[2.25, 0], []])

        #expect(got.count == 3)
        for (reply, original) in zip(got, sent) {
            // The peer reversed the detections, halved the scores and prefixed the ids.
            var expected = original
            expected.detections = original.detections.reversed().map { detection in
                var d = detection
                d.id = "peer:" + detection.id
                d.results = detection.results.map { var r = $0; r.hypothesis.score /= 2; return r }
                return d
            }
            #expect(reply == expected)
        }
    }

    @Test func imagesCrossToPythonCycloneDDSAndBackThroughTheStream() async throws {
        let domain: UInt32 = 78
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let publisher = try DDSPublisher<SensorMsgs.Image>(participant, topic: "/tether_test/out")
        let subscriber = try DDSSubscriber<SensorMsgs.Image>(participant, topic: "/tether_test/back")
        let replies = subscriber.messages()
        let peer = try DDSPeer(op: "echo", type: "Image", count: 2, domain: domain)
        defer { peer.stop() }
        #expect(publisher.waitForSubscribers(timeout: 20), "the Python peer never subscribed")
        #expect(await eventually(timeout: 20) { subscriber.matchedPublishers > 0 }, "the Python peer never published")
        var sent: [SensorMsgs.Image] = []
        for i in 0..<2 {
            let data: [UInt8] = (0..<(64 * 48 * 3)).map { (j: Int) -> UInt8 in UInt8(truncatingIfNeeded: j * 7 + i) }
            let header = StdMsgs.Header(stamp: .init(sec: 40 + Int32(i), nanosec: 1), frameID: "kamera_ü")
            sent.append(SensorMsgs.Image(header: header, height: 48, width: 64, encoding: "rgb8", step: 192, data: data))
        }
        for image in sent { try publisher.publish(image) }
        let got = try await collect(replies, count: 2, timeout: 20)
        let report = try peer.finish()

        let received = report["received"] as? [[String: Any]] ?? []
        #expect(received.count == 2)
        #expect(received.first?["size"] as? Int == 64 * 48 * 3)
        #expect(received.first?["sum"] as? Int == sent[0].data.reduce(0) { $0 + Int($1) })
        #expect(received.first?["first"] as? [Int] == sent[0].data.prefix(8).map(Int.init))
        #expect(received.first?["frame_id"] as? String == "kamera_ü")
        #expect(received.last?["step"] as? Int == 192 && received.last?["encoding"] as? String == "rgb8")

        #expect(got.count == 2)
        for (reply, original) in zip(got, sent) {
            var expected = original
            expected.header.frameID = "peer"
            expected.data = original.data.map { 255 - $0 }
            #expect(reply == expected)
        }
    }
}

/// tests/peers/dds_peer.py running in the background on loopback.
final class DDSPeer: @unchecked Sendable {
    let process = Process()
    let output = Pipe()

    init(op: String, type: String, count: Int, domain: UInt32, timeout: Double = 30) throws {
        process.executableURL = URL(fileURLWithPath: "\(repositoryRoot)/.venv/bin/python")
        process.arguments = ["\(repositoryRoot)/tests/peers/dds_peer.py",
                             "{\"op\": \"\(op)\", \"type\": \"\(type)\", \"count\": \(count), \"timeout\": \(timeout), \"domain\": \(domain)}"]
        var environment = ProcessInfo.processInfo.environment
        environment["CYCLONEDDS_URI"] = DDSParticipant.loopbackConfiguration
        process.environment = environment
        process.standardOutput = output
        try process.run()
    }

    /// Waits for the peer to exit and returns its last line of output, a JSON object.
    func finish() throws -> [String: Any] {
        // Read before waiting, so a full pipe never blocks the peer.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let last = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        return try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] ?? [:]
    }

    func stop() {
        if process.isRunning { process.terminate() }
    }
}
