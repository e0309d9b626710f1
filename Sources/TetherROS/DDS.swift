import CCycloneDDS
import Dispatch
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

    /// Creates (or finds) the topic; returns its handle and its sertype, which a publisher
    /// needs to build samples in place.
    func topic<M: ROSMessage>(_ name: String, _ type: M.Type) throws -> (handle: Int32, sertype: UnsafeRawPointer) {
        var sertype: UnsafeRawPointer?
        let t = tdds_topic_create(handle, DDSParticipant.ddsTopicName(name), DDSParticipant.ddsTypeName(type), &sertype)
        guard t > 0, let sertype else { throw DDSParticipant.error("cannot create topic \(name) (\(M.typeName))", t) }
        return (t, sertype)
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
    /// Reliable, volatile, keep last 1: only the newest sample matters (a command or a state in
    /// a control loop), and what ddsperf's ping/pong uses.
    case reliableLatest
    /// Reliable, volatile, keep all: nothing is dropped; a writer that outpaces its readers
    /// blocks (up to 1 s) instead (bulk transfer, and ddsperf's pub/sub default).
    case reliableKeepAll
    /// Reliable keep-all, with writes batched: a writer packs messages into network packets and
    /// sends one when it is full, or when `DDSPublisher.flush()` is called. For bulk transfer of
    /// many small messages (ddsperf's pub mode does the same); never for a control loop, since a
    /// message may wait for the next ones. Readers use it as `reliableKeepAll`.
    case bulk
    /// The shim's flags: bit 0 reliable, bit 1 transient local, bit 2 batched writes.
    var flags: Int32 {
        switch self {
        case .default, .reliableLatest, .reliableKeepAll: return 1
        case .bulk: return 5
        case .sensorData: return 0
        case .latched: return 3
        }
    }
    /// Keep-last depth; 0 is keep all.
    var depth: Int32 {
        switch self {
        case .default: return 10
        case .sensorData: return 5
        case .latched, .reliableLatest: return 1
        case .reliableKeepAll, .bulk: return 0
        }
    }
}

/// Publishes `M` on a ROS 2 topic.
///
/// A message is encoded into a buffer the publisher keeps (no allocation once it has grown to
/// the message's size), then copied once into the sample DDS sends, which Cyclone takes over
/// as it is (`dds_writecdr`): no further copy on the way to the socket or a local reader.
public final class DDSPublisher<M: ROSMessage>: @unchecked Sendable {
    public let participant: DDSParticipant
    public let topic: String
    let writer: Int32
    let sertype: UnsafeRawPointer
    /// The encoding buffer, reused from one message to the next; the lock makes `publish` safe
    /// to call from several threads.
    private let scratch = Locked(CDRWriter())

    public init(_ participant: DDSParticipant, topic: String, qos: QoSProfile = .default) throws {
        self.participant = participant
        self.topic = topic
        let t = try participant.topic(topic, M.self)
        let w = tdds_writer_create(participant.handle, t.handle, qos.flags, qos.depth)
        guard w > 0 else { throw DDSParticipant.error("cannot create a writer on \(topic)", w) }
        writer = w
        sertype = t.sertype
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
        let rc = scratch.withLock { writer -> Int32 in
            writer.restart()
            message.encode(to: &writer)
            return writer.bytes.withUnsafeBytes { send($0) }
        }
        guard rc >= 0 else { throw DDSParticipant.error("cannot publish on \(topic)", rc) }
    }

    /// Sends the messages a `.bulk` publisher still holds (nothing to do for other profiles).
    public func flush() throws {
        let rc = tdds_write_flush(writer)
        guard rc >= 0 else { throw DDSParticipant.error("cannot flush \(topic)", rc) }
    }

    /// Publishes a message that is already serialized: the 4-byte encapsulation header and the
    /// CDR payload, e.g. as read raw from a bag. The bytes are sent as they are, unchecked.
    public func publish(serialized bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBytes { send($0) }
        guard rc >= 0 else { throw DDSParticipant.error("cannot publish on \(topic)", rc) }
    }

    /// Copies `bytes` into a new DDS sample and writes it; Cyclone's return code.
    private func send(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        var data: UnsafeMutablePointer<UInt8>?
        guard let sample = tdds_sample_new(sertype, bytes.count, &data) else { return -5 }  // DDS_RETCODE_OUT_OF_RESOURCES
        if let data, let base = bytes.baseAddress, bytes.count > 0 { data.update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
        return tdds_write_sample(writer, sample)
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
    /// The installed handler's box, retained while Cyclone may call it.
    private let callback = Locked<Unmanaged<DDSCallback>?>(nil)

    public init(_ participant: DDSParticipant, topic: String, qos: QoSProfile = .default) throws {
        self.participant = participant
        self.topic = topic
        let t = try participant.topic(topic, M.self)
        let r = tdds_reader_create(participant.handle, t.handle, qos.flags, qos.depth)
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
        removeHandler()
        _ = tdds_delete(waitset)
        _ = tdds_delete(reader)
    }

    /// Number of matched publications.
    public var matchedPublishers: Int { Int(max(0, tdds_matched(reader, 0))) }

    /// Takes the next message, if one is waiting. A sample that is not CDR this build reads (wrong
    /// encapsulation, truncated) throws a clear error naming the topic; it is consumed either way.
    public func take() throws -> (message: M, sourceTime: Int64)? {
        try Self.take(reader: reader, topic: topic)
    }

    /// Takes and decodes one sample straight from the bytes DDS received (borrowed, released
    /// once decoded: no copy in the sertype, none in between).
    static func take(reader: Int32, topic: String) throws -> (message: M, sourceTime: Int64)? {
        var sample: UnsafeMutableRawPointer?
        var data: UnsafePointer<UInt8>?
        var size = 0
        var stamp: Int64 = 0
        let n = tdds_take_borrowed(reader, &sample, &data, &size, &stamp)
        guard n >= 0 else { throw DDSParticipant.error("cannot take from \(topic)", n) }
        guard n == 1, let sample else { return nil }
        defer { tdds_sample_release(sample) }
        do {
            return (try M(cdrBytes: UnsafeRawBufferPointer(start: data, count: size)), stamp)
        } catch let error as TetherError {
            throw TetherError("a sample on \(topic) could not be decoded as \(M.typeName): \(error.what)",
                              at: DDSParticipant.ddsTopicName(topic), hint: error.hint)
        } catch {
            throw TetherError("a sample on \(topic) could not be decoded as \(M.typeName): \(error)", at: DDSParticipant.ddsTopicName(topic))
        }
    }

    /// Takes every waiting sample in batches of up to 16 per call into DDS (one call when fewer
    /// are waiting: no empty take after the last, as a loop of single takes needs), decodes each
    /// from its borrowed bytes and passes it, or its decoding error, to `body`. Buffers on the stack.
    static func takeAll(reader: Int32, topic: String, _ body: (Result<DDSSample<M>, any Error>) -> Void) {
        let batch = 16
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: batch) { samples in
            withUnsafeTemporaryAllocation(of: UnsafePointer<UInt8>?.self, capacity: batch) { data in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: batch) { sizes in
                    withUnsafeTemporaryAllocation(of: Int64.self, capacity: batch) { stamps in
                        while true {
                            let r = tdds_take_borrowed_batch(reader, Int32(batch), samples.baseAddress, data.baseAddress, sizes.baseAddress,
                                                             stamps.baseAddress)
                            guard r >= 0 else { body(.failure(DDSParticipant.error("cannot take from \(topic)", r))); return }
                            for i in 0..<Int(r & 0xFFFF) {
                                defer { tdds_sample_release(samples[i]) }
                                do {
                                    let message = try M(cdrBytes: UnsafeRawBufferPointer(start: data[i], count: sizes[i]))
                                    body(.success(DDSSample(message: message, sourceTime: stamps[i])))
                                } catch {
                                    let what = (error as? TetherError)?.what ?? "\(error)"
                                    body(.failure(TetherError("a sample on \(topic) could not be decoded as \(M.typeName): \(what)",
                                                              at: DDSParticipant.ddsTopicName(topic), hint: (error as? TetherError)?.hint)))
                                }
                            }
                            if r & 0x10000 == 0 { return }  // the reader had fewer than a full batch: nothing left
                        }
                    }
                }
            }
        }
    }

    /// Calls `handler` with each message as it arrives, on Cyclone's receive thread (a DDS
    /// listener): no thread of ours is woken in between, which is what a reply sent from the
    /// handler (an echo, a controller's answer) needs to be as fast as DDS itself.
    ///
    /// The handler must return quickly (it holds up every other arrival on the participant) and
    /// must not remove the handler or release the last reference to this subscriber (either
    /// waits for the handler to return). A sample that cannot be decoded is passed as a failure
    /// naming the topic, and consumed. Replaces any earlier handler; `take`, `next` and the
    /// streams then see no messages, since the handler takes them all.
    public func setHandler(_ handler: @escaping @Sendable (Result<DDSSample<M>, any Error>) -> Void) throws {
        removeHandler()
        let reader = reader, topic = topic
        let box = DDSCallback { Self.takeAll(reader: reader, topic: topic, handler) }
        let context = Unmanaged.passRetained(box)
        let rc = tdds_reader_set_callback(reader, ddsCallbackTrampoline, context.toOpaque())
        guard rc >= 0 else {
            context.release()
            throw DDSParticipant.error("cannot install a handler on \(topic)", rc)
        }
        callback.withLock { $0 = context }
        // Samples that arrived before the listener was installed raise no new event: take them now.
        box.body()
    }

    /// Removes the handler of `setHandler`, once any call in progress has returned.
    public func removeHandler() {
        guard let context = callback.withLock({ c -> Unmanaged<DDSCallback>? in defer { c = nil }; return c }) else { return }
        _ = tdds_reader_set_callback(reader, nil, nil)
        context.release()
    }

    /// Waits up to `timeout` seconds for a message: the calling thread sleeps on a Cyclone
    /// waitset that DDS wakes when a sample arrives (and that returns at once when one is already
    /// waiting, so no take is spent before the wait).
    public func next(timeout: Double) throws -> M? {
        let start = DispatchTime.now().uptimeNanoseconds
        let limit = UInt64(max(0, min(timeout, 1e6)) * 1e9)  // at most ~11 days: no overflow
        while true {
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            let triggered = tdds_waitset_wait(waitset, Int64(limit - min(elapsed, limit)))
            if triggered != 0, let m = try take() { return m.message }
            if DispatchTime.now().uptimeNanoseconds - start >= limit { return try take()?.message }
        }
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

/// What a reader's DDS listener calls: a Swift closure behind the C function pointer.
final class DDSCallback: @unchecked Sendable {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// The C entry point of every listener: the context is a retained `DDSCallback`.
private let ddsCallbackTrampoline: @convention(c) (Int32, UnsafeMutableRawPointer?) -> Void = { _, context in
    guard let context else { return }
    Unmanaged<DDSCallback>.fromOpaque(context).takeUnretainedValue().body()
}

/// A value behind a lock, for the little state a stream's thread shares with its consumer (and
/// the benchmarks' processes with their readers).
public final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    /// Runs `body` with the value, under the lock.
    public func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
