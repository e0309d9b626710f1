import Foundation
import TetherCore

/// A ROS 2 message type with a CDR encoding and a `ros2msg` definition.
///
/// Conforming types are plain value types whose fields follow the `.msg` file in order; `encode`
/// and `init(from:)` read and write them in that order.
public protocol ROSMessage: Sendable, Equatable {
    /// The full ROS 2 type name, `package/msg/Name` (e.g. `sensor_msgs/msg/JointState`).
    static var typeName: String { get }
    /// This type's own `.msg` text: constants and fields, nested types named `package/Name`.
    static var messageText: String { get }
    /// The message types this one's fields use directly (their own dependencies are followed).
    static var dependencies: [any ROSMessage.Type] { get }
    /// The concatenated definition a ROS 2 bag stores as the schema (see `ROSDefinition`).
    static var definition: String { get }

    /// Appends the fields to a CDR stream.
    func encode(to writer: inout CDRWriter)
    /// Reads the fields from a CDR stream.
    init(from reader: inout CDRReader) throws
}

extension ROSMessage {
    public static var dependencies: [any ROSMessage.Type] { [] }
    public static var definition: String { ROSDefinition.concatenated(Self.self) }

    /// `package/Name`, the form `.msg` files and `MSG:` lines use.
    public static var shortTypeName: String { ROSDefinition.shortName(typeName) }

    /// The message serialized as CDR (little endian) with its encapsulation header.
    public func cdrBytes() -> [UInt8] {
        var writer = CDRWriter()
        encode(to: &writer)
        return writer.bytes
    }

    /// Decodes a message from CDR bytes that start with the encapsulation header.
    public init(cdrBytes: [UInt8]) throws {
        try self.init(reader: CDRReader(cdrBytes))
    }

    /// Decodes a message straight from memory (a received DDS sample), without copying it into an
    /// array first; the memory need only stay valid during this call.
    public init(cdrBytes: UnsafeRawBufferPointer) throws {
        try self.init(reader: CDRReader(borrowing: cdrBytes))
    }

    private init(reader: CDRReader) throws {
        var reader = reader
        do {
            try self.init(from: &reader)
        } catch let error as TetherError {
            throw TetherError(error.what, at: error.location ?? Self.typeName, hint: error.hint)
        }
    }
}

/// Builds the schema text ROS 2 bag writers store for a message type.
public enum ROSDefinition {
    /// The separator line between the definitions of a message and its dependencies.
    public static let separator = String(repeating: "=", count: 80)

    /// `pkg/msg/Name` → `pkg/Name`.
    public static func shortName(_ typeName: String) -> String {
        let parts = typeName.split(separator: "/")
        guard parts.count == 3 else { return typeName }
        return "\(parts[0])/\(parts[2])"
    }

    /// The type's own text, then each dependency (depth first, each once) after a separator line
    /// and a `MSG: package/Name` line, as rosbag2 writes the schema of a topic.
    public static func concatenated(_ type: any ROSMessage.Type) -> String {
        var seen: Set<String> = [type.typeName]
        var text = type.messageText
        func append(_ dependency: any ROSMessage.Type) {
            guard seen.insert(dependency.typeName).inserted else { return }
            if !text.hasSuffix("\n") { text += "\n" }
            text += "\(separator)\nMSG: \(shortName(dependency.typeName))\n\(dependency.messageText)"
            for next in dependency.dependencies { append(next) }
        }
        for dependency in type.dependencies { append(dependency) }
        return text
    }
}
