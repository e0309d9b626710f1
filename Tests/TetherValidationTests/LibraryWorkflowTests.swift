import Foundation
import Testing
import TetherCore
import TetherPolicy
import TetherRuntime
import TetherSim
import TetherEmulator
@testable import TetherValidation

/// The workflows a Swift user calls instead of the command line (docs/library.md): each does what
/// its command does, and its properties hold through the library alone.
@Suite struct LibraryWorkflowTests {
    static let policy = "\(repositoryRoot)/policies/cartpole.onnx"

    /// The gate through `ValidationRun`: trial i draws from stream (seed, i), so two shards merged
    /// are the unsharded run, trial for trial.
    @Test func aValidationRunInShardsMergesIntoTheWholeRun() throws {
        let robot = try BuiltinRobots.load("cartpole")
        var run = ValidationRun(robot: robot, policy: Self.policy, randomization: nil)
        run.trials = 6
        run.threads = 2
        let whole = try run.run()
        var shards: [GateResult] = []
        for index in 0..<2 {
            var shard = run
            shard.shard = try GateShard(parsing: "\(index)/2")
            shards.append(try shard.run())
        }
        let merged = try GateResult.merge(shards)
        #expect(merged.trialRecords.map(\.success) == whole.trialRecords.map(\.success))
        #expect(merged.trialRecords.map(\.distance) == whole.trialRecords.map(\.distance))
        #expect(merged.summary.successes == whole.summary.successes && whole.summary.trials == 6)
        #expect(whole.identity.manifestDigest != nil && whole.identity.randomization == nil)
    }

    /// `TrainingRun` writes a policy with its contract and its checkpoint; a warm start from that
    /// policy begins at its weights, and a recurrent policy is refused as a warm start.
    @Test func aTrainingRunWritesAPolicyThatWarmStartsTheNext() throws {
        let robot = try BuiltinRobots.load("cartpole")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tether-training-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var config = ARSConfig()
        config.iterations = 1
        config.directions = 4
        config.topDirections = 2
        config.episodeSeconds = 1
        config.evaluateEvery = 0
        config.threads = 2
        var lines: [String] = []
        let first = try TrainingRun(robot: robot, randomization: nil, config: config, output: "\(folder)/a.onnx").run { lines.append($0) }
        #expect(first.iterations == 1 && FileManager.default.fileExists(atPath: first.checkpoint))
        #expect(lines.contains { $0.hasPrefix("iter ") })
        let state = try TrainingRun.warmStartCheckpoint(policy: first.policy, manifest: robot.manifest)
        config.iterations = 0
        var warm = TrainingRun(robot: robot, randomization: nil, config: config, output: "\(folder)/b.onnx")
        warm.start = .warmStart(policy: first.policy)
        _ = try warm.run()
        let copied = try TrainingRun.warmStartCheckpoint(policy: "\(folder)/b.onnx", manifest: robot.manifest)
        #expect(copied.policy.mlp.weights == state.policy.mlp.weights)
        let lstm = "\(repositoryRoot)/tests/fixtures/cartpole-lstm.onnx"
        #expect { try TrainingRun.refuseRecurrentWarmStart(lstm) } throws: { "\($0)".contains("recurrent policy") }
    }

    /// One backend factory: the simulated robot starts lying passive (as a real one would), the
    /// virtual robot carries the named truth, and a hung robot hangs at the asked height.
    @Test func theBackendFactoryMakesEachRobot() throws {
        let robot = try BuiltinRobots.load("quadruped")
        let lying = try #require(try RobotBackend.sim.makeRobot(robot, clock: ManualClock()).latestState()).state
        let hung = try #require(try RobotBackend.sim.makeRobot(robot, clock: ManualClock(), setup: .init(hungAt: 0.8)).latestState()).state
        #expect(try #require(lying.basePosition).z < 0.2)
        #expect(abs(try #require(hung.basePosition).z - 0.8) < 0.05)
        #expect(try RobotBackend.emulator.makeRobot(robot, clock: ManualClock(), setup: .init(truth: "harsh")) is VirtualRobot)
        #expect(throws: TetherError.self) { try RobotBackend.emulator.makeRobot(robot, clock: ManualClock(), setup: .init(truth: "no-such-truth")) }
        #expect(RobotBackend.allCases.filter(\.isInProcess) == [.sim, .emulator])
        #expect(throws: TetherError.self) { try RobotBackend(parsing: "gazebo") }
    }

    /// `DeploymentSchedule`: the policy starts half a second after the stand-up and stops 1.5 s
    /// before the end, never before it starts; holding runs no policy.
    @Test func theScheduleTimesEveryDeploymentAlike() {
        let s = DeploymentSchedule(seconds: 15)
        #expect(s.policyStart == 3 && s.policyStop == 13.5)
        #expect(DeploymentSchedule(seconds: 3).policyStop == 3)
        #expect(s.script.map(\.command) == [.standUp, .startPolicy, .stop])
        #expect(DeploymentSchedule(seconds: 8, holdOnly: true).script.map(\.command) == [.standUp, .stop])
        #expect(TorqueStage.allCases.map(\.fraction) == [0.25, 0.5, 1] && TorqueStage(fraction: 0.5) == .half)
    }
}
