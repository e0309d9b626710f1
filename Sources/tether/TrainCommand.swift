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
        guard iterations >= 0, directions > 0, top > 0, top <= directions else { throw ValidationError("need --iterations >= 0 (0 exports the starting policy) and 0 < --top <= --directions") }
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
        if let scenarios {
            let loaded = try report { try ImprovementLoop.loadScenarios(path: scenarios) }
            if !loaded.isEmpty {
                config.scenarios = ImprovementLoop.episodeStreams(loaded)
                config.scenarioShare = scenarioShare
                emit("replaying \(loaded.count) failure scenarios in \(config.scenarioDirections) of \(directions) directions per iteration")
            }
        }
        if let starts {
            let loaded = try report { try RecordedFailures.load(path: starts) }
            let states = RecordedFailures.starts(loaded, manifest: robotModel.manifest)
            if states.count < loaded.count {
                emit("warning: \(starts): \(loaded.count - states.count) of \(loaded.count) recorded states do not fit \(robotModel.manifest.name) (joint counts, orientation, action size, finite values); skipped")
            }
            if !states.isEmpty {
                config.starts = states
                config.startShare = startShare
                emit("starting \(config.startDirections) of \(directions) directions per iteration from \(states.count) recorded failure state\(states.count == 1 ? "" : "s")")
            }
        }
        let checkpointPath = out + ".checkpoint.json"
        let commandLine = (["tether"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        try report {
            var start: ARSCheckpoint
            if let resume {
                start = try ARSCheckpoint.read(from: resume)
                guard start.robot == robotModel.manifest.name else {
                    throw TetherError("the checkpoint is for robot '\(start.robot)', not '\(robotModel.manifest.name)'", at: resume)
                }
                config.hidden = start.config.hidden
                config.activation = start.config.activation
                start.config.iterations = iterations
                emit("resuming at iteration \(start.iteration) of \(iterations)")
            } else {
                let trainer = try ARSTrainer(robot: robotModel, randomization: spec, config: config)
                var warm: PolicyNetwork?
                if let warmStart {
                    try refuseRecurrentWarmStart(warmStart)
                    warm = try ARSCheckpoint.read(from: warmStart + ".checkpoint.json").policy
                }
                start = trainer.initialCheckpoint(warmStart: warm)
                if let gait {
                    guard gait == "trot" else { throw TetherError("unknown gait '\(gait)'", hint: "the built-in gait is 'trot'") }
                    let (generator, error) = try TrotGait().generator(for: robotModel.manifest, harmonics: harmonics)
                    start.policy.generator = generator
                    emit("gait: trot at \(TrotGait().frequency) Hz as \(harmonics) Fourier harmonics (largest fit error \(fmt(error, 4)) rad)")
                }
            }
            let trainer = try ARSTrainer(robot: robotModel, randomization: spec, config: config)
            let task = robotModel.manifest.task!
            emit("training \(robotModel.manifest.name) (\(task.kind.rawValue)) with ARS: \(config.directions) directions, top \(config.topDirections), α \(config.stepSize), ν \(config.noise), \(config.threads) threads, seed \(seed)\(spec.map { ", randomization \($0.sourcePath ?? "")" } ?? "")")
            let final = try trainer.train(from: start, progress: { log in
                var line = String(format: "iter %4d  mean return %9.2f  best %9.2f  %8.0f env steps/s", log.iteration, log.meanReturn, log.bestReturn, log.stepsPerSecond)
                if let r = log.evaluationReturn, let s = log.evaluationSuccess { line += String(format: "  eval return %9.2f success %5.1f%%", r, 100 * s) }
                emit(line)
            }, checkpoint: { try $0.write(to: checkpointPath) })
            let policy = trainer.exportedPolicy(final)
            var metadata = PolicyContract(manifest: robotModel.manifest).metadata
            metadata["training"] = "ARS V2-t, \(final.iteration) iterations, seed \(seed)"
            metadata["training_command"] = commandLine
            try OnnxWriter.write(policy, metadata: metadata, to: out)
            print("wrote \(out) and \(checkpointPath)")
        }
    }
}

/// Tether's trainer (ARS) trains feed-forward networks from their native checkpoint; a recurrent
/// policy (trained elsewhere) can be validated, deployed and replayed, but not warm-started.
func refuseRecurrentWarmStart(_ path: String) throws {
    guard FileManager.default.fileExists(atPath: path) else { return }
    let session = try OnnxSession(path: path)
    if let signature = try? PolicySignature.recognise(session, observationSize: nil), !signature.states.isEmpty {
        throw TetherError("a recurrent policy (\(signature.kind)): Tether's trainer (ARS) trains feed-forward policies and cannot warm-start it", at: path,
                          hint: "retrain or fine-tune it in the trainer that made it (rsl_rl, Isaac Lab), then validate and deploy it with Tether; `tether validate` and `tether deploy` run recurrent policies")
    }
}
