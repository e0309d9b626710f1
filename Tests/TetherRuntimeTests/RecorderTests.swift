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
        let viaRosbags = try rosPeer(["op": "read_rosbags", "path": path, "samples": ["/tf", "/robot_description"],
                                      "definitions": [TetherMsgs.SafetyEvent.typeName: TetherMsgs.SafetyEvent.messageText]])
        #expect((viaRosbags["counts"] as! [String: Int]) == counts)
        // Foxglove-ready: /tf with every link of the model at each state, /robot_description once.
        #expect(counts["/tf"] == 101 && counts["/robot_description"] == 1)
        let samples = viaRosbags["samples"] as! [String: Any]
        let tf = (samples["/tf"] as! [String: Any])["transforms"] as! [[String: Any]]
        let tree = try KinematicTree.load(manifest)
        #expect(tf.count == tree.links.count)
        #expect(tf.map { $0["child_frame_id"] as! String } == tree.links.map(\.name))
        #expect(((tf[0]["header"] as! [String: Any])["frame_id"] as! String) == "world")
        let urdf = (samples["/robot_description"] as! [String: Any])["data"] as! String
        #expect(urdf.hasPrefix("<?xml") && urdf.contains("<joint name=\"FR_hip_joint\" type=\"revolute\">"))
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

    /// Records `ticks` ticks at 50 Hz from tick `from`, each observation carrying its tick index.
    func recordTicks(_ recorder: FlightRecorder, from: Int = 0, ticks: Int, sim: SimRobot, command: JointCommand) throws {
        for k in from..<(from + ticks) {
            sim.stepControl()
            try recorder.record(FlightRecord(time: Double(k) * 0.02, state: sim.state(), observation: [Float(k)],
                                             action: [Float](repeating: 0.1, count: 12), command: command, events: []))
        }
    }

    /// Copies what a run recording to `path` has on disk now to `crashed` (the recording and its
    /// spool segments, as a `kill -9` would leave them); returns the copied spool segments.
    @discardableResult
    func crashCopy(of path: String, to crashed: String) throws -> [String] {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.copyItem(atPath: path, toPath: crashed) }
        var copied: [String] = []
        for (from, to) in zip(FlightRecorder.spoolPaths(for: path), FlightRecorder.spoolPaths(for: crashed))
        where FileManager.default.fileExists(atPath: from) {
            try FileManager.default.copyItem(atPath: from, toPath: to)
            copied.append(to)
        }
        return copied
    }

    /// The tick indices in a recording (from the observations), in file order.
    func tickIndices(_ path: String) throws -> [Int] {
        try MCAPReader(path: path).messages(StdMsgs.Float64MultiArray.self, topic: "/tether/observation").map { Int($0.message.data[0]) }
    }

    func temporaryFolder() throws -> String {
        let dir = NSTemporaryDirectory() + "tether-crash-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aCrashInWindowModeLosesAtMostTheLastSecond() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let path = "\(dir)/run.mcap"
        let recorder = FlightRecorder(manifest: robot.manifest, path: path, windowSeconds: 2, clockStart: 0)
        // 8 s at 50 Hz with a 2 s window: the spool has rotated through both slots.
        try recordTicks(recorder, ticks: 400, sim: SimRobot(robot: robot), command: robot.manifest.defaultPoseCommand)
        #expect(!FileManager.default.fileExists(atPath: path), "window mode writes the output only at a flush")
        // The process dies now; the last segment written is also cut in the middle of a chunk.
        let crashed = "\(dir)/crashed.mcap"
        let spools = try crashCopy(of: path, to: crashed)
        #expect(spools.count == 2)
        let newest = try spools.max { try MCAPReader(path: $0).info.endTime ?? 0 < MCAPReader(path: $1).info.endTime ?? 0 }!
        let bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
        // 10 kB: past the message indexes, into the last complete chunk (~40 kB for 0.5 s).
        try bytes.prefix(bytes.count - 10_000).write(to: URL(fileURLWithPath: newest))

        let out = "\(dir)/recovered.mcap"
        let report = try FlightRecorder.recover(recording: crashed, to: out)
        // Each spool segment starts with the robot's description (the same message at the same
        // time): the merge keeps one, and skips nothing else.
        #expect(report.duplicatesSkipped == spools.count - 1 && report.bytesDiscarded > 0)
        let ticks = try tickIndices(out)
        let last = 399
        // All but the last second: every tick of the last window up to 1 s before the end.
        #expect(ticks.last! >= last - 50, "lost \(Double(last - ticks.last!) * 0.02) s")
        #expect(ticks.first! <= last - 100, "the disk holds at least the last window")
        #expect(ticks == Array(ticks.first!...ticks.last!), "no tick lost or repeated in between")
        // The disk holds at most about two windows (and one tick).
        #expect(ticks.first! >= last - 201)
        let reader = try MCAPReader(path: out)
        #expect(reader.isCleanlyClosed)
        let all = try reader.messages()
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.logTime <= $1.logTime })
        // Log times are the ticks' times.
        let observations = try reader.messages(StdMsgs.Float64MultiArray.self, topic: "/tether/observation")
        for o in observations {
            #expect(abs(Double(o.logTime) * 1e-9 - recorder.epochOffset - o.message.data[0] * 0.02) < 1e-5)
        }
        #expect(try reader.messages(SensorMsgs.JointState.self, topic: "/joint_states").count >= ticks.count)
        let python = try rosPeer(["op": "read_mcap", "path": out, "expect": NSNull()])
        #expect((python["linear_messages_read"] as! Int) == (python["messages_read"] as! Int))
        #expect((python["counts"] as! [String: Int])["/tether/action"] == ticks.count)

        // A normal close writes the window and deletes the spool.
        try recorder.close()
        #expect(FlightRecorder.existingSpools(for: path).isEmpty)
        let window = try tickIndices(path)
        #expect(window.last == last && (100...101).contains(window.count) && window == Array(window.first!...last))
    }

    @Test func aStopFlushRestartsTheSpoolAndACrashAfterItKeepsBoth() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        let path = "\(dir)/run.mcap"
        let recorder = FlightRecorder(manifest: robot.manifest, path: path, windowSeconds: 2, clockStart: 0)
        try recordTicks(recorder, ticks: 150, sim: sim, command: robot.manifest.defaultPoseCommand)
        try recorder.flush(reason: "tilt_limit")
        #expect(FlightRecorder.existingSpools(for: path).isEmpty, "the window is at the path: the spool starts again")
        let atStop = try tickIndices(path)
        #expect(atStop.last == 149 && (100...101).contains(atStop.count) && atStop == Array(atStop.first!...149))
        try recordTicks(recorder, from: 150, ticks: 100, sim: sim, command: robot.manifest.defaultPoseCommand)
        #expect(FlightRecorder.existingSpools(for: path) == [FlightRecorder.spoolPaths(for: path)[0]])
        let crashed = "\(dir)/crashed.mcap"
        try crashCopy(of: path, to: crashed)
        let out = "\(dir)/recovered.mcap"
        try FlightRecorder.recover(recording: crashed, to: out)
        let ticks = try tickIndices(out)
        // The window at the stop, then all after it but the chunk being filled (< 0.5 s).
        #expect(ticks.first == atStop.first && ticks.last! >= 249 - 26)
        #expect(ticks == Array(atStop.first!...ticks.last!))
        try recorder.close()
        #expect(FlightRecorder.existingSpools(for: path).isEmpty)
        #expect(try MCAPReader(path: path).isCleanlyClosed)
        #expect(try tickIndices(path) == atStop + Array(150...249))
    }

    @Test func continuousRecordingWritesChunksOfAtMostHalfASecond() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let path = "\(dir)/run.mcap"
        let recorder = FlightRecorder(manifest: robot.manifest, path: path, continuous: true, clockStart: 0)
        try recordTicks(recorder, ticks: 200, sim: SimRobot(robot: robot), command: robot.manifest.defaultPoseCommand)
        // A crash now: everything but the chunk being filled.
        let crashed = "\(dir)/crashed.mcap"
        try crashCopy(of: path, to: crashed)
        #expect(FlightRecorder.existingSpools(for: path).isEmpty, "continuous mode writes no spool")
        let ticks = try tickIndices(crashed)
        #expect(ticks == Array(0...ticks.last!) && ticks.last! >= 199 - 26)
        try recorder.close()
        let reader = try MCAPReader(path: path)
        #expect(reader.summaryChunkIndexes.count >= 7)
        // A chunk is written by the message that takes it to 0.5 s: it spans at most one tick more.
        #expect(reader.summaryChunkIndexes.allSatisfy { $0.messageEndTime - $0.messageStartTime <= FlightRecorder.chunkDuration + 20_000_000 })
    }

    @Test func recoveringAPathWithNothingThereSaysWhere() throws {
        let path = NSTemporaryDirectory() + "tether-nothing-\(UUID().uuidString).mcap"
        do {
            try FlightRecorder.recover(recording: path, to: path + ".out.mcap")
            Issue.record("recovered nothing")
        } catch let error as TetherError {
            #expect(error.location == path && error.what.contains("spool"))
        }
    }
}
