import Foundation
import TetherCore

/// A small dense multilayer perceptron in float32, with forward and backward passes.
///
/// `y = W_L σ(… σ(W_1 x + b_1) …) + b_L`, hidden activation σ (ELU, tanh or ReLU), linear output.
/// A network without hidden layers is a linear policy (what ARS trains). Weights are row-major
/// `out × in`, the layout of ONNX `Gemm` with `transB = 1`, so the exported model computes
/// exactly the same arithmetic.
public struct MLP: Sendable, Codable, Equatable {
    /// Hidden-layer activations.
    public enum Activation: String, Sendable, Codable, CaseIterable {
        case elu, tanh, relu
    }

    /// Layer widths, input first, output last.
    public private(set) var sizes: [Int]
    /// Hidden activation.
    public var activation: Activation
    /// Weights per layer, row-major out × in.
    public var weights: [[Float]]
    /// Biases per layer.
    public var biases: [[Float]]

    /// Creates a network with zero weights.
    public init(sizes: [Int], activation: Activation = .elu) {
        precondition(sizes.count >= 2 && sizes.allSatisfy { $0 > 0 }, "an MLP needs an input and an output size")
        self.sizes = sizes
        self.activation = activation
        weights = (1..<sizes.count).map { [Float](repeating: 0, count: sizes[$0] * sizes[$0 - 1]) }
        biases = (1..<sizes.count).map { [Float](repeating: 0, count: sizes[$0]) }
    }

    /// Creates a network with weights drawn from a scaled uniform distribution (Glorot), zero biases.
    public init(sizes: [Int], activation: Activation = .elu, random: inout SeededRandom) {
        self.init(sizes: sizes, activation: activation)
        for l in 0..<weights.count {
            let limit = (6.0 / Double(sizes[l] + sizes[l + 1])).squareRoot()
            for i in weights[l].indices { weights[l][i] = Float(random.uniform(-limit, limit)) }
        }
    }

    /// Input size.
    public var inputSize: Int { sizes[0] }
    /// Output size.
    public var outputSize: Int { sizes[sizes.count - 1] }
    /// Number of layers with weights.
    public var layerCount: Int { weights.count }

    /// Total number of parameters (weights then biases, layer by layer).
    public var parameterCount: Int { zip(weights, biases).reduce(0) { $0 + $1.0.count + $1.1.count } }

    /// All parameters as one vector: layer 0 weights, layer 0 biases, layer 1 weights, …
    public var parameters: [Float] {
        get {
            var p: [Float] = []
            p.reserveCapacity(parameterCount)
            for l in 0..<layerCount { p += weights[l]; p += biases[l] }
            return p
        }
        set {
            precondition(newValue.count == parameterCount, "parameter vector has \(newValue.count) values, the network \(parameterCount)")
            var k = 0
            for l in 0..<layerCount {
                for i in weights[l].indices { weights[l][i] = newValue[k]; k += 1 }
                for i in biases[l].indices { biases[l][i] = newValue[k]; k += 1 }
            }
        }
    }

    @inline(__always) func activate(_ x: Float) -> Float {
        switch activation {
        case .elu: x > 0 ? x : expf(x) - 1
        case .tanh: tanhf(x)
        case .relu: max(0, x)
        }
    }

    @inline(__always) func activationDerivative(pre x: Float, post y: Float) -> Float {
        switch activation {
        case .elu: x > 0 ? 1 : y + 1
        case .tanh: 1 - y * y
        case .relu: x > 0 ? 1 : 0
        }
    }

    /// Forward pass.
    public func forward(_ input: [Float]) -> [Float] {
        var workspace = Workspace(self)
        return input.withUnsafeBufferPointer { Array(forward($0, workspace: &workspace)) }
    }

    /// Forward pass into a reusable workspace (no allocation); the result lives in the workspace.
    @inline(__always)
    public func forward(_ input: UnsafeBufferPointer<Float>, workspace: inout Workspace) -> UnsafeMutableBufferPointer<Float> {
        precondition(input.count == inputSize, "the MLP takes \(inputSize) inputs, got \(input.count)")
        _ = workspace.activations[0].update(fromContentsOf: input)
        for l in 0..<layerCount {
            let nIn = sizes[l], nOut = sizes[l + 1]
            let x = workspace.activations[l], z = workspace.preActivations[l], y = workspace.activations[l + 1]
            let last = l == layerCount - 1
            weights[l].withUnsafeBufferPointer { w in
                biases[l].withUnsafeBufferPointer { b in
                    let wBase = UnsafeRawPointer(w.baseAddress!), xBase = UnsafeRawPointer(x.baseAddress!)
                    let stride = MemoryLayout<Float>.stride
                    for o in 0..<nOut {
                        let row = o * nIn
                        // Eight partial sums in one SIMD register: the compiler may not reorder a
                        // scalar float sum, so this is what makes the loop vectorize.
                        var partial = SIMD8<Float>.zero
                        var i = 0
                        while i + 8 <= nIn {
                            partial += wBase.loadUnaligned(fromByteOffset: (row + i) * stride, as: SIMD8<Float>.self)
                                * xBase.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Float>.self)
                            i += 8
                        }
                        var sum = b[o] + partial.sum()
                        while i < nIn { sum += w[row + i] * x[i]; i += 1 }
                        z[o] = sum
                        y[o] = last ? sum : activate(sum)
                    }
                }
            }
        }
        return workspace.activations[layerCount]
    }

    /// Buffers for one forward/backward pass, allocated once per network shape.
    public struct Workspace: @unchecked Sendable {
        var activations: [UnsafeMutableBufferPointer<Float>]
        var preActivations: [UnsafeMutableBufferPointer<Float>]
        var deltas: [UnsafeMutableBufferPointer<Float>]
        private let storage: Storage

        /// Allocates buffers for `network`.
        public init(_ network: MLP) {
            storage = Storage(sizes: network.sizes)
            activations = storage.activations
            preActivations = storage.preActivations
            deltas = storage.deltas
        }

        final class Storage {
            let activations: [UnsafeMutableBufferPointer<Float>]
            let preActivations: [UnsafeMutableBufferPointer<Float>]
            let deltas: [UnsafeMutableBufferPointer<Float>]
            init(sizes: [Int]) {
                activations = sizes.map { let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: $0); b.initialize(repeating: 0); return b }
                preActivations = sizes.dropFirst().map { let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: $0);
                    b.initialize(repeating: 0); return b }
                deltas = sizes.map { let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: $0); b.initialize(repeating: 0); return b }
            }
            deinit { (activations + preActivations + deltas).forEach { $0.deallocate() } }
        }
    }

    /// Gradients with the network's layout.
    public struct Gradients: Sendable {
        public var weights: [[Float]]
        public var biases: [[Float]]
        /// Zero gradients shaped like `network`.
        public init(_ network: MLP) {
            weights = network.weights.map { [Float](repeating: 0, count: $0.count) }
            biases = network.biases.map { [Float](repeating: 0, count: $0.count) }
        }
        /// As one vector, in `MLP.parameters` order.
        public var flattened: [Float] { zip(weights, biases).flatMap { $0.0 + $0.1 } }
    }

    /// Backward pass after `forward` on the same workspace: accumulates into `gradients` the
    /// gradient of a loss whose derivative with respect to the output is `outputGradient`, and
    /// returns the gradient with respect to the input.
    @discardableResult
    public func backward(outputGradient: [Float], workspace: inout Workspace, gradients: inout Gradients) -> [Float] {
        precondition(outputGradient.count == outputSize)
        let L = layerCount
        _ = workspace.deltas[L].update(fromContentsOf: outputGradient)
        for l in stride(from: L - 1, through: 0, by: -1) {
            let nIn = sizes[l], nOut = sizes[l + 1]
            let delta = workspace.deltas[l + 1], x = workspace.activations[l], below = workspace.deltas[l]
            if l < L - 1 {  // through this layer's activation
                let z = workspace.preActivations[l], y = workspace.activations[l + 1]
                for o in 0..<nOut { delta[o] *= activationDerivative(pre: z[o], post: y[o]) }
            }
            for i in 0..<nIn { below[i] = 0 }
            weights[l].withUnsafeBufferPointer { w in
                gradients.weights[l].withUnsafeMutableBufferPointer { gw in
                    for o in 0..<nOut {
                        let d = delta[o]
                        gradients.biases[l][o] += d
                        let row = o * nIn
                        for i in 0..<nIn {
                            gw[row + i] += d * x[i]
                            below[i] += w[row + i] * d
                        }
                    }
                }
            }
        }
        return Array(workspace.deltas[0])
    }
}
