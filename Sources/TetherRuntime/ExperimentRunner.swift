import Foundation
import TetherCore
import TetherSafety

/// Runs an `ExperimentPlan` on any `Robot` in a fixed-rate loop behind the safety wrapper, and
/// records every tick (continuous flight recording: joint states, IMU, commands, safety events;
/// the plan's metadata on the commands channel).
///
/// The loop runs at the state rate (default: the manifest's physics rate, what a robot publishes
/// at), faster than a policy's control rate, so that calibration sees the fast dynamics. The
/// safety wrapper stays active with its limits, torque stage, watchdog and e-stop latch; its
/// target smoothing is left off so that it does not reshape the excitation. A safety stop ends
/// the experiment after one more second (the stop behaviour runs and is recorded).
public enum ExperimentRunner {
    /// The outcome of an experiment.
    public struct Report: Sendable, Codable {
        public var kind: String
        public var robot: String
        public var joints: [String]
        public var plannedSeconds: Double
        public var seconds: Double
        public var ticks: Int
        public var rateHz: Double
        public var stopped: Bool
        public var stopReason: String?
        public var safetyCounters: [String: Int]
        public var events: [String]
        /// Hanging equilibria the pendulum measured, rad, by joint name.
        public var equilibria: [String: Double]
        public var recording: String?
        public var loop: LoopSummary
    }

    /// Progress, handed out a few times a second: time, the segment's label, fraction done.
    public struct Progress: Sendable {
        public var time: Double
        public var segment: String
        public var fraction: Double
    }

    /// Runs the plan. `robot` must already be in the plan's pose (hung when `plan.hung`).
    public static func run(plan: ExperimentPlan, robot: Robot, safety: SafetyWrapper, clock: ControlClock,
                           rateHz: Double? = nil, recorder: FlightRecorder?, eStop: EStopRequest = EStopRequest(),
                           progressHz: Double = 4, progress: (Progress) -> Void = { _ in }) throws -> Report {
        var safety = safety
        let manifest = plan.manifest
        let rate = rateHz ?? manifest.rates.physicsHz
        guard rate.isFinite, rate > 0 else {
            throw TetherError("experiment rate \(rate) Hz is not positive", at: "--rate", hint: "e.g. 500")
        }
        let loop = FixedRateLoop(configuration: .init(rateHz: rate), clock: clock)
        var controller = ExperimentController(plan: plan)
        let start = clock.now()
        let total = plan.duration
        var stopAt: Double?
        var stopReason: String?
        var eventLog: [String] = []
        let progressEvery = max(1, Int(rate / progressHz))
        let upright = plan.hung || manifest.base == nil
        do {
            try loop.run { tick in
                let t = tick.start - start
                try robot.advance(to: tick.start)
                let readAt = clock.now()
                let latest = try robot.latestState()
                var events = safety.takeEStops(request: eStop, robot: robot, time: t)
                let wanted = controller.command(at: t, state: latest?.state)
                let received = (latest?.receivedAt ?? tick.start) - start
                let output = safety.tick(SafetyInput(time: max(t, received), state: latest?.state, stateReceivedAt: received,
                                                     action: nil, lateness: tick.lateness, command: wanted,
                                                     expectUpright: upright && latest?.state.baseOrientation != nil))
                for e in output.events {
                    events.append(RecordedEvent(time: e.time, reason: e.reason.rawValue, message: e.message, joint: e.joint, values: e.values))
                    eventLog.append(String(format: "%8.3f s  %@: %@", e.time, e.reason.rawValue, e.message))
                }
                if case .stopped(let reason, _) = output.mode, stopAt == nil {
                    stopAt = t
                    stopReason = reason.rawValue
                }
                try robot.send(output.command)
                let wroteAt = clock.now()
                try recorder?.record(FlightRecord(time: tick.start, state: latest?.state, stateReceivedAt: latest?.receivedAt, observation: nil, action: nil,
                                                  command: output.command, events: events))
                if tick.index % progressEvery == 0 {
                    let label = plan.segment(at: t).map { plan.segments[$0].label } ?? ""
                    progress(Progress(time: t, segment: stopAt == nil ? label : "STOPPED (\(stopReason ?? "safety"))",
                                      fraction: min(1, t / max(total, 1e-9))))
                }
                let more = stopAt.map { t < $0 + 1 } ?? (t < total)
                return (more, .init(readAt: readAt, wroteAt: wroteAt))
            }
        } catch {
            // Never lose what was recorded.
            if let recorder { try? recorder.close(reason: "error") }
            throw error
        }
        var recording: String?
        if let recorder {
            try recorder.close(reason: stopReason ?? "exit")
            recording = recorder.path
        }
        var equilibria: [String: Double] = [:]
        for (k, j) in plan.joints.enumerated() { if let e = controller.equilibrium(joint: j) { equilibria[plan.jointNames[k]] = e } }
        let counters = Dictionary(uniqueKeysWithValues: safety.state.counters.map { ($0.key.rawValue, $0.value) })
        let summary = loop.statistics.summary
        return Report(kind: plan.kind.rawValue, robot: manifest.name, joints: plan.jointNames, plannedSeconds: total,
                      seconds: clock.now() - start, ticks: summary.ticks, rateHz: rate, stopped: stopAt != nil,
                      stopReason: stopReason, safetyCounters: counters, events: eventLog, equilibria: equilibria,
                      recording: recording, loop: summary)
    }
}
