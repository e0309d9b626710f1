import Foundation
import PropertyBased
import Testing
import TetherCore
@testable import TetherVision

/// Textbook NMS: in score order, each box not yet suppressed suppresses every later box of its
/// class (any class when agnostic) with IoU above the threshold; the first `maxDetections` survive.
func bruteForceNMS(_ detections: [Detection], options: DecodeOptions) -> [Detection] {
    let order = YOLODecoder.stableSortedByScore(detections)
    var suppressed = [Bool](repeating: false, count: order.count)
    var kept: [Detection] = []
    for i in order.indices where !suppressed[i] {
        kept.append(order[i])
        for j in (i + 1)..<max(i + 1, order.count) where options.agnostic || order[j].classIndex == order[i].classIndex {
            if order[i].box.iou(order[j].box) > options.iou { suppressed[j] = true }
        }
    }
    return Array(kept.prefix(options.maxDetections))
}

func randomDetections(seed: Int, count: Int, classes: Int = 3) -> [Detection] {
    var random = TestRandom(seed: UInt64(seed))
    // Boxes clustered around a few centres, so that suppression has work to do.
    let centres = (0..<4).map { _ in (random.uniform() * 300, random.uniform() * 300) }
    return (0..<count).map { k in
        let c = centres[k % centres.count]
        let w = 10 + random.uniform() * 60, h = 10 + random.uniform() * 60
        return Detection(box: BoundingBox(centerX: c.0 + random.uniform() * 30, centerY: c.1 + random.uniform() * 30, width: w, height: h),
                         classIndex: random.int(0...(classes - 1)), score: (random.uniform() * 1000).rounded() / 1000)
    }
}

@Suite struct DecodeTests {
    @Test func nmsMatchesBruteForce() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...1_000_000), Gen.int(in: 0...150), Gen.double(in: 0.05...0.95), Gen.int(in: 0...3)) { seed,
            count, iou, mode in
            let options = DecodeOptions(iou: iou, maxDetections: mode == 3 ? 5 : 300, agnostic: mode % 2 == 1)
            let detections = randomDetections(seed: seed, count: count)
            let fast = NonMaximumSuppression.apply(detections, options: options)
            let slow = bruteForceNMS(detections, options: options)
            #expect(fast == slow, "seed \(seed) count \(count) iou \(iou) mode \(mode)")
            // Invariants: best first; no two kept boxes of a class overlap above the threshold.
            #expect(zip(fast, fast.dropFirst()).allSatisfy { $0.score >= $1.score })
            for (i, a) in fast.enumerated() {
                for b in fast[(i + 1)...] where options.agnostic || a.classIndex == b.classIndex { #expect(a.box.iou(b.box) <= iou) }
            }
        }
    }

    @Test func capOnBoxesEnteringNMSKeepsTheBest() {
        let detections = randomDetections(seed: 5, count: 100)
        let capped = NonMaximumSuppression.apply(detections, options: DecodeOptions(iou: 1, maxBoxesForNMS: 10))
        #expect(capped == Array(YOLODecoder.stableSortedByScore(detections).prefix(10)))
    }

    @Test func layoutFromShape() {
        #expect(DetectorOutputLayout.infer(shape: [1, 84, 8400]) == .yolo)
        #expect(DetectorOutputLayout.infer(shape: [1, 6, 2100]) == .yolo)
        #expect(DetectorOutputLayout.infer(shape: [1, 300, 6]) == .endToEnd)
        #expect(DetectorOutputLayout.infer(shape: [1, 6, 6]) == nil)
        #expect(DetectorOutputLayout.infer(shape: [1, 84]) == nil)
    }

    /// A random `[1, 4 + classes, anchors]` output with boxes near a few centres and sparse high scores.
    static func randomOutput(seed: UInt64, classes: Int, anchors: Int) -> [Float] {
        var random = TestRandom(seed: seed)
        var out = [Float](repeating: 0, count: (4 + classes) * anchors)
        for a in 0..<anchors {
            let centre = Double(a % 7) * 40 + 20
            out[a] = Float(centre + random.uniform() * 20)
            out[anchors + a] = Float(centre * 0.7 + random.uniform() * 20)
            out[2 * anchors + a] = Float(10 + random.uniform() * 50)
            out[3 * anchors + a] = Float(10 + random.uniform() * 50)
            for c in 0..<classes {
                let r = random.uniform()
                out[(4 + c) * anchors + a] = Float(r < 0.8 ? r * 0.2 : r)
            }
        }
        return out
    }

    struct PeerRows: Decodable { var rows: [[Double]] }

    @Test(arguments: [false, true]) func yoloDecodeMatchesNumpyPeer(agnostic: Bool) throws {
        for (seed, classes, anchors) in [(UInt64(1), 3, 500), (2, 1, 300), (3, 80, 2100)] {
            let output = Self.randomOutput(seed: seed, classes: classes, anchors: anchors)
            let path = try temporaryPath("output.f32")
            try writeFloats(output, to: path)
            let options = DecodeOptions(confidence: 0.3, iou: 0.5, maxDetections: 100, agnostic: agnostic)
            let ours = output.withUnsafeBufferPointer { YOLODecoder.decodeYOLO($0, classes: classes, anchors: anchors, options: options) }
            let peer = try visionPeer(["op": "decode", "output": path, "shape": [1, 4 + classes, anchors], "conf": 0.3, "iou": 0.5,
                                       "max_det": 100, "agnostic": agnostic], as: PeerRows.self)
            #expect(ours.count == peer.rows.count, "seed \(seed): \(ours.count) vs numpy \(peer.rows.count)")
            #expect(!ours.isEmpty)
            for (d, row) in zip(ours, peer.rows) {
                #expect(abs(d.box.x - row[0]) < 1e-3 && abs(d.box.y - row[1]) < 1e-3 && abs(d.box.x2 - row[2]) < 1e-3 && abs(d.box.y2 - row[3]) < 1e-3)
                #expect(abs(d.score - row[4]) < 1e-6 && d.classIndex == Int(row[5]))
            }
        }
    }

    @Test func endToEndDecodeMatchesNumpyPeer() throws {
        var random = TestRandom(seed: 9)
        let rows = 50
        var output = [Float]()
        for _ in 0..<rows {
            let x = Float(random.uniform() * 300), y = Float(random.uniform() * 300)
            output += [x, y, x + 20, y + 30, Float(random.uniform()), Float(random.int(0...4))]
        }
        let path = try temporaryPath("e2e.f32")
        try writeFloats(output, to: path)
        let options = DecodeOptions(confidence: 0.4, maxDetections: 10)
        let ours = output.withUnsafeBufferPointer { YOLODecoder.decodeEndToEnd($0, rows: rows, options: options) }
        let peer = try visionPeer(["op": "decode", "layout": "end-to-end", "output": path, "shape": [1, rows, 6], "conf": 0.4, "iou": 0.7, "max_det": 10],
                                  as: PeerRows.self)
        #expect(ours.count == 10 && peer.rows.count == 10)
        for (d, row) in zip(ours, peer.rows) {
            #expect(abs(d.box.x - row[0]) < 1e-4 && abs(d.score - row[4]) < 1e-6 && d.classIndex == Int(row[5]))
        }
    }
}
