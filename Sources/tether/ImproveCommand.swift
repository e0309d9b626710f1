import ArgumentParser
import Foundation
import TetherCore
import TetherSim
import TetherValidation

struct Improve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One iteration of the improvement loop: validate, extract the failures, retrain warm-started, validate again.",
        discussion: """
        Validates the policy under the randomization (e.g. the one calibration derived), writes \
        the failed trials as reproducible scenarios (seed + trial index + drawn parameters), \
        retrains with ARS warm-started from the policy under the same randomization, validates \
        the new policy on the same trials, and reports before / after (success, Wilson \
        intervals, Fisher's exact test, scenarios fixed). Redeploy the new policy with \
        `tether deploy --policy DIR/improved.onnx`.

        Examples:
          tether improve --robot quadruped --policy policies/quadruped.onnx --randomize calibration/randomization.yaml --out improve/
        """
    )

    @Option(help: "Built-in robot name or manifest path.") var robot = "quadruped"
    @Option(help: "ONNX policy to improve (its training checkpoint beside it is used for the warm start).") var policy: String
    @Option(help: "Randomization spec (YAML).") var randomize: String
    @Option(help: "Retraining iterations.") var iterations = 15
    @Option(help: "Validation trials before and after.") var trials = 60
    @Option(help: "Validation seed (the same trials before and after).") var seed: UInt64 = 7
    @Option(help: "Training seed.") var trainingSeed: UInt64 = 2
    @Option(help: "Output folder.") var out = "improve"

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        try report {
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                throw TetherError("cannot create the output folder: \(error.localizedDescription)", at: out)
            }
        }
        func validate(_ policyPath: String, _ name: String) throws -> GateResult {
            let gate = try Validate.RunGate.parse(["--robot", robot, "--policy", policyPath, "--randomize", randomize, "--trials", "\(trials)",
                                                   "--seed", "\(seed)", "--out", "\(out)/\(name).json", "--report", "\(out)/\(name).html"])
            try gate.run()
            return try report { try GateResult.load(path: "\(out)/\(name).json") }
        }
        emit("① validate \(policy)")
        let before = try validate(policy, "before")
        let scenarios = ImprovementLoop.scenarios(from: before)
        try report {
            do {
                try ImprovementLoop.scenariosYAML(scenarios, policy: policy, randomization: randomize)
                    .write(toFile: "\(out)/failure-scenarios.yaml", atomically: true, encoding: .utf8)
            } catch { throw TetherError("cannot write the scenarios: \(error.localizedDescription)", at: out) }
        }
        emit("② \(scenarios.count) failure scenarios → \(out)/failure-scenarios.yaml")
        emit("③ retrain, warm-started from \(policy), \(iterations) iterations under \(randomize)")
        var arguments = ["--robot", robot, "--warm-start", policy, "--randomize", randomize, "--iterations", "\(iterations)",
                         "--seed", "\(trainingSeed)", "--out", "\(out)/improved.onnx"]
        if robotModel.manifest.task?.kind == .walk { arguments += ["--gait", "trot", "--episode-seconds", "15"] }
        let train = try Train.parse(arguments)
        try train.run()
        emit("④ validate \(out)/improved.onnx on the same trials")
        let after = try validate("\(out)/improved.onnx", "after")
        let comparison = try report { try ImprovementLoop.compare(before: before, after: after) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try report {
            do { try encoder.encode(comparison).write(to: URL(fileURLWithPath: "\(out)/improve.json")) } catch {
                throw TetherError("cannot write improve.json: \(error.localizedDescription)", at: out)
            }
        }
        let b = comparison.before, a = comparison.after
        print(String(format: "improve: success %d/%d (%.1f %%, %@) → %d/%d (%.1f %%, %@), %+.1f points, Fisher p = %.3g; %d of %d failure scenarios now pass",
                     b.successes, b.trials, 100 * b.rate, b.decision, a.successes, a.trials, 100 * a.rate, a.decision, comparison.change,
                     comparison.fisherP, comparison.scenariosFixed, comparison.scenariosTotal))
        print("  new policy \(out)/improved.onnx (redeploy: tether deploy --policy \(out)/improved.onnx); reports \(out)/before.html, \(out)/after.html")
    }
}
