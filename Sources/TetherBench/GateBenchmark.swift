import CMuJoCo
import Foundation
import Synchronization
import TetherCore
import TetherPolicy
import TetherSim
import TetherValidation

/// `tether bench validate`: the gate's randomized trials per second against the bare simulation of
/// the same episodes, at one or more thread counts, on the same machine, in the same run.
///
/// The bare run is the physics a user pays for whatever tool runs the trials: the same MuJoCo
/// steps of the same episodes, and nothing else. An untimed pass runs every trial once more and
/// records, before each physics step, the controls the motor drivers wrote and the forces applied
/// to the bodies (pushes), with the trial's randomized model and its state at the first step; the
/// bare run then copies those into MuJoCo and calls `mj_step`, with no randomization draw, no
/// policy, no observations, no PD law and no bookkeeping, and checks that it ends where the trial
/// ended (bit for bit). Stepping a robot that stands still instead (what this benchmark once did)
/// is not the same physics: a walking robot's contacts make and break, and MuJoCo's constraint
/// solver needs about 1.8 times the work per step that a standing robot's settled contacts need,
/// so that baseline charged the gate for the physics of walking.
public struct GateBenchmark: Sendable {
    /// Built-in robot name or manifest path.
    public var robot: String
    /// ONNX policy (nil: `policies/<robot>.onnx` in the checkout).
    public var policy: String?
    /// Randomization spec (nil: the quadruped's `robots/quadruped/randomization.yaml`, no
    /// randomization for other robots).
    public var randomization: String?
    /// Trials of each run. The bare runs keep every trial's recording in memory (its model, its
    /// start state and its controls: a few MB per 30 s quadruped episode), so tens to hundreds.
    public var trials: Int
    /// Seed of every run.
    public var seed: UInt64
    /// Thread counts to measure, in order (empty: 1 and every core).
    public var threadCounts: [Int]
    /// Rounds at each thread count, gate and bare alternating; each side's fastest round counts
    /// (the one least disturbed by whatever else the machine ran).
    public var rounds: Int

    /// Creates the benchmark; the defaults are `tether bench validate`'s.
    public init(robot: String = "quadruped", policy: String? = nil, randomization: String? = nil, trials: Int = 20, seed: UInt64 = 1,
                threadCounts: [Int] = [], rounds: Int = 2) {
        self.robot = robot
        self.policy = policy
        self.randomization = randomization
        self.trials = trials
        self.seed = seed
        self.threadCounts = threadCounts
        self.rounds = rounds
    }

    /// One thread count: both runs, their throughputs, and what a thread adds.
    public struct Run: Sendable, Codable {
        /// Worker threads of both runs.
        public var threads: Int
        /// Wall time of the gate's trials, s.
        public var gateSeconds: Double
        /// Wall time of the bare stepping, s.
        public var bareSeconds: Double
        /// Gate trials per second.
        public var gateTrialsPerSecond: Double
        /// Bare trials per second.
        public var bareTrialsPerSecond: Double
        /// gate / bare throughput (1 = the gate costs nothing beyond the physics).
        public var ratio: Double
        /// Gate trials per second per thread: what one core of an array job does.
        public var gateTrialsPerSecondPerThread: Double
        /// Gate throughput over the 1-thread gate throughput (nil when 1 thread was not measured).
        public var speedup: Double?
    }

    /// What the benchmark measured.
    public struct Report: Sendable, Codable {
        /// Robot name.
        public var robot: String
        /// Policy path.
        public var policy: String
        /// Randomization spec path (nil: nominal model).
        public var randomization: String?
        /// Trials of each run.
        public var trials: Int
        /// Rounds at each thread count (the fastest of each side counts).
        public var rounds: Int
        /// Seed.
        public var seed: UInt64
        /// Cores the operating system reports.
        public var cores: Int
        /// Physics steps over all trials (every run steps exactly these).
        public var physicsSteps: Int
        /// Every thread count, in the order measured.
        public var runs: [Run]
        /// Whether the gate's records were identical at every thread count and in the recording pass.
        public var recordsAgree: Bool
        /// Whether every bare replay ended in the recorded final state, bit for bit.
        public var replayExact: Bool
        /// Gate successes out of `trials` (the same at every thread count when `recordsAgree`).
        public var successes: Int
        /// The widest run's thread count (the headline figures below are that run's).
        public var threads: Int
        public var gateSeconds: Double
        public var bareSeconds: Double
        public var gateTrialsPerSecond: Double
        public var bareTrialsPerSecond: Double
        public var ratio: Double
    }

    /// Loads the robot, policy and spec (defaults from the checkout) and measures.
    public func run(log: (String) -> Void = { _ in }) throws -> Report {
        guard trials > 0 else { throw TetherError("the benchmark needs at least 1 trial, got \(trials)", at: "--trials") }
        let root = TetherPaths.checkoutRoot()
        func inCheckout(_ relative: String) -> String {
            if FileManager.default.fileExists(atPath: relative) { return relative }
            return root.map { "\($0)/\(relative)" } ?? relative
        }
        let robotModel = try BuiltinRobots.load(robot)
        let manifest = robotModel.manifest
        let path = policy ?? inCheckout("policies/\(manifest.name).onnx")
        let specPath = randomization ?? (manifest.name == "quadruped" ? inCheckout("robots/quadruped/randomization.yaml") : nil)
        _ = try OnnxPolicy(path: path, manifest: manifest)  // a clear error before any trial
        let spec = try specPath.map { try RandomizationSpec.load(path: $0) }
        let simulation = try GateSimulation(robot: robotModel, randomization: spec, threads: 1)
        log("tether bench validate: \(manifest.name), \(trials) trials, policy \(path), "
            + "\(specPath.map { "randomization \($0)" } ?? "nominal model"), seed \(seed)")
        var report = try Self.measure(simulation: simulation, trials: trials, seed: seed, threadCounts: threadCounts, rounds: rounds, log: log) {
            try OnnxPolicy(path: path, manifest: manifest)
        }
        report.policy = path
        report.randomization = specPath
        return report
    }

    /// Measures `simulation`'s trials 0..<trials against their bare replay at each thread count
    /// (empty: 1 and every core), `rounds` times each, alternating; the fastest round of each
    /// side counts. The simulation's own `threads` is ignored.
    public static func measure<P: PolicyRuntime>(simulation: GateSimulation, trials: Int, seed: UInt64, threadCounts: [Int] = [],
                                                 rounds: Int = 1, log: (String) -> Void = { _ in },
                                                 makePolicy: @Sendable @escaping () throws -> P) throws -> Report {
        guard trials > 0 else { throw TetherError("the benchmark needs at least 1 trial, got \(trials)", at: "--trials") }
        guard rounds > 0 else { throw TetherError("the benchmark needs at least 1 round, got \(rounds)", at: "--rounds") }
        if let bad = threadCounts.first(where: { $0 < 1 }) {
            throw TetherError("a thread count must be at least 1, got \(bad)", at: "--threads")
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var counts: [Int] = []
        for n in threadCounts.isEmpty ? [1, cores] : threadCounts where !counts.contains(n) { counts.append(n) }
        let indices = Array(0..<trials)
        // The untimed pass: records every trial's physics for the bare runs (on every core).
        var recorder = simulation
        recorder.threads = cores
        let recorded = try record(recorder, trials: trials, seed: seed, makePolicy: makePolicy)
        let physicsSteps = recorded.reduce(0) { $0 + $1.episode.steps }
        log("  recorded \(trials) episodes, \(physicsSteps) physics steps, for the bare runs")
        var runs: [Run] = []
        var recordsAgree = true, replayExact = true
        for n in counts {
            var gate = simulation
            gate.threads = n
            var gateSeconds = Double.infinity, bareSeconds = Double.infinity
            for _ in 0..<rounds {
                let gateStart = ContinuousClock.now
                let records = try gate.run(indices: indices, seed: seed, makePolicy: makePolicy)
                gateSeconds = min(gateSeconds, seconds(since: gateStart))
                recordsAgree = recordsAgree && records == recorded.map(\.record)
                let bareStart = ContinuousClock.now
                let exact = replay(recorded.map(\.episode), threads: n)
                bareSeconds = min(bareSeconds, seconds(since: bareStart))
                replayExact = replayExact && exact
            }
            let gateRate = Double(trials) / max(gateSeconds, 1e-9), bareRate = Double(trials) / max(bareSeconds, 1e-9)
            runs.append(Run(threads: n, gateSeconds: gateSeconds, bareSeconds: bareSeconds, gateTrialsPerSecond: gateRate,
                            bareTrialsPerSecond: bareRate, ratio: gateRate / bareRate, gateTrialsPerSecondPerThread: gateRate / Double(n)))
            log(String(format: "  %2d thread%@  gate %6.2f s (%6.2f trials/s)   bare %6.2f s (%6.2f trials/s)   ratio %.3f", n, n == 1 ? " " : "s",
                       gateSeconds, gateRate, bareSeconds, bareRate, gateRate / bareRate))
        }
        if let single = runs.first(where: { $0.threads == 1 })?.gateTrialsPerSecond {
            for k in runs.indices { runs[k].speedup = runs[k].gateTrialsPerSecond / single }
        }
        let widest = runs.max { $0.threads < $1.threads }!
        return Report(robot: simulation.robot.manifest.name, policy: "", randomization: nil, trials: trials, rounds: rounds, seed: seed, cores: cores,
                      physicsSteps: physicsSteps, runs: runs, recordsAgree: recordsAgree, replayExact: replayExact,
                      successes: recorded.filter(\.record.success).count, threads: widest.threads, gateSeconds: widest.gateSeconds,
                      bareSeconds: widest.bareSeconds, gateTrialsPerSecond: widest.gateTrialsPerSecond,
                      bareTrialsPerSecond: widest.bareTrialsPerSecond, ratio: widest.ratio)
    }

    /// A gate trial and its recorded physics.
    private struct Recorded: Sendable {
        var record: GateTrial
        var episode: RecordedEpisode
    }

    /// Runs every trial once, recording its physics through `SimRobot.beforePhysicsStep`.
    private static func record<P: PolicyRuntime>(_ simulation: GateSimulation, trials: Int, seed: UInt64,
                                                 makePolicy: @Sendable @escaping () throws -> P) throws -> [Recorded] {
        let batch = BatchRollout(trials: trials, seed: seed, threads: simulation.threads)
        return try simulation.robot.rollouts(batch, worker: makePolicy) { sim, policy, _, index -> Recorded in
            let episode = RecordedEpisode()
            sim.beforePhysicsStep = { episode.add($0) }
            defer { sim.beforePhysicsStep = nil }
            let record = try simulation.trial(index, seed: seed, sim: sim, policy: &policy)
            episode.finish(sim.data)
            return Recorded(record: record, episode: episode)
        }
    }

    /// Steps every recorded episode again on `threads` threads: its start state copied in, then,
    /// before each step, its controls and applied forces. Returns whether every episode ended in
    /// its recorded final state.
    private static func replay(_ episodes: [RecordedEpisode], threads: Int) -> Bool {
        guard let first = episodes.first(where: { $0.model != nil }) else { return true }
        let next = Mutex(0), mismatches = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, episodes.count))) { _ in
            guard let model = first.model, let d = mj_makeData(model) else { return }
            defer { mj_deleteData(d) }
            while true {
                let i: Int = next.withLock { value in
                    defer { value += 1 }
                    return value
                }
                guard i < episodes.count else { break }
                if !episodes[i].replay(into: d) { mismatches.withLock { $0 += 1 } }
            }
        }
        return mismatches.withLock { $0 } == 0
    }
}

/// One episode's physics: the randomized model, the state at the first step, and before each
/// step the controls and (when they changed) the forces applied to the bodies. Written by one
/// worker while its trial runs, then only read.
final class RecordedEpisode: @unchecked Sendable {
    private(set) var model: UnsafeMutablePointer<mjModel>?
    private var start: UnsafeMutablePointer<mjData>?
    private var controls: [Double] = []
    private var forceChanges: [(step: Int, forces: [Double])] = []
    private var finalPositions: [Double] = []
    private(set) var steps = 0

    deinit {
        if let start { mj_deleteData(start) }
        if let model { mj_deleteModel(model) }
    }

    /// Records the step about to be taken.
    func add(_ data: SimData) {
        let m = data.model.raw, d = data.raw
        if model == nil {
            model = mj_copyModel(nil, m)
            start = mj_makeData(m)
            mj_copyData(start, m, d)
            controls.reserveCapacity(Int(m.pointee.nu) * 16384)
        }
        controls.append(contentsOf: UnsafeBufferPointer(start: d.pointee.ctrl, count: Int(m.pointee.nu)))
        let forces = UnsafeBufferPointer(start: d.pointee.xfrc_applied, count: 6 * Int(m.pointee.nbody))
        if forceChanges.last.map({ !$0.forces.elementsEqual(forces) }) ?? true { forceChanges.append((steps, Array(forces))) }
        steps += 1
    }

    /// Records where the episode ended.
    func finish(_ data: SimData) {
        finalPositions = Array(UnsafeBufferPointer(start: data.raw.pointee.qpos, count: data.model.nq))
    }

    /// Steps the episode again in `d` (data of a model of the same structure); returns whether it
    /// ended where it did when recorded.
    func replay(into d: UnsafeMutablePointer<mjData>) -> Bool {
        guard let model, let start else { return true }
        mj_copyData(d, model, start)
        let nu = Int(model.pointee.nu), nx = 6 * Int(model.pointee.nbody)
        var change = 0
        controls.withUnsafeBufferPointer { u in
            for step in 0..<steps {
                if change < forceChanges.count, forceChanges[change].step == step {
                    forceChanges[change].forces.withUnsafeBufferPointer { d.pointee.xfrc_applied.update(from: $0.baseAddress!, count: nx) }
                    change += 1
                }
                d.pointee.ctrl.update(from: u.baseAddress! + step * nu, count: nu)
                mj_step(model, d)
            }
        }
        return UnsafeBufferPointer(start: d.pointee.qpos, count: Int(model.pointee.nq)).elementsEqual(finalPositions)
    }
}

/// `GateBenchmark.measure` at one thread count (the simulation's), for callers of the first version.
public func runGateBenchmark<P: PolicyRuntime>(simulation: GateSimulation, trials: Int, seed: UInt64,
                                               makePolicy: @Sendable @escaping () throws -> P) throws -> GateBenchmark.Report {
    try GateBenchmark.measure(simulation: simulation, trials: trials, seed: seed, threadCounts: [simulation.threads], makePolicy: makePolicy)
}

private func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
