import ArgumentParser
import Foundation
import TetherCore
import TetherVision

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate detectors: COCO box AP / AR, the same numbers as pycocotools.",
        subcommands: [COCO.self]
    )

    struct COCO: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "coco",
            abstract: "COCO bounding-box AP and AR of a results file against a ground-truth file.",
            discussion: """
            Computes pycocotools' 12 summary numbers (COCOeval, iouType bbox) bit for bit, and \
            per class AP, precision / recall curves and the true / false positives at a \
            confidence. See docs/coco.md.

            Examples:
              tether eval coco --gt instances_val2017.json --dt detections.json
              tether eval coco --gt gt.json --dt dt.json --json --confidence 0.5 > eval.json
            """
        )

        @Option(help: "COCO ground-truth file (images, annotations, categories).") var gt: String
        @Option(help: "COCO results file (a list of image_id, category_id, bbox, score).") var dt: String
        @Option(help: "Score threshold for the true / false positive counts (IoU 0.5).") var confidence = 0.25
        @Flag(help: "Per class AP in the text output.") var perClass = false
        @Flag(help: "Print the result as JSON: stats (pycocotools' order), per class AP and curves, counts at the confidence, timings.") var json = false

        func run() throws {
            let result = try report { try COCOEvaluator.evaluate(groundTruthPath: gt, detectionsPath: dt, confidence: confidence) }
            if json { try printJSON(result); return }
            print(result.table)
            if perClass {
                print("per class (area all, 100 detections):")
                print("  \("class".padding(toLength: 20, withPad: " ", startingAt: 0))     AP   AP50   AP75  AR100     gt    dets")
                for c in result.perClass {
                    func f(_ v: Double?) -> String { v.map { String(format: "%6.3f", $0) } ?? "     —" }
                    print("  \(String(c.name.prefix(20)).padding(toLength: 20, withPad: " ", startingAt: 0)) \(f(c.ap)) \(f(c.ap50)) \(f(c.ap75)) "
                        + "\(f(c.ar100)) \(String(format: "%6d  %6d", c.groundTruth, c.detections))")
                }
            }
            let a = result.atConfidence
            print("at confidence \(fmt(confidence, 2)), IoU 0.5: \(a.truePositives) TP, \(a.falsePositives) FP (\(fmt(a.falsePositivesPerImage, 3)) per "
                + "image, false-positive rate \(fmt(a.falsePositiveRate, 3))), precision \(fmt(a.precision, 3)), recall \(fmt(a.recall, 3))")
            let t = result.timings
            print("\(result.images) images, \(result.groundTruthBoxes) boxes, \(result.detections) detections; load \(fmt(t.load)) s, evaluate "
                + "\(fmt(t.evaluate)) s, accumulate \(fmt(t.accumulate)) s, summarize \(fmt(t.summarize)) s")
        }
    }
}

/// `tether report`'s options for a detector's sim-vs-real gap (COCO sets).
struct DetectionGapOptions: ParsableArguments {
    @Option(help: "Detector gap: COCO ground truth of the synthetic (sim) test set.") var visionSimGt: String?
    @Option(help: "Detector gap: COCO results on the synthetic test set.") var visionSimDt: String?
    @Option(help: "Detector gap: COCO ground truth of the real test set.") var visionRealGt: String?
    @Option(help: "Detector gap: COCO results on the real test set.") var visionRealDt: String?
    @Option(help: "Detector gap: score threshold for false positives per image.") var visionConfidence = 0.25

    var isSet: Bool { [visionSimGt, visionSimDt, visionRealGt, visionRealDt].contains { $0 != nil } }

    /// Not `validate()`: ArgumentParser would run that for every `tether report`.
    func check() throws {
        guard visionSimGt != nil, visionSimDt != nil, visionRealGt != nil, visionRealDt != nil else {
            throw ValidationError("a detector gap report needs all of --vision-sim-gt, --vision-sim-dt, --vision-real-gt and --vision-real-dt")
        }
    }

    func run(out: String, json: String?) throws {
        guard let visionSimGt, let visionSimDt, let visionRealGt, let visionRealDt else { return }
        let gap = try report {
            try DetectionGapReport.load(simGroundTruth: visionSimGt, simDetections: visionSimDt, realGroundTruth: visionRealGt,
                                        realDetections: visionRealDt, confidence: visionConfidence)
        }
        try report { try gap.html(generatedAt: Date()).write(to: out) }
        if let json {
            try writeOutput(to: json, what: "the JSON report") { try gap.json() }
        }
        HistoryHooks.detection(robot: "vision", model: visionSimDt, set: "synthetic: \(visionSimGt)", stats: gap.sim.stats, images: gap.sim.images,
                               artifact: json ?? out)
        HistoryHooks.detection(robot: "vision", model: visionRealDt, set: "real: \(visionRealGt)", stats: gap.real.stats, images: gap.real.images,
                               artifact: json ?? out)
        print("\(gap.verdict.uppercased()): \(gap.headline)")
        let worst = gap.classes.filter { $0.gapPoints != nil }.sorted { $0.gapPoints! < $1.gapPoints! }.prefix(5)
        if !worst.isEmpty {
            print("  largest per-class drops: " + worst.map { "\($0.name) \(fmt($0.gapPoints!, 1)) pts" }.joined(separator: ", "))
        }
        print("  FP / image at \(fmt(visionConfidence, 2)): sim \(fmt(gap.sim.atConfidence.falsePositivesPerImage)), real "
            + "\(fmt(gap.real.atConfidence.falsePositivesPerImage))")
        print("  report \(out)" + (json.map { ", JSON \($0)" } ?? ""))
    }
}
