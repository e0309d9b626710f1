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
    /// Every run steps the same episodes: the bare replay ends where each trial ended, the records
    /// agree at every thread count, and the step count is the trials' own. Only counts and states
    /// are checked, never wall time.
    @Test func benchmarkStepsTheSameEpisodes() throws {
        let robot = try BuiltinRobots.load("cartpole")
        var task = try #require(robot.manifest.task)
        task.episodeSeconds = 0.5
        let path = "\(checkoutRoot)/policies/cartpole.onnx"
        let manifest = robot.manifest
        let spec = try RandomizationSpec.parse(yaml: """
            tether_randomization: 1
            terms:
              - {target: joint_damping, distribution: uniform, low: 0.5, high: 1.5}
              - {target: body_mass, distribution: uniform, low: 0.8, high: 1.2, independent: true}
              - {target: observation_noise, distribution: uniform, low: 0.5, high: 1.5}
            """)
        let sim = try GateSimulation(robot: robot, task: task, randomization: spec, threads: 1)
        let r = try GateBenchmark.measure(simulation: sim, trials: 5, seed: 1, threadCounts: [1, 2, 2]) {
            try OnnxPolicy(path: path, manifest: manifest)
        }
        let records = try sim.run(indices: Array(0..<5), seed: 1) { try OnnxPolicy(path: path, manifest: manifest) }
        let steps = records.map { Int(($0.seconds * manifest.rates.controlHz).rounded()) * manifest.rates.decimation }.reduce(0, +)
        #expect(r.physicsSteps == steps && steps > 0)
        #expect(r.recordsAgree && r.replayExact)
        #expect(r.successes == records.filter(\.success).count)
        #expect(r.runs.map(\.threads) == [1, 2] && r.threads == 2)
        #expect(r.runs[0].speedup == 1 && r.runs.allSatisfy { $0.ratio.isFinite && $0.ratio > 0 })
        #expect(throws: TetherError.self) { try GateBenchmark.measure(simulation: sim, trials: 0, seed: 1) { try OnnxPolicy(path: path, manifest: manifest) } }
        #expect(throws: TetherError.self) {
            try GateBenchmark.measure(simulation: sim, trials: 2, seed: 1, threadCounts: [0]) { try OnnxPolicy(path: path, manifest: manifest) }
        }
    }
}
