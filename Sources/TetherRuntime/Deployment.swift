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
/// wrapper returns, record the tick. A deadline miss holds the last command; `maxConsecutiveMisses`
/// in a row engage a stop. A safety stop moves the phase machine to stopping and flushes the
/// recorder. Software stops are controlled stops, not safety-rated functions: hardware e-stops
/// remain mandatory.
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
    /// Set from any thread (signal handler, operator, ROS topic) to engage the e-stop at the next tick.
    public let eStopRequest = EStopRequest()

    public init(robot: Robot, policy: (any PolicyRuntime)?, safety: SafetyWrapper, timing: DeploymentStateMachine.Timing,
                recorder: FlightRecorder?, clock: ControlClock, loop: FixedRateLoop.Configuration,
                velocityCommand: SIMD3<Double>) {
        self.robot = robot
        self.policy = policy
        self.safety = safety
        self.machine = DeploymentStateMachine(manifest: robot.manifest, timing: timing)
        self.recorder = recorder
        self.clock = clock
        self.loopConfiguration = loop
        self.velocityCommand = velocityCommand
    }

    /// Asks for an e-stop from another thread (a signal handler, an operator): taken at the next tick.
    public func requestEStop(source: String) { eStopRequest.set(source) }

    /// Runs the script for `seconds`, calling `status` about `statusHz` times a second.
    public func run(script: [ScriptedCommand], seconds: Double, statusHz: Double = 4,
                    status: (Status) -> Void = { _ in }) throws -> Report {
        let manifest = robot.manifest
        let loop = FixedRateLoop(configuration: loopConfiguration, clock: clock)
        var builder = ObservationBuilder(manifest: manifest)
        var pending = script.sorted { $0.time < $1.time }
        var lastAction = [Float](repeating: 0, count: manifest.actionSize)
        var lastCommand = JointCommand.zeroTorque(count: manifest.actionSize)
        var policyStart: Double?
        var eventLog: [String] = []
        var stopReason: String?
        var startX: Double?
        var lastX: Double?
        let start = clock.now()
        let statusEvery = max(1, Int(loopConfiguration.rateHz / statusHz))
        do {
        try loop.run { tick in
            let t = tick.start - start
            try robot.advance(to: tick.start)
            let readAt = clock.now()
            let latest = try robot.latestState()
            var events = safety.takeEStops(request: eStopRequest, robot: robot, time: t)
            let positions = latest?.state.jointPositions ?? []
            while let next = pending.first, next.time <= t {
                pending.removeFirst()
                do {
                    try machine.handle(next.command, time: t, jointPositions: positions)
                    events.append(RecordedEvent(time: t, reason: "operator", message: "\(next.command.rawValue) → \(machine.phase.rawValue)"))
                    if next.command == .startPolicy {
                        builder.reset()
                        policyStart = t
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
            let holding = tick.missed && tick.consecutiveMisses < loopConfiguration.maxConsecutiveMisses
            if tick.consecutiveMisses >= loopConfiguration.maxConsecutiveMisses {
                let e = safety.engageEStop(source: "\(tick.consecutiveMisses) consecutive deadline misses", time: t)
                events.append(RecordedEvent(time: t, reason: "deadline_misses", message: e.message, values: ["misses": Double(tick.consecutiveMisses)]))
            }
            if machine.phase == .policy, !holding, var p = policy, let state = latest?.state {
                do {
                    let obs = try builder.build(state: state, command: velocityCommand, lastAction: lastAction,
                                                policyTime: t - (policyStart ?? t), random: &noRandom)
                    observation = obs
                    action = try p.act(obs)
                    policy = p
                } catch {
                    events.append(RecordedEvent(time: t, reason: "policy_error", message: "\(error)"))
                }
            } else if holding {
                direct = lastCommand
            } else {
                direct = machine.command(time: t, policyCommand: nil)
            }
            // The wrapper's time is when the state was in hand: a networked robot's state arrives
            // during the tick, after its scheduled start.
            let received = (latest?.receivedAt ?? tick.start) - start
            let output = safety.tick(SafetyInput(time: max(t, received), state: latest?.state, stateReceivedAt: received,
                                                 action: action, lateness: tick.lateness, command: action == nil ? direct : nil,
                                                 expectUpright: machine.phase == .standing || machine.phase == .policy))
            for e in output.events {
                events.append(RecordedEvent(time: e.time, reason: e.reason.rawValue, message: e.message, joint: e.joint, values: e.values))
                eventLog.append(String(format: "%8.3f s  %@: %@", e.time, e.reason.rawValue, e.message))
            }
            if case .stopped(let reason, _) = output.mode, machine.phase != .stopping && machine.phase != .passive {
                machine.forceStop(time: t)
                stopReason = stopReason ?? reason.rawValue
                do { try recorder?.flush(reason: reason.rawValue) } catch {
                    eventLog.append("recorder: \(error)")
                }
            }
            try robot.send(output.command)
            let wroteAt = clock.now()
            lastCommand = output.command
            if let action { lastAction = action }
            if let x = latest?.state.basePosition?.x {
                if startX == nil { startX = x }
                lastX = x
            }
            try recorder?.record(FlightRecord(time: tick.start, state: latest?.state, stateReceivedAt: latest?.receivedAt, observation: observation, action: action,
                                              command: output.command, events: events))
            if tick.index % statusEvery == 0 {
                // diagnostic_msgs levels: 0 OK, 1 WARN, 2 ERROR.
                let level: UInt8 = output.mode.isStopped ? 2 : (output.events.isEmpty ? 0 : 1)
                try? robot.publishStatus(level: level, message: output.mode.isStopped ? "stopped: \(stopReason ?? "safety stop")" : machine.phase.rawValue,
                                         values: ["phase": machine.phase.rawValue, "stage": String(safety.state.stage),
                                                  "events": String(eventLog.count)])
                let summary = loop.statistics.summary
                status(Status(time: t, phase: machine.phase, safetyMode: output.mode.isStopped ? "stopped" : "running",
                              stage: safety.state.stage, tickRate: summary.achievedRateHz,
                              computeP99Microseconds: summary.computeMicroseconds.p99, deadlineMisses: summary.deadlineMisses,
                              safetyEvents: eventLog.count, baseHeight: latest?.state.basePosition?.z,
                              distance: lastX.map { $0 - (startX ?? $0) }))
            }
            return (t < seconds, .init(readAt: readAt, wroteAt: wroteAt))
        }
        } catch {
            // Never lose what was recorded: an error ends the run, but the window is written first.
            if let recorder {
                do { try recorder.close(reason: "error") } catch {}
            }
            throw error
        }
        var recording: String?
        if let recorder {
            try recorder.close(reason: stopReason ?? "exit")
            recording = recorder.path
        }
        let counters = Dictionary(uniqueKeysWithValues: safety.state.counters.map { ($0.key.rawValue, $0.value) })
        return Report(robot: manifest.name, policy: nil, seconds: clock.now() - start, finalPhase: machine.phase.rawValue,
                      stopped: safety.state.mode.isStopped, stopReason: stopReason, stage: safety.state.stage,
                      loop: loop.statistics.summary, safetyCounters: counters, events: eventLog,
                      distance: lastX.map { $0 - (startX ?? $0) }, recording: recording)
    }

    /// Deployment never adds observation noise; the builder still needs a stream.
    private var noRandom = SeededRandom(seed: 0)
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
