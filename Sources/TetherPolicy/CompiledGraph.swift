import Foundation
import SwiftProtobuf
import TetherCore

/// An ONNX graph of small dense operators, compiled once for one observation at a time and run
/// without ONNX Runtime: the control tick's fast path for the policies robots actually run
/// (normalizer + MLP, Tether's trot generator, rsl_rl / Isaac Lab actor exports).
///
/// Why it exists: ONNX Runtime spends a fixed ~0.3 µs per node on dispatch. A 54-node policy with
/// 12×48 matrices costs it ~20 µs per call, of which the arithmetic is under 1 µs; that fixed cost
/// was most of the control tick and most of the validation gate's overhead over bare simulation.
///
/// How: shapes are static (batch 1), so compilation resolves every tensor to a range of one float
/// arena, folds the integer side of the graph (Shape, Gather, Concat … feeding a Reshape) to
/// constants, pre-transposes constant matrices into row-major `[N, K]`, and turns broadcasting,
/// Slice, Transpose, Concat and Expand into precomputed index maps. `run()` is then a loop over
/// steps with no allocation, no dictionary and no reference counting.
///
/// It is never trusted on its own: `OnnxPolicy` runs it beside ONNX Runtime on probe inputs when
/// the policy loads and uses it only when every output agrees (see `PolicyEngine`). Anything
/// outside the operator set (LSTM, GRU, Conv, other domains, non-float tensors on the compute
/// path) makes compilation throw `Unsupported`, naming the node, and ONNX Runtime runs the model.
public final class CompiledGraph: @unchecked Sendable {
    /// Why a model cannot be compiled (the first node or tensor outside the supported set).
    public struct Unsupported: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The operators (default ONNX domain) that compile.
    public static let supportedOperators = [
        "Abs", "Add", "Cast", "Clip", "Concat", "Constant", "Cos", "Div", "Dropout", "Elu", "Exp", "Expand", "Flatten", "Gather", "Gemm",
        "HardSigmoid", "Identity", "LeakyRelu", "Log", "MatMul", "Max", "Min", "Mul", "Neg", "Pow", "Relu", "Reshape", "Selu", "Shape",
        "Sigmoid", "Sin", "Slice", "Softplus", "Softsign", "Sqrt", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
    ]

    enum Unary { case relu, elu(Float), tanh, sigmoid, leakyRelu(Float), selu(Float, Float), softplus, softsign, hardSigmoid(Float, Float)
        case neg, abs, exp, log, sqrt, sin, cos, clip(Float, Float) }
    enum Binary { case add, sub, mul, div, pow, max, min }

    enum Step {
        case unary(Unary, input: Int, output: Int, count: Int)
        /// Equal shapes, or one side a single value (`aStep`/`bStep` 0 repeats it).
        case binary(Binary, a: Int, aStep: Int, b: Int, bStep: Int, output: Int, count: Int)
        /// Broadcast through index maps: out[i] = a[mapA[i]] op b[mapB[i]].
        case binaryMapped(Binary, a: Int, mapA: Int, b: Int, mapB: Int, output: Int, count: Int)
        /// out[i] = in[map[i]]
        case gather(input: Int, map: Int, output: Int, count: Int)
        /// out[map[i]] = in[i]
        case scatter(input: Int, map: Int, output: Int, count: Int)
        /// out[m, n] = alpha · Σk a[m, k] · bt[n, k] + beta · c[m, n] (c: -1 for none).
        case gemm(a: Int, bt: Int, c: Int, output: Int, m: Int, n: Int, k: Int, alpha: Float, beta: Float)
    }

    struct Tensor {
        var offset: Int
        var shape: [Int]
        var count: Int { shape.reduce(1, *) }
    }

    /// The arena: graph inputs, constants, intermediates and outputs.
    private let arena: UnsafeMutablePointer<Float>
    private let arenaCount: Int
    private let maps: UnsafeMutablePointer<Int32>
    private let steps: [Step]
    /// `steps`, in memory of their own (iterating the array copies each step out in a debug build).
    private let stepList: UnsafeMutableBufferPointer<Step>
    private let inputRanges: [(offset: Int, count: Int)]
    private let outputRanges: [(offset: Int, count: Int)]
    /// Nodes compiled (for `tether policy inspect` and the benchmark's notes).
    public let nodeCount: Int
    /// Steps `run()` takes.
    public var stepCount: Int { steps.count }
    /// Multiply-adds per run (Gemm / MatMul).
    public let multiplyAdds: Int

    /// Compiles `bytes` (an ONNX model) for the given graph inputs (name and concrete shape, in
    /// the order the caller binds them) and outputs (names, in the caller's order).
    public init(model bytes: [UInt8], inputs: [(name: String, shape: [Int])], outputs: [String]) throws {
        let model: Onnx_ModelProto
        do { model = try Onnx_ModelProto(serializedBytes: bytes) } catch { throw Unsupported(description: "not an ONNX model: \(error)") }
        var builder = Builder()
        try builder.compile(model.graph, inputs: inputs)
        var outs: [(Int, Int)] = []
        for name in outputs {
            guard let t = builder.tensors[name] else {
                throw Unsupported(description: "output '\(name)' is not a float tensor the graph computes")
            }
            outs.append((t.offset, t.count))
        }
        let arenaCount = max(1, builder.constants.count)
        let arena = UnsafeMutablePointer<Float>.allocate(capacity: arenaCount)
        arena.initialize(repeating: 0, count: arenaCount)
        builder.constants.withUnsafeBufferPointer { if let base = $0.baseAddress { arena.update(from: base, count: $0.count) } }
        let maps = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, builder.maps.count))
        maps.initialize(repeating: 0, count: max(1, builder.maps.count))
        builder.maps.withUnsafeBufferPointer { if let base = $0.baseAddress { maps.update(from: base, count: $0.count) } }
        self.arenaCount = arenaCount
        self.arena = arena
        self.maps = maps
        steps = builder.steps
        stepList = .allocate(capacity: builder.steps.count)
        _ = stepList.initialize(from: builder.steps)
        inputRanges = inputs.map { (builder.tensors[$0.name]!.offset, $0.shape.reduce(1, *)) }
        outputRanges = outs
        nodeCount = model.graph.node.count
        multiplyAdds = builder.multiplyAdds
        run()  // constants that depend only on constants are computed; inputs are zeros
    }

    deinit {
        stepList.deallocate()
        arena.deallocate()
        maps.deallocate()
    }

    /// Input `index`'s values (in the order given at compilation), to fill before `run()`.
    @inline(__always) public func input(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: arena + inputRanges[index].offset, count: inputRanges[index].count)
    }

    /// Output `index`'s values after `run()`.
    @inline(__always) public func output(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: arena + outputRanges[index].offset, count: outputRanges[index].count)
    }

    /// Runs every step once. Allocates nothing.
    public func run() {
        let x = arena, m = maps
        for index in 0..<stepList.count {
            switch stepList[index] {
            case let .unary(op, input, output, count):
                Self.apply(op, x + input, x + output, count)
            case let .binary(op, a, aStep, b, bStep, output, count):
                Self.apply(op, x + a, aStep, x + b, bStep, x + output, count)
            case let .binaryMapped(op, a, mapA, b, mapB, output, count):
                let pa = x + a, pb = x + b, po = x + output, ma = m + mapA, mb = m + mapB
                for i in 0..<count { po[i] = Self.combine(op, pa[Int(ma[i])], pb[Int(mb[i])]) }
            case let .gather(input, map, output, count):
                let pi = x + input, po = x + output, mp = m + map
                for i in 0..<count { po[i] = pi[Int(mp[i])] }
            case let .scatter(input, map, output, count):
                let pi = x + input, po = x + output, mp = m + map
                for i in 0..<count { po[Int(mp[i])] = pi[i] }
            case let .gemm(a, bt, c, output, rows, columns, depth, alpha, beta):
                Self.gemm(x + a, x + bt, c >= 0 ? x + c : nil, x + output, rows, columns, depth, alpha, beta)
            }
        }
    }

    @inline(__always) static func combine(_ op: Binary, _ a: Float, _ b: Float) -> Float {
        switch op {
        case .add: a + b
        case .sub: a - b
        case .mul: a * b
        case .div: a / b
        case .pow: Foundation.pow(a, b)
        case .max: a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
        case .min: a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
        }
    }

    static func apply(_ op: Binary, _ a: UnsafeMutablePointer<Float>, _ aStep: Int, _ b: UnsafeMutablePointer<Float>, _ bStep: Int,
                      _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        // Separate loops per operator and stride pattern, so each one vectorizes.
        switch (op, aStep, bStep) {
        case (.add, 1, 1): for i in 0..<count { out[i] = a[i] + b[i] }
        case (.sub, 1, 1): for i in 0..<count { out[i] = a[i] - b[i] }
        case (.mul, 1, 1): for i in 0..<count { out[i] = a[i] * b[i] }
        case (.div, 1, 1): for i in 0..<count { out[i] = a[i] / b[i] }
        case (.add, 1, 0): let v = b[0]; for i in 0..<count { out[i] = a[i] + v }
        case (.sub, 1, 0): let v = b[0]; for i in 0..<count { out[i] = a[i] - v }
        case (.mul, 1, 0): let v = b[0]; for i in 0..<count { out[i] = a[i] * v }
        case (.div, 1, 0): let v = b[0]; for i in 0..<count { out[i] = a[i] / v }
        default: for i in 0..<count { out[i] = combine(op, a[i * aStep], b[i * bStep]) }
        }
    }

    static func apply(_ op: Unary, _ input: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        switch op {
        case .relu: for i in 0..<count { let v = input[i]; out[i] = v > 0 ? v : (v.isNaN ? v : 0) }
        case .elu(let alpha): for i in 0..<count { let v = input[i]; out[i] = v > 0 ? v : alpha * (Foundation.expm1(v)) }
        case .tanh: for i in 0..<count { out[i] = Foundation.tanh(input[i]) }
        case .sigmoid: for i in 0..<count { out[i] = 1 / (1 + Foundation.exp(-input[i])) }
        case .leakyRelu(let alpha): for i in 0..<count { let v = input[i]; out[i] = v >= 0 ? v : alpha * v }
        case let .selu(alpha, gamma): for i in 0..<count { let v = input[i]; out[i] = gamma * (v > 0 ? v : alpha * Foundation.expm1(v)) }
        case .softplus: for i in 0..<count { let v = input[i]; out[i] = v > 20 ? v : Foundation.log1p(Foundation.exp(v)) }
        case .softsign: for i in 0..<count { let v = input[i]; out[i] = v / (1 + Swift.abs(v)) }
        case let .hardSigmoid(alpha, beta): for i in 0..<count { out[i] = Swift.max(0, Swift.min(1, alpha * input[i] + beta)) }
        case .neg: for i in 0..<count { out[i] = -input[i] }
        case .abs: for i in 0..<count { out[i] = Swift.abs(input[i]) }
        case .exp: for i in 0..<count { out[i] = Foundation.exp(input[i]) }
        case .log: for i in 0..<count { out[i] = Foundation.log(input[i]) }
        case .sqrt: for i in 0..<count { out[i] = input[i].squareRoot() }
        case .sin: for i in 0..<count { out[i] = Foundation.sin(input[i]) }
        case .cos: for i in 0..<count { out[i] = Foundation.cos(input[i]) }
        case let .clip(low, high): for i in 0..<count { let v = input[i]; out[i] = v.isNaN ? v : Swift.min(high, Swift.max(low, v)) }
        }
    }

    static func gemm(_ a: UnsafeMutablePointer<Float>, _ bt: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>?,
                     _ out: UnsafeMutablePointer<Float>, _ rows: Int, _ columns: Int, _ depth: Int, _ alpha: Float, _ beta: Float) {
        let stride = MemoryLayout<Float>.stride
        for r in 0..<rows {
            let aRow = UnsafeRawPointer(a + r * depth)
            for col in 0..<columns {
                let bRow = UnsafeRawPointer(bt + col * depth)
                // Eight partial sums in one SIMD register: a scalar float sum may not be reordered,
                // so this is what lets the loop vectorize.
                var partial = SIMD8<Float>.zero
                var k = 0
                while k + 8 <= depth {
                    partial += aRow.loadUnaligned(fromByteOffset: k * stride, as: SIMD8<Float>.self)
                        * bRow.loadUnaligned(fromByteOffset: k * stride, as: SIMD8<Float>.self)
                    k += 8
                }
                var sum = partial.sum()
                while k < depth { sum += a[r * depth + k] * bt[col * depth + k]; k += 1 }
                var value = alpha * sum
                if let c { value += beta * c[r * columns + col] }
                out[r * columns + col] = value
            }
        }
    }
}

// MARK: - Compilation

extension CompiledGraph {
    struct Builder {
        var constants: [Float] = []
        var maps: [Int32] = []
        var steps: [Step] = []
        var tensors: [String: Tensor] = [:]
        /// Float tensors whose values are known at compile time (initializers, Constant nodes).
        var known: [String: [Float]] = [:]
        /// Integer tensors (shapes, axes, indices), folded at compile time: values and shape.
        var integers: [String: (values: [Int], shape: [Int])] = [:]
        var multiplyAdds = 0

        mutating func allocate(_ shape: [Int], values: [Float]? = nil) -> Tensor {
            let t = Tensor(offset: constants.count, shape: shape)
            if let values { constants += values } else { constants += [Float](repeating: 0, count: t.count) }
            return t
        }

        mutating func map(_ indices: [Int]) -> Int {
            let start = maps.count
            maps += indices.map { Int32($0) }
            return start
        }

        mutating func compile(_ graph: Onnx_GraphProto, inputs: [(name: String, shape: [Int])]) throws {
            for t in graph.initializer { try constant(t, name: t.name) }
            for input in inputs {
                guard !input.shape.contains(where: { $0 < 0 }) else { throw Unsupported(description: "input '\(input.name)' has no concrete shape") }
                tensors[input.name] = allocate(input.shape)
                known[input.name] = nil
            }
            for input in graph.input where tensors[input.name] == nil && integers[input.name] == nil {
                throw Unsupported(description: "graph input '\(input.name)' is not bound")
            }
            for (index, node) in graph.node.enumerated() {
                guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                    throw Unsupported(description: "node \(index) '\(node.name)' is \(node.domain).\(node.opType), outside the default ONNX domain")
                }
                do {
                    try compile(node)
                } catch let error as Unsupported {
                    throw Unsupported(description: "node \(index) '\(node.name)' (\(node.opType)): \(error.description)")
                }
            }
        }

        mutating func constant(_ t: Onnx_TensorProto, name: String) throws {
            let shape = t.dims.map { Int($0) }
            let count = shape.reduce(1, *)
            switch Onnx_TensorProto.DataType(rawValue: Int(t.dataType)) {
            case .float?:
                var values = t.floatData
                if values.isEmpty && !t.rawData.isEmpty {
                    values = [Float](repeating: 0, count: t.rawData.count / 4)
                    _ = values.withUnsafeMutableBytes { t.rawData.copyBytes(to: $0) }
                }
                guard values.count == count else { throw Unsupported(description: "tensor '\(name)' holds \(values.count) values for shape \(shape)") }
                tensors[name] = allocate(shape, values: values)
                known[name] = values
            case let kind? where kind == .int64 || kind == .int32:
                let values = kind == .int64 ? integerValues(t.int64Data.map(Int.init), raw: t.rawData, width: 8)
                    : integerValues(t.int32Data.map(Int.init), raw: t.rawData, width: 4)
                guard values.count == count else { throw Unsupported(description: "tensor '\(name)' holds \(values.count) values for shape \(shape)") }
                integers[name] = (values, shape)
            default:
                throw Unsupported(description: "tensor '\(name)' has data type \(t.dataType); only float32, int32 and int64 compile")
            }
        }

        // MARK: Node helpers

        func float(_ name: String) throws -> Tensor {
            guard let t = tensors[name] else {
                if integers[name] != nil { throw Unsupported(description: "'\(name)' is an integer tensor used as float data") }
                throw Unsupported(description: "'\(name)' is not computed before it is read")
            }
            return t
        }

        func ints(_ name: String) throws -> [Int] {
            guard let v = integers[name] else { throw Unsupported(description: "'\(name)' must be a constant integer tensor (shape, axes, indices)") }
            return v.values
        }

        func floatConstant(_ name: String) -> [Float]? { known[name] }

        static func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }
        static func float(_ node: Onnx_NodeProto, _ name: String, _ fallback: Float) -> Float { attribute(node, name).map(\.f) ?? fallback }
        static func int(_ node: Onnx_NodeProto, _ name: String, _ fallback: Int) -> Int { attribute(node, name).map { Int($0.i) } ?? fallback }
        static func ints(_ node: Onnx_NodeProto, _ name: String) -> [Int]? { attribute(node, name).map { $0.ints.map(Int.init) } }

        static func strides(_ shape: [Int]) -> [Int] {
            var s = [Int](repeating: 1, count: shape.count)
            var acc = 1
            for d in stride(from: shape.count - 1, through: 0, by: -1) { s[d] = acc; acc *= shape[d] }
            return s
        }

        static func broadcast(_ a: [Int], _ b: [Int]) throws -> [Int] {
            let rank = Swift.max(a.count, b.count)
            let pa = [Int](repeating: 1, count: rank - a.count) + a, pb = [Int](repeating: 1, count: rank - b.count) + b
            return try zip(pa, pb).map { x, y in
                guard x == y || x == 1 || y == 1 else { throw Unsupported(description: "shapes \(a) and \(b) do not broadcast") }
                return Swift.max(x, y)
            }
        }

        /// For each element of `output` (row-major), the offset of the element of a tensor of
        /// `shape` that broadcasting reads.
        static func broadcastMap(_ shape: [Int], to output: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: output.count - shape.count) + shape
            let inStrides = strides(padded).enumerated().map { padded[$0.offset] == 1 ? 0 : $0.element }
            return walk(output) { index in zip(index, inStrides).reduce(0) { $0 + $1.0 * $1.1 } }
        }

        /// Calls `offset` with every multi-index of `shape`, in row-major order.
        static func walk(_ shape: [Int], _ offset: ([Int]) -> Int) -> [Int] {
            let count = shape.reduce(1, *)
            var result = [Int](); result.reserveCapacity(count)
            guard count > 0 else { return result }
            var index = [Int](repeating: 0, count: shape.count)
            for _ in 0..<count {
                result.append(offset(index))
                var d = shape.count - 1
                while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
            }
            return result
        }

        static func axis(_ a: Int, rank: Int) throws -> Int {
            let r = a < 0 ? a + rank : a
            guard r >= 0 && r < rank else { throw Unsupported(description: "axis \(a) is outside rank \(rank)") }
            return r
        }

        mutating func alias(_ name: String, _ source: Tensor, shape: [Int]) {
            tensors[name] = Tensor(offset: source.offset, shape: shape)
        }

        mutating func unary(_ node: Onnx_NodeProto, _ op: Unary) throws {
            let x = try float(node.input[0])
            let y = allocate(x.shape)
            steps.append(.unary(op, input: x.offset, output: y.offset, count: x.count))
            tensors[node.output[0]] = y
        }

        mutating func binary(_ node: Onnx_NodeProto, _ op: Binary) throws {
            guard node.input.count == 2 else { throw Unsupported(description: "expects two inputs, has \(node.input.count)") }
            let a = try float(node.input[0]), b = try float(node.input[1])
            let shape = try Self.broadcast(a.shape, b.shape)
            let y = allocate(shape)
            if a.shape == b.shape || (a.count == y.count && b.count == 1) || (a.count == 1 && b.count == y.count) {
                steps.append(.binary(op, a: a.offset, aStep: a.count == 1 && y.count > 1 ? 0 : 1, b: b.offset,
                                     bStep: b.count == 1 && y.count > 1 ? 0 : 1, output: y.offset, count: y.count))
            } else {
                let ma = map(Self.broadcastMap(a.shape, to: shape)), mb = map(Self.broadcastMap(b.shape, to: shape))
                steps.append(.binaryMapped(op, a: a.offset, mapA: ma, b: b.offset, mapB: mb, output: y.offset, count: y.count))
            }
            tensors[node.output[0]] = y
        }

        mutating func gather(_ name: String, from x: Tensor, shape: [Int], map indices: [Int]) {
            let y = allocate(shape)
            steps.append(.gather(input: x.offset, map: map(indices), output: y.offset, count: y.count))
            tensors[name] = y
        }

        /// A `[rows, depth]` view of `x` laid out row-major (transposed through a gather if asked).
        mutating func matrix(_ x: Tensor, transposed: Bool) -> Tensor {
            guard transposed else { return x }
            let rows = x.shape[1], cols = x.shape[0]
            let t = allocate([rows, cols])
            let indices = (0..<rows).flatMap { r in (0..<cols).map { c in c * rows + r } }
            steps.append(.gather(input: x.offset, map: map(indices), output: t.offset, count: t.count))
            return t
        }

        /// `B` as `[N, K]` rows: from a constant at compile time, else through a gather.
        mutating func rowsOf(_ name: String, _ b: Tensor, k: Int, n: Int, storedAsKN: Bool) -> Tensor {
            if !storedAsKN { return b }
            if let values = floatConstant(name) {
                var t = [Float](repeating: 0, count: n * k)
                for kk in 0..<k { for nn in 0..<n { t[nn * k + kk] = values[kk * n + nn] } }
                return allocate([n, k], values: t)
            }
            return matrix(Tensor(offset: b.offset, shape: [k, n]), transposed: true)
        }

        // MARK: Nodes

        mutating func compile(_ node: Onnx_NodeProto) throws {
            let op = node.opType
            let out = node.output.first ?? ""
            switch op {
            case "Constant":
                if let t = Self.attribute(node, "value")?.t { try constant(t, name: out) } else if let a = Self.attribute(node, "value_float") {
                    tensors[out] = allocate([], values: [a.f]); known[out] = [a.f]
                } else if let a = Self.attribute(node, "value_floats") {
                    tensors[out] = allocate([a.floats.count], values: a.floats); known[out] = a.floats
                } else if let a = Self.attribute(node, "value_int") {
                    integers[out] = ([Int(a.i)], [])
                } else if let a = Self.attribute(node, "value_ints") {
                    integers[out] = (a.ints.map(Int.init), [a.ints.count])
                } else {
                    throw Unsupported(description: "a Constant without a tensor, float or int value")
                }
            case "Relu": try unary(node, .relu)
            case "Elu": try unary(node, .elu(Self.float(node, "alpha", 1)))
            case "Tanh": try unary(node, .tanh)
            case "Sigmoid": try unary(node, .sigmoid)
            case "LeakyRelu": try unary(node, .leakyRelu(Self.float(node, "alpha", 0.01)))
            case "Selu": try unary(node, .selu(Self.float(node, "alpha", 1.67326319217681884765625), Self.float(node, "gamma", 1.05070102214813232421875)))
            case "Softplus": try unary(node, .softplus)
            case "Softsign": try unary(node, .softsign)
            case "HardSigmoid": try unary(node, .hardSigmoid(Self.float(node, "alpha", 0.2), Self.float(node, "beta", 0.5)))
            case "Neg": try unary(node, .neg)
            case "Abs": try unary(node, .abs)
            case "Exp": try unary(node, .exp)
            case "Log": try unary(node, .log)
            case "Sqrt": try unary(node, .sqrt)
            case "Sin": try unary(node, .sin)
            case "Cos": try unary(node, .cos)
            case "Clip":
                var low = -Float.greatestFiniteMagnitude, high = Float.greatestFiniteMagnitude
                if let a = Self.attribute(node, "min") { low = a.f }
                if let a = Self.attribute(node, "max") { high = a.f }
                if node.input.count > 1, !node.input[1].isEmpty {
                    guard let v = floatConstant(node.input[1])?.first else { throw Unsupported(description: "Clip's min must be a constant") }
                    low = v
                }
                if node.input.count > 2, !node.input[2].isEmpty {
                    guard let v = floatConstant(node.input[2])?.first else { throw Unsupported(description: "Clip's max must be a constant") }
                    high = v
                }
                try unary(node, .clip(low, high))
            case "Add": try binary(node, .add)
            case "Sub": try binary(node, .sub)
            case "Mul": try binary(node, .mul)
            case "Div": try binary(node, .div)
            case "Pow": try binary(node, .pow)
            case "Max", "Min":
                guard node.input.count == 2 else { throw Unsupported(description: "\(op) with \(node.input.count) inputs (two compile)") }
                try binary(node, op == "Max" ? .max : .min)
            case "Identity", "Dropout":
                if let v = integers[node.input[0]] { integers[out] = v; return }
                let x = try float(node.input[0])
                if node.output.count > 1, !node.output[1].isEmpty { throw Unsupported(description: "Dropout's mask output is used") }
                alias(out, x, shape: x.shape)
            case "Cast":
                let to = Self.int(node, "to", 1)
                if let v = integers[node.input[0]] {
                    guard to == 6 || to == 7 else { throw Unsupported(description: "Cast of an integer tensor to type \(to)") }
                    integers[out] = v; return
                }
                guard to == 1 else { throw Unsupported(description: "Cast of float data to type \(to)") }
                let x = try float(node.input[0])
                alias(out, x, shape: x.shape)
            case "Shape":
                let x = try float(node.input[0])
                var s = x.shape
                let start = Self.int(node, "start", 0), end = Self.int(node, "end", s.count)
                let lo = Swift.max(0, Swift.min(s.count, start < 0 ? start + s.count : start))
                let hi = Swift.max(0, Swift.min(s.count, end < 0 ? end + s.count : end))
                s = lo < hi ? Array(s[lo..<hi]) : []
                integers[out] = (s, [s.count])
            case "Reshape":
                let x = try float(node.input[0])
                var shape = try ints(node.input[1])
                let allowZero = Self.int(node, "allowzero", 0) == 1
                for (d, v) in shape.enumerated() where v == 0 && !allowZero {
                    guard d < x.shape.count else { throw Unsupported(description: "Reshape copies dimension \(d) of \(x.shape)") }
                    shape[d] = x.shape[d]
                }
                if let unknown = shape.firstIndex(of: -1) {
                    let rest = shape.enumerated().filter { $0.offset != unknown }.reduce(1) { $0 * $1.element }
                    guard rest > 0, x.count % rest == 0 else { throw Unsupported(description: "Reshape of \(x.shape) to \(shape)") }
                    shape[unknown] = x.count / rest
                }
                guard shape.reduce(1, *) == x.count, !shape.contains(where: { $0 < 0 }) else {
                    throw Unsupported(description: "Reshape of \(x.shape) (\(x.count) values) to \(shape)")
                }
                alias(out, x, shape: shape)
            case "Flatten":
                let x = try float(node.input[0])
                let a = Self.int(node, "axis", 1)
                let axis = a < 0 ? a + x.shape.count : a
                guard axis >= 0 && axis <= x.shape.count else { throw Unsupported(description: "Flatten axis \(a) of rank \(x.shape.count)") }
                alias(out, x, shape: [x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)])
            case "Squeeze", "Unsqueeze":
                var axes = Self.ints(node, "axes")
                if node.input.count > 1, !node.input[1].isEmpty { axes = try ints(node.input[1]) }
                if let v = integers[node.input[0]] {
                    let shape = op == "Unsqueeze" ? (v.shape.isEmpty ? [1] : v.shape) : (v.values.count == 1 ? [] : v.shape)
                    integers[out] = (v.values, shape); return
                }
                let x = try float(node.input[0])
                var shape = x.shape
                if op == "Squeeze" {
                    let rank = shape.count
                    let drop = try axes.map { try Set($0.map { try Self.axis($0, rank: rank) }) } ?? Set(shape.indices.filter { shape[$0] == 1 })
                    guard drop.allSatisfy({ shape[$0] == 1 }) else { throw Unsupported(description: "Squeeze of a dimension that is not 1 in \(shape)") }
                    shape = shape.indices.filter { !drop.contains($0) }.map { shape[$0] }
                } else {
                    guard let axes else { throw Unsupported(description: "Unsqueeze without axes") }
                    let rank = shape.count + axes.count
                    for a in try axes.map({ try Self.axis($0, rank: rank) }).sorted() { shape.insert(1, at: a) }
                }
                alias(out, x, shape: shape)
            case "Gather":
                let axisAttribute = Self.int(node, "axis", 0)
                let indices = try ints(node.input[1])
                let indexShape = integers[node.input[1]]!.shape
                if let v = integers[node.input[0]] {
                    guard v.shape.count <= 1 else { throw Unsupported(description: "Gather on an integer tensor of rank \(v.shape.count)") }
                    let n = v.values.count
                    integers[out] = (try indices.map { i in
                        let j = i < 0 ? i + n : i
                        guard j >= 0 && j < n else { throw Unsupported(description: "Gather index \(i) outside \(n)") }
                        return v.values[j]
                    }, indexShape)
                    return
                }
                let x = try float(node.input[0])
                let axis = try Self.axis(axisAttribute, rank: x.shape.count)
                let n = x.shape[axis]
                let resolved = try indices.map { i in
                    let j = i < 0 ? i + n : i
                    guard j >= 0 && j < n else { throw Unsupported(description: "Gather index \(i) outside \(n)") }
                    return j
                }
                let shape = Array(x.shape[..<axis]) + indexShape + Array(x.shape[(axis + 1)...])
                let s = Self.strides(x.shape)
                let r = indexShape.count
                let offsets = Self.walk(shape) { index in
                    var o = 0
                    for d in 0..<axis { o += index[d] * s[d] }
                    var flat = 0
                    for d in 0..<r { flat = flat * indexShape[d] + index[axis + d] }
                    o += resolved[flat] * s[axis]
                    for d in (axis + 1)..<x.shape.count { o += index[d + r - 1] * s[d] }
                    return o
                }
                gather(out, from: x, shape: shape, map: offsets)
            case "Concat":
                let a = Self.int(node, "axis", 0)
                if node.input.allSatisfy({ integers[$0] != nil }) {
                    let parts = node.input.map { integers[$0]! }
                    guard parts.allSatisfy({ $0.shape.count <= 1 }) else { throw Unsupported(description: "Concat of integer tensors of rank > 1") }
                    let values = parts.flatMap(\.values)
                    integers[out] = (values, [values.count])
                    return
                }
                let parts = try node.input.map { try float($0) }
                let rank = parts[0].shape.count
                let axis = try Self.axis(a, rank: rank)
                var shape = parts[0].shape
                shape[axis] = 0
                for p in parts {
                    guard p.shape.count == rank, p.shape.indices.allSatisfy({ $0 == axis || p.shape[$0] == parts[0].shape[$0] }) else {
                        throw Unsupported(description: "Concat of shapes \(parts.map(\.shape)) along axis \(axis)")
                    }
                    shape[axis] += p.shape[axis]
                }
                let y = allocate(shape)
                let ys = Self.strides(shape)
                var start = 0
                for p in parts {
                    let offsets = Self.walk(p.shape) { index in
                        var o = 0
                        for d in 0..<rank { o += (d == axis ? index[d] + start : index[d]) * ys[d] }
                        return o
                    }
                    if p.count > 0 { steps.append(.scatter(input: p.offset, map: map(offsets), output: y.offset, count: p.count)) }
                    start += p.shape[axis]
                }
                tensors[out] = y
            case "Slice":
                let x = try float(node.input[0])
                let rank = x.shape.count
                var starts: [Int], ends: [Int], axes: [Int]?, stepsList: [Int]?
                if node.input.count >= 3 {
                    starts = try ints(node.input[1]); ends = try ints(node.input[2])
                    axes = node.input.count > 3 && !node.input[3].isEmpty ? try ints(node.input[3]) : nil
                    stepsList = node.input.count > 4 && !node.input[4].isEmpty ? try ints(node.input[4]) : nil
                } else {
                    starts = Self.ints(node, "starts") ?? []; ends = Self.ints(node, "ends") ?? []; axes = Self.ints(node, "axes"); stepsList = nil
                }
                let axisList = try (axes ?? Array(0..<starts.count)).map { try Self.axis($0, rank: rank) }
                var begin = [Int](repeating: 0, count: rank), step = [Int](repeating: 1, count: rank), shape = x.shape
                for (k, axis) in axisList.enumerated() {
                    let n = x.shape[axis], st = stepsList?[k] ?? 1
                    guard st != 0 else { throw Unsupported(description: "Slice with step 0") }
                    var s = starts[k], e = ends[k]
                    if s < 0 { s += n }
                    if e < 0 { e += n }
                    if st > 0 {
                        s = Swift.max(0, Swift.min(n, s)); e = Swift.max(0, Swift.min(n, e))
                        shape[axis] = Swift.max(0, (e - s + st - 1) / st)
                    } else {
                        s = Swift.max(0, Swift.min(n - 1, s)); e = Swift.max(-1, Swift.min(n - 1, e))
                        shape[axis] = Swift.max(0, (s - e + (-st) - 1) / (-st))
                    }
                    begin[axis] = s; step[axis] = st
                }
                let s = Self.strides(x.shape)
                let offsets = Self.walk(shape) { index in (0..<rank).reduce(0) { $0 + (begin[$1] + index[$1] * step[$1]) * s[$1] } }
                gather(out, from: x, shape: shape, map: offsets)
            case "Transpose":
                let x = try float(node.input[0])
                let rank = x.shape.count
                let perm = Self.ints(node, "perm") ?? Array((0..<rank).reversed())
                guard perm.sorted() == Array(0..<rank) else { throw Unsupported(description: "Transpose perm \(perm) for rank \(rank)") }
                let shape = perm.map { x.shape[$0] }
                let s = Self.strides(x.shape)
                let offsets = Self.walk(shape) { index in (0..<rank).reduce(0) { $0 + index[$1] * s[perm[$1]] } }
                gather(out, from: x, shape: shape, map: offsets)
            case "Expand":
                let x = try float(node.input[0])
                let shape = try Self.broadcast(x.shape, try ints(node.input[1]))
                gather(out, from: x, shape: shape, map: Self.broadcastMap(x.shape, to: shape))
            case "Gemm":
                let a0 = try float(node.input[0]), b0 = try float(node.input[1])
                guard a0.shape.count == 2, b0.shape.count == 2 else { throw Unsupported(description: "Gemm of shapes \(a0.shape) and \(b0.shape)") }
                let transA = Self.int(node, "transA", 0) == 1, transB = Self.int(node, "transB", 0) == 1
                let a = matrix(a0, transposed: transA)
                let m = a.shape[0], k = a.shape[1]
                let n = transB ? b0.shape[0] : b0.shape[1]
                guard (transB ? b0.shape[1] : b0.shape[0]) == k else { throw Unsupported(description: "Gemm of \(a0.shape) and \(b0.shape)") }
                let bt = rowsOf(node.input[1], b0, k: k, n: n, storedAsKN: !transB)
                let beta = Self.float(node, "beta", 1)
                var c = -1
                if node.input.count > 2, !node.input[2].isEmpty {
                    let c0 = try float(node.input[2])
                    let shape = try Self.broadcast(c0.shape, [m, n])
                    guard shape == [m, n] else { throw Unsupported(description: "Gemm's C \(c0.shape) does not broadcast to [\(m), \(n)]") }
                    if c0.shape == [m, n] {
                        c = c0.offset
                    } else if let values = floatConstant(node.input[2]) {
                        c = allocate([m, n], values: Self.broadcastMap(c0.shape, to: [m, n]).map { values[$0] }).offset
                    } else {
                        gather("\u{0}c" + out, from: c0, shape: [m, n], map: Self.broadcastMap(c0.shape, to: [m, n]))
                        c = tensors["\u{0}c" + out]!.offset
                    }
                }
                let y = allocate([m, n])
                steps.append(.gemm(a: a.offset, bt: bt.offset, c: c, output: y.offset, m: m, n: n, k: k, alpha: Self.float(node, "alpha", 1), beta: beta))
                multiplyAdds += m * n * k
                tensors[out] = y
            case "MatMul":
                let a0 = try float(node.input[0]), b0 = try float(node.input[1])
                guard a0.shape.count >= 1, (1...2).contains(b0.shape.count) else {
                    throw Unsupported(description: "MatMul of shapes \(a0.shape) and \(b0.shape) (a batched right side does not compile)")
                }
                let k = a0.shape.last!
                let m = a0.shape.count == 1 ? 1 : a0.shape[a0.shape.count - 2]
                guard a0.shape.dropLast(2).allSatisfy({ $0 == 1 }) else { throw Unsupported(description: "batched MatMul \(a0.shape)") }
                guard b0.shape[0] == k else { throw Unsupported(description: "MatMul of \(a0.shape) and \(b0.shape)") }
                let n = b0.shape.count == 2 ? b0.shape[1] : 1
                let bt = rowsOf(node.input[1], b0, k: k, n: n, storedAsKN: b0.shape.count == 2 && n > 1)
                var shape = Array(a0.shape.dropLast())
                if b0.shape.count == 2 { shape.append(n) }
                let y = allocate(shape)
                steps.append(.gemm(a: a0.offset, bt: bt.offset, c: -1, output: y.offset, m: m, n: n, k: k, alpha: 1, beta: 0))
                multiplyAdds += m * n * k
                tensors[out] = y
            default:
                throw Unsupported(description: "operator \(op) does not compile (ONNX Runtime runs this model)")
            }
        }
    }
}

/// An integer initializer's values: its typed field, or (when the exporter wrote raw bytes
/// instead) its `raw_data` as little-endian signed integers of `width` bytes (4 or 8).
private func integerValues(_ typed: [Int], raw: Data, width: Int) -> [Int] {
    guard typed.isEmpty && !raw.isEmpty else { return typed }
    let bytes = [UInt8](raw)
    return stride(from: 0, to: bytes.count - width + 1, by: width).map { offset in
        var bits: UInt64 = 0
        for k in 0..<width { bits |= UInt64(bytes[offset + k]) << (8 * UInt64(k)) }
        return width == 4 ? Int(Int32(truncatingIfNeeded: bits)) : Int(Int64(bitPattern: bits))
    }
}
