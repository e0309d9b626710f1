import COnnxRuntime
import Foundation
import TetherCore

/// Element types of ONNX tensors (TensorProto.DataType numbering).
public enum TensorElementType: Int32, Sendable, Codable, CustomStringConvertible {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8, bool = 9
    case float16 = 10, double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16, unknown = -1
    public var description: String { name }
    /// The usual name of the type (float32, int64, ...).
    public var name: String {
        switch self {
        case .float: "float32"
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .string: "string"
        case .bool: "bool"
        case .float16: "float16"
        case .double: "float64"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .bfloat16: "bfloat16"
        case .unknown: "unknown"
        }
    }
}

/// Name, element type and shape of a model input or output (-1 marks a dynamic dimension).
public struct TensorInfo: Sendable, Equatable, Codable {
    public var name: String
    public var elementType: TensorElementType
    public var shape: [Int]
}

/// An ONNX Runtime inference session over one model.
///
/// Not thread-safe for concurrent runs of the same `FastRun`; separate sessions or runners may be
/// used from separate threads.
public final class OnnxSession: @unchecked Sendable {
    let raw: OpaquePointer
    /// The model file (or "<memory>").
    public let path: String
    /// Inputs in model order.
    public let inputs: [TensorInfo]
    /// Outputs in model order.
    public let outputs: [TensorInfo]
    /// The model's custom metadata (metadata_props).
    public let metadata: [String: String]
    /// The producer recorded in the model.
    public let producer: String

    /// Opens a model file with `threads` intra-op threads (0: ONNX Runtime's default; 1 is best
    /// for the small MLPs of a control loop).
    public convenience init(path: String, threads: Int = 1) throws {
        try OnnxRuntime.load()
        guard FileManager.default.fileExists(atPath: path) else {
            throw TetherError("ONNX model not found", at: path, hint: "check the --policy path")
        }
        var error = [CChar](repeating: 0, count: 2048)
        guard let s = tort_session_create(path, nil, 0, Int32(threads), &error, error.count) else {
            throw TetherError("ONNX Runtime cannot load the model: \(stringFromCBuffer(error))", at: path,
                              hint: "is it a valid .onnx file? `tether policy inspect` shows what Tether sees")
        }
        try self.init(raw: s, path: path)
    }

    /// Opens a model held in memory.
    public convenience init(bytes: [UInt8], threads: Int = 1, name: String = "<memory>") throws {
        try OnnxRuntime.load()
        var error = [CChar](repeating: 0, count: 2048)
        let session = bytes.withUnsafeBytes { tort_session_create(nil, $0.baseAddress, $0.count, Int32(threads), &error, error.count) }
        guard let session else {
            throw TetherError("ONNX Runtime cannot load the model: \(stringFromCBuffer(error))", at: name)
        }
        try self.init(raw: session, path: name)
    }

    private init(raw: OpaquePointer, path: String) throws {
        self.raw = raw
        self.path = path
        do {
            func info(_ output: Bool, _ count: Int) throws -> [TensorInfo] {
                try (0..<count).map { i in
                    var name = [CChar](repeating: 0, count: 1024), error = [CChar](repeating: 0, count: 1024)
                    var type: Int32 = 0, rank = 0
                    var dims = [Int64](repeating: 0, count: 16)
                    guard tort_io_info(raw, output ? 1 : 0, i, &name, name.count, &type, &dims, dims.count, &rank, &error, error.count) == 0 else {
                        throw TetherError("\(output ? "output" : "input") \(i): \(stringFromCBuffer(error))", at: path)
                    }
                    return TensorInfo(name: stringFromCBuffer(name), elementType: TensorElementType(rawValue: type) ?? .unknown,
                                      shape: dims.prefix(min(rank, 16)).map { Int($0) })
                }
            }
            inputs = try info(false, tort_input_count(raw))
            outputs = try info(true, tort_output_count(raw))
            var error = [CChar](repeating: 0, count: 1024)
            let count = tort_metadata_count(raw, &error, error.count)
            guard count >= 0 else { throw TetherError("cannot read the model metadata: \(stringFromCBuffer(error))", at: path) }
            var meta: [String: String] = [:]
            for i in 0..<count {
                var key = [CChar](repeating: 0, count: 4096), value = [CChar](repeating: 0, count: 65536)
                guard tort_metadata_entry(raw, i, &key, key.count, &value, value.count, &error, error.count) == 0 else {
                    throw TetherError("cannot read the model metadata: \(stringFromCBuffer(error))", at: path)
                }
                meta[stringFromCBuffer(key)] = stringFromCBuffer(value)
            }
            metadata = meta
            var producerText = [CChar](repeating: 0, count: 1024), description = [CChar](repeating: 0, count: 1024)
            _ = tort_metadata_strings(raw, &producerText, producerText.count, &description, description.count, &error, error.count)
            producer = stringFromCBuffer(producerText)
        } catch {
            tort_session_release(raw)
            throw error
        }
    }

    deinit { tort_session_release(raw) }

    /// Runs the model once on float32 inputs (one array and shape per input, in model order) and
    /// returns the outputs. Convenient, not the control-loop path: use `FastRun` there.
    public func run(_ values: [[Float]], shapes: [[Int]]) throws -> [[Float]] {
        guard values.count == inputs.count, shapes.count == inputs.count else {
            throw TetherError("the model takes \(inputs.count) input(s), got \(values.count)", at: path)
        }
        var outputShapes: [[Int]] = []
        for (i, input) in inputs.enumerated() {
            try Self.checkShape(shapes[i], against: input, path: path)
            guard shapes[i].reduce(1, *) == values[i].count else {
                throw TetherError("input '\(input.name)' has \(values[i].count) values for shape \(shapes[i])", at: path)
            }
        }
        let batch = shapes.first?.first ?? 1
        for output in outputs {
            guard output.elementType == .float else {
                throw TetherError("output '\(output.name)' is \(output.elementType.name); Tether reads float32 outputs", at: path)
            }
            // Dynamic output dimensions: the first takes the batch size; others must be static.
            var shape = output.shape
            for (k, d) in shape.enumerated() where d < 0 {
                guard k == 0 else {
                    throw TetherError("output '\(output.name)' has a dynamic dimension \(k) (shape \(output.shape)) that Tether cannot size in advance",
                                      at: path, hint: "export the model with static output shapes except the batch dimension")
                }
                shape[k] = batch
            }
            outputShapes.append(shape)
        }
        let runner = try FastRun(session: self, inputShapes: shapes, outputShapes: outputShapes)
        for (i, v) in values.enumerated() { runner.setInput(i, v) }
        try runner.run()
        return (0..<outputs.count).map { Array(runner.output($0)) }
    }

    static func checkShape(_ shape: [Int], against input: TensorInfo, path: String) throws {
        guard input.elementType == .float else {
            throw TetherError("input '\(input.name)' is \(input.elementType.name); Tether feeds float32 observations", at: path,
                              hint: "export the policy with float32 inputs")
        }
        guard shape.count == input.shape.count else {
            throw TetherError("input '\(input.name)' has rank \(input.shape.count) (shape \(input.shape)), got a tensor of shape \(shape)", at: path)
        }
        for (k, (want, got)) in zip(input.shape, shape).enumerated() where want >= 0 && want != got {
            throw TetherError("input '\(input.name)' dimension \(k) must be \(want) (shape \(input.shape)), got \(got)", at: path)
        }
    }
}
