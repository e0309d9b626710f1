import Foundation
import Testing
import TetherCore
import TetherPolicy
import TetherRender
import TetherROS
import TetherSim
@testable import TetherValidation

/// A gate trial replayed into a flight recording (the validation report's videos of failed trials).
@Suite struct GateReplayTests {
    /// The replay of trial i ends exactly as the gate's trial i did (the same stream (seed, i), a
    /// fresh model), and its recording shows it: one state per control step plus the start, the
    /// base moving as far as the record says (/tf), each push and the end as events.
    @Test func aReplayedTrialIsTheGatesTrialRecorded() throws {
        let robot = try BuiltinRobots.load("quadruped")
        var task = try #require(robot.manifest.task)
        task.episodeSeconds = 4
        let spec = try RandomizationSpec.parse(yaml: """
            tether_randomization: 1
            terms:
              - {target: kp_scale, distribution: uniform, low: 0.6, high: 1.3}
              - {target: action_latency, distribution: uniform, low: 0.0, high: 0.04}
            pushes: {interval: [1.0, 2.0], force: [40, 120], duration: 0.1}
            """)
        let path = "\(repositoryRoot)/policies/quadruped.onnx"
        let manifest = robot.manifest
        let simulation = try GateSimulation(robot: robot, task: task, randomization: spec, threads: 2)
        let gate = try simulation.run(indices: [0, 1, 2], seed: 4) { try OnnxPolicy(path: path, manifest: manifest) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tether-replay-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var pushes = 0
        for original in gate {
            var policy = try OnnxPolicy(path: path, manifest: manifest)
            let recording = "\(folder)/trial-\(original.index).mcap"
            let replay = try simulation.record(trial: original.index, seed: 4, policy: &policy, to: recording)
            #expect(replay == original, "trial \(original.index)")
            let reader = try MCAPReader(path: recording)
            let states = try reader.messages(SensorMsgs.JointState.self, topic: manifest.ros2.jointStates)
            #expect(states.count == Int((original.seconds * manifest.rates.controlHz).rounded()) + 1)
            let events = try reader.messages(TetherMsgs.SafetyEvent.self, topic: "/tether/safety_events").map(\.message)
            #expect(events.last?.reason == (original.success ? "trial_end" : original.failureMode))
            pushes += events.filter { $0.reason == "push" }.count
            let timeline = try RecordingTimeline(path: recording, robot: robot)
            let x0 = try #require(timeline.poses.first?.position?.x), x1 = try #require(timeline.poses.last?.position?.x)
            #expect(abs((x1 - x0) - original.distance) < 1e-6, "the base moves as far in the recording as the gate measured")
        }
        #expect(pushes >= 3, "pushes every 1–2 s over 4 s episodes are recorded as events")
    }

    /// Replaying through `ValidationRun` writes trial-NNN.mcap files for the asked indices.
    @Test func aValidationRunRecordsTheTrialsAskedFor() throws {
        let robot = try BuiltinRobots.load("cartpole")
        var run = ValidationRun(robot: robot, policy: "\(repositoryRoot)/policies/cartpole.onnx", randomization: nil)
        run.seed = 3
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tether-replay-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let replays = try run.recordTrials([2, 5], in: folder)
        #expect(replays.map(\.trial.index) == [2, 5])
        #expect(replays.map { ($0.recording as NSString).lastPathComponent } == ["trial-002.mcap", "trial-005.mcap"])
        for r in replays { #expect(FileManager.default.fileExists(atPath: r.recording)) }
    }
}
