import Foundation
import Testing
import TetherCore
@testable import TetherVision

@Suite struct COCOGapReportTests {
    /// A set of 20 images with one 50 × 50 box each; the detector finds `found` of them.
    private func set(found: Int, falsePositives: Int) throws -> (COCOGroundTruth, COCODetections, String, String) {
        let gt = try COCOGroundTruth(imageIDs: Array(1...20), categories: [COCOCategory(id: 1, name: "box"), COCOCategory(id: 2, name: "ball")],
                                     annotations: (1...20).map { COCOAnnotation(id: $0, imageID: $0, categoryID: $0 % 2 + 1, box: BoundingBox(x: 10, y: 10,
                                         width: 50, height: 50)) })
        var dets: [COCODetection] = []
        for i in 1...found { dets.append(COCODetection(imageID: i, categoryID: i % 2 + 1, box: BoundingBox(x: 11, y: 10, width: 50, height: 50), score: 0.9)) }
        for i in 0..<falsePositives { dets.append(COCODetection(imageID: i % 20 + 1, categoryID: 1, box: BoundingBox(x: 200, y: 200, width: 30, height: 30),
                                                                score: 0.6)) }
        return (gt, COCODetections(dets), "gt.json", "dt.json")
    }

    @Test func gapIsRealMinusSimInPointsPerClassAndOverall() throws {
        let report = try DetectionGapReport.make(sim: set(found: 20, falsePositives: 0), real: set(found: 12, falsePositives: 10))
        #expect(report.sim.mAP > report.real.mAP)
        #expect(report.mAPGapPoints == 100 * (report.real.mAP - report.sim.mAP))
        #expect(report.verdict == "fail")
        #expect(report.classes.map(\.name) == ["box", "ball"])
        for c in report.classes { #expect(c.gapPoints == 100 * (c.realAP! - c.simAP!)) }
        #expect(report.real.atConfidence.falsePositivesPerImage == 0.5)
        #expect(report.sim.scoreHistogram[18] == 20)
        #expect(report.real.detectionsPerImageHistogram.reduce(0, +) == 20)
    }

    @Test func htmlAndJSONTwinCarryTheSameFigures() throws {
        let report = try DetectionGapReport.make(sim: set(found: 20, falsePositives: 2), real: set(found: 15, falsePositives: 4))
        let html = report.html().render()
        #expect(html.contains("Detector gap report") && html.contains("Precision vs recall") && html.contains("AP@[.5:.95] per class"))
        #expect(html.contains("<svg"))
        let json = try JSONSerialization.jsonObject(with: report.json()) as? [String: Any]
        let sim = json?["sim"] as? [String: Any]
        #expect(sim?["map"] as? Double == report.sim.mAP)
        #expect((sim?["stats"] as? [Double])?.count == 12)
        #expect((json?["classes"] as? [[String: Any]])?.count == 2)
    }
}
