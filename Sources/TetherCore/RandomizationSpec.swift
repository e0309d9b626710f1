import Foundation
import Yams

/// A domain-randomization spec: which quantities vary between training or validation episodes,
/// and how. Format in `docs/randomization.md`; calibration later writes specs of the same format
/// from its 95 % intervals. Pure data: sampling lives here, application in `TetherSim`.
public struct RandomizationSpec: Sendable, Equatable {
    /// Randomized quantities.
    public var terms: [Term]
    /// Random pushes on the base during an episode (nil: none).
    public var pushes: Pushes?
    /// The file it came from.
    public var sourcePath: String?

    /// Creates a spec.
    public init(terms: [Term] = [], pushes: Pushes? = nil) {
        self.terms = terms
        self.pushes = pushes
    }

    /// What a term changes.
    public enum Target: String, Sendable, CaseIterable {
        /// Sliding friction of geoms (scale or absolute).
        case geomFriction = "geom_friction"
        /// Mass of bodies (scale or absolute); inertia scales with mass so bodies stay consistent.
        case bodyMass = "body_mass"
        /// Offset of the base body's centre of mass, m, each axis drawn independently.
        case baseCenterOfMass = "base_com"
        /// Multiplier on every actuator's torque (motor strength).
        case motorStrength = "motor_strength"
        /// Multiplier on the PD proportional gains.
        case kpScale = "kp_scale"
        /// Multiplier on the PD derivative gains.
        case kdScale = "kd_scale"
        /// Joint viscous damping (scale or absolute), N·m·s/rad.
        case jointDamping = "joint_damping"
        /// Joint armature (scale or absolute), kg·m².
        case jointArmature = "joint_armature"
        /// Joint friction loss (scale or absolute), N·m.
        case jointFrictionLoss = "joint_frictionloss"
        /// Delay between the policy's output and the motors, s (rounded to physics steps).
        case actionLatency = "action_latency"
        /// Multiplier on the manifest's observation noise.
        case observationNoise = "observation_noise"
        /// Any model parameter by path (`body[trunk].mass`), first value.
        case parameter
    }

    /// Whether a sample multiplies the nominal value, replaces it, or is added to it.
    public enum Mode: String, Sendable { case scale, absolute, offset }

    /// A probability distribution.
    public enum Distribution: Sendable, Equatable {
        case uniform(low: Double, high: Double)
        case logUniform(low: Double, high: Double)
        case normal(mean: Double, standardDeviation: Double, low: Double?, high: Double?)
        case constant(Double)

        /// Draws a value.
        public func sample(_ random: inout SeededRandom) -> Double {
            switch self {
            case .uniform(let lo, let hi): return random.uniform(lo, hi)
            case .logUniform(let lo, let hi): return Foundation.exp(random.uniform(Foundation.log(lo), Foundation.log(hi)))
            case .normal(let mean, let sd, let lo, let hi):
                var v = random.gaussian(mean: mean, standardDeviation: sd)
                if let lo { v = max(lo, v) }
                if let hi { v = min(hi, v) }
                return v
            case .constant(let v): return v
            }
        }

        /// The value with no randomization (the centre of the distribution).
        public var nominal: Double {
            switch self {
            case .uniform(let lo, let hi): (lo + hi) / 2
            case .logUniform(let lo, let hi): (lo * hi).squareRoot()
            case .normal(let mean, _, _, _): mean
            case .constant(let v): v
            }
        }
    }

    /// One randomized quantity.
    public struct Term: Sendable, Equatable {
        /// Label in reports (defaults to the target, or the path).
        public var name: String
        public var target: Target
        public var distribution: Distribution
        public var mode: Mode
        /// Names the term applies to (geoms, bodies, joints); empty means all of them.
        public var items: [String]
        /// Parameter path for `.parameter`.
        public var path: String?
        /// Draw one value per item instead of one shared value.
        public var independent: Bool

        /// Creates a term.
        public init(name: String? = nil, target: Target, distribution: Distribution, mode: Mode = .scale,
                    items: [String] = [], path: String? = nil, independent: Bool = false) {
            self.name = name ?? path ?? target.rawValue
            self.target = target
            self.distribution = distribution
            self.mode = mode
            self.items = items
            self.path = path
            self.independent = independent
        }
    }

    /// Random horizontal pushes on the base.
    public struct Pushes: Sendable, Equatable {
        /// Time between pushes, s (drawn uniformly).
        public var interval: ClosedRange<Double>
        /// Force magnitude, N (drawn uniformly; direction uniform in the plane).
        public var force: ClosedRange<Double>
        /// Duration of a push, s.
        public var duration: Double
        /// Creates a push schedule.
        public init(interval: ClosedRange<Double>, force: ClosedRange<Double>, duration: Double) {
            self.interval = interval
            self.force = force
            self.duration = duration
        }
    }

    /// Loads and checks a spec file; every problem is reported at once with its line.
    public static func load(path: String) throws -> RandomizationSpec {
        try parse(yaml: ManifestReader.text(of: path, what: "randomization spec"), sourcePath: path)
    }

    /// Parses a spec from YAML text.
    public static func parse(yaml: String, sourcePath: String? = nil) throws -> RandomizationSpec {
        var spec = try ManifestReader.parse(sourcePath: sourcePath) { $0.readRandomization(yaml: yaml) }
        spec.sourcePath = sourcePath
        return spec
    }
}

extension ManifestReader {
    mutating func readRandomization(yaml: String) -> RandomizationSpec? {
        guard let (root, top) = document(yaml, empty: "the spec is empty", expected: "a mapping with terms: and pushes:") else { return nil }
        checkKeys(top, "", allowed: ["tether_randomization", "terms", "pushes"], node: root)
        var spec = RandomizationSpec()
        if let termsNode = top["terms"] {
            guard let items = termsNode.sequence else {
                report(.wrongType, "terms", termsNode, "must be a list of terms")
                return nil
            }
            for (i, item) in items.enumerated() {
                let path = "terms[\(i)]"
                guard let m = mapping(item, path) else { continue }
                checkKeys(m, path, allowed: ["name", "target", "distribution", "low", "high", "mean", "std", "value", "mode",
                                              "items", "path", "independent"], node: item)
                guard let targetName = requiredString(m, "target", "\(path).target", parent: item) else { continue }
                guard let target = RandomizationSpec.Target(rawValue: targetName) else {
                    report(.invalidValue, "\(path).target", m["target"], "unknown target '\(targetName)'",
                           expected: "one of \(RandomizationSpec.Target.allCases.map(\.rawValue).joined(separator: ", "))")
                    continue
                }
                let kind = optionalString(m, "distribution", "\(path).distribution") ?? "uniform"
                var distribution: RandomizationSpec.Distribution?
                switch kind {
                case "uniform", "log_uniform":
                    let lo = requiredNumber(m, "low", "\(path).low", parent: item)
                    let hi = requiredNumber(m, "high", "\(path).high", parent: item)
                    if let lo, let hi {
                        if lo > hi { report(.invalidValue, "\(path).low", m["low"], "low \(lo) is above high \(hi)", expected: "low <= high") }
                        else if kind == "log_uniform" && lo <= 0 { report(.invalidValue, "\(path).low", m["low"], "log_uniform needs low > 0, got \(lo)") }
                        else { distribution = kind == "uniform" ? .uniform(low: lo, high: hi) : .logUniform(low: lo, high: hi) }
                    }
                case "normal":
                    let mean = requiredNumber(m, "mean", "\(path).mean", parent: item)
                    let sd = requiredNumber(m, "std", "\(path).std", parent: item, nonNegative: true)
                    if let mean, let sd {
                        distribution = .normal(mean: mean, standardDeviation: sd,
                                               low: optionalNumber(m, "low", "\(path).low"), high: optionalNumber(m, "high", "\(path).high"))
                    }
                case "constant":
                    if let v = requiredNumber(m, "value", "\(path).value", parent: item) { distribution = .constant(v) }
                default:
                    report(.invalidValue, "\(path).distribution", m["distribution"], "unknown distribution '\(kind)'",
                           expected: "uniform, log_uniform, normal or constant")
                }
                let defaultMode: RandomizationSpec.Mode = [.baseCenterOfMass].contains(target) ? .offset
                    : [.actionLatency, .parameter].contains(target) ? .absolute : .scale
                var mode = defaultMode
                if let modeName = optionalString(m, "mode", "\(path).mode") {
                    if let parsed = RandomizationSpec.Mode(rawValue: modeName) { mode = parsed } else {
                        report(.invalidValue, "\(path).mode", m["mode"], "unknown mode '\(modeName)'", expected: "scale, absolute or offset")
                    }
                }
                let names = m["items"].flatMap { stringList($0, "\(path).items") } ?? []
                let parameterPath = optionalString(m, "path", "\(path).path")
                if target == .parameter && parameterPath == nil {
                    report(.missingField, "\(path).path", item, "target 'parameter' needs a path", expected: "e.g. path: body[trunk].mass")
                }
                let independent = m["independent"]?.bool ?? false
                if let distribution {
                    spec.terms.append(.init(name: optionalString(m, "name", "\(path).name"), target: target, distribution: distribution,
                                            mode: mode, items: names, path: parameterPath, independent: independent))
                }
            }
        }
        if let pushNode = top["pushes"], let m = mapping(pushNode, "pushes") {
            checkKeys(m, "pushes", allowed: ["interval", "force", "duration"], node: pushNode)
            let interval = requiredPair(m, "interval", "pushes.interval", parent: pushNode)
            let force = requiredPair(m, "force", "pushes.force", parent: pushNode)
            let duration = optionalNumber(m, "duration", "pushes.duration", positive: true) ?? 0.1
            if let interval, let force {
                if interval.lowerBound <= 0 { report(.invalidValue, "pushes.interval", m["interval"], "push interval must be positive") }
                else { spec.pushes = .init(interval: interval, force: force, duration: duration) }
            }
        }
        return spec
    }
}
