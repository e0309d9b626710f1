import Foundation
import Testing
import TetherCore
@testable import TetherVision

/// The random hard cases of tests/peers/coco_peer.py with pycocotools' numbers, made once.
private let peerCases: (dir: String, count: Int)? = {
    guard let python = try? TetherPaths.python(), let root = TetherPaths.checkoutRoot() else { return nil }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-coco-cases-\(getpid())").path
    let count = 80
    do {
        _ = try TetherPaths.run(python, ["\(root)/tests/peers/coco_peer.py", "cases", "--seed", "7", "--count", "\(count)", "--out", dir])
    } catch {
        Issue.record("coco_peer.py failed: \(error)")
        return nil
    }
    return (dir, count)
}()

private struct Expected: Decodable {
    var stats: [Double]
    var per_class: [Double?]
    var precision_iou50: [[Double]]
    var faster_coco_eval: [Double]?
}

private func expected(_ dir: String, _ i: Int) throws -> Expected {
    try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: "\(dir)/case_\(i)_expected.json")))
}

@Suite struct COCOEvaluatorTests {
    @Test func thresholdsAreNumpysLinspace() {
        // np.linspace(.5, .95, 10) and np.linspace(0, 1, 101), bit for bit (hex from numpy).
        #expect(COCOEvaluator.iouThresholds.map { $0.bitPattern } == [
            0x3FE0000000000000, 0x3FE199999999999A, 0x3FE3333333333333, 0x3FE4CCCCCCCCCCCD, 0x3FE6666666666666,
            0x3FE8000000000000, 0x3FE999999999999A, 0x3FEB333333333333, 0x3FECCCCCCCCCCCCC, 0x3FEE666666666666,
        ])
        #expect(COCOEvaluator.recallThresholds.count == 101)
        #expect(COCOEvaluator.recallThresholds[100] == 1)
        #expect(COCOEvaluator.recallThresholds[3] == 3 * 0.01)
    }

    @Test func pairwiseSumFollowsNumpysBlocks() {
        // Values whose sum depends on the order: the pairwise order gives a different last bit
        // than a left-to-right sum for many lengths; check the structure on exact integers.
        let values = (0..<1000).map { Double($0) }
        #expect(values.withUnsafeBufferPointer { numpyPairwiseSum($0) } == 499_500)
        #expect([Double]().withUnsafeBufferPointer { numpyPairwiseSum($0) } == 0)
    }

    @Test func twelveNumbersEqualPycocotoolsOnRandomHardCases() throws {
        let cases = try #require(peerCases)
        var exact = 0
        for i in 0..<cases.count {
            let want = try expected(cases.dir, i)
            let got = try COCOEvaluator.evaluate(groundTruthPath: "\(cases.dir)/case_\(i)_gt.json", detectionsPath: "\(cases.dir)/case_\(i)_dt.json")
            #expect(got.stats == want.stats, "case \(i): \(got.stats) vs pycocotools \(want.stats)")
            if got.stats == want.stats { exact += 1 }
            #expect(got.perClass.map(\.ap) == want.per_class, "case \(i) per-class AP")
            #expect(got.perClass.map { $0.precision50 ?? [Double](repeating: -1, count: 101) } == want.precision_iou50, "case \(i) precision curves")
        }
        #expect(exact == cases.count)
    }

    @Test func twelveNumbersMatchFasterCocoEval() throws {
        // faster-coco-eval sums in a different order than numpy, so its numbers differ from
        // pycocotools' (and Tether's) in the last bits; they agree to 1e-12.
        let cases = try #require(peerCases)
        var compared = 0
        for i in 0..<cases.count {
            guard let faster = try expected(cases.dir, i).faster_coco_eval else { continue }
            let got = try COCOEvaluator.evaluate(groundTruthPath: "\(cases.dir)/case_\(i)_gt.json", detectionsPath: "\(cases.dir)/case_\(i)_dt.json")
            for (a, b) in zip(got.stats, faster) { #expect(abs(a - b) <= 1e-12, "case \(i): \(got.stats) vs faster-coco-eval \(faster)") }
            compared += 1
        }
        #expect(compared > cases.count / 2)
    }

    @Test func resultsDoNotDependOnDetectionOrderAcrossImages() throws {
        // Only the order within an (image, category) matters for ties; across images it does not.
        let gt = try COCOGroundTruth(imageIDs: [3, 1], categories: [COCOCategory(id: 5, name: "cup")], annotations: [
            COCOAnnotation(id: 1, imageID: 1, categoryID: 5, box: BoundingBox(x: 0, y: 0, width: 40, height: 40)),
            COCOAnnotation(id: 2, imageID: 3, categoryID: 5, box: BoundingBox(x: 10, y: 10, width: 20, height: 20)),
        ])
        let d1 = COCODetection(imageID: 1, categoryID: 5, box: BoundingBox(x: 1, y: 1, width: 40, height: 40), score: 0.5)
        let d2 = COCODetection(imageID: 3, categoryID: 5, box: BoundingBox(x: 50, y: 50, width: 20, height: 20), score: 0.5)
        let a = try COCOEvaluator.evaluate(groundTruth: gt, detections: COCODetections([d1, d2]))
        let b = try COCOEvaluator.evaluate(groundTruth: gt, detections: COCODetections([d2, d1]))
        #expect(a.stats == b.stats)
        #expect(a.atConfidence.truePositives == 1 && a.atConfidence.falsePositives == 1)
        #expect(a.atConfidence.falsePositivesPerImage == 0.5)
    }

    @Test func emptyResultsGiveZeroAPAndCategoriesWithoutGroundTruthMinusOne() throws {
        let gt = try COCOGroundTruth(imageIDs: [1], categories: [COCOCategory(id: 1, name: "a"), COCOCategory(id: 2, name: "b")], annotations: [
            COCOAnnotation(id: 1, imageID: 1, categoryID: 1, box: BoundingBox(x: 0, y: 0, width: 100, height: 100)),
        ])
        let r = try COCOEvaluator.evaluate(groundTruth: gt, detections: COCODetections([]))
        #expect(r.stats == [0, 0, 0, -1, -1, 0, 0, 0, 0, -1, -1, 0])
        #expect(r.perClass[0].ap == 0 && r.perClass[1].ap == nil)
    }
}
