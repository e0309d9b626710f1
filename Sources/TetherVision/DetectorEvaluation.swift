import Foundation
import TetherCore

/// A detector run over a COCO test set and scored: the images the ground truth lists (by
/// `file_name`, relative to the ground truth's folder), detected with the given options, and
/// evaluated exactly as pycocotools does. What `tether detect --gt` followed by `tether eval coco`
/// does, in one call (the demo and the fixture test use it).
///
/// For mAP the decoding threshold should be low (Ultralytics validates at confidence 0.001 and
/// 300 detections per image): precision–recall curves need the low-scoring detections. The
/// evaluation's own `confidence` only sets where the true / false positive counts are taken.
public enum DetectorEvaluation {
    public struct Result: Sendable {
        public var evaluation: COCOEvaluation
        /// The detections as COCO results entries (ids from the ground truth).
        public var entries: [DetectionResultEntry]
        /// Per-frame timings.
        public var timings: [DetectionTimings]
    }

    /// Detects every image of `groundTruthPath` with `detector` and evaluates the results.
    public static func run(detector: Detector, groundTruthPath: String, confidence: Double = 0.25,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        let ids = try DetectionGroundTruthIDs(path: groundTruthPath, classNames: detector.classNames)
        let folder = (groundTruthPath as NSString).deletingLastPathComponent
        let files = ids.fileNames.sorted { $0.key < $1.key }.map { (folder as NSString).appendingPathComponent($0.value) }
        let batch = DetectionBatch(detector: detector, groundTruth: ids)
        let total = files.count
        let (entries, images) = try batch.run(files: files) { k, _ in progress(k + 1, total) }
        let gt = try COCOGroundTruth.load(path: groundTruthPath)
        let detections = COCODetections(entries.map {
            COCODetection(imageID: $0.imageID, categoryID: $0.categoryID,
                          box: BoundingBox(x: $0.bbox[0], y: $0.bbox[1], width: $0.bbox[2], height: $0.bbox[3]), score: $0.score)
        })
        let evaluation = try COCOEvaluator.evaluate(groundTruth: gt, detections: detections, confidence: confidence,
                                                    detectionsSource: "detections of \(detector.modelPath)")
        return Result(evaluation: evaluation, entries: entries, timings: images.map(\.timings))
    }
}
