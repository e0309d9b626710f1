import Foundation
import Testing
import TetherCore
@testable import TetherVision

@Suite struct MetadataTests {
    @Test func ultralyticsMetadataParses() throws {
        let m = try DetectorMetadata(["names": "{0: 'cube', 1: 'ball', 2: \"it's\", 3: 'a, b: c'}", "imgsz": "[320, 256]", "stride": "32"])
        #expect(m.names == ["cube", "ball", "it's", "a, b: c"])
        #expect(m.imageSize == [320, 256])
        #expect(m.stride == 32)
        #expect(try DetectorMetadata(["imgsz": "640"]).imageSize == [640, 640])
        #expect(try DetectorMetadata([:]).names == nil)
    }

    @Test func namesInEveryWrittenForm() throws {
        #expect(try ClassNames.parse("{1: 'b', 0: 'a'}", source: "t") == ["a", "b"])
        #expect(try ClassNames.parse("['a', \"b\\\"q\"]", source: "t") == ["a", "b\"q"])
        #expect(try ClassNames.parse("{\"0\": \"a\", \"1\": \"b\"}", source: "t") == ["a", "b"])
        #expect(try ClassNames.parse("- a\n- b\n", source: "t") == ["a", "b"])
        #expect(try ClassNames.parse("0: a\n1: b\n", source: "t") == ["a", "b"])
        #expect(try ClassNames.parse("path: data\nnames:\n  0: cube\n  1: ball\n", source: "t") == ["cube", "ball"])
        #expect(try ClassNames.parse("{}", source: "t") == [])
    }

    @Test func badNamesAreErrorsNamingTheSource() {
        for text in ["{0: 'a', 2: 'b'}", "{0: 'a', 0: 'b'}", "{x: 'a'}", "{0: 'a'"] {
            do {
                let names = try ClassNames.parse(text, source: "model.onnx key 'names'")
                Issue.record("parsed \(text) as \(names)")
            } catch let error as TetherError {
                #expect(error.location == "model.onnx key 'names'")
            } catch { Issue.record("\(error)") }
        }
        #expect(throws: TetherError.self) { try DetectorMetadata(["imgsz": "[a, b]"]) }
        // A COCO results file passed as a names file by mistake: a list of maps.
        #expect(throws: TetherError.self) { try ClassNames.parse(#"[{"image_id": 1, "bbox": [1, 2, 3, 4]}]"#, source: "names.json") }
    }

    @Test func namesFiles() throws {
        let txt = try temporaryPath("names.txt")
        try "cube\n\nball\n".write(toFile: txt, atomically: true, encoding: .utf8)
        #expect(try ClassNames.read(path: txt) == ["cube", "ball"])
        let yaml = try temporaryPath("data.yaml")
        try "names: [cube, ball]\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        #expect(try ClassNames.read(path: yaml) == ["cube", "ball"])
        let json = try temporaryPath("names.json")
        try "[\"cube\", \"ball\"]".write(toFile: json, atomically: true, encoding: .utf8)
        #expect(try ClassNames.read(path: json) == ["cube", "ball"])
        #expect(throws: TetherError.self) { try ClassNames.read(path: "/nonexistent/names.txt") }
    }
}

@Suite struct SummaryTests {
    @Test func latencySummaryQuantiles() {
        let s = LatencySummary((1...11).map(Double.init))
        #expect(s.count == 11 && s.median == 6 && s.p90 == 10 && s.mean == 6)
        #expect(LatencySummary([]).median == 0)
    }

    @Test func resultEntriesRoundAsUltralyticsWrites() throws {
        let e = DetectionResultEntry(imageID: 3, categoryID: 1, detection: Detection(box: BoundingBox(x: 1.23456, y: 2, width: 3.0004, height: 4.9999),
                                                                                     classIndex: 1, score: 0.123456789))
        #expect(e.bbox == [1.235, 2, 3, 5] && e.score == 0.12346)
        let text = String(decoding: try DetectionResultEntry.encode([e]), as: UTF8.self)
        #expect(text.contains(#""image_id":3"#) && text.contains(#""category_id":1"#))
        #expect(String(decoding: try DetectionResultEntry.encode([]), as: UTF8.self) == "[]\n")
    }
}
