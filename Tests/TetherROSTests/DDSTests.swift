import Foundation
import Testing
import TetherCore
@testable import TetherROS

/// Each test uses its own domain so that tests running in parallel never see each other.
@Suite(.serialized) struct DDSTests {
    @Test func rosNamingConventions() {
        #expect(DDSParticipant.ddsTypeName(SensorMsgs.JointState.self) == "sensor_msgs::msg::dds_::JointState_")
        #expect(DDSParticipant.ddsTopicName("/joint_states") == "rt/joint_states")
        #expect(DDSParticipant.ddsTopicName("robot/imu") == "rt/robot/imu")
    }

    @Test func swiftToSwiftOnLoopback() throws {
        let participant = try DDSParticipant(domain: 71, configuration: DDSParticipant.loopbackConfiguration)
        let publisher = try DDSPublisher<SensorMsgs.JointState>(participant, topic: "/tether_test/swift")
        let subscriber = try DDSSubscriber<SensorMsgs.JointState>(participant, topic: "/tether_test/swift")
        #expect(publisher.waitForSubscribers(timeout: 5))
        let sent = SensorMsgs.JointState(header: .init(stamp: .init(sec: 3, nanosec: 7), frameID: "base"),
                                         name: ["a", "bé"], position: [1.5, -2], velocity: [0.1, 0.2], effort: [])
        try publisher.publish(sent)
        let got = try subscriber.next(timeout: 5)
        #expect(got == sent)
    }

    @Test func messagesCrossToPythonCycloneDDSAndBack() throws {
        let domain: UInt32 = 72
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let publisher = try DDSPublisher<SensorMsgs.JointState>(participant, topic: "/tether_test/out")
        let subscriber = try DDSSubscriber<SensorMsgs.JointState>(participant, topic: "/tether_test/back")
        // The peer: Python cyclonedds with its own IDL declaration of the ROS 2 types.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(root)/.venv/bin/python")
        process.arguments = ["\(root)/tests/peers/dds_peer.py", "{\"op\": \"echo\", \"count\": 5, \"timeout\": 20, \"domain\": \(domain)}"]
        var environment = ProcessInfo.processInfo.environment
        environment["CYCLONEDDS_URI"] = DDSParticipant.loopbackConfiguration
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        #expect(publisher.waitForSubscribers(timeout: 15), "the Python peer never subscribed")
        #expect(waitFor(timeout: 15) { subscriber.matchedPublishers > 0 }, "the Python peer never published")
        var replies: [SensorMsgs.JointState] = []
        for i in 0..<5 {
            let m = SensorMsgs.JointState(header: .init(stamp: .init(sec: Int32(i), nanosec: 500), frameID: "odd"),
                                          name: ["FR_hip_joint", "FR_thigh_joint", "naïve"], position: [0.1 * Double(i), 0.9, -1.8],
                                          velocity: [0, 0, 0], effort: [1, 2, 3])
            try publisher.publish(m)
            if let reply = try subscriber.next(timeout: 5) { replies.append(reply) }
        }
        process.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let last = text.split(separator: "\n").last.map(String.init) ?? ""
        let result = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        let received = result?["received"] as? [[String: Any]] ?? []
        #expect(received.count == 5)
        #expect(received.first?["name"] as? [String] == ["FR_hip_joint", "FR_thigh_joint", "naïve"])
        #expect(received.last?["position"] as? [Double] == [0.4, 0.9, -1.8])
        #expect(replies.count == 5)
        #expect(replies.last?.name == ["naïve", "FR_thigh_joint", "FR_hip_joint"])
        #expect(replies.last?.position == [0.8, 1.8, -3.6])
        #expect(replies.last?.header.frameID == "odd" && replies.last?.header.stamp.sec == 4)
    }

    /// A handler runs on DDS's own thread for every message, in order, decoded from the bytes DDS
    /// received; after `removeHandler` messages wait for `take` again.
    @Test func handlerReceivesEveryMessageUntilRemoved() throws {
        let participant = try DDSParticipant(domain: 151, configuration: DDSParticipant.loopbackConfiguration)
        let publisher = try DDSPublisher<SensorMsgs.JointState>(participant, topic: "/tether_test/handler", qos: .reliableKeepAll)
        let subscriber = try DDSSubscriber<SensorMsgs.JointState>(participant, topic: "/tether_test/handler", qos: .reliableKeepAll)
        #expect(publisher.waitForSubscribers(timeout: 5))
        let received = Locked<[SensorMsgs.JointState]>([])
        let failures = Locked(0)
        try subscriber.setHandler { result in
            switch result {
            case .success(let sample): received.withLock { $0.append(sample.message) }
            case .failure: failures.withLock { $0 += 1 }
            }
        }
        let sent = (0..<20).map { i in
            SensorMsgs.JointState(header: .init(stamp: .init(sec: Int32(i), nanosec: 1), frameID: "f\(i)"), name: ["a", "joint_\(i)"],
                                  position: [Double(i), -1], velocity: [0.5, 0.25], effort: [])
        }
        for m in sent { try publisher.publish(m) }
        #expect(waitFor(timeout: 5) { received.withLock { $0.count } == sent.count })
        #expect(received.withLock { $0 } == sent)
        #expect(failures.withLock { $0 } == 0)
        subscriber.removeHandler()
        try publisher.publish(sent[3])
        #expect(try subscriber.next(timeout: 5) == sent[3])
        #expect(received.withLock { $0.count } == sent.count)
    }

    /// A sample that is not plain CDR reaches the handler as a failure naming the topic.
    @Test func handlerGetsUndecodableSamplesAsFailures() throws {
        let participant = try DDSParticipant(domain: 152, configuration: DDSParticipant.loopbackConfiguration)
        let publisher = try DDSPublisher<SensorMsgs.JointState>(participant, topic: "/tether_test/bad", qos: .reliableKeepAll)
        let subscriber = try DDSSubscriber<SensorMsgs.JointState>(participant, topic: "/tether_test/bad", qos: .reliableKeepAll)
        #expect(publisher.waitForSubscribers(timeout: 5))
        let errors = Locked<[String]>([])
        try subscriber.setHandler { result in
            if case .failure(let error) = result { errors.withLock { $0.append("\(error)") } }
        }
        try publisher.publish(serialized: [0x00, 0x07, 0x00, 0x00, 1, 2, 3, 4])
        #expect(waitFor(timeout: 5) { !errors.withLock { $0 }.isEmpty })
        let text = errors.withLock { $0.first } ?? ""
        #expect(text.contains("tether_test/bad") && text.contains("XCDR2"), "\(text)")
        subscriber.removeHandler()
    }

    /// A batching (`.bulk`) publisher delivers every message, in order, once flushed.
    @Test func bulkPublisherDeliversEverythingOnceFlushed() throws {
        let participant = try DDSParticipant(domain: 153, configuration: DDSParticipant.loopbackConfiguration)
        let publisher = try DDSPublisher<StdMsgs.Float64MultiArray>(participant, topic: "/tether_test/bulk", qos: .bulk)
        let subscriber = try DDSSubscriber<StdMsgs.Float64MultiArray>(participant, topic: "/tether_test/bulk", qos: .reliableKeepAll)
        #expect(publisher.waitForSubscribers(timeout: 5))
        for i in 0..<500 { try publisher.publish(StdMsgs.Float64MultiArray(vector: [Double(i), 2], label: "x")) }
        try publisher.flush()
        var got: [Double] = []
        while got.count < 500, let m = try subscriber.next(timeout: 5) { got.append(m.data[0]) }
        #expect(got == (0..<500).map(Double.init))
    }

    func waitFor(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return false }
            usleep(2000)
        }
        return true
    }
}
