import Foundation
import Testing
import TetherCore
@testable import TetherROS

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// JSON for the Python peer, encoded with JSONEncoder so doubles keep every bit.
indirect enum JSON: Encodable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case array([JSON])
    case object([(String, JSON)])
    case null

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
        switch self {
        case .int(let v): var c = encoder.singleValueContainer(); try c.encode(v)
        case .double(let v): var c = encoder.singleValueContainer(); try c.encode(v)
        case .string(let v): var c = encoder.singleValueContainer(); try c.encode(v)
        case .bool(let v): var c = encoder.singleValueContainer(); try c.encode(v)
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .array(let v):
            var c = encoder.unkeyedContainer()
            for x in v { try c.encode(x) }
        case .object(let pairs):
            var c = encoder.container(keyedBy: Key.self)
            for (k, v) in pairs { try c.encode(v, forKey: Key(k)) }
        }
    }
}

extension JSON {
    static func doubles(_ v: [Double]) -> JSON { .array(v.map(JSON.double)) }
    static func strings(_ v: [String]) -> JSON { .array(v.map(JSON.string)) }
}

/// A message's value as the peer expects it: ROS field names, nested objects.
protocol PeerValue { var peer: JSON { get } }

extension BuiltinInterfaces.Time: PeerValue {
    var peer: JSON { .object([("sec", .int(Int(sec))), ("nanosec", .int(Int(nanosec)))]) }
}
extension StdMsgs.Header: PeerValue {
    var peer: JSON { .object([("stamp", stamp.peer), ("frame_id", .string(frameID))]) }
}
extension StdMsgs.Bool: PeerValue {
    var peer: JSON { .object([("data", .bool(data))]) }
}
extension StdMsgs.MultiArrayDimension: PeerValue {
    var peer: JSON { .object([("label", .string(label)), ("size", .int(Int(size))), ("stride", .int(Int(stride)))]) }
}
extension StdMsgs.MultiArrayLayout: PeerValue {
    var peer: JSON { .object([("dim", .array(dim.map(\.peer))), ("data_offset", .int(Int(dataOffset)))]) }
}
extension StdMsgs.Float64MultiArray: PeerValue {
    var peer: JSON { .object([("layout", layout.peer), ("data", .doubles(data))]) }
}
extension GeometryMsgs.Vector3: PeerValue {
    var peer: JSON { .object([("x", .double(x)), ("y", .double(y)), ("z", .double(z))]) }
}
extension GeometryMsgs.Quaternion: PeerValue {
    var peer: JSON { .object([("x", .double(x)), ("y", .double(y)), ("z", .double(z)), ("w", .double(w))]) }
}
extension GeometryMsgs.Twist: PeerValue {
    var peer: JSON { .object([("linear", linear.peer), ("angular", angular.peer)]) }
}
extension SensorMsgs.JointState: PeerValue {
    var peer: JSON {
        .object([("header", header.peer), ("name", .strings(name)), ("position", .doubles(position)),
                 ("velocity", .doubles(velocity)), ("effort", .doubles(effort))])
    }
}
extension SensorMsgs.Imu: PeerValue {
    var peer: JSON {
        .object([("header", header.peer), ("orientation", orientation.peer),
                 ("orientation_covariance", .doubles(orientationCovariance)),
                 ("angular_velocity", angularVelocity.peer),
                 ("angular_velocity_covariance", .doubles(angularVelocityCovariance)),
                 ("linear_acceleration", linearAcceleration.peer),
                 ("linear_acceleration_covariance", .doubles(linearAccelerationCovariance))])
    }
}
extension DiagnosticMsgs.KeyValue: PeerValue {
    var peer: JSON { .object([("key", .string(key)), ("value", .string(value))]) }
}
extension DiagnosticMsgs.DiagnosticStatus: PeerValue {
    var peer: JSON {
        .object([("level", .int(Int(level))), ("name", .string(name)), ("message", .string(message)),
                 ("hardware_id", .string(hardwareID)), ("values", .array(values.map(\.peer)))])
    }
}
extension DiagnosticMsgs.DiagnosticArray: PeerValue {
    var peer: JSON { .object([("header", header.peer), ("status", .array(status.map(\.peer)))]) }
}
extension TetherMsgs.JointCommand: PeerValue {
    var peer: JSON {
        .object([("header", header.peer), ("name", .strings(name)), ("position", .doubles(position)),
                 ("velocity", .doubles(velocity)), ("effort", .doubles(effort)), ("kp", .doubles(kp)), ("kd", .doubles(kd))])
    }
}
extension GeometryMsgs.Point: PeerValue {
    var peer: JSON { .object([("x", .double(x)), ("y", .double(y)), ("z", .double(z))]) }
}
extension GeometryMsgs.Pose: PeerValue {
    var peer: JSON { .object([("position", position.peer), ("orientation", orientation.peer)]) }
}
extension GeometryMsgs.PoseWithCovariance: PeerValue {
    var peer: JSON { .object([("pose", pose.peer), ("covariance", .doubles(covariance))]) }
}
extension GeometryMsgs.TwistWithCovariance: PeerValue {
    var peer: JSON { .object([("twist", twist.peer), ("covariance", .doubles(covariance))]) }
}
extension NavMsgs.Odometry: PeerValue {
    var peer: JSON { .object([("header", header.peer), ("child_frame_id", .string(childFrameID)), ("pose", pose.peer), ("twist", twist.peer)]) }
}
extension SensorMsgs.Image: PeerValue {
    var peer: JSON {
        .object([("header", header.peer), ("height", .int(Int(height))), ("width", .int(Int(width))),
                 ("encoding", .string(encoding)), ("is_bigendian", .int(Int(isBigEndian))), ("step", .int(Int(step))),
                 ("data", .array(data.map { .int(Int($0)) }))])
    }
}
extension VisionMsgs.Point2D: PeerValue {
    var peer: JSON { .object([("x", .double(x)), ("y", .double(y))]) }
}
extension VisionMsgs.Pose2D: PeerValue {
    var peer: JSON { .object([("position", position.peer), ("theta", .double(theta))]) }
}
extension VisionMsgs.BoundingBox2D: PeerValue {
    var peer: JSON { .object([("center", center.peer), ("size_x", .double(sizeX)), ("size_y", .double(sizeY))]) }
}
extension VisionMsgs.ObjectHypothesis: PeerValue {
    var peer: JSON { .object([("class_id", .string(classID)), ("score", .double(score))]) }
}
extension VisionMsgs.ObjectHypothesisWithPose: PeerValue {
    var peer: JSON { .object([("hypothesis", hypothesis.peer), ("pose", pose.peer)]) }
}
extension VisionMsgs.Detection2D: PeerValue {
    var peer: JSON {
        .object([("header", header.peer), ("results", .array(results.map(\.peer))), ("bbox", bbox.peer), ("id", .string(id))])
    }
}
extension VisionMsgs.Detection2DArray: PeerValue {
    var peer: JSON { .object([("header", header.peer), ("detections", .array(detections.map(\.peer)))]) }
}
extension TetherMsgs.SafetyEvent: PeerValue {
    var peer: JSON {
        .object([("header", header.peer), ("reason", .string(reason)), ("message", .string(message)),
                 ("joint", .string(joint)), ("keys", .strings(keys)), ("values", .doubles(values))])
    }
}

/// Runs tests/peers/ros_peer.py from the project venv with a request (passed through a file,
/// since recordings' expectations exceed the argument size limit) and decodes its answer.
func rosPeer<T: Decodable>(_ request: JSON, as type: T.Type) throws -> T {
    let python = "\(repositoryRoot)/.venv/bin/python"
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw TetherError("the project venv is missing; the peer tests need it", at: python, hint: "run scripts/setup.sh")
    }
    let requestPath = temporaryPath("request.json")
    defer { try? FileManager.default.removeItem(atPath: requestPath) }
    try JSONEncoder().encode(request).write(to: URL(fileURLWithPath: requestPath))
    let output = try TetherPaths.run(python, ["\(repositoryRoot)/tests/peers/ros_peer.py", "@\(requestPath)"])
    return try JSONDecoder().decode(T.self, from: Data(output.utf8))
}

/// A fresh path in the temporary directory.
func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-ros-tests", isDirectory: true)
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("\(UUID().uuidString)-\(name)").path
}

/// Bytes from hex text.
func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = hex.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// Random values for property-style tests, reproducible from a seed.
struct Values {
    var rng: SeededRandom

    init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    mutating func double() -> Double { rng.gaussian(mean: 0, standardDeviation: 3) }
    mutating func doubles(_ n: Int) -> [Double] { (0..<n).map { _ in double() } }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    /// A string of 0–9 characters, odd lengths included, sometimes non-ASCII.
    mutating func string() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz_/0123456789") + ["é", "µ", "°"]
        return String((0..<int(0...9)).map { _ in alphabet[int(0...(alphabet.count - 1))] })
    }
    mutating func header() -> StdMsgs.Header {
        StdMsgs.Header(stamp: .init(sec: Int32(int(0...2_000_000_000)), nanosec: UInt32(int(0...999_999_999))), frameID: string())
    }
    mutating func jointState() -> SensorMsgs.JointState {
        let n = int(0...12)
        return SensorMsgs.JointState(header: header(), name: (0..<n).map { _ in string() }, position: doubles(n),
                                     velocity: doubles(int(0...1) * n), effort: doubles(n))
    }
    mutating func imu() -> SensorMsgs.Imu {
        SensorMsgs.Imu(header: header(), orientation: .init(x: double(), y: double(), z: double(), w: double()),
                       orientationCovariance: doubles(9), angularVelocity: .init(x: double(), y: double(), z: double()),
                       angularVelocityCovariance: doubles(9), linearAcceleration: .init(x: double(), y: double(), z: double()),
                       linearAccelerationCovariance: doubles(9))
    }
    mutating func diagnostics() -> DiagnosticMsgs.DiagnosticArray {
        DiagnosticMsgs.DiagnosticArray(header: header(), status: (0..<int(0...3)).map { _ in
            DiagnosticMsgs.DiagnosticStatus(level: UInt8(int(0...3)), name: string(), message: string(), hardwareID: string(),
                                            values: (0..<int(0...3)).map { _ in .init(key: string(), value: string()) })
        })
    }
    mutating func safetyEvent() -> TetherMsgs.SafetyEvent {
        let n = int(0...3)
        return TetherMsgs.SafetyEvent(header: header(), reason: string(), message: string(), joint: string(),
                                      keys: (0..<n).map { _ in string() }, values: doubles(n))
    }
    mutating func multiArray() -> StdMsgs.Float64MultiArray {
        let rows = int(0...4), cols = int(0...3)
        return StdMsgs.Float64MultiArray(
            layout: .init(dim: [.init(label: string(), size: UInt32(rows), stride: UInt32(rows * cols)),
                                .init(label: string(), size: UInt32(cols), stride: UInt32(cols))], dataOffset: UInt32(int(0...2))),
            data: doubles(rows * cols))
    }
    mutating func jointCommand() -> TetherMsgs.JointCommand {
        let n = int(0...12)
        return TetherMsgs.JointCommand(header: header(), name: (0..<n).map { _ in string() }, position: doubles(n),
                                       velocity: doubles(n), effort: doubles(int(0...1) * n), kp: doubles(n), kd: doubles(n))
    }
    /// An image of random size and pixel layout, rows padded to a multiple of 4 bytes half the time.
    mutating func image() -> SensorMsgs.Image {
        let (encoding, bytesPerPixel) = [("rgb8", 3), ("mono8", 1), ("mono16", 2), ("bgra8", 4), ("32FC1", 4)][int(0...4)]
        let width = int(0...13), height = int(0...7)
        var step = width * bytesPerPixel
        if int(0...1) == 1 { step = (step + 3) / 4 * 4 }
        return SensorMsgs.Image(header: header(), height: UInt32(height), width: UInt32(width), encoding: encoding,
                                isBigEndian: UInt8(int(0...1)), step: UInt32(step),
                                data: (0..<(step * height)).map { _ in UInt8(int(0...255)) })
    }
    mutating func poseWithCovariance() -> GeometryMsgs.PoseWithCovariance {
        GeometryMsgs.PoseWithCovariance(
            pose: .init(position: .init(x: double(), y: double(), z: double()),
                        orientation: .init(x: double(), y: double(), z: double(), w: double())),
            covariance: doubles(36))
    }
    mutating func detections() -> VisionMsgs.Detection2DArray {
        VisionMsgs.Detection2DArray(header: header(), detections: (0..<int(0...4)).map { _ in
            VisionMsgs.Detection2D(
                header: header(),
                results: (0..<int(0...3)).map { _ in
                    VisionMsgs.ObjectHypothesisWithPose(hypothesis: .init(classID: string(), score: double()), pose: poseWithCovariance())
                },
                bbox: .init(center: .init(position: .init(x: double(), y: double()), theta: double()), sizeX: double(), sizeY: double()),
                id: string())
        })
    }
    mutating func twist() -> GeometryMsgs.Twist {
        GeometryMsgs.Twist(linear: .init(x: double(), y: double(), z: double()), angular: .init(x: double(), y: double(), z: double()))
    }
}
