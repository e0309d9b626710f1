import Foundation
import TetherCore
import TetherPolicy
import TetherROS

/// Re-runs a policy's decisions from a flight recording: each recorded observation is fed to the
/// policy in order, its recurrent state set to zeros where the deployment reset it (the
/// `policy_reset` events, or an operator's start of the policy phase), and its actions compared
/// with the recorded ones. For a recurrent policy this checks that the recording holds what is
/// needed (observations in order, resets, and the state after each call on
/// `/tether/policy_state`), and that the policy file is the one that ran.
///
/// A recording that starts in the middle of a policy phase (a flight recorder's window) is
/// replayed from the first tick whose state was recorded: the state is restored there, and the
/// ticks before it are skipped (counted in `skipped`).
public enum PolicyReplay {
    public struct Result: Sendable, Codable, Equatable {
        /// Ticks replayed (an observation and an action recorded).
        public var ticks: Int
        /// Ticks skipped before the state was known.
        public var skipped: Int
        /// Resets applied.
        public var resets: Int
        /// Largest |replayed − recorded| action element.
        public var maxActionError: Double
        /// Largest |replayed − recorded| state element (recurrent policies with a recorded state).
        public var maxStateError: Double?
        /// Tick index (from 0) of the largest action error.
        public var worstTick: Int?
        /// Whether the policy is recurrent.
        public var recurrent: Bool
        /// Whether the recording carries the policy's state.
        public var stateRecorded: Bool
    }

    /// Replays `policy` over the recording at `path`.
    public static func run(path: String, policy: inout some PolicyRuntime) throws -> Result {
        try replay(path: path, policy: &policy).result
    }

    /// Replays `policy` over the recording at `path`: the comparison, and the replayed action of
    /// each tick by its log time (ns), for `SafetyReplay` to run through a safety configuration.
    public static func replay(path: String, policy: inout some PolicyRuntime) throws -> (result: Result, actions: [UInt64: [Float]]) {
        let reader = try MCAPReader(path: path)
        let topics = Set(reader.channels.values.map(\.topic))
        guard topics.contains("/tether/observation"), topics.contains("/tether/action") else {
            throw TetherError("the recording has no /tether/observation or /tether/action: a policy replay needs each tick's observation and action", at: path,
                              hint: "replay a flight recording made by `tether deploy --record` (topics here: \(topics.sorted().joined(separator: ", ")))")
        }
        func byTime<M: ROSMessage>(_ type: M.Type, _ topic: String) throws -> [(logTime: UInt64, message: M)] {
            guard topics.contains(topic) else { return [] }
            let list = try reader.messages(type, topic: topic)
            return list.indices.sorted { (list[$0].logTime, $0) < (list[$1].logTime, $1) }.map { list[$0] }
        }
        let observations = try byTime(StdMsgs.Float64MultiArray.self, "/tether/observation")
        let actions = Dictionary(try byTime(StdMsgs.Float64MultiArray.self, "/tether/action").map { ($0.logTime, $0.message.data) }, uniquingKeysWith: { a,
            _ in a })
        let states = Dictionary(try byTime(StdMsgs.Float64MultiArray.self, FlightRecorder.policyStateTopic).map { ($0.logTime, $0.message.data) },
                                uniquingKeysWith: { a, _ in a })
        let events = try byTime(TetherMsgs.SafetyEvent.self, "/tether/safety_events")
        let resetTimes = Set(events.filter { $0.message.reason == "policy_reset"
            || ($0.message.reason == "operator" && $0.message.message.hasPrefix("start_policy")) }.map(\.logTime))
        let recurrent = policy.isRecurrent
        var result = Result(ticks: 0, skipped: 0, resets: 0, maxActionError: 0, maxStateError: recurrent && !states.isEmpty ? 0 : nil,
                            worstTick: nil, recurrent: recurrent, stateRecorded: !states.isEmpty)
        // Where the state is known: from the first reset, or (a window) the first recorded state.
        var known = !recurrent
        var previousStateTime: UInt64?
        var resetsPending = resetTimes.sorted()
        var replayedActions: [UInt64: [Float]] = [:]
        for (index, o) in observations.enumerated() {
            let t = o.logTime
            while let r = resetsPending.first, r <= t {
                resetsPending.removeFirst()
                policy.reset()
                result.resets += 1
                known = true
            }
            guard let recordedAction = actions[t] else { continue }
            if !known, recurrent {
                // Restore the state recorded after the previous call, if there is one.
                if let p = previousStateTime, let s = states[p] {
                    try policy.setRecurrentState(s.map(Float.init))
                    known = true
                } else {
                    result.skipped += 1
                    if states[t] != nil { previousStateTime = t }
                    continue
                }
            }
            let observation = o.message.data.map(Float.init)
            guard observation.count == policy.observationSize else {
                throw TetherError("the recorded observation at tick \(index) has \(observation.count) values; the policy reads \(policy.observationSize)",
                                  at: path,
                                  hint: "replay with the policy and manifest the recording was made with")
            }
            let action = try policy.act(observation)
            replayedActions[t] = action
            guard action.count == recordedAction.count else {
                throw TetherError("the recorded action at tick \(index) has \(recordedAction.count) values; the policy writes \(action.count)", at: path)
            }
            let error = zip(action, recordedAction).map { abs(Double($0) - $1) }.max() ?? 0
            if result.worstTick == nil || error > result.maxActionError {
                result.maxActionError = error
                result.worstTick = index
            }
            if let recordedState = states[t], recurrent {
                let replayed = policy.recurrentState
                if replayed.count == recordedState.count {
                    let e = zip(replayed, recordedState).map { abs(Double($0) - $1) }.max() ?? 0
                    result.maxStateError = max(result.maxStateError ?? 0, e)
                }
                previousStateTime = t
            }
            result.ticks += 1
        }
        guard result.ticks > 0 else {
            throw TetherError(recurrent && !known ? "the recording never shows where the recurrent policy's state started (no policy_reset event, no "
                + "/tether/policy_state): its decisions cannot be replayed"
                                                  : "the recording has no tick with both an observation and an action", at: path,
                              hint: "record the whole policy phase (tether deploy --record)")
        }
        return (result, replayedActions)
    }
}
