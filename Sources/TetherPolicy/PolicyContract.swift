import Foundation
import TetherCore

/// The policy contract written into an ONNX model's metadata_props and read back from any ONNX
/// policy that carries it (keys follow the Isaac Lab / BeyondMimic exporters where they exist).
/// Per-joint lists are in the policy's joint order, as those exporters write them.
public struct PolicyContract: Sendable, Equatable, Codable {
    public var robot: String?
    public var jointNames: [String]?
    public var defaultJointPositions: [Double]?
    public var jointStiffness: [Double]?
    public var jointDamping: [Double]?
    public var actionScale: [Double]?
    public var observationNames: [String]?
    public var observationSize: Int?
    public var actionSize: Int?
    public var controlPeriod: Double?
    public var observationHistory: Int?

    /// Metadata keys.
    enum Key {
        static let robot = "robot", joints = "joint_names", defaults = "default_joint_pos", kp = "joint_stiffness"
        static let kd = "joint_damping", scale = "action_scale", observations = "observation_names"
        static let observationSize = "observation_size", actionSize = "action_size", dt = "control_dt", history = "observation_history"
    }

    /// Largest difference taken as equal: BeyondMimic's and mjlab's exporters round every number to
    /// three decimals, so a value read back may differ by 0.0005 from the one trained with.
    public static let tolerance = 5e-4

    /// The contract a manifest implies: its actuated joints in the policy's order.
    public init(manifest m: Manifest) {
        let joints = m.policyActuatedJoints
        robot = m.name
        jointNames = joints.map(\.name)
        defaultJointPositions = joints.map(\.defaultPosition)
        jointStiffness = m.action.mode == .position ? joints.map { $0.kp ?? 0 } : nil
        jointDamping = m.action.mode == .position ? joints.map { $0.kd ?? 0 } : nil
        actionScale = m.action.scale
        observationNames = m.observation.terms.map(\.source.rawValue)
        observationSize = m.observationSize
        actionSize = m.actionSize
        controlPeriod = 1 / m.rates.controlHz
        observationHistory = m.observation.history
    }

    /// The items of a list as exporters write it: comma-separated (`a,b,c`, Tether's and
    /// BeyondMimic's form), JSON or Python lists (`["a", "b"]`, `[0.1, 0.2]`), or numpy's
    /// space-separated `[0.1 0.2]`; brackets, quotes and blanks around items are dropped.
    public static func listItems(_ text: String) -> [String] {
        var body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        while let first = body.first, let last = body.last, (first == "[" && last == "]") || (first == "(" && last == ")") {
            body = String(body.dropFirst().dropLast()).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let separators = CharacterSet(charactersIn: ",;").union(.whitespacesAndNewlines)
        return body.components(separatedBy: separators)
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"'[]()")) }
            .filter { !$0.isEmpty }
    }

    /// Reads the contract from metadata_props (unknown keys ignored, absent keys nil). A list or
    /// number that cannot be read throws, naming the key and the item.
    public init(metadata: [String: String]) throws {
        func list(_ key: String) -> [String]? { metadata[key].map(PolicyContract.listItems) }
        func numbers(_ key: String) throws -> [Double]? {
            guard let items = list(key) else { return nil }
            return try items.map {
                guard let v = Double($0), v.isFinite else {
                    throw TetherError("metadata '\(key)' holds '\($0)', not a number", hint: "a list of numbers such as 0.1,0.2 or [0.1, 0.2]")
                }
                return v
            }
        }
        func integer(_ key: String) throws -> Int? {
            guard let text = metadata[key]?.trimmingCharacters(in: .whitespaces) else { return nil }
            if let v = Int(text) { return v }
            if let v = Double(text), v == v.rounded(), abs(v) < 1e9 { return Int(v) }
            throw TetherError("metadata '\(key)' holds '\(text)', not a whole number")
        }
        robot = metadata[Key.robot]
        jointNames = list(Key.joints)
        defaultJointPositions = try numbers(Key.defaults)
        jointStiffness = try numbers(Key.kp)
        jointDamping = try numbers(Key.kd)
        actionScale = try numbers(Key.scale)
        observationNames = list(Key.observations)
        observationSize = try integer(Key.observationSize)
        actionSize = try integer(Key.actionSize)
        controlPeriod = try numbers(Key.dt)?.first
        observationHistory = try integer(Key.history)
    }

    /// As metadata_props entries.
    public var metadata: [String: String] {
        var m: [String: String] = ["producer": "tether"]
        func join(_ v: [Double]) -> String { v.map { String($0) }.joined(separator: ",") }
        if let robot { m[Key.robot] = robot }
        if let jointNames { m[Key.joints] = jointNames.joined(separator: ",") }
        if let defaultJointPositions { m[Key.defaults] = join(defaultJointPositions) }
        if let jointStiffness { m[Key.kp] = join(jointStiffness) }
        if let jointDamping { m[Key.kd] = join(jointDamping) }
        if let actionScale { m[Key.scale] = join(actionScale) }
        if let observationNames { m[Key.observations] = observationNames.joined(separator: ",") }
        if let observationSize { m[Key.observationSize] = String(observationSize) }
        if let actionSize { m[Key.actionSize] = String(actionSize) }
        if let controlPeriod { m[Key.dt] = String(controlPeriod) }
        if let observationHistory { m[Key.history] = String(observationHistory) }
        return m
    }

    /// Every difference between this (the policy's) contract and the manifest's, by name.
    ///
    /// Joint names are compared in the policy's order (`policy_joint_order`). When the metadata
    /// names its joints, per-joint values are matched by name, so they are compared even when the
    /// orders differ; the metadata may list passive joints too (Isaac Lab exporters list every
    /// joint of the articulation), whose values are then not compared.
    public func mismatches(with manifest: Manifest) -> [String] {
        let expected = PolicyContract(manifest: manifest)
        var problems: [String] = []
        let want = expected.jointNames ?? []
        let allPolicyJoints = manifest.policyJoints.map(\.name)
        if let names = jointNames {
            // An exporter that lists every joint (passive ones too) is compared with all of them.
            let reference = (names.count == allPolicyJoints.count && names.count != want.count) ? allPolicyJoints : want
            if names.count != reference.count {
                problems.append("the policy names \(names.count) joints, the manifest has \(want.count) actuated joints")
            }
            for (i, (a, b)) in zip(names, reference).enumerated() where a != b {
                problems.append("joint \(i) is \(a) in the policy but \(b) in the manifest")
            }
            if names != reference && Set(names) == Set(reference) && names.count == reference.count {
                let order = names.count == allPolicyJoints.count ? names : nil
                problems.append("the policy lists the same joints in another order; "
                    + (order.map { "declare it in the manifest: policy_joint_order: [\($0.joined(separator: ", "))]" }
                       ?? "declare the policy's order of every manifest joint as policy_joint_order"))
            } else if names != reference {
                let known = Set(reference), theirs = Set(names)
                let extra = names.filter { !known.contains($0) }, missing = reference.filter { !theirs.contains($0) }
                if !extra.isEmpty { problems.append("the policy names joints the manifest does not drive: \(extra.joined(separator: ", "))") }
                if !missing.isEmpty { problems.append("the policy does not name \(missing.joined(separator: ", "))") }
            }
        }
        let policyJoints = manifest.policyActuatedJoints
        func compare(_ label: String, _ mine: [Double]?, _ theirs: [Double]?, unit: String) {
            guard let mine, let theirs, !mine.isEmpty, !theirs.isEmpty else { return }
            if mine.count == 1 && theirs.count == 1 {
                if abs(mine[0] - theirs[0]) > PolicyContract.tolerance + 1e-6 * abs(theirs[0]) {
                    problems.append("\(label) is \(mine[0])\(unit) in the policy but \(theirs[0])\(unit) in the manifest")
                }
                return
            }
            // The policy's value for a joint: one for all, by name when the metadata names its
            // joints (its own order), else by position in the manifest's policy order.
            let policyValue: (Int, String) -> Double?
            if let names = jointNames, names.count == mine.count {
                let byName = Dictionary(zip(names, mine), uniquingKeysWith: { a, _ in a })
                policyValue = { _, name in byName[name] }
            } else if mine.count == 1 {
                policyValue = { _, _ in mine[0] }
            } else if mine.count == policyJoints.count {
                policyValue = { i, _ in mine[i] }
            } else {
                problems.append("\(label): the policy has \(mine.count) values, the manifest \(theirs.count == 1 ? policyJoints.count : theirs.count)")
                return
            }
            guard theirs.count == 1 || theirs.count == policyJoints.count else { return }
            for (i, joint) in policyJoints.enumerated() {
                guard let a = policyValue(i, joint.name) else { continue }
                let b = theirs.count == 1 ? theirs[0] : theirs[i]
                if abs(a - b) > PolicyContract.tolerance + 1e-6 * abs(b) {
                    problems.append("\(label) of \(joint.name) is \(a)\(unit) in the policy but \(b)\(unit) in the manifest")
                }
            }
        }
        compare("default position", defaultJointPositions, expected.defaultJointPositions, unit: " rad")
        compare("kp", jointStiffness, expected.jointStiffness, unit: " N·m/rad")
        compare("kd", jointDamping, expected.jointDamping, unit: " N·m·s/rad")
        compare("action scale", actionScale, expected.actionScale, unit: "")
        if let names = observationNames, let want = expected.observationNames, names != want {
            problems.append("observation terms are [\(names.joined(separator: ", "))] in the policy but [\(want.joined(separator: ", "))] in the manifest")
        }
        if let n = observationSize, n != expected.observationSize {
            problems.append("observation size is \(n) in the policy metadata but \(manifest.observationSizeBreakdown) in the manifest")
        }
        if let n = actionSize, n != expected.actionSize {
            problems.append("action size is \(n) in the policy metadata but \(expected.actionSize!) in the manifest")
        }
        if let dt = controlPeriod, let want = expected.controlPeriod, abs(dt - want) > 1e-9 {
            problems.append("control period is \(dt) s (\(1 / dt) Hz) in the policy but \(want) s (\(1 / want) Hz) in the manifest")
        }
        if let h = observationHistory, h != expected.observationHistory {
            problems.append("observation history is \(h) in the policy but \(expected.observationHistory!) in the manifest")
        }
        return problems
    }
}
