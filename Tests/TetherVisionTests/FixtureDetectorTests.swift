import Foundation
import Testing
import TetherCore
@testable import TetherVision

/// The committed fixture detector (trained by tools/train_detector.py on MuJoCo scenes) on its
/// two test sets, through Tether's whole pipeline (libjpeg decode, letterbox, ONNX Runtime, YOLO
/// decoding and NMS, COCO evaluation), against the usual Python pipeline (cv2, numpy,
/// onnxruntime, pycocotools: tools/eval_detector_fixture.py) on the same files.
@Suite struct FixtureDetectorTests {
    @Test func tetherScoresTheFixtureAsThePythonPipelineDoes() throws {
        let root = try #require(TetherPaths.checkoutRoot())
        let fixtures = "\(root)/fixtures/vision"
        let json = try temporaryPath("fixture-eval.json")
        _ = try TetherPaths.run(try TetherPaths.python(), ["\(root)/tools/eval_detector_fixture.py", "--fixtures", fixtures, "--json", json])
        let peer = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: [String: Any]])
        var ours: [String: Double] = [:]
        for model in ["detector.onnx", "detector-e2e.onnx"] {
            var options = DetectorOptions()
            options.decode.confidence = 0.001  // as validation does: the whole precision–recall curve
            let detector = try Detector(modelPath: "\(fixtures)/\(model)", options: options)
            #expect(detector.classNames == ["cube", "ball", "cylinder", "cone"])
            for split in ["synthetic", "real"] {
                let result = try DetectorEvaluation.run(detector: detector, groundTruthPath: "\(fixtures)/\(split)/annotations.json")
                let theirs = try #require(peer["\(model)/\(split)"])
                let s = result.evaluation.stats
                for (name, index) in [("mAP50-95", 0), ("AP50", 1), ("AP75", 2), ("AR100", 8)] {
                    let expected = try #require(theirs[name] as? Double)
                    // The peer rounds to 4 decimals; Tether writes boxes to 1/1000 pixel.
                    #expect(abs(s[index] - expected) <= 2e-4, "\(model) \(split) \(name): Tether \(s[index]), Python \(expected)")
                }
                ours["\(model)/\(split)"] = s[0]
            }
        }
        // The fixture's point: real camera effects cost the detector mAP, but it still works.
        let sim = try #require(ours["detector.onnx/synthetic"]), real = try #require(ours["detector.onnx/real"])
        #expect(sim > 0.45 && real > 0.1 && sim - real > 0.1, "synthetic \(sim), real \(real)")
    }
}
