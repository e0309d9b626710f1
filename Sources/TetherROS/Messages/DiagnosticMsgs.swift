import TetherCore

/// `diagnostic_msgs`: component health, as `/diagnostics` carries it.
public enum DiagnosticMsgs {
    /// `diagnostic_msgs/msg/KeyValue`: one named value of a status.
    public struct KeyValue: ROSMessage, Hashable {
        public static let typeName = "diagnostic_msgs/msg/KeyValue"
        public static let messageText = "string key\nstring value\n"

        public var key: String
        public var value: String

        /// A key and its value.
        public init(key: String = "", value: String = "") {
            self.key = key
            self.value = value
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(key)
            writer.write(value)
        }

        public init(from reader: inout CDRReader) throws {
            key = try reader.read(String.self)
            value = try reader.read(String.self)
        }
    }

    /// `diagnostic_msgs/msg/DiagnosticStatus`: the state of one component.
    public struct DiagnosticStatus: ROSMessage, Hashable {
        public static let typeName = "diagnostic_msgs/msg/DiagnosticStatus"
        public static let messageText = """
            byte OK=0
            byte WARN=1
            byte ERROR=2
            byte STALE=3
            byte level
            string name
            string message
            string hardware_id
            diagnostic_msgs/KeyValue[] values

            """
        public static var dependencies: [any ROSMessage.Type] { [KeyValue.self] }

        /// The `level` constants of the message definition.
        public static let ok: UInt8 = 0
        public static let warn: UInt8 = 1
        public static let error: UInt8 = 2
        public static let stale: UInt8 = 3

        /// One of `ok`, `warn`, `error`, `stale`.
        public var level: UInt8
        /// The component, e.g. `tether: safety`.
        public var name: String
        /// What is going on, in a sentence.
        public var message: String
        /// The hardware it runs on (`hardware_id`).
        public var hardwareID: String
        public var values: [KeyValue]

        /// A status.
        public init(level: UInt8 = DiagnosticStatus.ok, name: String = "", message: String = "",
                    hardwareID: String = "", values: [KeyValue] = []) {
            self.level = level
            self.name = name
            self.message = message
            self.hardwareID = hardwareID
            self.values = values
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(level)
            writer.write(name)
            writer.write(message)
            writer.write(hardwareID)
            writer.writeSequence(values)
        }

        public init(from reader: inout CDRReader) throws {
            level = try reader.read(UInt8.self)
            name = try reader.read(String.self)
            message = try reader.read(String.self)
            hardwareID = try reader.read(String.self)
            values = try reader.readSequence(of: KeyValue.self)
        }
    }

    /// `diagnostic_msgs/msg/DiagnosticArray`: the statuses reported at one time.
    public struct DiagnosticArray: ROSMessage, Hashable {
        public static let typeName = "diagnostic_msgs/msg/DiagnosticArray"
        public static let messageText = "std_msgs/Header header\ndiagnostic_msgs/DiagnosticStatus[] status\n"
        public static var dependencies: [any ROSMessage.Type] { [StdMsgs.Header.self, DiagnosticStatus.self] }

        public var header: StdMsgs.Header
        public var status: [DiagnosticStatus]

        /// A diagnostic array.
        public init(header: StdMsgs.Header = .init(), status: [DiagnosticStatus] = []) {
            self.header = header
            self.status = status
        }

        public func encode(to writer: inout CDRWriter) {
            writer.write(header)
            writer.writeSequence(status)
        }

        public init(from reader: inout CDRReader) throws {
            header = try reader.read(StdMsgs.Header.self)
            status = try reader.readSequence(of: DiagnosticStatus.self)
        }
    }
}
