import Foundation
import Synchronization
import TetherCore
import TetherPolicy
import TetherSim

/// One run of the validation gate as `tether validate` runs it and a Swift user can call it:
/// `trials` randomized episodes of the manifest's task (or a shard of them), on all cores, the
/// success rate with its intervals, and GO / NO-GO on the Clopper–Pearson lower bound. Trial i
/// draws everything random from the stream (seed, i), so the result does not depend on the
/// thread count or the shard.
public struct ValidationRun: Sendable {
    public var robot: RobotModel
    /// The ONNX policy (feed-forward or recurrent).
    public var policy: String
    /// Domain randomization (nil: the nominal model); its `sourcePath` is recorded in the identity.
    public var randomization: RandomizationSpec?
    public var trials = 100
    public var seed: UInt64 = 1
    /// Success-rate threshold on the interval's lower bound, 0…1.
    public var threshold = 0.9
    /// Run only this slice of the trials (merge the shards later).
    public var shard: GateShard?
    /// Stop early when the decision is certain, looking every this many trials (nil: fixed size).
    public var sequentialBatch: Int?
    /// Worker threads.
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Run the policy even if its metadata contradicts the manifest (unsafe).
    public var allowMismatch = false

    public init(robot: RobotModel, policy: String, randomization: RandomizationSpec?) {
        self.robot = robot
        self.policy = policy
        self.randomization = randomization
    }

    /// Runs the gate; `progress` gets a line at start, about every tenth of the trials, and at
    /// each sequential look.
    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) throws -> GateResult {
        let manifest = robot.manifest, allow = allowMismatch, path = policy
        _ = try OnnxPolicy(path: path, manifest: manifest, allowMismatch: allow)  // check once, up front
        let simulation = try GateSimulation(robot: robot, randomization: randomization, threads: threads)
        let source = randomization?.sourcePath
        let identity = GateIdentity(robot: manifest.name, task: simulation.taskDescription, policy: path,
                                    policyDigest: try GateIdentity.digest(ofFile: path), randomization: source,
                                    randomizationDigest: try source.map { try GateIdentity.digest(ofFile: $0) },
                                    seed: seed, trials: trials, threshold: threshold, manifestDigest: GateIdentity.manifestDigest(of: manifest))
        let gate = try ValidationGate(identity: identity, shard: shard, sequentialBatch: sequentialBatch)
        let planned = shard.map { $0.indices(of: trials).count } ?? trials
        progress("tether validate: \(manifest.name), policy \(path), \(planned) trials\(shard.map { " (shard \($0.index)/\($0.count))" } ?? "") "
                 + "of '\(identity.task)', " + (source.map { "randomization \($0)" } ?? "nominal model") + ", \(simulation.threads) threads")
        let start = ContinuousClock.now
        let offset = Mutex(0)
        let isSequential = sequentialBatch != nil
        let onLook: (GateProgress) -> Void = { p in
            if isSequential {
                progress(String(format: "  look: %d trials, %d successes, interval %.1f–%.1f %%", p.done, p.successes, 100 * p.interval.lower,
                                100 * p.interval.upper))
            }
            offset.withLock { $0 = p.done }
        }
        let step = max(1, planned / 10), seed = self.seed
        return try gate.run(progress: onLook) { indices in
            let base = offset.withLock { $0 }
            let onTrial: @Sendable (Int) -> Void = { done in
                let total = base + done
                if total % step == 0 || total == planned {
                    progress("  trials \(total)/\(planned)  (\(Int((ContinuousClock.now - start).components.seconds)) s)")
                }
            }
            return try simulation.run(indices: indices, seed: seed, progress: onTrial) {
                try OnnxPolicy(path: path, manifest: manifest, allowMismatch: allow)
            }
        }
    }

    /// Replays the gate's trials `indices` exactly as `run()` ran them (trial i: the stream
    /// (seed, i)), each into a flight recording `trial-NNN.mcap` in `directory` (created if
    /// needed), for videos and `tether safety replay`. Returns each replay's record beside its
    /// recording; a replay that ends differently from the gate's record means the policy's engine
    /// or the model changed since.
    public func recordTrials(_ indices: [Int], in directory: String) throws -> [(trial: GateTrial, recording: String)] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let simulation = try GateSimulation(robot: robot, randomization: randomization, threads: 1)
        var policy = try OnnxPolicy(path: self.policy, manifest: robot.manifest, allowMismatch: allowMismatch)
        return try indices.map { index in
            let path = (directory as NSString).appendingPathComponent(String(format: "trial-%03d.mcap", index))
            let trial = try simulation.record(trial: index, seed: seed, policy: &policy, to: path,
                                              metadata: ["policy": self.policy, "randomization": randomization?.sourcePath ?? "nominal"])
            return (trial, path)
        }
    }
}
