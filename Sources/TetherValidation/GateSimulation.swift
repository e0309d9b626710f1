import Foundation
import TetherCore
import TetherPolicy
import TetherRuntime
import TetherSim

/// The gate's trial function in simulation: the manifest's task with a policy, under a
/// randomization spec, over all cores. Trial i draws its parameters, initial state, noise and
/// pushes from `SeededRandom(seed:, stream: i)` (as `PolicyTrials` does), so its record depends
/// only on (seed, i): not on the thread count, the shard, or the batch it ran in.
public struct GateSimulation: Sendable {
    /// The robot (its model is copied per worker).
    public var robot: RobotModel
    /// The task (the manifest's, or a shortened one in tests).
    public var task: Manifest.Task
    /// Randomization (nil: nominal model with the task's initial perturbations).
    public var randomization: RandomizationSpec?
    /// Observation noise multiplier (1 with randomization: the manifest's noise times the sample's).
    public var noiseScale: Double
    /// Worker threads.
    public var threads: Int

    /// Creates a trial function for `robot`'s task; throws if the manifest declares none.
    public init(robot: RobotModel, task: Manifest.Task? = nil, randomization: RandomizationSpec?, noiseScale: Double? = nil,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        guard let task = task ?? robot.manifest.task else {
            throw TetherError("the manifest declares no task to validate", at: robot.manifest.sourcePath,
                              hint: "add a task: section (walk or balance) to the manifest")
        }
        self.robot = robot
        self.task = task
        self.randomization = randomization
        self.noiseScale = noiseScale ?? (randomization == nil ? 0 : 1)
        self.threads = max(1, threads)
    }

    /// The task in words, e.g. "walk 10 m in 20 s without falling".
    public var taskDescription: String {
        switch task.kind {
        case .walk: String(format: "walk %.3g m in %.3g s without falling", task.successDistance, task.episodeSeconds)
        case .balance: String(format: "keep the pole up for %.3g s", task.episodeSeconds)
        }
    }

    /// Names of the terms whose one drawn value is the value used (terms drawn per item or per
    /// axis have no single value and are left out of the records and the sensitivity analysis).
    public var recordedParameters: [String] {
        (randomization?.terms ?? []).filter { !$0.independent && $0.target != .baseCenterOfMass }.map(\.name)
    }

    /// Runs the trials `indices` and returns their records in order.
    ///
    /// `makePolicy` is called once per worker thread, not once per trial: opening an inference
    /// session costs as much as many seconds of simulated walking, and an episode starts by
    /// resetting its policy (`PolicyRuntime.reset()`, zeros for a recurrent state), so a trial's
    /// record does not depend on which trials its worker ran before.
    public func run<P: PolicyRuntime>(indices: [Int], seed: UInt64, progress: (@Sendable (Int) -> Void)? = nil,
                                      makePolicy: @Sendable @escaping () throws -> P) throws -> [GateTrial] {
        let batch = BatchRollout(trials: indices.count, seed: seed, threads: threads)
        return try robot.rollouts(batch, progress: progress, worker: makePolicy) { sim, policy, _, local -> GateTrial in
            try trial(indices[local], seed: seed, sim: sim, policy: &policy)
        }
    }

    /// Runs trial `index` on `sim` (a worker's robot: its model is changed by the trial's draw) with
    /// `policy`, which the episode resets first. Its random stream is (seed, index), whatever
    /// batch or thread it runs in.
    public func trial<P: PolicyRuntime>(_ index: Int, seed: UInt64, sim: SimRobot, policy: inout P,
                                        observe: ((EpisodeStep) -> Void)? = nil) throws -> GateTrial {
        let runner = EpisodeRunner(task: task, noiseScale: noiseScale, pushes: randomization?.pushes)
        var random = SeededRandom(seed: seed, stream: UInt64(index))
        let sample = try randomization?.sample(for: sim.robot, random: &random) ?? .nominal
        try sample.apply(to: sim.robot.model)
        let e = runner.run(sim: sim, policy: &policy, sample: sample, random: &random, observe: observe)
        let recorded = Set(recordedParameters)
        return GateTrial(index: index, success: e.success, failureMode: Self.failureMode(e, kind: task.kind),
                         distance: e.distance, seconds: e.seconds, totalReward: e.totalReward,
                         parameters: sample.values.filter { recorded.contains($0.key) })
    }

    /// Runs trial `index` again exactly as the gate ran it (the same draw, noise and pushes: the
    /// stream (seed, index), on a fresh copy of the model) and writes it as a flight recording at
    /// `path`: joint states, IMU, `/tf` with the base pose, observations, actions and commands at
    /// each control step, each push and the episode's end as events, stamped from the episode's
    /// start. `tether render` turns it into a video; `tether safety replay` reads it too. The
    /// returned record is the replay's: the same as the gate's unless the policy's engine differs.
    public func record<P: PolicyRuntime>(trial index: Int, seed: UInt64, policy: inout P, to path: String,
                                         metadata: [String: String] = [:]) throws -> GateTrial {
        let sim = SimRobot(robot: robot.with(model: robot.model.copy()))
        let recorder = FlightRecorder(manifest: robot.manifest, path: path, continuous: true, clockStart: 0,
                                      metadata: metadata.merging(["gate_trial": String(index), "gate_seed": String(seed)]) { a, _ in a })
        var failure: Error?
        let result = try trial(index, seed: seed, sim: sim, policy: &policy) { step in
            guard failure == nil else { return }
            var events: [RecordedEvent] = []
            if let f = step.push {
                let magnitude = (f * f).sum().squareRoot()
                events.append(RecordedEvent(time: step.time, reason: "push", message: String(format: "a push of %.0f N on the base", magnitude),
                                            values: ["force_x": f.x, "force_y": f.y]))
            }
            do {
                try recorder.record(FlightRecord(time: step.time, state: step.state, observation: step.observation, action: step.action,
                                                 command: step.command, events: events))
            } catch { failure = error }
        }
        if failure == nil {
            let message = result.success ? "trial \(index) succeeded" : "trial \(index) ended: \(result.failureMode)"
                + String(format: " at %.2f s, %.2f m", result.seconds, result.distance)
            do {
                try recorder.record(FlightRecord(time: result.seconds, state: nil, observation: nil, action: nil, command: nil,
                                                 events: [RecordedEvent(time: result.seconds, reason: result.success ? "trial_end" : result.failureMode,
                                                                        message: message)]))
            } catch { failure = error }
        }
        do { try recorder.close(reason: "trial end") } catch { failure = failure ?? error }
        if let failure { throw failure }
        return result
    }

    /// The failure mode of an episode (`FailureMode`'s vocabulary, shared with trials on a robot).
    public static func failureMode(_ e: EpisodeResult, kind: Manifest.Task.Kind) -> String {
        mode(e, kind: kind).rawValue
    }

    /// The failure mode of an episode, typed.
    public static func mode(_ e: EpisodeResult, kind: Manifest.Task.Kind) -> FailureMode {
        if e.success { return .success }
        switch e.outcome {
        case "fall": return .fall
        case "pole": return .poleFell
        case "limit": return .trackLimit
        case "diverged": return .nonFinite
        case "error": return .policyError
        case "timeout": return kind == .walk ? .noProgress : .timeout
        default: return FailureMode(rawValue: e.outcome)
        }
    }
}
