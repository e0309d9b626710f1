/// Vision vocabulary shared by the detector, the ROS 2 node and COCO evaluation.
///
/// Boxes are in pixels of the image they refer to, with COCO's convention: (x, y) is the top-left
/// corner, x to the right, y down, and a box covers [x, x + width) × [y, y + height).

/// An axis-aligned box in pixels, COCO's `[x, y, width, height]`.
public struct BoundingBox: Sendable, Equatable, Hashable, Codable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    /// From corners (x1, y1) top-left and (x2, y2) bottom-right.
    public init(x1: Double, y1: Double, x2: Double, y2: Double) {
        self.init(x: x1, y: y1, width: x2 - x1, height: y2 - y1)
    }

    /// From a centre and a size (YOLO's `cx, cy, w, h`).
    public init(centerX: Double, centerY: Double, width: Double, height: Double) {
        self.init(x: centerX - width / 2, y: centerY - height / 2, width: width, height: height)
    }

    public var x2: Double { x + width }
    public var y2: Double { y + height }
    public var centerX: Double { x + width / 2 }
    public var centerY: Double { y + height / 2 }
    /// Area, zero for degenerate (or negative-size) boxes.
    public var area: Double { max(0, width) * max(0, height) }

    /// Intersection over union; 0 when either box is empty.
    public func iou(_ other: BoundingBox) -> Double {
        let iw = min(x2, other.x2) - max(x, other.x)
        let ih = min(y2, other.y2) - max(y, other.y)
        guard iw > 0, ih > 0 else { return 0 }
        let intersection = iw * ih
        let union = area + other.area - intersection
        return union > 0 ? intersection / union : 0
    }

    /// The box clipped to an image of the given size.
    public func clipped(width imageWidth: Double, height imageHeight: Double) -> BoundingBox {
        let cx1 = min(max(x, 0), imageWidth), cy1 = min(max(y, 0), imageHeight)
        let cx2 = min(max(x2, 0), imageWidth), cy2 = min(max(y2, 0), imageHeight)
        return BoundingBox(x1: cx1, y1: cy1, x2: cx2, y2: cy2)
    }
}

/// One detected object: a box in the original image's pixels, a class index and a confidence.
public struct Detection: Sendable, Equatable, Codable {
    public var box: BoundingBox
    /// Index into the detector's class names (0-based, as the model outputs it).
    public var classIndex: Int
    /// Confidence in [0, 1].
    public var score: Double

    public init(box: BoundingBox, classIndex: Int, score: Double) {
        self.box = box; self.classIndex = classIndex; self.score = score
    }
}
