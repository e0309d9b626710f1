import Foundation
import TetherCore
import TetherSim

/// Augmented Random Search, version V2-t.
///
/// Reference: H. Mania, A. Guy, B. Recht, "Simple random search of static linear policies is
/// competitive for reinforcement learning", NeurIPS 2018 (Algorithm 2, V2-t). Each iteration:
/// 1. draw N directions δ_k ~ N(0, I) in parameter space;
/// 2. evaluate the policy at θ + νδ_k and θ − νδ_k (one episode each, both with the same
///    randomization sample and initial state: common random numbers);
/// 3. keep the b directions with the largest max(r⁺, r⁻);
/// 4. θ ← θ + α / (b σ_R) Σ_top (r⁺_k − r⁻_k) δ_k, with σ_R the standard deviation of the 2b returns;
/// 5. update the running mean and standard deviation of every observation visited (V2), which
///    normalize the policy's input.
/// The 2N episodes run in parallel on all cores; iteration i and direction k draw from streams
/// derived from (seed, i, k) only, so a run is reproducible whatever the thread count.
public struct ARSConfig: Sendable, Codable, Equatable {
    /// Iterations to run (in total, counting resumed ones).
    public var iterations = 100
    /// Directions per iteration, N.
    public var directions = 16
    /// Best directions used in the update, b ≤ N.
    public var topDirections = 8
    /// Step size α.
    public var stepSize = 0.02
    /// Exploration noise ν.
    public var noise = 0.03
    /// Training episode length, s (shorter than the task's for speed).
    public var episodeSeconds = 10.0
    /// Hidden layer widths ([] = a linear policy, as in the paper).
    public var hidden: [Int] = []
    /// Hidden activation.
    public var activation = MLP.Activation.tanh
    /// Seed of the whole run.
    public var seed: UInt64 = 1
    /// Worker threads.
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Evaluate the current policy every this many iterations (0: never).
    public var evaluateEvery = 10
    /// Episodes per evaluation.
    public var evaluationEpisodes = 16
    /// Multiplier on the manifest's observation noise during training.
    public var observationNoise = 1.0
    /// Episodes to replay during training (failure scenarios): each names the random stream an
    /// episode was drawn from, so that training faces exactly that episode again. nil: none.
    public var scenarios: [EpisodeStream]?
    /// Share of each iteration's directions evaluated on a scenario instead of a fresh draw
    /// (default 0.125 when there are scenarios).
    public var scenarioShare: Double?

    /// Measured states to start training episodes from (recorded failures: the robot's state a
    /// window before it failed, `tether improve --recordings`). A share of each iteration's
    /// directions starts there, cycling through them, with a fresh randomization draw: the
    /// policy practises recovering from where the robot really was. nil: none.
    public var starts: [EpisodeStart]?
    /// Share of each iteration's directions that start from a recorded state (default 0.125
    /// when there are starts).
    public var startShare: Double?

    /// Directions per iteration that start from a recorded state (after the scenario directions).
    public var startDirections: Int {
        guard let starts, !starts.isEmpty else { return 0 }
        let share = min(1, max(0, startShare ?? 0.125))
        guard share > 0 else { return 0 }
        return min(directions - scenarioDirections, max(1, Int((share * Double(directions)).rounded())))
    }

    /// The recorded state direction `direction`'s episode starts from in iteration `iteration`
    /// (nil: the task's own start). Directions `scenarioDirections ..< scenarioDirections +
    /// startDirections` take the starts in turn across iterations.
    public func episodeStart(iteration: Int, direction: Int) -> EpisodeStart? {
        let first = scenarioDirections, count = startDirections
        guard count > 0, let starts, direction >= first, direction < first + count else { return nil }
        return starts[(iteration * count + direction - first) % starts.count]
    }

    /// Directions per iteration that replay a scenario.
    public var scenarioDirections: Int {
        guard let scenarios, !scenarios.isEmpty else { return 0 }
        let share = min(1, max(0, scenarioShare ?? 0.125))
        guard share > 0 else { return 0 }
        return min(directions, max(1, Int((share * Double(directions)).rounded())))
    }

    public init() {}

    /// The random stream of direction `direction`'s episode in iteration `iteration` (both signs
    /// share it: common random numbers). The first `scenarioDirections` directions replay the
    /// scenarios, cycling through them across iterations; the others draw fresh episodes.
    public func episodeRandom(iteration: Int, direction: Int) -> SeededRandom {
        let replayed = scenarioDirections
        if direction < replayed, let scenarios {
            let s = scenarios[(iteration * replayed + direction) % scenarios.count]
            return SeededRandom(seed: s.seed, stream: s.stream)
        }
        return SeededRandom(seed: seed ^ (0xABCD_EF01 &* UInt64(iteration + 1)), stream: UInt64(direction))
    }
}

/// The random stream one episode was drawn from: `SeededRandom(seed:, stream:)` yields its
/// randomization sample, initial state, observation noise and pushes, in that order (as the
/// validation gate and `PolicyTrials` draw them), so the stream alone reproduces the episode.
public struct EpisodeStream: Sendable, Codable, Equatable, Hashable {
    public var seed: UInt64
    public var stream: UInt64
    public init(seed: UInt64, stream: UInt64) { self.seed = seed; self.stream = stream }
}

/// One line of training progress.
public struct ARSIteration: Sendable, Codable, Equatable {
    public var iteration: Int
    public var meanReturn: Double
    public var bestReturn: Double
    public var environmentSteps: Int
    public var stepsPerSecond: Double
    /// Evaluation of the unperturbed policy, when run this iteration.
    public var evaluationReturn: Double?
    public var evaluationSuccess: Double?
}

/// Everything needed to resume training exactly where it stopped.
public struct ARSCheckpoint: Sendable, Codable {
    public var config: ARSConfig
    public var robot: String
    public var iteration: Int
    public var policy: PolicyNetwork
    public var statsCount: Double
    public var statsSum: [Double]
    public var statsSumOfSquares: [Double]
    public var history: [ARSIteration]
    /// The randomization spec's path, for the record.
    public var randomization: String?

    /// Writes the checkpoint as JSON (atomically, so a crash never leaves half a file).
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a checkpoint.
    public static func read(from path: String) throws -> ARSCheckpoint {
        do {
            return try JSONDecoder().decode(ARSCheckpoint.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw TetherError("cannot read the training checkpoint: \(error)", at: path, hint: "pass a checkpoint written by `tether train`")
        }
    }
}

/// Trains a policy for a manifest's task with ARS over parallel MuJoCo rollouts.
public struct ARSTrainer: Sendable {
    public let robot: RobotModel
    public let task: Manifest.Task
    public let randomization: RandomizationSpec?
    public let config: ARSConfig

    /// Creates a trainer; the manifest must declare a task.
    public init(robot: RobotModel, randomization: RandomizationSpec?, config: ARSConfig) throws {
        guard let task = robot.manifest.task else {
            throw TetherError("the manifest declares no task to train on", at: robot.manifest.sourcePath, hint: "add a task: section (docs/manifest.md)")
        }
        guard config.topDirections >= 1, config.topDirections <= config.directions else {
            throw TetherError("top directions b = \(config.topDirections) must be between 1 and N = \(config.directions)")
        }
        self.robot = robot
        self.task = task
        self.randomization = randomization
        self.config = config
    }

    /// A fresh checkpoint: zero policy (ARS starts from θ = 0), identity normalization.
    public func initialCheckpoint(warmStart: PolicyNetwork? = nil) -> ARSCheckpoint {
        let n = robot.manifest.observationSize, m = robot.manifest.actionSize
        var policy = warmStart ?? PolicyNetwork(mlp: MLP(sizes: [n] + config.hidden + [m], activation: config.activation))
        if warmStart == nil && !config.hidden.isEmpty {
            var random = SeededRandom(seed: config.seed, stream: 0xF00D)
            policy.mlp = MLP(sizes: [n] + config.hidden + [m], activation: config.activation, random: &random)
            // Small last layer so the initial policy acts near the default pose.
            let last = policy.mlp.layerCount - 1
            for i in policy.mlp.weights[last].indices { policy.mlp.weights[last][i] *= 0.01 }
        }
        return ARSCheckpoint(config: config, robot: robot.manifest.name, iteration: 0, policy: policy, statsCount: 0,
                             statsSum: .init(repeating: 0, count: n), statsSumOfSquares: .init(repeating: 0, count: n),
                             history: [], randomization: randomization?.sourcePath)
    }

    /// Runs iterations from `checkpoint` up to `config.iterations`, reporting each and handing
    /// back a checkpoint after each. Returns the final checkpoint.
    public func train(from start: ARSCheckpoint, progress: (ARSIteration) -> Void = { _ in },
                      checkpoint: (ARSCheckpoint) throws -> Void = { _ in }) throws -> ARSCheckpoint {
        var state = start
        let parameterCount = state.policy.mlp.parameterCount
        var trainingTask = task
        trainingTask.episodeSeconds = min(task.episodeSeconds, config.episodeSeconds)
        let runner = EpisodeRunner(task: trainingTask, noiseScale: config.observationNoise, pushes: randomization?.pushes)
        let clock = ContinuousClock()
        while state.iteration < config.iterations {
            let iteration = state.iteration
            let started = clock.now
            // 1. Directions, from the iteration's own stream.
            var directionRandom = SeededRandom(seed: config.seed, stream: 0x1000_0000 &+ UInt64(iteration))
            let deltas: [[Float]] = (0..<config.directions).map { _ in
                (0..<parameterCount).map { _ in Float(directionRandom.gaussian()) }
            }
            // 2. ± evaluations in parallel; trial t is direction t/2 with sign + (even) or − (odd).
            var policy = state.policy
            applyStatistics(&policy, state)
            let base = policy.mlp.parameters
            let noise = Float(config.noise)
            let frozen = policy
            let spec = randomization
            let batch = BatchRollout(trials: 2 * config.directions, seed: config.seed ^ (0x9E37_79B9 &* UInt64(iteration + 1)), threads: config.threads)
            let robotModel = robot
            let trainerConfig = config
            let results = try robotModel.rollouts(batch) { sim, _, index -> (Double, Int, EpisodeRunner.ObservationStats) in
                let k = index / 2, sign: Float = index % 2 == 0 ? 1 : -1
                var random = trainerConfig.episodeRandom(iteration: iteration, direction: k)
                var episodeRunner = runner
                episodeRunner.start = trainerConfig.episodeStart(iteration: iteration, direction: k)
                let sample = try spec?.sample(for: sim.robot, random: &random) ?? .nominal
                try sample.apply(to: sim.robot.model)
                var perturbed = frozen
                perturbed.mlp.parameters = zip(base, deltas[k]).map { $0 + sign * noise * $1 }
                var native = NativePolicy(perturbed)
                var stats = EpisodeRunner.ObservationStats(size: frozen.mlp.inputSize)
                let result = withUnsafeMutablePointer(to: &stats) { pointer in
                    episodeRunner.run(sim: sim, policy: &native, sample: sample, random: &random, stats: pointer)
                }
                return (result.totalReward, result.steps, stats)
            }
            // 3–4. Update from the top b directions.
            let plus = stride(from: 0, to: results.count, by: 2).map { results[$0].0 }
            let minus = stride(from: 1, to: results.count, by: 2).map { results[$0].0 }
            let order = (0..<config.directions).sorted { max(plus[$0], minus[$0]) > max(plus[$1], minus[$1]) }
            let top = order.prefix(config.topDirections)
            let selected = top.flatMap { [plus[$0], minus[$0]] }
            let mean = selected.reduce(0, +) / Double(selected.count)
            let sigma = (selected.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(selected.count)).squareRoot()
            var parameters = state.policy.mlp.parameters
            if sigma > 1e-12 {
                let scale = config.stepSize / (Double(config.topDirections) * sigma)
                for k in top {
                    let weight = Float(scale * (plus[k] - minus[k]))
                    for p in parameters.indices { parameters[p] += weight * deltas[k][p] }
                }
            }
            state.policy.mlp.parameters = parameters
            // 5. Observation statistics, merged in trial order (deterministic).
            for r in results {
                state.statsCount += r.2.count
                for i in state.statsSum.indices { state.statsSum[i] += r.2.sum[i]; state.statsSumOfSquares[i] += r.2.sumOfSquares[i] }
            }
            state.iteration += 1
            let steps = results.reduce(0) { $0 + $1.1 }
            let seconds = (clock.now - started).seconds
            let all = plus + minus
            var log = ARSIteration(iteration: state.iteration, meanReturn: all.reduce(0, +) / Double(all.count),
                                   bestReturn: all.max() ?? 0, environmentSteps: steps,
                                   stepsPerSecond: Double(steps) / max(seconds, 1e-9))
            if config.evaluateEvery > 0 && (state.iteration % config.evaluateEvery == 0 || state.iteration == config.iterations) {
                let evaluation = try evaluate(state, episodes: config.evaluationEpisodes, seconds: trainingTask.episodeSeconds)
                log.evaluationReturn = evaluation.meanReturn
                log.evaluationSuccess = evaluation.successRate
            }
            state.history.append(log)
            progress(log)
            try checkpoint(state)
        }
        applyStatistics(&state.policy, state)
        return state
    }

    /// The policy with the checkpoint's normalization statistics (what gets exported).
    public func exportedPolicy(_ state: ARSCheckpoint) -> PolicyNetwork {
        var p = state.policy
        applyStatistics(&p, state)
        return p
    }

    private func applyStatistics(_ policy: inout PolicyNetwork, _ state: ARSCheckpoint) {
        guard state.statsCount > 1 else { return }
        for i in state.statsSum.indices {
            let mean = state.statsSum[i] / state.statsCount
            let variance = max(0, state.statsSumOfSquares[i] / state.statsCount - mean * mean)
            policy.observationMean[i] = Float(mean)
            // Floor the deviation: an input that barely varied during training (a fixed command, a
            // heading error that stayed small) must not be amplified a hundredfold when it does
            // vary in deployment. Observations are already scaled to order one by the manifest.
            policy.observationStd[i] = Float(max(variance.squareRoot(), 0.1))
        }
    }

    /// Mean return and success rate of the unperturbed policy over `episodes` randomized episodes.
    public func evaluate(_ state: ARSCheckpoint, episodes: Int, seconds: Double) throws -> (meanReturn: Double, successRate: Double) {
        let policy = exportedPolicy(state)
        var evalTask = task
        evalTask.episodeSeconds = seconds
        // A shortened walking episode is judged on the pro-rated distance (the same mean speed).
        evalTask.successDistance = task.successDistance * min(1, seconds / task.episodeSeconds)
        let runner = EpisodeRunner(task: evalTask, noiseScale: config.observationNoise, pushes: randomization?.pushes)
        let spec = randomization
        let results = try robot.rollouts(BatchRollout(trials: episodes, seed: config.seed ^ 0xE7A1, threads: config.threads)) { sim, random,
            _ -> EpisodeResult in
            let sample = try spec?.sample(for: sim.robot, random: &random) ?? .nominal
            try sample.apply(to: sim.robot.model)
            var native = NativePolicy(policy)
            return runner.run(sim: sim, policy: &native, sample: sample, random: &random)
        }
        return (results.map(\.totalReward).reduce(0, +) / Double(max(1, episodes)),
                Double(results.filter(\.success).count) / Double(max(1, episodes)))
    }
}
