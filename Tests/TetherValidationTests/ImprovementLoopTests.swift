import Foundation
import Testing
import TetherCore
@testable import TetherValidation

@Suite struct ImprovementLoopTests {
    @Test func failuresBecomeReproducibleScenariosAndTheComparisonCountsThem() throws {
        let before = try ValidationGate(identity: identity(trials: 200, seed: 5, policy: "old.onnx")).run(runTrials: syntheticTrials(seed: 5, rate: 0.8))
        let after = try ValidationGate(identity: identity(trials: 200, seed: 5, policy: "new.onnx")).run(runTrials: syntheticTrials(seed: 5, rate: 0.95))
        let scenarios = ImprovementLoop.scenarios(from: before)
        #expect(scenarios.count == before.summary.trials - before.summary.successes)
        #expect(scenarios.allSatisfy { $0.seed == 5 })
        #expect(zip(scenarios, scenarios.dropFirst()).allSatisfy { $0.distance <= $1.distance })
        let yaml = ImprovementLoop.scenariosYAML(scenarios, policy: "old.onnx", randomization: "r.yaml")
        #expect(yaml.contains("tether_scenarios: 1") && yaml.components(separatedBy: "  - seed: 5").count - 1 == scenarios.count)
        // The file reads back into the same scenarios, and into the streams training replays.
        let path = NSTemporaryDirectory() + "scenarios-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let loaded = try ImprovementLoop.loadScenarios(path: path)
        #expect(loaded.map(\.trial) == scenarios.map(\.trial) && loaded.map(\.failureMode) == scenarios.map(\.failureMode))
        #expect(ImprovementLoop.episodeStreams(loaded).map(\.stream) == scenarios.map { UInt64($0.trial) })
        try "scenarios:\n  - {seed: 5}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try ImprovementLoop.loadScenarios(path: path) } throws: { "\($0)".contains("scenario 1 needs a non-negative integer 'seed' and 'trial'") }
        let c = try ImprovementLoop.compare(before: before, after: after)
        // Recomputed from the raw records.
        let b = before.trialRecords.filter(\.success).count, a = after.trialRecords.filter(\.success).count
        #expect(c.before.successes == b && c.after.successes == a)
        #expect(abs(c.change - 100 * Double(a - b) / 200) < 1e-9)
        let failed = Set(before.trialRecords.filter { !$0.success }.map(\.index))
        #expect(c.scenariosFixed == after.trialRecords.filter { $0.success && failed.contains($0.index) }.count)
        #expect(c.scenariosTotal == failed.count)
        #expect(c.fisherP > 0 && c.fisherP <= 1)
        // Different trials cannot be compared.
        let other = try ValidationGate(identity: identity(trials: 200, seed: 6)).run(runTrials: syntheticTrials(seed: 6, rate: 0.9))
        #expect(throws: TetherError.self) { try ImprovementLoop.compare(before: before, after: other) }
    }
}
