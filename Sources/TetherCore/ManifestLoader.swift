import Foundation
import Yams

/// One thing wrong with a manifest: where it is (file, line, field) and what was expected.
public struct ManifestProblem: Sendable, Equatable, CustomStringConvertible {
    /// Kinds of problems, so tools and tests can tell them apart.
    public enum Kind: String, Sendable {
        case syntax, missingField, wrongType, unknownField, invalidValue
        case unknownJoint, duplicateJoint, unknownActuator, unknownSensor, unknownBody
        case limitOutsideModel, rateMismatch, modelError
    }
    /// What kind of problem.
    public var kind: Kind
    /// The manifest file, when known.
    public var file: String?
    /// 1-based line in the file, when known.
    public var line: Int?
    /// Field path, e.g. `joints[3].kp`.
    public var field: String
    /// What is wrong.
    public var message: String
    /// What would be right.
    public var expected: String?

    /// Creates a problem.
    public init(_ kind: Kind, field: String, _ message: String, expected: String? = nil,
                file: String? = nil, line: Int? = nil) {
        self.kind = kind
        self.field = field
        self.message = message
        self.expected = expected
        self.file = file
        self.line = line
    }

    public var description: String {
        var location = file ?? "manifest"
        if let line { location += ":\(line)" }
        var text = "\(location): \(field): \(message)"
        if let expected { text += " (expected \(expected))" }
        return text
    }
}

/// Every problem found in a manifest, reported together so the user fixes them in one pass.
public struct ManifestError: Error, Sendable, CustomStringConvertible {
    /// The problems, in file order where known.
    public var problems: [ManifestProblem]
    /// Creates the error.
    public init(problems: [ManifestProblem]) { self.problems = problems }

    /// Creates the error with the problems in file order (those without a line last).
    public init(sorting problems: [ManifestProblem]) {
        self.problems = problems.sorted { ($0.line ?? .max) < ($1.line ?? .max) }
    }

    public var description: String {
        let header = problems.count == 1 ? "the manifest has 1 problem:" : "the manifest has \(problems.count) problems:"
        return ([header] + problems.map { "  - \($0)" }).joined(separator: "\n")
    }
}

extension Manifest {
    /// Loads and checks a manifest file (structure and values; the model-dependent checks are in
    /// `TetherSim.RobotModel.load`). Throws `ManifestError` listing every problem at once.
    public static func load(path: String) throws -> Manifest {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ManifestError(problems: [ManifestProblem(
                .syntax, field: "(file)", "cannot read the manifest: \(error.localizedDescription)",
                expected: "a readable YAML file", file: path)])
        }
        return try parse(yaml: text, sourcePath: path)
    }

    /// Parses and checks a manifest from YAML text. `sourcePath` names the file in messages and
    /// anchors a relative `model:` path.
    public static func parse(yaml: String, sourcePath: String? = nil) throws -> Manifest {
        try ManifestReader.parse(sourcePath: sourcePath) { $0.read(yaml: yaml) }
    }
}

/// Walks the YAML node tree and collects problems with their field path and line.
struct ManifestReader {
    let file: String?
    var problems: [ManifestProblem] = []
    /// Line of every field read, by path, so later checks (against the model) can point at it.
    var lines: [String: Int] = [:]

    init(file: String?) { self.file = file }

    mutating func read(yaml: String) -> Manifest? {
        guard let (root, top) = document(yaml, empty: "the manifest is empty",
                                         expected: "a YAML mapping with name, model, rates, joints, ...") else { return nil }
        checkKeys(top, "", allowed: ["tether_manifest", "name", "description", "model", "rates", "base",
                                       "joints", "policy_joint_order", "observation", "action", "safety", "ros2", "task", "unitree"], node: root)

        if let version = optionalInt(top, "tether_manifest", "tether_manifest"), version != Manifest.formatVersion {
            report(.invalidValue, "tether_manifest", top["tether_manifest"], "format version \(version) is not supported",
                   expected: "\(Manifest.formatVersion)")
        }
        let name = requiredString(top, "name", "name", parent: root)
        let description = optionalString(top, "description", "description") ?? ""
        var modelPath = requiredString(top, "model", "model", parent: root)
        if let path = modelPath, !path.hasPrefix("/"), let file {
            modelPath = URL(fileURLWithPath: file).absoluteURL.deletingLastPathComponent().appendingPathComponent(path).standardized.path
        }
        let rates = readRates(top, root)
        let base = top["base"].flatMap { readBase($0) }
        let joints = readJoints(top, root)
        let policyJointOrder = top["policy_joint_order"].flatMap { readPolicyJointOrder($0, joints: joints) }
        let observation = readObservation(top, root)
        let action = readAction(top, root, joints: joints ?? [])
        let safety = readSafety(top)
        let ros2 = readROS2(top)
        let task = top["task"].flatMap { readTask($0, joints: joints ?? []) }
        let unitree = top["unitree"].flatMap { readUnitree($0, joints: joints ?? []) }

        guard let name, let modelPath, let rates, let joints, let observation, let action else { return nil }
        var manifest = Manifest(name: name, description: description, modelPath: modelPath, rates: rates,
                                base: base, joints: joints, observation: observation, action: action,
                                safety: safety, ros2: ros2, sourcePath: file)
        manifest.sourcePath = file
        manifest.policyJointOrder = policyJointOrder
        manifest.fieldLines = lines
        manifest.task = task
        manifest.unitree = unitree
        if observation.terms.contains(where: { $0.source == .footContacts }), base?.footContactSensors.isEmpty ?? true {
            report(.invalidValue, "observation.terms", top["observation"], "observes foot_contacts but base.foot_contacts is empty",
                   expected: "touch sensor names under base.foot_contacts")
        }
        // Per-element lists line up with the policy's vectors, so they are in the policy's joint order.
        for (i, term) in observation.terms.enumerated() where term.scale.count != 1 && term.scale.count != manifest.termSize(term.source) {
            report(.invalidValue, "observation.terms[\(i)].scale", top["observation"],
                   "has \(term.scale.count) values but \(term.source.rawValue) has \(manifest.termSize(term.source))",
                   expected: "one value, or \(manifest.termSize(term.source))")
        }
        for term in observation.terms where [.baseAngularVelocity, .projectedGravity, .baseLinearVelocity].contains(term.source) && base == nil {
            report(.missingField, "base", root, "observation term \(term.source.rawValue) needs a floating base",
                   expected: "a base: section with body and IMU sensors")
        }
        return manifest
    }

    // MARK: sections

    mutating func readRates(_ top: Node.Mapping, _ root: Node) -> Manifest.Rates? {
        guard let node = required(top, "rates", "rates", parent: root), let map = mapping(node, "rates") else { return nil }
        checkKeys(map, "rates", allowed: ["physics_hz", "control_hz"], node: node)
        let physics = requiredNumber(map, "physics_hz", "rates.physics_hz", parent: node, positive: true)
        let control = requiredNumber(map, "control_hz", "rates.control_hz", parent: node, positive: true)
        guard let physics, let control else { return nil }
        let ratio = physics / control
        if control > physics || abs(ratio - ratio.rounded()) > 1e-9 * ratio {
            report(.rateMismatch, "rates.control_hz", map["control_hz"],
                   "control rate \(control) Hz is not a whole divisor of the physics rate \(physics) Hz (ratio \(ratio))",
                   expected: "a control period that is a whole number of physics steps, e.g. "
                       + "\(ManifestReader.trimmed(physics / max(1, ratio.rounded(.up)))) Hz (\(Int(max(1, ratio.rounded(.up)))) steps)")
            return nil
        }
        return Manifest.Rates(physicsHz: physics, controlHz: control)
    }

    mutating func readBase(_ node: Node) -> Manifest.Base? {
        guard let map = mapping(node, "base") else { return nil }
        checkKeys(map, "base", allowed: ["body", "imu", "foot_contacts", "keyframe"], node: node)
        let body = requiredString(map, "body", "base.body", parent: node)
        var imu: Manifest.Base.IMU?
        if let imuNode = required(map, "imu", "base.imu", parent: node) {
            if let source = imuNode.scalar?.string {
                // `imu: floating_base`: a model without IMU sensors (vendor and Menagerie models).
                if source == "floating_base" {
                    imu = .floatingBase
                } else {
                    report(.invalidValue, "base.imu", imuNode, "unknown IMU source '\(source)'",
                           expected: "floating_base, or a mapping {orientation: framequat sensor, gyro: gyro sensor, accelerometer: ...}")
                }
            } else if let map = mapping(imuNode, "base.imu") {
                checkKeys(map, "base.imu", allowed: ["orientation", "gyro", "accelerometer"], node: imuNode)
                let orientation = requiredString(map, "orientation", "base.imu.orientation", parent: imuNode)
                let gyro = requiredString(map, "gyro", "base.imu.gyro", parent: imuNode)
                let acc = optionalString(map, "accelerometer", "base.imu.accelerometer")
                if let orientation, let gyro { imu = .sensors(orientation: orientation, gyro: gyro, accelerometer: acc) }
            }
        }
        var feet: [String] = []
        if let feetNode = map["foot_contacts"] {
            feet = stringList(feetNode, "base.foot_contacts") ?? []
        }
        let keyframe = optionalString(map, "keyframe", "base.keyframe")
        guard let body, let imu else { return nil }
        return Manifest.Base(body: body, imu: imu, footContactSensors: feet, keyframe: keyframe)
    }

    mutating func readJoints(_ top: Node.Mapping, _ root: Node) -> [Manifest.Joint]? {
        guard let node = required(top, "joints", "joints", parent: root) else { return nil }
        guard let items = node.sequence, !items.isEmpty else {
            report(.wrongType, "joints", node, "must be a non-empty list of joints", expected: "a list of {name, default, limits, ...}")
            return nil
        }
        var joints: [Manifest.Joint] = []
        var firstLine: [String: Int] = [:]
        var ok = true
        for (i, item) in items.enumerated() {
            let path = "joints[\(i)]"
            lines[path] = item.mark?.line
            guard let map = mapping(item, path) else { ok = false; continue }
            checkKeys(map, path, allowed: ["name", "actuator", "default", "limits", "velocity_limit", "torque_limit", "kp", "kd", "feedforward", "rest"],
                      node: item)
            let name = requiredString(map, "name", "\(path).name", parent: item)
            let actuator = optionalString(map, "actuator", "\(path).actuator")
            let def = requiredNumber(map, "default", "\(path).default", parent: item)
            let limits = requiredPair(map, "limits", "\(path).limits", parent: item)
            let velocity = requiredNumber(map, "velocity_limit", "\(path).velocity_limit", parent: item, positive: true)
            let torque = optionalNumber(map, "torque_limit", "\(path).torque_limit", positive: true)
            let kp = optionalNumber(map, "kp", "\(path).kp", nonNegative: true)
            let kd = optionalNumber(map, "kd", "\(path).kd", nonNegative: true)
            let feedforward = optionalNumber(map, "feedforward", "\(path).feedforward") ?? 0
            let rest = optionalNumber(map, "rest", "\(path).rest")
            if let rest, let limits = map["limits"].flatMap({ $0.sequence }).flatMap({ s -> ClosedRange<Double>? in
                guard s.count == 2, let a = Double(s[0].string ?? ""), let b = Double(s[1].string ?? ""), a < b else { return nil }
                return a...b
            }), !limits.contains(rest) {
                report(.invalidValue, "\(path).rest", map["rest"], "rest position \(rest) is outside the joint limits", expected: "a rest pose inside limits")
                ok = false
            }
            if let torque, abs(feedforward) > torque {
                report(.invalidValue, "\(path).feedforward", map["feedforward"], "feed-forward \(feedforward) exceeds the torque limit \(torque)",
                       expected: "|feedforward| <= torque_limit")
                ok = false
            }
            if let name {
                if let line = firstLine[name] {
                    report(.duplicateJoint, "\(path).name", map["name"], "joint '\(name)' is listed twice (first at line \(line))",
                           expected: "each joint once, in policy order")
                    ok = false
                } else {
                    firstLine[name] = (map["name"]?.mark?.line ?? 0)
                }
            }
            if actuator != nil && torque == nil {
                report(.missingField, "\(path).torque_limit", item, "actuated joint '\(name ?? "?")' needs a torque limit",
                       expected: "torque_limit in N·m (N for a slide joint)")
                ok = false
            }
            if let limits, let def, !limits.contains(def) {
                report(.invalidValue, "\(path).default", map["default"],
                       "default position \(def) is outside the joint limits [\(limits.lowerBound), \(limits.upperBound)]",
                       expected: "a default inside limits")
                ok = false
            }
            guard let name, let def, let limits, let velocity else { ok = false; continue }
            joints.append(Manifest.Joint(name: name, actuator: actuator, defaultPosition: def, positionLimits: limits,
                                         velocityLimit: velocity, torqueLimit: torque, kp: kp, kd: kd, feedforward: feedforward))
            joints[joints.count - 1].rest = rest
        }
        return ok ? joints : nil
    }

    mutating func readObservation(_ top: Node.Mapping, _ root: Node) -> Manifest.Observation? {
        guard let node = required(top, "observation", "observation", parent: root), let map = mapping(node, "observation") else { return nil }
        checkKeys(map, "observation", allowed: ["history", "history_layout", "terms", "gait_frequency", "gait_period", "gait_clock_start"], node: node)
        let gaitFrequency = optionalNumber(map, "gait_frequency", "observation.gait_frequency", positive: true)
        let gaitPeriod = optionalNumber(map, "gait_period", "observation.gait_period", positive: true)
        let gaitClockStart = optionalNumber(map, "gait_clock_start", "observation.gait_clock_start", nonNegative: true) ?? 0
        var layout = Manifest.Observation.HistoryLayout.frameNewestFirst
        var layoutOK = true
        if let name = optionalString(map, "history_layout", "observation.history_layout") {
            if let l = Manifest.Observation.HistoryLayout(rawValue: name) { layout = l } else {
                report(.invalidValue, "observation.history_layout", map["history_layout"], "unknown history layout '\(name)'",
                       expected: Manifest.Observation.HistoryLayout.allCases.map(\.rawValue).joined(separator: ", ")
                           + " (Isaac Lab's flattened history is term_oldest_first)")
                layoutOK = false
            }
        }
        let history = optionalInt(map, "history", "observation.history") ?? 1
        if history < 1 {
            report(.invalidValue, "observation.history", map["history"], "history \(history) must be at least 1", expected: "an integer >= 1")
        }
        guard let termsNode = required(map, "terms", "observation.terms", parent: node) else { return nil }
        guard let items = termsNode.sequence, !items.isEmpty else {
            report(.wrongType, "observation.terms", termsNode, "must be a non-empty list", expected: "a list of {source, scale, clip, noise}")
            return nil
        }
        var terms: [Manifest.Observation.Term] = []
        var ok = history >= 1
        for (i, item) in items.enumerated() {
            let path = "observation.terms[\(i)]"
            guard let m = mapping(item, path) else { ok = false; continue }
            checkKeys(m, path, allowed: ["source", "scale", "clip", "noise", "history"], node: item)
            guard let sourceName = requiredString(m, "source", "\(path).source", parent: item) else { ok = false; continue }
            guard let source = Manifest.Observation.Source(rawValue: sourceName) else {
                report(.invalidValue, "\(path).source", m["source"], "unknown observation source '\(sourceName)'",
                       expected: "one of \(Manifest.Observation.Source.allCases.map(\.rawValue).joined(separator: ", "))")
                ok = false
                continue
            }
            let scale = m["scale"].flatMap { numberOrList($0, "\(path).scale") } ?? [1]
            let clip = optionalNumber(m, "clip", "\(path).clip", positive: true)
            let noise = optionalNumber(m, "noise", "\(path).noise", nonNegative: true) ?? 0
            let termHistory = optionalInt(m, "history", "\(path).history")
            if let termHistory {
                if termHistory < 1 {
                    report(.invalidValue, "\(path).history", m["history"], "history \(termHistory) must be at least 1", expected: "an integer >= 1")
                    ok = false
                } else if layoutOK && !layout.isPerTerm {
                    report(.invalidValue, "\(path).history", m["history"],
                           "a term's own history needs a per-term layout, but history_layout is \(layout.rawValue)",
                           expected: "history_layout: term_oldest_first (Isaac Lab) or term_newest_first, or no per-term history")
                    ok = false
                }
            }
            terms.append(.init(source: source, scale: scale, clip: clip, noise: noise, history: termHistory))
        }
        if gaitFrequency != nil && gaitPeriod != nil {
            report(.invalidValue, "observation.gait_period", map["gait_period"], "gait_frequency and gait_period are both given",
                   expected: "exactly one: gait_frequency in Hz or gait_period in s")
            ok = false
        }
        if terms.contains(where: { $0.source == .gaitPhase }) && gaitFrequency == nil && gaitPeriod == nil {
            report(.missingField, "observation.gait_frequency", node, "the gait_phase term needs a gait clock",
                   expected: "gait_frequency in Hz or gait_period in s")
            ok = false
        }
        return ok && layoutOK ? Manifest.Observation(history: history, terms: terms, gaitFrequency: gaitFrequency, gaitPeriod: gaitPeriod,
                                                     gaitClockStart: gaitClockStart, historyLayout: layout) : nil
    }

    /// The policy's joint order: a permutation of every manifest joint (passive ones too, since
    /// joint observation terms cover them), each named once.
    mutating func readPolicyJointOrder(_ node: Node, joints: [Manifest.Joint]?) -> [String]? {
        let field = "policy_joint_order"
        lines[field] = node.mark?.line
        guard let items = node.sequence, !items.isEmpty else {
            report(.wrongType, field, node, "must be a non-empty list of joint names",
                   expected: "every manifest joint once, in the order the policy reads and writes them")
            return nil
        }
        var names: [String] = []
        var firstLine: [String: Int] = [:]
        var ok = true
        for (i, item) in items.enumerated() {
            guard let name = string(item, "\(field)[\(i)]") else { ok = false; continue }
            if let line = firstLine[name] {
                report(.duplicateJoint, "\(field)[\(i)]", item, "joint '\(name)' is listed twice (first at line \(line))",
                       expected: "each manifest joint exactly once")
                ok = false
                continue
            }
            firstLine[name] = item.mark?.line ?? 0
            names.append(name)
        }
        guard let joints else { return nil }  // the joints' own problems are reported already
        let known = Set(joints.map(\.name))
        for (i, item) in items.enumerated() {
            guard let name = item.scalar?.string, !name.isEmpty, !known.contains(name) else { continue }
            let close = joints.map(\.name).min { a, b in
                NameMatching.editDistance(Array(a), Array(name)) < NameMatching.editDistance(Array(b), Array(name))
            }
            let hint = close.flatMap { NameMatching.editDistance(Array($0), Array(name)) <= max(2, name.count / 4) ? "; did you mean '\($0)'?" : nil } ?? ""
            report(.unknownJoint, "\(field)[\(i)]", item, "'\(name)' is not a joint of the manifest\(hint)",
                   expected: "one of the names under joints: \(joints.map(\.name).joined(separator: ", "))")
            ok = false
        }
        let listed = Set(names)
        let missing = joints.map(\.name).filter { !listed.contains($0) }
        if !missing.isEmpty {
            report(.missingField, field, node, "does not list \(missing.joined(separator: ", "))",
                   expected: "every manifest joint exactly once (\(joints.count) names, passive joints too); \(names.count) given")
            ok = false
        }
        return ok ? names : nil
    }

    mutating func readAction(_ top: Node.Mapping, _ root: Node, joints: [Manifest.Joint]) -> Manifest.Action? {
        guard let node = required(top, "action", "action", parent: root), let map = mapping(node, "action") else { return nil }
        checkKeys(map, "action", allowed: ["mode", "scale", "offset", "clip"], node: node)
        guard let modeName = requiredString(map, "mode", "action.mode", parent: node) else { return nil }
        guard let mode = Manifest.Action.Mode(rawValue: modeName) else {
            report(.invalidValue, "action.mode", map["mode"], "unknown action mode '\(modeName)'", expected: "position or effort")
            return nil
        }
        let scale = map["scale"].flatMap { numberOrList($0, "action.scale") } ?? [1]
        var offset: [Double]?
        if let offsetNode = map["offset"] {
            if offsetNode.string == "default" { offset = nil } else { offset = numberOrList(offsetNode, "action.offset") }
        }
        let clip = optionalNumber(map, "clip", "action.clip", positive: true) ?? 100
        let actuated = joints.filter { $0.actuator != nil }
        if !joints.isEmpty {
            if actuated.isEmpty {
                report(.invalidValue, "joints", node, "no joint names an actuator, so the policy cannot act", expected: "actuator: NAME on each driven joint")
            }
            if scale.count != 1 && scale.count != actuated.count {
                report(.invalidValue, "action.scale", map["scale"], "has \(scale.count) values for \(actuated.count) actuated joints",
                       expected: "one value, or \(actuated.count) in the policy's joint order")
            }
            if let offset, offset.count != 1 && offset.count != actuated.count {
                report(.invalidValue, "action.offset", map["offset"], "has \(offset.count) values for \(actuated.count) actuated joints",
                       expected: "'default', one value, or \(actuated.count) in the policy's joint order")
            }
            // Position mode needs kp and kd on every actuated joint, unless its actuator is a
            // position servo: that is known only with the model, so `RobotModel` checks it.
        }
        return Manifest.Action(mode: mode, scale: scale, offset: offset, clip: clip)
    }

    mutating func readSafety(_ top: Node.Mapping) -> Manifest.Safety {
        var safety = Manifest.Safety(tiltLimit: Units.radians(degrees: 45), positionMargin: 0.05, stateTimeout: 0.05, torqueStage: 0.25)
        guard let node = top["safety"], let map = mapping(node, "safety") else { return safety }
        checkKeys(map, "safety", allowed: ["tilt_limit", "position_margin", "state_timeout", "torque_stage",
                                            "policy_budget", "smoothing_cutoff_hz", "max_target_velocity", "clamp_targets", "torque_bound"], node: node)
        if let node = map["clamp_targets"] {
            if let text = node.scalar?.string, let b = Bool(text.lowercased()) {
                safety.clampTargets = b
            } else {
                report(.invalidValue, "safety.clamp_targets", node, "clamp_targets must be true or false", expected: "true (default) or false")
            }
        }
        if let node = map["torque_bound"] {
            if let text = node.scalar?.string, let method = Manifest.Safety.TorqueBound(rawValue: text) {
                safety.torqueBound = method
            } else {
                report(.invalidValue, "safety.torque_bound", node, "unknown torque bound method",
                       expected: Manifest.Safety.TorqueBound.allCases.map(\.rawValue).joined(separator: " or "))
            }
        }
        safety.policyBudget = optionalNumber(map, "policy_budget", "safety.policy_budget", positive: true)
        safety.smoothingCutoffHz = optionalNumber(map, "smoothing_cutoff_hz", "safety.smoothing_cutoff_hz", nonNegative: true)
        if let node = map["max_target_velocity"], let v = numberOrList(node, "safety.max_target_velocity") {
            if v.contains(where: { !($0 >= 0 && $0.isFinite) }) {
                report(.invalidValue, "safety.max_target_velocity", node, "target speed limits must be non-negative",
                       expected: "rad/s, one value or one per actuated joint; 0 turns the limit off")
            } else {
                safety.maxTargetVelocity = v
            }
        }
        if let v = optionalNumber(map, "tilt_limit", "safety.tilt_limit", positive: true) {
            if v > .pi { report(.invalidValue, "safety.tilt_limit", map["tilt_limit"], "tilt limit \(v) rad is more than pi; is it in degrees?",
                                expected: "radians in (0, pi], e.g. 0.785 for 45°") }
            safety.tiltLimit = v
        }
        if let v = optionalNumber(map, "position_margin", "safety.position_margin", nonNegative: true) { safety.positionMargin = v }
        if let v = optionalNumber(map, "state_timeout", "safety.state_timeout", positive: true) { safety.stateTimeout = v }
        if let v = optionalNumber(map, "torque_stage", "safety.torque_stage", positive: true) {
            if ![0.25, 0.5, 1.0].contains(v) {
                report(.invalidValue, "safety.torque_stage", map["torque_stage"], "torque stage \(v) is not one of the stages", expected: "0.25, 0.5 or 1.0")
            }
            safety.torqueStage = v
        }
        return safety
    }

    mutating func readTask(_ node: Node, joints: [Manifest.Joint]) -> Manifest.Task? {
        guard let map = mapping(node, "task") else { return nil }
        checkKeys(map, "task", allowed: ["kind", "episode_seconds", "command", "success_distance", "balance_joint",
                                          "max_angle", "initial_noise", "min_base_height"], node: node)
        guard let kindName = requiredString(map, "kind", "task.kind", parent: node) else { return nil }
        guard let kind = Manifest.Task.Kind(rawValue: kindName) else {
            report(.invalidValue, "task.kind", map["kind"], "unknown task '\(kindName)'",
                   expected: Manifest.Task.Kind.allCases.map(\.rawValue).joined(separator: " or "))
            return nil
        }
        guard let seconds = requiredNumber(map, "episode_seconds", "task.episode_seconds", parent: node, positive: true) else { return nil }
        var task = Manifest.Task(kind: kind, episodeSeconds: seconds)
        if let c = map["command"].flatMap({ numberOrList($0, "task.command") }) {
            if c.count == 3 { task.command = SIMD3(c[0], c[1], c[2]) } else {
                report(.invalidValue, "task.command", map["command"], "has \(c.count) values", expected: "[vx m/s, vy m/s, yaw rate rad/s]")
            }
        }
        task.successDistance = optionalNumber(map, "success_distance", "task.success_distance", nonNegative: true) ?? 0
        task.balanceJoint = optionalString(map, "balance_joint", "task.balance_joint")
        task.maxAngle = optionalNumber(map, "max_angle", "task.max_angle", positive: true) ?? 0.8
        task.initialNoise = optionalNumber(map, "initial_noise", "task.initial_noise", nonNegative: true) ?? 0
        task.minBaseHeight = optionalNumber(map, "min_base_height", "task.min_base_height", nonNegative: true) ?? 0.15
        if kind == .balance {
            if let j = task.balanceJoint {
                if !joints.isEmpty && !joints.contains(where: { $0.name == j }) {
                    report(.unknownJoint, "task.balance_joint", map["balance_joint"], "'\(j)' is not a manifest joint",
                           expected: joints.map(\.name).joined(separator: ", "))
                }
            } else {
                report(.missingField, "task.balance_joint", node, "a balance task needs balance_joint", expected: "the joint to keep upright")
            }
        }
        if kind == .walk && task.successDistance <= 0 {
            report(.missingField, "task.success_distance", node, "a walk task needs success_distance > 0", expected: "metres, e.g. 10")
        }
        return task
    }

    mutating func readROS2(_ top: Node.Mapping) -> Manifest.ROS2Topics {
        var topics = Manifest.ROS2Topics(jointStates: "/joint_states", imu: "/imu", jointCommands: "/joint_commands",
                                         estop: "/estop", safetyStatus: "/diagnostics", velocityCommand: "/cmd_vel")
        guard let node = top["ros2"], let map = mapping(node, "ros2") else { return topics }
        let keys: [(String, WritableKeyPath<Manifest.ROS2Topics, String>)] = [
            ("joint_states", \.jointStates), ("imu", \.imu), ("joint_commands", \.jointCommands),
            ("estop", \.estop), ("safety_status", \.safetyStatus), ("velocity_command", \.velocityCommand),
            ("odometry", \.odometry),
        ]
        checkKeys(map, "ros2", allowed: Set(keys.map(\.0)).union(["imu_timeout", "odometry_timeout", "estop_heartbeat",
                                                                   "missing_velocities", "stamp_tolerance"]), node: node)
        topics.imuTimeout = optionalNumber(map, "imu_timeout", "ros2.imu_timeout", positive: true)
        topics.odometryTimeout = optionalNumber(map, "odometry_timeout", "ros2.odometry_timeout", positive: true)
        topics.estopHeartbeat = optionalNumber(map, "estop_heartbeat", "ros2.estop_heartbeat", positive: true)
        if let v = optionalNumber(map, "stamp_tolerance", "ros2.stamp_tolerance", nonNegative: true) { topics.stampTolerance = v }
        if let mode = optionalString(map, "missing_velocities", "ros2.missing_velocities") {
            if let m = Manifest.ROS2Topics.MissingVelocities(rawValue: mode) { topics.missingVelocities = m } else {
                report(.invalidValue, "ros2.missing_velocities", map["missing_velocities"], "unknown choice '\(mode)'",
                       expected: "refuse (joint states must carry velocities) or difference (velocities from consecutive positions)")
            }
        }
        for (key, path) in keys {
            guard let topic = optionalString(map, key, "ros2.\(key)") else { continue }
            if ManifestReader.isValidTopic(topic) {
                topics[keyPath: path] = topic
            } else {
                report(.invalidValue, "ros2.\(key)", map[key], "'\(topic)' is not a valid ROS 2 topic name",
                       expected: "letters, digits, '_' and '/', not starting with a digit, no '//' or trailing '/'")
            }
        }
        return topics
    }

    /// `unitree: {protocol, motors: {joint: slot}, interface, estop_buttons, max_motor_temperature,
    /// foot_contact_threshold}`: every actuated joint needs a distinct slot within the protocol's.
    mutating func readUnitree(_ node: Node, joints: [Manifest.Joint]) -> Manifest.Unitree? {
        guard let map = mapping(node, "unitree") else { return nil }
        checkKeys(map, "unitree", allowed: ["protocol", "motors", "interface", "estop_buttons", "max_motor_temperature",
                                            "foot_contact_threshold"], node: node)
        var messages: UnitreeProtocol?
        if let name = requiredString(map, "protocol", "unitree.protocol", parent: node) {
            messages = UnitreeProtocol(rawValue: name)
            if messages == nil {
                report(.invalidValue, "unitree.protocol", map["protocol"], "unknown protocol '\(name)'", expected: UnitreeProtocol.choices)
            }
        }
        var motors: [String: Int] = [:]
        if let motorsNode = required(map, "motors", "unitree.motors", parent: node), let motorMap = mapping(motorsNode, "unitree.motors") {
            let names = Set(joints.map(\.name))
            var owner: [Int: String] = [:]
            for (key, value) in motorMap {
                guard let joint = key.string else { continue }
                let field = "unitree.motors.\(joint)"
                guard names.contains(joint) else {
                    report(.unknownJoint, field, key, "'\(joint)' is not a joint of this manifest", expected: joints.map(\.name).joined(separator: ", "))
                    continue
                }
                guard let text = value.scalar?.string, let slot = Int(text) else {
                    report(.wrongType, field, value, "'\(value.scalar?.string ?? "?")' is not a motor index", expected: "an integer")
                    continue
                }
                lines[field] = value.mark?.line
                if let messages, !(0..<messages.motorSlots).contains(slot) {
                    report(.invalidValue, field, value, "motor index \(slot) is outside \(messages.rawValue)'s slots",
                           expected: "0 to \(messages.motorSlots - 1)")
                    continue
                }
                if let other = owner[slot] {
                    report(.invalidValue, field, value, "motor index \(slot) is already \(other)'s", expected: "one motor per joint")
                    continue
                }
                owner[slot] = joint
                motors[joint] = slot
            }
            for joint in joints where joint.actuator != nil && motorMap[Node(stringLiteral: joint.name)] == nil {
                report(.missingField, "unitree.motors.\(joint.name)", motorsNode, "actuated joint '\(joint.name)' has no motor index",
                       expected: "the joint's slot in LowCmd.motor_cmd, e.g. \(joint.name): 0")
            }
        }
        var interface = optionalString(map, "interface", "unitree.interface")
        if let name = interface, name.contains(where: { !($0.isLetter || $0.isNumber || "_.:-".contains($0)) }) || name.count > 15 {
            report(.invalidValue, "unitree.interface", map["interface"], "'\(name)' is not a network interface name",
                   expected: "a name as `ip link` lists it, e.g. eth0 or enp3s0")
            interface = nil
        }
        var buttons: [String] = []
        if let buttonsNode = map["estop_buttons"], buttonsNode.null == nil, let list = stringList(buttonsNode, "unitree.estop_buttons") {
            for name in list where !UnitreeRemote.buttons.contains(name) {
                report(.invalidValue, "unitree.estop_buttons", buttonsNode, "'\(name)' is not a button of the wireless remote",
                       expected: UnitreeRemote.buttons.joined(separator: ", "))
            }
            buttons = list
        }
        let temperature = optionalNumber(map, "max_motor_temperature", "unitree.max_motor_temperature", positive: true) ?? 90
        let threshold = optionalNumber(map, "foot_contact_threshold", "unitree.foot_contact_threshold", nonNegative: true) ?? 20
        guard let messages else { return nil }
        return Manifest.Unitree(messages: messages, motors: motors, interface: interface, estopButtons: buttons,
                                maxMotorTemperature: temperature, footContactThreshold: threshold)
    }

    static func trimmed(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.4g", value)
    }

    /// ROS 2 topic name rules (REP 144, simplified to the absolute/relative forms Tether uses).
    static func isValidTopic(_ topic: String) -> Bool {
        guard !topic.isEmpty, !topic.hasSuffix("/") || topic == "/", !topic.contains("//") else { return false }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/~")
        guard topic.allSatisfy({ allowed.contains($0) }) else { return false }
        for token in topic.split(separator: "/") where token.first?.isNumber ?? false { return false }
        return topic != "/"
    }

    // MARK: files

    /// The text of a YAML file, or a TetherError naming the file and what it should have been.
    static func text(of path: String, what: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TetherError("cannot read the \(what): \(error.localizedDescription)", at: path)
        }
    }

    /// Runs `read` over a fresh reader for `sourcePath` and returns its result, or throws every
    /// problem it found, in file order.
    static func parse<T>(sourcePath: String?, _ read: (inout ManifestReader) -> T?) throws -> T {
        var reader = ManifestReader(file: sourcePath)
        if let value = read(&reader), reader.problems.isEmpty { return value }
        throw ManifestError(sorting: reader.problems)
    }

    // MARK: primitives

    /// The document's root node and its top-level mapping, or nil with the problem reported.
    mutating func document(_ yaml: String, empty: String, expected: String) -> (Node, Node.Mapping)? {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                report(.missingField, "(document)", nil, empty, expected: expected)
                return nil
            }
            root = node
        } catch {
            report(.syntax, "(document)", nil, "YAML syntax error: \(error)", expected: "valid YAML")
            return nil
        }
        guard let top = mapping(root, "(document)") else { return nil }
        return (root, top)
    }

    mutating func report(_ kind: ManifestProblem.Kind, _ field: String, _ node: Node?, _ message: String, expected: String? = nil) {
        problems.append(ManifestProblem(kind, field: field, message, expected: expected, file: file,
                                        line: node?.mark.map { $0.line }))
    }

    mutating func mapping(_ node: Node, _ field: String) -> Node.Mapping? {
        if let map = node.mapping { return map }
        report(.wrongType, field, node, "must be a mapping of key: value", expected: "a YAML mapping")
        return nil
    }

    mutating func checkKeys(_ map: Node.Mapping, _ path: String, allowed: Set<String>, node: Node) {
        for key in map.keys {
            guard let name = key.string else { continue }
            if !allowed.contains(name) {
                let prefix = path.isEmpty ? "" : "\(path)."
                report(.unknownField, "\(prefix)\(name)", key, "unknown field '\(name)'",
                       expected: "one of \(allowed.sorted().joined(separator: ", "))")
            }
        }
    }

    mutating func required(_ map: Node.Mapping, _ key: String, _ field: String, parent: Node) -> Node? {
        if let node = map[key], node.null == nil {
            lines[field] = node.mark?.line
            return node
        }
        report(.missingField, field, parent, "required field '\(key)' is missing")
        return nil
    }

    mutating func requiredString(_ map: Node.Mapping, _ key: String, _ field: String, parent: Node) -> String? {
        guard let node = required(map, key, field, parent: parent) else { return nil }
        return string(node, field)
    }

    mutating func optionalString(_ map: Node.Mapping, _ key: String, _ field: String) -> String? {
        guard let node = map[key], node.null == nil else { return nil }
        lines[field] = node.mark?.line
        return string(node, field)
    }

    mutating func string(_ node: Node, _ field: String) -> String? {
        if let s = node.scalar?.string, !s.isEmpty { return s }
        report(.wrongType, field, node, "must be a non-empty string")
        return nil
    }

    mutating func number(_ node: Node, _ field: String) -> Double? {
        if let s = node.scalar?.string {
            let trimmed = s.trimmingCharacters(in: .whitespaces)
            if let v = Double(trimmed), v.isFinite { return v }
            if let v = node.float, v.isFinite { return v }
        }
        report(.wrongType, field, node, "'\(node.scalar?.string ?? "(not a scalar)")' is not a finite number", expected: "a number in SI units")
        return nil
    }

    mutating func requiredNumber(_ map: Node.Mapping, _ key: String, _ field: String, parent: Node,
                                 positive: Bool = false, nonNegative: Bool = false) -> Double? {
        guard let node = required(map, key, field, parent: parent) else { return nil }
        return checked(number(node, field), node, field, positive: positive, nonNegative: nonNegative)
    }

    mutating func optionalNumber(_ map: Node.Mapping, _ key: String, _ field: String,
                                 positive: Bool = false, nonNegative: Bool = false) -> Double? {
        guard let node = map[key], node.null == nil else { return nil }
        lines[field] = node.mark?.line
        return checked(number(node, field), node, field, positive: positive, nonNegative: nonNegative)
    }

    mutating func checked(_ value: Double?, _ node: Node, _ field: String, positive: Bool, nonNegative: Bool) -> Double? {
        guard let value else { return nil }
        if positive && value <= 0 {
            report(.invalidValue, field, node, "\(value) must be positive", expected: "a number > 0")
            return nil
        }
        if nonNegative && value < 0 {
            report(.invalidValue, field, node, "\(value) must not be negative", expected: "a number >= 0")
            return nil
        }
        return value
    }

    mutating func optionalInt(_ map: Node.Mapping, _ key: String, _ field: String) -> Int? {
        guard let node = map[key], node.null == nil else { return nil }
        lines[field] = node.mark?.line
        if let s = node.scalar?.string, let v = Int(s) { return v }
        report(.wrongType, field, node, "'\(node.scalar?.string ?? "?")' is not an integer", expected: "an integer")
        return nil
    }

    mutating func numberOrList(_ node: Node, _ field: String) -> [Double]? {
        if let items = node.sequence {
            var values: [Double] = []
            for (i, item) in items.enumerated() {
                guard let v = number(item, "\(field)[\(i)]") else { return nil }
                values.append(v)
            }
            if values.isEmpty { report(.invalidValue, field, node, "is an empty list", expected: "a number or a list of numbers") }
            return values.isEmpty ? nil : values
        }
        return number(node, field).map { [$0] }
    }

    mutating func requiredPair(_ map: Node.Mapping, _ key: String, _ field: String, parent: Node) -> ClosedRange<Double>? {
        guard let node = required(map, key, field, parent: parent) else { return nil }
        guard let items = node.sequence, items.count == 2 else {
            report(.wrongType, field, node, "must be a list of two numbers", expected: "[lower, upper]")
            return nil
        }
        guard let lo = number(items[0], "\(field)[0]"), let hi = number(items[1], "\(field)[1]") else { return nil }
        guard lo < hi else {
            report(.invalidValue, field, node, "lower limit \(lo) is not below upper limit \(hi)", expected: "[lower, upper] with lower < upper")
            return nil
        }
        return lo...hi
    }

    mutating func stringList(_ node: Node, _ field: String) -> [String]? {
        guard let items = node.sequence else {
            report(.wrongType, field, node, "must be a list of names")
            return nil
        }
        var names: [String] = []
        for (i, item) in items.enumerated() {
            guard let s = string(item, "\(field)[\(i)]") else { return nil }
            names.append(s)
        }
        return names
    }
}
