import Testing
@testable import TetherVision

@Suite struct BoundingBoxTests {
    @Test func iouOfOverlappingBoxes() {
        let a = BoundingBox(x: 0, y: 0, width: 10, height: 10)
        let b = BoundingBox(x: 5, y: 0, width: 10, height: 10)
        #expect(abs(a.iou(b) - 50.0 / 150.0) < 1e-12)
        #expect(a.iou(a) == 1)
        #expect(a.iou(BoundingBox(x: 10, y: 0, width: 5, height: 5)) == 0)
        #expect(a.iou(BoundingBox(x: 2, y: 2, width: -1, height: 3)) == 0)
    }

    @Test func cornersCentreAndClip() {
        let c = BoundingBox(centerX: 5, centerY: 6, width: 4, height: 2)
        #expect(c == BoundingBox(x1: 3, y1: 5, x2: 7, y2: 7))
        #expect(BoundingBox(x: -3, y: 2, width: 10, height: 20).clipped(width: 5, height: 8) == BoundingBox(x1: 0, y1: 2, x2: 5, y2: 8))
    }
}
