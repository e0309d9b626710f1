import Foundation
import TetherNumerics
import TetherCore
import TetherONNX

/// How a detector is set up: threads, thresholds, and what the model itself may not say.
public struct DetectorOptions: Sendable {
    /// ONNX Runtime intra-op threads (0: ONNX Runtime's default).
    public var threads: Int = 1
    /// Thresholds and caps of decoding.
    public var decode = DecodeOptions()
    /// Forces the output layout instead of inferring it from the output shape.
    public var layout: DetectorOutputLayout?
    /// Class names (a `--names` file); otherwise the model's metadata, else `class0`, `class1`, ….
    public var classNames: [String]?
    /// Input size `(width, height)` used when the model's input shape is dynamic and its
    /// metadata has no `imgsz`.
    public var imageSize: (width: Int, height: Int)?

    public init(threads: Int = 1, decode: DecodeOptions = .init(), layout: DetectorOutputLayout? = nil,
                classNames: [String]? = nil, imageSize: (width: Int, height: Int)? = nil) {
        self.threads = threads; self.decode = decode; self.layout = layout
        self.classNames = classNames; self.imageSize = imageSize
    }
}

/// The time one frame spent in each stage, seconds.
public struct DetectionTimings: Sendable, Equatable, Codable {
    /// Letterbox into the input tensor.
    public var preprocess: Double
    /// ONNX Runtime's run.
    public var inference: Double
    /// Decoding, suppression, mapping boxes back.
    public var postprocess: Double
    public var total: Double { preprocess + inference + postprocess }

    public init(preprocess: Double, inference: Double, postprocess: Double) {
        self.preprocess = preprocess; self.inference = inference; self.postprocess = postprocess
    }
}

/// An object detector: a YOLO-family ONNX model run by ONNX Runtime, with Ultralytics'
/// pre-processing (letterbox) and post-processing (decode, NMS, boxes mapped back).
///
/// Buffers are allocated once; `detect` allocates only its result. Not for concurrent use: use
/// one detector per thread.
public final class Detector {
    /// The model file.
    public let modelPath: String
    public let session: OnnxSession
    /// The model's input width and height in pixels.
    public let inputWidth: Int
    public let inputHeight: Int
    /// Class names by class index.
    public let classNames: [String]
    /// How the output is decoded.
    public let layout: DetectorOutputLayout
    /// The output shape (`[1, 4 + classes, anchors]` or `[1, N, 6]`).
    public let outputShape: [Int]
    /// The options it was opened with. `options.decode` may be changed between frames (it takes
    /// effect on the next one); the other fields are read when the detector opens.
    public var options: DetectorOptions
    private let runner: FastRun
    private let letterbox: Letterboxer

    /// Opens a detector model; errors say what about the model does not fit and what to pass.
    public init(modelPath: String, options: DetectorOptions = .init()) throws {
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw TetherError("detector model not found", at: modelPath, hint: "pass --model PATH to a YOLO .onnx export")
        }
        let session = try OnnxSession(path: modelPath, threads: options.threads)
        let metadata = try DetectorMetadata(session.metadata, source: "\(modelPath) metadata")
        guard session.inputs.count == 1, let input = session.inputs.first, input.shape.count == 4 else {
            throw TetherError("a detector takes one image input [1, 3, height, width]; this model has inputs "
                + "\(session.inputs.map { "\($0.name) \($0.shape)" })", at: modelPath)
        }
        guard input.shape[1] == 3 || input.shape[1] < 0 else {
            throw TetherError("the input '\(input.name)' has \(input.shape[1]) channels (shape \(input.shape)); Tether feeds RGB images", at: modelPath)
        }
        var width = input.shape[3], height = input.shape[2]
        if width <= 0 || height <= 0 {
            if let size = metadata.imageSize { height = size[0]; width = size[1] }
                else if let size = options.imageSize { width = size.width; height = size.height } else {
                throw TetherError("the model's input size is dynamic (shape \(input.shape)) and its metadata has no imgsz", at: modelPath, hint: "pass --imgsz")
            }
        }
        guard session.outputs.count >= 1 else { throw TetherError("the model has no outputs", at: modelPath) }
        var outShape = session.outputs[0].shape
        if let first = outShape.first, first < 0 { outShape[0] = 1 }
        // Dynamic exports (Ultralytics dynamic=True): [batch, 4 + classes, anchors] with the anchor
        // count set by the input size: one per cell of each detection level, strides 8, 16, … up
        // to the model's stride (metadata `stride`, else 32).
        if outShape.count == 3, outShape[1] >= 5, outShape[2] < 0, options.layout ?? .yolo == .yolo {
            let maxStride = metadata.stride ?? 32
            guard maxStride >= 8, width % maxStride == 0, height % maxStride == 0 else {
                throw TetherError("the input size \(width)×\(height) is not a multiple of the model's stride \(maxStride)", at: modelPath,
                                  hint: "pass --imgsz with a multiple of \(maxStride)")
            }
            var anchors = 0, stride = 8
            while stride <= maxStride { anchors += (width / stride) * (height / stride); stride *= 2 }
            outShape[2] = anchors
        }
        guard outShape.allSatisfy({ $0 > 0 }) else {
            throw TetherError("the first output has a dynamic shape \(session.outputs[0].shape) that Tether cannot size in advance", at: modelPath,
                              hint: "export with a static image size (Ultralytics: dynamic=False, imgsz=N)")
        }
        guard let layout = options.layout ?? DetectorOutputLayout.infer(shape: outShape) else {
            throw TetherError("cannot tell how to decode the output of shape \(outShape)", at: modelPath,
                              hint: "expected [1, 4 + classes, anchors] (YOLOv8 / YOLO11) or [1, N, 6] (end-to-end); force one with --layout")
        }
        guard outShape.count == 3, outShape[0] == 1, layout == .endToEnd ? outShape[2] == 6 : outShape[1] >= 5 else {
            throw TetherError("the output shape \(outShape) does not fit the \(layout.rawValue) layout", at: modelPath)
        }
        let classCount = layout == .yolo ? outShape[1] - 4 : nil
        var names = options.classNames ?? metadata.names
        if names == nil { names = (0..<(classCount ?? 0)).map { "class\($0)" } }
        if let classCount, let given = names, given.count != classCount {
            throw TetherError("the model scores \(classCount) classes but \(given.count) class names were given "
                + "(\(given.prefix(8).joined(separator: ", "))\(given.count > 8 ? ", …" : ""))",
                              at: options.classNames != nil ? "--names" : "\(modelPath) metadata",
                              hint: "pass a names file with exactly \(classCount) names")
        }
        var inputShape = input.shape
        inputShape[0] = 1; inputShape[1] = 3; inputShape[2] = height; inputShape[3] = width
        self.modelPath = modelPath
        self.session = session
        self.inputWidth = width
        self.inputHeight = height
        self.classNames = names ?? []
        self.layout = layout
        self.outputShape = outShape
        self.options = options
        var outputShapes = [outShape]
        for o in session.outputs.dropFirst() {
            let shape = o.shape.enumerated().map { $0.offset == 0 && $0.element < 0 ? 1 : $0.element }
            guard shape.allSatisfy({ $0 > 0 }) else {
                throw TetherError("output '\(o.name)' has a dynamic shape \(o.shape)", at: modelPath, hint: "export a detection model with static shapes")
            }
            outputShapes.append(shape)
        }
        runner = try FastRun(session: session, inputShapes: [inputShape], outputShapes: outputShapes)
        letterbox = Letterboxer(width: width, height: height)
    }

    /// The class name of a class index (`class<N>` when out of range).
    public func className(_ index: Int) -> String {
        index >= 0 && index < classNames.count ? classNames[index] : "class\(index)"
    }

    /// Detects objects in an image: boxes in the image's pixels, best first, and the time each
    /// stage took.
    public func detect(_ image: RGBImage) throws -> (detections: [Detection], timings: DetectionTimings) {
        guard image.width > 0, image.height > 0 else {
            throw TetherError("cannot detect objects in an empty \(image.width)×\(image.height) image")
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let geometry = letterbox(image, into: runner.inputBuffer(0))
        let t1 = DispatchTime.now().uptimeNanoseconds
        try runner.run()
        let t2 = DispatchTime.now().uptimeNanoseconds
        let output = UnsafeBufferPointer(runner.output(0))
        var detections: [Detection]
        switch layout {
        case .yolo:
            detections = YOLODecoder.decodeYOLO(output, classes: outputShape[1] - 4, anchors: outputShape[2], options: options.decode)
        case .endToEnd:
            detections = YOLODecoder.decodeEndToEnd(output, rows: outputShape[1], options: options.decode)
        }
        for i in detections.indices { detections[i].box = geometry.toSource(detections[i].box) }
        let t3 = DispatchTime.now().uptimeNanoseconds
        return (detections, DetectionTimings(preprocess: Double(t1 - t0) * 1e-9, inference: Double(t2 - t1) * 1e-9,
                                             postprocess: Double(t3 - t2) * 1e-9))
    }
}

/// Median, 90th percentile (TetherNumerics' linear-interpolation quantile) and mean of latencies.
public struct LatencySummary: Sendable, Equatable, Codable {
    public var count: Int
    public var median: Double
    public var p90: Double
    public var mean: Double

    /// The summary of `values` (seconds); zeros when empty.
    public init(_ values: [Double]) {
        count = values.count
        guard !values.isEmpty else { median = 0; p90 = 0; mean = 0; return }
        median = SampleStatistics.quantile(values, 0.5); p90 = SampleStatistics.quantile(values, 0.9)
        mean = values.reduce(0, +) / Double(values.count)
    }
}

/// Per-stage latency summaries over many frames.
public struct StageLatencies: Sendable, Equatable, Codable {
    public var preprocess: LatencySummary
    public var inference: LatencySummary
    public var postprocess: LatencySummary
    public var total: LatencySummary

    public init(_ timings: [DetectionTimings]) {
        preprocess = LatencySummary(timings.map(\.preprocess))
        inference = LatencySummary(timings.map(\.inference))
        postprocess = LatencySummary(timings.map(\.postprocess))
        total = LatencySummary(timings.map(\.total))
    }

    /// One line per stage: median and p90 in milliseconds.
    public var lines: [String] {
        [("pre-process", preprocess), ("inference", inference), ("post-process", postprocess), ("total", total)].map { name, s in
            "\(name.padding(toLength: 13, withPad: " ", startingAt: 0)) median \(String(format: "%.3f", s.median * 1e3)) ms  p90 "
                + "\(String(format: "%.3f", s.p90 * 1e3)) ms"
        }
    }
}
