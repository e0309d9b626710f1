import COnnxRuntime
import Foundation
import TetherCore

/// ONNX Runtime, loaded at run time from the project venv's `onnxruntime` wheel.
///
/// The library is found without any environment variable: `$TETHER_ONNXRUNTIME` (a path to
/// `libonnxruntime.so*`, to use another copy) if set, else the venv of the Tether checkout
/// (`.venv/lib/python3.*/site-packages/onnxruntime/capi/libonnxruntime.so.*`), else the system's
/// `libonnxruntime.so`. One library per process.
public enum OnnxRuntime {
    /// Loads the library once; later calls return the same result.
    public static func load() throws {
        try loaded.get()
    }

    /// The loaded library's version string, e.g. "1.32.0".
    public static var version: String? { tort_version().map { String(cString: $0) } }

    /// The path the library was loaded from.
    public static var libraryPath: String? { tort_loaded_path().map { String(cString: $0) } }

    private static let loaded: Result<Void, TetherError> = {
        let candidates = libraryCandidates()
        var tried: [String] = []
        for path in candidates {
            var error = [CChar](repeating: 0, count: 1024)
            if tort_load(path, &error, error.count) == 0 { return .success(()) }
            tried.append("\(path): \(stringFromCBuffer(error))")
        }
        return .failure(TetherError(
            "cannot load ONNX Runtime" + (tried.isEmpty ? ": no libonnxruntime.so found" : "; tried:\n    " + tried.joined(separator: "\n    ")),
            hint: "run scripts/setup.sh (it installs onnxruntime==1.32.0 in .venv), or set TETHER_ONNXRUNTIME=/path/to/libonnxruntime.so.1.x"))
    }()

    /// Where Tether looks for the library, in order.
    public static func libraryCandidates() -> [String] {
        var paths: [String] = []
        if let env = ProcessInfo.processInfo.environment["TETHER_ONNXRUNTIME"], !env.isEmpty { return [env] }
        let fm = FileManager.default
        if let root = TetherPaths.checkoutRoot() {
            let lib = "\(root)/.venv/lib"
            for python in ((try? fm.contentsOfDirectory(atPath: lib)) ?? []).sorted() where python.hasPrefix("python") {
                let capi = "\(lib)/\(python)/site-packages/onnxruntime/capi"
                for file in ((try? fm.contentsOfDirectory(atPath: capi)) ?? []).sorted() where file.hasPrefix("libonnxruntime.so") {
                    paths.append("\(capi)/\(file)")
                }
            }
        }
        paths.append("libonnxruntime.so")
        return paths
    }
}

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
                    throw TetherError("output '\(output.name)' has a dynamic dimension \(k) (shape \(output.shape)) that Tether cannot size in advance", at: path,
                                      hint: "export the model with static output shapes except the batch dimension")
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

/// The control-loop path: float32 tensors over buffers allocated once; `run()` only calls
/// OrtApi::Run. Write inputs with `setInput` or `inputBuffer`, read outputs with `output`.
public final class FastRun {
    public let session: OnnxSession
    private let inputBuffers: [UnsafeMutableBufferPointer<Float>]
    private let outputBuffers: [UnsafeMutableBufferPointer<Float>]
    private let binding: OpaquePointer
    private var errorBuffer = [CChar](repeating: 0, count: 1024)

    /// Binds tensors of the given concrete shapes (dynamic model dimensions resolved by the caller).
    public init(session: OnnxSession, inputShapes: [[Int]], outputShapes: [[Int]]) throws {
        self.session = session
        guard inputShapes.count == session.inputs.count, outputShapes.count == session.outputs.count else {
            throw TetherError("FastRun needs \(session.inputs.count) input and \(session.outputs.count) output shapes", at: session.path)
        }
        for (shape, info) in zip(inputShapes, session.inputs) { try OnnxSession.checkShape(shape, against: info, path: session.path) }
        let inputBuffers: [UnsafeMutableBufferPointer<Float>] = inputShapes.map { .allocate(capacity: max(1, $0.reduce(1, *))) }
        let outputBuffers: [UnsafeMutableBufferPointer<Float>] = outputShapes.map { .allocate(capacity: max(1, $0.reduce(1, *))) }
        for b in inputBuffers { b.initialize(repeating: 0) }
        for b in outputBuffers { b.initialize(repeating: 0) }
        let inShapes = inputShapes.map { $0.map(Int64.init) }, outShapes = outputShapes.map { $0.map(Int64.init) }
        var error = [CChar](repeating: 0, count: 2048)
        let created: OpaquePointer? = withPointers(inShapes) { inShapePointers in
            withPointers(outShapes) { outShapePointers in
                var ins: [UnsafeMutablePointer<Float>?] = inputBuffers.map { $0.baseAddress }
                var outs: [UnsafeMutablePointer<Float>?] = outputBuffers.map { $0.baseAddress }
                var inRanks = inputShapes.map(\.count), outRanks = outputShapes.map(\.count)
                return tort_binding_create(session.raw, inputShapes.count, &ins, inShapePointers, &inRanks,
                                           outputShapes.count, &outs, outShapePointers, &outRanks, &error, error.count)
            }
        }
        guard let created else {
            for b in inputBuffers + outputBuffers { b.deallocate() }
            throw TetherError("cannot bind tensors: \(stringFromCBuffer(error))", at: session.path)
        }
        binding = created
        self.inputBuffers = inputBuffers
        self.outputBuffers = outputBuffers
    }

    deinit {
        tort_binding_release(binding)
        for b in inputBuffers + outputBuffers { b.deallocate() }
    }

    /// The buffer of input `index`, to fill in place.
    @inline(__always) public func inputBuffer(_ index: Int) -> UnsafeMutableBufferPointer<Float> { inputBuffers[index] }

    /// Copies values into input `index`.
    public func setInput(_ index: Int, _ values: [Float]) {
        precondition(values.count == inputBuffers[index].count, "input \(index) takes \(inputBuffers[index].count) values")
        _ = inputBuffers[index].update(fromContentsOf: values)
    }

    /// Runs the model.
    @inline(__always) public func run() throws {
        let status = errorBuffer.withUnsafeMutableBufferPointer { tort_binding_run(binding, $0.baseAddress, $0.count) }
        guard status == 0 else {
            throw TetherError("ONNX Runtime failed to run the model: \(stringFromCBuffer(errorBuffer))", at: session.path)
        }
    }

    /// The buffer of output `index` after `run()`.
    @inline(__always) public func output(_ index: Int) -> UnsafeMutableBufferPointer<Float> { outputBuffers[index] }
}

/// Calls `body` with C pointers to each array's storage (valid only inside `body`).
private func withPointers<R>(_ arrays: [[Int64]], _ body: (UnsafePointer<UnsafePointer<Int64>?>) -> R) -> R {
    let buffers = arrays.map { array -> UnsafeMutableBufferPointer<Int64> in
        let b = UnsafeMutableBufferPointer<Int64>.allocate(capacity: max(1, array.count))
        _ = b.initialize(from: array)
        return b
    }
    defer { buffers.forEach { $0.deallocate() } }
    let pointers: [UnsafePointer<Int64>?] = buffers.map { UnsafePointer($0.baseAddress) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
