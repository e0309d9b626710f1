import Foundation
import Testing
import TetherCore
import TetherROS
@testable import TetherVision

/// Writes a tiny detector that ignores its image and always outputs `values` of `shape`.
func constantDetector(shape: [Int], values: [Float], input: (width: Int, height: Int) = (320, 320),
                      metadata: [String: String] = ["names": "{0: 'cube', 1: 'ball'}", "imgsz": "[320, 320]"]) throws -> String {
    struct Ack: Decodable { var ok: Bool }
    let path = try temporaryPath("detector.onnx")
    _ = try visionPeer(["op": "model", "path": path, "kind": "constant", "shape": shape, "values": values.map(Double.init),
                        "width": input.width, "height": input.height, "metadata": metadata], as: Ack.self)
    return path
}

/// `[1, 6, 20]`: two classes; anchor 3 a cube (0.9), anchor 4 an overlapping cube (0.8), anchor 5
/// a ball (0.85) on the same spot; every box 100 × 50 centred at (160, 160) of a 320 × 320 input.
func yoloFixture() -> [Float] {
    let anchors = 20
    var out = [Float](repeating: 0, count: 6 * anchors)
    func set(_ a: Int, _ cx: Float, _ cy: Float, _ cube: Float, _ ball: Float) {
        out[a] = cx; out[anchors + a] = cy; out[2 * anchors + a] = 100; out[3 * anchors + a] = 50
        out[4 * anchors + a] = cube; out[5 * anchors + a] = ball
    }
    set(3, 160, 160, 0.9, 0.1)
    set(4, 162, 161, 0.8, 0.05)
    set(5, 160, 160, 0.1, 0.85)
    set(9, 10, 10, 0.2, 0.2)  // below the threshold
    return out
}

@Suite struct DetectorTests {
    @Test func yoloModelEndToEnd() throws {
        let model = try constantDetector(shape: [1, 6, 20], values: yoloFixture())
        let detector = try Detector(modelPath: model)
        #expect(detector.classNames == ["cube", "ball"] && detector.layout == .yolo && detector.inputWidth == 320)
        // 640 × 480 → gain 0.5, 40 rows of padding above: the input box (110, 135)–(210, 185) is
        // (220, 190)–(420, 290) in the image.
        let (detections, timings) = try detector.detect(testImage(width: 640, height: 480))
        #expect(detections.count == 2)
        #expect(detections[0].classIndex == 0 && abs(detections[0].score - 0.9) < 1e-6)
        #expect(detections[0].box == BoundingBox(x1: 220, y1: 190, x2: 420, y2: 290))
        #expect(detections[1].classIndex == 1 && abs(detections[1].score - 0.85) < 1e-6)
        #expect(timings.inference > 0 && timings.preprocess > 0)

        var options = DetectorOptions()
        options.decode.agnostic = true
        let agnostic = try Detector(modelPath: model, options: options)
        #expect(try agnostic.detect(testImage(width: 640, height: 480)).detections.count == 1)
        options.decode = DecodeOptions(confidence: 0.15)
        #expect(try Detector(modelPath: model, options: options).detect(testImage(width: 64, height: 64)).detections.count == 3)
    }

    @Test func endToEndModel() throws {
        var rows: [Float] = []
        rows += [100, 100, 200, 150, 0.9, 1]
        rows += [0, 0, 50, 50, 0.1, 0]
        rows += [300, 300, 330, 330, 0.5, 0]  // partly outside the padded area: clipped
        rows += [Float](repeating: 0, count: 6 * 7)
        let model = try constantDetector(shape: [1, 10, 6], values: rows)
        let detector = try Detector(modelPath: model)
        #expect(detector.layout == .endToEnd)
        let detections = try detector.detect(testImage(width: 640, height: 480)).detections
        #expect(detections.count == 2)
        #expect(detections[0].box == BoundingBox(x1: 200, y1: 120, x2: 400, y2: 220) && detections[0].classIndex == 1)
        #expect(detections[1].box.y2 == 480 && detections[1].box.x2 == 640)
    }

    @Test func badModelsAndOptionsAreClearErrors() throws {
        let model = try constantDetector(shape: [1, 6, 20], values: yoloFixture())
        var options = DetectorOptions()
        options.classNames = ["only-one"]
        do {
            _ = try Detector(modelPath: model, options: options)
            Issue.record("accepted one name for two classes")
        } catch let error as TetherError {
            #expect(error.what.contains("2 classes") && error.location == "--names")
        }
        #expect(throws: TetherError.self) { try Detector(modelPath: "/nonexistent/detector.onnx") }
        let ambiguous = try constantDetector(shape: [1, 6, 6], values: [Float](repeating: 0, count: 36))
        #expect(throws: TetherError.self) { try Detector(modelPath: ambiguous) }
        options = DetectorOptions(layout: .endToEnd)
        #expect(try Detector(modelPath: ambiguous, options: options).layout == .endToEnd)
    }

    @Test func batchWritesCOCOResultsWithGroundTruthIDs() throws {
        let model = try constantDetector(shape: [1, 6, 20], values: yoloFixture())
        let detector = try Detector(modelPath: model)
        let dir = (try temporaryPath("x") as NSString).deletingLastPathComponent
        try ImageCodecs.write(testImage(width: 640, height: 480), to: "\(dir)/b.png")
        try ImageCodecs.write(testImage(width: 320, height: 320), to: "\(dir)/a.jpg")
        let gt = "\(dir)/gt.json"
        try (#"{"images": [{"id": 7, "file_name": "a.jpg"}, {"id": 9, "file_name": "sub/b.png"}], "#
            + #""categories": [{"id": 3, "name": "ball"}, {"id": 5, "name": "cube"}], "annotations": []}"#)
            .write(toFile: gt, atomically: true, encoding: .utf8)
        let ids = try DetectionGroundTruthIDs(path: gt, classNames: detector.classNames)
        #expect(ids.fileNames == [7: "a.jpg", 9: "sub/b.png"], "each image once, under its file_name as written")
        #expect(ids.imageID(for: "/elsewhere/b.png") == 9 && ids.imageID(for: "sub/b.png") == 9)
        let files = try ImageCodecs.imageFiles(at: dir)
        #expect(files.map { ($0 as NSString).lastPathComponent } == ["a.jpg", "b.png"])
        let annotations = "\(dir)/annotated"
        try FileManager.default.createDirectory(atPath: annotations, withIntermediateDirectories: true)
        let (entries, _) = try DetectionBatch(detector: detector, groundTruth: ids).run(files: files, annotate: annotations)
        #expect(entries.count == 4)
        #expect(entries[0].imageID == 7 && entries[0].categoryID == 5 && entries[0].bbox == [110, 135, 100, 50])
        #expect(entries[2].imageID == 9 && entries[2].bbox == [220, 190, 200, 100] && entries[3].categoryID == 3)
        #expect(FileManager.default.fileExists(atPath: "\(annotations)/b.png"))
        let json = try JSONSerialization.jsonObject(with: try DetectionResultEntry.encode(entries)) as? [[String: Any]]
        #expect(json?.count == 4 && json?[0]["score"] as? Double == 0.9)

        try #"{"images": [], "categories": [{"id": 1, "name": "cube"}]}"#.write(toFile: gt, atomically: true, encoding: .utf8)
        do {
            _ = try DetectionGroundTruthIDs(path: gt, classNames: detector.classNames)
            Issue.record("accepted a ground truth without 'ball'")
        } catch let error as TetherError { #expect(error.what.contains("ball")) }
        try (#"{"images": [{"id": 4, "file_name": "a.jpg"}, {"id": 4, "file_name": "b.png"}], "#
            + #""categories": [{"id": 1, "name": "cube"}, {"id": 2, "name": "ball"}]}"#)
            .write(toFile: gt, atomically: true, encoding: .utf8)
        do {
            _ = try DetectionGroundTruthIDs(path: gt, classNames: detector.classNames)
            Issue.record("accepted two images with one id")
        } catch let error as TetherError { #expect(error.what.contains("image id 4 appears twice")) }
    }

    @Test func rosNodeRoundTrip() throws {
        let model = try constantDetector(shape: [1, 6, 20], values: yoloFixture())
        let participant = try DDSParticipant(domain: 141, configuration: DDSParticipant.loopbackConfiguration)
        let node = try DetectorNode(detector: try Detector(modelPath: model), participant: participant,
                                    inputTopic: "/camera/image_raw", outputTopic: "/detections")
        let camera = try DDSPublisher<SensorMsgs.Image>(participant, topic: "/camera/image_raw", qos: .sensorData)
        let listener = try DDSSubscriber<VisionMsgs.Detection2DArray>(participant, topic: "/detections")
        #expect(camera.waitForSubscribers(1, timeout: 10))
        let header = StdMsgs.Header(stamp: .init(sec: 12, nanosec: 345), frameID: "camera")
        var bgr = ROSVision.message(testImage(width: 640, height: 480), header: header)
        bgr.encoding = "bgr8"
        var bad = bgr
        bad.encoding = "yuv422"
        for message in [bgr, bad, ROSVision.message(testImage(width: 64, height: 48, channels: 1), header: header)] {
            try camera.publish(message)
            var events: [DetectorNode.Event] = []
            let deadline = Date().addingTimeInterval(10)
            try node.run(maxFrames: 1, shouldStop: { Date() > deadline }, onEvent: { events.append($0) })
            #expect(events.count == 1)
        }
        #expect(node.skipped == 1 && node.timings.count == 2)
        let first = try listener.next(timeout: 5)
        #expect(first?.header == header)
        #expect(first?.detections.count == 2)
        #expect(first?.detections.first?.results.first?.hypothesis.classID == "cube")
        let bbox = first?.detections.first?.bbox
        #expect(bbox?.center.position.x == 320 && bbox?.center.position.y == 240 && bbox?.sizeX == 200 && bbox?.sizeY == 100)
        #expect(try listener.next(timeout: 5) != nil)
    }

    @Test func rosImageConversions() throws {
        let image = testImage(width: 5, height: 3)
        var message = ROSVision.message(image)
        // Rows padded to 16 bytes, BGR order.
        message.step = 16
        message.encoding = "bgr8"
        var data: [UInt8] = []
        for y in 0..<3 {
            for x in 0..<5 { data += [image[x, y, 2], image[x, y, 1], image[x, y, 0]] }
            data += [0]
        }
        message.data = data
        #expect(try ROSVision.image(from: message) == image)
        message.data.removeLast(10)
        #expect(throws: TetherError.self) { try ROSVision.image(from: message) }
    }
}

@Suite struct DetectorNodePeerTests {
    /// A camera on Python cyclonedds (its own IDL declaration of the ROS 2 types) publishes a BGR
    /// image; the node answers with detections stamped with the image's header.
    @Test func pythonCameraGetsDetectionsWithItsHeader() throws {
        let model = try constantDetector(shape: [1, 6, 20], values: yoloFixture())
        let domain: UInt32 = 142
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let node = try DetectorNode(detector: try Detector(modelPath: model), participant: participant)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(visionRepositoryRoot)/.venv/bin/python")
        process.arguments = ["\(visionRepositoryRoot)/tests/peers/vision_ros_peer.py",
                             #"{"domain": \#(domain), "width": 640, "height": 480, "encoding": "bgr8", "timeout": 30}"#]
        var environment = ProcessInfo.processInfo.environment
        environment["CYCLONEDDS_URI"] = DDSParticipant.loopbackConfiguration
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let deadline = Date().addingTimeInterval(30)
        // The peer repeats its image until detections arrive; answer each until it exits.
        try node.run(shouldStop: { !process.isRunning || Date() > deadline })
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        struct Reply: Decodable {
            struct Header: Decodable { var sec: Int; var nanosec: Int; var frame_id: String }
            struct Item: Decodable { var class_id: String; var score: Double; var x: Double; var y: Double; var size_x: Double; var size_y: Double }
            var header: Header
            var detections: [Item]
        }
        let reply = try JSONDecoder().decode(Reply.self, from: Data((text.split(separator: "\n").last.map(String.init) ?? "").utf8))
        #expect(reply.header.sec == 42 && reply.header.nanosec == 7 && reply.header.frame_id == "peer_camera")
        #expect(reply.detections.count == 2)
        #expect(reply.detections.first?.class_id == "cube" && reply.detections.first?.x == 320 && reply.detections.first?.size_y == 100)
        #expect(!node.timings.isEmpty)
    }
}

@Suite struct DynamicModelTests {
    /// The same random detector exported with static and with dynamic shapes finds the same boxes;
    /// the dynamic one needs its input size from --imgsz (no metadata here).
    @Test func dynamicExportMatchesStaticExport() throws {
        struct Ack: Decodable { var ok: Bool }
        let fixed = try temporaryPath("static.onnx"), dynamic = try temporaryPath("dynamic.onnx")
        _ = try visionPeer(["op": "model", "kind": "mini-yolo", "path": fixed, "width": 256, "height": 192, "seed": 4], as: Ack.self)
        _ = try visionPeer(["op": "model", "kind": "mini-yolo", "path": dynamic, "width": 256, "height": 192, "seed": 4, "dynamic": true], as: Ack.self)
        #expect(throws: TetherError.self) { try Detector(modelPath: dynamic) }
        let a = try Detector(modelPath: fixed)
        let b = try Detector(modelPath: dynamic, options: DetectorOptions(imageSize: (256, 192)))
        #expect(a.outputShape == [1, 6, 1008] && b.outputShape == a.outputShape)
        let image = testImage(width: 300, height: 200, seed: 8)
        let da = try a.detect(image).detections, db = try b.detect(image).detections
        #expect(!da.isEmpty && da.count == db.count)
        // Kernels for dynamic shapes may differ in the last bits: boxes of (nearly) equal score can
        // swap places, so match each box to one of the other run's.
        // (Boxes clipped to the image border can have zero area: compare corners, not IoU.)
        func same(_ p: Detection, _ q: Detection) -> Bool {
            p.classIndex == q.classIndex && abs(p.score - q.score) < 1e-5
                && [p.box.x - q.box.x, p.box.y - q.box.y, p.box.x2 - q.box.x2, p.box.y2 - q.box.y2].allSatisfy { abs($0) < 1e-3 }
        }
        for x in da { #expect(db.contains { same($0, x) }) }
        #expect(throws: TetherError.self) { try Detector(modelPath: dynamic, options: DetectorOptions(imageSize: (250, 192))) }
    }
}
