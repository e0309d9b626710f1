import Foundation
import Testing
import TetherCore
@testable import TetherROS

/// Tether's own types, which rosbags learns from their definitions.
let tetherDefinitions = JSON.object([
    (TetherMsgs.SafetyEvent.typeName, .string(TetherMsgs.SafetyEvent.definition)),
    (TetherMsgs.JointCommand.typeName, .string(TetherMsgs.JointCommand.definition)),
])

/// Checks samples against rosbags both ways: rosbags' bytes equal Swift's and decode in Swift to
/// the same value, and rosbags decodes Swift's bytes to the same value.
func expectRosbagsAgree(_ samples: [Sample], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let serialized = try rosPeer(.object([
        ("op", .string("serialize")), ("definitions", tetherDefinitions),
        ("items", .array(samples.map { .object([("type", .string($0.typeName)), ("value", $0.value)]) })),
    ]), as: SerializeResult.self)
    #expect(serialized.hex.count == samples.count, sourceLocation: sourceLocation)
    for (i, (sample, theirs)) in zip(samples, serialized.hex).enumerated() {
        #expect(hex(sample.swiftBytes) == theirs, "[\(i)] \(sample.typeName): Swift and rosbags bytes differ", sourceLocation: sourceLocation)
        #expect(try sample.decodesBack(bytes(hex: theirs)), "[\(i)] \(sample.typeName): decoding rosbags' bytes in Swift",
                sourceLocation: sourceLocation)
    }
    let deserialized = try rosPeer(.object([
        ("op", .string("deserialize")), ("definitions", tetherDefinitions),
        ("items", .array(samples.map {
            .object([("type", .string($0.typeName)), ("hex", .string(hex($0.swiftBytes))), ("value", $0.value)])
        })),
    ]), as: ProblemsResult.self)
    #expect(deserialized.problems.isEmpty, "rosbags decoding Swift's bytes: \(deserialized.problems)", sourceLocation: sourceLocation)
}

@Suite("Images, detections, joint commands; empty arrays and non-ASCII text")
struct MessageTypesTests {
    /// Strings whose UTF-8 lengths (with the NUL) are 17, 3, 4, 5 and 1 bytes, so that every
    /// alignment of what follows them is exercised.
    static let texts = ["gelenk_ü_日本", "ü", "日", "🤖", ""]

    @Test func imagesMatchRosbagsBothWays() throws {
        var v = Values(seed: 21)
        var samples = [Sample(SensorMsgs.Image())]
        for text in Self.texts {
            samples.append(Sample(SensorMsgs.Image(header: .init(stamp: .init(sec: 1, nanosec: 2), frameID: text), height: 1, width: 3,
                                                   encoding: text.isEmpty ? "mono8" : text, step: 3, data: [0, 127, 255])))
        }
        for _ in 0..<20 { samples.append(Sample(v.image())) }
        // A camera-sized frame: 320 × 240 RGB.
        let frame = (0..<(320 * 240 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        samples.append(Sample(SensorMsgs.Image(header: .init(frameID: "camera_optical"), height: 240, width: 320,
                                               encoding: "rgb8", step: 960, data: frame)))
        try expectRosbagsAgree(samples)
    }

    @Test func detectionsMatchRosbagsBothWays() throws {
        var v = Values(seed: 22)
        var samples: [Sample] = [
            Sample(VisionMsgs.Detection2DArray()),
            Sample(VisionMsgs.Detection2D()),
            Sample(VisionMsgs.BoundingBox2D(minX: 10, minY: 20, maxX: 30, maxY: 60)),
            Sample(VisionMsgs.Point2D(x: 1.5, y: -2)),
            Sample(VisionMsgs.Pose2D(position: .init(x: 3, y: 4), theta: .pi / 2)),
            Sample(VisionMsgs.ObjectHypothesis(classID: "person", score: 0.87)),
            Sample(VisionMsgs.ObjectHypothesisWithPose()),
            Sample(GeometryMsgs.Point(x: 1, y: 2, z: 3)),
            Sample(GeometryMsgs.Pose()),
            Sample(GeometryMsgs.PoseWithCovariance(covariance: (0..<36).map { Double($0) / 7 })),
            Sample(GeometryMsgs.TwistWithCovariance(twist: .init(linear: .init(x: 0.5), angular: .init(z: -0.2)), covariance: (0..<36).map { Double($0) / 9 })),
            Sample(NavMsgs.Odometry()),
            Sample(NavMsgs.Odometry(header: .init(stamp: .init(sec: 3, nanosec: 9), frameID: "odom"), childFrameID: "base",
                                    pose: .init(pose: .init(position: .init(x: 1, y: 2, z: 0.3), orientation: .init(x: 0, y: 0, z: 0.1, w: 0.995))),
                                    twist: .init(twist: .init(linear: .init(x: 0.4, y: 0.01, z: 0), angular: .init(z: 0.05))))),
        ]
        for text in Self.texts {
            let detection = VisionMsgs.Detection2D(
                header: .init(stamp: .init(sec: 5, nanosec: 6), frameID: text),
                results: [.init(hypothesis: .init(classID: text, score: 0.5)), .init(hypothesis: .init(classID: "cat", score: 0.25))],
                bbox: .init(minX: 0, minY: 0, maxX: 4, maxY: 2), id: text)
            samples.append(Sample(detection))
            samples.append(Sample(VisionMsgs.Detection2DArray(header: .init(frameID: text), detections: [detection, .init(id: text)])))
            samples.append(Sample(VisionMsgs.ObjectHypothesis(classID: text, score: -1)))
        }
        for _ in 0..<20 { samples.append(Sample(v.detections())) }
        try expectRosbagsAgree(samples)
    }

    @Test func jointCommandsMatchRosbagsBothWays() throws {
        var v = Values(seed: 23)
        var samples = [
            Sample(TetherMsgs.JointCommand(name: [], position: [], velocity: [], effort: [], kp: [], kd: [])),
            Sample(TetherMsgs.JointCommand(header: .init(stamp: .init(sec: 9, nanosec: 1), frameID: "base"),
                                           name: ["FR_hip_joint", "FR_thigh_joint"], position: [0.1, 0.8], velocity: [0, 0],
                                           effort: [], kp: [20, 20], kd: [0.5, 0.5])),
        ]
        for text in Self.texts {
            samples.append(Sample(TetherMsgs.JointCommand(header: .init(frameID: text), name: [text, "x", text], position: [1, 2, 3],
                                                          velocity: [], effort: [4, 5, 6], kp: [], kd: [7, 8, 9])))
        }
        for _ in 0..<20 { samples.append(Sample(v.jointCommand())) }
        try expectRosbagsAgree(samples)
    }

    /// Every message type, once with all its arrays empty and its strings empty, and once with
    /// non-ASCII text in every string field.
    @Test func everyTypeWithEmptyArraysAndNonASCIIStringsMatchesRosbags() throws {
        let text = "gelenk_ü_日本"
        let header = StdMsgs.Header(stamp: .init(sec: 1_700_000_000, nanosec: 123), frameID: text)
        let status = DiagnosticMsgs.DiagnosticStatus(level: DiagnosticMsgs.DiagnosticStatus.warn, name: "tether: \(text)",
                                                     message: "Grenzwert überschritten: 日本", hardwareID: "🤖-1",
                                                     values: [.init(key: text, value: "°C ü")])
        let samples: [Sample] = [
            // Empty: no elements, no text.
            Sample(BuiltinInterfaces.Time()),
            Sample(StdMsgs.Header()),
            Sample(StdMsgs.Bool()),
            Sample(StdMsgs.MultiArrayDimension()),
            Sample(StdMsgs.MultiArrayLayout()),
            Sample(StdMsgs.Float64MultiArray()),
            Sample(SensorMsgs.JointState()),
            Sample(SensorMsgs.Imu()),
            Sample(SensorMsgs.Image()),
            Sample(GeometryMsgs.Vector3()),
            Sample(GeometryMsgs.Quaternion()),
            Sample(GeometryMsgs.Twist()),
            Sample(GeometryMsgs.Point()),
            Sample(GeometryMsgs.Pose()),
            Sample(GeometryMsgs.PoseWithCovariance()),
            Sample(DiagnosticMsgs.KeyValue()),
            Sample(DiagnosticMsgs.DiagnosticStatus()),
            Sample(DiagnosticMsgs.DiagnosticArray()),
            Sample(DiagnosticMsgs.DiagnosticArray(status: [.init()])),
            Sample(TetherMsgs.SafetyEvent(reason: "")),
            Sample(TetherMsgs.JointCommand(name: [], position: [], velocity: [], effort: [], kp: [], kd: [])),
            Sample(VisionMsgs.Detection2DArray()),
            Sample(VisionMsgs.Detection2DArray(detections: [.init()])),
            Sample(VisionMsgs.Detection2D()),
            Sample(VisionMsgs.ObjectHypothesis()),
            // Non-ASCII text in every string field (arrays of nested messages included).
            Sample(header),
            Sample(StdMsgs.MultiArrayDimension(label: text, size: 2, stride: 2)),
            Sample(StdMsgs.MultiArrayLayout(dim: [.init(label: text, size: 3, stride: 6), .init(label: "ü", size: 2, stride: 2)])),
            Sample(StdMsgs.Float64MultiArray(vector: [1, 2], label: text)),
            Sample(SensorMsgs.JointState(header: header, name: [text, "ü", "日", "🤖"], position: [1, 2, 3, 4], velocity: [], effort: [])),
            Sample(SensorMsgs.Imu(header: header)),
            Sample(SensorMsgs.Image(header: header, height: 1, width: 1, encoding: text, step: 1, data: [42])),
            Sample(DiagnosticMsgs.KeyValue(key: text, value: "日本")),
            Sample(status),
            Sample(DiagnosticMsgs.DiagnosticArray(header: header, status: [status, .init(name: "ü")])),
            Sample(TetherMsgs.SafetyEvent(header: header, reason: "joint_position_limit", message: "\(text) über der Grenze",
                                          joint: text, keys: [text, "limit"], values: [1.71, 1.57])),
            Sample(TetherMsgs.JointCommand(header: header, name: [text], position: [0.5], velocity: [0], effort: [0], kp: [20], kd: [0.5])),
            Sample(VisionMsgs.ObjectHypothesis(classID: text, score: 0.9)),
            Sample(VisionMsgs.Detection2D(header: header, results: [.init(hypothesis: .init(classID: text, score: 0.9))], id: text)),
            Sample(VisionMsgs.Detection2DArray(header: header, detections: [.init(header: header, id: text)])),
        ]
        try expectRosbagsAgree(samples)
    }

    @Test func largeImageRoundTripsByteForByte() throws {
        // A full-HD RGB frame: 6 220 800 bytes of pixels.
        let width = 1920, height = 1080
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 7) { pixels[i] = UInt8(truncatingIfNeeded: i >> 3) }
        let image = SensorMsgs.Image(header: .init(stamp: .init(sec: 3, nanosec: 4), frameID: "camera_optical"),
                                     height: UInt32(height), width: UInt32(width), encoding: "rgb8", step: UInt32(width * 3), data: pixels)
        let bytes = image.cdrBytes()
        // Header 4 + stamp 8 + frame id 4+15 (+1 pad) + height, width 8 + encoding 4+5 + is_bigendian 1 (+2 pad) + step 4 + count 4.
        #expect(bytes.count == 60 + pixels.count)
        #expect(Array(bytes[60..<80]) == Array(pixels[0..<20]))
        #expect(try SensorMsgs.Image(cdrBytes: bytes) == image)
    }

    @Test func bigEndianArraysAreByteSwapped() throws {
        // Float64MultiArray in big-endian plain CDR: no dimensions, offset 7, data [1.5, -2].
        var buffer: [UInt8] = [0x00, 0x00, 0x00, 0x00]
        buffer += [0, 0, 0, 0] + [0, 0, 0, 7] + [0, 0, 0, 2] + [0, 0, 0, 0]
        for value in [1.5, -2.0] { withUnsafeBytes(of: value.bitPattern.bigEndian) { buffer += $0 } }
        let array = try StdMsgs.Float64MultiArray(cdrBytes: buffer)
        #expect(array == StdMsgs.Float64MultiArray(layout: .init(dataOffset: 7), data: [1.5, -2]))
        // And integer sequences wider than a byte.
        var reader = try CDRReader([0x00, 0x00, 0x00, 0x00, 0, 0, 0, 3, 0x01, 0x02, 0x03, 0x04, 0xff, 0xfe])
        #expect(try reader.readSequence(of: UInt16.self) == [0x0102, 0x0304, 0xfffe])
        var floats = try CDRReader([0x00, 0x00, 0x00, 0x00, 0, 0, 0, 1, 0x3f, 0xc0, 0x00, 0x00])
        #expect(try floats.readSequence(of: Float.self) == [1.5])
    }

    @Test func everyTruncationOfImagesAndDetectionsThrows() throws {
        var v = Values(seed: 24)
        var detections = v.detections()
        while detections.detections.isEmpty { detections = v.detections() }
        let image = SensorMsgs.Image(header: .init(frameID: "ü"), height: 2, width: 2, encoding: "mono8", step: 2, data: [1, 2, 3, 4])
        let cases: [([UInt8], ([UInt8]) throws -> Void)] = [
            (image.cdrBytes(), { _ = try SensorMsgs.Image(cdrBytes: $0) }),
            (detections.cdrBytes(), { _ = try VisionMsgs.Detection2DArray(cdrBytes: $0) }),
            (v.jointCommand().cdrBytes(), { _ = try TetherMsgs.JointCommand(cdrBytes: $0) }),
        ]
        for (full, decode) in cases {
            try decode(full)
            for cut in 0..<full.count {
                #expect(throws: TetherError.self, "cut at \(cut) of \(full.count)") { try decode(Array(full.prefix(cut))) }
            }
        }
        // An image whose data count promises more bytes than there are is refused before allocating.
        var w = CDRWriter()
        w.write(StdMsgs.Header())
        for _ in 0..<2 { w.write(UInt32(1)) }
        w.write("mono8")
        w.write(UInt8(0))
        w.write(UInt32(1))
        w.write(UInt32.max)
        #expect(throws: TetherError.self) { try SensorMsgs.Image(cdrBytes: w.bytes) }
    }

    @Test func schemasOfTheNewTypes() {
        let text = VisionMsgs.Detection2DArray.definition
        #expect(text.hasPrefix("std_msgs/Header header\nvision_msgs/Detection2D[] detections\n"))
        for dependency in ["std_msgs/Header", "builtin_interfaces/Time", "vision_msgs/Detection2D", "vision_msgs/ObjectHypothesisWithPose",
                           "vision_msgs/ObjectHypothesis", "geometry_msgs/PoseWithCovariance", "geometry_msgs/Pose",
                           "geometry_msgs/Point", "geometry_msgs/Quaternion", "vision_msgs/BoundingBox2D", "vision_msgs/Pose2D",
                           "vision_msgs/Point2D"] {
            #expect(text.components(separatedBy: "MSG: \(dependency)\n").count == 2, "\(dependency) once")
        }
        #expect(SensorMsgs.Image.definition.contains("uint8[] data\n"))
        #expect(DDSParticipant.ddsTypeName(VisionMsgs.Detection2DArray.self) == "vision_msgs::msg::dds_::Detection2DArray_")
    }
}
