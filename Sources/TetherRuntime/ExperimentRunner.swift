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
/// target smoothing must be off so that it does not reshape the excitation (pass a config made
/// with `SafetyOptions(manifestFilters: false)`; a config with a low-pass is refused). A safety
/// stop ends the experiment after one more second (the stop behaviour runs and is recorded).
/// An error in a tick (a malformed or silent input, a failed send, a recorder that cannot write)
/// is a stop too: its damping commands run for that second, the recording is written, then the
/// error is thrown.
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
        guard safety.config.smoothingAlpha == nil else {
            throw TetherError("the safety configuration low-pass filters the targets (\(safety.config.smoothingCutoffHz ?? 0) Hz), which would reshape the "
                + "excitation",
                              at: "experiment \(plan.kind.rawValue)", hint: "make the experiment's SafetyConfig with SafetyOptions(manifestFilters: false)")
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
        var fault: Error?
        var recorderFailed = false
        do {
            loop.run { tick in
                let t = tick.start - start
                var faults: [(SafetyReason, String, Error)] = []
                do { try robot.advance(to: tick.start) } catch { faults.append((.runtimeError, "the robot could not advance: \(error)", error)) }
                let readAt = clock.now()
                var latest: (state: RobotState, receivedAt: Double)?
                do { latest = try robot.latestState() } catch {
                    if let f = error as? RobotFault { faults.append((f.reason, f.error.description, error)) } else {
                        faults.append((.invalidInput, "the robot's state could not be read: \(error)", error))
                    }
                }
                var events = safety.takeEStops(request: eStop, robot: robot, time: t)
                for (reason, message, error) in faults {
                    let e = safety.engageStop(reason: reason, message: message, time: t)
                    events.append(RecordedEvent(time: t, reason: e.reason.rawValue, message: e.message, values: e.values))
                    if fault == nil { fault = error }
                }
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
                do { try robot.send(output.command) } catch {
                    safety.engageStop(reason: .runtimeError, message: "the command could not be sent: \(error)", time: t)
                    if fault == nil { fault = error }
                    if stopAt == nil { stopAt = t; stopReason = SafetyReason.runtimeError.rawValue }
                }
                let wroteAt = clock.now()
                if let recorder, !recorderFailed {
                    do {
                        try recorder.record(FlightRecord(time: tick.start, state: latest?.state, stateReceivedAt: latest?.receivedAt, observation: nil,
                                                         action: nil,
                                                         command: output.command, events: events))
                    } catch {
                        recorderFailed = true
                        safety.engageStop(reason: .runtimeError, message: "the flight recorder cannot write: \(error)", time: t)
                        if fault == nil { fault = error }
                        if stopAt == nil { stopAt = t; stopReason = SafetyReason.runtimeError.rawValue }
                    }
                }
                if tick.index % progressEvery == 0 {
                    let label = plan.segment(at: t).map { plan.segments[$0].label } ?? ""
                    progress(Progress(time: t, segment: stopAt == nil ? label : "STOPPED (\(stopReason ?? "safety"))",
                                      fraction: min(1, t / max(total, 1e-9))))
                }
                let more = stopAt.map { t < $0 + 1 } ?? (t < total)
                return (more, .init(readAt: readAt, wroteAt: wroteAt))
            }
        }
        // The last command is a damping stop; the robot side's command timeout takes over.
        try? robot.send(safety.stopCommand(.damping))
        var recording: String?
        if let recorder, !recorderFailed {
            do {
                try recorder.close(reason: fault != nil ? "error" : (stopReason ?? "exit"))
                recording = recorder.path
            } catch {
                if fault == nil { fault = error }
            }
        }
        if let fault {
            if let f = fault as? RobotFault { throw f.error }
            throw fault
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
