import TetherCore

/// `geometry_msgs`: points, vectors, rotations, poses and velocities.
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

    /// `geometry_msgs/msg/Point`: a position, m.
    public struct Point: ROSMessage, Hashable {
        public static let typeName = "geometry_msgs/msg/Point"
        public static let messageText = "float64 x\nfloat64 y\nfloat64 z\n"

        public var x: Double
        public var y: Double
        public var z: Double

        /// A point from its coordinates, m.
        public init(x: Double = 0, y: Double = 0, z: Double = 0) {
            self.x = x
            self.y = y
            self.z = z
        }

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

    /// `geometry_msgs/msg/Pose`: a position (m) and an orientation.
    public struct Pose: ROSMessage, Hashable {
        public static let typeName = "geometry_msgs/msg/Pose"
        public static let messageText = "geometry_msgs/Point position\ngeometry_msgs/Quaternion orientation\n"
        public static var dependencies: [any ROSMessage.Type] { [Point.self, Quaternion.self] }

        public var position: Point
        public var orientation: Quaternion

        /// A pose; the default is the origin with the identity rotation.
        public init(position: Point = .init(), orientation: Quaternion = .init()) {
            self.position = position
            self.orientation = orientation
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(position)
            writer.write(orientation)
        }

        public init(from reader: inout CDRReader) throws {
            position = try reader.read(Point.self)
            orientation = try reader.read(Quaternion.self)
        }
    }

    /// `geometry_msgs/msg/PoseWithCovariance`: a pose with the row-major 6×6 covariance of
    /// (x, y, z, rotation about x, about y, about z), m² and rad².
    public struct PoseWithCovariance: ROSMessage, Hashable {
        public static let typeName = "geometry_msgs/msg/PoseWithCovariance"
        public static let messageText = "geometry_msgs/Pose pose\nfloat64[36] covariance\n"
        public static var dependencies: [any ROSMessage.Type] { [Pose.self] }

        public var pose: Pose
        /// Row-major 6×6, exactly 36 values.
        public var covariance: [Double]

        /// A pose with its covariance (default: zeros, "unknown").
        public init(pose: Pose = .init(), covariance: [Double] = Array(repeating: 0, count: 36)) {
            precondition(covariance.count == 36, "a pose covariance is 6×6: 36 values, not \(covariance.count)")
            self.pose = pose
            self.covariance = covariance
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(pose)
            // A covariance set to the wrong length after construction is padded or cut, so the
            // stream stays decodable (the length is part of the type).
            writer.writeArray(covariance.count == 36 ? covariance : Array((covariance + Array(repeating: 0, count: 36)).prefix(36)))
        }

        public init(from reader: inout CDRReader) throws {
            pose = try reader.read(Pose.self)
            covariance = try reader.readArray(of: Double.self, count: 36)
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

    /// `geometry_msgs/msg/TwistWithCovariance`: a twist with the row-major 6×6 covariance of
    /// (vx, vy, vz, wx, wy, wz).
    public struct TwistWithCovariance: ROSMessage, Hashable {
        public static let typeName = "geometry_msgs/msg/TwistWithCovariance"
        public static let messageText = "geometry_msgs/Twist twist\nfloat64[36] covariance\n"
        public static var dependencies: [any ROSMessage.Type] { [Twist.self] }

        public var twist: Twist
        /// Row-major 6×6, exactly 36 values.
        public var covariance: [Double]

        /// A twist with its covariance (default: zeros, "unknown").
        public init(twist: Twist = .init(), covariance: [Double] = Array(repeating: 0, count: 36)) {
            precondition(covariance.count == 36, "a twist covariance is 6×6: 36 values, not \(covariance.count)")
            self.twist = twist
            self.covariance = covariance
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(twist)
            writer.writeArray(covariance.count == 36 ? covariance : Array((covariance + Array(repeating: 0, count: 36)).prefix(36)))
        }

        public init(from reader: inout CDRReader) throws {
            twist = try reader.read(Twist.self)
            covariance = try reader.readArray(of: Double.self, count: 36)
        }
    }
}
