import TetherCore

/// `vision_msgs` (version 4, as in ROS 2 Humble and Jazzy): what a 2D detector publishes.
///
/// Image coordinates are pixels, origin at the top-left corner of the image, x to the right and
/// y down; angles are radians.
public enum VisionMsgs {
    /// `vision_msgs/msg/Point2D`: a point in the image, pixels.
    public struct Point2D: ROSMessage, Hashable {
        public static let typeName = "vision_msgs/msg/Point2D"
        public static let messageText = "float64 x\nfloat64 y\n"

        public var x: Double
        public var y: Double

        /// A point, pixels.
        public init(x: Double = 0, y: Double = 0) {
            self.x = x
            self.y = y
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(x)
            writer.write(y)
        }

        public init(from reader: inout CDRReader) throws {
            x = try reader.read(Double.self)
            y = try reader.read(Double.self)
        }
    }

    /// `vision_msgs/msg/Pose2D`: a position in the image (pixels) and a rotation (rad).
    public struct Pose2D: ROSMessage, Hashable {
        public static let typeName = "vision_msgs/msg/Pose2D"
        public static let messageText = "vision_msgs/Point2D position\nfloat64 theta\n"
        public static var dependencies: [any ROSMessage.Type] { [Point2D.self] }

        public var position: Point2D
        /// Rotation, rad.
        public var theta: Double

        /// A pose in the image.
        public init(position: Point2D = .init(), theta: Double = 0) {
            self.position = position
            self.theta = theta
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(position)
            writer.write(theta)
        }

        public init(from reader: inout CDRReader) throws {
            position = try reader.read(Point2D.self)
            theta = try reader.read(Double.self)
        }
    }

    /// `vision_msgs/msg/BoundingBox2D`: a box given by its center and size, pixels.
    public struct BoundingBox2D: ROSMessage, Hashable {
        public static let typeName = "vision_msgs/msg/BoundingBox2D"
        public static let messageText = "vision_msgs/Pose2D center\nfloat64 size_x\nfloat64 size_y\n"
        public static var dependencies: [any ROSMessage.Type] { [Pose2D.self] }

        /// The box's center and its rotation (0 for an axis-aligned box).
        public var center: Pose2D
        /// Width, pixels (`size_x`).
        public var sizeX: Double
        /// Height, pixels (`size_y`).
        public var sizeY: Double

        /// A box from its center and size.
        public init(center: Pose2D = .init(), sizeX: Double = 0, sizeY: Double = 0) {
            self.center = center
            self.sizeX = sizeX
            self.sizeY = sizeY
        }

        /// An axis-aligned box from its corners, pixels (`minX ≤ maxX`, `minY ≤ maxY`).
        public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
            self.init(center: .init(position: .init(x: (minX + maxX) / 2, y: (minY + maxY) / 2)),
                      sizeX: maxX - minX, sizeY: maxY - minY)
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(center)
            writer.write(sizeX)
            writer.write(sizeY)
        }

        public init(from reader: inout CDRReader) throws {
            center = try reader.read(Pose2D.self)
            sizeX = try reader.read(Double.self)
            sizeY = try reader.read(Double.self)
        }
    }

    /// `vision_msgs/msg/ObjectHypothesis`: one class and its score.
    public struct ObjectHypothesis: ROSMessage, Hashable {
        public static let typeName = "vision_msgs/msg/ObjectHypothesis"
        public static let messageText = "string class_id\nfloat64 score\n"

        /// The class (`class_id`): a label or a number as text, as the detector names it.
        public var classID: String
        /// The detector's confidence, by convention in 0 ... 1.
        public var score: Double

        /// A hypothesis.
        public init(classID: String = "", score: Double = 0) {
            self.classID = classID
            self.score = score
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(classID)
            writer.write(score)
        }

        public init(from reader: inout CDRReader) throws {
            classID = try reader.read(String.self)
            score = try reader.read(Double.self)
        }
    }

    /// `vision_msgs/msg/ObjectHypothesisWithPose`: a class hypothesis and the object's 3D pose
    /// (in the frame of the enclosing header; zeros when the detector gives none).
    public struct ObjectHypothesisWithPose: ROSMessage, Hashable {
        public static let typeName = "vision_msgs/msg/ObjectHypothesisWithPose"
        public static let messageText = "vision_msgs/ObjectHypothesis hypothesis\ngeometry_msgs/PoseWithCovariance pose\n"
        public static var dependencies: [any ROSMessage.Type] { [ObjectHypothesis.self, GeometryMsgs.PoseWithCovariance.self] }

        public var hypothesis: ObjectHypothesis
        public var pose: GeometryMsgs.PoseWithCovariance

        /// A hypothesis with a pose.
        public init(hypothesis: ObjectHypothesis = .init(), pose: GeometryMsgs.PoseWithCovariance = .init()) {
            self.hypothesis = hypothesis
            self.pose = pose
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(hypothesis)
            writer.write(pose)
        }

        public init(from reader: inout CDRReader) throws {
            hypothesis = try reader.read(ObjectHypothesis.self)
            pose = try reader.read(GeometryMsgs.PoseWithCovariance.self)
        }
    }

    /// `vision_msgs/msg/Detection2D`: one detected object: its class hypotheses and its box.
    public struct Detection2D: ROSMessage, Hashable {
        public static let typeName = "vision_msgs/msg/Detection2D"
        public static let messageText = """
            std_msgs/Header header
            vision_msgs/ObjectHypothesisWithPose[] results
            vision_msgs/BoundingBox2D bbox
            string id

            """
        public static var dependencies: [any ROSMessage.Type] {
            [StdMsgs.Header.self, ObjectHypothesisWithPose.self, BoundingBox2D.self]
        }

        public var header: StdMsgs.Header
        /// Class hypotheses, usually best first.
        public var results: [ObjectHypothesisWithPose]
        /// The box around the object, pixels.
        public var bbox: BoundingBox2D
        /// A tracking id that stays the same for the same object across messages; may be empty.
        public var id: String

        /// A detection.
        public init(header: StdMsgs.Header = .init(), results: [ObjectHypothesisWithPose] = [],
                    bbox: BoundingBox2D = .init(), id: String = "") {
            self.header = header
            self.results = results
            self.bbox = bbox
            self.id = id
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(header)
            writer.writeSequence(results)
            writer.write(bbox)
            writer.write(id)
        }

        public init(from reader: inout CDRReader) throws {
            header = try reader.read(StdMsgs.Header.self)
            results = try reader.readSequence(of: ObjectHypothesisWithPose.self)
            bbox = try reader.read(BoundingBox2D.self)
            id = try reader.read(String.self)
        }
    }

    /// `vision_msgs/msg/Detection2DArray`: every detection in one image.
    public struct Detection2DArray: ROSMessage, Hashable {
        public static let typeName = "vision_msgs/msg/Detection2DArray"
        public static let messageText = "std_msgs/Header header\nvision_msgs/Detection2D[] detections\n"
        public static var dependencies: [any ROSMessage.Type] { [StdMsgs.Header.self, Detection2D.self] }

        /// The stamp and frame of the image the detections come from.
        public var header: StdMsgs.Header
        public var detections: [Detection2D]

        /// The detections of one image.
        public init(header: StdMsgs.Header = .init(), detections: [Detection2D] = []) {
            self.header = header
            self.detections = detections
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(header)
            writer.writeSequence(detections)
        }

        public init(from reader: inout CDRReader) throws {
            header = try reader.read(StdMsgs.Header.self)
            detections = try reader.readSequence(of: Detection2D.self)
        }
    }
}
