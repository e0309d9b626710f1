import Foundation
import TetherCore
import TetherROS

/// The detector gap measured live: frames of one camera that arrive twice, as rendered and as
/// degraded by the camera, with the exact boxes of the objects in view (`tether emulate
/// --camera-ground-truth`), paired by header stamp; the detector runs on both images of each
/// pair, and the two test sets (same scenes, same truth, only the camera differs) are written as
/// COCO files and compared by `DetectionGapReport` (sim = rendered, real = degraded).
///
/// Written in the output directory: `rendered/` and `degraded/`, each with the frames (PNG,
/// lossless, so that no codec adds to the camera's degradation), `annotations.json` (COCO ground
/// truth) and `detections.json` (COCO results); `detection-gap.html` and `detection-gap.json`.
public final class LiveDetectionGap {
    /// What happened while collecting.
    public enum Event: Sendable {
        /// A pair was scored: its number (from 1), stamp (ns), truth boxes, and detections at or
        /// above the report's confidence on the rendered and the degraded image.
        case frame(index: Int, stamp: Int64, truthBoxes: Int, renderedDetections: Int, degradedDetections: Int)
        /// Still waiting for a first pair: seconds waited, messages seen on each topic.
        case waiting(seconds: Double, degraded: Int, rendered: Int, truth: Int)
    }

    public let detector: Detector
    public let directory: String
    public let degradedTopic: String
    public let renderedTopic: String
    public let truthTopic: String
    /// Detections counted in the progress lines and the report's per-confidence figures.
    public let confidence: Double
    private let degradedSubscriber: DDSSubscriber<SensorMsgs.Image>
    private let renderedSubscriber: DDSSubscriber<SensorMsgs.Image>
    private let truthSubscriber: DDSSubscriber<VisionMsgs.Detection2DArray>
    private var images: [COCOFile.Image] = []
    private var annotations: [COCOFile.Annotation] = []
    private var renderedResults: [DetectionResultEntry] = []
    private var degradedResults: [DetectionResultEntry] = []
    /// Messages seen per topic.
    public private(set) var received = (degraded: 0, rendered: 0, truth: 0)

    /// Subscribes to the three topics and creates `directory/rendered` and `directory/degraded`.
    public init(detector: Detector, participant: DDSParticipant, directory: String, degradedTopic: String = "/camera/image_raw",
                renderedTopic: String = "/camera/image_raw/rendered", truthTopic: String = "/camera/ground_truth", confidence: Double = 0.25) throws {
        self.detector = detector
        self.directory = directory
        self.degradedTopic = degradedTopic
        self.renderedTopic = renderedTopic
        self.truthTopic = truthTopic
        self.confidence = confidence
        for set in ["rendered", "degraded"] {
            do {
                try FileManager.default.createDirectory(atPath: "\(directory)/\(set)", withIntermediateDirectories: true)
            } catch {
                throw TetherError("cannot create \(directory)/\(set): \(error.localizedDescription)", at: directory, hint: "choose a writable directory")
            }
        }
        degradedSubscriber = try DDSSubscriber(participant, topic: degradedTopic, qos: .sensorData)
        renderedSubscriber = try DDSSubscriber(participant, topic: renderedTopic, qos: .sensorData)
        truthSubscriber = try DDSSubscriber(participant, topic: truthTopic)
    }

    /// Pairs scored so far.
    public var frames: Int { images.count }

    /// Collects `count` pairs. Throws when no pair is complete `timeout` seconds after the start
    /// or after the last pair, naming the topic that stays silent (no ground truth at all: the
    /// emulator runs without `--camera-ground-truth`).
    public func collect(frames count: Int, timeout: Double = 10, shouldStop: () -> Bool = { false }, onEvent: (Event) -> Void = { _ in }) throws {
        var degraded: [Int64: SensorMsgs.Image] = [:], rendered: [Int64: SensorMsgs.Image] = [:]
        var truth: [Int64: VisionMsgs.Detection2DArray] = [:]
        var lastProgress = DispatchTime.now().uptimeNanoseconds, lastWaitingLine = lastProgress
        var newestScored = Int64.min
        while images.count < count, !shouldStop() {
            var took = false
            while let (m, _) = try degradedSubscriber.take() { degraded[m.header.stamp.nanoseconds] = m; received.degraded += 1; took = true }
            while let (m, _) = try renderedSubscriber.take() { rendered[m.header.stamp.nanoseconds] = m; received.rendered += 1; took = true }
            while let (m, _) = try truthSubscriber.take() { truth[m.header.stamp.nanoseconds] = m; received.truth += 1; took = true }
            let complete = truth.keys.filter { degraded[$0] != nil && rendered[$0] != nil && $0 > newestScored }.sorted()
            for stamp in complete where images.count < count {
                try score(stamp: stamp, degraded: degraded[stamp]!, rendered: rendered[stamp]!, truth: truth[stamp]!, onEvent: onEvent)
                newestScored = stamp
                lastProgress = DispatchTime.now().uptimeNanoseconds
            }
            // A message older than the newest pair will not find its partners any more (best effort drops them):
            // forget them once a pair is scored (pairing only looks past the newest pair anyway).
            if !complete.isEmpty {
                degraded = degraded.filter { $0.key > newestScored }
                rendered = rendered.filter { $0.key > newestScored }
                truth = truth.filter { $0.key > newestScored }
            }
            let now = DispatchTime.now().uptimeNanoseconds
            let waited = Double(now - lastProgress) * 1e-9
            if waited > timeout { throw silence(waited: waited) }
            if images.isEmpty, Double(now - lastWaitingLine) * 1e-9 >= 2 {
                lastWaitingLine = now
                onEvent(.waiting(seconds: waited, degraded: received.degraded, rendered: received.rendered, truth: received.truth))
            }
            if !took { usleep(2000) }
        }
    }

    private func silence(waited: Double) -> TetherError {
        let counts = "\(received.degraded) on \(degradedTopic), \(received.rendered) on \(renderedTopic), \(received.truth) on \(truthTopic)"
        let when = images.isEmpty ? "" : " after \(images.count) pairs"
        if received.truth == 0 {
            return TetherError("no ground truth arrived on \(truthTopic) in \(String(format: "%.0f", waited)) s\(when) (messages: \(counts))",
                               at: truthTopic, hint: "start the virtual camera with its ground truth: tether emulate --camera front --camera-ground-truth "
                                   + "(and the same --loopback / ROS_DOMAIN_ID), or pass --truth-topic where it publishes")
        }
        let silent = [(received.degraded, degradedTopic, "--input-topic"), (received.rendered, renderedTopic, "--rendered-topic")].filter { $0.0 == 0 }
        return TetherError("no frame with the same stamp on all three topics in \(String(format: "%.0f", waited)) s\(when) (messages: \(counts))",
                           at: silent.map(\.1).joined(separator: ", ").nonEmpty ?? truthTopic,
                           hint: silent.isEmpty ? "the three topics must carry the same instants (one tether emulate --camera-ground-truth)"
                               : "nothing arrives on \(silent.map { "\($0.1) (\($0.2))" }.joined(separator: ", ")); point it at the emulator's topic")
    }

    private func score(stamp: Int64, degraded: SensorMsgs.Image, rendered: SensorMsgs.Image, truth: VisionMsgs.Detection2DArray,
                       onEvent: (Event) -> Void) throws {
        let degradedImage = try ROSVision.image(from: degraded, topic: degradedTopic)
        let renderedImage = try ROSVision.image(from: rendered, topic: renderedTopic)
        guard degradedImage.width == renderedImage.width, degradedImage.height == renderedImage.height else {
            throw TetherError("the frames of stamp \(stamp) differ in size: \(degradedImage.width)×\(degradedImage.height) on \(degradedTopic), "
                + "\(renderedImage.width)×\(renderedImage.height) on \(renderedTopic)", at: renderedTopic, hint: "both must be the same camera's frame")
        }
        let id = images.count + 1
        let file = String(format: "%06d.png", id)
        for (set, image) in [("rendered", renderedImage), ("degraded", degradedImage)] {
            try ImageCodecs.write(image.channels == 3 ? image : image.toRGB(), to: "\(directory)/\(set)/\(file)")
        }
        images.append(COCOFile.Image(id: id, fileName: file, width: renderedImage.width, height: renderedImage.height))
        for (k, d) in truth.detections.enumerated() {
            let name = d.results.first?.hypothesis.classID ?? ""
            guard let classIndex = detector.classNames.firstIndex(of: name) else {
                throw TetherError("ground truth class '\(name)' (\(d.id.isEmpty ? "detection \(k)" : "geom \(d.id)")) is not a class of the detector",
                                  at: truthTopic, hint: "the detector knows \(detector.classNames.joined(separator: ", ")); label the geom with one of "
                                      + "them (tether emulate --camera-labels GEOM=CLASS)")
            }
            let box = BoundingBox(centerX: d.bbox.center.position.x, centerY: d.bbox.center.position.y, width: d.bbox.sizeX, height: d.bbox.sizeY)
            annotations.append(COCOFile.Annotation(id: annotations.count + 1, imageID: id, categoryID: classIndex + 1, box: box))
        }
        let onRendered = try detector.detect(renderedImage).detections, onDegraded = try detector.detect(degradedImage).detections
        renderedResults += onRendered.map { DetectionResultEntry(imageID: id, categoryID: $0.classIndex + 1, detection: $0) }
        degradedResults += onDegraded.map { DetectionResultEntry(imageID: id, categoryID: $0.classIndex + 1, detection: $0) }
        onEvent(.frame(index: id, stamp: stamp, truthBoxes: truth.detections.count, renderedDetections: onRendered.filter { $0.score >= confidence }.count,
                       degradedDetections: onDegraded.filter { $0.score >= confidence }.count))
    }

    /// Writes both COCO sets and the gap report (sim = rendered, real = degraded); returns it.
    public func write() throws -> DetectionGapReport {
        guard !images.isEmpty else { throw TetherError("no frames were collected", at: directory, hint: "run the collection first") }
        let categories = detector.classNames.enumerated().map { COCOCategory(id: $0.offset + 1, name: $0.element) }
        let groundTruth = try COCOFile(images: images, annotations: annotations, categories: categories).json()
        for (set, results) in [("rendered", renderedResults), ("degraded", degradedResults)] {
            try write(groundTruth, to: "\(directory)/\(set)/annotations.json")
            try write(DetectionResultEntry.encode(results), to: "\(directory)/\(set)/detections.json")
        }
        let gap = try DetectionGapReport.load(simGroundTruth: "\(directory)/rendered/annotations.json", simDetections: "\(directory)/rendered/detections.json",
                                              realGroundTruth: "\(directory)/degraded/annotations.json",
                                              realDetections: "\(directory)/degraded/detections.json", confidence: confidence)
        try gap.html(generatedAt: Date()).write(to: "\(directory)/detection-gap.html")
        try write(gap.json(), to: "\(directory)/detection-gap.json")
        return gap
    }

    private func write(_ data: Data, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: data) else {
            throw TetherError("cannot write \(path)", at: directory, hint: "check that the directory is writable and the disk not full")
        }
    }
}

/// A COCO ground-truth file as written (images, boxes, categories).
struct COCOFile: Encodable {
    struct Image: Encodable {
        var id: Int
        var fileName: String
        var width: Int
        var height: Int
        enum CodingKeys: String, CodingKey { case id, fileName = "file_name", width, height }
    }

    struct Annotation: Encodable {
        var id: Int
        var imageID: Int
        var categoryID: Int
        var bbox: [Double]
        var area: Double
        var isCrowd = 0
        enum CodingKeys: String, CodingKey { case id, imageID = "image_id", categoryID = "category_id", bbox, area, isCrowd = "iscrowd" }

        init(id: Int, imageID: Int, categoryID: Int, box: BoundingBox) {
            self.id = id; self.imageID = imageID; self.categoryID = categoryID
            bbox = [box.x, box.y, box.width, box.height]
            area = box.area
        }
    }

    var images: [Image]
    var annotations: [Annotation]
    var categories: [COCOCategory]

    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
