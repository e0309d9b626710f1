import Foundation
import Testing
import TetherCore
import TetherROS
import TetherSafety
import TetherSim
@testable import TetherRuntime

@Suite struct SafetyReplayTests {
    func line(_ t: Double, action: String, q: [Double]) -> String {
        let positions = q.map { String($0) }.joined(separator: ",")
        let zeros = [String](repeating: "0", count: q.count).joined(separator: ",")
        return "{\"time\": \(t), \"action\": \(action), \"state\": {\"joint_positions\": [\(positions)], \"joint_velocities\": [\(zeros)], "
            + "\"base_orientation\": [1,0,0,0], \"base_angular_velocity\": [0,0,0]}}"
    }

    @Test func aJSONLinesStreamReplaysAndANaNActionStops() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let q = manifest.joints.map(\.defaultPosition)
        let zero = "[" + [String](repeating: "0", count: 12).joined(separator: ",") + "]"
        var lines = (0..<10).map { line(Double($0) * 0.02, action: zero, q: q) }
        lines.append(line(0.2, action: "[" + ["\"nan\""] .joined() + "]", q: q))
        let path = NSTemporaryDirectory() + "tether-replay-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        // A JSON string is not a number: the malformed line is named.
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try SafetyReplay.inputs(path: path, manifest: manifest)
            Issue.record("must fail")
        } catch let error as TetherError {
            #expect(error.location == "\(path):11")
        }
        lines[10] = line(0.2, action: "null", q: q)  // the policy produced nothing
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let ticks = SafetyReplay.run(try SafetyReplay.inputs(path: path, manifest: manifest),
                                     config: try SafetyConfig(manifest: manifest, stage: 0.25))
        #expect(ticks.count == 11)
        #expect(ticks[9].mode == "running")
        #expect(ticks[10].mode.hasPrefix("stopped(missing_action"))
        #expect(ticks[10].kp.allSatisfy { $0 == 0 })
    }

    /// A continuous flight recording of 50 ticks whose states arrive 3 ms before their tick
    /// (every fifth tick sees no new state); the policy acts from tick 10. Returns the states.
    func recordFlight(to path: String) throws -> (states: [RobotState], received: [Double]) {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        let recorder = FlightRecorder(manifest: robot.manifest, path: path, continuous: true, clockStart: 0)
        var states: [RobotState] = [], received: [Double] = []
        for k in 0..<50 {
            let t = Double(k) * 0.02
            if k % 5 != 4 { sim.stepControl() }
            let fresh = received.isEmpty || k % 5 != 4
            received.append(fresh ? t - 0.003 : received[k - 1])
            states.append(sim.state())
            try recorder.record(FlightRecord(time: t, state: states[k], stateReceivedAt: received[k], observation: nil,
                                             action: k >= 10 ? [Float](repeating: 0.05, count: 12) : nil,
                                             command: robot.manifest.defaultPoseCommand, events: []))
        }
        try recorder.close()
        return (states, received)
    }

    @Test func aFlightRecordingReplaysEachTickWithTheStateOfItsTick() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let path = NSTemporaryDirectory() + "tether-replay-\(UUID().uuidString).mcap"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (states, received) = try recordFlight(to: path)
        let inputs = try SafetyReplay.inputs(path: path, manifest: manifest)
        // One input per tick, not per state; times from the first message (a state, at −3 ms).
        #expect(inputs.count == 50)
        for (k, input) in inputs.enumerated() {
            #expect(abs(input.time - (Double(k) * 0.02 + 0.003)) < 1e-6)
            #expect(input.state?.jointPositions == states[k].jointPositions, "tick \(k)")
            #expect(abs(input.stateReceivedAt - (received[k] + 0.003)) < 1e-6, "tick \(k)")
            #expect((input.action != nil) == (k >= 10) && (input.command != nil) == (k < 10) && input.expectUpright == (k >= 10))
        }
        let ticks = SafetyReplay.run(inputs, config: try SafetyConfig(manifest: manifest, stage: 0.25))
        #expect(ticks.count == 50 && !ticks.contains { $0.events.contains { $0.hasPrefix("state_timeout") } })
    }

    @Test func aRecordingWithOutOfOrderLogTimesReplaysTheSame() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let dir = NSTemporaryDirectory() + "tether-replay-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try recordFlight(to: "\(dir)/ordered.mcap")
        // The same messages written newest first, across several chunks.
        let source = try MCAPReader(path: "\(dir)/ordered.mcap")
        let writer = try MCAPWriter(path: "\(dir)/reversed.mcap", options: .init(chunkSize: 4096))
        var ids: [UInt16: UInt16] = [:]
        for c in source.channels.values.sorted(by: { $0.id < $1.id }) {
            let s = source.schemas[c.schemaID]!
            ids[c.id] = try writer.addChannel(topic: c.topic, schemaID: try writer.addSchema(name: s.name, encoding: s.encoding, data: s.data),
                                              messageEncoding: c.messageEncoding)
        }
        for m in try source.messages().reversed() {
            try writer.write(channel: ids[m.channelID]!, logTime: m.logTime, data: m.data)
        }
        try writer.close()
        let ordered = try SafetyReplay.inputs(path: "\(dir)/ordered.mcap", manifest: manifest)
        let reversed = try SafetyReplay.inputs(path: "\(dir)/reversed.mcap", manifest: manifest)
        #expect(reversed == ordered)
    }

    @Test func aRecordingWithoutStatesOrTicksIsRefusedClearly() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let dir = NSTemporaryDirectory() + "tether-replay-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let statesOnly = "\(dir)/states.mcap", actionsOnly = "\(dir)/actions.mcap"
        do {
            let w = try MCAPWriter(path: statesOnly)
            let ch = try w.addTopic(manifest.ros2.jointStates, type: SensorMsgs.JointState.self)
            try w.write(SensorMsgs.JointState(), channel: ch, logTime: 1)
            try w.close()
        }
        do {
            let w = try MCAPWriter(path: actionsOnly)
            let ch = try w.addTopic("/tether/action", type: StdMsgs.Float64MultiArray.self)
            try w.write(StdMsgs.Float64MultiArray(vector: [0], label: "action"), channel: ch, logTime: 1)
            try w.close()
        }
        func error(_ path: String) -> TetherError? {
            do { _ = try SafetyReplay.inputs(path: path, manifest: manifest) } catch let e as TetherError { return e } catch {}
            return nil
        }
        #expect(error(statesOnly)?.what.contains("neither /tether/action nor") == true)
        #expect(error(statesOnly)?.location == statesOnly)
        #expect(error(actionsOnly)?.what.contains("no \(manifest.ros2.jointStates) topic") == true)
    }
}
