import TetherCore
import TetherPolicy
import TetherSafety

/// When a deployment does what: stand up, start the policy, stop, end. One schedule for every
/// deployment Tether runs (`tether deploy`, each trial of `tether trials`, staged deployment, the
/// demo), so that "the policy's time" means the same everywhere. Times in seconds from the start.
public struct DeploymentSchedule: Sendable, Equatable {
    /// Total length, s.
    public var seconds: Double
    /// When to stand up, s; how long the stand-up takes, s.
    public var standUpAt: Double
    public var standUpSeconds: Double
    /// When to start the policy, s (nil: half a second after standing up).
    public var policyAt: Double?
    /// When to stop, s (nil: 1.5 s before the end, leaving the stop time to finish).
    public var stopAt: Double?
    /// Run no policy: stand up and hold until the stop (the first torque stage's task).
    public var holdOnly: Bool

    public init(seconds: Double, standUpAt: Double = 0.5, standUpSeconds: Double = 2, policyAt: Double? = nil, stopAt: Double? = nil,
                holdOnly: Bool = false) {
        self.seconds = seconds; self.standUpAt = standUpAt; self.standUpSeconds = standUpSeconds
        self.policyAt = policyAt; self.stopAt = stopAt; self.holdOnly = holdOnly
    }

    /// When the policy starts, s.
    public var policyStart: Double { policyAt ?? (standUpAt + standUpSeconds + 0.5) }
    /// When the stop is commanded, s (never before the policy starts).
    public var policyStop: Double { stopAt ?? max(policyStart, seconds - 1.5) }

    /// The operator's commands.
    public var script: [Deployment.ScriptedCommand] {
        holdOnly
            ? [.init(time: standUpAt, command: .standUp), .init(time: policyStop, command: .stop)]
            : [.init(time: standUpAt, command: .standUp), .init(time: policyStart, command: .startPolicy), .init(time: policyStop, command: .stop)]
    }

    /// The state machine's timing for this schedule.
    public var timing: DeploymentStateMachine.Timing { .init(standUpSeconds: standUpSeconds) }
}

extension Deployment {
    /// A deployment of `policy` on `robot` as the manifest describes it: the safety wrapper at
    /// `stage` (nil: the manifest's `torque_stage`), the loop at the manifest's control rate (or
    /// `rateHz`), the task's velocity command, and `schedule`'s stand-up time.
    public convenience init(robot: Robot, policy: (any PolicyRuntime)?, stage: TorqueStage?, schedule: DeploymentSchedule,
                            recorder: FlightRecorder? = nil, clock: ControlClock, rateHz: Double? = nil,
                            options: SafetyOptions = SafetyOptions()) throws {
        let manifest = robot.manifest
        let config = try SafetyConfig(manifest: manifest, stage: stage?.fraction, options: options)
        self.init(robot: robot, policy: policy, safety: SafetyWrapper(config: config), timing: schedule.timing, recorder: recorder,
                  clock: clock, loop: .init(rateHz: rateHz ?? manifest.rates.controlHz), velocityCommand: manifest.task?.command ?? .zero)
    }

    /// Runs `schedule`'s script for its length.
    public func run(_ schedule: DeploymentSchedule, status: (Status) -> Void = { _ in }) throws -> Report {
        try run(script: schedule.script, seconds: schedule.seconds, status: status)
    }
}
