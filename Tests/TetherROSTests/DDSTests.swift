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

    func waitFor(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return false }
            usleep(2000)
        }
        return true
    }
}
