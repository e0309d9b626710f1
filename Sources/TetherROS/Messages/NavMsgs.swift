import TetherCore

/// `nav_msgs`: odometry.
public enum NavMsgs {
    /// `nav_msgs/msg/Odometry`: where the robot's base is (pose in `header.frame_id`, e.g. "odom")
    /// and how it moves (twist in `child_frame_id`, e.g. "base"). A real robot gets it from its
    /// state estimator or a motion-capture system; the virtual robot publishes its ground truth.
    public struct Odometry: ROSMessage, Hashable {
        public static let typeName = "nav_msgs/msg/Odometry"
        public static let messageText = """
            std_msgs/Header header
            string child_frame_id
            geometry_msgs/PoseWithCovariance pose
            geometry_msgs/TwistWithCovariance twist

            """
        public static var dependencies: [any ROSMessage.Type] {
            [StdMsgs.Header.self, GeometryMsgs.PoseWithCovariance.self, GeometryMsgs.TwistWithCovariance.self]
        }

        public var header: StdMsgs.Header
        public var childFrameID: String
        public var pose: GeometryMsgs.PoseWithCovariance
        public var twist: GeometryMsgs.TwistWithCovariance

        public init(header: StdMsgs.Header = .init(), childFrameID: String = "", pose: GeometryMsgs.PoseWithCovariance = .init(),
                    twist: GeometryMsgs.TwistWithCovariance = .init()) {
            self.header = header
            self.childFrameID = childFrameID
            self.pose = pose
            self.twist = twist
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(header)
            writer.write(childFrameID)
            writer.write(pose)
            writer.write(twist)
        }

        public init(from reader: inout CDRReader) throws {
            header = try reader.read(StdMsgs.Header.self)
            childFrameID = try reader.read(String.self)
            pose = try reader.read(GeometryMsgs.PoseWithCovariance.self)
            twist = try reader.read(GeometryMsgs.TwistWithCovariance.self)
        }
    }
}
