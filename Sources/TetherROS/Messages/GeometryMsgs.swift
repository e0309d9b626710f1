import TetherCore

/// `geometry_msgs`: vectors, rotations and velocities.
public enum GeometryMsgs {
    /// `geometry_msgs/msg/Vector3`: a free vector (SI units of whatever it carries).
    public struct Vector3: ROSMessage, Hashable {
        public static let typeName = "geometry_msgs/msg/Vector3"
        public static let messageText = "float64 x\nfloat64 y\nfloat64 z\n"

        public var x: Double
        public var y: Double
        public var z: Double

        /// A vector from its components.
        public init(x: Double = 0, y: Double = 0, z: Double = 0) {
            self.x = x
            self.y = y
            self.z = z
        }

        /// A vector from three components in order (x, y, z).
        public init(_ v: SIMD3<Double>) { self.init(x: v.x, y: v.y, z: v.z) }

        public func encode(to writer: inout CDRWriter) {
            writer.write(x)
            writer.write(y)
            writer.write(z)
        }

        public init(from reader: inout CDRReader) throws {
            x = try reader.read(Double.self)
            y = try reader.read(Double.self)
            z = try reader.read(Double.self)
        }
    }

    /// `geometry_msgs/msg/Quaternion`: a rotation, x y z w (ROS order; the identity is w = 1).
    public struct Quaternion: ROSMessage, Hashable {
        public static let typeName = "geometry_msgs/msg/Quaternion"
        public static let messageText = "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n"

        public var x: Double
        public var y: Double
        public var z: Double
        public var w: Double

        /// A quaternion from its components; the defaults give the identity, as in ROS.
        public init(x: Double = 0, y: Double = 0, z: Double = 0, w: Double = 1) {
            self.x = x
            self.y = y
            self.z = z
            self.w = w
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(x)
            writer.write(y)
            writer.write(z)
            writer.write(w)
        }

        public init(from reader: inout CDRReader) throws {
            x = try reader.read(Double.self)
            y = try reader.read(Double.self)
            z = try reader.read(Double.self)
            w = try reader.read(Double.self)
        }
    }

    /// `geometry_msgs/msg/Twist`: linear (m/s) and angular (rad/s) velocity.
    public struct Twist: ROSMessage, Hashable {
        public static let typeName = "geometry_msgs/msg/Twist"
        public static let messageText = "geometry_msgs/Vector3 linear\ngeometry_msgs/Vector3 angular\n"
        public static var dependencies: [any ROSMessage.Type] { [Vector3.self] }

        /// Linear velocity, m/s.
        public var linear: Vector3
        /// Angular velocity, rad/s.
        public var angular: Vector3

        /// A twist.
        public init(linear: Vector3 = .init(), angular: Vector3 = .init()) {
            self.linear = linear
            self.angular = angular
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(linear)
            writer.write(angular)
        }

        public init(from reader: inout CDRReader) throws {
            linear = try reader.read(Vector3.self)
            angular = try reader.read(Vector3.self)
        }
    }
}
