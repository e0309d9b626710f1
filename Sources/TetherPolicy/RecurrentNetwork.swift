import Foundation
import SwiftProtobuf
import TetherCore

/// A recurrent policy in the layout of rsl_rl's and Isaac Lab's recurrent actors: observation
/// normalization, one LSTM or GRU layer, and an MLP head reading the layer's hidden output.
///
/// Weights are stored in ONNX's layout, so the exported model and `step` compute the same thing:
/// `W` (gates·H × n), `R` (gates·H × H), `B` (2·gates·H: the input biases then the recurrent
/// biases), gate order i, o, f, c for an LSTM and z, r, h for a GRU. The GRU applies the reset gate
/// after the recurrent product (`linear_before_reset = 1`, PyTorch's GRU):
///
///     LSTM: i, o, f = σ(W x + R h + b);  c̃ = tanh(W x + R h + b);  c' = f ⊙ c + i ⊙ c̃;  h' = o ⊙ tanh(c')
///     GRU:  z, r = σ(W x + R h + b);  ñ = tanh(W_h x + b_Wh + r ⊙ (R_h h + b_Rh));  h' = (1 − z) ⊙ ñ + z ⊙ h
///
/// Tether does not train recurrent policies (its trainer, ARS, trains feed-forward ones); this
/// type exports and evaluates them (tests, benchmarks, fixtures), and documents the convention
/// `OnnxPolicy` runs.
public struct RecurrentNetwork: Sendable, Codable, Equatable {
    public enum Cell: String, Sendable, Codable, CaseIterable {
        case lstm, gru
        /// Gates per unit.
        public var gates: Int { self == .lstm ? 4 : 3 }
    }

    public var cell: Cell
    public var inputSize: Int
    public var hiddenSize: Int
    public var observationMean: [Float]
    public var observationStd: [Float]
    /// Input weights W, row-major (gates·H) × n.
    public var inputWeights: [Float]
    /// Recurrent weights R, row-major (gates·H) × H.
    public var recurrentWeights: [Float]
    /// Biases: W's (gates·H) then R's (gates·H).
    public var biases: [Float]
    /// The head, reading the hidden output (input size H).
    public var head: MLP

    /// A network with zero weights and identity normalization.
    public init(cell: Cell, inputSize: Int, hiddenSize: Int, head: MLP) {
        precondition(inputSize > 0 && hiddenSize > 0 && head.inputSize == hiddenSize, "the head must read the hidden output")
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        observationMean = [Float](repeating: 0, count: inputSize)
        observationStd = [Float](repeating: 1, count: inputSize)
        inputWeights = [Float](repeating: 0, count: cell.gates * hiddenSize * inputSize)
        recurrentWeights = [Float](repeating: 0, count: cell.gates * hiddenSize * hiddenSize)
        biases = [Float](repeating: 0, count: 2 * cell.gates * hiddenSize)
        self.head = head
    }

    /// A network with uniform random weights in ±1/√H (PyTorch's initialisation range).
    public init(cell: Cell, inputSize: Int, hiddenSize: Int, actions: Int, headHidden: [Int] = [], random: inout SeededRandom) {
        self.init(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize,
                  head: MLP(sizes: [hiddenSize] + headHidden + [actions], activation: .elu, random: &random))
        let k = 1 / Double(hiddenSize).squareRoot()
        for i in inputWeights.indices { inputWeights[i] = Float(random.uniform(-k, k)) }
        for i in recurrentWeights.indices { recurrentWeights[i] = Float(random.uniform(-k, k)) }
        for i in biases.indices { biases[i] = Float(random.uniform(-k, k)) }
    }

    /// Number of state values: h (and c for an LSTM), each H.
    public var stateSize: Int { cell == .lstm ? 2 * hiddenSize : hiddenSize }

    /// One step natively: returns the action and updates `state` (h, then c for an LSTM).
    public func step(_ observation: [Float], state: inout [Float]) -> [Float] {
        precondition(observation.count == inputSize && state.count == stateSize)
        let n = inputSize, h = hiddenSize, g = cell.gates
        let x = (0..<n).map { (observation[$0] - observationMean[$0]) / observationStd[$0] }
        let hPrev = Array(state[0..<h])
        // Input and recurrent products with their biases, per gate row.
        var wx = [Float](repeating: 0, count: g * h), rh = [Float](repeating: 0, count: g * h)
        for row in 0..<(g * h) {
            var a = biases[row], b = biases[g * h + row]
            for k in 0..<n { a += inputWeights[row * n + k] * x[k] }
            for k in 0..<h { b += recurrentWeights[row * h + k] * hPrev[k] }
            wx[row] = a
            rh[row] = b
        }
        func sigmoid(_ v: Float) -> Float { 1 / (1 + Foundation.exp(-v)) }
        var hNext = [Float](repeating: 0, count: h)
        switch cell {
        case .lstm:
            for u in 0..<h {
                let i = sigmoid(wx[u] + rh[u]), o = sigmoid(wx[h + u] + rh[h + u])
                let f = sigmoid(wx[2 * h + u] + rh[2 * h + u]), c̃ = Foundation.tanh(wx[3 * h + u] + rh[3 * h + u])
                let c = f * state[h + u] + i * c̃
                state[h + u] = c
                hNext[u] = o * Foundation.tanh(c)
            }
        case .gru:
            for u in 0..<h {
                let z = sigmoid(wx[u] + rh[u]), r = sigmoid(wx[h + u] + rh[h + u])
                let ñ = Foundation.tanh(wx[2 * h + u] + r * rh[2 * h + u])
                hNext[u] = (1 - z) * ñ + z * hPrev[u]
            }
        }
        for u in 0..<h { state[u] = hNext[u] }
        return head.forward(hNext)
    }
}

extension OnnxWriter {
    /// Serializes a recurrent policy in rsl_rl's export convention: inputs `obs` [1, n], `h_in`
    /// (and `c_in` for an LSTM) [1, 1, H]; outputs `actions` [1, m], `h_out` (and `c_out`).
    public static func model(_ network: RecurrentNetwork, metadata: [String: String] = [:], name: String = "tether_recurrent_policy") throws -> [UInt8] {
        let n = network.inputSize, h = network.hiddenSize, g = network.cell.gates, m = network.head.outputSize
        let lstm = network.cell == .lstm
        var graph = Onnx_GraphProto()
        graph.name = name
        graph.input = [valueInfo("obs", [1, n]), valueInfo("h_in", [1, 1, h])] + (lstm ? [valueInfo("c_in", [1, 1, h])] : [])
        graph.output = [valueInfo("actions", [1, m]), valueInfo("h_out", [1, 1, h])] + (lstm ? [valueInfo("c_out", [1, 1, h])] : [])
        appendNormalization(mean: network.observationMean, std: network.observationStd, to: &graph)
        // [1, n] → [seq 1, batch 1, n]
        graph.initializer.append(int64Tensor("sequence_shape", [1, 1, n]))
        graph.node.append(node("Reshape", ["obs_normalized", "sequence_shape"], ["memory_input"]))
        graph.initializer.append(tensor("memory.W", [1, g * h, n], network.inputWeights))
        graph.initializer.append(tensor("memory.R", [1, g * h, h], network.recurrentWeights))
        graph.initializer.append(tensor("memory.B", [1, 2 * g * h], network.biases))
        var attributes = [intAttribute("hidden_size", Int64(h))]
        if lstm {
            graph.node.append(node("LSTM", ["memory_input", "memory.W", "memory.R", "memory.B", "", "h_in", "c_in"], ["memory_output", "h_out", "c_out"],
                                   name: "memory", attributes: attributes))
        } else {
            attributes.append(intAttribute("linear_before_reset", 1))
            graph.node.append(node("GRU", ["memory_input", "memory.W", "memory.R", "memory.B", "", "h_in"], ["memory_output", "h_out"],
                                   name: "memory", attributes: attributes))
        }
        graph.initializer.append(int64Tensor("features_shape", [1, h]))
        graph.node.append(node("Reshape", ["h_out", "features_shape"], ["features"]))
        appendMLP(network.head, input: "features", output: "actions", prefix: "head", to: &graph)
        return try serialize(graph, metadata: metadata)
    }

    /// Writes a recurrent model to a file.
    public static func write(_ network: RecurrentNetwork, metadata: [String: String] = [:], to path: String) throws {
        try write(bytes: try model(network, metadata: metadata), to: path)
    }
}
