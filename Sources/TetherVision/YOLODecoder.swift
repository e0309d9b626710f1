import TetherCore

/// The layout of a detector's output tensor.
public enum DetectorOutputLayout: String, Sendable, CaseIterable, Codable {
    /// YOLOv8 / YOLO11: `[1, 4 + classes, anchors]`, rows `cx, cy, w, h` (input pixels) then one
    /// score per class (already sigmoid). Needs non-maximum suppression.
    case yolo
    /// End-to-end models (YOLOv10, YOLO26, NMS exported in the graph): `[1, N, 6]`, each row
    /// `x1, y1, x2, y2, score, class`. Only thresholds and the detection cap apply.
    case endToEnd = "end-to-end"

    /// The layout a static output shape implies, or nil when the shape fits neither.
    ///
    /// `[1, N, 6]` with `N > 6` is end-to-end; `[1, C, A]` with `C ≥ 5` and `A > C` (anchors
    /// outnumber channels in every YOLO model) is `yolo`. A shape both could read (`[1, 6, 6]`)
    /// is ambiguous: force the layout.
    public static func infer(shape: [Int]) -> DetectorOutputLayout? {
        guard shape.count == 3, shape[0] == 1 || shape[0] == -1, shape[1] > 0, shape[2] > 0 else { return nil }
        if shape[2] == 6 && shape[1] > 6 { return .endToEnd }
        if shape[1] >= 5 && shape[2] > shape[1] { return .yolo }
        return nil
    }
}

/// Thresholds and caps applied when decoding a detector's output (Ultralytics' defaults).
public struct DecodeOptions: Sendable, Equatable, Codable {
    /// Keep a box when its best class score is strictly above this.
    public var confidence: Double = 0.25
    /// Suppress a box whose IoU with a better kept box is strictly above this.
    public var iou: Double = 0.7
    /// At most this many detections per image, best first.
    public var maxDetections: Int = 300
    /// Suppress across classes (true) instead of within each class (false, the default).
    public var agnostic: Bool = false
    /// At most this many boxes (the best) enter suppression.
    public var maxBoxesForNMS: Int = 30000

    public init(confidence: Double = 0.25, iou: Double = 0.7, maxDetections: Int = 300, agnostic: Bool = false, maxBoxesForNMS: Int = 30000) {
        self.confidence = confidence; self.iou = iou; self.maxDetections = maxDetections
        self.agnostic = agnostic; self.maxBoxesForNMS = maxBoxesForNMS
    }
}

/// Decoding of YOLO output tensors into detections in the model's input pixels.
public enum YOLODecoder {
    /// Decodes `[1, 4 + classes, anchors]` (channel-major): per anchor the best class (one label
    /// per box), kept when its score is above the threshold, the best `maxBoxesForNMS` of them
    /// suppressed (per class unless agnostic), at most `maxDetections` returned, best first.
    public static func decodeYOLO(_ output: UnsafeBufferPointer<Float>, classes: Int, anchors: Int,
                                  options: DecodeOptions = .init()) -> [Detection] {
        precondition(classes > 0 && output.count >= (4 + classes) * anchors, "the output needs (4 + \(classes)) × \(anchors) values")
        // Best class per anchor, one class row at a time (contiguous reads).
        var best = [Float](repeating: -.infinity, count: anchors)
        var bestClass = [Int32](repeating: 0, count: anchors)
        best.withUnsafeMutableBufferPointer { best in
            bestClass.withUnsafeMutableBufferPointer { bestClass in
                for c in 0..<classes {
                    let row = output.baseAddress! + (4 + c) * anchors
                    for a in 0..<anchors where row[a] > best[a] {
                        best[a] = row[a]; bestClass[a] = Int32(c)
                    }
                }
            }
        }
        let threshold = Float(options.confidence)
        var candidates: [Detection] = []
        for a in 0..<anchors where best[a] > threshold {
            let cx = Double(output[a]), cy = Double(output[anchors + a])
            let w = Double(output[2 * anchors + a]), h = Double(output[3 * anchors + a])
            candidates.append(Detection(box: BoundingBox(centerX: cx, centerY: cy, width: w, height: h),
                                        classIndex: Int(bestClass[a]), score: Double(best[a])))
        }
        return NonMaximumSuppression.apply(candidates, options: options)
    }

    /// Decodes `[1, rows, 6]` end-to-end output: rows with score above the threshold, best first,
    /// at most `maxDetections`.
    public static func decodeEndToEnd(_ output: UnsafeBufferPointer<Float>, rows: Int, options: DecodeOptions = .init()) -> [Detection] {
        precondition(output.count >= rows * 6, "the output needs \(rows) × 6 values")
        var out: [Detection] = []
        for r in 0..<rows {
            let p = r * 6
            let score = Double(output[p + 4])
            guard score > options.confidence else { continue }
            out.append(Detection(box: BoundingBox(x1: Double(output[p]), y1: Double(output[p + 1]),
                                                  x2: Double(output[p + 2]), y2: Double(output[p + 3])),
                                 classIndex: Int(output[p + 5].rounded()), score: score))
        }
        return Array(stableSortedByScore(out).prefix(max(0, options.maxDetections)))
    }

    static func stableSortedByScore(_ items: [Detection]) -> [Detection] {
        items.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }
            .map(\.element)
    }
}

/// Greedy non-maximum suppression, as `torchvision.ops.nms` computes it: boxes in decreasing
/// score order; a box is dropped when its IoU with a kept box is strictly above the threshold.
///
/// Class-aware by default: boxes only suppress boxes of their own class. (Ultralytics gets the
/// same effect by shifting each class's boxes by class × 7680 pixels before one suppression;
/// the two agree for every box inside a 7680-pixel image.) Since kept boxes come out best
/// first, the work stops once `maxDetections` are kept: O(n log n) to sort plus O(n · k) IoUs
/// for k kept boxes.
public enum NonMaximumSuppression {
    /// The detections that survive, best first, at most `options.maxDetections`.
    public static func apply(_ detections: [Detection], options: DecodeOptions) -> [Detection] {
        let limit = max(0, options.maxDetections)
        guard limit > 0, !detections.isEmpty else { return [] }
        let ordered = Array(YOLODecoder.stableSortedByScore(detections).prefix(max(0, options.maxBoxesForNMS)))
        var kept: [Detection] = []
        // Kept boxes grouped by class (one group when agnostic), as corners and areas.
        var groups: [Int: [(x1: Double, y1: Double, x2: Double, y2: Double, area: Double)]] = [:]
        kept.reserveCapacity(min(limit, ordered.count))
        for d in ordered {
            let key = options.agnostic ? 0 : d.classIndex
            let b = d.box
            let candidate = (x1: b.x, y1: b.y, x2: b.x2, y2: b.y2, area: max(0, b.width) * max(0, b.height))
            var suppressed = false
            for k in groups[key, default: []] {
                let iw = min(k.x2, candidate.x2) - max(k.x1, candidate.x1)
                let ih = min(k.y2, candidate.y2) - max(k.y1, candidate.y1)
                guard iw > 0, ih > 0 else { continue }
                let inter = iw * ih
                let union = k.area + candidate.area - inter
                if union > 0 && inter / union > options.iou { suppressed = true; break }
            }
            if suppressed { continue }
            kept.append(d)
            groups[key, default: []].append(candidate)
            if kept.count == limit { break }
        }
        return kept
    }
}
