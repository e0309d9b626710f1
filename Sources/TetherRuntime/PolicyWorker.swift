import Foundation
import TetherCore
import TetherPolicy

/// Runs a policy's calls on a thread of their own, so that the control loop keeps its deadlines
/// while the policy computes, and notices when a call hangs.
///
/// The loop submits an observation and waits for the action until a deadline; if it is not there,
/// the loop goes on (holding the last safe command) and can stop the robot while the call is still
/// running. A call that returns late hands its result to the next wait (the loop looks for it
/// before submitting again); a call that never returns keeps its thread, which is abandoned at `shutdown()` (a hung ONNX Runtime call cannot be
/// cancelled from outside, and the process ends soon after a stop anyway).
///
/// Synchronisation: every field is guarded by `condition`; the policy value is touched only by the
/// worker thread while a call runs and by nobody else, so policies need not be thread-safe.
final class PolicyWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var policy: any PolicyRuntime
    private var input: (observation: [Float], epoch: Int)?
    private var result: (epoch: Int, value: Result<[Float], Error>, state: [Float])?
    /// The epoch of the last call: a call of a new epoch (a new policy phase) first resets the
    /// policy's recurrent state to zeros.
    private var lastEpoch: Int?
    private var running = false
    private var shutdownRequested = false
    /// When the call now running was submitted (the loop's clock), s.
    private(set) var submittedAt: Double?

    /// Starts the worker thread for `policy`.
    init(policy: any PolicyRuntime) {
        self.policy = policy
        let thread = Thread { [self] in work() }
        thread.name = "tether-policy"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    /// Whether a call is running (submitted and not yet returned).
    var isBusy: Bool {
        condition.lock(); defer { condition.unlock() }
        return running || input != nil
    }

    /// Submits an observation; false (and nothing submitted) while the previous call still runs.
    /// `epoch` comes back with the result, so the caller can drop results of an earlier phase.
    func submit(_ observation: [Float], at time: Double, epoch: Int = 0) -> Bool {
        condition.lock(); defer { condition.unlock() }
        guard !running, input == nil, !shutdownRequested else { return false }
        input = (observation, epoch)
        result = nil
        submittedAt = time
        condition.broadcast()
        return true
    }

    /// Waits until the result is there or `seconds` pass (0: only looks); takes and returns the
    /// result with its submission's epoch and the policy's recurrent state after the call (empty
    /// for a feed-forward policy), or nil.
    func waitForResult(seconds: Double) -> (epoch: Int, value: Result<[Float], Error>, state: [Float])? {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: max(0, seconds))
        while result == nil, running || input != nil {
            if !condition.wait(until: deadline) { break }
        }
        guard let r = result else { return nil }
        result = nil
        submittedAt = nil
        return r
    }

    /// The policy value after the last completed call (for a caller that keeps the policy's state).
    /// Nil while a call runs.
    var finishedPolicy: (any PolicyRuntime)? {
        condition.lock(); defer { condition.unlock() }
        return running || input != nil ? nil : policy
    }

    /// Ends the worker thread once it is idle; a hung call keeps its thread until it returns.
    func shutdown() {
        condition.lock()
        shutdownRequested = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            while input == nil && !shutdownRequested { condition.wait() }
            if shutdownRequested && input == nil { break }
            let (observation, epoch) = input!
            input = nil
            running = true
            var p = policy
            let newEpoch = epoch != lastEpoch
            lastEpoch = epoch
            condition.unlock()
            if newEpoch { p.reset() }
            let r = Result { try p.act(observation) }
            let state = p.recurrentState
            condition.lock()
            policy = p
            running = false
            result = (epoch, r, state)
            condition.broadcast()
        }
        condition.unlock()
    }
}
