import Foundation
import Testing
import TetherCore
@testable import TetherVision

/// Writes `text` to a temporary file and returns its path.
private func file(_ text: String, _ name: String = "f.json") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-coco-loader-\(getpid())-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

private let groundTruth = """
{"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2}],
 "categories": [{"id": 3, "name": "cup", "supercategory": "x"}],
 "annotations": [
   {"id": 10, "image_id": 1, "category_id": 3, "bbox": [1, 2, 30.5, 4e1], "area": 1000, "iscrowd": 0,
    "segmentation": [[1, 2, 3, 4]], "extra": {"nested": [true, null, "s\\"q"]}},
   {"id": 11, "image_id": 2, "category_id": 3, "bbox": [0, 0, 10, 10], "iscrowd": true}
 ]}
"""

/// The error message a loader throws, or "" when it does not throw.
private func message(_ body: () throws -> Void) -> String {
    do { try body(); return "" } catch { return "\(error)" }
}

@Suite struct COCOLoaderTests {
    @Test func readsGroundTruthFieldsAndSkipsTheRest() throws {
        let gt = try COCOGroundTruth.load(path: file(groundTruth))
        #expect(gt.imageIDs == [1, 2])
        #expect(gt.categories == [COCOCategory(id: 3, name: "cup")])
        #expect(gt.annotations[0] == COCOAnnotation(id: 10, imageID: 1, categoryID: 3, box: BoundingBox(x: 1, y: 2, width: 30.5, height: 40), area: 1000))
        // No area field: width · height; iscrowd true.
        #expect(gt.annotations[1].area == 100 && gt.annotations[1].isCrowd)
    }

    @Test func numbersAreReadAsPythonReadsThem() throws {
        let values = ["0.1", "1e-3", "-2.5E+2", "123456789012345678", "0.30000000000000004", "7", "-0", "5e-324", "1.7976931348623157e308"]
        let text = "[" + values.enumerated().map { "{\"image_id\": 1, \"category_id\": 3, \"bbox\": [0, 0, 1, 1], \"score\": "
            + "\($1)}" }.joined(separator: ",") + "]"
        let dt = try COCODetections.load(path: file(text))
        #expect(dt.detections.map(\.score) == values.map { Double($0)! })
    }

    @Test func malformedJSONNamesLineAndColumn() throws {
        let m = message { _ = try COCODetections.load(path: try file("[\n {\"image_id\": 1,, }\n]")) }
        #expect(m.contains(":2:17: expected a string"), "\(m)")
        let unterminated = message { _ = try COCODetections.load(path: try file("[{\"image_id\": 1")) }
        #expect(unterminated.contains("expected ',' or '}'"), "\(unterminated)")
        let trailing = message { _ = try COCODetections.load(path: try file("[] x")) }
        #expect(trailing.contains("after the end of the document"))
    }

    @Test func wrongFileKindsSayWhichOptionToUse() throws {
        let gtAsDt = message { _ = try COCODetections.load(path: try file(groundTruth)) }
        #expect(gtAsDt.contains("must be a JSON list") && gtAsDt.contains("--gt"))
        let dtAsGt = message { _ = try COCOGroundTruth.load(path: try file("[]")) }
        #expect(dtAsGt.contains("--dt"))
        let missing = message { _ = try COCOGroundTruth.load(path: "/nonexistent/gt.json") }
        #expect(missing.contains("cannot read the file"))
    }

    @Test func detectionsOnUnknownImagesOrCategoriesAreRefused() throws {
        let gt = try COCOGroundTruth.load(path: file(groundTruth))
        let unknownImage = message {
            _ = try COCOEvaluator.evaluate(groundTruth: gt, detections: COCODetections([
                COCODetection(imageID: 1, categoryID: 3, box: BoundingBox(x: 0, y: 0, width: 1, height: 1), score: 0.5),
                COCODetection(imageID: 9, categoryID: 3, box: BoundingBox(x: 0, y: 0, width: 1, height: 1), score: 0.5),
            ]), detectionsSource: "dt.json")
        }
        #expect(unknownImage.hasPrefix("dt.json: detection [1]: image_id 9 is not an image of the ground truth"), "\(unknownImage)")
        let unknownCategory = message {
            _ = try COCOEvaluator.evaluate(groundTruth: gt, detections: COCODetections([
                COCODetection(imageID: 1, categoryID: 4, box: BoundingBox(x: 0, y: 0, width: 1, height: 1), score: 0.5),
            ]))
        }
        #expect(unknownCategory.contains("category_id 4 is not a category of the ground truth") && unknownCategory.contains("categories are 3"))
    }

    @Test func negativeSizesMissingFieldsAndDuplicatesAreRefused() throws {
        let negative = message { _ = try COCODetections.load(path: try file("[{\"image_id\": 1, \"category_id\": 3, \"bbox\": [5, 5, -2, 3], \"score\": "
            + "0.9}]")) }
        #expect(negative.contains("negative box size -2.0 × 3.0") && negative.contains("corner boxes"))
        let negativeGT = message { _ = try COCOGroundTruth.load(path: try file(groundTruth.replacingOccurrences(of: "[0, 0, 10, 10]",
                                                                                                                with: "[0, 0, 10, -1]"))) }
        #expect(negativeGT.contains("annotations[1] (id 11): negative box size"), "\(negativeGT)")
        let noScore = message { _ = try COCODetections.load(path: try file("[{\"image_id\": 1, \"category_id\": 3, \"bbox\": [5, 5, 2, 3]}]")) }
        #expect(noScore.contains("detection [0] has no score"))
        let shortBox = message { _ = try COCODetections.load(path: try file("[{\"image_id\": 1, \"category_id\": 3, \"bbox\": [5, 5, 2], \"score\": 1}]")) }
        #expect(shortBox.contains("[0].bbox has 3 numbers, not 4"))
        let duplicate = message { _ = try COCOGroundTruth.load(path: try file(groundTruth.replacingOccurrences(of: "\"id\": 11", with: "\"id\": 10"))) }
        #expect(duplicate.contains("duplicate annotation id 10"))
        let orphan = message { _ = try COCOGroundTruth.load(path: try file(groundTruth.replacingOccurrences(of: "\"image_id\": 2", with: "\"image_id\": 5"))) }
        #expect(orphan.contains("image_id 5 is not in images[]"))
        let fractionalID = message { _ = try COCODetections.load(path: try file("[{\"image_id\": 1.5, \"category_id\": 3, \"bbox\": [5, 5, 2, 3], "
            + "\"score\": 1}]")) }
        #expect(fractionalID.contains("not an integer id"))
    }
}
