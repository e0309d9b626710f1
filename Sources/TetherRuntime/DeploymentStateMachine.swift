import TetherCore

/// The deployment's phases and the operator commands that move between them:
///
///     passive ──standUp──► standingUp ──(after standUpSeconds)──► standing ──startPolicy──► policy
///        ▲                     │                                    │                       │
///        └──(after stopSeconds)── stopping ◄────────── stop ────────┴───────────────────────┘
///
/// `passive` sends zero torque; `standingUp` interpolates from the pose captured when it began to
/// the manifest's default pose (smooth in position and velocity); `standing` holds the default
/// pose; `policy` sends what the policy asks; `stopping` is a damping stop (kp = 0, kd > 0), a
/// controlled software stop and not a safety-rated function. Commands that make no sense in a
/// phase are refused with the reason, never silently applied. Pure logic: time is passed in.
public struct DeploymentStateMachine: Sendable {
    /// Phases.
    public enum Phase: String, Sendable, Codable { case passive, standingUp = "standing_up", standing, policy, stopping }
    /// Operator commands.
    public enum Command: String, Sendable, Codable, CaseIterable { case standUp = "stand_up", startPolicy = "start_policy", stop, passive }

    /// Timings.
    public struct Timing: Sendable, Equatable {
        /// Duration of the stand-up interpolation, s.
        public var standUpSeconds: Double
        /// Duration of the damping stop before going passive, s.
        public var stopSeconds: Double
        /// Damping gain of the stop, N·m·s/rad.
        public var stopDamping: Double
        public init(standUpSeconds: Double = 2, stopSeconds: Double = 1, stopDamping: Double = 1) {
            self.standUpSeconds = standUpSeconds
            self.stopSeconds = stopSeconds
            self.stopDamping = stopDamping
        }
    }

    public let manifest: Manifest
    public let timing: Timing
    /// The current phase.
    public private(set) var phase: Phase = .passive
    /// When the current phase began, s.
    public private(set) var phaseStart: Double = 0
    private var standUpFrom: [Double] = []

    /// Starts passive.
    public init(manifest: Manifest, timing: Timing = .init()) {
        self.manifest = manifest
        self.timing = timing
    }

    /// Applies an operator command at `time`, with the robot's current joint positions (manifest
    /// joint order) for the stand-up's starting pose. Throws when the command is not allowed now.
    public mutating func handle(_ command: Command, time: Double, jointPositions: [Double]) throws {
        switch (command, phase) {
        case (.standUp, .passive):
            guard jointPositions.count == manifest.joints.count, jointPositions.allSatisfy(\.isFinite) else {
                let why = jointPositions.isEmpty ? "no robot state has arrived"
                    : "the state holds \(jointPositions.count) finite positions for \(manifest.joints.count) joints"
                throw TetherError("stand-up refused: it starts from the measured pose, and \(why)", hint: "wait for the robot's joint states, then stand up")
            }
            let actuated = manifest.joints.indices.filter { manifest.joints[$0].actuator != nil }
            standUpFrom = actuated.map { jointPositions[$0] }
            enter(.standingUp, at: time)
        case (.startPolicy, .standing):
            enter(.policy, at: time)
        case (.stop, .standingUp), (.stop, .standing), (.stop, .policy):
            enter(.stopping, at: time)
        case (.passive, _):
            enter(.passive, at: time)
        case (.stop, .stopping), (.stop, .passive):
            break  // already stopping or stopped
        default:
            throw TetherError("'\(command.rawValue)' is not possible while \(phase.rawValue)",
                              hint: "sequence: stand_up (from passive) → start_policy (once standing) → stop")
        }
    }

    /// Advances time-driven transitions (stand-up done, stop done).
    public mutating func update(time: Double) {
        switch phase {
        case .standingUp where time - phaseStart >= timing.standUpSeconds: enter(.standing, at: time)
        case .stopping where time - phaseStart >= timing.stopSeconds: enter(.passive, at: time)
        default: break
        }
    }

    /// Enters the stopping phase now (a safety stop or an error), whatever the phase.
    public mutating func forceStop(time: Double) {
        if phase != .stopping && phase != .passive { enter(.stopping, at: time) }
    }

    private mutating func enter(_ next: Phase, at time: Double) {
        phase = next
        phaseStart = time
    }

    /// The command for the current phase; `policyCommand` is used in the policy phase.
    public func command(time: Double, policyCommand: JointCommand?) -> JointCommand {
        let joints = manifest.actuatedJoints
        let n = joints.count
        let zero = [Double](repeating: 0, count: n)
        switch phase {
        case .passive:
            return .zeroTorque(count: n)
        case .standingUp:
            let s = max(0, min(1, (time - phaseStart) / max(timing.standUpSeconds, 1e-9)))
            let blend = s * s * (3 - 2 * s)  // smoothstep: zero velocity at both ends
            var target = manifest.defaultPoseCommand
            for k in 0..<n {
                target.positions[k] = standUpFrom[k] + blend * (joints[k].defaultPosition - standUpFrom[k])
                target.torques[k] *= blend
            }
            return target
        case .standing:
            return manifest.defaultPoseCommand
        case .policy:
            return policyCommand ?? manifest.defaultPoseCommand
        case .stopping:
            return JointCommand(positions: zero, velocities: zero, torques: zero, kp: zero,
                                kd: [Double](repeating: timing.stopDamping, count: n))
        }
    }
}
