import Foundation
import TetherCore
import TetherONNX
import TetherPolicy
import TetherSim

/// One training run with ARS, as `tether train` runs it and a Swift user can call it: from
/// scratch, resumed from a checkpoint, or warm-started from a policy Tether trained; optionally
/// around an open-loop gait (PMTG), replaying failure scenarios (`tether improve`'s
/// failure-scenarios.yaml) and starting from recorded failure states (recorded-scenarios.json).
/// Writes the ONNX policy with its contract in the metadata and, after every iteration, the
/// checkpoint beside it (`POLICY.onnx.checkpoint.json`). Reproducible from the seed whatever the
/// thread count.
public struct TrainingRun {
    /// Where training starts.
    public enum Start: Sendable, Equatable {
        /// A new policy (`config.hidden` sets its shape).
        case scratch
        /// Continue a checkpoint (`tether train --resume`): its network, normalization and
        /// iteration count; `config.iterations` is the new total.
        case resume(checkpoint: String)
        /// Start from a policy Tether trained (its checkpoint beside it): its weights, a new run.
        case warmStart(policy: String)
    }

    public var robot: RobotModel
    /// Domain randomization (nil: the nominal model).
    public var randomization: RandomizationSpec?
    public var config: ARSConfig
    public var start: Start = .scratch
    /// An open-loop gait the policy learns residuals around: "trot" (the quadruped), or nil.
    public var gait: String?
    /// Fourier harmonics of the gait generator.
    public var harmonics = 8
    /// Failure scenarios to replay (failure-scenarios.yaml), in `scenarioShare` of the directions.
    public var scenariosFile: String?
    public var scenarioShare = 0.125
    /// Recorded failure states to start from (recorded-scenarios.json), in `startShare` of the directions.
    public var startsFile: String?
    public var startShare = 0.125
    /// The ONNX policy to write; its checkpoint goes beside it.
    public var output: String
    /// Extra metadata written into the ONNX file (the contract is always written).
    public var metadata: [String: String] = [:]

    public init(robot: RobotModel, randomization: RandomizationSpec?, config: ARSConfig, output: String) {
        self.robot = robot
        self.randomization = randomization
        self.config = config
        self.output = output
    }

    /// What a run wrote.
    public struct Outcome: Sendable {
        public var policy: String
        public var checkpoint: String
        public var iterations: Int
    }

    /// The checkpoint written beside `output`.
    public var checkpointPath: String { output + ".checkpoint.json" }

    /// Trains, reporting what it set up and each iteration through `progress`.
    public func run(progress: (String) -> Void = { _ in }) throws -> Outcome {
        var config = self.config
        let manifest = robot.manifest
        if let scenariosFile {
            let loaded = try ImprovementLoop.loadScenarios(path: scenariosFile)
            if !loaded.isEmpty {
                config.scenarios = ImprovementLoop.episodeStreams(loaded)
                config.scenarioShare = scenarioShare
                progress("replaying \(loaded.count) failure scenarios in \(config.scenarioDirections) of \(config.directions) directions per iteration")
            }
        }
        if let startsFile {
            let loaded = try RecordedFailures.load(path: startsFile)
            let states = RecordedFailures.starts(loaded, manifest: manifest)
            if states.count < loaded.count {
                progress("warning: \(startsFile): \(loaded.count - states.count) of \(loaded.count) recorded states do not fit \(manifest.name) "
                         + "(joint counts, orientation, action size, finite values); skipped")
            }
            if !states.isEmpty {
                config.starts = states
                config.startShare = startShare
                progress("starting \(config.startDirections) of \(config.directions) directions per iteration from \(states.count) recorded failure "
                         + "state\(states.count == 1 ? "" : "s")")
            }
        }
        var state: ARSCheckpoint
        switch start {
        case .resume(let path):
            state = try ARSCheckpoint.read(from: path)
            guard state.robot == manifest.name else {
                throw TetherError("the checkpoint is for robot '\(state.robot)', not '\(manifest.name)'", at: path)
            }
            config.hidden = state.config.hidden
            config.activation = state.config.activation
            state.config.iterations = config.iterations
            progress("resuming at iteration \(state.iteration) of \(config.iterations)")
        case .scratch, .warmStart:
            var warm: PolicyNetwork?
            if case .warmStart(let policy) = start {
                warm = try Self.warmStartCheckpoint(policy: policy, manifest: manifest).policy
            }
            state = try ARSTrainer(robot: robot, randomization: randomization, config: config).initialCheckpoint(warmStart: warm)
            if let gait {
                guard gait == "trot" else { throw TetherError("unknown gait '\(gait)'", hint: "the built-in gait is 'trot'") }
                let (generator, error) = try TrotGait().generator(for: manifest, harmonics: harmonics)
                state.policy.generator = generator
                progress("gait: trot at \(TrotGait().frequency) Hz as \(harmonics) Fourier harmonics (largest fit error \(String(format: "%.4f", error)) rad)")
            }
        }
        let trainer = try ARSTrainer(robot: robot, randomization: randomization, config: config)
        guard let task = manifest.task else {
            throw TetherError("the manifest has no task to train for", at: manifest.sourcePath, hint: "add a task section (docs/manifest.md)")
        }
        progress("training \(manifest.name) (\(task.kind.rawValue)) with ARS: \(config.directions) directions, top \(config.topDirections), "
                 + "α \(config.stepSize), ν \(config.noise), \(config.threads) threads, seed \(config.seed)"
                 + (randomization.map { ", randomization \($0.sourcePath ?? "")" } ?? ""))
        let checkpoint = checkpointPath
        let final = try trainer.train(from: state, progress: { log in
            var line = String(format: "iter %4d  mean return %9.2f  best %9.2f  %8.0f env steps/s", log.iteration, log.meanReturn, log.bestReturn,
                              log.stepsPerSecond)
            if let r = log.evaluationReturn, let s = log.evaluationSuccess { line += String(format: "  eval return %9.2f success %5.1f%%", r, 100 * s) }
            progress(line)
        }, checkpoint: { try $0.write(to: checkpoint) })
        var metadata = PolicyContract(manifest: manifest).metadata
        metadata["training"] = "ARS V2-t, \(final.iteration) iterations, seed \(config.seed)"
        metadata.merge(self.metadata) { _, new in new }
        try OnnxWriter.write(trainer.exportedPolicy(final), metadata: metadata, to: output)
        // The checkpoint of what was exported, also after 0 iterations (a starting policy to warm-start from).
        try final.write(to: checkpoint)
        return Outcome(policy: output, checkpoint: checkpoint, iterations: final.iteration)
    }

    /// The ARS checkpoint beside `policy`, checked against the manifest: the warm start of
    /// `tether train --warm-start` and `tether improve`. A recurrent policy is refused (ARS trains
    /// feed-forward networks), as is a policy with no checkpoint or one for another robot or shape.
    public static func warmStartCheckpoint(policy: String, manifest: Manifest) throws -> ARSCheckpoint {
        try refuseRecurrentWarmStart(policy)
        let path = policy + ".checkpoint.json"
        guard FileManager.default.fileExists(atPath: path) else {
            throw TetherError("no ARS checkpoint beside the policy to warm-start from", at: path,
                              hint: "warm starts continue policies Tether trained (tether train writes POLICY.onnx.checkpoint.json); "
                                  + "for another policy, train one with tether train --randomize")
        }
        let state = try ARSCheckpoint.read(from: path)
        guard state.robot == manifest.name else {
            throw TetherError("the checkpoint is for robot '\(state.robot)', not '\(manifest.name)'", at: path)
        }
        guard state.policy.mlp.inputSize == manifest.observationSize, state.policy.mlp.outputSize == manifest.actionSize else {
            throw TetherError("the checkpoint's network takes \(state.policy.mlp.inputSize) observations and gives \(state.policy.mlp.outputSize) "
                              + "actions; the manifest has \(manifest.observationSize) and \(manifest.actionSize)",
                              at: path, hint: "warm-start from a policy trained for this manifest")
        }
        return state
    }

    /// Tether's trainer (ARS) trains feed-forward networks from their native checkpoint; a
    /// recurrent policy (trained elsewhere) can be validated, deployed and replayed, but not
    /// warm-started.
    public static func refuseRecurrentWarmStart(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let session = try OnnxSession(path: path)
        if let signature = try? PolicySignature.recognise(session, observationSize: nil), !signature.states.isEmpty {
            throw TetherError("a recurrent policy (\(signature.kind)): Tether's trainer (ARS) trains feed-forward policies and cannot warm-start it",
                              at: path,
                              hint: "retrain or fine-tune it in the trainer that made it (rsl_rl, Isaac Lab), then validate and deploy it with Tether; "
                                  + "`tether validate` and `tether deploy` run recurrent policies")
        }
    }
}
