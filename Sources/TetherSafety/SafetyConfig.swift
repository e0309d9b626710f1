import Foundation
import TetherCore

/// Choices the manifest does not make: filters, stop behaviours, watchdog and fall thresholds.
///
/// Every field has a default; `nil` on a filter or rate limit means off. Per-joint arrays hold
/// one value (for every actuated joint) or one value per actuated joint, in manifest order.
public struct SafetyOptions: Sendable, Equatable {
    /// Largest lateness of a control tick before the robot stops, s (nil: one control period).
    public var maxTickLateness: Double?
    /// Cutoff of the first-order low-pass on position targets, Hz (nil or 0: off).
    public var smoothingCutoffHz: Double?
    /// Largest speed of the position targets, rad/s (nil: off).
    public var maxTargetVelocity: [Double]?
    /// Largest acceleration of the position targets, rad/s² (nil: off).
    public var maxTargetAcceleration: [Double]?
    /// Largest jerk of the position targets, rad/s³ (nil: off; needs an acceleration limit).
    public var maxTargetJerk: [Double]?
    /// Damping gain of the damping stop, N·m·s/rad (nil: the manifest's kd where it is positive,
    /// otherwise torque limit / velocity limit, the gain that saturates at the velocity limit).
    public var dampingKd: [Double]?
    /// Stop behaviour per reason; reasons not listed use `defaultStopBehaviour`.
    public var stopBehaviours: [SafetyReason: StopBehaviour]
    /// Stop behaviour for reasons not in `stopBehaviours`.
    public var defaultStopBehaviour: StopBehaviour
    /// Lowest base height before the fall detector fires, m, when the state carries a base
    /// position (nil: the manifest task's `min_base_height` on a floating-base robot; `-.infinity`: off).
    public var minBaseHeight: Double?
    /// Roll/pitch rate of the base that counts as falling once the tilt exceeds half the tilt
    /// limit, rad/s (nil: off).
    public var maxTiltRate: Double?
    /// Consecutive ticks a joint velocity must stay beyond its limit before the robot stops
    /// (1: at once). The first tick over raises an event.
    public var velocityLimitTicks: Int
    /// How far a measured joint position may go beyond its hard limits before the robot stops, rad.
    public var positionTolerance: Double
    /// Whether the manifest's deployment filters apply where these options leave a filter nil:
    /// the low-pass (`safety.smoothing_cutoff_hz`, default half the control rate) and
    /// the target speed limit (`safety.max_target_velocity`, default each joint's velocity
    /// limit), in position mode. On by default, as libfranka's are; `false` only on an explicit
    /// request (`tether deploy --no-smoothing`).
    public var manifestFilters: Bool
    /// Smallest change a filter (low-pass, rate limit) must make to a target before it is
    /// reported as an event, rad: a filter that is on always changes targets a little.
    public var filterReportThreshold: Double

    /// Creates options; the defaults are the documented ones (`docs/safety.md`).
    public init(maxTickLateness: Double? = nil, smoothingCutoffHz: Double? = nil,
                maxTargetVelocity: [Double]? = nil, maxTargetAcceleration: [Double]? = nil,
                maxTargetJerk: [Double]? = nil, dampingKd: [Double]? = nil,
                stopBehaviours: [SafetyReason: StopBehaviour] = [:], defaultStopBehaviour: StopBehaviour = .damping,
                minBaseHeight: Double? = nil, maxTiltRate: Double? = 3.0,
                velocityLimitTicks: Int = 2, positionTolerance: Double = 0.1, manifestFilters: Bool = true,
                filterReportThreshold: Double = 0.02) {
        self.manifestFilters = manifestFilters
        self.filterReportThreshold = filterReportThreshold
        self.maxTickLateness = maxTickLateness
        self.smoothingCutoffHz = smoothingCutoffHz
        self.maxTargetVelocity = maxTargetVelocity
        self.maxTargetAcceleration = maxTargetAcceleration
        self.maxTargetJerk = maxTargetJerk
        self.dampingKd = dampingKd
        self.stopBehaviours = stopBehaviours
        self.defaultStopBehaviour = defaultStopBehaviour
        self.minBaseHeight = minBaseHeight
        self.maxTiltRate = maxTiltRate
        self.velocityLimitTicks = velocityLimitTicks
        self.positionTolerance = positionTolerance
    }
}

/// The safety wrapper's immutable configuration, validated once from a manifest.
///
/// The model half of the model/state split (`SafetyState` is the other half). Per-joint arrays
/// are in the manifest's actuated-joint order, the order of actions and commands.
public struct SafetyConfig: Sendable {
    /// The torque stages (`TorqueStage`), as fractions of the torque limits, lowest first.
    public static let stages: [Double] = TorqueStage.allCases.map(\.fraction)

    /// The manifest this configuration was built from.
    public let manifest: Manifest
    /// Maps clipped raw actions to commands (TetherCore's mapper, the one simulation uses).
    public let mapper: ActionMapper
    /// Position targets or efforts.
    public let mode: Manifest.Action.Mode
    /// Names of the actuated joints.
    public let jointNames: [String]
    /// Index of each actuated joint in `manifest.joints`, i.e. in `RobotState`'s arrays.
    public let stateIndices: [Int]
    /// Hard position limits from the manifest, rad (m for a slide joint).
    public let positionLimits: [ClosedRange<Double>]
    /// Hard limits shrunk by `safety.position_margin` on both sides; targets stay inside them.
    public let softPositionLimits: [ClosedRange<Double>]
    /// Joint velocity limits, rad/s.
    public let velocityLimits: [Double]
    /// Torque limits at stage 1.0, N·m (N for a slide joint).
    public let torqueLimits: [Double]
    /// PD gains in position mode (0 in effort mode), N·m/rad and N·m·s/rad.
    public let kp: [Double]
    /// Derivative gains in position mode (0 in effort mode).
    public let kd: [Double]
    /// Feed-forward torques from the manifest, N·m (clipped to the stage's limit when sent).
    public let feedforward: [Double]
    /// Symmetric clip on the raw action.
    public let actionClip: Double
    /// Largest base tilt from upright, rad.
    public let tiltLimit: Double
    /// Lowest base height before the fall detector fires, m (nil: no height check).
    public let minBaseHeight: Double?
    /// Roll/pitch rate that counts as falling once tilted beyond half the limit, rad/s (nil: off).
    public let maxTiltRate: Double?
    /// Whether the robot has a floating base (then every state must carry an orientation).
    public let floatingBase: Bool
    /// Largest age of the robot state, s.
    public let stateTimeout: Double
    /// Largest lateness of a control tick, s.
    public let maxTickLateness: Double
    /// Torque stage the wrapper starts at.
    public let startStage: Double
    /// Control period, s (1 / control rate).
    public let controlPeriod: Double
    /// Low-pass cutoff on position targets, Hz (nil: off).
    public let smoothingCutoffHz: Double?
    /// Weight of the new sample in the low-pass (nil: off).
    public let smoothingAlpha: Double?
    /// Largest target speed per joint, rad/s (nil: off).
    public let maxTargetVelocity: [Double]?
    /// Largest target acceleration per joint, rad/s² (nil: off).
    public let maxTargetAcceleration: [Double]?
    /// Largest target jerk per joint, rad/s³ (nil: off).
    public let maxTargetJerk: [Double]?
    /// Damping gain of the damping stop per joint, N·m·s/rad (all positive).
    public let dampingKd: [Double]
    /// Stop behaviour per reason (reasons not listed use `defaultStopBehaviour`).
    public let stopBehaviours: [SafetyReason: StopBehaviour]
    /// Stop behaviour for reasons not in `stopBehaviours`.
    public let defaultStopBehaviour: StopBehaviour
    /// Consecutive ticks over a velocity limit before the robot stops.
    public let velocityLimitTicks: Int
    /// Smallest change by a filter that is reported as an event, rad.
    public let filterReportThreshold: Double
    /// Tolerance beyond the hard position limits before the robot stops, rad.
    public let positionTolerance: Double
    /// Whether position targets are clamped into the soft limits (`safety.clamp_targets`).
    public let clampTargets: Bool
    /// Whether the robot's driver saturates the PD torque at the full stage instead of the
    /// wrapper shaping targets (`safety.torque_bound: saturate`).
    public let driverSaturates: Bool

    /// Builds and validates the configuration; every problem names the joint or field.
    ///
    /// - Parameters:
    ///   - manifest: The robot manifest (its joints, action mapping and `safety` section).
    ///   - stage: Torque stage to start at (nil: `safety.torque_stage`); one of `stages`.
    ///   - options: Filters, stop behaviours and thresholds the manifest does not hold.
    /// - Throws: `TetherError` naming the joint or field that is wrong and what is expected.
    public init(manifest: Manifest, stage: Double? = nil, options: SafetyOptions = SafetyOptions()) throws {
        let where_ = manifest.sourcePath ?? "manifest \(manifest.name)"
        func fail(_ what: String, field: String, hint: String) -> TetherError {
            TetherError(what, at: "\(where_): \(field)", hint: hint)
        }

        let actuated = manifest.joints.enumerated().filter { $0.element.actuator != nil }
        guard !actuated.isEmpty else {
            throw fail("the manifest has no actuated joint", field: "joints", hint: "give at least one joint an actuator")
        }
        let count = actuated.count
        let rates = manifest.rates
        guard rates.controlHz.isFinite, rates.controlHz > 0 else {
            throw fail("control rate \(rates.controlHz) Hz is not a positive number", field: "rates.control_hz", hint: "e.g. 50")
        }
        let margin = manifest.safety.positionMargin
        guard margin.isFinite, margin >= 0 else {
            throw fail("position margin \(margin) is not a non-negative number", field: "safety.position_margin", hint: "e.g. 0.05 rad")
        }

        var hard: [ClosedRange<Double>] = [], soft: [ClosedRange<Double>] = []
        var velocity: [Double] = [], torque: [Double] = [], kp: [Double] = [], kd: [Double] = [], ff: [Double] = []
        for (i, joint) in actuated {
            let field = "joints[\(i)]"
            let limits = joint.positionLimits
            guard limits.lowerBound.isFinite, limits.upperBound.isFinite else {
                throw fail("joint '\(joint.name)' has non-finite position limits \(limits)", field: "\(field).limits",
                           hint: "give finite limits in rad (m for a slide joint)")
            }
            let lower = limits.lowerBound + margin, upper = limits.upperBound - margin
            guard lower < upper else {
                throw fail("joint '\(joint.name)': the position margin \(margin) leaves no room inside its limits \(limits)",
                           field: "safety.position_margin", hint: "use a margin below \((limits.upperBound - limits.lowerBound) / 2)")
            }
            guard joint.velocityLimit.isFinite, joint.velocityLimit > 0 else {
                throw fail("joint '\(joint.name)' has velocity limit \(joint.velocityLimit)", field: "\(field).velocity_limit",
                           hint: "a positive speed in rad/s")
            }
            guard let tau = joint.torqueLimit, tau.isFinite, tau > 0 else {
                throw fail("actuated joint '\(joint.name)' has no positive torque limit", field: "\(field).torque_limit",
                           hint: "a positive torque in N·m (N for a slide joint)")
            }
            guard joint.feedforward.isFinite else {
                throw fail("joint '\(joint.name)' has feed-forward \(joint.feedforward)", field: "\(field).feedforward", hint: "a finite torque in N·m")
            }
            if manifest.action.mode == .position {
                guard let p = joint.kp, let d = joint.kd, p.isFinite, d.isFinite, p >= 0, d >= 0 else {
                    throw fail("position mode needs finite kp >= 0 and kd >= 0 for joint '\(joint.name)'", field: "\(field).kp",
                               hint: "kp in N·m/rad, kd in N·m·s/rad")
                }
                kp.append(p)
                kd.append(d)
            } else {
                kp.append(0)
                kd.append(0)
            }
            hard.append(limits)
            soft.append(lower...upper)
            velocity.append(joint.velocityLimit)
            torque.append(tau)
            ff.append(joint.feedforward)
        }

        let clip = manifest.action.clip
        guard clip.isFinite, clip > 0 else {
            throw fail("action clip \(clip) is not a positive number", field: "action.clip", hint: "e.g. 100")
        }
        let tilt = manifest.safety.tiltLimit
        guard tilt.isFinite, tilt > 0, tilt <= .pi else {
            throw fail("tilt limit \(tilt) rad is not in (0, pi]", field: "safety.tilt_limit", hint: "radians, e.g. 0.785 for 45°")
        }
        let timeout = manifest.safety.stateTimeout
        guard timeout.isFinite, timeout > 0 else {
            throw fail("state timeout \(timeout) s is not a positive number", field: "safety.state_timeout", hint: "e.g. 0.05")
        }
        let start = stage ?? manifest.safety.torqueStage
        guard let startStage = Self.canonicalStage(start) else {
            throw fail("torque stage \(start) is not one of \(Self.stages)", field: stage == nil ? "safety.torque_stage" : "stage",
                       hint: "start at 0.25 and raise it explicitly")
        }

        let period = 1 / rates.controlHz
        let lateness = options.maxTickLateness ?? period
        guard lateness.isFinite, lateness > 0 else {
            throw fail("tick lateness bound \(lateness) s is not a positive number", field: "options.maxTickLateness",
                       hint: "e.g. one control period, \(period) s")
        }
        // The manifest's deployment filters fill what the options leave open (position mode).
        var smoothingCutoff = options.smoothingCutoffHz
        var targetSpeeds = options.maxTargetVelocity
        if options.manifestFilters, manifest.action.mode == .position {
            // Half the control rate by default: it removes tick-to-tick chatter without reshaping what the
            // policy was trained to command (a lower cutoff delays every action, and then belongs in the
            // simulation the policy is validated in too; measured: at a quarter of the rate the shipped
            // policy's trials on a slow-link virtual robot went from 0/8 to 1/8–8/12 successes).
            if smoothingCutoff == nil { smoothingCutoff = manifest.safety.smoothingCutoffHz ?? rates.controlHz / 2 }
            if targetSpeeds == nil {
                let declared = manifest.safety.maxTargetVelocity ?? velocity
                targetSpeeds = declared.allSatisfy { $0 == 0 } ? nil : declared
            }
        }
        var alpha: Double? = nil
        if let cutoff = smoothingCutoff {
            guard cutoff.isFinite, cutoff >= 0 else {
                throw fail("smoothing cutoff \(cutoff) Hz is not a non-negative number", field: "options.smoothingCutoffHz",
                           hint: "a cutoff in Hz, or 0 / nil for no smoothing")
            }
            if cutoff > 0 { alpha = LowPassFilter.alpha(cutoffHz: cutoff, period: period) }
        }
        if alpha != nil, manifest.action.mode == .effort {
            throw fail("smoothing filters position targets, but the action mode is effort", field: "options.smoothingCutoffHz",
                       hint: "leave it nil for an effort-mode robot")
        }
        func perJoint(_ values: [Double]?, _ name: String, _ unit: String) throws -> [Double]? {
            guard let values else { return nil }
            guard values.count == 1 || values.count == count else {
                throw fail("\(name) has \(values.count) values for \(count) actuated joints", field: "options.\(name)",
                           hint: "one value, or one per actuated joint")
            }
            let all = values.count == 1 ? Array(repeating: values[0], count: count) : values
            for (k, v) in all.enumerated() where !(v.isFinite && v > 0) {
                throw fail("\(name) for joint '\(actuated[k].element.name)' is \(v)", field: "options.\(name)", hint: "a positive number in \(unit)")
            }
            return all
        }
        let vmax = try perJoint(targetSpeeds, "maxTargetVelocity", "rad/s")
        let amax = try perJoint(options.maxTargetAcceleration, "maxTargetAcceleration", "rad/s²")
        let jmax = try perJoint(options.maxTargetJerk, "maxTargetJerk", "rad/s³")
        if (vmax ?? amax ?? jmax) != nil, manifest.action.mode == .effort {
            throw fail("rate limits apply to position targets, but the action mode is effort", field: "options.maxTargetVelocity",
                       hint: "leave them nil for an effort-mode robot")
        }
        if jmax != nil, amax == nil {
            throw fail("a jerk limit needs an acceleration limit", field: "options.maxTargetJerk", hint: "set maxTargetAcceleration too")
        }
        let damping = try perJoint(options.dampingKd, "dampingKd", "N·m·s/rad")
            ?? zip(kd, zip(torque, velocity)).map { d, tv in d > 0 ? d : tv.0 / tv.1 }
        guard options.velocityLimitTicks >= 1 else {
            throw fail("velocityLimitTicks is \(options.velocityLimitTicks)", field: "options.velocityLimitTicks", hint: "1 (stop at once) or more")
        }
        guard options.positionTolerance.isFinite, options.positionTolerance >= 0 else {
            throw fail("position tolerance \(options.positionTolerance) is not a non-negative number", field: "options.positionTolerance", hint: "e.g. 0.1 rad")
        }
        if let rate = options.maxTiltRate, !(rate.isFinite && rate > 0) {
            throw fail("tilt rate \(rate) rad/s is not a positive number", field: "options.maxTiltRate",
                       hint: "e.g. 3 rad/s, or nil for no tilt-rate fall detection")
        }
        let floating = manifest.base != nil
        var height = options.minBaseHeight
        if height == nil, floating { height = manifest.task?.minBaseHeight }
        if let h = height {
            guard !h.isNaN, h != .infinity else {
                throw fail("minimum base height \(h) m is not a number", field: "options.minBaseHeight",
                           hint: "a height in m, or -infinity for no height check")
            }
            if h == -.infinity { height = nil }
        }

        self.manifest = manifest
        self.mapper = ActionMapper(manifest: manifest)
        self.mode = manifest.action.mode
        self.jointNames = actuated.map(\.element.name)
        self.stateIndices = actuated.map(\.offset)
        self.positionLimits = hard
        self.softPositionLimits = soft
        self.velocityLimits = velocity
        self.torqueLimits = torque
        self.kp = kp
        self.kd = kd
        self.feedforward = ff
        self.actionClip = clip
        self.tiltLimit = tilt
        self.minBaseHeight = height
        self.maxTiltRate = options.maxTiltRate
        self.floatingBase = floating
        self.stateTimeout = timeout
        self.maxTickLateness = lateness
        self.startStage = startStage
        self.controlPeriod = period
        self.smoothingCutoffHz = alpha == nil ? nil : smoothingCutoff
        self.smoothingAlpha = alpha
        self.maxTargetVelocity = vmax
        self.maxTargetAcceleration = amax
        self.maxTargetJerk = jmax
        self.dampingKd = damping
        self.stopBehaviours = options.stopBehaviours
        self.defaultStopBehaviour = options.defaultStopBehaviour
        self.velocityLimitTicks = options.velocityLimitTicks
        self.filterReportThreshold = options.filterReportThreshold
        self.positionTolerance = options.positionTolerance
        self.clampTargets = manifest.safety.clampTargets
        self.driverSaturates = manifest.safety.torqueBound == .saturate
    }

    /// Number of actuated joints (the size of actions and commands).
    public var count: Int { jointNames.count }

    /// The stop behaviour used for `reason`.
    public func stopBehaviour(for reason: SafetyReason) -> StopBehaviour {
        stopBehaviours[reason] ?? defaultStopBehaviour
    }

    /// The torque bound of joint `index` at `stage`, N·m.
    public func torqueBound(_ index: Int, stage: Double) -> Double {
        stage * torqueLimits[index]
    }

    /// The stage in `stages` equal to `value` (within 1e-9), or nil.
    public static func canonicalStage(_ value: Double) -> Double? {
        TorqueStage(fraction: value)?.fraction
    }
}
