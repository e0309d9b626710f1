import CCycloneDDS
import Foundation
import TetherCore

/// ROS 2 over Cyclone DDS: participants, publishers and subscribers of `ROSMessage` types, with
/// ROS 2's conventions (rmw_cyclonedds): topic `rt/NAME`, type `pkg::msg::dds_::Name_`, keyless
/// XCDR1 samples whose bytes are encoded and decoded in Swift (a raw-CDR sertype in C).
public final class DDSParticipant: @unchecked Sendable {
    /// The participant's entity handle.
    public let handle: Int32
    /// The domain id.
    public let domain: UInt32

    /// A configuration that keeps all traffic on the loopback interface (tests, the virtual
    /// robot on one machine): no multicast, a unicast peer at 127.0.0.1.
    public static let loopbackConfiguration = """
    <CycloneDDS><Domain id="any"><General><Interfaces><NetworkInterface address="127.0.0.1"/></Interfaces>\
    <AllowMulticast>false</AllowMulticast></General><Discovery><Peers><Peer address="127.0.0.1"/></Peers>\
    <ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>60</MaxAutoParticipantIndex></Discovery></Domain></CycloneDDS>
    """

    /// Creates a participant on `domain` (default: `$ROS_DOMAIN_ID`, else 0) with a Cyclone XML
    /// configuration (nil: Cyclone's defaults and `$CYCLONEDDS_URI`).
    public init(domain: UInt32? = nil, configuration: String? = nil) throws {
        let id = domain ?? ProcessInfo.processInfo.environment["ROS_DOMAIN_ID"].flatMap { UInt32($0) } ?? 0
        let h = tdds_participant_create(id, configuration)
        guard h > 0 else { throw DDSParticipant.error("cannot create a DDS participant on domain \(id)", h) }
        handle = h
        self.domain = id
    }

    deinit { _ = tdds_delete(handle) }

    static func error(_ what: String, _ code: Int32) -> TetherError {
        TetherError("\(what): \(String(cString: tdds_error_text(code)))",
                    hint: "is another process using the domain with an incompatible configuration? Try ROS_DOMAIN_ID")
    }

    /// The DDS type name ROS 2 uses for `M`: `pkg/msg/Name` → `pkg::msg::dds_::Name_`.
    public static func ddsTypeName<M: ROSMessage>(_ type: M.Type) -> String {
        let parts = M.typeName.split(separator: "/")
        guard parts.count == 3 else { return M.typeName }
        return "\(parts[0])::\(parts[1])::dds_::\(parts[2])_"
    }

    /// The DDS topic name for a ROS 2 topic: `/joint_states` → `rt/joint_states`.
    public static func ddsTopicName(_ rosTopic: String) -> String {
        "rt/" + (rosTopic.hasPrefix("/") ? String(rosTopic.dropFirst()) : rosTopic)
    }

    func topic<M: ROSMessage>(_ name: String, _ type: M.Type) throws -> Int32 {
        let t = tdds_topic_create(handle, DDSParticipant.ddsTopicName(name), DDSParticipant.ddsTypeName(type))
        guard t > 0 else { throw DDSParticipant.error("cannot create topic \(name) (\(M.typeName))", t) }
        return t
    }
}

/// ROS 2 QoS profiles.
public enum QoSProfile: Sendable {
    /// Reliable, volatile, keep last 10 (ROS 2's default).
    case `default`
    /// Best effort, volatile, keep last 5 (ROS 2's sensor-data profile).
    case sensorData
    /// Reliable, transient local, keep last 1: a "latched" topic, whose last value a late
    /// subscriber still receives (ROS 2's pattern for e-stops, maps and robot descriptions).
    case latched
    /// The shim's flags: bit 0 reliable, bit 1 transient local.
    var flags: Int32 {
        switch self {
        case .default: return 1
        case .sensorData: return 0
        case .latched: return 3
        }
    }
    var depth: Int32 {
        switch self {
        case .default: return 10
        case .sensorData: return 5
        case .latched: return 1
        }
    }
}

/// Publishes `M` on a ROS 2 topic.
public final class DDSPublisher<M: ROSMessage>: @unchecked Sendable {
    public let participant: DDSParticipant
    public let topic: String
    let writer: Int32

    public init(_ participant: DDSParticipant, topic: String, qos: QoSProfile = .default) throws {
        self.participant = participant
        self.topic = topic
        let t = try participant.topic(topic, M.self)
        let w = tdds_writer_create(participant.handle, t, qos.flags, qos.depth)
        guard w > 0 else { throw DDSParticipant.error("cannot create a writer on \(topic)", w) }
        writer = w
    }

    deinit { _ = tdds_delete(writer) }

    /// Number of matched subscriptions.
    public var matchedSubscriptions: Int { Int(max(0, tdds_matched(writer, 1))) }

    /// Waits (polling every millisecond) until at least `count` subscribers matched; false on timeout.
    public func waitForSubscribers(_ count: Int = 1, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while matchedSubscriptions < count {
            if Date() > deadline { return false }
            usleep(1000)
        }
        return true
    }

    /// Publishes a message.
    public func publish(_ message: M) throws {
        try publish(serialized: message.cdrBytes())
    }

    /// Publishes a message that is already serialized: the 4-byte encapsulation header and the
    /// CDR payload, e.g. as read raw from a bag. The bytes are sent as they are, unchecked.
    public func publish(serialized bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBufferPointer { tdds_write(writer, $0.baseAddress, $0.count) }
        guard rc >= 0 else { throw DDSParticipant.error("cannot publish on \(topic)", rc) }
    }
}

/// Receives `M` from a ROS 2 topic.
public final class DDSSubscriber<M: ROSMessage>: @unchecked Sendable {
    public let participant: DDSParticipant
    public let topic: String
    let reader: Int32
    let waitset: Int32
    /// Streams whose reading thread is still running (tests check that cancellation ends them).
    let runningStreams = Locked(0)

    public init(_ participant: DDSParticipant, topic: String, qos: QoSProfile = .default) throws {
        self.participant = participant
        self.topic = topic
        let t = try participant.topic(topic, M.self)
        let r = tdds_reader_create(participant.handle, t, qos.flags, qos.depth)
        guard r > 0 else { throw DDSParticipant.error("cannot create a reader on \(topic)", r) }
        let ws = tdds_waitset_create(r)
        guard ws > 0 else {
            _ = tdds_delete(r)
            throw DDSParticipant.error("cannot create a waitset for \(topic)", ws)
        }
        reader = r
        waitset = ws
    }

    deinit {
        _ = tdds_delete(waitset)
        _ = tdds_delete(reader)
    }

    /// Number of matched publications.
    public var matchedPublishers: Int { Int(max(0, tdds_matched(reader, 0))) }

    /// Takes the next message, if one is waiting. A sample that is not CDR this build reads (wrong
    /// encapsulation, truncated) throws a clear error naming the topic; it is consumed either way.
    public func take() throws -> (message: M, sourceTime: Int64)? {
        var data: UnsafeMutablePointer<UInt8>?
        var size = 0
        var stamp: Int64 = 0
        let n = tdds_take(reader, &data, &size, &stamp)
        guard n >= 0 else { throw DDSParticipant.error("cannot take from \(topic)", n) }
        guard n == 1, let data else { return nil }
        defer { tdds_free(data) }
        let bytes = Array(UnsafeBufferPointer(start: data, count: size))
        do {
            return (try M(cdrBytes: bytes), stamp)
        } catch let error as TetherError {
            throw TetherError("a sample on \(topic) could not be decoded as \(M.typeName): \(error.what)",
                              at: DDSParticipant.ddsTopicName(topic), hint: error.hint)
        } catch {
            throw TetherError("a sample on \(topic) could not be decoded as \(M.typeName): \(error)", at: DDSParticipant.ddsTopicName(topic))
        }
    }

    /// Waits up to `timeout` seconds for a message.
    public func next(timeout: Double) throws -> M? {
        if let m = try take() { return m.message }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let remaining = max(0, deadline.timeIntervalSinceNow)
            _ = tdds_waitset_wait(waitset, Int64(remaining * 1e9))
            if let m = try take() { return m.message }
        }
        return nil
    }
}

/// One message as a subscriber received it, with the time its writer stamped it.
public struct DDSSample<M: ROSMessage>: Sendable {
    /// The decoded message.
    public var message: M
    /// The writer's source timestamp, nanoseconds since the Unix epoch.
    public var sourceTime: Int64
}

extension DDSSubscriber {
    /// The messages arriving on the topic, as an asynchronous sequence:
    /// `for try await joints in subscriber.messages() { ... }`.
    ///
    /// A thread of the stream's own waits on the reader (a Cyclone waitset: no spinning, woken by
    /// each arrival) and hands each message over as it comes. Invalid samples (disposals, a
    /// writer going away) are skipped. A sample that cannot be decoded (another encapsulation
    /// than plain CDR, truncated bytes) ends the stream with a `TetherError` naming the topic; the
    /// sample is consumed, so a new stream continues after it.
    ///
    /// The stream ends when the task iterating it is cancelled or the stream is dropped; its
    /// thread then stops within `pollInterval`. One stream per subscriber: two streams, or a
    /// stream and `next(timeout:)`, would share the messages between them.
    ///
    /// - Parameters:
    ///   - pollInterval: the longest the thread waits before checking whether the stream ended.
    ///     It does not delay messages, which wake the thread at once.
    ///   - limit: messages held for a consumer that falls behind; past it the oldest are dropped,
    ///     as a keep-last QoS history drops them.
    public func messages(pollInterval: Duration = .milliseconds(100), bufferingNewest limit: Int = 64)
        -> AsyncThrowingStream<M, any Error> {
        stream(pollInterval: pollInterval, limit: limit) { message, _ in message }
    }

    /// The messages arriving on the topic with their writers' timestamps; see `messages`.
    public func samples(pollInterval: Duration = .milliseconds(100), bufferingNewest limit: Int = 64)
        -> AsyncThrowingStream<DDSSample<M>, any Error> {
        stream(pollInterval: pollInterval, limit: limit) { DDSSample(message: $0, sourceTime: $1) }
    }

    private func stream<Element: Sendable>(pollInterval: Duration, limit: Int,
                                           _ element: @escaping @Sendable (M, Int64) -> Element)
        -> AsyncThrowingStream<Element, any Error> {
        precondition(pollInterval > .zero, "pollInterval must be positive")
        precondition(limit > 0, "a stream must buffer at least one message")
        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: Element.self, throwing: (any Error).self, bufferingPolicy: .bufferingNewest(limit))
        let ended = Locked(false)
        continuation.onTermination = { _ in ended.withLock { $0 = true } }
        let timeoutNanoseconds = Int64(min(max(pollInterval.seconds, 1e-9), 3600) * 1e9)  // at most an hour: no overflow
        runningStreams.withLock { $0 += 1 }
        // The thread holds the subscriber, so the reader and its waitset outlive every wait. It
        // shares the waitset with `next(timeout:)`: Cyclone lets several threads wait on one.
        let thread = Thread { [self] in
            defer { runningStreams.withLock { $0 -= 1 } }
            while !ended.withLock({ $0 }) {
                do {
                    while let sample = try take() {
                        if case .terminated = continuation.yield(element(sample.message, sample.sourceTime)) { return }
                    }
                } catch {
                    continuation.finish(throwing: error)
                    return
                }
                let rc = tdds_waitset_wait(waitset, timeoutNanoseconds)
                if rc < 0 {
                    continuation.finish(throwing: DDSParticipant.error("cannot wait for messages on \(topic)", rc))
                    return
                }
            }
        }
        thread.name = "tether.dds \(topic)"
        thread.start()
        return stream
    }
}

/// A value behind a lock, for the little state a stream's thread shares with its consumer.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    /// Runs `body` with the value, under the lock.
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
