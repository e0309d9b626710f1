import Foundation
import Testing
import TetherCore
import TetherPolicy
import TetherSim
@testable import TetherValidation


@Suite struct RecordedFailuresTests {
    /// A trial at 25 % torque on the typical virtual robot falls (the gap attribution found it:
    /// 0/10). Its recording must yield a scenario that starts from the measured state before the
    /// fall, and the replay must run from that state.
    @Test func aFallOnTheVirtualRobotBecomesAReplayableScenario() throws {
        let model = try BuiltinRobots.load("quadruped")
        let policyPath = "\(repositoryRoot)/policies/quadruped.onnx"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tether-recorded-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let plan = try TrialPlan(backend: .emulator, truth: "typical", count: 1, seconds: 8, seed: 1, recordingFolder: folder, stage: .quarter)
        let records = try plan.run(robot: model, policyName: policyPath, makePolicy: { try OnnxPolicy(path: policyPath, manifest: model.manifest) }) { _ in }
        try TrialRecords.write(records, to: "\(folder)/trials.jsonl")
        #expect(records.allSatisfy { !$0.success })

        let scenarios = try RecordedFailures.extract(trials: folder, robot: model, window: 1.0)
        #expect(scenarios.count == records.count)
        let s = try #require(scenarios.first)
        #expect(s.failureMode == records[0].failureMode)
        #expect(s.failureTime > 0 && s.failureTime <= records[0].episodeSeconds + 0.1)
        #expect(s.windowStart >= 0 && s.windowStart <= s.failureTime && s.failureTime - s.windowStart <= 1.0 + 1e-9)
        #expect(s.start.jointPositions.count == 12 && s.start.jointVelocities.count == 12)
        #expect(abs(s.start.policyTime - s.windowStart) < 1e-9)
        let q = try #require(s.start.baseOrientation)
        #expect(abs(q.map { $0 * $0 }.reduce(0, +) - 1) < 1e-6)
        if s.failureMode == "fall" { #expect(s.interventions["fall"] == 1) }  // the fall detector's event ends the window
        #expect(!s.interventions.isEmpty)  // 25 % torque: the wrapper bounded torques

        let replayed = try RecordedFailures.replay(scenarios, robot: model, makePolicy: { try OnnxPolicy(path: policyPath, manifest: model.manifest) },
                                                   randomization: try RandomizationSpec.load(path: "\(repositoryRoot)/robots/quadruped/randomization.yaml"),
                                                   draws: 2, threads: 2)
        let r = try #require(replayed.first?.replay)
        #expect(r.randomizedDraws == 2 && r.randomizedReproduced <= 2)
        #expect(r.nominalSeconds > 0)
        #expect(!r.verdict.isEmpty)
        // Deterministic.
        let again = try RecordedFailures.replay(scenarios, robot: model, makePolicy: { try OnnxPolicy(path: policyPath, manifest: model.manifest) },
                                                randomization: try RandomizationSpec.load(path: "\(repositoryRoot)/robots/quadruped/randomization.yaml"),
                                                draws: 2, threads: 1)
        #expect(again == replayed)
        let yaml = RecordedFailures.yaml(replayed, policy: "p.onnx")
        #expect(yaml.contains("recorded:") && yaml.contains("base_orientation:") && yaml.contains("verdict:"))
    }

    @Test func placingTheRobotPutsItsLowestPointOnTheGround() throws {
        let model = try BuiltinRobots.load("quadruped")
        let sim = SimRobot(robot: model)
        let tilt = 0.3  // pitched forward
        sim.place(jointPositions: model.manifest.joints.map(\.defaultPosition), jointVelocities: Array(repeating: 0.5, count: 12),
                  baseOrientation: SIMD4(cos(tilt / 2), 0, sin(tilt / 2), 0), baseAngularVelocity: SIMD3(0.1, -0.2, 0.3))
        let state = sim.state()
        #expect(abs((state.tilt ?? 0) - tilt) < 1e-6)
        #expect(state.jointVelocities.allSatisfy { abs($0 - 0.5) < 1e-9 })
        #expect(abs(state.baseAngularVelocity!.y + 0.2) < 1e-9)
        // Stepping a little: it is on the ground (contacts), not falling from a height or buried.
        let before = state.basePosition!.z
        sim.stepPhysics(10)
        #expect(abs(sim.state().basePosition!.z - before) < 0.01)
    }

    @Test func missingRecordingsAreNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tether-recorded-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var record = TrialRecord(trial: 0, robot: "quadruped", policy: "p.onnx", backend: .emulator, seed: 1, success: false, failureMode: "fall",
                                 distance: 0.1, requiredDistance: 1, episodeSeconds: 1, score: 0, oscillationCutoffHz: 10, interventions: [:])
        record.recording = "\(folder)/gone.mcap"
        try TrialRecords.write([record], to: "\(folder)/trials.jsonl")
        #expect { try RecordedFailures.extract(trials: folder, robot: try BuiltinRobots.load("quadruped")) } throws: {
            "\($0)".contains("the recording of failed trial 0 is missing") && "\($0)".contains("gone.mcap")
        }
    }
}
