import Foundation
import TetherNumerics
import TetherCore
import TetherSim

/// Runs a policy for N trials of the manifest's task in simulation and summarizes them.
public struct PolicyTrials: Sendable {
    /// Number of trials.
    public var trials: Int
    /// Seed; trial i uses stream (seed, i).
    public var seed: UInt64
    /// Randomization (nil: nominal with the task's small initial perturbations).
    public var randomization: RandomizationSpec?
    /// Observation noise multiplier.
    public var noiseScale: Double
    /// Worker threads.
    public var threads: Int

    /// Creates a trial plan.
    public init(trials: Int, seed: UInt64, randomization: RandomizationSpec? = nil, noiseScale: Double = 0,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.trials = trials
        self.seed = seed
        self.randomization = randomization
        self.noiseScale = noiseScale
        self.threads = threads
    }

    /// The summary of a set of trials.
    public struct Summary: Sendable, Codable {
        public var robot: String
        public var policy: String
        public var trials: Int
        public var successes: Int
        public var successRate: Double
        /// Wilson score 95 % interval of the success rate (in JSON [lower, upper]).
        public var successInterval: ConfidenceInterval
        public var meanDistance: Double
        public var meanEpisodeSeconds: Double
        public var meanReturn: Double
        public var outcomes: [String: Int]
        public var results: [EpisodeResult]
    }

    /// Runs the trials; `makePolicy` is called once per trial (on worker threads).
    public func run<P: PolicyRuntime>(robot: RobotModel, policyName: String, progress: (@Sendable (Int) -> Void)? = nil,
                                      makePolicy: @Sendable @escaping () throws -> P) throws -> Summary {
        guard let task = robot.manifest.task else {
            throw TetherError("the manifest declares no task to run trials of", at: robot.manifest.sourcePath)
        }
        let runner = EpisodeRunner(task: task, noiseScale: noiseScale, pushes: randomization?.pushes)
        let spec = randomization
        let results = try robot.rollouts(BatchRollout(trials: trials, seed: seed, threads: threads), progress: progress) { sim, random, _ -> EpisodeResult in
            let sample = try spec?.sample(for: sim.robot, random: &random) ?? .nominal
            try sample.apply(to: sim.robot.model)
            var policy = try makePolicy()
            return runner.run(sim: sim, policy: &policy, sample: sample, random: &random)
        }
        let successes = results.filter(\.success).count
        var outcomes: [String: Int] = [:]
        for r in results { outcomes[r.outcome, default: 0] += 1 }
        let n = Double(max(1, trials))
        return Summary(robot: robot.manifest.name, policy: policyName, trials: trials, successes: successes,
                       successRate: Double(successes) / n, successInterval: .wilson(successes: successes, trials: trials),
                       meanDistance: results.map(\.distance).reduce(0, +) / n,
                       meanEpisodeSeconds: results.map(\.seconds).reduce(0, +) / n,
                       meanReturn: results.map(\.totalReward).reduce(0, +) / n, outcomes: outcomes, results: results)
    }
}
