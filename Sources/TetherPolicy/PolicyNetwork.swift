import Foundation
import SwiftProtobuf
import TetherCore

/// A policy Tether trains and exports: observation normalization followed by an MLP.
///
/// `action = MLP((obs - mean) / std)`. ARS (V2) learns the normalization statistics while it
/// trains, so they are part of the policy and of its ONNX export.
public struct PolicyNetwork: Sendable, Codable, Equatable {
    /// Running mean of observations.
    public var observationMean: [Float]
    /// Running standard deviation of observations (clamped away from zero).
    public var observationStd: [Float]
    /// The network.
    public var mlp: MLP
    /// An open-loop periodic trajectory generator added to the network's output (PMTG-style
    /// locomotion), or nil.
    public var generator: TrajectoryGenerator?

    /// Creates a policy with identity normalization.
    public init(mlp: MLP, generator: TrajectoryGenerator? = nil) {
        self.mlp = mlp
        self.generator = generator
        observationMean = [Float](repeating: 0, count: mlp.inputSize)
        observationStd = [Float](repeating: 1, count: mlp.inputSize)
    }

    /// Computes the action natively (same arithmetic as the exported ONNX graph).
    public func act(_ observation: [Float]) -> [Float] {
        var action = mlp.forward(normalize(observation))
        generator?.add(to: &action, observation: observation)
        return action
    }

    /// Normalizes an observation.
    @inline(__always) public func normalize(_ observation: [Float]) -> [Float] {
        var x = observation
        for i in x.indices { x[i] = (x[i] - observationMean[i]) / observationStd[i] }
        return x
    }
}

/// A periodic trajectory generator in action units, driven by the `gait_phase` observation.
///
/// With sin φ and cos φ read from the raw observation at `phaseIndex`, the features are the
/// Fourier harmonics f(φ) = [sin φ, cos φ, sin 2φ, cos 2φ, …, sin Kφ, cos Kφ] (computed from
/// sin φ and cos φ by the angle-addition recursion), and the generator adds `W f(φ) + b` to the
/// network's action. The policy's network then learns residuals around an open-loop gait, the
/// idea of Iscen et al., "Policies Modulating Trajectory Generators" (CoRL 2018). The ONNX export
/// computes exactly this, so the deployed model holds the whole gait.
public struct TrajectoryGenerator: Sendable, Codable, Equatable {
    /// Index of sin φ in the observation; cos φ is the next element.
    public var phaseIndex: Int
    /// Number of harmonics K.
    public var harmonics: Int
    /// Weights, row-major actions × 2K.
    public var weights: [Float]
    /// Constant offsets per action.
    public var offsets: [Float]
    /// Steering: with h the raw observation at `headingIndex` (a heading error), the generator
    /// also adds `h (S f(φ) + s)`, a heading-proportional change of the gait (nil: none).
    public var steering: Steering?

    /// The heading-feedback part of a generator.
    public struct Steering: Sendable, Codable, Equatable {
        /// Index of the heading error in the observation.
        public var headingIndex: Int
        /// Weights, row-major actions × 2K.
        public var weights: [Float]
        /// Offsets per action.
        public var offsets: [Float]
        public init(headingIndex: Int, weights: [Float], offsets: [Float]) {
            self.headingIndex = headingIndex
            self.weights = weights
            self.offsets = offsets
        }
    }

    /// Creates a generator.
    public init(phaseIndex: Int, harmonics: Int, weights: [Float], offsets: [Float], steering: Steering? = nil) {
        precondition(harmonics >= 1 && weights.count == offsets.count * 2 * harmonics, "weights must be actions × 2K")
        precondition(steering.map { $0.weights.count == weights.count && $0.offsets.count == offsets.count } ?? true,
                     "steering must have the generator's shape")
        self.phaseIndex = phaseIndex
        self.harmonics = harmonics
        self.weights = weights
        self.offsets = offsets
        self.steering = steering
    }

    /// Number of features, 2K.
    public var featureCount: Int { 2 * harmonics }

    /// The harmonics of φ from sin φ and cos φ, by the same recursion as the ONNX graph.
    @inline(__always) public func features(sin s1: Float, cos c1: Float) -> [Float] {
        var f = [Float](repeating: 0, count: featureCount)
        var s = s1, c = c1
        for k in 0..<harmonics {
            f[2 * k] = s
            f[2 * k + 1] = c
            let next = s * c1 + c * s1
            c = c * c1 - s * s1
            s = next
        }
        return f
    }

    /// Adds the generator's output for `observation` to `action`.
    @inline(__always) public func add(to action: inout [Float], observation: [Float]) {
        let f = features(sin: observation[phaseIndex], cos: observation[phaseIndex + 1])
        let n = featureCount
        for a in action.indices {
            var sum = offsets[a]
            for k in 0..<n { sum += weights[a * n + k] * f[k] }
            action[a] += sum
        }
        if let steering {
            let h = observation[steering.headingIndex]
            for a in action.indices {
                var sum = steering.offsets[a]
                for k in 0..<n { sum += steering.weights[a * n + k] * f[k] }
                action[a] += h * sum
            }
        }
    }

    /// Fits K harmonics to a periodic function of the phase (one value per action), by the
    /// discrete Fourier transform on `samples` uniformly spaced phases (exact least squares for
    /// this basis). Returns the generator and the largest fit error.
    public static func fit(phaseIndex: Int, harmonics: Int, actions: Int, samples: Int = 720,
                           _ function: (Double) -> [Double]) -> (TrajectoryGenerator, maxError: Double) {
        let (weights, offsets) = fourier(harmonics: harmonics, actions: actions, samples: samples, function)
        let generator = TrajectoryGenerator(phaseIndex: phaseIndex, harmonics: harmonics, weights: weights, offsets: offsets)
        var worst = 0.0
        for j in 0..<samples {
            let phi = 2 * Double.pi * Double(j) / Double(samples)
            let v = function(phi)
            var observation = [Float](repeating: 0, count: phaseIndex + 2)
            observation[phaseIndex] = Float(Foundation.sin(phi))
            observation[phaseIndex + 1] = Float(Foundation.cos(phi))
            var out = [Float](repeating: 0, count: actions)
            generator.add(to: &out, observation: observation)
            for a in 0..<actions { worst = max(worst, abs(Double(out[a]) - v[a])) }
        }
        return (generator, worst)
    }

    /// Fourier coefficients (weights actions × 2K, offsets) of a periodic vector function.
    public static func fourier(harmonics: Int, actions: Int, samples: Int = 720,
                               _ function: (Double) -> [Double]) -> (weights: [Float], offsets: [Float]) {
        let values = (0..<samples).map { function(2 * Double.pi * Double($0) / Double(samples)) }
        var weights = [Float](repeating: 0, count: actions * 2 * harmonics), offsets = [Float](repeating: 0, count: actions)
        for a in 0..<actions {
            offsets[a] = Float(values.reduce(0) { $0 + $1[a] } / Double(samples))
            for k in 1...harmonics {
                var sk = 0.0, ck = 0.0
                for (j, v) in values.enumerated() {
                    let phi = 2 * Double.pi * Double(j) / Double(samples)
                    sk += v[a] * Foundation.sin(Double(k) * phi)
                    ck += v[a] * Foundation.cos(Double(k) * phi)
                }
                weights[a * 2 * harmonics + 2 * (k - 1)] = Float(2 * sk / Double(samples))
                weights[a * 2 * harmonics + 2 * (k - 1) + 1] = Float(2 * ck / Double(samples))
            }
        }
        return (weights, offsets)
    }
}

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

/// Writes ONNX models of `PolicyNetwork`s (our own subset of the ONNX schema, see ONNX/).
public enum OnnxWriter {
    /// The opset the graphs use (Gemm, Elu, Tanh, Relu, Sub, Div are stable there).
    public static let opset: Int64 = 17

    /// Serializes `policy` as an ONNX model with input `obs` [batch, n] and output `actions`
    /// [batch, m], and `metadata` as metadata_props.
    public static func model(_ policy: PolicyNetwork, metadata: [String: String] = [:], name: String = "tether_policy") throws -> [UInt8] {
        var graph = Onnx_GraphProto()
        graph.name = name
        let n = policy.mlp.inputSize, m = policy.mlp.outputSize
        graph.input = [valueInfo("obs", [nil, n])]
        graph.output = [valueInfo("actions", [nil, m])]
        appendNormalization(mean: policy.observationMean, std: policy.observationStd, to: &graph)
        appendMLP(policy.mlp, input: "obs_normalized", output: policy.generator == nil ? "actions" : "network_actions", prefix: "layer", to: &graph)
        if let generator = policy.generator {
            appendGenerator(generator, actions: m, to: &graph)
        }
        return try serialize(graph, metadata: metadata)
    }

    /// Writes the model to a file.
    public static func write(_ policy: PolicyNetwork, metadata: [String: String] = [:], to path: String) throws {
        try write(bytes: try model(policy, metadata: metadata), to: path)
    }

    /// Appends `obs_normalized = (obs − obs_mean) / obs_std`.
    static func appendNormalization(mean: [Float], std: [Float], to graph: inout Onnx_GraphProto) {
        graph.initializer.append(tensor("obs_mean", [1, mean.count], mean))
        graph.initializer.append(tensor("obs_std", [1, std.count], std))
        graph.node.append(node("Sub", ["obs", "obs_mean"], ["obs_centered"]))
        graph.node.append(node("Div", ["obs_centered", "obs_std"], ["obs_normalized"]))
    }

    /// Appends an MLP's layers: `Gemm` nodes (weights `PREFIXl.weight`, `PREFIXl.bias`) with the
    /// hidden activation between them, reading `input` and writing the last layer into `output`.
    static func appendMLP(_ mlp: MLP, input: String, output: String, prefix: String, to graph: inout Onnx_GraphProto) {
        var current = input
        for l in 0..<mlp.layerCount {
            let w = "\(prefix)\(l).weight", b = "\(prefix)\(l).bias"
            graph.initializer.append(tensor(w, [mlp.sizes[l + 1], mlp.sizes[l]], mlp.weights[l]))
            graph.initializer.append(tensor(b, [mlp.sizes[l + 1]], mlp.biases[l]))
            let last = l == mlp.layerCount - 1
            let out = last ? output : "\(prefix)\(l).linear"
            graph.node.append(node("Gemm", [current, w, b], [out], name: "\(prefix)\(l)", attributes: [intAttribute("transB", 1)]))
            current = out
            if !last {
                let act = "\(prefix)\(l).activation"
                switch mlp.activation {
                case .elu: graph.node.append(node("Elu", [current], [act], attributes: [floatAttribute("alpha", 1)]))
                case .tanh: graph.node.append(node("Tanh", [current], [act]))
                case .relu: graph.node.append(node("Relu", [current], [act]))
                }
                current = act
            }
        }
    }

    /// The model around `graph` (IR 8, opset `opset`, producer tether) with `metadata` as
    /// metadata_props, serialized.
    static func serialize(_ graph: Onnx_GraphProto, metadata: [String: String]) throws -> [UInt8] {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "tether"
        model.producerVersion = "0.1.0"
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = opset
        model.opsetImport = [opsetID]
        model.graph = graph
        model.metadataProps = metadata.sorted { $0.key < $1.key }.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return Array(try model.serializedBytes() as [UInt8])
    }

    /// Writes serialized model bytes to a file.
    static func write(bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw TetherError("cannot write the ONNX model: \(error.localizedDescription)", at: path)
        }
    }

    /// Trajectory generator nodes: sin φ and cos φ sliced from the raw observation, the higher
    /// harmonics by angle addition, a Gemm, and the sum with the network's output into `actions`.
    private static func appendGenerator(_ g: TrajectoryGenerator, actions m: Int, to graph: inout Onnx_GraphProto) {
        graph.initializer.append(int64Tensor("tg_sin_start", [g.phaseIndex]))
        graph.initializer.append(int64Tensor("tg_sin_end", [g.phaseIndex + 1]))
        graph.initializer.append(int64Tensor("tg_cos_end", [g.phaseIndex + 2]))
        graph.initializer.append(int64Tensor("tg_axis", [1]))
        graph.node.append(node("Slice", ["obs", "tg_sin_start", "tg_sin_end", "tg_axis"], ["tg_sin1"]))
        graph.node.append(node("Slice", ["obs", "tg_sin_end", "tg_cos_end", "tg_axis"], ["tg_cos1"]))
        var features = ["tg_sin1", "tg_cos1"]
        for k in 1..<g.harmonics {
            let s = "tg_sin\(k)", c = "tg_cos\(k)", s2 = "tg_sin\(k + 1)", c2 = "tg_cos\(k + 1)"
            // sin(k+1)φ = sin kφ cos φ + cos kφ sin φ;  cos(k+1)φ = cos kφ cos φ − sin kφ sin φ
            graph.node.append(node("Mul", [s, "tg_cos1"], ["\(s2)_a"]))
            graph.node.append(node("Mul", [c, "tg_sin1"], ["\(s2)_b"]))
            graph.node.append(node("Add", ["\(s2)_a", "\(s2)_b"], [s2]))
            graph.node.append(node("Mul", [c, "tg_cos1"], ["\(c2)_a"]))
            graph.node.append(node("Mul", [s, "tg_sin1"], ["\(c2)_b"]))
            graph.node.append(node("Sub", ["\(c2)_a", "\(c2)_b"], [c2]))
            features += [s2, c2]
        }
        graph.node.append(node("Concat", features, ["tg_features"], attributes: [intAttribute("axis", 1)]))
        graph.initializer.append(tensor("tg.weight", [m, g.featureCount], g.weights))
        graph.initializer.append(tensor("tg.bias", [m], g.offsets))
        graph.node.append(node("Gemm", ["tg_features", "tg.weight", "tg.bias"], ["tg_actions"], name: "trajectory_generator",
                               attributes: [intAttribute("transB", 1)]))
        guard let steering = g.steering else {
            graph.node.append(node("Add", ["network_actions", "tg_actions"], ["actions"]))
            return
        }
        graph.initializer.append(int64Tensor("tg_heading_start", [steering.headingIndex]))
        graph.initializer.append(int64Tensor("tg_heading_end", [steering.headingIndex + 1]))
        graph.node.append(node("Slice", ["obs", "tg_heading_start", "tg_heading_end", "tg_axis"], ["tg_heading"]))
        graph.initializer.append(tensor("tg_steer.weight", [m, g.featureCount], steering.weights))
        graph.initializer.append(tensor("tg_steer.bias", [m], steering.offsets))
        graph.node.append(node("Gemm", ["tg_features", "tg_steer.weight", "tg_steer.bias"], ["tg_steer_unit"],
                               name: "trajectory_generator_steering", attributes: [intAttribute("transB", 1)]))
        graph.node.append(node("Mul", ["tg_steer_unit", "tg_heading"], ["tg_steer"]))
        graph.node.append(node("Add", ["tg_actions", "tg_steer"], ["tg_steered"]))
        graph.node.append(node("Add", ["network_actions", "tg_steered"], ["actions"]))
    }

    static func int64Tensor(_ name: String, _ values: [Int]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = [Int64(values.count)]
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.int64Data = values.map(Int64.init)
        return t
    }

    static func valueInfo(_ name: String, _ shape: [Int?]) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var s = Onnx_TensorShapeProto()
        s.dim = shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = Int64(d) } else { dim.dimParam = "batch" }
            return dim
        }
        tensorType.shape = s
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }

    static func tensor(_ name: String, _ dims: [Int], _ values: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        // raw_data is little-endian IEEE 754, the layout of Float on every platform Tether runs on.
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
        return t
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String? = nil,
                             attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.name = name ?? "\(op)_\(outputs[0])"
        n.attribute = attributes
        return n
    }

    static func intAttribute(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = value
        return a
    }

    static func floatAttribute(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }
}
