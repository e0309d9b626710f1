import ArgumentParser
import Foundation
import TetherCore
import TetherONNX
import TetherPolicy
import TetherSim
import TetherValidation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a policy for the manifest's task with Augmented Random Search (ARS V2-t).",
        discussion: """
        Runs parallel MuJoCo rollouts on all cores, under domain randomization when --randomize \
        names a spec (docs/randomization.md), shows progress each iteration, checkpoints after \
        each (resume with --resume), and exports an ONNX policy with the contract in its metadata. \
        Reproducible from --seed whatever the thread count.

        Examples:
          tether train --robot cartpole --iterations 60 --seed 1 --out policies/cartpole.onnx
          tether train --robot quadruped --randomize robots/quadruped/randomization.yaml --iterations 300 --out walk.onnx
          tether train --robot cartpole --resume policies/cartpole.onnx.checkpoint.json --iterations 100 --out cartpole.onnx
        """
    )

    @Option(help: "Built-in robot name or manifest path.") var robot = "cartpole"
    @Option(help: "Output ONNX path (a checkpoint is written beside it).") var out: String
    @Option(help: "Domain randomization spec (YAML).") var randomize: String?
    @Option(help: "Checkpoint to resume from.") var resume: String?
    @Option(help: "ONNX policy to warm-start from (native weights are read from its checkpoint).") var warmStart: String?
    @Option(help: "Total iterations.") var iterations = 100
    @Option(help: "Directions per iteration (N).") var directions = 16
    @Option(help: "Best directions kept (b).") var top = 8
    @Option(help: "Step size (alpha).") var stepSize = 0.02
    @Option(help: "Exploration noise (nu).") var noise = 0.03
    @Option(help: "Training episode length in seconds.") var episodeSeconds = 10.0
    @Option(help: "Hidden layer widths, comma separated (empty: linear policy).") var hidden = ""
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Worker threads (default: all cores).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Evaluate every this many iterations.") var evaluateEvery = 10
    @Option(help: "Start from an open-loop gait the policy learns residuals around (PMTG): 'trot' for the quadruped.") var gait: String?
    @Option(help: "Fourier harmonics of the gait generator.") var harmonics = 8
    @Option(help: "Failure scenarios to replay during training (failure-scenarios.yaml from tether improve).") var scenarios: String?
    @Option(help: "Share of each iteration's directions that replay a scenario.") var scenarioShare = 0.125
    @Option(help: "Recorded failures to start training episodes from (recorded-scenarios.json from tether improve --recordings).") var starts: String?
    @Option(help: "Share of each iteration's directions that start from a recorded state.") var startShare = 0.125

    func validate() throws {
        guard iterations >= 0, directions > 0, top > 0, top <= directions else { throw ValidationError("need --iterations >= 0 (0 exports the starting "
            + "policy) and 0 < --top <= --directions") }
        guard stepSize > 0, noise > 0, episodeSeconds > 0 else { throw ValidationError("--step-size, --noise and --episode-seconds must be positive") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        guard scenarioShare > 0, scenarioShare <= 1 else { throw ValidationError("--scenario-share must be in (0, 1]") }
        guard startShare > 0, startShare <= 1 else { throw ValidationError("--start-share must be in (0, 1]") }
        if !hidden.isEmpty, hidden.split(separator: ",").contains(where: { Int($0) == nil || Int($0)! <= 0 }) {
            throw ValidationError("--hidden takes positive widths separated by commas, e.g. 64,64")
        }
    }

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        let spec = try report { try randomize.map { try RandomizationSpec.load(path: $0) } }
        var config = ARSConfig()
        config.iterations = iterations
        config.directions = directions
        config.topDirections = top
        config.stepSize = stepSize
        config.noise = noise
        config.episodeSeconds = episodeSeconds
        config.hidden = hidden.split(separator: ",").compactMap { Int($0) }
        config.seed = seed
        config.threads = threads
        config.evaluateEvery = evaluateEvery
        var run = TrainingRun(robot: robotModel, randomization: spec, config: config, output: out)
        run.start = resume.map { .resume(checkpoint: $0) } ?? warmStart.map { .warmStart(policy: $0) } ?? .scratch
        run.gait = gait
        run.harmonics = harmonics
        run.scenariosFile = scenarios
        run.scenarioShare = scenarioShare
        run.startsFile = starts
        run.startShare = startShare
        run.metadata["training_command"] = HistoryHooks.commandLine
        let outcome = try report { try run.run { emit($0) } }
        print("wrote \(outcome.policy) and \(outcome.checkpoint)")
    }
}
