import Foundation
import TetherCore

/// Stands between a policy and a robot: every tick it checks the state, the action and the
/// timing, bounds the command, and latches a stop when something is wrong.
///
/// Pure and deterministic: time is passed in, nothing is read from a clock, nothing sleeps,
/// nothing does I/O. `config` is immutable; `state` holds everything that changes.
///
/// Stops are controlled software stops — not safety-rated functions; hardware e-stops remain
/// mandatory on every real robot. Once stopped, every command is the stop command until a
/// `reset` is accepted. See `docs/safety.md` for each check and its defaults.
public struct SafetyWrapper: Sendable {
    /// The validated configuration.
    public let config: SafetyConfig
    /// The latch, stage, counters and filter states.
    public private(set) var state: SafetyState
    /// The tick's intermediate vectors, reused.
    private var scratch = Scratch()

    /// A wrapper at the configuration's start stage, running.
    public init(config: SafetyConfig) {
        self.config = config
        self.state = SafetyState(config: config)
    }

    /// The e-stop input (for example a ROS topic). While true every tick stops the robot and
    /// resets are refused. Setting it here takes effect at the next tick; `setEStopInput`
    /// engages at once.
    public var eStopInputActive: Bool {
        get { state.eStopInputActive }
        set { state.eStopInputActive = newValue }
    }

    // MARK: - Tick

    /// Checks one control tick and returns the command to send.
    ///
    /// Order: time, e-stop input, robot state (present, finite, fresh, tilt, fall, joint positions
    /// and velocities), then while running the tick's lateness and the policy's action. Any stop
    /// cause latches the stop. While running, the action is clipped, mapped, clamped into the soft
    /// limits, smoothed, rate limited and torque bounded at the measured state.
    public mutating func tick(_ input: SafetyInput) -> SafetyOutput {
        var command = JointCommand.zeroTorque(count: config.count)
        var events: [SafetyEvent] = []
        let mode = tick(input, command: &command, events: &events)
        return SafetyOutput(command: command, mode: mode, events: events)
    }

    /// The control loop's form of ``tick(_:)``: the same checks and the same command, written into
    /// `command` (its arrays reused) and `events` (emptied first, its capacity kept); returns the
    /// mode. A tick without conditions allocates nothing once `command`'s arrays are uniquely held
    /// and of the joints' size (the first tick sizes them): the mapped action and the intermediate
    /// vectors live in the wrapper's scratch storage.
    public mutating func tick(_ input: SafetyInput, command: inout JointCommand, events: inout [SafetyEvent]) -> SafetyMode {
        let time = input.time
        // Reused from tick to tick (its capacity kept).
        var conditions = scratch.conditions
        scratch.conditions = []
        conditions.removeAll(keepingCapacity: true)
        defer { scratch.conditions = conditions }

        if !time.isFinite {
            conditions.append(Condition(reason: .invalidTime, message: "tick time \(time) is not finite", values: ["time": time]))
        } else if let last = state.lastTickTime, time < last {
            conditions.append(Condition(reason: .invalidTime, message: "tick time \(time) s is before the previous tick at \(last) s",
                                        values: ["time": time, "previous": last]))
        } else {
            state.lastTickTime = time
        }
        if state.eStopInputActive {
            conditions.append(Condition(reason: .eStop, message: "the e-stop input is active"))
        }

        state.uprightExpected = input.expectUpright
        if let given = input.state {
            state.latestState = given
            state.latestStateReceivedAt = input.stateReceivedAt
        }
        var measured: RobotState? = nil
        if let robot = state.latestState, let received = state.latestStateReceivedAt {
            let problems = stateProblems(robot)
            conditions += problems
            conditions += ageConditions(time: time, received: received)
            if problems.isEmpty {
                measured = robot
                state.lastValidState = robot
                conditions += countVelocities(limitConditions(robot))
            }
        } else {
            conditions.append(Condition(reason: .stateTimeout, message: "no robot state has arrived"))
        }

        // The mapped action is in `scratch.mapped`; `raw` is the policy's action (zeros for a direct command).
        var action: (raw: [Float], direct: Bool)? = nil
        if !state.mode.isStopped {
            let lateness = input.lateness
            if !lateness.isFinite {
                conditions.append(Condition(reason: .invalidTime, message: "tick lateness \(lateness) is not finite", values: ["lateness": lateness]))
            } else if lateness > config.maxTickLateness {
                conditions.append(Condition(reason: .lateTick, message: "the tick ran \(lateness) s late (bound \(config.maxTickLateness) s)",
                                            values: ["lateness": lateness, "bound": config.maxTickLateness]))
            }
            if let raw = input.action {
                if raw.count != config.count {
                    conditions.append(Condition(reason: .invalidInput, message: "the policy returned \(raw.count) actions for \(config.count) actuated joints",
                                                values: ["actions": Double(raw.count), "joints": Double(config.count)]))
                } else if let k = Self.firstNonFinite(raw) {
                    let joint = config.jointNames[config.mapper.commandIndices[k]]  // actions are in the policy's joint order
                    conditions.append(Condition(reason: .nonFiniteAction, joint: joint,
                                                message: "the policy returned \(raw[k]) for \(joint)", values: ["action": Double(raw[k])]))
                } else {
                    do {
                        try config.mapper.command(for: raw, into: &scratch.mapped)
                        action = (raw, false)
                    } catch {
                        conditions.append(Condition(reason: .invalidInput, message: "the action could not be mapped: \(error)"))
                    }
                }
            } else if let direct = input.command {
                let bad = [direct.positions, direct.velocities, direct.torques, direct.kp, direct.kd].lazy.compactMap { $0.first { !$0.isFinite } }.first
                if direct.count != config.count {
                    conditions.append(Condition(reason: .invalidInput,
                                                message: "the runtime's command has \(direct.count) joints for \(config.count) actuated joints",
                                                values: ["joints": Double(direct.count)]))
                } else if let bad {
                    conditions.append(Condition(reason: .nonFiniteAction, message: "the runtime's command holds \(bad)", values: ["value": bad]))
                } else {
                    var command = direct
                    if let robot = state.latestState {
                        for k in 0..<config.count where command.kp[k] == 0 {
                            let soft = config.softPositionLimits[k]
                            command.positions[k] = min(soft.upperBound, max(soft.lowerBound, robot.jointPositions[config.stateIndices[k]]))
                        }
                    }
                    scratch.mapped = command
                    action = ([Float](repeating: 0, count: config.count), true)
                }
            } else {
                conditions.append(Condition(reason: .missingAction, message: "the policy produced no action this tick"))
            }
        }

        var cause: Condition? = nil
        var anyStops = false
        for c in conditions where c.stops { anyStops = true }
        if !state.mode.isStopped, anyStops {
            let stopping = conditions.filter(\.stops)
            cause = SafetyReason.stopPriority.lazy.compactMap { reason in stopping.first { $0.reason == reason } }.first
            if let cause { latch(cause.reason) }
        }

        switch state.mode {
        case .stopped(_, let behaviour):
            stopCommand(behaviour, into: &command)
        case .running:
            if let measured, let action {
                var mapped = scratch.mapped
                scratch.mapped = Self.emptyCommand   // `mapped` is then uniquely held: the next mapping writes in place
                runningCommand(raw: action.raw, mapped: mapped, measured: measured, conditions: &conditions, into: &command)
                swap(&scratch.mapped, &mapped)
            } else {
                // Unreachable: a missing state or action is a stop cause above. Fail closed anyway.
                let missing = Condition(reason: .invalidInput, message: "no valid state or action to command from")
                conditions.append(missing)
                cause = missing
                latch(.invalidInput)
                stopCommand(config.stopBehaviour(for: .invalidInput), into: &command)
            }
        }

        events.removeAll(keepingCapacity: true)
        if !state.pendingEvents.isEmpty {
            events.append(contentsOf: state.pendingEvents)
            state.pendingEvents = []
        }
        if conditions.isEmpty && cause == nil {
            if !state.activeConditions.isEmpty { state.activeConditions.removeAll(keepingCapacity: true) }
            return state.mode
        }
        // The set of this tick's conditions, built in last tick's storage.
        var active = scratch.active
        scratch.active = []
        active.removeAll(keepingCapacity: true)
        var causeEventIndex: Int? = nil
        for condition in conditions where !active.contains(condition.key) {
            active.insert(condition.key)
            state.counters[condition.reason, default: 0] += 1
            if !state.activeConditions.contains(condition.key) {
                if let cause, condition.key == cause.key { causeEventIndex = events.count }
                events.append(SafetyEvent(time: time, reason: condition.reason, message: condition.message,
                                          joint: condition.joint, values: condition.values))
            }
        }
        swap(&state.activeConditions, &active)
        scratch.active = active
        if let cause {
            let behaviour = config.stopBehaviour(for: cause.reason)
            let message = "\(cause.message); \(behaviour.summary): \(StopBehaviour.label)"
            var values = cause.values
            values["stage"] = state.stage
            if let i = causeEventIndex {
                events[i].message = message
                events[i].values = values
            } else {
                events.append(SafetyEvent(time: time, reason: cause.reason, message: message, joint: cause.joint, values: values))
            }
        }
        return state.mode
    }

    /// Placeholder for scratch storage taken out while it is written.
    private static let emptyCommand = JointCommand(positions: [], velocities: [], torques: [], kp: [], kd: [])

    // MARK: - E-stop, reset, stages

    /// Engages the e-stop: latches a stop (by default a damping stop) until an accepted reset.
    ///
    /// A controlled software stop — not a safety-rated function; hardware e-stops remain mandatory.
    /// - Parameters:
    ///   - source: Who engaged it (shown in the event), e.g. "operator" or "/tether/estop".
    ///   - time: Time of the call, s.
    /// - Returns: The event (also returned by the next tick).
    @discardableResult
    public mutating func engageEStop(source: String, time: Double) -> SafetyEvent {
        let behaviour = config.stopBehaviour(for: .eStop)
        var message = "e-stop engaged by \(source)"
        if case .stopped(let reason, let current) = state.mode {
            message += " while already stopped (\(reason.rawValue), \(current.summary)): \(StopBehaviour.label)"
        } else {
            latch(.eStop)
            message += "; \(behaviour.summary): \(StopBehaviour.label)"
        }
        return record(SafetyEvent(time: time, reason: .eStop, message: message, values: ["stage": state.stage]))
    }

    /// Latches a stop for a cause found outside the wrapper's own checks (the runtime's: a policy
    /// that hangs or fails, an error in the control loop, a malformed or silent input).
    ///
    /// Like every stop it holds until an accepted `reset`. A call while already stopped only
    /// records the event.
    /// - Parameters:
    ///   - reason: A stopping reason (`policyTimeout`, `policyError`, `runtimeError`, `stateTimeout`,
    ///     `invalidInput`, …); a reason that does not stop is recorded as `runtimeError`.
    ///   - message: What happened, for the event.
    ///   - time: Time of the call, s.
    /// - Returns: The event (also returned by the next tick).
    @discardableResult
    public mutating func engageStop(reason: SafetyReason, message: String, time: Double, values: [String: Double] = [:]) -> SafetyEvent {
        let reason = reason.stops ? reason : .runtimeError
        var text = message
        var values = values
        values["stage"] = state.stage
        if case .stopped(let current, let behaviour) = state.mode {
            text += " while already stopped (\(current.rawValue), \(behaviour.summary)): \(StopBehaviour.label)"
        } else {
            latch(reason)
            text += "; \(config.stopBehaviour(for: reason).summary): \(StopBehaviour.label)"
        }
        // The tick would announce a persisting condition of the same reason again.
        state.activeConditions.insert(ConditionKey(reason: reason, joint: nil))
        return record(SafetyEvent(time: time, reason: reason, message: text, values: values))
    }

    /// Sets the e-stop input; turning it on engages the e-stop at once.
    ///
    /// Turning it off does not resume anything: a `reset` is still needed.
    /// - Returns: The e-stop event when this call engaged it, else nil.
    @discardableResult
    public mutating func setEStopInput(_ active: Bool, time: Double) -> SafetyEvent? {
        let was = state.eStopInputActive
        state.eStopInputActive = active
        guard active, !was else { return nil }
        // The tick would announce the active input again; this event already says it.
        state.activeConditions.insert(ConditionKey(reason: .eStop, joint: nil))
        return engageEStop(source: "the e-stop input", time: time)
    }

    /// Clears a latched stop so policy commands pass again, if no cause of a stop persists.
    ///
    /// Refused while the e-stop input is active, while `currentState` is invalid (wrong sizes, NaN,
    /// no orientation on a floating base), tilted beyond the limit, falling or below the base
    /// height bound, has a joint beyond its position or velocity limit, or is older than the state
    /// timeout. Causes that do not persist (a late tick, a missing or NaN action, a bad tick time,
    /// the e-stop call itself) do not block a reset. The filters restart from the measured
    /// positions, the clock check restarts at `time`, and the torque stage is kept. A reset while
    /// running does nothing and returns nil.
    /// - Parameters:
    ///   - time: Time of the call, s.
    ///   - currentState: The robot's state now.
    ///   - receivedAt: When `currentState` was received, s (nil: at `time`).
    /// - Returns: The reset event, or nil while running.
    /// - Throws: `TetherError` listing every cause that persists.
    @discardableResult
    public mutating func reset(time: Double, currentState: RobotState, receivedAt: Double? = nil) throws -> SafetyEvent? {
        guard case .stopped(let reason, _) = state.mode else { return nil }
        var causes: [String] = []
        if !time.isFinite { causes.append("the reset time \(time) is not finite") }
        if state.eStopInputActive { causes.append("the e-stop input is still active; release it first") }
        let problems = stateProblems(currentState)
        causes += problems.map(\.message)
        causes += ageConditions(time: time, received: receivedAt ?? time).map(\.message)
        if problems.isEmpty {
            causes += limitConditions(currentState).map(\.message)
            // Upright is required whatever the phase expects: a robot lying on its side is not
            // reset into a running wrapper (restart the deployment, which stands up from passive).
            if config.floatingBase, !state.uprightExpected, let orientation = currentState.baseOrientation {
                let tilt = Self.tilt(orientation)
                if tilt > config.tiltLimit { causes.append("base tilt \(tilt) rad is beyond the limit \(config.tiltLimit) rad: the robot is not upright") }
            }
        }
        if !causes.isEmpty {
            let text = causes.joined(separator: "; ")
            record(SafetyEvent(time: time, reason: .resetRefused, message: "reset refused: \(text)"))
            throw TetherError("reset refused: \(text)", at: "safety wrapper (stopped: \(reason.rawValue))",
                              hint: "the robot stays stopped; remove the cause and reset again")
        }
        state.mode = .running
        // The reset's time restarts the clock check, so one bad tick time cannot block every later tick.
        state.lastTickTime = time
        state.velocityOverTicks = Array(repeating: 0, count: config.count)
        state.smoother = nil
        state.limiter = nil
        state.activeConditions = []
        state.latestState = currentState
        state.latestStateReceivedAt = receivedAt ?? time
        state.lastValidState = currentState
        return record(SafetyEvent(time: time, reason: .reset, message: "reset accepted after a \(reason.rawValue) stop; running at torque stage \(state.stage)",
                                  values: ["stage": state.stage]))
    }

    /// Raises the torque stage by exactly one step (0.25 → 0.5 → 1.0), never while stopped.
    ///
    /// The stage never rises any other way: not by itself, not by a reset, never above 1.0, and
    /// never by skipping a step, so each stage is seen working before the next.
    /// - Parameters:
    ///   - stage: The next stage up from the current one.
    ///   - time: Time of the call, s.
    /// - Throws: `TetherError` when `stage` is not a stage or not the next one up.
    @discardableResult
    public mutating func raiseStage(to stage: Double, time: Double) throws -> SafetyEvent {
        let stages = SafetyConfig.stages
        let current = state.stage
        if case .stopped(let reason, _) = state.mode {
            throw TetherError("the torque stage cannot be raised while stopped (\(reason.rawValue))", at: "raiseStage",
                              hint: "reset after removing the stop's cause, see the stage work at \(current), then raise it")
        }
        guard let target = SafetyConfig.canonicalStage(stage) else {
            throw TetherError("torque stage \(stage) is not one of \(stages)", at: "raiseStage", hint: "raise one step at a time: 0.25 → 0.5 → 1.0")
        }
        guard let i = stages.firstIndex(of: current), i + 1 < stages.count else {
            throw TetherError("the torque stage is already \(current), the highest", at: "raiseStage", hint: "nothing to raise")
        }
        guard target == stages[i + 1] else {
            let what = target <= current
                ? "raising to \(target) would not raise the stage (it is \(current))"
                : "the stage rises one step at a time: from \(current) the next is \(stages[i + 1]), not \(target)"
            throw TetherError(what, at: "raiseStage", hint: target <= current ? "use lowerStage to lower it" : "raise to \(stages[i + 1]) first")
        }
        state.stage = target
        return record(SafetyEvent(time: time, reason: .stageChange, message: "torque stage raised from \(current) to \(target) by an explicit call",
                                  values: ["from": current, "to": target]))
    }

    /// Lowers the torque stage to any lower stage, at any time (running or stopped).
    /// - Throws: `TetherError` when `stage` is not a stage or not below the current one.
    @discardableResult
    public mutating func lowerStage(to stage: Double, time: Double) throws -> SafetyEvent {
        let current = state.stage
        guard let target = SafetyConfig.canonicalStage(stage) else {
            throw TetherError("torque stage \(stage) is not one of \(SafetyConfig.stages)", at: "lowerStage", hint: "lower to 0.25 or 0.5")
        }
        guard target < current else {
            throw TetherError("lowering to \(target) would not lower the stage (it is \(current))", at: "lowerStage",
                              hint: target > current ? "use raiseStage, one step at a time" : "nothing to lower")
        }
        state.stage = target
        return record(SafetyEvent(time: time, reason: .stageChange, message: "torque stage lowered from \(current) to \(target)",
                                  values: ["from": current, "to": target]))
    }

    // MARK: - Commands

    /// The stop command for `behaviour` at the current stage.
    ///
    /// Damping: kp = 0, kd = `config.dampingKd` (reduced per joint so that kd·|qd| at the last
    /// valid measured velocity stays within stage × torque limit), no feed-forward. Zero torque:
    /// every gain and torque 0. Positions are the last measured ones clamped into the soft limits
    /// (the default pose before any state), which matter only to a driver that adds its own kp.
    /// A controlled software stop — not a safety-rated function; hardware e-stops remain mandatory.
    public func stopCommand(_ behaviour: StopBehaviour) -> JointCommand {
        var command = JointCommand.zeroTorque(count: config.count)
        stopCommand(behaviour, into: &command)
        return command
    }

    /// ``stopCommand(_:)`` written into `command`'s arrays (resized to the joints' count when they differ).
    public func stopCommand(_ behaviour: StopBehaviour, into command: inout JointCommand) {
        let valid = state.lastValidState
        let n = config.count
        if command.count != n || command.velocities.count != n || command.torques.count != n || command.kp.count != n || command.kd.count != n {
            command = JointCommand.zeroTorque(count: n)
        }
        for k in 0..<n {
            let index = config.stateIndices[k]
            let soft = config.softPositionLimits[k]
            let q = valid?.jointPositions[index] ?? config.manifest.joints[index].defaultPosition
            command.positions[k] = clamp(q, soft.lowerBound, soft.upperBound)
            command.velocities[k] = 0
            command.torques[k] = 0
            command.kp[k] = 0
            switch behaviour {
            case .zeroTorque:
                command.kd[k] = 0
            case .damping:
                var gain = config.dampingKd[k]
                if let speed = valid.map({ abs($0.jointVelocities[index]) }), speed > 0 {
                    gain = min(gain, config.torqueBound(k, stage: state.stage) / speed)
                }
                command.kd[k] = gain
            }
        }
    }

    /// The policy's command made safe: clip, map, clamp, smooth, rate limit, torque bound; written
    /// into `out` (resized once to the joints' count), with intermediate vectors in `scratch`.
    private mutating func runningCommand(raw: [Float], mapped: JointCommand, measured: RobotState,
                                         conditions: inout [Condition], into out: inout JointCommand) {
        let n = config.count
        for k in 0..<n where abs(Double(raw[k])) > config.actionClip {
            let joint = config.jointNames[config.mapper.commandIndices[k]]  // actions are in the policy's joint order
            note(.actionClip, joint, &conditions, Condition(reason: .actionClip, joint: joint,
                                        message: "action \(raw[k]) for \(joint) clipped to ±\(config.actionClip)",
                                        values: ["action": Double(raw[k]), "clip": config.actionClip]))
        }
        if out.count != n || out.velocities.count != n || out.torques.count != n || out.kp.count != n || out.kd.count != n {
            out = JointCommand.zeroTorque(count: n)
        }
        Self.resize(&scratch.q, n)
        Self.resize(&scratch.qd, n)
        let stage = state.stage
        for k in 0..<n {
            scratch.q[k] = measured.jointPositions[config.stateIndices[k]]
            scratch.qd[k] = measured.jointVelocities[config.stateIndices[k]]
        }
        // Velocity targets within ±velocity limit, like positions within the soft limits.
        for k in 0..<n {
            let limit = config.velocityLimits[k]
            let wanted = mapped.velocities[k]
            let bounded = clamp(wanted, -limit, limit)
            if bounded != wanted {
                note(.positionClamp, config.jointNames[k], &conditions, Condition(reason: .positionClamp, joint: config.jointNames[k],
                                            message: "velocity target \(wanted) for \(config.jointNames[k]) clamped to ±\(limit)",
                                            values: ["velocity_target": wanted, "limit": limit]))
            }
            out.velocities[k] = bounded
        }
        if config.mode == .effort {
            for k in 0..<n {
                let q = scratch.q[k], qd = scratch.qd[k]
                out.positions[k] = mapped.positions[k]
                out.kp[k] = mapped.kp[k]
                out.kd[k] = mapped.kd[k]
                let bound = config.torqueBound(k, stage: stage)
                let bounded = clamp(mapped.torques[k], -bound, bound)
                if bounded != mapped.torques[k] {
                    note(.torqueBound, config.jointNames[k], &conditions, Condition(reason: .torqueBound, joint: config.jointNames[k],
                                                message: "effort \(mapped.torques[k]) for \(config.jointNames[k]) clipped to ±\(bound) (stage \(stage))",
                                                values: ["effort": mapped.torques[k], "limit": bound, "stage": stage]))
                }
                out.torques[k] = bounded
                // Gains in effort mode (a runtime's hold command) are bounded like in position mode:
                // the PD torque at the measured state plus the effort stays within ±bound.
                if out.kp[k] != 0 || out.kd[k] != 0 {
                    let pd = out.kp[k] * (mapped.positions[k] - q) + out.kd[k] * (out.velocities[k] - qd)
                    if !(abs(pd + bounded) <= bound) {
                        var scale = 0.0
                        if pd.isFinite, pd != 0 {
                            scale = clamp(pd > 0 ? (bound - bounded) / pd : (bound + bounded) / -pd, 0, 1)
                        }
                        note(.torqueBound, config.jointNames[k], &conditions, Condition(reason: .torqueBound, joint: config.jointNames[k],
                                                    message: "PD torque \(pd + bounded) for \(config.jointNames[k]) bounded to ±\(bound) (stage \(stage))",
                                                    values: ["torque": pd + bounded, "limit": bound, "stage": stage, "gain_scale": scale]))
                        out.kp[k] *= scale
                        out.kd[k] *= scale
                    }
                }
            }
            return
        }

        let soft = config.softPositionLimits
        // Where targets may go: the soft limits, or anywhere with `clamp_targets: false` (the
        // joint's own range then holds it, as in the trainer; the measured position is checked).
        func targetLower(_ k: Int) -> Double { config.clampTargets ? soft[k].lowerBound : -.infinity }
        func targetUpper(_ k: Int) -> Double { config.clampTargets ? soft[k].upperBound : .infinity }
        // The targets are built in `out.positions`.
        for k in 0..<n {
            let target = mapped.positions[k]
            if config.clampTargets {
                let clamped = clamp(target, soft[k].lowerBound, soft[k].upperBound)
                if clamped != target {
                    note(.positionClamp, config.jointNames[k], &conditions, Condition(reason: .positionClamp, joint: config.jointNames[k],
                                                message: "target \(target) for \(config.jointNames[k]) clamped into the soft limits \(soft[k])",
                                                values: ["target": target, "lower": soft[k].lowerBound, "upper": soft[k].upperBound]))
                }
                out.positions[k] = clamped
            } else {
                out.positions[k] = target
            }
        }
        if config.smoothingAlpha != nil || config.maxTargetVelocity != nil || config.maxTargetAcceleration != nil {
            Self.resize(&scratch.start, n)
            Self.resize(&scratch.before, n)
            for k in 0..<n { scratch.start[k] = clamp(scratch.q[k], soft[k].lowerBound, soft[k].upperBound) }
        }
        if let alpha = config.smoothingAlpha {
            if state.smoother == nil { state.smoother = LowPassFilter(alpha: alpha, initial: scratch.start) }
            for k in 0..<n { scratch.before[k] = out.positions[k] }
            state.smoother!.step(&out.positions)
            for k in 0..<n where abs(out.positions[k] - scratch.before[k]) > config.filterReportThreshold {
                note(.smoothing, config.jointNames[k], &conditions, Condition(reason: .smoothing, joint: config.jointNames[k],
                                            message: "low-pass (\(config.smoothingCutoffHz ?? 0) Hz) holds \(config.jointNames[k]) back from "
                                                + "\(scratch.before[k])",
                                            values: ["target": scratch.before[k], "smoothed": out.positions[k]]))
            }
        }
        if config.maxTargetVelocity != nil || config.maxTargetAcceleration != nil {
            if state.limiter == nil {
                state.limiter = RateLimiter(period: config.controlPeriod, maxVelocity: config.maxTargetVelocity,
                                            maxAcceleration: config.maxTargetAcceleration, maxJerk: config.maxTargetJerk, initial: scratch.start)
            }
            for k in 0..<n { scratch.before[k] = out.positions[k] }
            state.limiter!.step(&out.positions)
            for k in 0..<n where abs(out.positions[k] - scratch.before[k]) > config.filterReportThreshold {
                note(.rateLimit, config.jointNames[k], &conditions, Condition(reason: .rateLimit, joint: config.jointNames[k],
                                            message: "rate limit holds \(config.jointNames[k]) back from \(scratch.before[k])",
                                            values: ["target": scratch.before[k], "limited": out.positions[k]]))
            }
            for k in 0..<n { out.positions[k] = clamp(out.positions[k], targetLower(k), targetUpper(k)) }
        }

        // `torque_bound: saturate` at the full stage: the robot's driver clips its PD torque at the
        // torque limit, step by step, as the trainer's PD did; the command is not shaped.
        let saturating = config.driverSaturates && stage >= 1
        for k in 0..<n {
            let q = scratch.q[k], qd = scratch.qd[k], velocityTarget = out.velocities[k]
            var kp = mapped.kp[k], kd = mapped.kd[k]
            let bound = config.torqueBound(k, stage: stage)
            let wanted = out.positions[k]
            let feedforward = clamp(mapped.torques[k], -bound, bound)
            var target = wanted
            if kp > 0 && !saturating {
                // Targets whose PD torque at the measured state stays within ±bound.
                let damping = kd * (velocityTarget - qd)
                let low = q + (-bound - damping - feedforward) / kp
                let high = q + (bound - damping - feedforward) / kp
                let windowLow = max(low, targetLower(k)), windowHigh = min(high, targetUpper(k))
                if windowLow <= windowHigh {
                    target = clamp(target, windowLow, windowHigh)
                } else {
                    target = high < targetLower(k) ? targetLower(k) : targetUpper(k)
                }
            }
            let pd = kp * (target - q) + kd * (velocityTarget - qd)
            var scale = 1.0
            if !saturating, !(abs(pd + feedforward) <= bound) {
                // No target within the soft limits is enough (the joint is outside them, or moving
                // fast): scale both gains so the torque is exactly the bound.
                scale = 0
                if pd.isFinite, pd != 0 {
                    scale = clamp(pd > 0 ? (bound - feedforward) / pd : (bound + feedforward) / -pd, 0, 1)
                }
                kp *= scale
                kd *= scale
            }
            if target != wanted || feedforward != mapped.torques[k] || scale != 1 {
                let requested = mapped.kp[k] * (wanted - q) + mapped.kd[k] * (velocityTarget - qd) + mapped.torques[k]
                note(.torqueBound, config.jointNames[k], &conditions, Condition(reason: .torqueBound, joint: config.jointNames[k],
                                            message: "PD torque \(requested) for \(config.jointNames[k]) bounded to ±\(bound) (stage \(stage))",
                                            values: ["torque": requested, "limit": bound, "stage": stage, "target": wanted,
                                                     "bounded_target": target, "gain_scale": scale]))
            }
            out.positions[k] = target
            out.torques[k] = feedforward
            out.kp[k] = kp
            out.kd[k] = kd
        }
    }

    /// Adds a condition of the running command's shaping (clip, clamp, bound, filters). One that
    /// was already active on the previous tick and does not stop gets no event, so its message and
    /// values are not built (`full` is not evaluated): a persisting condition allocates nothing.
    private func note(_ reason: SafetyReason, _ joint: String, _ conditions: inout [Condition], _ full: @autoclosure () -> Condition) {
        if !reason.stops, state.activeConditions.contains(ConditionKey(reason: reason, joint: joint)) {
            conditions.append(Condition(reason: reason, joint: joint, message: "", values: [:]))
        } else {
            conditions.append(full())
        }
    }

    /// Makes `array` hold `count` values (allocates only when its size changes).
    private static func resize(_ array: inout [Double], _ count: Int) {
        if array.count != count { array = [Double](repeating: 0, count: count) }
    }

    /// Scratch storage for one tick's intermediate vectors, kept from tick to tick so that a tick
    /// allocates nothing (state that means anything lives in `state`).
    struct Scratch: Sendable {
        var mapped = JointCommand(positions: [], velocities: [], torques: [], kp: [], kd: [])
        var q: [Double] = [], qd: [Double] = [], start: [Double] = [], before: [Double] = []
        var conditions: [Condition] = []
        var active = Set<ConditionKey>()
    }

    // MARK: - Checks

    /// Latches a stop for `reason` with its configured behaviour.
    private mutating func latch(_ reason: SafetyReason) {
        state.mode = .stopped(reason: reason, behaviour: config.stopBehaviour(for: reason))
        state.stopCount += 1
        state.smoother = nil
        state.limiter = nil
    }

    /// Counts an event raised outside a tick and keeps it for the next tick's output.
    @discardableResult
    private mutating func record(_ event: SafetyEvent) -> SafetyEvent {
        state.counters[event.reason, default: 0] += 1
        state.pendingEvents.append(event)
        return event
    }

    /// The index of the first NaN or infinity in `values` (a plain loop: no closure on the tick's path).
    private static func firstNonFinite(_ values: [Float]) -> Int? {
        for k in 0..<values.count where !values[k].isFinite { return k }
        return nil
    }

    private static func finite(_ v: SIMD3<Double>?) -> Bool {
        guard let v else { return true }
        return v.x.isFinite && v.y.isFinite && v.z.isFinite
    }

    /// Whether a state has none of the problems `stateProblems` looks for, checked without
    /// building anything (the tick's usual case).
    private func stateIsClean(_ robot: RobotState) -> Bool {
        let n = config.manifest.joints.count
        guard robot.jointPositions.count == n, robot.jointVelocities.count == n, robot.time.isFinite else { return false }
        for k in 0..<n where !robot.jointPositions[k].isFinite || !robot.jointVelocities[k].isFinite { return false }
        for k in 0..<robot.jointTorques.count where !robot.jointTorques[k].isFinite { return false }
        if let v = robot.baseOrientation, !(v[0].isFinite && v[1].isFinite && v[2].isFinite && v[3].isFinite) { return false }
        guard Self.finite(robot.baseAngularVelocity), Self.finite(robot.baseAcceleration), Self.finite(robot.basePosition),
              Self.finite(robot.baseLinearVelocity) else { return false }
        if config.floatingBase {
            guard let quaternion = robot.baseOrientation else { return false }
            let norm = (quaternion * quaternion).sum().squareRoot()
            if norm.isFinite, abs(norm - 1) > 0.1 { return false }
        }
        return true
    }

    /// Shape and finiteness problems of a state (empty when it can be used).
    func stateProblems(_ robot: RobotState) -> [Condition] {
        if stateIsClean(robot) { return [] }
        let joints = config.manifest.joints
        var problems: [Condition] = []
        guard robot.jointPositions.count == joints.count, robot.jointVelocities.count == joints.count else {
            return [Condition(reason: .invalidInput,
                              message: "the state has \(robot.jointPositions.count) positions and \(robot.jointVelocities.count) velocities for "
                                  + "\(joints.count) joints")]
        }
        for (field, values) in [("position", robot.jointPositions), ("velocity", robot.jointVelocities), ("torque", robot.jointTorques)] {
            for (i, value) in values.enumerated() where !value.isFinite {
                let name = i < joints.count ? joints[i].name : "joint \(i)"
                problems.append(Condition(reason: .nonFiniteState, joint: name, message: "measured \(field) \(value) for \(name)",
                                          values: [field: value]))
            }
        }
        var base: [String] = []
        if !robot.time.isFinite { base.append("time") }
        func check<V: SIMD>(_ vector: V?, _ name: String) where V.Scalar == Double {
            if let vector, !(0..<vector.scalarCount).allSatisfy({ vector[$0].isFinite }) { base.append(name) }
        }
        check(robot.baseOrientation, "base orientation")
        check(robot.baseAngularVelocity, "base angular velocity")
        check(robot.baseAcceleration, "base acceleration")
        check(robot.basePosition, "base position")
        check(robot.baseLinearVelocity, "base linear velocity")
        if !base.isEmpty {
            problems.append(Condition(reason: .nonFiniteState, message: "the state's \(base.joined(separator: ", ")) is not finite"))
        }
        if config.floatingBase {
            if let quaternion = robot.baseOrientation {
                let norm = (quaternion * quaternion).sum().squareRoot()
                if norm.isFinite, abs(norm - 1) > 0.1 {
                    problems.append(Condition(reason: .invalidInput, message: "the base orientation is not a unit quaternion (norm \(norm))",
                                              values: ["norm": norm]))
                }
            } else {
                problems.append(Condition(reason: .invalidInput, message: "the robot has a floating base but the state carries no base orientation"))
            }
        }
        return problems
    }

    /// Watchdog on the state's age at `time`.
    func ageConditions(time: Double, received: Double) -> [Condition] {
        guard time.isFinite else { return [] }
        guard received.isFinite else {
            return [Condition(reason: .invalidTime, message: "the state's receive time \(received) is not finite", values: ["received": received])]
        }
        let age = time - received
        if age < 0 {
            return [Condition(reason: .invalidTime, message: "the state was received at \(received) s, after the tick time \(time) s",
                              values: ["received": received, "time": time])]
        }
        if age > config.stateTimeout {
            return [Condition(reason: .stateTimeout, message: "the robot state is \(age) s old (timeout \(config.stateTimeout) s)",
                              values: ["age": age, "timeout": config.stateTimeout])]
        }
        return []
    }

    /// Tilt, fall, joint position and velocity limits of a valid state. Velocity conditions
    /// here always stop; `countVelocities` applies the persistence rule during ticks.
    func limitConditions(_ robot: RobotState) -> [Condition] {
        var found: [Condition] = []
        if config.floatingBase, state.uprightExpected, let orientation = robot.baseOrientation {
            let tilt = Self.tilt(orientation)
            if tilt > config.tiltLimit {
                found.append(Condition(reason: .tiltLimit, message: "base tilt \(tilt) rad is beyond the limit \(config.tiltLimit) rad",
                                       values: ["tilt": tilt, "limit": config.tiltLimit]))
            }
            if let maxRate = config.maxTiltRate, let w = robot.baseAngularVelocity {
                let rate = (w.x * w.x + w.y * w.y).squareRoot()
                if tilt > config.tiltLimit / 2, rate > maxRate {
                    found.append(Condition(reason: .fall, message: "the base tilts at \(rate) rad/s while already tilted \(tilt) rad: falling",
                                           values: ["tilt_rate": rate, "tilt": tilt, "max_tilt_rate": maxRate]))
                }
            }
        }
        if state.uprightExpected, let minHeight = config.minBaseHeight, let position = robot.basePosition, position.z < minHeight {
            found.append(Condition(reason: .fall, message: "base height \(position.z) m is below \(minHeight) m: fallen",
                                   values: ["height": position.z, "min_height": minHeight]))
        }
        for k in 0..<config.count {
            let index = config.stateIndices[k], name = config.jointNames[k]
            let position = robot.jointPositions[index], limits = config.positionLimits[k]
            if position < limits.lowerBound - config.positionTolerance || position > limits.upperBound + config.positionTolerance {
                found.append(Condition(reason: .positionLimit, joint: name,
                                       message: "\(name) is at \(position), beyond its limits \(limits) by more than \(config.positionTolerance)",
                                       values: ["position": position, "lower": limits.lowerBound, "upper": limits.upperBound]))
            }
            let speed = robot.jointVelocities[index], limit = config.velocityLimits[k]
            if abs(speed) > limit {
                found.append(Condition(reason: .velocityLimit, joint: name, message: "\(name) moves at \(speed), beyond its velocity limit \(limit)",
                                       values: ["velocity": speed, "limit": limit]))
            }
        }
        return found
    }

    /// Applies the persistence rule: a joint over its velocity limit stops the robot once it has
    /// been over for `velocityLimitTicks` consecutive ticks.
    private mutating func countVelocities(_ conditions: [Condition]) -> [Condition] {
        var result: [Condition] = []
        var over = Set<String>()
        for var condition in conditions {
            if condition.reason == .velocityLimit, let joint = condition.joint, let k = config.jointNames.firstIndex(of: joint) {
                over.insert(joint)
                state.velocityOverTicks[k] += 1
                let ticks = state.velocityOverTicks[k]
                condition.stops = ticks >= config.velocityLimitTicks
                condition.values["ticks_over"] = Double(ticks)
            }
            result.append(condition)
        }
        for k in 0..<config.count where !over.contains(config.jointNames[k]) {
            state.velocityOverTicks[k] = 0
        }
        return result
    }

    /// Angle between the base's up axis and the world's, rad, from a (w, x, y, z) quaternion of
    /// any non-zero norm.
    public static func tilt(_ orientation: SIMD4<Double>) -> Double {
        let normSquared = (orientation * orientation).sum()
        let x = orientation[1], y = orientation[2]
        let cosine = 1 - 2 * (x * x + y * y) / normSquared
        return acos(clamp(cosine, -1, 1))
    }
}

extension Condition {
    /// A condition; whether it stops follows its reason.
    init(reason: SafetyReason, joint: String? = nil, message: String, values: [String: Double] = [:]) {
        self.init(reason: reason, joint: joint, message: message, values: values, stops: reason.stops)
    }
}
