import Foundation
import Testing
import TetherBench
import TetherCore
import TetherPolicy
import TetherSim
import TetherValidation

/// The checkout, for the committed policies.
let checkoutRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Suite struct GateBenchmarkTests {
    /// Both runs step the same physics steps; only counts are checked, never wall time.
    @Test func benchmarkStepsTheSameEpisodes() throws {
        let robot = try BuiltinRobots.load("cartpole")
        var task = try #require(robot.manifest.task)
        task.episodeSeconds = 0.5
        let path = "\(checkoutRoot)/policies/cartpole.onnx"
        let manifest = robot.manifest
        let sim = try GateSimulation(robot: robot, task: task, randomization: nil, threads: 2)
        let r = try runGateBenchmark(simulation: sim, trials: 3, seed: 1) { try OnnxPolicy(path: path, manifest: manifest) }
        #expect(r.trials == 3 && r.physicsSteps == 3 * Int((0.5 * manifest.rates.controlHz).rounded()) * manifest.rates.decimation)
        #expect(r.ratio.isFinite && r.ratio > 0)
        #expect(throws: TetherError.self) { try runGateBenchmark(simulation: sim, trials: 0, seed: 1) { try OnnxPolicy(path: path, manifest: manifest) } }
    }
}
