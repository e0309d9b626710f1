import Foundation
import Synchronization
import Testing
import TetherCore
import TetherPolicy
import TetherSim
@testable import TetherValidation

@Suite struct ImprovementRunTests {
    @Test func budgetsReadTimeOrStepsAndRefuseTheRest() throws {
        #expect(try ImprovementBudget(parsing: "8min").seconds == 480)
        #expect(try ImprovementBudget(parsing: "8 min").seconds == 480)
        #expect(try ImprovementBudget(parsing: "8m").seconds == 480)
        #expect(try ImprovementBudget(parsing: "90s").seconds == 90)
        #expect(try ImprovementBudget(parsing: "1.5h").seconds == 5400)
        #expect(try ImprovementBudget(parsing: "2M steps").environmentSteps == 2_000_000)
        #expect(try ImprovementBudget(parsing: "500k steps").environmentSteps == 500_000)
        #expect(try ImprovementBudget(parsing: "2e6 steps").environmentSteps == 2_000_000)
        #expect(try ImprovementBudget(parsing: "1 step").environmentSteps == 1)
        for bad in ["soon", "", "-3min", "0s", "min", "2x steps", "nan s"] {
            #expect { try ImprovementBudget(parsing: bad) } throws: { "\($0)".contains("--budget") && "\($0)".contains("8min") }
        }
        let seconds = try ImprovementBudget(parsing: "60s")
        #expect(seconds.allows(elapsed: 30, steps: 0, nextSeconds: 29, nextSteps: 0))
        #expect(!seconds.allows(elapsed: 30, steps: 0, nextSeconds: 31, nextSteps: 0))
        let steps = try ImprovementBudget(parsing: "1000 steps")
        #expect(steps.allows(elapsed: 1e6, steps: 500, nextSeconds: 1e6, nextSteps: 500))
        #expect(!steps.allows(elapsed: 0, steps: 600, nextSeconds: 0, nextSteps: 500))
    }

    /// The smallest success count that passes the gate, against scipy's beta quantile (the
    /// Clopper–Pearson lower bound of s of n at 95 % is beta.ppf(0.025, s, n − s + 1)).
    @Test func successesForGoMatchScipysClopperPearson() throws {
        let cases: [(Int, Double)] = [(100, 0.9), (60, 0.9), (40, 0.7), (300, 0.95), (20, 0.5)]
        let script = """
        import json, sys
        from scipy.stats import beta
        out = []
        for n, t in json.loads(sys.argv[1]):
            s = next((s for s in range(n + 1) if s > 0 and beta.ppf(0.025, s, n - s + 1) >= t), None)
            out.append(s)
        print(json.dumps(out))
        """
        let argument = "[" + cases.map { "[\($0.0), \($0.1)]" }.joined(separator: ",") + "]"
        let output = try TetherPaths.run(try TetherPaths.python(), ["-c", script, argument])
        let expected = try JSONDecoder().decode([Int?].self, from: Data(output.utf8))
        #expect(cases.map { ImprovementRun.successesForGo(trials: $0.0, threshold: $0.1) } == expected)
        #expect(ImprovementRun.successesForGo(trials: 100, threshold: 0.9) == 96)
        #expect(ImprovementRun.successesForGo(trials: 10, threshold: 0.9) == nil)  // 10/10 has lower bound 69 %
    }

    static let cartpole = "\(repositoryRoot)/robots/cartpole/cartpole.yaml"
    static let policy = "\(repositoryRoot)/policies/cartpole.onnx"

    static func spec(latency: ClosedRange<Double>) throws -> RandomizationSpec {
        let path = NSTemporaryDirectory() + "improve-spec-\(UUID().uuidString).yaml"
        try """
        tether_randomization: 1
        terms:
          - {target: action_latency, distribution: uniform, low: \(latency.lowerBound), high: \(latency.upperBound)}
          - {target: body_mass, distribution: uniform, low: 0.8, high: 1.2}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return try RandomizationSpec.load(path: path)
    }

    /// The cartpole policy under a latency it was not trained for fails the gate; one chunk of
    /// training (the budget allows no more) is checked on fresh trials, the chosen policy is
    /// validated on trials no check or training used, and written with its checkpoint.
    @Test func aFailedGateIsTrainedCheckedOnFreshTrialsAndConfirmedElsewhere() throws {
        let robot = try RobotModel.load(manifestPath: Self.cartpole)
        let folder = NSTemporaryDirectory() + "improve-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var run = ImprovementRun(robot: robot, policyPath: Self.policy, gate: try Self.spec(latency: 0.06...0.08), training: nil,
                                 budget: try ImprovementBudget(parsing: "1 step"), outputDirectory: folder)
        run.trials = 40
        run.threshold = 0.7
        let collected = Mutex<[String]>([])
        let outcome = try run.run { line in collected.withLock { $0.append(line) } }
        let lines = collected.withLock { $0 }
        #expect(outcome.before.summary.decision == .noGo && outcome.before.identity.seed == 7)
        #expect(outcome.iterations == run.chunk)  // one chunk: the budget of one step allows no second
        #expect(outcome.environmentSteps > 0 && outcome.trainingSeconds > 0)
        #expect(outcome.stopReason == .gatePasses || outcome.stopReason == .budgetSpent)
        let checks = outcome.checks.filter { !$0.confirmation }
        #expect(checks.count == 1 && checks[0].seed == 8 && checks[0].iteration == run.chunk)
        let after = try #require(outcome.after)
        #expect(after.identity.seed != outcome.before.identity.seed && !checks.contains { $0.seed == after.identity.seed })
        #expect(after.summary.trials == 40 && after.identity.policy == "\(folder)/improved.onnx")
        if outcome.stopReason == .gatePasses { #expect(after.summary.decision == .go) }
        // The failures of the before gate, run again (they were trained on), are counted.
        #expect(outcome.scenariosTotal == outcome.before.summary.trials - outcome.before.summary.successes)
        #expect(outcome.scenariosFixed <= outcome.scenariosTotal)
        // The chosen policy loads, and its checkpoint continues from where training stopped.
        _ = try OnnxPolicy(path: outcome.policy, manifest: robot.manifest)
        #expect(try ARSCheckpoint.read(from: outcome.policy + ".checkpoint.json").iteration == run.chunk)
        #expect(lines.contains { $0.contains("check after 5 iterations (fresh trials, seed 8)") })
        // The report: JSON that reads back, and a page with the checks and the verdict.
        let report = ImprovementReport(outcome: outcome, budget: run.budget, gateRandomization: "gate.yaml", trainingRandomization: "gate.yaml")
        let decoded = try JSONDecoder().decode(ImprovementReport.self, from: JSONEncoder().encode(report))
        #expect(decoded.comparison == report.comparison && decoded.checks == outcome.checks && decoded.successesForGo == 34)
        #expect(report.afterOnFreshTrials && report.comparison.before.successes == outcome.before.summary.successes)
        let page = report.html().render()
        #expect(page.contains("Checks during training") && page.contains("Before and "
            + "after") && page.contains("seed") && page.contains(outcome.stopReason.rawValue))
    }

    @Test func aPolicyThatAlreadyPassesIsNotTrained() throws {
        let robot = try RobotModel.load(manifestPath: Self.cartpole)
        let folder = NSTemporaryDirectory() + "improve-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var run = ImprovementRun(robot: robot, policyPath: Self.policy, gate: try Self.spec(latency: 0...0.01), training: nil,
                                 budget: try ImprovementBudget(parsing: "1 step"), outputDirectory: folder)
        run.trials = 40
        run.threshold = 0.7
        let outcome = try run.run()
        #expect(outcome.stopReason == .alreadyPasses && outcome.after == nil && outcome.iterations == 0 && outcome.policy == Self.policy)
    }

    @Test func aPolicyWithoutACheckpointIsRefusedWithTheReason() throws {
        let robot = try RobotModel.load(manifestPath: Self.cartpole)
        let folder = NSTemporaryDirectory() + "improve-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let copy = "\(folder)/copy.onnx"
        try FileManager.default.copyItem(atPath: Self.policy, toPath: copy)
        var run = ImprovementRun(robot: robot, policyPath: copy, gate: try Self.spec(latency: 0.06...0.08), training: nil,
                                 budget: try ImprovementBudget(parsing: "1 step"), outputDirectory: folder)
        run.trials = 40
        run.threshold = 0.7
        #expect { try run.run() } throws: { "\($0)".contains("no ARS checkpoint beside the policy") && "\($0)".contains("copy.onnx.checkpoint.json") }
        run.trials = 10
        run.threshold = 0.9
        #expect { try run.run() } throws: { "\($0)".contains("no result of 10 trials can pass a 90 % gate") }
    }
}
