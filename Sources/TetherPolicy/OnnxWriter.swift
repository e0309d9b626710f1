import Foundation
import SwiftProtobuf
import TetherCore

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
