import TetherCore

/// `builtin_interfaces`: time stamps.
public enum BuiltinInterfaces {
    /// `builtin_interfaces/msg/Time`: seconds and nanoseconds since an epoch (ROS time).
    public struct Time: ROSMessage, Hashable, Comparable {
        public static let typeName = "builtin_interfaces/msg/Time"
        public static let messageText = "int32 sec\nuint32 nanosec\n"

        /// Whole seconds (may be negative before the epoch).
        public var sec: Int32
        /// Nanoseconds within the second, 0 ..< 1_000_000_000.
        public var nanosec: UInt32

        /// A time from its two fields.
        public init(sec: Int32 = 0, nanosec: UInt32 = 0) {
            self.sec = sec
            self.nanosec = nanosec
        }

        /// A time from nanoseconds since the epoch (the unit of MCAP log times).
        public init(nanoseconds: Int64) {
            let (q, r) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
            // Floor division, so that nanosec stays in 0 ..< 1e9 before the epoch too.
            sec = Int32(truncatingIfNeeded: r < 0 ? q - 1 : q)
            nanosec = UInt32(r < 0 ? r + 1_000_000_000 : r)
        }

        /// Nanoseconds since the epoch.
        public var nanoseconds: Int64 { Int64(sec) * 1_000_000_000 + Int64(nanosec) }

        public static func < (a: Time, b: Time) -> Bool { (a.sec, a.nanosec) < (b.sec, b.nanosec) }

        public func encode(to writer: inout CDRWriter) {
            writer.write(sec)
            writer.write(nanosec)
        }

        public init(from reader: inout CDRReader) throws {
            sec = try reader.read(Int32.self)
            nanosec = try reader.read(UInt32.self)
        }
    }
}

/// `std_msgs`: the header every stamped message carries, and small standard messages.
public enum StdMsgs {
    /// `std_msgs/msg/Header`: when the data was measured and in which frame.
    public struct Header: ROSMessage, Hashable {
        public static let typeName = "std_msgs/msg/Header"
        public static let messageText = "builtin_interfaces/Time stamp\nstring frame_id\n"
        public static var dependencies: [any ROSMessage.Type] { [BuiltinInterfaces.Time.self] }

        /// When the data was measured.
        public var stamp: BuiltinInterfaces.Time
        /// The coordinate frame of the data (`frame_id`).
        public var frameID: String

        /// A header from a stamp and a frame.
        public init(stamp: BuiltinInterfaces.Time = .init(), frameID: String = "") {
            self.stamp = stamp
            self.frameID = frameID
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(stamp)
            writer.write(frameID)
        }

        public init(from reader: inout CDRReader) throws {
            stamp = try reader.read(BuiltinInterfaces.Time.self)
            frameID = try reader.read(String.self)
        }
    }

    /// `std_msgs/msg/Bool`.
    public struct Bool: ROSMessage, Hashable {
        public static let typeName = "std_msgs/msg/Bool"
        public static let messageText = "bool data\n"

        /// The value.
        public var data: Swift.Bool

        /// A message holding `data`.
        public init(data: Swift.Bool = false) { self.data = data }

        public func encode(to writer: inout CDRWriter) { writer.write(data) }
        public init(from reader: inout CDRReader) throws { data = try reader.read(Swift.Bool.self) }
    }

    /// `std_msgs/msg/MultiArrayDimension`: one dimension of a multi-array layout.
    public struct MultiArrayDimension: ROSMessage, Hashable {
        public static let typeName = "std_msgs/msg/MultiArrayDimension"
        public static let messageText = "string label\nuint32 size\nuint32 stride\n"

        /// The dimension's name.
        public var label: String
        /// Number of elements along it.
        public var size: UInt32
        /// Elements spanned by one step of it (the product of this and the inner sizes).
        public var stride: UInt32

        /// A dimension.
        public init(label: String = "", size: UInt32 = 0, stride: UInt32 = 0) {
            self.label = label
            self.size = size
            self.stride = stride
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(label)
            writer.write(size)
            writer.write(stride)
        }

        public init(from reader: inout CDRReader) throws {
            label = try reader.read(String.self)
            size = try reader.read(UInt32.self)
            stride = try reader.read(UInt32.self)
        }
    }

    /// `std_msgs/msg/MultiArrayLayout`: how a flat array maps onto dimensions.
    public struct MultiArrayLayout: ROSMessage, Hashable {
        public static let typeName = "std_msgs/msg/MultiArrayLayout"
        public static let messageText = "std_msgs/MultiArrayDimension[] dim\nuint32 data_offset\n"
        public static var dependencies: [any ROSMessage.Type] { [MultiArrayDimension.self] }

        /// The dimensions, outermost first.
        public var dim: [MultiArrayDimension]
        /// Elements to skip at the start of the data (`data_offset`).
        public var dataOffset: UInt32

        /// A layout.
        public init(dim: [MultiArrayDimension] = [], dataOffset: UInt32 = 0) {
            self.dim = dim
            self.dataOffset = dataOffset
        }

        public func encode(to writer: inout CDRWriter) {
            writer.writeSequence(dim)
            writer.write(dataOffset)
        }

        public init(from reader: inout CDRReader) throws {
            dim = try reader.readSequence(of: MultiArrayDimension.self)
            dataOffset = try reader.read(UInt32.self)
        }
    }

    /// `std_msgs/msg/Float64MultiArray`: a flat `float64[]` with a layout.
    public struct Float64MultiArray: ROSMessage, Hashable {
        public static let typeName = "std_msgs/msg/Float64MultiArray"
        public static let messageText = "std_msgs/MultiArrayLayout layout\nfloat64[] data\n"
        public static var dependencies: [any ROSMessage.Type] { [MultiArrayLayout.self] }

        /// How `data` maps onto dimensions.
        public var layout: MultiArrayLayout
        /// The values, flat.
        public var data: [Double]

        /// An array with a layout.
        public init(layout: MultiArrayLayout = .init(), data: [Double] = []) {
            self.layout = layout
            self.data = data
        }

        /// A one-dimensional array labelled `label` (the usual way to publish a vector).
        public init(vector: [Double], label: String = "") {
            self.init(layout: MultiArrayLayout(dim: [.init(label: label, size: UInt32(vector.count), stride: UInt32(vector.count))]),
                      data: vector)
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(layout)
            writer.writeSequence(data)
        }

        public init(from reader: inout CDRReader) throws {
            layout = try reader.read(MultiArrayLayout.self)
            data = try reader.readSequence(of: Double.self)
        }
    }
}
