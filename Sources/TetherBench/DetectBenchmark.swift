import Foundation
import TetherCore
import TetherVision

/// `tether bench detect`: per-frame latency of Tether's detector (pre-process, inference,
/// post-process) against the usual Python pipeline (benchmarks/detect_peer.py: cv2 + numpy
/// letterbox, onnxruntime's session.run, numpy decoding and NMS) on the same images, model,
/// thresholds and thread count. Images are decoded once, before timing, in both.
public struct DetectBenchmark {
    public var modelPath: String
    public var imagePaths: [String]
    public var frames: Int
    public var warmup: Int
    public var threads: Int
    public var decode: DecodeOptions

    public init(modelPath: String, imagePaths: [String], frames: Int = 200, warmup: Int = 10, threads: Int = 1, decode: DecodeOptions = .init()) {
        self.modelPath = modelPath; self.imagePaths = imagePaths; self.frames = frames
        self.warmup = warmup; self.threads = threads; self.decode = decode
    }

    /// Medians per stage for one pipeline, milliseconds.
    public struct Stages: Sendable, Codable, Equatable {
        public var preprocess: Double
        public var inference: Double
        public var postprocess: Double
        public var total: Double
        public var totalP90: Double
    }

    public struct Result: Sendable, Codable {
        public var frames: Int
        public var threads: Int
        public var images: Int
        public var input: [Int]
        public var tether: Stages
        public var python: Stages?
        public var pythonVersions: [String: String]
        /// Python's median total over Tether's (higher is better for Tether).
        public var speedup: Double?
        /// Detections per frame agree between the two pipelines on every frame.
        public var sameDetectionCounts: Bool?
    }

    private struct PeerOutput: Decodable {
        var preprocess_ms: [Double], inference_ms: [Double], postprocess_ms: [Double], detections: [Int]
        var onnxruntime: String, opencv: String
    }

    private static func stages(pre: [Double], inf: [Double], post: [Double]) -> Stages {
        let total = zip(zip(pre, inf), post).map { $0.0 + $0.1 + $1 }
        let t = LatencySummary(total)
        return Stages(preprocess: LatencySummary(pre).median, inference: LatencySummary(inf).median,
                      postprocess: LatencySummary(post).median, total: t.median, totalP90: t.p90)
    }

    /// Runs Tether, then the Python peer (skipped when `python` is false).
    public func run(python: Bool = true, log: (String) -> Void = { _ in }) throws -> Result {
        guard !imagePaths.isEmpty else { throw TetherError("no images to benchmark on", hint: "pass --images DIR with JPEG or PNG files") }
        let detector = try Detector(modelPath: modelPath, options: DetectorOptions(threads: threads, decode: decode))
        let images = try imagePaths.map { try ImageCodecs.read(path: $0) }
        var timings: [DetectionTimings] = [], counts: [Int] = []
        for k in 0..<(warmup + frames) {
            let (detections, timing) = try detector.detect(images[k % images.count])
            if k >= warmup { timings.append(timing); counts.append(detections.count) }
        }
        let ms = 1e3
        let tether = Self.stages(pre: timings.map { $0.preprocess * ms }, inf: timings.map { $0.inference * ms }, post: timings.map { $0.postprocess * ms })
        log(Self.line("tether", tether))
        var result = Result(frames: frames, threads: threads, images: images.count, input: [detector.inputHeight, detector.inputWidth],
                            tether: tether, python: nil, pythonVersions: [:], speedup: nil, sameDetectionCounts: nil)
        guard python else { return result }
        guard let root = TetherPaths.checkoutRoot() else { throw TetherError("cannot find benchmarks/detect_peer.py",
                                                                             hint: "run from the Tether checkout or set TETHER_HOME") }
        let out = try TetherPaths.run(try TetherPaths.python(), ["\(root)/benchmarks/detect_peer.py", "--model", modelPath, "--frames", "\(frames)",
                                                                 "--warmup", "\(warmup)", "--threads", "\(threads)", "--conf", "\(decode.confidence)",
                                                                 "--iou", "\(decode.iou)", "--max-det", "\(decode.maxDetections)", "--images"] + imagePaths)
        let peer: PeerOutput
        do { peer = try JSONDecoder().decode(PeerOutput.self, from: Data(out.utf8)) } catch {
            throw TetherError("cannot read the output of benchmarks/detect_peer.py: \(error)")
        }
        let py = Self.stages(pre: peer.preprocess_ms, inf: peer.inference_ms, post: peer.postprocess_ms)
        log(Self.line("python", py))
        result.python = py
        result.pythonVersions = ["onnxruntime": peer.onnxruntime, "opencv": peer.opencv]
        result.speedup = tether.total > 0 ? py.total / tether.total : nil
        result.sameDetectionCounts = peer.detections == counts
        return result
    }

    static func line(_ name: String, _ s: Stages) -> String {
        String(format: "  %-7@ pre-process %8.3f ms   inference %8.3f ms   post-process %8.3f ms   total %8.3f ms (p90 %8.3f)",
               name as NSString, s.preprocess, s.inference, s.postprocess, s.total, s.totalP90)
    }
}
