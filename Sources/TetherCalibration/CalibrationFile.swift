import Foundation
import TetherNumerics
import TetherCore
import Yams

/// One calibrated parameter: what the model said, what the data says, how sure, and how it was
/// measured. Vector parameters (a centre of mass, an inertia) carry one value per component.
public struct CalibratedParameter: Sendable, Codable, Equatable {
    /// A `SimParameter` path (`joint[FR_thigh_joint].damping`) or a pseudo-parameter of the
    /// driver and sensors (`driver.lag`, `driver.delay`, `sensor.gyro_noise`, …).
    public var name: String
    public var unit: String
    /// The nominal model's value (nil where the model has none, e.g. sensor noise).
    public var nominal: [Double]?
    public var estimate: [Double]
    public var standardError: [Double]
    /// 95 % interval per component (in JSON and YAML [low, high]).
    public var interval: [ConfidenceInterval]
    /// How it was measured: "friction sweep (Coulomb + viscous)", "trajectory fit (LM)", ….
    public var method: String
    /// The recordings it came from.
    public var recordings: [String]
    /// Fit quality figures (r2, rms, …).
    public var quality: [String: Double]
    /// Problems: "not identifiable: …", "ended on a bound", ….
    public var flags: [String]
    /// Whether it is written into the patched model (a SimParameter path the patcher supports).
    public var patched: Bool

    public init(name: String, unit: String, nominal: [Double]?, estimate: [Double], standardError: [Double],
                interval: [ConfidenceInterval]? = nil, method: String, recordings: [String], quality: [String: Double] = [:],
                flags: [String] = [], patched: Bool = false) {
        self.name = name
        self.unit = unit
        self.nominal = nominal
        self.estimate = estimate
        self.standardError = standardError
        self.interval = interval ?? zip(estimate, standardError).map { ConfidenceInterval(lower: $0 - 1.96 * $1, upper: $0 + 1.96 * $1) }
        self.method = method
        self.recordings = recordings
        self.quality = quality
        self.flags = flags
        self.patched = patched
    }

    /// Relative change from nominal of the first component (nil without a nominal).
    public var relativeChange: Double? {
        guard let n = nominal?.first, n != 0, let e = estimate.first else { return nil }
        return (e - n) / abs(n)
    }
}

/// The calibration file `tether calibrate` writes (YAML and JSON, same content).
public struct CalibrationFile: Sendable, Codable {
    public var tetherCalibration = 1
    public var robot: String
    public var model: String
    public var created: String
    public var recordings: [String]
    public var parameters: [CalibratedParameter]
    /// Problems with the data, naming the recording.
    public var warnings: [String]
    /// Error of the nominal and calibrated models on held-out recordings (normalized RMS).
    public var heldOut: [HeldOutError]
    /// What was used, naming the recording: topics and how they were found, the time base, how
    /// a recording from elsewhere was analysed.
    public var notes: [String] = []
    /// What the recordings could not calibrate, why, and which experiment would.
    public var skipped: [String] = []

    public struct HeldOutError: Sendable, Codable, Equatable {
        public var recording: String
        /// Normalized RMS error (each signal divided by its spread), nominal and calibrated model.
        public var nominal: Double
        public var calibrated: Double
        /// RMS joint position error, rad, and velocity error, rad/s (nominal, calibrated).
        public var positionRMS: [Double]?
        public var velocityRMS: [Double]?
        public init(recording: String, nominal: Double, calibrated: Double, positionRMS: [Double]? = nil, velocityRMS: [Double]? = nil) {
            self.recording = recording
            self.nominal = nominal
            self.calibrated = calibrated
            self.positionRMS = positionRMS
            self.velocityRMS = velocityRMS
        }
    }

    public init(robot: String, model: String, recordings: [String], parameters: [CalibratedParameter],
                warnings: [String], heldOut: [HeldOutError]) {
        self.robot = robot
        self.model = model
        self.created = ISO8601DateFormatter().string(from: Date())
        self.recordings = recordings
        self.parameters = parameters
        self.warnings = warnings
        self.heldOut = heldOut
    }

    enum CodingKeys: String, CodingKey {
        case tetherCalibration = "tether_calibration", robot, model, created, recordings, parameters, warnings
        case heldOut = "held_out", notes, skipped
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tetherCalibration = try c.decode(Int.self, forKey: .tetherCalibration)
        robot = try c.decode(String.self, forKey: .robot)
        model = try c.decode(String.self, forKey: .model)
        created = try c.decode(String.self, forKey: .created)
        recordings = try c.decode([String].self, forKey: .recordings)
        parameters = try c.decode([CalibratedParameter].self, forKey: .parameters)
        warnings = try c.decode([String].self, forKey: .warnings)
        heldOut = try c.decode([HeldOutError].self, forKey: .heldOut)
        // Files written before these existed lack them.
        notes = try c.decodeIfPresent([String].self, forKey: .notes) ?? []
        skipped = try c.decodeIfPresent([String].self, forKey: .skipped) ?? []
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public func yaml() throws -> String {
        "# Tether calibration: nominal, estimate, standard error and 95 % interval per parameter (SI units).\n"
            + (try YAMLEncoder().encode(self))
    }

    /// Writes `<base>.yaml` and `<base>.json`.
    public func write(base: String) throws {
        for (ext, text) in [("yaml", try yaml()), ("json", try json())] {
            let path = "\(base).\(ext)"
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw TetherError("cannot write the calibration file: \(error.localizedDescription)", at: path, hint: "check the output directory")
            }
        }
    }

    /// Reads a calibration file (JSON or YAML).
    public static func load(path: String) throws -> CalibrationFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TetherError("cannot read the calibration file: \(error.localizedDescription)", at: path, hint: "written by `tether calibrate`")
        }
        do {
            if path.hasSuffix(".json") { return try JSONDecoder().decode(CalibrationFile.self, from: Data(text.utf8)) }
            return try YAMLDecoder().decode(CalibrationFile.self, from: text)
        } catch {
            throw TetherError("not a calibration file: \(error)", at: path, hint: "written by `tether calibrate` (tether_calibration: 1)")
        }
    }
}

/// Randomization ranges from calibration intervals: one spec that describes the robot as it was
/// measured (what the validation gate tests), one wider spec to train from scratch under.
///
/// **The robot as measured** (`Purpose.asMeasured`, `randomization.yaml`): each patched
/// parameter is uniform over its 95 % interval, at least ±`measuredFloor` (5 %) of the estimate:
/// a measurement is one robot on one day, and a zero-width interval must not become a constant.
/// The measured delay becomes `action_latency` over the delay's interval in the same way (not
/// [0, upper]: the gate must test the robot's link, not every faster one). Parameters flagged
/// not identifiable get ±50 % (the data could not pin them down). A joint that was not measured
/// but whose sibling was (the same joint on another leg or side, `jointKind`) gets the sibling's
/// range widened by ±`siblingSpread` (20 %) of its estimate. What calibration did not measure at
/// all keeps the base spec's range (the prior: nothing narrower is known). Random pushes are
/// left out: they test robustness to disturbances, they are not a property of the robot, and a
/// gate with pushes predicts trials that push the robot, which `tether trials` does not (add a
/// `pushes:` line to test that). This is the spec whose success rate should agree with trials on
/// the robot (`tether report --validation`).
///
/// **For training** (`Purpose.training`, `training-randomization.yaml`): the measured ranges
/// widened on each side by their half-width and at least ±`trainingFloor` (20 %) of the
/// estimate (a policy trained exactly on the measured robot has no margin for what changes
/// between days and units), the base spec's terms for what was not measured, and the base spec's
/// pushes: for `tether train` from scratch, where a margin is customary. `tether improve` trains
/// under the measured spec by default: on the demo's problem that passed the gate sooner and was
/// as robust (docs/improve.md); `--train-randomize` chooses this one.
///
/// The reason for each range is written as a comment on its term.
public enum RandomizationDerivation {
    /// Which spec to derive.
    public enum Purpose: String, Sendable, CaseIterable {
        /// The robot as measured, with its uncertainty: what the validation gate tests.
        case asMeasured = "as measured"
        /// The measured ranges widened, with pushes: what training runs under.
        case training
    }

    /// Smallest half-width of a measured range, relative to the estimate.
    public static let measuredFloor = 0.05
    /// Smallest widening of a training range on each side, relative to the estimate.
    public static let trainingFloor = 0.2

    /// The range of a measured value for `purpose`: (low, high, why).
    public static func range(estimate e: Double, interval: ConfidenceInterval?, identifiable: Bool,
                             purpose: Purpose) -> (low: Double, high: Double, why: String) {
        guard identifiable, let iv = interval, iv.lower.isFinite, iv.upper.isFinite else {
            return (e - 0.5 * abs(e), e + 0.5 * abs(e), "not identifiable: ±50 %")
        }
        let half = (iv.upper - iv.lower) / 2
        switch purpose {
        case .asMeasured:
            let lo = min(iv.lower, e - measuredFloor * abs(e)), hi = max(iv.upper, e + measuredFloor * abs(e))
            let floored = lo < iv.lower || hi > iv.upper
            return (lo, hi,
                    "95 % interval [\(ModelPatcher.number(iv.lower)), \(ModelPatcher.number(iv.upper))]" + (floored ? ", widened to "
                        + "±\(Int(measuredFloor * 100)) %" : ""))
        case .training:
            let w = max(half, trainingFloor * abs(e))
            return (iv.lower - w, iv.upper + w,
                    "95 % interval [\(ModelPatcher.number(iv.lower)), \(ModelPatcher.number(iv.upper))] widened by \(ModelPatcher.number(w)) each side")
        }
    }

    /// Measured sensor noise (`sensor.gyro.*.noise`, `sensor.joint_position.noise`) against the
    /// manifest's training noise (`observation.terms[].noise`, the half-width h of uniform noise,
    /// whose standard deviation is h/√3) gives the `observation_noise` multiplier: uniform from
    /// min(1, half the largest measured/trained ratio) to max(1, 1.5 × the largest ratio's
    /// upper 95 % bound), so that training keeps its own noise and covers the robot's. A base
    /// term that already covers that stays as it is.
    ///
    /// - Parameters:
    ///   - purpose: the robot as measured (the gate) or the wider training spec.
    ///   - joints: the robot's joints; a base term on joints (damping, friction loss,
    ///     armature) is kept for the joints that were not calibrated.
    ///   - observation: the manifest's observation terms, for the noise multiplier (nil: none).
    public static func spec(from calibration: CalibrationFile, purpose: Purpose = .asMeasured,
                            base: RandomizationSpec? = nil, joints: [String] = [],
                            observation: [Manifest.Observation.Term]? = nil) -> (spec: RandomizationSpec, yaml: String) {
        var terms: [RandomizationSpec.Term] = []
        var lines = ["# Randomization derived by `tether calibrate` from \(calibration.robot)'s calibration (\(calibration.created))."]
        switch purpose {
        case .asMeasured:
            lines += ["# The robot as measured, for the validation gate: each calibrated parameter uniform over its 95 %",
                      "# interval (at least ±\(Int(measuredFloor * 100)) % of the estimate), the measured delay as action latency over its",
                      "# interval, what was not calibrated as in the base spec; no pushes (a disturbance test, not a",
                      "# property of the robot). training-randomization.yaml beside it is wider, with pushes."]
        case .training:
            lines += ["# For training from scratch (tether train): the measured ranges widened on each side by their",
                      "# half-width and at least ±\(Int(trainingFloor * 100)) % of the estimate, what was not calibrated as in the base spec,",
                      "# and the base spec's pushes. The gate tests randomization.yaml (the robot as measured)."]
        }
        lines += ["tether_randomization: 1", "terms:"]
        let covered = Set(calibration.parameters.filter(\.patched).map { targetOf($0.name) }.compactMap { $0 })
        for p in calibration.parameters where p.patched && p.estimate.count == 1 {
            let e = p.estimate[0]
            let identifiable = !p.flags.contains { $0.hasPrefix("not identifiable") }
            var (lo, hi, why) = range(estimate: e, interval: p.interval.first, identifiable: identifiable, purpose: purpose)
            if nonNegative(p.name) { lo = max(0, lo) }
            // The spec holds exactly what the YAML says.
            lo = Double(ModelPatcher.number(lo)) ?? lo
            hi = Double(ModelPatcher.number(hi)) ?? hi
            guard hi > lo else { continue }
            terms.append(.init(name: p.name, target: .parameter, distribution: .uniform(low: lo, high: hi), mode: .absolute, path: p.name))
            lines.append("  - {target: parameter, path: \"\(p.name)\", distribution: uniform, low: \(ModelPatcher.number(lo)), high: "
                + "\(ModelPatcher.number(hi)), mode: absolute}"
                         + "   # estimate \(ModelPatcher.number(e)) \(p.unit); \(why)")
        }
        if let delay = calibration.parameters.first(where: { $0.name == "driver.delay" }), let e = delay.estimate.first, e.isFinite {
            let identifiable = !delay.flags.contains { $0.hasPrefix("not identifiable") }
            var (lo, hi, why) = range(estimate: e, interval: delay.interval.first, identifiable: identifiable, purpose: purpose)
            lo = max(0, lo)
            lo = Double(ModelPatcher.number(lo)) ?? lo
            hi = Double(ModelPatcher.number(hi)) ?? hi
            if hi > lo {
                terms.append(.init(target: .actionLatency, distribution: .uniform(low: lo, high: hi), mode: .absolute))
                lines.append("  - {target: action_latency, distribution: uniform, low: \(ModelPatcher.number(lo)), high: \(ModelPatcher.number(hi))}   # s, "
                    + "measured delay \(ModelPatcher.number(e)) s; \(why)")
            }
        }
        var noiseCovered = false
        var baseNoiseNote = "not calibrated"
        switch observationNoiseTerm(calibration, observation: observation ?? [], base: base) {
        case .derived(let term, let line):
            noiseCovered = true
            terms.append(term)
            lines.append(line)
        case .coveredByBase(let note): baseNoiseNote = note
        case .none: break
        }
        // Joints not measured whose siblings were (the same joint on another leg or side): the
        // siblings' range widened by the unit-to-unit spread, rather than the base spec's prior.
        let patchedNames = Set(calibration.parameters.filter(\.patched).map(\.name))
        var inferred: Set<String> = []
        for field in ["damping", "frictionloss", "armature"] {
            for joint in joints where !patchedNames.contains("joint[\(joint)].\(field)") {
                guard let kind = jointKind(joint) else { continue }
                let siblings = calibration.parameters.filter { p in
                    guard p.patched, p.estimate.count == 1, let (name, f) = jointField(p.name), f == field, name != joint else { return false }
                    return jointKind(name) == kind
                }
                guard !siblings.isEmpty else { continue }
                var lo = Double.infinity, hi = -Double.infinity
                for p in siblings {
                    let e = p.estimate[0]
                    let r = range(estimate: e, interval: p.interval.first, identifiable: !p.flags.contains { $0.hasPrefix("not identifiable") },
                                  purpose: purpose)
                    lo = min(lo, r.low - siblingSpread * abs(e))
                    hi = max(hi, r.high + siblingSpread * abs(e))
                }
                lo = max(0, lo)
                lo = Double(ModelPatcher.number(lo)) ?? lo
                hi = Double(ModelPatcher.number(hi)) ?? hi
                guard hi > lo else { continue }
                let path = "joint[\(joint)].\(field)"
                inferred.insert(path)
                terms.append(.init(name: path, target: .parameter, distribution: .uniform(low: lo, high: hi), mode: .absolute, path: path))
                lines.append("  - {target: parameter, path: \"\(path)\", distribution: uniform, low: \(ModelPatcher.number(lo)), high: "
                    + "\(ModelPatcher.number(hi)), mode: absolute}"
                             + "   # not measured: from \(siblings.compactMap { jointField($0.name)?.joint }.joined(separator: ", ")) (the same joint), "
                                 + "±\(Int(siblingSpread * 100)) % unit to unit")
            }
        }
        // Terms of the base spec that calibration did not measure stay as they were.
        if let base {
            let jointTargets: Set<RandomizationSpec.Target> = [.jointDamping, .jointFrictionLoss, .jointArmature]
            for var t in base.terms where t.target != .parameter && !(t.target == .actionLatency && terms.contains { $0.target == .actionLatency })
                && !(t.target == .observationNoise && noiseCovered) {
                if covered.contains(t.target) {
                    // Joint terms stay for the joints calibration did not measure.
                    guard jointTargets.contains(t.target), !joints.isEmpty else { continue }
                    let field = t.target == .jointDamping ? "damping" : t.target == .jointFrictionLoss ? "frictionloss" : "armature"
                    let measured = patchedNames.union(inferred)
                    let scope = t.items.isEmpty ? joints : t.items
                    let rest = scope.filter { !measured.contains("joint[\($0)].\(field)") }
                    guard !rest.isEmpty else { continue }
                    t.items = rest
                    terms.append(t)
                    lines.append("  - " + flow(t) + "   # kept from \(base.sourcePath ?? "the base spec") for the joints not calibrated (no measured sibling)")
                    continue
                }
                terms.append(t)
                lines.append("  - " + flow(t) + "   # kept from \(base.sourcePath ?? "the base spec") "
                    + "(\(t.target == .observationNoise ? baseNoiseNote : "not calibrated"))")
            }
        }
        let pushes = purpose == .training ? base?.pushes : nil
        var spec = RandomizationSpec(terms: terms, pushes: pushes)
        if base?.pushes != nil && pushes == nil {
            lines.append("# pushes: left out (the base spec's pushes test robustness to disturbances; trials on the robot have none)")
        }
        if let p = pushes {
            lines.append("pushes: {interval: [\(ModelPatcher.number(p.interval.lowerBound)), \(ModelPatcher.number(p.interval.upperBound))], force: "
                + "[\(ModelPatcher.number(p.force.lowerBound)), \(ModelPatcher.number(p.force.upperBound))], duration: \(ModelPatcher.number(p.duration))}")
        }
        spec.sourcePath = nil
        // No term at all (e.g. only sensor noise without a trained counterpart): an empty list,
        // which the reader takes (a bare `terms:` would be null).
        if let i = lines.firstIndex(of: "terms:"), i + 1 == lines.count || !lines[i + 1].hasPrefix("  - ") {
            lines[i] = "terms: []   # nothing calibrated maps onto a randomization term"
        }
        return (spec, lines.joined(separator: "\n") + "\n")
    }

    enum NoiseTerm {
        /// A term from the measured noise, and its YAML line.
        case derived(RandomizationSpec.Term, String)
        /// The base spec's term already covers the measured noise (why, for its comment).
        case coveredByBase(String)
        /// No trained noise term has a measured counterpart.
        case none
    }

    /// The `observation_noise` term from the measured sensor noise (see `spec`).
    static func observationNoiseTerm(_ calibration: CalibrationFile, observation: [Manifest.Observation.Term],
                                     base: RandomizationSpec?) -> NoiseTerm {
        func measured(_ names: [String]) -> CalibratedParameter? {
            calibration.parameters.filter { names.contains($0.name) && $0.estimate.first?.isFinite == true }.max { $0.estimate[0] < $1.estimate[0] }
        }
        var ratios: [(what: String, ratio: Double, upper: Double)] = []
        for term in observation where term.noise > 0 {
            let p: CalibratedParameter?
            switch term.source {
            case .baseAngularVelocity: p = measured(["sensor.gyro.x.noise", "sensor.gyro.y.noise", "sensor.gyro.z.noise"])
            case .jointPositions, .jointPositionsAbsolute: p = measured(["sensor.joint_position.noise"])
            default: p = nil
            }
            guard let p else { continue }
            let trainedSD = term.noise / 3.0.squareRoot()
            let upper = p.interval.first?.upper ?? p.estimate[0]
            ratios.append(("\(p.name) \(ModelPatcher.number(p.estimate[0])) \(p.unit) vs trained \(ModelPatcher.number(trainedSD)) (\(term.source.rawValue))",
                           p.estimate[0] / trainedSD, upper / trainedSD))
        }
        guard let largest = ratios.max(by: { $0.upper < $1.upper }) else { return .none }
        let r = ratios.map(\.ratio).max()!
        var low = min(1, 0.5 * r), high = max(1, 1.5 * largest.upper)
        if let b = base?.terms.first(where: { $0.target == .observationNoise }), case .uniform(let lo, let hi) = b.distribution {
            if hi >= high {
                return .coveredByBase(String(format: "covers the measured noise: measured / trained up to %.2g", r))
            }
            low = min(low, lo)
        }
        low = Double(ModelPatcher.number(low)) ?? low
        high = Double(ModelPatcher.number(high)) ?? high
        let term = RandomizationSpec.Term(target: .observationNoise, distribution: .uniform(low: low, high: high), mode: .scale)
        return .derived(term,
                        "  - " + flow(term) + "   # measured noise / trained noise up to \(String(format: "%.2g", r)) (\(largest.what), standard deviations)")
    }

    /// The spread assumed between units of the same joint (the same motor and gearbox on another
    /// leg or side): a joint that was not measured gets its measured siblings' range widened by
    /// this much of their estimate.
    public static let siblingSpread = 0.2

    /// The kind of joint a name denotes, by dropping its first `_`-separated token: the leg or
    /// side (`FR_calf_joint` → `calf_joint`, `left_hip_pitch_joint` → `hip_pitch_joint`). Nil for
    /// names with one token. Joints of one kind are taken to be the same hardware.
    static func jointKind(_ name: String) -> String? {
        let parts = name.split(separator: "_", maxSplits: 1)
        return parts.count == 2 && !parts[1].isEmpty ? String(parts[1]) : nil
    }

    /// `joint[NAME].FIELD` → (NAME, FIELD).
    static func jointField(_ path: String) -> (joint: String, field: String)? {
        guard path.hasPrefix("joint["), let close = path.firstIndex(of: "]") else { return nil }
        let name = String(path[path.index(path.startIndex, offsetBy: 6)..<close])
        let rest = path[path.index(after: close)...]
        guard rest.hasPrefix(".") else { return nil }
        return (name, String(rest.dropFirst()))
    }

    /// The randomization target a calibrated parameter replaces (so the base spec's term for it is dropped).
    static func targetOf(_ name: String) -> RandomizationSpec.Target? {
        if name.hasSuffix("].damping") { return .jointDamping }
        if name.hasSuffix("].frictionloss") { return .jointFrictionLoss }
        if name.hasSuffix("].armature") { return .jointArmature }
        if name.hasPrefix("body[") && name.hasSuffix("].mass") { return .bodyMass }
        return nil
    }

    static func nonNegative(_ name: String) -> Bool {
        !(name.hasSuffix("].com"))
    }

    static func flow(_ t: RandomizationSpec.Term) -> String {
        var parts = ["target: \(t.target.rawValue)"]
        if let path = t.path { parts.append("path: \"\(path)\"") }
        switch t.distribution {
        case .uniform(let lo, let hi): parts += ["distribution: uniform", "low: \(ModelPatcher.number(lo))", "high: \(ModelPatcher.number(hi))"]
        case .logUniform(let lo, let hi): parts += ["distribution: log_uniform", "low: \(ModelPatcher.number(lo))", "high: \(ModelPatcher.number(hi))"]
        case .normal(let m, let sd, let lo, let hi):
            parts += ["distribution: normal", "mean: \(ModelPatcher.number(m))", "std: \(ModelPatcher.number(sd))"]
            if let lo { parts.append("low: \(ModelPatcher.number(lo))") }
            if let hi { parts.append("high: \(ModelPatcher.number(hi))") }
        case .constant(let v): parts += ["distribution: constant", "value: \(ModelPatcher.number(v))"]
        }
        parts.append("mode: \(t.mode.rawValue)")
        if !t.items.isEmpty { parts.append("items: [\(t.items.joined(separator: ", "))]") }
        if t.independent { parts.append("independent: true") }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}
