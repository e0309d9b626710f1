import Foundation
import Synchronization
import TetherCore

/// Runs many independent simulation trials over all cores, reproducibly.
///
/// Design (after MuJoCo's model/data split): each worker thread owns one `SimModel` copy and one
/// `SimData`. Before every trial the worker's data is reset and, if the previous trial changed
/// parameters, its model copy is restored from the base model. Trial `i` gets the random stream
/// `SeededRandom(seed:, stream: i)`. So the result of trial `i` depends only on `(seed, i)` and
/// the body, never on the thread count or on which worker ran it.
public struct BatchRollout: Sendable {
    /// Number of trials.
    public var trials: Int
    /// Seed of the whole batch.
    public var seed: UInt64
    /// Worker threads (default: every core).
    public var threads: Int

    /// Creates a batch description.
    public init(trials: Int, seed: UInt64, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        precondition(trials >= 0, "trials must not be negative")
        precondition(threads >= 1, "threads must be at least 1")
        self.trials = trials
        self.seed = seed
        self.threads = threads
    }

    /// What a trial gets: its index, its own random stream, and a model and data it may change.
    public struct Trial {
        /// Trial index in 0..<trials.
        public let index: Int
        /// The trial's random stream, derived from (seed, index).
        public var random: SeededRandom
        /// The worker's model copy, equal to the base model at the start of the trial.
        public let model: SimModel
        /// The worker's data, reset at the start of the trial.
        public let data: SimData
    }

    /// Runs `body` once per trial and returns the results in trial order.
    /// - Parameter progress: called (from worker threads, serialized) with the number of trials done.
    public func run<Result: Sendable, Failure: Error>(model base: SimModel,
                                                      progress: (@Sendable (Int) -> Void)? = nil,
                                                      _ body: @Sendable (inout Trial) throws(Failure) -> Result) throws(Failure) -> [Result] {
        try run(model: base, progress: progress, worker: { () throws(Failure) in () }) { (trial: inout Trial, _: inout Void) throws(Failure) -> Result in
            try body(&trial)
        }
    }

    /// Runs `body` once per trial with state that each worker thread makes once (`makeWorker`)
    /// and hands to every trial it runs, and returns the results in trial order.
    ///
    /// What is worth making once per worker rather than once per trial is what costs much to make
    /// and nothing to bring back to its start (an inference session: a policy's `reset()`). The
    /// body must bring it back at the start of every trial: which trials share a worker depends
    /// on the thread count and the scheduling, and a trial's result must not.
    /// - Parameter progress: called (from worker threads, serialized) with the number of trials done.
    public func run<Worker, Result: Sendable, Failure: Error>(model base: SimModel,
                                                              progress: (@Sendable (Int) -> Void)? = nil,
                                                              worker makeWorker: @Sendable () throws(Failure) -> Worker,
                                                              _ body: @Sendable (inout Trial, inout Worker) throws(Failure) -> Result)
        throws(Failure) -> [Result] {
        let workers = max(1, min(threads, trials))
        let results = ResultBuffer<Result>(count: trials)
        let next = Mutex(0)
        let done = Mutex(0)
        let failure = Mutex<Failure?>(nil)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            guard trials > 0 else { return }
            let model = base.copy()
            let data = SimData(model: model)
            var state: Worker
            do throws(Failure) {
                state = try makeWorker()
            } catch {
                failure.withLock { if $0 == nil { $0 = error } }
                return
            }
            while true {
                let index: Int = next.withLock { value in
                    defer { value += 1 }
                    return value
                }
                if index >= trials || failure.withLock({ $0 != nil }) { break }
                if model.isModified { model.restore(from: base) }
                data.reset()
                var trial = Trial(index: index, random: SeededRandom(seed: seed, stream: UInt64(index)), model: model, data: data)
                do throws(Failure) {
                    results.store(try body(&trial, &state), at: index)
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                    break
                }
                if let progress {
                    done.withLock { count in
                        count += 1
                        progress(count)
                    }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return results.collect()
    }
}

/// Write-once slots, one per trial, filled concurrently at distinct indices.
private final class ResultBuffer<Element>: @unchecked Sendable {
    private var slots: [Element?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ value: Element, at index: Int) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    func collect() -> [Element] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}

extension RobotModel {
    /// Runs one `SimRobot` trial per index on all cores; see `BatchRollout` for the guarantees.
    public func rollouts<Result: Sendable, Failure: Error>(_ batch: BatchRollout,
                                                           progress: (@Sendable (Int) -> Void)? = nil,
                                                           _ body: @Sendable (SimRobot, inout SeededRandom,
                                                                              Int) throws(Failure) -> Result) throws(Failure) -> [Result] {
        try batch.run(model: model, progress: progress) { (trial: inout BatchRollout.Trial) throws(Failure) -> Result in
            let robot = SimRobot(robot: self.with(model: trial.model), data: trial.data)
            return try body(robot, &trial.random, trial.index)
        }
    }

    /// `rollouts` with state made once per worker thread (`BatchRollout.run(model:progress:worker:_:)`:
    /// the body brings it back to its start at every trial).
    public func rollouts<Worker, Result: Sendable, Failure: Error>(_ batch: BatchRollout,
                                                                   progress: (@Sendable (Int) -> Void)? = nil,
                                                                   worker makeWorker: @Sendable () throws(Failure) -> Worker,
                                                                   _ body: @Sendable (SimRobot, inout Worker, inout SeededRandom,
                                                                                      Int) throws(Failure) -> Result) throws(Failure) -> [Result] {
        try batch.run(model: model, progress: progress, worker: makeWorker) {
            (trial: inout BatchRollout.Trial, state: inout Worker) throws(Failure) -> Result in
            let robot = SimRobot(robot: self.with(model: trial.model), data: trial.data)
            return try body(robot, &state, &trial.random, trial.index)
        }
    }
}
