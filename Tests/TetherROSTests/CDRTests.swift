import Foundation
import Testing
import TetherCore
@testable import TetherROS

/// One message to compare with rosbags: its type, its value for the peer, and a check that
/// decoding given bytes yields the same value.
struct Sample {
    var typeName: String
    var value: JSON
    var swiftBytes: [UInt8]
    var decodesBack: ([UInt8]) throws -> Bool

    init<M: ROSMessage & PeerValue>(_ message: M) {
        typeName = M.typeName
        value = message.peer
        swiftBytes = message.cdrBytes()
        decodesBack = { try M(cdrBytes: $0) == message }
    }
}

struct SerializeResult: Decodable { var hex: [String] }
struct ProblemsResult: Decodable { var problems: [String] }

/// Every message type Tether knows, for the definition checks.
let allMessageTypes: [any ROSMessage.Type] = [
    BuiltinInterfaces.Time.self, StdMsgs.Header.self, StdMsgs.Bool.self, StdMsgs.MultiArrayDimension.self,
    StdMsgs.MultiArrayLayout.self, StdMsgs.Float64MultiArray.self, SensorMsgs.JointState.self, GeometryMsgs.Vector3.self,
    GeometryMsgs.Quaternion.self, SensorMsgs.Imu.self, GeometryMsgs.Twist.self, DiagnosticMsgs.KeyValue.self,
    DiagnosticMsgs.DiagnosticStatus.self, DiagnosticMsgs.DiagnosticArray.self, TetherMsgs.SafetyEvent.self,
    TetherMsgs.JointCommand.self, GeometryMsgs.Point.self, GeometryMsgs.Pose.self, GeometryMsgs.PoseWithCovariance.self,
    SensorMsgs.Image.self, VisionMsgs.Point2D.self, VisionMsgs.Pose2D.self, VisionMsgs.BoundingBox2D.self,
    VisionMsgs.ObjectHypothesis.self, VisionMsgs.ObjectHypothesisWithPose.self, VisionMsgs.Detection2D.self,
    VisionMsgs.Detection2DArray.self, GeometryMsgs.TwistWithCovariance.self, NavMsgs.Odometry.self,
]

@Suite("CDR codec and message types")
struct CDRTests {
    @Test func headerLayoutAlignsAfterOddLengthStrings() throws {
        // Header{stamp 5 s 7 ns, "abc"} then a float64: the string ends at payload offset 16,
        // so the double needs no padding; with "ab" it ends at 15 and needs one byte.
        var w = CDRWriter()
        w.write(StdMsgs.Header(stamp: .init(sec: 5, nanosec: 7), frameID: "ab"))
        w.write(1.0)
        #expect(hex(w.bytes) == "00010000" + "05000000" + "07000000" + "03000000" + "616200" + "00" + "000000000000f03f")
        var r = try CDRReader(w.bytes)
        #expect(try r.read(StdMsgs.Header.self) == StdMsgs.Header(stamp: .init(sec: 5, nanosec: 7), frameID: "ab"))
        #expect(try r.read(Double.self) == 1.0)
        #expect(r.remaining == 0)
    }

    @Test func everyMessageTypeMatchesRosbagsBytesAndDecodesThem() throws {
        var v = Values(seed: 7)
        var samples: [Sample] = [
            Sample(BuiltinInterfaces.Time(sec: -3, nanosec: 999_999_999)),
            Sample(StdMsgs.Bool(data: true)), Sample(StdMsgs.Bool(data: false)),
            Sample(GeometryMsgs.Vector3(x: 1, y: -2.5, z: .pi)),
            Sample(GeometryMsgs.Quaternion(x: 0.1, y: 0.2, z: 0.3, w: 0.9)),
            Sample(DiagnosticMsgs.KeyValue(key: "k", value: "")),
            Sample(SensorMsgs.JointState()),
            Sample(SensorMsgs.Imu()),
            Sample(DiagnosticMsgs.DiagnosticArray()),
            Sample(StdMsgs.Float64MultiArray(vector: [1, 2, 3], label: "joints")),
            Sample(TetherMsgs.SafetyEvent(header: .init(stamp: .init(sec: 12, nanosec: 5), frameID: "base"),
                                          reason: "joint_position_limit", message: "FR_calf_joint at 1.71 rad, past its limit 1.57 rad",
                                          joint: "FR_calf_joint", keys: ["value", "limit"], values: [1.71, 1.57])),
        ]
        // Headers with frame ids of every length mod 4 (alignment of what follows).
        for frame in ["", "a", "ab", "abc", "abcd", "abcde", "trunk_imu"] {
            samples.append(Sample(StdMsgs.Header(stamp: .init(sec: 1, nanosec: 2), frameID: frame)))
            samples.append(Sample(SensorMsgs.JointState(header: .init(frameID: frame), name: [frame, "x"], position: [0.5, 1],
                                                        velocity: [], effort: [2, 3])))
            samples.append(Sample(SensorMsgs.Imu(header: .init(frameID: frame), orientationCovariance: [-1, 0, 0, 0, 0, 0, 0, 0, 0])))
        }
        // And random values of every type (property-style, seeded).
        for _ in 0..<12 {
            samples.append(Sample(v.jointState()))
            samples.append(Sample(v.imu()))
            samples.append(Sample(v.diagnostics()))
            samples.append(Sample(v.multiArray()))
            samples.append(Sample(v.twist()))
            samples.append(Sample(v.header()))
            samples.append(Sample(v.safetyEvent()))
            samples.append(Sample(StdMsgs.Bool(data: v.int(0...1) == 1)))
        }
        let request = JSON.object([
            ("op", .string("serialize")),
            ("definitions", .object([(TetherMsgs.SafetyEvent.typeName, .string(TetherMsgs.SafetyEvent.definition))])),
            ("items", .array(samples.map { .object([("type", .string($0.typeName)), ("value", $0.value)]) })),
        ])
        let result = try rosPeer(request, as: SerializeResult.self)
        #expect(result.hex.count == samples.count)
        for (sample, theirs) in zip(samples, result.hex) {
            #expect(hex(sample.swiftBytes) == theirs, "\(sample.typeName): Swift and rosbags bytes differ")
            #expect(try sample.decodesBack(bytes(hex: theirs)), "\(sample.typeName): decoding rosbags' bytes in Swift")
        }
    }

    @Test func definitionsMatchTheHumbleFieldLists() throws {
        let request = JSON.object([
            ("op", .string("check_definitions")),
            ("items", .array(allMessageTypes.map { .object([("type", .string($0.typeName)), ("definition", .string($0.definition))]) })),
        ])
        let result = try rosPeer(request, as: ProblemsResult.self)
        #expect(result.problems.isEmpty, "\(result.problems)")
    }

    @Test func definitionsAppendEachDependencyOnce() {
        let text = SensorMsgs.Imu.definition
        #expect(text.hasPrefix("std_msgs/Header header\n"))
        for dependency in ["std_msgs/Header", "builtin_interfaces/Time", "geometry_msgs/Quaternion", "geometry_msgs/Vector3"] {
            #expect(text.components(separatedBy: "MSG: \(dependency)\n").count == 2, "\(dependency) once")
        }
        #expect(text.components(separatedBy: ROSDefinition.separator + "\n").count == 5)
        #expect(DiagnosticMsgs.DiagnosticArray.definition.contains("MSG: diagnostic_msgs/KeyValue\nstring key"))
        #expect(StdMsgs.Bool.definition == "bool data\n")
        #expect(SensorMsgs.JointState.shortTypeName == "sensor_msgs/JointState")
    }

    @Test func readerRejectsOtherEncapsulations() {
        let payload: [UInt8] = [1, 0, 0, 0]
        for (id, words) in [(UInt16(0x0003), "PL_CDR"), (0x0007, "XCDR2"), (0x0009, "delimited"), (0x1234, "unknown")] {
            let buffer = [UInt8(id >> 8), UInt8(id & 0xff), 0, 0] + payload
            do {
                _ = try StdMsgs.Bool(cdrBytes: buffer)
                Issue.record("encapsulation \(id) was accepted")
            } catch let error as TetherError {
                #expect(error.what.contains(hex16(id)) && error.what.contains(words), "\(error)")
                #expect(error.hint?.contains("0x0001") == true)
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        #expect(throws: TetherError.self) { try StdMsgs.Bool(cdrBytes: [0x00]) }
        #expect(throws: TetherError.self) { try StdMsgs.Bool(cdrBytes: []) }
    }

    @Test func readerAcceptsBigEndianCDR() throws {
        // Header{sec 1, nanosec 2, "ab"} in big-endian plain CDR.
        let buffer: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0x61, 0x62, 0x00]
        let header = try StdMsgs.Header(cdrBytes: buffer)
        #expect(header == StdMsgs.Header(stamp: .init(sec: 1, nanosec: 2), frameID: "ab"))
    }

    @Test func everyTruncationThrowsInsteadOfCrashing() throws {
        var v = Values(seed: 3)
        var js = v.jointState()
        js.name = ["a", "bb"]
        js.position = [1, 2]
        js.velocity = [3, 4]
        js.effort = [5, 6]
        let cases: [([UInt8], ([UInt8]) throws -> Void)] = [
            (js.cdrBytes(), { _ = try SensorMsgs.JointState(cdrBytes: $0) }),
            (v.imu().cdrBytes(), { _ = try SensorMsgs.Imu(cdrBytes: $0) }),
            (DiagnosticMsgs.DiagnosticArray(status: [.init(level: 1, name: "n", values: [.init(key: "k", value: "v")])]).cdrBytes(),
             { _ = try DiagnosticMsgs.DiagnosticArray(cdrBytes: $0) }),
            (StdMsgs.Float64MultiArray(vector: [1, 2]).cdrBytes(), { _ = try StdMsgs.Float64MultiArray(cdrBytes: $0) }),
        ]
        for (full, decode) in cases {
            try decode(full)
            for cut in 0..<full.count {
                #expect(throws: TetherError.self, "cut at \(cut) of \(full.count)") { try decode(Array(full.prefix(cut))) }
            }
        }
        // The message says what was short and where.
        do {
            _ = try SensorMsgs.JointState(cdrBytes: Array(js.cdrBytes().dropLast(3)))
        } catch let error as TetherError {
            #expect(error.what.contains("truncated"))
            #expect(error.location == SensorMsgs.JointState.typeName)
        }
    }

    @Test func corruptSequenceCountIsRejectedWithoutAllocating() {
        // JointState with an empty header, then a name[] count of 0xFFFFFFFF and nothing after.
        var w = CDRWriter()
        w.write(StdMsgs.Header())
        w.write(UInt32.max)
        #expect(throws: TetherError.self) { try SensorMsgs.JointState(cdrBytes: w.bytes) }
        var d = CDRWriter()
        d.write(UInt32(0x7fff_ffff))
        #expect(throws: TetherError.self) { try StdMsgs.Float64MultiArray(cdrBytes: d.bytes) }
    }

    @Test func timeConvertsToAndFromNanoseconds() {
        #expect(BuiltinInterfaces.Time(nanoseconds: 1_500_000_000) == .init(sec: 1, nanosec: 500_000_000))
        #expect(BuiltinInterfaces.Time(nanoseconds: -1) == .init(sec: -1, nanosec: 999_999_999))
        for ns: Int64 in [0, 1, -1, 999_999_999, -1_000_000_000, 1_700_000_000_123_456_789] {
            #expect(BuiltinInterfaces.Time(nanoseconds: ns).nanoseconds == ns)
        }
        #expect(BuiltinInterfaces.Time(sec: 1, nanosec: 0) < BuiltinInterfaces.Time(sec: 1, nanosec: 1))
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        // Streaming over any split equals one pass (the slicing-by-8 path and the byte path agree).
        var v = Values(seed: 11)
        let data = (0..<1000).map { _ in UInt8(v.int(0...255)) }
        let whole = CRC32.checksum(data)
        for split in [0, 1, 7, 8, 9, 500, 999] {
            var crc = CRC32()
            crc.update(Array(data[..<split]))
            crc.update(Array(data[split...]))
            #expect(crc.value == whole)
        }
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }
}

/// The fast paths DDS uses: a reused writer and decoding from borrowed memory.
@Suite struct CDRFastPathTests {
    static let image = SensorMsgs.Image(header: .init(stamp: .init(sec: 9, nanosec: 8), frameID: "cam"), height: 2, width: 3,
                                        encoding: "rgb8", step: 9, data: (0..<18).map { UInt8($0) })

    /// Decoding from memory gives what decoding from an array gives, for every prefix of the bytes
    /// too (the same errors for truncated buffers, never a crash).
    @Test func decodingFromMemoryEqualsDecodingFromAnArray() throws {
        let bytes = Self.image.cdrBytes()
        let fromMemory = try bytes.withUnsafeBytes { try SensorMsgs.Image(cdrBytes: $0) }
        #expect(fromMemory == Self.image)
        for n in 0..<bytes.count {
            let prefix = Array(bytes[..<n])
            let arrayResult = Result { try SensorMsgs.Image(cdrBytes: prefix) }
            let memoryResult = Result { try prefix.withUnsafeBytes { try SensorMsgs.Image(cdrBytes: $0) } }
            switch (arrayResult, memoryResult) {
            case (.success(let a), .success(let b)): #expect(a == b)
            case (.failure(let a), .failure(let b)): #expect("\(a)" == "\(b)", "prefix of \(n) bytes")
            default: Issue.record("prefix of \(n) bytes: array \(arrayResult), memory \(memoryResult)")
            }
        }
    }

    /// A writer restarted for the next message writes exactly what a fresh writer writes.
    @Test func restartedWriterEqualsAFreshOne() {
        var writer = CDRWriter()
        let joints = SensorMsgs.JointState(name: ["a", "b"], position: [1, 2], velocity: [], effort: [3])
        joints.encode(to: &writer)
        writer.restart()
        Self.image.encode(to: &writer)
        #expect(writer.bytes == Self.image.cdrBytes())
        writer.restart()
        #expect(writer.bytes == [0x00, 0x01, 0x00, 0x00])
    }
}
