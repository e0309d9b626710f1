import ArgumentParser
import Foundation
import TetherCore
import TetherROS
import TetherVision

/// Options shared by `tether detect` and `tether bench detect`.
struct DetectorArguments: ParsableArguments {
    @Option(help: "Confidence threshold: keep boxes scoring above it (default 0.25; 0.001 with --live-gap, for COCO mAP).") var conf: Double?
    @Option(help: "IoU threshold of non-maximum suppression: suppress boxes overlapping a better one above it.") var iou = 0.7
    @Option(name: .customLong("max-det"), help: "At most this many detections per image.") var maxDet = 300
    @Flag(help: "Suppress across classes (default: within each class).") var agnostic = false
    @Option(help: "ONNX Runtime intra-op threads (0: ONNX Runtime's default).") var threads = 1

    func validate() throws {
        if let conf { guard (0...1).contains(conf) else { throw ValidationError("--conf must be in [0, 1]") } }
        guard (0...1).contains(iou) else { throw ValidationError("--iou must be in [0, 1]") }
        guard maxDet > 0 else { throw ValidationError("--max-det must be positive") }
        guard threads >= 0 else { throw ValidationError("--threads must not be negative") }
    }

    /// The decoding options, with `defaultConfidence` when --conf is not given.
    func decode(defaultConfidence: Double = 0.25) -> DecodeOptions {
        DecodeOptions(confidence: conf ?? defaultConfidence, iou: iou, maxDetections: maxDet, agnostic: agnostic)
    }
}

extension DetectorOutputLayout: ExpressibleByArgument {}

struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a YOLO ONNX detector on images (COCO results JSON) or as a ROS 2 node.",
        discussion: """
        Pre-processing and post-processing follow Ultralytics: letterbox (aspect kept, pad 114, \
        RGB, /255), YOLOv8 / YOLO11 outputs [1, 4 + classes, anchors] with class-aware NMS, or \
        end-to-end outputs [1, N, 6]. Class names come from the model's metadata or --names.

        Without --gt, image ids are 1, 2, … in file-name order and category_id is the class \
        index; with --gt, both come from the COCO ground truth (images by file_name, \
        categories by name). See docs/vision.md.

        Examples:
          tether detect --model fixtures/vision/detector.onnx --images data/val --out results.json
          tether detect --model m.onnx --images data/val --gt data/val.json --out results.json --annotate out/
          tether detect --ros2 --model m.onnx --input-topic /camera/image_raw --output-topic /detections

        With --live-gap DIR (and --ros2 --frames N): the detector gap measured live against \
        `tether emulate --camera front --camera-ground-truth`. Each frame arrives degraded \
        (--input-topic), as rendered (--rendered-topic) and with its exact boxes (--truth-topic); \
        frames are paired by header stamp, the detector runs on both images, and DIR gets \
        rendered/ and degraded/ (PNG frames, COCO annotations.json and detections.json) and \
        detection-gap.html / .json (sim = rendered, real = degraded). --conf defaults to 0.001 here, \
        COCO's convention (mAP over all scores); see docs/coco.md.
          tether detect --ros2 --loopback --model m.onnx --live-gap gap/ --frames 50
        """
    )

    @Option(help: "The detector (.onnx).") var model: String
    @Option(parsing: .upToNextOption, help: "Image files or directories of JPEG / PNG images.") var images: [String] = []
    @Option(help: "COCO results JSON to write.") var out: String?
    @Option(help: "Class names file (YAML, JSON or one per line); default: the model's metadata.") var names: String?
    @Option(help: "Input size (square) when the model's input is dynamic and its metadata has no imgsz.") var imgsz: Int?
    @Option(help: "Force the output layout: yolo or end-to-end (default: from the output shape).") var layout: DetectorOutputLayout?
    @Option(help: "COCO ground truth: take image ids and category ids from it.") var gt: String?
    @Option(help: "Directory to write each image with its boxes drawn (PNG).") var annotate: String?
    @Flag(help: "Run as a ROS 2 node: sensor_msgs/Image in, vision_msgs/Detection2DArray out.") var ros2 = false
    @Option(help: "ROS 2 image topic (--ros2).") var inputTopic = "/camera/image_raw"
    @Flag(help: "Keep all DDS traffic on 127.0.0.1 (--ros2; as tether emulate --loopback).") var loopback = false
    @Option(help: "ROS 2 detections topic (--ros2).") var outputTopic = "/detections"
    @Option(help: "ROS 2 domain id (default: $ROS_DOMAIN_ID, else 0).") var domain: UInt32?
    @Option(help: "Print latency statistics every N frames (--ros2).") var statsEvery = 100
    @Option(help: "Stop after N frames (--ros2; default: until SIGINT).") var frames: Int?
    @Option(help: ArgumentHelp("Measure the detector gap live (--ros2 --frames N): pair degraded, rendered and truth frames by stamp, write COCO sets "
        + "and detection-gap.html here.", valueName: "dir")) var liveGap: String?
    @Option(help: "With --live-gap: the rendered (undegraded) image topic (default: <input-topic>/rendered).") var renderedTopic: String?
    @Option(help: "With --live-gap: the ground-truth boxes topic (vision_msgs/Detection2DArray).") var truthTopic = "/camera/ground_truth"
    @Option(help: "With --live-gap: give up when no complete frame arrives for this long, s.") var truthTimeout = 10.0
    @Option(help: "With --live-gap: the confidence of the report's per-image counts (FP / image, precision, recall).") var gapConf = 0.25
    @OptionGroup var detector: DetectorArguments

    func validate() throws {
        if ros2 {
            guard images.isEmpty else { throw ValidationError("--images and --ros2 exclude each other") }
        } else {
            guard !images.isEmpty else { throw ValidationError("pass --images DIR|FILE… (or --ros2)") }
        }
        if let imgsz { guard imgsz > 0 else { throw ValidationError("--imgsz must be positive") } }
        guard statsEvery > 0 else { throw ValidationError("--stats-every must be positive") }
        if liveGap != nil {
            guard ros2 else { throw ValidationError("--live-gap runs as a ROS 2 node: add --ros2 (and --loopback / --domain as the emulator)") }
            guard let frames, frames > 0 else { throw ValidationError("--live-gap needs --frames N (how many frames to collect)") }
            guard truthTimeout > 0, truthTimeout.isFinite else { throw ValidationError("--truth-timeout must be a positive number of seconds") }
            guard (0...1).contains(gapConf) else { throw ValidationError("--gap-conf must be in [0, 1]") }
        } else if renderedTopic != nil {
            throw ValidationError("--rendered-topic applies with --live-gap")
        }
    }

    func run() throws {
        let detector = try report { () throws -> Detector in
            let classNames = try names.map { try ClassNames.read(path: $0) }
            // The live gap scores mAP, which needs the low-scoring detections too (as Ultralytics validates).
            let decode = self.detector.decode(defaultConfidence: liveGap == nil ? 0.25 : 0.001)
            let options = DetectorOptions(threads: self.detector.threads, decode: decode, layout: layout,
                                          classNames: classNames, imageSize: imgsz.map { ($0, $0) })
            return try Detector(modelPath: model, options: options)
        }
        emit("model \(model): input \(detector.inputWidth)×\(detector.inputHeight), output \(detector.outputShape) (\(detector.layout.rawValue)), "
            + "\(detector.classNames.count) classes")
        if let liveGap { try runLiveGap(detector, liveGap) } else if ros2 { try runNode(detector) } else { try runImages(detector) }
    }

    private func runLiveGap(_ detector: Detector, _ directory: String) throws {
        let participant = try report { try DDSParticipant(domain: domain, configuration: loopback ? DDSParticipant.loopbackConfiguration : nil) }
        let rendered = renderedTopic ?? inputTopic + "/rendered"
        let gap = try report {
            try LiveDetectionGap(detector: detector, participant: participant, directory: directory, degradedTopic: inputTopic, renderedTopic: rendered,
                                 truthTopic: truthTopic, confidence: gapConf)
        }
        let stop = StopFlag()
        let signals = onTerminationSignals { name in
            emit("\(name): stopping")
            stop.set()
        }
        defer { _ = signals }
        let total = frames ?? 1
        emit("live gap: pairing \(inputTopic) (degraded), \(rendered) (rendered) and \(truthTopic) (truth) by stamp, \(total) frames into \(directory)")
        try report {
            try gap.collect(frames: total, timeout: truthTimeout, shouldStop: { stop.isSet }) { event in
                switch event {
                case let .frame(index, _, truthBoxes, onRendered, onDegraded):
                    emit("[\(index)/\(total)] \(truthBoxes) truth boxes; detections at \(fmt(gapConf, 2)): rendered \(onRendered), degraded \(onDegraded)")
                case let .waiting(seconds, degraded, renderedCount, truth):
                    emit("waiting for a first frame (\(fmt(seconds, 0)) s): \(degraded) degraded, \(renderedCount) rendered, \(truth) truth messages")
                }
            }
        }
        let result = try report { try gap.write() }
        emit("\(result.verdict.uppercased()) over \(gap.frames) live frames (sim = rendered, real = degraded): \(result.headline)")
        emit("wrote \(directory)/rendered/, \(directory)/degraded/ (frames, annotations.json, detections.json), "
            + "\(directory)/detection-gap.html and detection-gap.json")
    }

    private func runImages(_ detector: Detector) throws {
        let files = try report { try images.flatMap { try ImageCodecs.imageFiles(at: $0) } }
        guard !files.isEmpty else {
            FileHandle.standardError.write(Data("error: no JPEG or PNG images in \(images.joined(separator: ", "))\n".utf8))
            throw ExitCode.failure
        }
        if let annotate { try FileManager.default.createDirectory(atPath: annotate, withIntermediateDirectories: true) }
        let groundTruth = try report { try gt.map { try DetectionGroundTruthIDs(path: $0, classNames: detector.classNames) } }
        let every = max(1, files.count / 10)
        let (entries, results) = try report {
            try DetectionBatch(detector: detector, groundTruth: groundTruth).run(files: files, annotate: annotate) { k, r in
                if (k + 1) % every == 0 || k + 1 == files.count {
                    emit("[\(k + 1)/\(files.count)] \(r.file): \(r.detections.count) detections, \(fmt(r.timings.total * 1e3, 2)) ms")
                }
            }
        }
        emit("\(entries.count) detections in \(files.count) images; latency per frame:")
        for line in StageLatencies(results.map(\.timings)).lines { emit("  " + line) }
        if let out {
            let data = try DetectionResultEntry.encode(entries)
            guard FileManager.default.createFile(atPath: out, contents: data) else {
                FileHandle.standardError.write(Data("error: \(out): cannot write the results file\n".utf8))
                throw ExitCode.failure
            }
            emit("wrote \(out) (COCO results: \(groundTruth == nil ? "image ids 1… in file order, category_id = class index" : "ids from \(gt!)"))")
        }
    }

    private func runNode(_ detector: Detector) throws {
        let participant = try report { try DDSParticipant(domain: domain, configuration: loopback ? DDSParticipant.loopbackConfiguration : nil) }
        let node = try report { try DetectorNode(detector: detector, participant: participant, inputTopic: inputTopic, outputTopic: outputTopic) }
        let stop = StopFlag()
        let signals = onTerminationSignals { name in
            emit("\(name): stopping")
            stop.set()
        }
        defer { _ = signals }
        emit("listening on \(inputTopic) (sensor_msgs/Image: \(ROSVision.supportedEncodings.joined(separator: ", "))), publishing \(outputTopic) "
            + "(vision_msgs/Detection2DArray); Ctrl-C to stop")
        let statsEvery = self.statsEvery
        func stats(_ title: String) {
            guard !node.timings.isEmpty else {
                emit("\(title): no frames processed, \(node.skipped) skipped (is anything publishing \(inputTopic) on this domain?)")
                return
            }
            let s = StageLatencies(node.timings)
            let l = LatencySummary(node.latencies)
            emit("\(title): \(node.timings.count) frames, \(node.skipped) skipped; receipt to publication median \(fmt(l.median * 1e3, 2)) ms p90 "
                + "\(fmt(l.p90 * 1e3, 2)) ms")
            for line in s.lines { emit("  " + line) }
        }
        try report {
            try node.run(maxFrames: frames, shouldStop: { stop.isSet }) { event in
                switch event {
                case .frame(let index, _, _, _):
                    if (index + 1) % statsEvery == 0 { stats("after \(index + 1) messages") }
                case .skipped(let index, let error):
                    emit("frame \(index) skipped: \(error)")
                }
            }
        }
        stats("at exit")
    }
}

/// A flag set from a signal handler and read by the node's loop.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
