import Foundation
import TetherCore
import TetherONNX

/// What each input and output of an ONNX policy is: the observation, the action, and the
/// recurrent state tensors that go out of one call and back into the next.
///
/// Recognised conventions (rsl_rl's and Isaac Lab's exporters; any name pairs alike):
/// - feed-forward: one float input (the observation), the first output the action;
/// - LSTM: `obs`, `h_in`, `c_in` → `actions`, `h_out`, `c_out`;
/// - GRU: `obs`, `h_in` → `actions`, `h_out`;
/// - states shaped `[layers, batch, hidden]` (batch 1 or dynamic), any rank with static sizes.
///
/// Rules, in order: a state input and output are paired by name stem (`h_in` ↔ `h_out`,
/// `memory_in` ↔ `memory_out`, `hidden_in` ↔ `hidden_out`, `recurrent_in` ↔ `recurrent_out`); the
/// observation is the one input left (or the one named `obs`/`observation(s)`/`policy`); the
/// action is the output named `actions`/`action`, else the first output that is not a state. A
/// paired input and output must have the same shape; every other input is refused by name.
public struct PolicySignature: Sendable, Equatable, Codable {
    /// A recurrent state: the input it is fed through and the output it comes back from.
    public struct State: Sendable, Equatable, Codable {
        public var input: String
        public var output: String
        /// Concrete shape (a dynamic batch dimension resolved to 1).
        public var shape: [Int]
        /// Index of the input / output in model order.
        public var inputIndex: Int
        public var outputIndex: Int
        /// The state's role when recognisable: "hidden" (h) or "cell" (c) or "state".
        public var role: String
        public var count: Int { shape.reduce(1, *) }
    }

    public var observation: String
    public var observationIndex: Int
    /// The observation's concrete shape (dynamic dimensions resolved: last = observation size,
    /// others 1).
    public var observationShape: [Int]
    public var action: String
    public var actionIndex: Int
    public var states: [State]
    /// Outputs neither the action nor a state (computed and ignored).
    public var ignoredOutputs: [String]

    /// "feed-forward", "LSTM (hidden 64, 1 layer)", "GRU (hidden 32, 2 layers)", "recurrent (…)".
    public var kind: String {
        guard !states.isEmpty else { return "feed-forward" }
        let roles = Set(states.map(\.role))
        let first = states[0].shape
        let size = first.count == 3 ? " (hidden \(first[2]), \(first[0]) layer\(first[0] == 1 ? "" : "s"))" : ""
        if states.count == 2, roles == ["hidden", "cell"] { return "LSTM" + size }
        if states.count == 1, roles == ["hidden"] { return "GRU" + size }
        return "recurrent (\(states.count) state tensor\(states.count == 1 ? "" : "s"))"
    }

    /// Recognises the roles of `session`'s inputs and outputs for an observation of
    /// `observationSize` values (nil: take it from the model). Throws, naming the tensor and what
    /// was expected, when a model does not fit any convention.
    public static func recognise(_ session: OnnxSession, observationSize: Int?) throws -> PolicySignature {
        let path = session.path
        let inputs = session.inputs, outputs = session.outputs
        guard !inputs.isEmpty, !outputs.isEmpty else {
            throw TetherError("a policy needs at least one input and one output; this model has \(inputs.count) inputs and \(outputs.count) outputs", at: path)
        }
        func stem(_ name: String, _ suffixes: [String]) -> String? {
            let lower = name.lowercased()
            for s in suffixes where lower.hasSuffix(s) && lower.count > s.count { return String(lower.dropLast(s.count)) }
            return nil
        }
        let inSuffixes = ["_in", ".in", "-in", "_input", "in"], outSuffixes = ["_out", ".out", "-out", "_output", "out"]
        // Pair by stem.
        var pairs: [(Int, Int)] = []
        var usedOutputs = Set<Int>()
        for (i, input) in inputs.enumerated() {
            guard inputs.count > 1, let s = stem(input.name, inSuffixes), !["obs", "observation", "observations", "policy"].contains(s) else { continue }
            if let o = outputs.indices.first(where: { !usedOutputs.contains($0) && stem(outputs[$0].name, outSuffixes) == s }) {
                pairs.append((i, o))
                usedOutputs.insert(o)
            }
        }
        let paired = Set(pairs.map(\.0))
        // The observation: the one unpaired input (or one named as such).
        let observationNames = ["obs", "observation", "observations", "policy", "input", "inputs", "x"]
        let candidates = inputs.indices.filter { !paired.contains($0) }
        var observationIndex: Int
        if candidates.count == 1 {
            observationIndex = candidates[0]
        } else if let named = candidates.first(where: { observationNames.contains(inputs[$0].name.lowercased()) }) {
            observationIndex = named
        } else if candidates.isEmpty {
            throw TetherError("every input of the model looks like a recurrent state (\(inputs.map(\.name).joined(separator: ", "))); none is the "
                + "observation", at: path,
                              hint: "the observation input is usually named 'obs'")
        } else {
            observationIndex = candidates[0]
        }
        // Pair what is left by shape, in order (an exporter that names states h0/c0 → hn/cn).
        var leftover = candidates.filter { $0 != observationIndex }
        if !leftover.isEmpty {
            let openOutputs = outputs.indices.filter { !usedOutputs.contains($0) }
            // The action is taken first (by name, else the first rank ≤ 2 output), the states after.
            let actionGuess = openOutputs.first { ["actions", "action"].contains(outputs[$0].name.lowercased()) }
                ?? openOutputs.first { outputs[$0].shape.count <= 2 }
            var stateOutputs = openOutputs.filter { $0 != actionGuess }
            for i in leftover {
                let want = inputs[i].shape
                if let k = stateOutputs.firstIndex(where: { compatible(outputs[$0].shape, want) }) {
                    pairs.append((i, stateOutputs[k]))
                    usedOutputs.insert(stateOutputs[k])
                    stateOutputs.remove(at: k)
                }
            }
            leftover = leftover.filter { i in !pairs.contains { $0.0 == i } }
        }
        if let i = leftover.first {
            throw TetherError("input '\(inputs[i].name)' \(inputs[i].shape) is neither the observation ('\(inputs[observationIndex].name)') nor a recurrent "
                + "state with a matching output", at: path,
                              hint: "Tether feeds one observation and carries recurrent states from output to input, paired by name (h_in → h_out, c_in → "
                                  + "c_out) or by shape; outputs are \(outputs.map { "'\($0.name)' \($0.shape)" }.joined(separator: ", "))")
        }
        pairs.sort { $0.0 < $1.0 }
        // The observation's shape.
        let observation = inputs[observationIndex]
        guard observation.elementType == .float else {
            throw TetherError("input '\(observation.name)' is \(observation.elementType.name); Tether feeds float32 observations", at: path,
                              hint: "export the policy with float32 inputs")
        }
        guard (1...2).contains(observation.shape.count) else {
            throw TetherError("observation input '\(observation.name)' has shape \(observation.shape); expected [batch, observations] or [observations]",
                              at: path)
        }
        let modelSize = observation.shape.last!
        let size = modelSize >= 0 ? modelSize : (observationSize ?? 0)
        guard size > 0 else {
            throw TetherError("observation input '\(observation.name)' has a dynamic size \(observation.shape); a manifest must give it", at: path)
        }
        if observation.shape.count == 2, observation.shape[0] > 1 {
            throw TetherError("observation input '\(observation.name)' has a fixed batch of \(observation.shape[0]); Tether runs one observation per call",
                              at: path,
                              hint: "export with batch 1 or a dynamic batch dimension")
        }
        let observationShape = observation.shape.count == 2 ? [1, size] : [size]
        // States.
        var states: [State] = []
        for (i, o) in pairs {
            let input = inputs[i], output = outputs[o]
            guard input.elementType == .float, output.elementType == .float else {
                throw TetherError("recurrent state '\(input.name)' → '\(output.name)' is \(input.elementType.name) → \(output.elementType.name); Tether "
                    + "carries float32 states", at: path)
            }
            guard compatible(input.shape, output.shape) else {
                throw TetherError("recurrent state '\(input.name)' has shape \(input.shape) but '\(output.name)' has shape \(output.shape); a state must "
                    + "come back the shape it went in", at: path,
                                  hint: "export the model with matching state input and output shapes ([layers, 1, hidden])")
            }
            var shape = input.shape
            for (k, d) in shape.enumerated() where d < 0 {
                let other = output.shape[k]
                if other >= 0 { shape[k] = other; continue }
                // Only the batch dimension may be dynamic: the second of [layers, batch, hidden],
                // else the first.
                guard k == (shape.count == 3 ? 1 : 0) else {
                    throw TetherError("recurrent state '\(input.name)' has a dynamic dimension \(k) (shape \(input.shape)); Tether must know a state's size",
                                      at: path,
                                      hint: "export with static state shapes, e.g. [layers, 1, hidden]")
                }
                shape[k] = 1
            }
            if shape.count == 3, shape[1] != 1 {
                throw TetherError("recurrent state '\(input.name)' has batch \(shape[1]) (shape \(shape)); Tether runs one robot per session, batch 1",
                                  at: path)
            }
            let lower = input.name.lowercased()
            let role = lower.hasPrefix("h") || lower.contains("hidden") ? "hidden" : lower.hasPrefix("c") || lower.contains("cell") ? "cell" : "state"
            states.append(State(input: input.name, output: output.name, shape: shape, inputIndex: i, outputIndex: o, role: role))
        }
        // The action.
        let stateOutputs = Set(states.map(\.outputIndex))
        let open = outputs.indices.filter { !stateOutputs.contains($0) }
        guard let actionIndex = open.first(where: { ["actions", "action"].contains(outputs[$0].name.lowercased()) }) ?? open.first else {
            throw TetherError("every output of the model is a recurrent state; none is the action", at: path)
        }
        let ignored = open.filter { $0 != actionIndex }.map { outputs[$0].name }
        return PolicySignature(observation: observation.name, observationIndex: observationIndex, observationShape: observationShape,
                               action: outputs[actionIndex].name, actionIndex: actionIndex, states: states, ignoredOutputs: ignored)
    }

    /// Whether two shapes can be the same tensor (equal rank, equal where both are static).
    static func compatible(_ a: [Int], _ b: [Int]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0 < 0 || $1 < 0 || $0 == $1 }
    }

    /// One line per role, for `tether policy inspect`.
    public var summary: [String] {
        var lines = ["\(kind): observation '\(observation)' \(observationShape) → action '\(action)'"]
        for s in states { lines.append("state (\(s.role)) '\(s.input)' → '\(s.output)' \(s.shape), zeros at each episode start") }
        if !ignoredOutputs.isEmpty { lines.append("ignored outputs: \(ignoredOutputs.joined(separator: ", "))") }
        return lines
    }
}

/// Which engine computes an ONNX policy's actions.
///
/// - `auto` (the default): the compiled graph (`CompiledGraph`) when the model compiles and its
///   outputs agree with ONNX Runtime's on the probe inputs run when the policy loads; ONNX Runtime
///   otherwise. Small policies run 10-20× faster this way (the quadruped: ~1 µs against ~20 µs),
///   which is most of the control tick and of the validation gate's overhead over bare simulation.
/// - `onnxruntime`: always ONNX Runtime (the reference; what `tether bench policy` measures).
/// - `native`: the compiled graph, or an error naming the node that does not compile or the output
///   that disagrees.
///
/// Set per command with `--policy-engine`, or for every process with `TETHER_POLICY_ENGINE`.
public enum PolicyEngine: String, Sendable, Codable, CaseIterable {
    case auto, onnxruntime, native

    /// The engine named by `TETHER_POLICY_ENGINE` (read once per policy load), `auto` when unset.
    public static func fromEnvironment() throws -> PolicyEngine {
        guard let value = ProcessInfo.processInfo.environment["TETHER_POLICY_ENGINE"], !value.isEmpty else { return .auto }
        guard let engine = PolicyEngine(rawValue: value) else {
            throw TetherError("TETHER_POLICY_ENGINE is '\(value)'", at: "environment",
                              hint: "use one of \(allCases.map(\.rawValue).joined(separator: ", ")) (or unset it)")
        }
        return engine
    }

    /// Largest absolute difference allowed between the engines on a probe, per output value
    /// `|native − ort| ≤ tolerance · (1 + |ort|)`: summation order and ONNX Runtime's approximate
    /// tanh / exp differ by ~1e-6; a wrong operator differs by far more.
    public static let tolerance: Float = 1e-4
}

/// An ONNX policy on the deployment path, feed-forward or recurrent: a recurrent policy's state
/// tensors are carried from each call's outputs to the next call's inputs, and set to zeros by
/// `reset()` (where an episode starts). The model always loads in ONNX Runtime (which checks it and
/// is the reference); calls run in the engine `PolicyEngine` picks, named in `engineSummary`.
public final class OnnxPolicy: PolicyRuntime {
    public let session: OnnxSession
    /// What the inputs and outputs are.
    public let signature: PolicySignature
    let runner: FastRun
    /// The compiled graph, when it runs the calls.
    let native: CompiledGraph?
    public let observationSize: Int
    public let actionSize: Int
    /// The engine that runs the calls (`.native` or `.onnxruntime`).
    public let engine: PolicyEngine
    /// Why: "compiled graph (54 nodes, 960 multiply-adds; agrees with ONNX Runtime within 2.4e-07 · (1 + |value|)
    /// on 8 probes)" or "ONNX Runtime (operator LSTM does not compile)".
    public let engineSummary: String

    /// Opens `path` and checks it against `manifest`: sizes always, and the contract in the
    /// model's metadata when present. A mismatch throws, listing every difference, unless
    /// `allowMismatch` is set (the user's explicit override).
    public init(path: String, manifest: Manifest, allowMismatch: Bool = false, threads: Int = 1, engine requested: PolicyEngine? = nil) throws {
        let requested = try requested ?? PolicyEngine.fromEnvironment()
        session = try OnnxSession(path: path, threads: threads)
        let observationSize = manifest.observationSize
        let signature = try PolicySignature.recognise(session, observationSize: observationSize)
        self.signature = signature
        let input = session.inputs[signature.observationIndex], output = session.outputs[signature.actionIndex]
        self.observationSize = observationSize
        let actionSize = manifest.actionSize
        self.actionSize = actionSize
        var problems: [String] = []
        let inputSize = input.shape.last ?? -1
        if inputSize >= 0 && inputSize != observationSize {
            problems.append("the model reads \(inputSize) observations ('\(input.name)' \(input.shape)), the manifest builds "
                + "\(manifest.observationSizeBreakdown)")
        }
        let outputSize = output.shape.last ?? -1
        if outputSize >= 0 && outputSize != actionSize {
            problems.append("the model writes \(outputSize) actions ('\(output.name)' \(output.shape)), the manifest has \(actionSize) actuated joints")
        }
        problems += try PolicyContract(metadata: session.metadata).mismatches(with: manifest)
        if !problems.isEmpty && !allowMismatch {
            throw TetherError("the policy does not match the manifest \(manifest.sourcePath ?? manifest.name):\n    - " + problems.joined(separator: "\n    "
                + "- "),
                              at: path, hint: "fix the manifest or re-export the policy; --allow-mismatch runs it anyway (at your own risk)")
        }
        guard inputSize == observationSize || inputSize < 0, outputSize == actionSize || outputSize < 0 else {
            throw TetherError("sizes differ; even with --allow-mismatch the model cannot run on this robot", at: path)
        }
        var inputShapes = session.inputs.map { $0.shape.map { max($0, 1) } }
        inputShapes[signature.observationIndex] = input.shape.count == 2 ? [1, observationSize] : [observationSize]
        var outputShapes = session.outputs.map { info in info.shape.map { $0 < 0 ? 1 : $0 } }
        for s in signature.states {
            inputShapes[s.inputIndex] = s.shape
            outputShapes[s.outputIndex] = s.shape
        }
        for (k, info) in session.outputs.enumerated() {
            for (d,
                 n) in info.shape.enumerated() where n < 0 && d > 0 && k != signature.actionIndex
                     && !signature.states.contains(where: { $0.outputIndex == k }) {
                throw TetherError("output '\(info.name)' has a dynamic dimension \(d) (shape \(info.shape)) that Tether cannot size in advance", at: path,
                                  hint: "export the model with static output shapes except the batch dimension")
            }
        }
        if output.shape.count >= 1 { outputShapes[signature.actionIndex] = output.shape.count == 2 ? [1,
                actionSize] : output.shape.map { $0 < 0 ? actionSize : $0 } }
        runner = try FastRun(session: session, inputShapes: inputShapes, outputShapes: outputShapes)
        let (native, summary) = try Self.choose(requested, path: path, session: session, runner: runner, inputShapes: inputShapes,
                                                signature: signature)
        self.native = native
        engine = native == nil ? .onnxruntime : .native
        engineSummary = summary
    }

    /// Compiles the graph and checks it against ONNX Runtime on probe inputs (unless ONNX Runtime is
    /// asked for); returns the compiled graph when it is to run the calls, and why.
    static func choose(_ requested: PolicyEngine, path: String, session: OnnxSession, runner: FastRun, inputShapes: [[Int]],
                       signature: PolicySignature) throws -> (CompiledGraph?, String) {
        if requested == .onnxruntime { return (nil, "ONNX Runtime (asked for)") }
        func refuse(_ why: String) throws -> (CompiledGraph?, String) {
            if requested == .native {
                throw TetherError("the policy cannot run in Tether's compiled engine: \(why)", at: path,
                                  hint: "use --policy-engine auto or onnxruntime (ONNX Runtime runs every model)")
            }
            return (nil, "ONNX Runtime (\(why))")
        }
        let graph: CompiledGraph
        do {
            guard let bytes = FileManager.default.contents(atPath: path) else { return try refuse("the model file cannot be read again") }
            graph = try CompiledGraph(model: [UInt8](bytes), inputs: zip(session.inputs, inputShapes).map { ($0.name, $1) },
                                      outputs: session.outputs.map(\.name))
        } catch let error as CompiledGraph.Unsupported {
            return try refuse(error.description)
        }
        // Probes: zeros, then pseudo-random values in ±2 and one in ±20 (deterministic), for every input.
        var generator = UInt64(0x9E37_79B9_7F4A_7C15)
        func next() -> Float {
            generator = generator &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(generator >> 40) / Float(1 << 24) * 2 - 1
        }
        var worst: Float = 0
        let probes = 8
        for probe in 0..<probes {
            let scale: Float = probe == 0 ? 0 : probe == probes - 1 ? 20 : 2
            for i in session.inputs.indices {
                let a = runner.inputBuffer(i), b = graph.input(i)
                for k in a.indices { let v = scale * next(); a[k] = v; b[k] = v }
            }
            try runner.run()
            graph.run()
            for o in session.outputs.indices {
                let a = runner.output(o), b = graph.output(o)
                guard a.count == b.count else { return try refuse("output '\(session.outputs[o].name)' has \(b.count) values, ONNX Runtime gives \(a.count)") }
                for k in a.indices where a[k].isFinite || b[k].isFinite {
                    let difference = abs(a[k] - b[k])
                    guard difference <= PolicyEngine.tolerance * (1 + abs(a[k])) else {
                        return try refuse("output '\(session.outputs[o].name)'[\(k)] is \(b[k]) compiled and \(a[k]) in ONNX Runtime on probe \(probe + 1)")
                    }
                    worst = max(worst, difference / (1 + abs(a[k])))
                }
            }
        }
        // Start both from zeros, as a fresh policy.
        for i in session.inputs.indices { runner.inputBuffer(i).update(repeating: 0); graph.input(i).update(repeating: 0) }
        let macs = graph.multiplyAdds.formatted()
        return (graph, "compiled graph (\(graph.nodeCount) nodes, \(macs) multiply-adds; agrees with ONNX Runtime within "
                + String(format: "%.1e", worst) + " · (1 + |value|) on \(probes) probes)")
    }

    @inline(__always) func inputBuffer(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        native?.input(index) ?? runner.inputBuffer(index)
    }

    @inline(__always) func outputBuffer(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        native?.output(index) ?? runner.output(index)
    }

    public func act(_ observation: [Float]) throws -> [Float] {
        var action = [Float](repeating: 0, count: actionSize)
        try observation.withUnsafeBufferPointer { o in
            try action.withUnsafeMutableBufferPointer { a in try act(o, into: a) }
        }
        return action
    }

    /// Runs the policy on `observation` and writes the action into `action`: copies in and out of
    /// the tensors bound once (`FastRun`), so Tether allocates nothing here (ONNX Runtime's own
    /// `Run` may, inside the library).
    public func act(_ observation: UnsafeBufferPointer<Float>, into action: UnsafeMutableBufferPointer<Float>) throws {
        let input = inputBuffer(signature.observationIndex)
        guard observation.count == input.count else {
            throw TetherError("observation has \(observation.count) values, the model takes \(input.count)", at: session.path)
        }
        guard action.count == actionSize else {
            throw TetherError("the action buffer holds \(action.count) values, the policy writes \(actionSize)", at: session.path)
        }
        _ = input.update(fromContentsOf: observation)
        if let native { native.run() } else { try runner.run() }
        // Carry the state: this call's outputs are the next call's inputs.
        for s in signature.states {
            let out = outputBuffer(s.outputIndex), into = inputBuffer(s.inputIndex)
            for k in 0..<s.count {
                let v = out[k]
                guard v.isFinite else {
                    throw TetherError("the policy's recurrent state '\(s.output)' holds \(v) at element \(k)", at: session.path,
                                      hint: "the policy diverged; it is stopped and its state is not carried")
                }
                into[k] = v
            }
        }
        let output = outputBuffer(signature.actionIndex)
        for k in 0..<actionSize { action[k] = output[k] }
    }

    public func reset() {
        for s in signature.states { inputBuffer(s.inputIndex).update(repeating: 0) }
    }

    public var recurrentState: [Float] {
        signature.states.flatMap { Array(inputBuffer($0.inputIndex)) }
    }

    /// Number of state values (all state tensors together).
    public var recurrentStateSize: Int { signature.states.reduce(0) { $0 + $1.count } }

    public func setRecurrentState(_ values: [Float]) throws {
        guard values.count == recurrentStateSize else {
            throw TetherError("a recurrent state of \(values.count) values does not fit this policy's state tensors "
                + "(\(signature.states.map { "'\($0.input)' \($0.shape)" }.joined(separator: ", ")): \(recurrentStateSize) values)",
                              at: session.path)
        }
        guard values.allSatisfy(\.isFinite) else { throw TetherError("a recurrent state to restore holds non-finite values", at: session.path) }
        var offset = 0
        for s in signature.states {
            let into = inputBuffer(s.inputIndex)
            for k in 0..<s.count { into[k] = values[offset + k] }
            offset += s.count
        }
    }
}
