import ArgumentParser
import Foundation
import TetherCalibration
import TetherCore
import TetherEmulator
import TetherPolicy
import TetherRuntime
import TetherSim
import TetherValidation

extension Bench {
    struct ImproveBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "improve",
            abstract: "The improvement loop on the demo's problem: gate before / after, wall time, env steps; training vs bare simulation.",
            discussion: """
            Records the calibration experiments on the virtual robot with the field truth \
            (robots/quadruped/field-truth.yaml: a slow link, a heavier body, a slippery floor), \
            calibrates, and runs `tether improve`'s loop (ImprovementRun) on the shipped quadruped \
            policy under the calibrated randomization with the given budget. Prints the gate's \
            success before and after (on fresh trials), why it stopped, the wall time split into \
            training and gate checks, and the training's environment steps per second against bare \
            PD stepping of the same model on the same threads (the cost of the policy, the \
            randomization and the episode bookkeeping).

            Examples:
              tether bench improve
              tether bench improve --budget 4min --json
            """
        )
        @Option(help: "Budget of the loop (wall time such as 8min, or env steps such as 2M steps).") var budget = "8min"
        @Option(help: "Truth of the virtual robot (preset or YAML; default: the field truth).") var truth: String?
        @Option(help: "Working folder (recordings, calibration, candidates).") var out = "out/bench-improve"
        @Flag(help: "Print the report as JSON.") var json = false

        struct Result: Codable {
            var truth: String
            var measuredDelay: Double?
            var before: Side
            var after: Side?
            var stopReason: String
            var iterations: Int
            var environmentSteps: Int
            var wallSeconds: Double
            var trainingSeconds: Double
            var checkSeconds: Double
            var trainingEnvironmentStepsPerSecond: Double
            var barePhysicsStepsPerSecond: Double
            var trainingPhysicsStepsPerSecond: Double
            /// Training physics steps/s over bare PD stepping.
            var trainingEfficiency: Double
            struct Side: Codable { var successes: Int; var trials: Int; var lower: Double; var decision: String }
        }

        func run() throws {
            let parsedBudget: ImprovementBudget
            do { parsedBudget = try ImprovementBudget(parsing: budget) } catch { throw ValidationError("\(error)") }
            guard let root = TetherPaths.checkoutRoot() else { throw ValidationError("run from a Tether checkout (the shipped policy and the field truth "
                + "are in it)") }
            let toStandardError = json
            let say: @Sendable (String) -> Void = { line in
                if toStandardError { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { emit(line) }
            }
            let truthPath = truth ?? "\(root)/robots/quadruped/field-truth.yaml"
            let policy = "\(root)/policies/quadruped.onnx"
            let robotModel = try report { try BuiltinRobots.load("quadruped") }
            let hidden = try report { try Truth.named(truthPath) }
            try report { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            let wall = ContinuousClock.now
            // Experiments and calibration, as the demo runs them.
            say("tether bench improve: quadruped, \(policy) on the virtual robot (truth \(truthPath)), budget \(parsedBudget)")
            let (outcome, _) = try Demo.experimentsAndCalibration(robot: robotModel, truth: hidden, directory: "\(out)/calibration")
            let delay = outcome.file.parameters.first { $0.name == "driver.delay" }?.estimate.first
            say("  experiments and calibration: \(fmt((ContinuousClock.now - wall).seconds, 1)) s; measured delay "
                + "\(delay.map { fmt(1000 * $0, 1) + " ms" } ?? "—")")
            let gate = try report { try RandomizationSpec.load(path: "\(out)/calibration/randomization.yaml") }
            let run = ImprovementRun(robot: robotModel, policyPath: policy, gate: gate, training: nil, budget: parsedBudget, outputDirectory: "\(out)/improve")
            let result = try report { try run.run(progress: { line in if !line.hasPrefix("  iter") { say(line) } }) }
            // Bare PD stepping of the same model on the same threads, as many physics steps as one training chunk.
            let decimation = robotModel.manifest.rates.decimation
            let episodes = 2 * run.config.directions
            let stepsPerEpisode = Int(run.config.episodeSeconds * robotModel.manifest.rates.physicsHz)
            let t0 = ContinuousClock.now
            _ = robotModel.rollouts(BatchRollout(trials: episodes, seed: 1, threads: run.config.threads)) { sim, _, _ in
                sim.stepPhysics(stepsPerEpisode)
                return 0
            }
            let bare = Double(episodes * stepsPerEpisode) / (ContinuousClock.now - t0).seconds
            let envRate = Double(result.environmentSteps) / max(result.trainingSeconds, 1e-9)
            let physicsRate = envRate * Double(decimation)
            func side(_ g: GateResult) -> Result.Side {
                .init(successes: g.summary.successes, trials: g.summary.trials, lower: g.summary.decisionInterval.lower, decision: g.summary.decision.rawValue)
            }
            let r = Result(truth: truthPath, measuredDelay: delay, before: side(result.before), after: result.after.map(side),
                           stopReason: result.stopReason.rawValue,
                           iterations: result.iterations, environmentSteps: result.environmentSteps, wallSeconds: (ContinuousClock.now - wall).seconds,
                           trainingSeconds: result.trainingSeconds, checkSeconds: result.checkSeconds, trainingEnvironmentStepsPerSecond: envRate,
                           barePhysicsStepsPerSecond: bare, trainingPhysicsStepsPerSecond: physicsRate, trainingEfficiency: physicsRate / bare)
            if json { try printJSON(r); return }
            print(String(format: "gate before %d/%d (lower bound %.1f %%, %@) → after %@; %@ after %d iterations",
                         r.before.successes, r.before.trials, 100 * r.before.lower, r.before.decision,
                         r.after.map { String(format: "%d/%d on fresh trials (lower bound %.1f %%, %@)", $0.successes, $0.trials, 100 * $0.lower,
                                              $0.decision) } ?? "—",
                         r.stopReason, r.iterations))
            print(String(format: "wall time %.0f s in all: %.0f s training (%d env steps, %.0f env steps/s), %.0f s validations and checks", r.wallSeconds,
                         r.trainingSeconds,
                         r.environmentSteps, envRate, r.checkSeconds))
            print(String(format: "training %.0f physics steps/s vs bare PD stepping %.0f: ratio %.3f", physicsRate, bare, r.trainingEfficiency))
        }
    }
}
