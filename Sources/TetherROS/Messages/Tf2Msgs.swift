import Foundation

extension GeometryMsgs {
    /// `geometry_msgs/msg/Transform`: a translation (m) and a rotation, child frame in parent frame.
    public struct Transform: ROSMessage, Hashable {
        public static let typeName = "geometry_msgs/msg/Transform"
        public static let messageText = "geometry_msgs/Vector3 translation\ngeometry_msgs/Quaternion rotation\n"
        public static var dependencies: [any ROSMessage.Type] { [Vector3.self, Quaternion.self] }

        public var translation: Vector3
        public var rotation: Quaternion

        /// A transform; the default is the identity.
        public init(translation: Vector3 = .init(), rotation: Quaternion = .init()) {
            self.translation = translation
            self.rotation = rotation
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(translation)
            writer.write(rotation)
        }

        public init(from reader: inout CDRReader) throws {
            translation = try reader.read(Vector3.self)
            rotation = try reader.read(Quaternion.self)
        }
    }

    /// `geometry_msgs/msg/TransformStamped`: where `child_frame_id` is in `header.frame_id` at `header.stamp`.
    public struct TransformStamped: ROSMessage, Hashable {
        public static let typeName = "geometry_msgs/msg/TransformStamped"
        public static let messageText = "std_msgs/Header header\nstring child_frame_id\ngeometry_msgs/Transform transform\n"
        public static var dependencies: [any ROSMessage.Type] { [StdMsgs.Header.self, Transform.self] }

        public var header: StdMsgs.Header
        public var childFrameID: String
        public var transform: Transform

        public init(header: StdMsgs.Header = .init(), childFrameID: String = "", transform: Transform = .init()) {
            self.header = header
            self.childFrameID = childFrameID
            self.transform = transform
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(header)
            writer.write(childFrameID)
            writer.write(transform)
        }

        public init(from reader: inout CDRReader) throws {
            header = try reader.read(StdMsgs.Header.self)
            childFrameID = try reader.read(String.self)
            transform = try reader.read(Transform.self)
        }
    }
}

/// tf2_msgs: the transform tree (`/tf`, `/tf_static`).
public enum Tf2Msgs {
    /// `tf2_msgs/msg/TFMessage`: transforms published together.
    public struct TFMessage: ROSMessage, Hashable {
        public static let typeName = "tf2_msgs/msg/TFMessage"
        public static let messageText = "geometry_msgs/TransformStamped[] transforms\n"
        public static var dependencies: [any ROSMessage.Type] { [GeometryMsgs.TransformStamped.self] }

        public var transforms: [GeometryMsgs.TransformStamped]

        public init(transforms: [GeometryMsgs.TransformStamped] = []) { self.transforms = transforms }

        public func encode(to writer: inout CDRWriter) { writer.writeSequence(transforms) }
        public init(from reader: inout CDRReader) throws { transforms = try reader.readSequence(of: GeometryMsgs.TransformStamped.self) }
    }
}

extension StdMsgs {
    /// `std_msgs/msg/String` (e.g. `/robot_description`, the URDF). Named `Text` here so that
    /// `String` inside `StdMsgs` stays Swift's.
    public struct Text: ROSMessage, Hashable {
        public static let typeName = "std_msgs/msg/String"
        public static let messageText = "string data\n"

        public var data: Swift.String

        public init(data: Swift.String = "") { self.data = data }

        public func encode(to writer: inout CDRWriter) { writer.write(data) }
        public init(from reader: inout CDRReader) throws { data = try reader.read(Swift.String.self) }
    }
}
