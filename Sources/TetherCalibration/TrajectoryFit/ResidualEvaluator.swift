import Dispatch
import Foundation
import TetherCore
import TetherSim

/// Evaluates normalized residuals of many parameter points over many recordings in parallel.
///
/// Each worker thread owns a `TrajectoryReplayer` (its own model copies and data) for the whole
/// fit. A work item is one (point, recording) pair; workers take items in any order, but an
/// item's result depends only on the point and the recording (every written model slot is
/// rewritten and the data reset before each replay), so results are the same for any thread
/// count. Sums over items are formed afterwards, in item order, on the calling thread.
final class ResidualEvaluator: @unchecked Sendable {
    let recordings: [PreparedRecording]
    /// First residual index of each recording.
    let offsets: [Int]
    /// Total number of residuals.
    let count: Int
    private let replayers: [TrajectoryReplayer]
    private(set) var evaluations = 0

    init(robot: RobotModel, writer: ParameterWriter, recordings: [PreparedRecording], threads: Int) {
        self.recordings = recordings
        var offsets: [Int] = [], total = 0
        for r in recordings {
            offsets.append(total)
            total += r.count
        }
        self.offsets = offsets
        count = total
        replayers = (0..<max(1, threads)).map { _ in TrajectoryReplayer(robot: robot, writer: writer) }
    }

    /// The normalized residual vector (simulated − measured, times the signal weight) at each
    /// point (SI values); nil for a point where some replay failed, with the first reason.
    func residuals(at points: [[Double]]) -> [(values: [Double]?, failure: String?)] {
        let items = points.count * recordings.count
        let slots = Slots(count: items)
        let next = Counter()
        let workers = min(replayers.count, items)
        evaluations += points.count
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let replayer = replayers[w]
            while true {
                let item = next.take()
                if item >= items { break }
                let p = item / recordings.count, r = item % recordings.count
                do throws(ReplayFailure) {
                    slots.store(.success(try replayer.replay(recordings[r], values: points[p])), at: item)
                } catch {
                    slots.store(.failure(error), at: item)
                }
            }
        }
        let results = slots.collect()
        return points.indices.map { p in
            var out = [Double](repeating: 0, count: count)
            for r in recordings.indices {
                switch results[p * recordings.count + r] {
                case .failure(let failure):
                    return (nil, "\(recordings[r].source): \(failure.reason)")
                case .success(let simulated):
                    let rec = recordings[r]
                    let m = rec.sampleTimes.count, base = offsets[r]
                    for k in rec.signals.indices {
                        let w = rec.weights[k]
                        for i in 0..<m { out[base + k * m + i] = (simulated[k * m + i] - rec.measured[k * m + i]) * w }
                    }
                }
            }
            return (out, nil)
        }
    }

    /// Raw simulated signals of one recording (for predictions), on the first replayer.
    func simulate(_ recording: PreparedRecording, values: [Double]) throws(ReplayFailure) -> [Double] {
        try replayers[0].replay(recording, values: values)
    }

    /// Work-item results, written once each from worker threads.
    private final class Slots: @unchecked Sendable {
        private var values: [Result<[Double], ReplayFailure>?]
        private let lock = NSLock()
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func store(_ value: Result<[Double], ReplayFailure>, at index: Int) {
            lock.lock()
            values[index] = value
            lock.unlock()
        }
        func collect() -> [Result<[Double], ReplayFailure>] {
            lock.lock()
            defer { lock.unlock() }
            return values.map { $0! }
        }
    }

    /// The next work item to take.
    private final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLock()
        func take() -> Int {
            lock.lock()
            defer { value += 1; lock.unlock() }
            return value
        }
    }
}
