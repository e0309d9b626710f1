import Foundation
import TetherCore
import TetherReport

/// A detector's sim-to-real gap: the same COCO evaluation on a synthetic (sim) test set and a
/// real one, side by side: mAP@[.5:.95], AP50, AR@100, AP per class with the gap in points,
/// false positives per image at a confidence, score and detection-count histograms, and the
/// precision-recall curves of both. Rendered as one HTML file (TetherCore's report library)
/// with a JSON twin.
public struct DetectionGapReport: Sendable, Codable {
    /// One test set's figures.
    public struct SetSummary: Sendable, Codable {
        public var groundTruth: String
        public var detections: String
        public var images: Int
        public var groundTruthBoxes: Int
        public var detectionCount: Int
        /// pycocotools' 12 numbers.
        public var stats: [Double]
        public var mAP: Double
        public var ap50: Double
        public var ar100: Double
        /// TP / FP at the report's confidence, IoU 0.5.
        public var atConfidence: COCOConfidenceCounts
        /// Mean over classes of precision at the 101 recall thresholds, IoU 0.5.
        public var meanPrecision50: [Double]
        /// Detections per score bin (bins of `scoreBinEdges`).
        public var scoreHistogram: [Int]
        /// Images with 0, 1, 2, … detections at or above the confidence (last bin: that many or more).
        public var detectionsPerImageHistogram: [Int]

        enum CodingKeys: String, CodingKey {
            case groundTruth = "ground_truth", detections, images, groundTruthBoxes = "ground_truth_boxes", detectionCount = "detection_count"
            case stats, mAP = "map", ap50, ar100, atConfidence = "at_confidence", meanPrecision50 = "mean_precision_iou50"
            case scoreHistogram = "score_histogram", detectionsPerImageHistogram = "detections_per_image_histogram"
        }
    }

    /// One class on both sets; gaps are real − sim in percentage points.
    public struct ClassGap: Sendable, Codable {
        public var categoryID: Int
        public var name: String
        public var simAP: Double?
        public var realAP: Double?
        public var simAP50: Double?
        public var realAP50: Double?
        public var gapPoints: Double?
        public var simFalsePositivesPerImage: Double
        public var realFalsePositivesPerImage: Double

        enum CodingKeys: String, CodingKey {
            case categoryID = "category_id", name, simAP = "sim_ap", realAP = "real_ap", simAP50 = "sim_ap50", realAP50 = "real_ap50"
            case gapPoints = "gap_points", simFalsePositivesPerImage = "sim_fp_per_image", realFalsePositivesPerImage = "real_fp_per_image"
        }
    }

    public var confidence: Double
    public var sim: SetSummary
    public var real: SetSummary
    public var classes: [ClassGap]
    /// real − sim, percentage points.
    public var mAPGapPoints: Double
    public var ap50GapPoints: Double
    public var ar100GapPoints: Double
    public var recallThresholds: [Double]
    public var scoreBinEdges: [Double]
    /// pass: real mAP within 2 points of sim; warn: within 5; fail: more.
    public var verdict: String

    enum CodingKeys: String, CodingKey {
        case confidence, sim, real, classes, mAPGapPoints = "map_gap_points", ap50GapPoints = "ap50_gap_points", ar100GapPoints = "ar100_gap_points"
        case recallThresholds = "recall_thresholds", scoreBinEdges = "score_bin_edges", verdict
    }

    /// Loads and evaluates both sets.
    public static func load(simGroundTruth: String, simDetections: String, realGroundTruth: String, realDetections: String,
                            confidence: Double = 0.25) throws -> DetectionGapReport {
        let simGT = try COCOGroundTruth.load(path: simGroundTruth), simDT = try COCODetections.load(path: simDetections)
        let realGT = try COCOGroundTruth.load(path: realGroundTruth), realDT = try COCODetections.load(path: realDetections)
        return try make(sim: (simGT, simDT, simGroundTruth, simDetections), real: (realGT, realDT, realGroundTruth, realDetections), confidence: confidence)
    }

    static let scoreEdges = (0...20).map { Double($0) / 20 }

    /// Builds the report from loaded sets (paths only label them).
    public static func make(sim: (COCOGroundTruth, COCODetections, String, String), real: (COCOGroundTruth, COCODetections, String, String),
                            confidence: Double = 0.25) throws -> DetectionGapReport {
        let simEval = try COCOEvaluator.evaluate(groundTruth: sim.0, detections: sim.1, confidence: confidence, detectionsSource: sim.3)
        let realEval = try COCOEvaluator.evaluate(groundTruth: real.0, detections: real.1, confidence: confidence, detectionsSource: real.3)

        func summary(_ e: COCOEvaluation, _ gt: COCOGroundTruth, _ dt: COCODetections, _ gtPath: String, _ dtPath: String) -> SetSummary {
            var scores = [Int](repeating: 0, count: scoreEdges.count - 1)
            var perImage = [Int: Int](minimumCapacity: gt.imageIDs.count)
            for d in dt.detections {
                let bin = min(scores.count - 1, max(0, Int((d.score * 20).rounded(.down))))
                scores[bin] += 1
                if d.score >= confidence { perImage[d.imageID, default: 0] += 1 }
            }
            var countHistogram = [Int](repeating: 0, count: 21)
            for id in gt.imageIDs { countHistogram[min(20, perImage[id] ?? 0)] += 1 }
            return SetSummary(groundTruth: gtPath, detections: dtPath, images: e.images, groundTruthBoxes: e.groundTruthBoxes,
                              detectionCount: e.detections, stats: e.stats, mAP: e.mAP, ap50: e.ap50, ar100: e.ar100,
                              atConfidence: e.atConfidence, meanPrecision50: e.meanPrecision50, scoreHistogram: scores,
                              detectionsPerImageHistogram: countHistogram)
        }
        let s = summary(simEval, sim.0, sim.1, sim.2, sim.3), r = summary(realEval, real.0, real.1, real.2, real.3)

        // Classes by id, in id order, from either set.
        let simByID = Dictionary(simEval.perClass.map { ($0.categoryID, $0) }, uniquingKeysWith: { a, _ in a })
        let realByID = Dictionary(realEval.perClass.map { ($0.categoryID, $0) }, uniquingKeysWith: { a, _ in a })
        let classes = Set(simByID.keys).union(realByID.keys).sorted().map { id -> ClassGap in
            let a = simByID[id], b = realByID[id]
            let gap: Double? = if let sa = a?.ap, let ra = b?.ap { 100 * (ra - sa) } else { nil }
            return ClassGap(categoryID: id, name: a?.name ?? b?.name ?? "\(id)", simAP: a?.ap, realAP: b?.ap, simAP50: a?.ap50, realAP50: b?.ap50,
                            gapPoints: gap, simFalsePositivesPerImage: a?.atConfidence.falsePositivesPerImage ?? 0,
                            realFalsePositivesPerImage: b?.atConfidence.falsePositivesPerImage ?? 0)
        }
        func points(_ a: Double, _ b: Double) -> Double { a < 0 || b < 0 ? .nan : 100 * (b - a) }
        let mapGap = points(s.mAP, r.mAP)
        let verdict = mapGap.isNaN ? "warn" : (mapGap >= -2 ? "pass" : (mapGap >= -5 ? "warn" : "fail"))
        return DetectionGapReport(confidence: confidence, sim: s, real: r, classes: classes, mAPGapPoints: mapGap,
                                  ap50GapPoints: points(s.ap50, r.ap50), ar100GapPoints: points(s.ar100, r.ar100),
                                  recallThresholds: COCOEvaluator.recallThresholds, scoreBinEdges: scoreEdges, verdict: verdict)
    }

    /// One line for the terminal.
    public var headline: String {
        String(format: "mAP@[.5:.95] sim %.3f, real %.3f (%+.1f points); AP50 sim %.3f, real %.3f; AR@100 sim %.3f, real %.3f",
               sim.mAP, real.mAP, mAPGapPoints, sim.ap50, real.ap50, sim.ar100, real.ar100)
    }

    /// The JSON twin (sorted keys; NaN written as null-free strings is avoided by using nil).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// The HTML report.
    public func html(generatedAt: Date? = nil) -> HTMLReport {
        let status: ReportStatus = verdict == "pass" ? .pass : (verdict == "warn" ? .warn : .fail)
        func gapStatus(_ points: Double?) -> ReportStatus? {
            guard let points, !points.isNaN else { return nil }
            return points >= -2 ? .pass : (points >= -5 ? .warn : .fail)
        }
        func cell(_ v: Double?) -> ReportCell { v.map { ReportCell.fixed($0, decimals: 3) } ?? ReportCell("—") }
        func gapCell(_ p: Double?) -> ReportCell {
            guard let p, !p.isNaN else { return ReportCell("—") }
            return ReportCell.fixed(p, decimals: 1, unit: "pts", status: gapStatus(p))
        }

        var summary = ReportSection("Summary")
        summary.paragraph("""
            COCO box evaluation (pycocotools' numbers) of the same detector on a synthetic test set \
            (\(sim.images) images, \(sim.groundTruthBoxes) boxes, \(sim.detectionCount) detections) and a real one \
            (\(real.images) images, \(real.groundTruthBoxes) boxes, \(real.detectionCount) detections). \
            Gaps are real − sim in percentage points; within 2 points passes, within 5 warns.
            """)
        summary.table(ReportTable(header: ["metric", "sim", "real", "gap"], rows: [
            ["mAP@[.5:.95]", cell(sim.mAP), cell(real.mAP), gapCell(mAPGapPoints)],
            ["AP50", cell(sim.ap50), cell(real.ap50), gapCell(ap50GapPoints)],
            ["AP75", cell(sim.stats[2]), cell(real.stats[2]), gapCell(100 * (real.stats[2] - sim.stats[2]))],
            ["AP small", cell(sim.stats[3]), cell(real.stats[3]), gapCell(sim.stats[3] < 0 || real.stats[3] < 0 ? nil : 100 * (real.stats[3] - sim.stats[3]))],
            ["AP medium", cell(sim.stats[4]), cell(real.stats[4]), gapCell(sim.stats[4] < 0 || real.stats[4] < 0 ? nil : 100 * (real.stats[4] - sim.stats[4]))],
            ["AP large", cell(sim.stats[5]), cell(real.stats[5]), gapCell(sim.stats[5] < 0 || real.stats[5] < 0 ? nil : 100 * (real.stats[5] - sim.stats[5]))],
            ["AR@100", cell(sim.ar100), cell(real.ar100), gapCell(ar100GapPoints)],
            [ReportCell("FP / image @ \(String(format: "%.2f", confidence))"), ReportCell.fixed(sim.atConfidence.falsePositivesPerImage, decimals: 3),
             ReportCell.fixed(real.atConfidence.falsePositivesPerImage, decimals: 3), ""],
            [ReportCell("precision @ \(String(format: "%.2f", confidence))"), cell(sim.atConfidence.precision), cell(real.atConfidence.precision), ""],
            [ReportCell("recall @ \(String(format: "%.2f", confidence))"), cell(sim.atConfidence.recall), cell(real.atConfidence.recall), ""],
        ], caption: "area all, 100 detections per image; counts at the confidence use IoU 0.5"))

        var curves = ReportSection("Precision-recall")
        curves.figure(SVGPlot.line(title: "Precision vs recall, IoU 0.5 (mean over classes)",
                                   x: PlotAxis("recall", range: 0...1), y: PlotAxis("precision", range: 0...1),
                                   series: [PlotSeries("sim", x: recallThresholds, y: sim.meanPrecision50),
                                            PlotSeries("real", x: recallThresholds, y: real.meanPrecision50)]),
                      caption: "Interpolated precision at COCO's 101 recall thresholds, averaged over classes with ground truth.")

        var perClass = ReportSection("Per class")
        let withAP = classes.filter { $0.simAP != nil || $0.realAP != nil }
        perClass.figure(SVGPlot.bar(title: "AP@[.5:.95] per class", categories: withAP.map(\.name), groups: [
            BarGroup("sim", values: withAP.map { $0.simAP ?? .nan }), BarGroup("real", values: withAP.map { $0.realAP ?? .nan }),
        ], y: PlotAxis("AP")))
        perClass.table(ReportTable(
            header: ["class", "id", "AP sim", "AP real", "gap", "AP50 sim", "AP50 real", "FP/img sim", "FP/img real"],
            rows: classes.sorted { ($0.gapPoints ?? .infinity) < ($1.gapPoints ?? .infinity) }.map { c in
                [ReportCell(c.name), ReportCell(integerLiteral: c.categoryID), cell(c.simAP), cell(c.realAP), gapCell(c.gapPoints),
                 cell(c.simAP50), cell(c.realAP50), ReportCell.fixed(c.simFalsePositivesPerImage, decimals: 3),
                 ReportCell.fixed(c.realFalsePositivesPerImage, decimals: 3)]
            },
            caption: "Largest drop first; — where a set has no ground truth of the class."))

        var distributions = ReportSection("Scores and counts")
        let centers = zip(scoreBinEdges, scoreBinEdges.dropFirst()).map { ($0 + $1) / 2 }
        func fractions(_ counts: [Int]) -> [Double] {
            let total = max(1, counts.reduce(0, +))
            return counts.map { Double($0) / Double(total) }
        }
        distributions.figure(SVGPlot.bar(title: "Detection scores", categories: centers.map { String(format: "%.3f", $0) }, groups: [
            BarGroup("sim", values: fractions(sim.scoreHistogram)), BarGroup("real", values: fractions(real.scoreHistogram)),
        ], y: PlotAxis("fraction of detections")), caption: "Scores in bins of 0.05, as fractions of each set's detections.")
        distributions.figure(SVGPlot.bar(title: "Detections per image at confidence \(String(format: "%.2f", confidence))",
                                         categories: (0...20).map { $0 == 20 ? "20+" : "\($0)" }, groups: [
            BarGroup("sim", values: fractions(sim.detectionsPerImageHistogram)), BarGroup("real", values: fractions(real.detectionsPerImageHistogram)),
        ], y: PlotAxis("fraction of images")))

        var inputs = ReportSection("Inputs")
        inputs.table(ReportTable(header: ["set", "ground truth", "detections"], rows: [
            ["sim", ReportCell(sim.groundTruth), ReportCell(sim.detections)], ["real", ReportCell(real.groundTruth), ReportCell(real.detections)],
        ]))
        inputs.details("The 12 COCO numbers", [.table(ReportTable(header: ["", "sim", "real"],
            rows: zip(COCOEvaluator.statNames, zip(sim.stats, real.stats)).map { [ReportCell($0), ReportCell.fixed($1.0, decimals: 3), ReportCell.fixed($1.1,
                decimals: 3)] }))])

        return HTMLReport(
            title: "Detector gap report", subtitle: "sim vs real test set, COCO box metrics",
            generatedAt: generatedAt, generatedBy: "tether report",
            verdict: ReportVerdict(status, String(format: "real mAP %+.1f points vs sim", mAPGapPoints)),
            cards: [SummaryCard("mAP real", value: real.mAP, status: status, detail: String(format: "sim %.3f", sim.mAP)),
                    SummaryCard("mAP gap", value: mAPGapPoints, unit: "pts", status: status),
                    SummaryCard("AP50 real", value: real.ap50, detail: String(format: "sim %.3f", sim.ap50)),
                    SummaryCard("AR@100 real", value: real.ar100, detail: String(format: "sim %.3f", sim.ar100)),
                    SummaryCard("FP / image real", value: real.atConfidence.falsePositivesPerImage,
                                detail: String(format: "sim %.3f, confidence %.2f", sim.atConfidence.falsePositivesPerImage, confidence))],
            sections: [summary, curves, perClass, distributions, inputs],
            footer: "Numbers are pycocotools' (COCOeval, bbox) bit for bit; see docs/coco.md.")
    }
}
