import Foundation

/// pycocotools' `eval` arrays, -1 where a category has no ground truth: precision and scores
/// stored category-major, [K × A × M × T × R] (each category's accumulate writes one contiguous
/// block), recall [T × K × A × M]. Read them with `precision(t:r:k:a:m:)` and
/// `recall(t:k:a:m:)`, which take pycocotools' index order.
public struct COCOAccumulation: Sendable {
    /// Category ids in sorted order (the K axis).
    public var categoryIDs: [Int]
    public var precision: [Double]
    public var recall: [Double]
    /// The score of the detection at which each precision entry was read.
    public var scores: [Double]

    var T: Int { COCOEvaluator.iouThresholds.count }
    var R: Int { COCOEvaluator.recallThresholds.count }
    var K: Int { categoryIDs.count }
    var A: Int { COCOEvaluator.areaRanges.count }
    var M: Int { COCOEvaluator.maxDetections.count }

    /// `precision[t, r, k, a, m]`.
    public func precision(t: Int, r: Int, k: Int, a: Int, m: Int) -> Double { precision[COCOAccumulation.index(t: t, r: r, k: k, a: a, m: m)] }

    /// The storage index of `[t, r, k, a, m]` for precision and scores.
    static func index(t: Int, r: Int, k: Int, a: Int, m: Int) -> Int {
        (((k * COCOEvaluator.areaRanges.count + a) * COCOEvaluator.maxDetections.count + m) * COCOEvaluator.iouThresholds.count + t)
            * COCOEvaluator.recallThresholds.count + r
    }
    /// `recall[t, k, a, m]`.
    public func recall(t: Int, k: Int, a: Int, m: Int) -> Double { recall[((t * K + k) * A + a) * M + m] }

    /// pycocotools' `_summarize`: the mean of the selected entries > -1 (numpy's pairwise sum),
    /// or -1 when there are none.
    func summarize(ap: Bool, iou: Int?, area: Int, maxDets: Int, categories: Range<Int>? = nil) -> Double {
        let ts = iou.map { $0..<($0 + 1) } ?? 0..<T
        let ks = categories ?? 0..<K
        var values: [Double] = []
        values.reserveCapacity(ts.count * (ap ? R : 1) * ks.count)
        for t in ts {
            if ap {
                for r in 0..<R { for k in ks { let v = precision(t: t, r: r, k: k, a: area, m: maxDets); if v > -1 { values.append(v) } } }
            } else {
                for k in ks { let v = recall(t: t, k: k, a: area, m: maxDets); if v > -1 { values.append(v) } }
            }
        }
        guard !values.isEmpty else { return -1 }
        return values.withUnsafeBufferPointer { numpyPairwiseSum($0) } / Double(values.count)
    }

    /// The 12 summary numbers in pycocotools' order (`COCOEvaluator.statNames`).
    public func stats() -> [Double] {
        let m100 = M - 1
        return [
            summarize(ap: true, iou: nil, area: 0, maxDets: m100),
            summarize(ap: true, iou: thresholdIndex(0.5), area: 0, maxDets: m100),
            summarize(ap: true, iou: thresholdIndex(0.75), area: 0, maxDets: m100),
            summarize(ap: true, iou: nil, area: 1, maxDets: m100),
            summarize(ap: true, iou: nil, area: 2, maxDets: m100),
            summarize(ap: true, iou: nil, area: 3, maxDets: m100),
            summarize(ap: false, iou: nil, area: 0, maxDets: 0),
            summarize(ap: false, iou: nil, area: 0, maxDets: 1),
            summarize(ap: false, iou: nil, area: 0, maxDets: m100),
            summarize(ap: false, iou: nil, area: 1, maxDets: m100),
            summarize(ap: false, iou: nil, area: 2, maxDets: m100),
            summarize(ap: false, iou: nil, area: 3, maxDets: m100),
        ]
    }

    /// `np.where(iouThr == p.iouThrs)`: the index of a threshold equal to `value` (pycocotools
    /// compares the doubles for equality).
    private func thresholdIndex(_ value: Double) -> Int {
        COCOEvaluator.iouThresholds.firstIndex(of: value)!
    }

    /// AP of one category (area all, 100 detections), over all IoU thresholds or one; nil
    /// without ground truth.
    public func meanPrecision(category k: Int, iou: Int? = nil) -> Double? {
        let v = summarize(ap: true, iou: iou, area: 0, maxDets: M - 1, categories: k..<(k + 1))
        return v > -1 ? v : nil
    }

    /// AR of one category (area all, 100 detections); nil without ground truth.
    public func meanRecall(category k: Int) -> Double? {
        let v = summarize(ap: false, iou: nil, area: 0, maxDets: M - 1, categories: k..<(k + 1))
        return v > -1 ? v : nil
    }

    /// Precision (or the score it was read at) at the 101 recall thresholds, area all, 100 detections.
    public func curve(category k: Int, iou t: Int, scores: Bool = false) -> [Double] {
        (0..<R).map { r in
            let i = COCOAccumulation.index(t: t, r: r, k: k, a: 0, m: M - 1)
            return scores ? self.scores[i] : precision[i]
        }
    }
}

/// numpy's sum of a contiguous float64 array (`pairwise_sum` in numpy's loops): blocks of up to
/// 128 values summed with 8 interleaved accumulators, larger arrays split in halves rounded to
/// a multiple of 8. Summing in this order makes the means bit-identical to `np.mean`.
func numpyPairwiseSum(_ a: UnsafeBufferPointer<Double>) -> Double {
    let n = a.count
    if n < 8 {
        var sum = -0.0
        for x in a { sum += x }
        return sum
    } else if n <= 128 {
        var r = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])
        var i = 8
        while i < n - n % 8 {
            r.0 += a[i]; r.1 += a[i + 1]; r.2 += a[i + 2]; r.3 += a[i + 3]
            r.4 += a[i + 4]; r.5 += a[i + 5]; r.6 += a[i + 6]; r.7 += a[i + 7]
            i += 8
        }
        var sum = ((r.0 + r.1) + (r.2 + r.3)) + ((r.4 + r.5) + (r.6 + r.7))
        while i < n { sum += a[i]; i += 1 }
        return sum
    } else {
        var half = n / 2
        half -= half % 8
        return numpyPairwiseSum(UnsafeBufferPointer(rebasing: a[0..<half])) + numpyPairwiseSum(UnsafeBufferPointer(rebasing: a[half...]))
    }
}

/// True and false positives at IoU 0.5 among detections with score ≥ the confidence.
public struct COCOConfidenceCounts: Sendable, Codable, Equatable {
    public var truePositives = 0
    public var falsePositives = 0
    /// Non-crowd ground truth (the recall denominator).
    public var groundTruth = 0
    public var falsePositivesPerImage = 0.0
    /// False positives / (true + false positives); 0 without detections.
    public var falsePositiveRate = 0.0
    public var precision = 0.0
    public var recall = 0.0

    public init() {}

    mutating func finish(images: Int) {
        let detected = truePositives + falsePositives
        falsePositivesPerImage = images > 0 ? Double(falsePositives) / Double(images) : 0
        falsePositiveRate = detected > 0 ? Double(falsePositives) / Double(detected) : 0
        precision = detected > 0 ? Double(truePositives) / Double(detected) : 0
        recall = groundTruth > 0 ? Double(truePositives) / Double(groundTruth) : 0
    }

    enum CodingKeys: String, CodingKey {
        case truePositives = "true_positives", falsePositives = "false_positives", groundTruth = "ground_truth"
        case falsePositivesPerImage = "false_positives_per_image", falsePositiveRate = "false_positive_rate", precision, recall
    }
}

/// One category's figures.
public struct COCOClassResult: Sendable, Codable, Equatable {
    public var categoryID: Int
    public var name: String
    /// AP@[.5:.95], AP50, AP75, AR@100 (area all); nil without non-crowd ground truth.
    public var ap: Double?
    public var ap50: Double?
    public var ap75: Double?
    public var ar100: Double?
    /// Non-crowd ground-truth boxes and detections of the category.
    public var groundTruth: Int
    public var detections: Int
    /// Precision at the 101 recall thresholds at IoU 0.5 and 0.75 (area all, 100 detections).
    public var precision50: [Double]?
    public var precision75: [Double]?
    /// The score at which each precision50 entry was read (0 where recall is not reached).
    public var scores50: [Double]?
    public var atConfidence: COCOConfidenceCounts

    enum CodingKeys: String, CodingKey {
        case categoryID = "category_id", name, ap, ap50, ap75, ar100, groundTruth = "ground_truth", detections
        case precision50 = "precision_iou50", precision75 = "precision_iou75", scores50 = "scores_iou50", atConfidence = "at_confidence"
    }
}

/// Seconds spent in each stage.
public struct COCOTimings: Sendable, Codable, Equatable {
    public var load: Double
    public var evaluate: Double
    public var accumulate: Double
    public var summarize: Double
    public var total: Double { load + evaluate + accumulate + summarize }

    enum CodingKeys: String, CodingKey { case load, evaluate, accumulate, summarize }
}

/// The result of a COCO box evaluation.
public struct COCOEvaluation: Sendable, Codable {
    /// The 12 summary numbers, in pycocotools' order (`statNames`), -1 where undefined.
    public var stats: [Double]
    public var perClass: [COCOClassResult]
    public var recallThresholds: [Double]
    /// The score threshold of the `atConfidence` counts.
    public var confidence: Double
    public var atConfidence: COCOConfidenceCounts
    public var images: Int
    public var groundTruthBoxes: Int
    public var detections: Int
    public var timings: COCOTimings
    /// The full arrays (not encoded).
    public var accumulation: COCOAccumulation

    /// AP@[.5:.95], AP50, AR@100.
    public var mAP: Double { stats[0] }
    public var ap50: Double { stats[1] }
    public var ar100: Double { stats[8] }

    /// The mean over categories with ground truth of precision at each recall threshold (IoU 0.5).
    public var meanPrecision50: [Double] {
        let curves = perClass.compactMap(\.precision50)
        guard !curves.isEmpty else { return [] }
        return (0..<recallThresholds.count).map { r in curves.reduce(0) { $0 + $1[r] } / Double(curves.count) }
    }

    enum CodingKeys: String, CodingKey {
        case stats, perClass = "per_class", recallThresholds = "recall_thresholds", confidence, atConfidence = "at_confidence"
        case images, groundTruthBoxes = "ground_truth_boxes", detections, timings
    }

    public init(stats: [Double], perClass: [COCOClassResult], recallThresholds: [Double], confidence: Double, atConfidence: COCOConfidenceCounts,
                images: Int, groundTruthBoxes: Int, detections: Int, timings: COCOTimings, accumulation: COCOAccumulation) {
        self.stats = stats; self.perClass = perClass; self.recallThresholds = recallThresholds; self.confidence = confidence
        self.atConfidence = atConfidence; self.images = images; self.groundTruthBoxes = groundTruthBoxes; self.detections = detections
        self.timings = timings; self.accumulation = accumulation
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stats = try c.decode([Double].self, forKey: .stats)
        perClass = try c.decode([COCOClassResult].self, forKey: .perClass)
        recallThresholds = try c.decode([Double].self, forKey: .recallThresholds)
        confidence = try c.decode(Double.self, forKey: .confidence)
        atConfidence = try c.decode(COCOConfidenceCounts.self, forKey: .atConfidence)
        images = try c.decode(Int.self, forKey: .images)
        groundTruthBoxes = try c.decode(Int.self, forKey: .groundTruthBoxes)
        detections = try c.decode(Int.self, forKey: .detections)
        timings = try c.decode(COCOTimings.self, forKey: .timings)
        accumulation = COCOAccumulation(categoryIDs: perClass.map(\.categoryID), precision: [], recall: [], scores: [])
    }

    /// pycocotools' printed summary: one line per number.
    public var table: String {
        let labels = [
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
            " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]",
            " Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ]",
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]",
        ]
        return zip(labels, stats).map { "\($0) = \(String(format: "%.3f", $1))" }.joined(separator: "\n")
    }
}
