import Foundation
import SwiftProtobuf
import TetherCore

/// A policy read back from an ONNX model that `OnnxWriter` wrote, with its metadata_props.
public struct ExportedPolicy: Sendable {
    /// The policy (normalization, MLP, generator), exactly as the graph computes it.
    public var policy: PolicyNetwork
    /// The model's metadata_props (the policy contract and provenance).
    public var metadata: [String: String]

    /// Reads a model file.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TetherError("cannot read the ONNX model", at: path, hint: "check the --policy path")
        }
        try self.init(bytes: [UInt8](data), name: path)
    }

    /// Reads a model from its bytes; `name` labels errors.
    public init(bytes: [UInt8], name: String = "<memory>") throws {
        let hint = "fine-tuning reads back the graphs Tether exports (`tether train`, `tether finetune`); other ONNX models have no native twin to train"
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: bytes)
        } catch {
            throw TetherError("not an ONNX model: \(error)", at: name, hint: hint)
        }
        var tensors: [String: Onnx_TensorProto] = [:]
        for t in model.graph.initializer { tensors[t.name] = t }
        func floats(_ key: String, count: Int? = nil) throws -> [Float] {
            guard let t = tensors[key] else { throw TetherError("the graph has no initializer '\(key)'", at: name, hint: hint) }
            guard t.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
                throw TetherError("initializer '\(key)' is not float32", at: name, hint: hint)
            }
            var values = t.floatData
            if values.isEmpty && !t.rawData.isEmpty {
                values = [Float](repeating: 0, count: t.rawData.count / MemoryLayout<Float>.size)
                _ = values.withUnsafeMutableBytes { t.rawData.copyBytes(to: $0) }
            }
            let expected = count ?? t.dims.reduce(1) { $0 * Int($1) }
            guard values.count == expected else {
                throw TetherError("initializer '\(key)' holds \(values.count) values, expected \(expected)", at: name, hint: hint)
            }
            return values
        }
        func index(_ key: String) throws -> Int {
            guard let t = tensors[key], let v = t.int64Data.first else {
                throw TetherError("the graph has no int64 initializer '\(key)'", at: name, hint: hint)
            }
            return Int(v)
        }
        // Layer sizes from the Gemm weights: layer l is [out, in].
        var sizes: [Int] = []
        var l = 0
        while let w = tensors["layer\(l).weight"] {
            guard w.dims.count == 2 else { throw TetherError("layer\(l).weight is not a matrix", at: name, hint: hint) }
            if l == 0 { sizes.append(Int(w.dims[1])) } else if Int(w.dims[1]) != sizes.last {
                throw TetherError("layer\(l).weight takes \(w.dims[1]) inputs, the layer before gives \(sizes.last!)", at: name, hint: hint)
            }
            sizes.append(Int(w.dims[0]))
            l += 1
        }
        guard sizes.count >= 2 else { throw TetherError("the graph has no initializer 'layer0.weight'", at: name, hint: hint) }
        let ops = Set(model.graph.node.map(\.opType))
        let activation: MLP.Activation = ops.contains("Elu") ? .elu : ops.contains("Relu") ? .relu : .tanh
        var mlp = MLP(sizes: sizes, activation: activation)
        for layer in 0..<mlp.layerCount {
            mlp.weights[layer] = try floats("layer\(layer).weight", count: sizes[layer + 1] * sizes[layer])
            mlp.biases[layer] = try floats("layer\(layer).bias", count: sizes[layer + 1])
        }
        var policy = PolicyNetwork(mlp: mlp)
        policy.observationMean = try floats("obs_mean", count: sizes[0])
        policy.observationStd = try floats("obs_std", count: sizes[0])
        if let tg = tensors["tg.weight"] {
            let m = sizes.last!
            guard tg.dims.count == 2, Int(tg.dims[0]) == m, tg.dims[1] % 2 == 0, tg.dims[1] >= 2 else {
                throw TetherError("tg.weight has shape \(tg.dims), expected [\(m), 2K]", at: name, hint: hint)
            }
            let harmonics = Int(tg.dims[1]) / 2
            var steering: TrajectoryGenerator.Steering?
            if tensors["tg_steer.weight"] != nil {
                steering = .init(headingIndex: try index("tg_heading_start"),
                                 weights: try floats("tg_steer.weight", count: m * 2 * harmonics),
                                 offsets: try floats("tg_steer.bias", count: m))
            }
            policy.generator = TrajectoryGenerator(phaseIndex: try index("tg_sin_start"), harmonics: harmonics,
                                                   weights: try floats("tg.weight", count: m * 2 * harmonics),
                                                   offsets: try floats("tg.bias", count: m), steering: steering)
        }
        self.policy = policy
        metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}
