import Foundation
import Testing
import TetherCore
import TetherROS
import TetherSim
@testable import TetherRuntime

func rosPeer(_ request: [String: Any]) throws -> [String: Any] {
    let json = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
    let out = try TetherPaths.run("\(repositoryRoot)/.venv/bin/python", ["\(repositoryRoot)/tests/peers/ros_peer.py", json])
    return try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
}

@Suite struct FlightRecorderTests {
    func record(_ recorder: FlightRecorder, ticks: Int) throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        for k in 0..<ticks {
            sim.stepControl()
            let event = k == ticks - 1 ? [RecordedEvent(time: Double(k) * 0.02, reason: "tilt_limit", message: "tilt 50° beyond 45°",
                                                        values: ["tilt": 0.87, "limit": 0.785])] : []
            try recorder.record(FlightRecord(time: Double(k) * 0.02, state: sim.state(), observation: [Float](repeating: 0.5, count: 48),
                                             action: [Float](repeating: 0.1, count: 12), command: robot.manifest.defaultPoseCommand, events: event))
        }
    }

    @Test func theRingBufferKeepsTheLastWindowAndPythonReadsTheBag() throws {
        let path = NSTemporaryDirectory() + "tether-flight-\(UUID().uuidString).mcap"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let manifest = try Manifest.load(path: quadrupedManifest)
        let recorder = FlightRecorder(manifest: manifest, path: path, windowSeconds: 2, clockStart: 0)
        try record(recorder, ticks: 500)  // 10 s at 50 Hz
        try recorder.flush(reason: "tilt_limit")
        try recorder.close()
        let result = try rosPeer(["op": "read_mcap", "path": path, "expect": NSNull()])
        let counts = result["counts"] as! [String: Int]
        #expect(counts["/joint_states"] == 101)  // the last 2 s inclusive
        #expect(counts["/imu"] == 101 && counts["/joint_commands"] == 101 && counts["/tether/action"] == 101)
        #expect(counts["/tether/safety_events"] == 1)
        #expect((result["linear_messages_read"] as! Int) == (result["messages_read"] as! Int))
        #expect(result["statistics"] is [String: Any])
        // rosbags (its rosbag2 MCAP storage and its own CDR decoder) reads every message too.
        let viaRosbags = try rosPeer(["op": "read_rosbags", "path": path,
                                      "definitions": [TetherMsgs.SafetyEvent.typeName: TetherMsgs.SafetyEvent.messageText]])
        #expect((viaRosbags["counts"] as! [String: Int]) == counts)
        let reader = try MCAPReader(path: path)
        #expect(reader.isCleanlyClosed)
        let events = try reader.messages(TetherMsgs.SafetyEvent.self, topic: "/tether/safety_events")
        #expect(events.first?.message.reason == "tilt_limit" && events.first?.message.value(for: "limit") == 0.785)
        let states = try reader.messages(SensorMsgs.JointState.self, topic: "/joint_states")
        #expect(states.first?.message.name.first == "FR_hip_joint" && states.count == 101)
    }

    @Test func continuousRecordingKeepsEverythingAndSurvivesAnUnclosedFile() throws {
        let path = NSTemporaryDirectory() + "tether-flight-\(UUID().uuidString).mcap"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let manifest = try Manifest.load(path: quadrupedManifest)
        let recorder = FlightRecorder(manifest: manifest, path: path, windowSeconds: 2, continuous: true, clockStart: 0)
        try record(recorder, ticks: 300)
        try recorder.flush(reason: "checkpoint")  // as at a stop; the process then "crashes" without close
        let reader = try MCAPReader(path: path)
        #expect(!reader.isCleanlyClosed)
        #expect(try reader.messages(SensorMsgs.JointState.self, topic: "/joint_states").count == 300)
    }
}
