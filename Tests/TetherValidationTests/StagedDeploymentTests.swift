import Foundation
import Testing
import TetherCore
import TetherPolicy
import TetherSim
@testable import TetherValidation

private let stagedRepositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Holds the default pose: the action that maps to the default joint positions (zero).
private struct StandStill: PolicyRuntime {
    var observationSize: Int
    var actionSize: Int
    mutating func act(_ observation: [Float]) throws -> [Float] { [Float](repeating: 0, count: actionSize) }
}

@Suite struct StagedDeploymentTests {
    static let stages = [StagedDeployment.Stage(torque: .quarter, task: .standAndHold, runs: 1, seconds: 6),
                         StagedDeployment.Stage(torque: .half, task: .shortWalk, runs: 1, seconds: 8),
                         StagedDeployment.Stage(torque: .full, task: .fullTask, runs: 2, seconds: 8)]

    @Test func theShippedPolicyGoesThroughEveryStageInSimulation() throws {
        let model = try BuiltinRobots.load("quadruped")
        let path = "\(stagedRepositoryRoot)/policies/quadruped.onnx"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tether-staged-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let staged = StagedDeployment(stages: Self.stages, backend: .sim, seed: 3, recordingFolder: folder)
        var seen: [Double] = []
        let results = try staged.run(robot: model, policyName: path, makePolicy: { try OnnxPolicy(path: path,
                manifest: model.manifest) }) { seen.append($0.stage.fraction) }
        #expect(seen == [0.25, 0.5, 1.0] && results.allSatisfy(\.passed))
        // Each stage ran at its torque fraction, the first without the policy (no policy time).
        #expect(results.map { $0.records.map(\.stage) } == [[0.25], [0.5], [1.0, 1.0]])
        #expect(results[0].records[0].episodeSeconds == 0 && results[0].summary == "held the pose, no safety stop")
        // The short walk asks a quarter of the task's pro-rated distance.
        let walk = results[1].records[0]
        #expect(walk.requiredDistance > 0 && walk.distance >= walk.requiredDistance)
        #expect(FileManager.default.fileExists(atPath: "\(folder)/stage-25/trial-000.mcap"))
        #expect(FileManager.default.fileExists(atPath: "\(folder)/stage-100/trial-001.mcap"))
    }

    @Test func aStageThatDoesNotPassStopsTheRollout() throws {
        let model = try BuiltinRobots.load("quadruped")
        let m = model.manifest
        let staged = StagedDeployment(stages: Self.stages, backend: .sim, seed: 3)
        let results = try staged.run(robot: model, policyName: "stand-still",
                                     makePolicy: { StandStill(observationSize: m.observationSize, actionSize: m.actionSize) })
        // Standing still passes the 25 % stage and cannot pass the walk: 100 % is never run.
        #expect(results.count == 2 && results[0].passed && !results[1].passed)
        #expect(results[1].records[0].failureMode == "no_progress" && results[1].summary.contains("the next stage is not run"))
    }
}
