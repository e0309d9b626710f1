import COnnxRuntime
import Foundation
import TetherCore

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
