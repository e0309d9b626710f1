import Foundation
import TetherCore
import TetherPolicy
import TetherSafety

/// A deployment: the policy in a fixed-rate loop behind the safety wrapper, driven through the
/// deployment phases, with the flight recorder.
///
/// Each tick: let the robot's time pass (simulation only), read the latest state, apply due
/// operator commands and time-driven transitions, compute the phase's command (in the policy
/// phase: observation → policy → raw action), pass it through the safety wrapper, send what the
/// wrapper returns, then record the tick. A deadline miss holds the last command;
/// `maxConsecutiveMisses` in a row engage a stop.
///
/// Fail safe on every path out of the loop:
/// - An error anywhere in a tick (a malformed or silent input, a failed send, a policy error, a
///   flight recorder that cannot write) becomes a safety stop with its reason: the stop's
///   commands are sent for the stop's duration (`Timing.stopSeconds`), then the run ends, the
///   recording is written, and the error is thrown (`lastReport` keeps the report).
/// - The policy runs on a thread of its own when the clock is real (`PolicyWorker`): the loop
///   waits for its action until half a period after the tick's deadline; while none is there
///   the last safe command is held, an action that comes later is applied at the next tick
///   (`policy_late`), and when no action has come for `policyBudget` since the last one the
///   robot is stopped (`policy_timeout`), while the call may still hang. With a simulated clock
///   (`ManualClock`) the policy runs inline (reproducible).
/// - `requestEnd` (the first SIGINT or SIGTERM) engages the e-stop, finishes the stop, writes the
///   recording and returns; a normal end stops the robot first if it is not already passive,
///   and the last command sent is always a damping stop.
/// - The first stop command is sent before the recorder writes anything.
/// Software stops are controlled stops, not safety-rated functions: hardware e-stops remain
/// mandatory.
public final class Deployment {
    /// A scripted operator command: `command` at `time` seconds after the start.
    public struct ScriptedCommand: Sendable, Equatable {
        public var time: Double
        public var command: DeploymentStateMachine.Command
        public init(time: Double, command: DeploymentStateMachine.Command) {
            self.time = time
            self.command = command
        }
    }

    /// Live status, handed out a few times a second.
    public struct Status: Sendable {
        public var time: Double
        public var phase: DeploymentStateMachine.Phase
        public var safetyMode: String
        public var stage: Double
        public var tickRate: Double
        public var computeP99Microseconds: Double
        public var deadlineMisses: Int
        public var safetyEvents: Int
        public var baseHeight: Double?
        public var distance: Double?
    }

    /// The outcome of a deployment.
    public struct Report: Sendable, Codable {
        public var robot: String
        public var policy: String?
        /// The engine that ran the policy's calls, and why (`OnnxPolicy.engineSummary`).
        public var policyEngine: String?
        public var seconds: Double
        public var finalPhase: String
        public var stopped: Bool
        public var stopReason: String?
        public var stage: Double
        public var loop: LoopSummary
        public var safetyCounters: [String: Int]
        public var events: [String]
        public var distance: Double?
        public var recording: String?
        /// The signal (or other source) that ended the run early, if one did.
        public var interruptedBy: String?
        /// The error that stopped the robot and ended the run, if one did.
        public var error: String?
        /// Events left out of `events` because the log is bounded.
        public var eventsDropped: Int?
        /// What the robot backend filled in that the robot does not report.
        public var inputNotes: [String]?
        /// Policy calls that returned after their tick's deadline (the last command was held).
        public var policyLate: Int?
        /// How the policy got through the deployment gate (robot backends; nil in simulation).
        public var gate: DeploymentClearance?
        /// What the scheduler granted the loop thread, when real-time scheduling was asked for.
        public var realTime: RealTimeStatus?
    }

    public let robot: Robot
    public var policy: (any PolicyRuntime)?
    public var safety: SafetyWrapper
    public var machine: DeploymentStateMachine
    public let recorder: FlightRecorder?
    public let clock: ControlClock
    public let loopConfiguration: FixedRateLoop.Configuration
    /// Velocity command given to the policy (vx, vy, yaw rate).
    public var velocityCommand: SIMD3<Double>
    /// Real-time scheduling for the loop's thread (the thread that calls `run`): SCHED_FIFO, a
    /// pinned core, locked memory (docs/failsafe.md, "Running the loop real-time"). Applied for
    /// the run on a real clock only (a simulated clock has no deadlines to keep), released after.
    public var realtime: RealTimeRequest?
    /// Set from any thread (signal handler, operator, ROS topic) to engage the e-stop at the next tick.
    public let eStopRequest = EStopRequest()
    /// Set from any thread (the first SIGINT / SIGTERM): e-stop, finish the stop, end the run.
    public let endRequest = EStopRequest()
    /// Longest a policy call may run before the robot stops, s (default: the manifest's
    /// `safety.policy_budget`, or two control periods).
    public var policyBudget: Double
    /// Whether the policy runs on its own thread (default: unless the clock is a `ManualClock`).
    public var policyOnWorker: Bool
    /// Most events kept in the report's log (older ones are counted, not kept).
    public var maxEventLog = 1000
    /// The last run's report, also when the run ended with an error.
    public private(set) var lastReport: Report?

    public init(robot: Robot, policy: (any PolicyRuntime)?, safety: SafetyWrapper, timing: DeploymentStateMachine.Timing,
                recorder: FlightRecorder?, clock: ControlClock, loop: FixedRateLoop.Configuration,
                velocityCommand: SIMD3<Double>) {
        self.robot = robot
        self.policy = policy
        self.safety = safety
        self.machine = DeploymentStateMachine(manifest: robot.manifest, timing: timing)
        self.recorder = recorder
        recorder?.setMetadata("torque_stage", "\(Int((safety.config.startStage * 100).rounded())) %")
        self.clock = clock
        self.loopConfiguration = loop
        self.velocityCommand = velocityCommand
        policyBudget = robot.manifest.safety.policyBudget ?? 2 * loop.period
        policyOnWorker = !(clock is ManualClock)
    }

    /// Asks for an e-stop from another thread (a signal handler, an operator): taken at the next tick.
    public func requestEStop(source: String) { eStopRequest.set(source) }

    /// Asks the run to end from another thread (the first SIGINT / SIGTERM): the e-stop is
    /// engaged at the next tick, the stop runs its course, the recording is written, and `run`
    /// returns with `interruptedBy` set.
    public func requestEnd(source: String) { endRequest.set(source) }

    /// Runs the script for `seconds`, calling `status` about `statusHz` times a second.
    /// - Throws: the first error of a tick, after the robot was stopped and the recording written.
    public func run(script: [ScriptedCommand], seconds: Double, statusHz: Double = 4,
                    status: (Status) -> Void = { _ in }) throws -> Report {
        let manifest = robot.manifest
        let loop = FixedRateLoop(configuration: loopConfiguration, clock: clock)
        let period = loopConfiguration.period
        let stopSeconds = max(machine.timing.stopSeconds, period)
        var builder = ObservationBuilder(manifest: manifest)   // the worker thread's path
        // The inline path's tick: observation, action, command and events in storage allocated once.
        var control = ControlTick(manifest: manifest)
        var pending = script.sorted { $0.time < $1.time }
        var lastAction = [Float](repeating: 0, count: manifest.actionSize)
        var lastCommand = JointCommand.zeroTorque(count: manifest.actionSize)
        lastCommand.kd = [Double](repeating: 0, count: manifest.actionSize)   // its own array: copied into in place
        var policyStart: Double?
        var eventLog: [String] = []
        var eventsDropped = 0
        var stopReason: String?
        var startX: Double?
        var lastX: Double?
        var endAt: Double?
        var fault: Error?
        var interruptedBy: String?
        var recorderFailed = false
        var policyLate = 0
        var lateReported = false
        var lastActionAt: Double?
        var policyEpoch = 0
        var inlineEpoch = -1
        let recurrent = policy?.isRecurrent ?? false
        var flushAt: Double?
        let worker = policyOnWorker ? policy.map { PolicyWorker(policy: $0) } : nil
        defer { worker?.shutdown() }
        let statusEvery = max(1, Int(loopConfiguration.rateHz / statusHz))
        func log(_ line: String) {
            if eventLog.count < maxEventLog { eventLog.append(line) } else { eventsDropped += 1 }
        }
        // Before anything moves: a required real-time request that is refused ends the run here.
        let realTime = try (clock is MonotonicClock ? realtime : nil).map { try RealTime.apply($0) }
        defer { realTime.map(RealTime.release) }
        for note in realTime?.notes ?? [] { log("realtime: \(note); the loop runs at normal priority") }
        let start = clock.now()
        loop.run { tick in
            let t = tick.start - start
            var events: [RecordedEvent] = []
            // Faults of this tick: each becomes a stop with its reason; the first ends the run.
            var faults: [(reason: SafetyReason, message: String, error: Error)] = []
            // Latches the stop (its event comes out of the wrapper's next tick, into the recording
            // and the log); the first fault ends the run once the stop has run its course.
            func stopForFault(_ reason: SafetyReason, _ message: String, _ error: Error) {
                safety.engageStop(reason: reason, message: message, time: t)
                if fault == nil {
                    fault = error
                    endAt = min(endAt ?? .infinity, t + stopSeconds)
                }
            }
            func fail(_ reason: SafetyReason, _ what: String, _ error: Error) {
                if let f = error as? RobotFault {
                    faults.append((f.reason, f.error.description, error))
                } else {
                    faults.append((reason, "\(what): \(error)", error))
                }
            }
            do { try robot.advance(to: tick.start) } catch { fail(.runtimeError, "the robot could not advance", error) }
            let readAt = clock.now()
            var latest: (state: RobotState, receivedAt: Double)?
            do { latest = try robot.latestState() } catch { fail(.invalidInput, "the robot's state could not be read", error) }
            events += safety.takeEStops(request: eStopRequest, robot: robot, time: t)
            if let source = endRequest.take() {
                interruptedBy = interruptedBy ?? source
                let e = safety.engageEStop(source: source, time: t)
                events.append(RecordedEvent(time: t, reason: e.reason.rawValue, message: e.message, values: e.values))
                endAt = min(endAt ?? .infinity, t + stopSeconds)
            }
            let positions = latest?.state.jointPositions ?? []
            while let next = pending.first, next.time <= t {
                pending.removeFirst()
                do {
                    try machine.handle(next.command, time: t, jointPositions: positions)
                    events.append(RecordedEvent(time: t, reason: "operator", message: "\(next.command.rawValue) → \(machine.phase.rawValue)"))
                    if next.command == .startPolicy {
                        builder.reset()
                        control.startPolicyPhase()
                        policyStart = t
                        lastActionAt = nil
                        policyEpoch += 1   // results of calls from an earlier policy phase are dropped
                        if recurrent {
                            events.append(RecordedEvent(time: t, reason: "policy_reset",
                                                        message: "the policy's recurrent state is set to zeros as its phase starts"))
                        }
                        lateReported = false
                    }
                } catch {
                    events.append(RecordedEvent(time: t, reason: "operator_refused", message: "\(error)"))
                }
            }
            machine.update(time: t)
            // The phase's command, or the policy's action.
            var action: [Float]?
            var direct: JointCommand?
            var observation: [Float]?
            // Whether this tick's observation and action are in `control` (the inline policy path).
            var inlineAction = false
            var policyState: [Float]?
            // A missed tick holds the policy's last command (only in the policy phase: the other
            // phases' commands are computed fresh every tick).
            var holding = machine.phase == .policy && tick.missed && tick.consecutiveMisses < loopConfiguration.maxConsecutiveMisses
            if tick.consecutiveMisses >= loopConfiguration.maxConsecutiveMisses {
                let e = safety.engageEStop(source: "\(tick.consecutiveMisses) consecutive deadline misses", time: t)
                events.append(RecordedEvent(time: t, reason: "deadline_misses", message: e.message, values: ["misses": Double(tick.consecutiveMisses)]))
            }
            if machine.phase == .policy, !safety.state.mode.isStopped, let state = latest?.state {
                if let worker {
                    // A result that came in after its tick's wait (a policy slower than half a
                    // period) is used if nothing fresher arrives, never dropped by the next submission.
                    var late: [Float]?
                    var lateState: [Float]?
                    if let (epoch, r, s) = worker.waitForResult(seconds: 0), epoch == policyEpoch {
                        lateState = s
                        switch r {
                        case .success(let a): late = a
                        case .failure(let error): fail(.policyError, "the policy failed", error)
                        }
                    }
                    // The budget runs from the last action (or the start of the policy phase).
                    let budgetEnds = start + (lastActionAt ?? policyStart ?? t) + policyBudget
                    if !holding, faults.isEmpty {
                        if !worker.isBusy {
                            do {
                                let obs = try builder.build(state: state, command: velocityCommand, lastAction: late ?? lastAction,
                                                            policyTime: t - (policyStart ?? t), random: &noRandom)
                                observation = obs
                                _ = worker.submit(obs, at: t, epoch: policyEpoch)
                            } catch {
                                fail(.policyError, "the observation could not be built", error)
                            }
                        }
                        // Wait for the action until half a period after the tick's deadline, or the budget's end.
                        let waitUntil = min(tick.deadline + 0.5 * period, budgetEnds)
                        if let (epoch, r, s) = worker.waitForResult(seconds: waitUntil - clock.now()), epoch == policyEpoch {
                            policyState = s
                            switch r {
                            case .success(let a): action = a
                            case .failure(let error): fail(.policyError, "the policy failed", error)
                            }
                        }
                    }
                    if action == nil, let late, !holding {
                        action = late
                        policyState = lateState
                        policyLate += 1
                        if !lateReported {
                            lateReported = true
                            events.append(RecordedEvent(time: t, reason: "policy_late",
                                                        message: "the policy's action came after its tick's wait: applied one tick late"))
                        }
                    }
                    if action != nil {
                        lastActionAt = t
                    } else if faults.isEmpty {
                        let silent = clock.now() - start - (lastActionAt ?? policyStart ?? t)
                        if clock.now() >= budgetEnds {
                            let message = String(format: "the policy has given no action for %.3f s (budget %.3f s)%@", silent, policyBudget,
                                                 worker.isBusy ? "; its call has not returned and may still be running" : "")
                            faults.append((.policyTimeout, message, TetherError(message, at: "policy",
                                                                                hint: "profile the policy (tether bench policy); safety.policy_budget sets "
                                                                                    + "the budget")))
                        } else {
                            holding = true
                            policyLate += 1
                            if !lateReported {
                                lateReported = true
                                events.append(RecordedEvent(time: t, reason: "policy_late",
                                                            message: String(format: "the policy's action is not there %.1f ms after the deadline: holding "
                                                                + "the last command", 1000 * (clock.now() - tick.deadline)),
                                                            values: ["silent": silent]))
                            }
                        }
                    }
                } else if !holding, var p = policy {
                    do {
                        if inlineEpoch != policyEpoch {
                            p.reset()   // a new policy phase starts from a zero recurrent state
                            inlineEpoch = policyEpoch
                        }
                        // In place: the observation and the action are the tick's own storage (nothing allocated).
                        try control.computeAction(policy: &p, state: state, velocityCommand: velocityCommand, policyTime: t - (policyStart ?? t))
                        inlineAction = true
                        action = control.action
                        if recurrent { policyState = p.recurrentState }
                        policy = p
                    } catch {
                        fail(.policyError, "the policy failed", error)
                    }
                }
            }
            if action == nil {
                direct = holding ? lastCommand : machine.command(time: t, policyCommand: nil)
            }
            // Every fault stops the robot now, with its reason; the first ends the run after the stop.
            for f in faults { stopForFault(f.reason, f.message, f.error) }
            // The wrapper's time is when the state was in hand: a networked robot's state arrives
            // during the tick, after its scheduled start.
            let received = (latest?.receivedAt ?? tick.start) - start
            let mode = control.applySafety(&safety, SafetyInput(time: max(t, received), state: latest?.state, stateReceivedAt: received,
                                                                action: action, lateness: tick.lateness, command: action == nil ? direct : nil,
                                                                expectUpright: machine.phase == .standing || machine.phase == .policy))
            action = inlineAction ? nil : action   // the inline action is read from `control` below (no second reference to its buffer)
            let output = (command: control.command, mode: mode, events: control.safetyEvents)
            for e in output.events {
                events.append(RecordedEvent(time: e.time, reason: e.reason.rawValue, message: e.message, joint: e.joint, values: e.values))
                log(String(format: "%8.3f s  %@: %@", e.time, e.reason.rawValue, e.message))
            }
            var newlyStopped = false
            if case .stopped(let reason, _) = output.mode, machine.phase != .stopping && machine.phase != .passive {
                machine.forceStop(time: t)
                stopReason = stopReason ?? reason.rawValue
                newlyStopped = true
            } else if case .stopped(let reason, _) = output.mode, stopReason == nil {
                stopReason = reason.rawValue
                newlyStopped = true
            }
            // The command first: a stop never waits for the recorder.
            do { try robot.send(output.command) } catch {
                stopForFault(.runtimeError, "the command could not be sent: \(error)", error)
            }
            let wroteAt = clock.now()
            lastCommand.assign(output.command)
            if inlineAction {
                control.commitAction()
                lastAction.assign(control.action)
            } else if let action {
                lastAction.assign(action)
                control.setLastAction(action)
            }
            if let x = latest?.state.basePosition?.x, endAt == nil || t < seconds {
                if startX == nil { startX = x }
                lastX = x
            }
            if let recorder, !recorderFailed {
                do {
                    let carried = (action != nil || inlineAction) ? policyState.flatMap { $0.isEmpty ? nil : $0 } : nil
                    if inlineAction {
                        try control.record(to: recorder, time: tick.start, state: latest?.state, receivedAt: latest?.receivedAt, withPolicy: true,
                                           command: output.command, events: events, policyState: carried)
                    } else {
                        try (observation ?? []).withUnsafeBufferPointer { o in
                            try (action ?? []).withUnsafeBufferPointer { a in
                                try recorder.recordTick(time: tick.start, state: latest?.state, stateReceivedAt: latest?.receivedAt,
                                                        observation: observation == nil ? nil : o, action: action == nil ? nil : a,
                                                        command: output.command, events: events, policyState: carried)
                            }
                        }
                    }
                    // The window is written once the stop has run its course, so that writing it
                    // (and its fsync) never delays the stop's commands; the spool is on disk already.
                    if newlyStopped, flushAt == nil { flushAt = t + stopSeconds }
                    if let at = flushAt, t >= at, endAt.map({ t < $0 }) ?? true {
                        flushAt = nil
                        try recorder.flush(reason: stopReason ?? "stop")
                    }
                } catch {
                    // A full disk: stop the robot (it was not stopped for this yet) and end.
                    recorderFailed = true
                    stopForFault(.runtimeError, "the flight recorder cannot write: \(error)", error)
                }
            }
            if tick.index % statusEvery == 0 {
                // diagnostic_msgs levels: 0 OK, 1 WARN, 2 ERROR.
                let level: UInt8 = output.mode.isStopped ? 2 : (output.events.isEmpty ? 0 : 1)
                try? robot.publishStatus(level: level, message: output.mode.isStopped ? "stopped: \(stopReason ?? "safety stop")" : machine.phase.rawValue,
                                         values: ["phase": machine.phase.rawValue, "stage": String(safety.state.stage),
                                                  "events": String(eventLog.count + eventsDropped)])
                let summary = loop.statistics.summary
                status(Status(time: t, phase: machine.phase, safetyMode: output.mode.isStopped ? "stopped" : "running",
                              stage: safety.state.stage, tickRate: summary.achievedRateHz,
                              computeP99Microseconds: summary.computeMicroseconds.p99, deadlineMisses: summary.deadlineMisses,
                              safetyEvents: eventLog.count + eventsDropped, baseHeight: latest?.state.basePosition?.z,
                              distance: lastX.map { $0 - (startX ?? $0) }))
            }
            // The end: after a requested or faulted stop has run its course; at `seconds`, after
            // a stop of its own if the robot is not passive yet.
            if endAt == nil, t >= seconds {
                if machine.phase == .passive {
                    endAt = t
                } else if machine.phase == .stopping {
                    endAt = max(t, machine.phaseStart + stopSeconds)   // the stop runs its course
                } else {
                    machine.forceStop(time: t)
                    endAt = t + stopSeconds
                    log(String(format: "%8.3f s  end: the run's time is up; damping stop for %.1f s before the end", t, stopSeconds))
                }
            }
            return (endAt.map { t < $0 } ?? true, .init(readAt: readAt, wroteAt: wroteAt))
        }
        // The last command is always a damping stop (the robot's own command timeout takes over).
        let finalStop = safety.stopCommand(.damping)
        try? robot.send(finalStop)
        if let w = worker, let p = w.finishedPolicy { policy = p }
        var recording: String?
        if let recorder, !recorderFailed {
            do {
                try recorder.close(reason: fault != nil ? "error" : (interruptedBy != nil ? "interrupted" : (stopReason ?? "exit")))
                recording = recorder.path
            } catch {
                log("recorder: cannot close the recording: \(error)")
                if fault == nil { fault = error }
            }
        }
        let counters = Dictionary(uniqueKeysWithValues: safety.state.counters.map { ($0.key.rawValue, $0.value) })
        var report = Report(robot: manifest.name, policy: nil, seconds: clock.now() - start, finalPhase: machine.phase.rawValue,
                            stopped: safety.state.mode.isStopped, stopReason: stopReason, stage: safety.state.stage,
                            loop: loop.statistics.summary, safetyCounters: counters, events: eventLog,
                            distance: lastX.map { $0 - (startX ?? $0) }, recording: recording,
                            interruptedBy: interruptedBy, error: fault.map { "\($0)" }, eventsDropped: eventsDropped == 0 ? nil : eventsDropped,
                            inputNotes: robot.inputNotes.isEmpty ? nil : robot.inputNotes, policyLate: policyLate == 0 ? nil : policyLate)
        report.realTime = realTime
        lastReport = report
        if let fault {
            if let f = fault as? RobotFault { throw f.error }
            if let e = fault as? TetherError {
                throw TetherError("the robot was stopped after an error: \(e.what)", at: e.location,
                                  hint: [e.hint, recording.map { "recording: \($0)" }].compactMap { $0 }.joined(separator: "; "))
            }
            throw TetherError("the robot was stopped after an error: \(fault)", hint: recording.map { "recording: \($0)" })
        }
        return report
    }

    /// Deployment never adds observation noise; the builder still needs a stream.
    private var noRandom = SeededRandom(seed: 0)
}

extension Array where Element: BinaryFloatingPoint {
    /// Copies `values` into this array's own storage (no new reference to `values`' buffer, so a
    /// later in-place write to either copies nothing); assigns when the sizes differ.
    mutating func assign(_ values: [Element]) {
        guard count == values.count else { self = values.map { $0 }; return }
        for k in indices { self[k] = values[k] }
    }
}

extension JointCommand {
    /// Copies `other` into this command's own arrays (see `Array.assign`).
    mutating func assign(_ other: JointCommand) {
        positions.assign(other.positions)
        velocities.assign(other.velocities)
        torques.assign(other.torques)
        kp.assign(other.kp)
        kd.assign(other.kd)
    }
}

extension SafetyWrapper {
    /// Takes a pending e-stop request (a signal, an operator) and follows the robot's own e-stop
    /// input (its ROS 2 topic), which latches like any e-stop; returns the events to record.
    mutating func takeEStops(request: EStopRequest, robot: Robot, time t: Double) -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        if let source = request.take() {
            let e = engageEStop(source: source, time: t)
            events.append(RecordedEvent(time: t, reason: e.reason.rawValue, message: e.message, values: e.values))
        }
        if robot.eStopInputActive != eStopInputActive, let e = setEStopInput(robot.eStopInputActive, time: t) {
            events.append(RecordedEvent(time: t, reason: e.reason.rawValue, message: e.message, values: e.values))
        }
        return events
    }
}

/// A one-slot mailbox for an e-stop request from another thread or a signal handler.
public final class EStopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var source: String?
    public init() {}
    /// Requests an e-stop, naming who asked.
    public func set(_ s: String) { lock.lock(); if source == nil { source = s }; lock.unlock() }
    /// Takes the pending request, if any.
    public func take() -> String? { lock.lock(); defer { source = nil; lock.unlock() }; return source }
}
