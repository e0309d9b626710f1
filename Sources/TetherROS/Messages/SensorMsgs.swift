import TetherCore

/// `sensor_msgs`: joint states, IMU readings and camera images.
public enum SensorMsgs {
    /// `sensor_msgs/msg/JointState`: per-joint position (rad or m), velocity and effort (N·m or N).
    ///
    /// The arrays are parallel to `name`; any of them may be empty when not measured.
    public struct JointState: ROSMessage, Hashable {
        public static let typeName = "sensor_msgs/msg/JointState"
        public static let messageText = """
            std_msgs/Header header
            string[] name
            float64[] position
            float64[] velocity
            float64[] effort

            """
        public static var dependencies: [any ROSMessage.Type] { [StdMsgs.Header.self] }

        public var header: StdMsgs.Header
        /// Joint names, in the order of the arrays.
        public var name: [String]
        public var position: [Double]
        public var velocity: [Double]
        public var effort: [Double]

        /// A joint state.
        public init(header: StdMsgs.Header = .init(), name: [String] = [], position: [Double] = [],
                    velocity: [Double] = [], effort: [Double] = []) {
            self.header = header
            self.name = name
            self.position = position
            self.velocity = velocity
            self.effort = effort
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(header)
            writer.writeSequence(name)
            writer.writeSequence(position)
            writer.writeSequence(velocity)
            writer.writeSequence(effort)
        }

        public init(from reader: inout CDRReader) throws {
            header = try reader.read(StdMsgs.Header.self)
            name = try reader.readSequence(of: String.self)
            position = try reader.readSequence(of: Double.self)
            velocity = try reader.readSequence(of: Double.self)
            effort = try reader.readSequence(of: Double.self)
        }
    }

    /// `sensor_msgs/msg/Imu`: orientation, angular velocity (rad/s) and linear acceleration
    /// (m/s²), each with a row-major 3×3 covariance; a covariance whose first element is −1
    /// means "not provided", as in ROS.
    public struct Imu: ROSMessage, Hashable {
        public static let typeName = "sensor_msgs/msg/Imu"
        public static let messageText = """
            std_msgs/Header header
            geometry_msgs/Quaternion orientation
            float64[9] orientation_covariance
            geometry_msgs/Vector3 angular_velocity
            float64[9] angular_velocity_covariance
            geometry_msgs/Vector3 linear_acceleration
            float64[9] linear_acceleration_covariance

            """
        public static var dependencies: [any ROSMessage.Type] {
            [StdMsgs.Header.self, GeometryMsgs.Quaternion.self, GeometryMsgs.Vector3.self]
        }

        public var header: StdMsgs.Header
        public var orientation: GeometryMsgs.Quaternion
        /// Row-major 3×3, exactly 9 values.
        public var orientationCovariance: [Double]
        public var angularVelocity: GeometryMsgs.Vector3
        /// Row-major 3×3, exactly 9 values.
        public var angularVelocityCovariance: [Double]
        public var linearAcceleration: GeometryMsgs.Vector3
        /// Row-major 3×3, exactly 9 values.
        public var linearAccelerationCovariance: [Double]

        /// An IMU reading; covariances default to zeros ("unknown").
        public init(header: StdMsgs.Header = .init(), orientation: GeometryMsgs.Quaternion = .init(),
                    orientationCovariance: [Double] = Array(repeating: 0, count: 9),
                    angularVelocity: GeometryMsgs.Vector3 = .init(),
                    angularVelocityCovariance: [Double] = Array(repeating: 0, count: 9),
                    linearAcceleration: GeometryMsgs.Vector3 = .init(),
                    linearAccelerationCovariance: [Double] = Array(repeating: 0, count: 9)) {
            precondition(orientationCovariance.count == 9 && angularVelocityCovariance.count == 9
                         && linearAccelerationCovariance.count == 9, "IMU covariances are 3×3: 9 values each")
            self.header = header
            self.orientation = orientation
            self.orientationCovariance = orientationCovariance
            self.angularVelocity = angularVelocity
            self.angularVelocityCovariance = angularVelocityCovariance
            self.linearAcceleration = linearAcceleration
            self.linearAccelerationCovariance = linearAccelerationCovariance
        }

        /// Writes a fixed `float64[9]`, padding or cutting a covariance set to the wrong length
        /// after construction so the stream stays decodable.
        private static func nine(_ values: [Double]) -> [Double] {
            values.count == 9 ? values : Array((values + Array(repeating: 0, count: 9)).prefix(9))
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(header)
            writer.write(orientation)
            writer.writeArray(Self.nine(orientationCovariance))
            writer.write(angularVelocity)
            writer.writeArray(Self.nine(angularVelocityCovariance))
            writer.write(linearAcceleration)
            writer.writeArray(Self.nine(linearAccelerationCovariance))
        }

        public init(from reader: inout CDRReader) throws {
            header = try reader.read(StdMsgs.Header.self)
            orientation = try reader.read(GeometryMsgs.Quaternion.self)
            orientationCovariance = try reader.readArray(of: Double.self, count: 9)
            angularVelocity = try reader.read(GeometryMsgs.Vector3.self)
            angularVelocityCovariance = try reader.readArray(of: Double.self, count: 9)
            linearAcceleration = try reader.read(GeometryMsgs.Vector3.self)
            linearAccelerationCovariance = try reader.readArray(of: Double.self, count: 9)
        }
    }

    /// `sensor_msgs/msg/Image`: an uncompressed image, rows top to bottom, `step` bytes per row.
    ///
    /// `encoding` names the pixel layout as ROS does (`rgb8`, `bgr8`, `mono8`, `mono16`, `32FC1`,
    /// ...). Encoding and decoding copy `data` in one piece, so a full-HD frame costs a `memcpy`,
    /// not a loop over its six million bytes.
    public struct Image: ROSMessage, Hashable {
        public static let typeName = "sensor_msgs/msg/Image"
        public static let messageText = """
            std_msgs/Header header
            uint32 height
            uint32 width
            string encoding
            uint8 is_bigendian
            uint32 step
            uint8[] data

            """
        public static var dependencies: [any ROSMessage.Type] { [StdMsgs.Header.self] }

        /// When the image was taken and the camera's optical frame.
        public var header: StdMsgs.Header
        /// Rows, pixels.
        public var height: UInt32
        /// Columns, pixels.
        public var width: UInt32
        /// The pixel layout (`rgb8`, `bgr8`, `mono8`, ...).
        public var encoding: String
        /// 1 when multi-byte pixel values are big endian (`is_bigendian`), else 0.
        public var isBigEndian: UInt8
        /// Bytes per row, padding included.
        public var step: UInt32
        /// The pixels, `step × height` bytes.
        public var data: [UInt8]

        /// An image from its fields.
        public init(header: StdMsgs.Header = .init(), height: UInt32 = 0, width: UInt32 = 0, encoding: String = "",
                    isBigEndian: UInt8 = 0, step: UInt32 = 0, data: [UInt8] = []) {
            self.header = header
            self.height = height
            self.width = width
            self.encoding = encoding
            self.isBigEndian = isBigEndian
            self.step = step
            self.data = data
        }

        public func encode(to writer: inout CDRWriter) {
            // The header, four numbers, two strings' lengths and NULs, and alignment fit in 64 bytes.
            writer.reserveCapacity(additional: data.count + header.frameID.utf8.count + encoding.utf8.count + 64)
            writer.write(header)
            writer.write(height)
            writer.write(width)
            writer.write(encoding)
            writer.write(isBigEndian)
            writer.write(step)
            writer.writeSequence(data)
        }

        public init(from reader: inout CDRReader) throws {
            header = try reader.read(StdMsgs.Header.self)
            height = try reader.read(UInt32.self)
            width = try reader.read(UInt32.self)
            encoding = try reader.read(String.self)
            isBigEndian = try reader.read(UInt8.self)
            step = try reader.read(UInt32.self)
            data = try reader.readSequence(of: UInt8.self)
        }
    }
}
