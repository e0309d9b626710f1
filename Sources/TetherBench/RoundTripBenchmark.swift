import Dispatch
import Foundation
import TetherCore
import TetherROS

/// `tether bench ros2`: ROS 2 messages between two processes on loopback through Tether's DDS
/// layer, and in the same run Cyclone's own `ddsperf` (Debian cyclonedds-tools) with payloads of
/// the same size on the same loopback configuration; prints both and the ratios.
///
/// What is compared, and why it is fair:
/// - **Round trip** (latency): a ping process and a separate pong process, one message in
///   flight, as `ddsperf ping` / `ddsperf pong` run. The payload is the message's CDR payload
///   (without the 4-byte encapsulation header, which both put on the wire), passed to ddsperf as
///   `ping size N` (its default KS topic: sequence number, key, octet sequence; N includes that
///   fixed part). QoS on both: reliable, volatile, keep last 1 (ddsperf's ping/pong always uses
///   keep-last-1). Two triggering modes, each against ddsperf's same mode: *handler*, where the
///   reply is sent from DDS's listener on the receive thread (`DDSSubscriber.setHandler`, ddsperf's
///   default `listener`), and *waiting caller*, where a thread publishes and blocks in
///   `next(timeout:)` on a waitset (`ddsperf ping waitset` / `pong waitset`). The pong side decodes
///   each message and encodes it again, as any ROS node would; ddsperf's deserializes and
///   serializes its own type the same way.
/// - **Throughput** (one way): a publisher in this process sending as fast as DDS accepts,
///   reliable keep-all with writes batched into packets (`QoSProfile.bulk`; the writer blocks
///   when the reader falls behind: ddsperf's pub/sub default, batching included), and a subscriber process that decodes every message in a handler; against
///   `ddsperf pub size N` / `ddsperf sub`.
/// - **Statistics**: both sides report per window and the best window is kept: Tether repeats
///   each round-trip measurement `repeats` times and keeps the best median (p99 from the same
///   repetition); ddsperf prints one line a second and the best second is kept. Throughput is the
///   median over the full one-second windows on both sides.
public struct ROS2Benchmark: Sendable {
    /// Timed round trips per repetition (JointState).
    public var count: Int
    /// Repetitions of each round-trip measurement (the best is kept).
    public var repeats: Int
    /// Duration of each throughput run and of each ddsperf latency run, s.
    public var seconds: Double
    /// DDS domain for Tether; ddsperf uses the next one.
    public var domain: UInt32
    /// Measure throughput and images too (false: the JointState round trips only).
    public var includeThroughput: Bool
    /// The executable with the `bench ros2 --role` entry points (nil: this process's own binary).
    public var executable: String?

    public init(count: Int = 5000, repeats: Int = 5, seconds: Double = 5, domain: UInt32 = 91, includeThroughput: Bool = true,
                executable: String? = nil) {
        self.count = count
        self.repeats = repeats
        self.seconds = seconds
        self.domain = domain
        self.includeThroughput = includeThroughput
        self.executable = executable
    }

    /// One round-trip comparison.
    public struct Latency: Sendable, Codable {
        /// What was measured (message and triggering mode).
        public var name: String
        /// The CDR payload (without the 4-byte encapsulation header), bytes; ddsperf's `size`.
        public var payloadBytes: Int
        public var tetherMedianMicroseconds: Double
        public var tetherP99Microseconds: Double
        public var ddsperfMedianMicroseconds: Double?
        public var ddsperfP99Microseconds: Double?
        /// Tether median / ddsperf median (lower is better for Tether; 1 is parity).
        public var ratio: Double?
    }

    /// One one-way throughput comparison.
    public struct Throughput: Sendable, Codable {
        public var name: String
        public var payloadBytes: Int
        public var tetherMessagesPerSecond: Double
        public var tetherMegabytesPerSecond: Double
        public var ddsperfMessagesPerSecond: Double?
        public var ddsperfMegabytesPerSecond: Double?
        /// Tether messages/s ÷ ddsperf messages/s (higher is better for Tether; 1 is parity).
        public var ratio: Double?
    }

    /// Everything one run measured.
    public struct Report: Sendable, Codable {
        /// Swift's share of one JointState hop, µs: encoding into the publisher's buffer, and
        /// decoding from the received bytes (the rest of a hop is Cyclone and the kernel).
        public var jointStateEncodeMicroseconds: Double
        public var jointStateDecodeMicroseconds: Double
        public var latency: [Latency]
        public var throughput: [Throughput]
        /// Why a peer figure is missing (ddsperf not installed, its output not recognised), if one is.
        public var notes: [String]
    }

    /// Runs every measurement, printing each line through `log` as it is measured.
    public func run(log: (String) -> Void = { _ in }) throws -> Report {
        precondition(count >= 100 && repeats > 0 && seconds >= 3, "need count >= 100, repeats > 0 and seconds >= 3")
        let exe = executable ?? ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        var notes: [String] = []
        let ddsperf = DDSPerf.find()
        if ddsperf == nil {
            notes.append("ddsperf not found in /usr/bin or /usr/local/bin: install Debian's cyclonedds-tools for the peer figures")
        }
        func note(_ text: String) {
            notes.append(text)
            log("  " + text)
        }
        var latency: [Latency] = []
        let joints = ROS2BenchMessages.jointState()
        let jointBytes = joints.cdrBytes().count - 4
        let codec = try RoundTripBenchmark.codecCost(joints)
        log(String(format: "  JointState in Swift: encode %.2f µs, decode %.2f µs per message", codec.encode, codec.decode))
        // One round-trip row: Tether's best of `repeats`, then ddsperf with the same payload and trigger.
        func roundTrip(_ name: String, _ message: ROS2BenchMessage, payloadBytes: Int, trigger: ROS2BenchTrigger, count: Int) throws {
            let mine = try RoundTripBenchmark.measure(executable: exe, message: message, trigger: trigger, domain: domain,
                                                      count: count, repeats: repeats)
            var row = Latency(name: name, payloadBytes: payloadBytes, tetherMedianMicroseconds: mine.median, tetherP99Microseconds: mine.p99)
            if let ddsperf {
                switch ddsperf.roundTrip(domain: domain + 1, payloadBytes: payloadBytes, trigger: trigger, seconds: seconds) {
                case .success(let peer):
                    row.ddsperfMedianMicroseconds = peer.median
                    row.ddsperfP99Microseconds = peer.p99
                    row.ratio = mine.median / peer.median
                case .failure(let why): note("\(name): \(why.text)")
                }
            }
            log(Self.line(row))
            latency.append(row)
        }
        for trigger in [ROS2BenchTrigger.handler, .waitingCaller] {
            try roundTrip("JointState (12 joints), \(trigger.label)", .jointState, payloadBytes: jointBytes, trigger: trigger, count: count)
        }
        var throughput: [Throughput] = []
        if includeThroughput {
            let image = ROS2BenchMessages.image(payloadBytes: nil)
            let imageBytes = image.cdrBytes().count - 4
            try roundTrip("Image 640×480 rgb8, handler", .image, payloadBytes: imageBytes, trigger: .handler, count: max(50, count / 50))
            for (name, bytes) in [("1 KiB", 1024), ("64 KiB", 65536), ("Image 640×480 rgb8", imageBytes)] {
                let rate = try RoundTripBenchmark.oneWay(executable: exe, payloadBytes: bytes, domain: domain, seconds: seconds)
                var row = Throughput(name: name, payloadBytes: bytes, tetherMessagesPerSecond: rate,
                                     tetherMegabytesPerSecond: rate * Double(bytes) / 1e6)
                if let ddsperf {
                    switch ddsperf.throughput(domain: domain + 1, payloadBytes: bytes, seconds: seconds) {
                    case .success(let peer):
                        row.ddsperfMessagesPerSecond = peer
                        row.ddsperfMegabytesPerSecond = peer * Double(bytes) / 1e6
                        row.ratio = rate / peer
                    case .failure(let why): note("throughput \(name): \(why.text)")
                    }
                }
                log(Self.line(row))
                throughput.append(row)
            }
        }
        return Report(jointStateEncodeMicroseconds: codec.encode, jointStateDecodeMicroseconds: codec.decode, latency: latency,
                      throughput: throughput, notes: notes)
    }

    static func line(_ r: Latency) -> String {
        var text = String(format: "  %@ (%d B): tether median %8.2f µs p99 %8.2f µs", r.name, r.payloadBytes,
                          r.tetherMedianMicroseconds, r.tetherP99Microseconds)
        if let m = r.ddsperfMedianMicroseconds, let p = r.ddsperfP99Microseconds, let ratio = r.ratio {
            text += String(format: " | ddsperf median %8.2f µs p99 %8.2f µs | ratio %.2f", m, p, ratio)
        }
        return text
    }

    static func line(_ r: Throughput) -> String {
        var text = String(format: "  one-way %@ (%d B): tether %9.0f msg/s %8.1f MB/s", r.name, r.payloadBytes,
                          r.tetherMessagesPerSecond, r.tetherMegabytesPerSecond)
        if let m = r.ddsperfMessagesPerSecond, let b = r.ddsperfMegabytesPerSecond, let ratio = r.ratio {
            text += String(format: " | ddsperf %9.0f msg/s %8.1f MB/s | ratio %.2f", m, b, ratio)
        }
        return text
    }
}

/// How the receiving side of a round trip is woken.
public enum ROS2BenchTrigger: String, Sendable, Codable, CaseIterable {
    /// A DDS listener: the reply is sent from Cyclone's receive thread.
    case handler
    /// A thread that publishes, then blocks on a waitset in `next(timeout:)`.
    case waitingCaller = "waiting-caller"

    var label: String { self == .handler ? "handler (DDS listener)" : "waiting caller (waitset)" }
}

/// The messages the benchmark sends.
public enum ROS2BenchMessage: String, Sendable, Codable, CaseIterable {
    /// sensor_msgs/JointState with 12 joints.
    case jointState = "jointstate"
    /// sensor_msgs/Image, 640×480 rgb8.
    case image
}

/// Messages whose header stamp carries the benchmark's sequence number.
protocol ROS2BenchStamped: ROSMessage {
    var header: StdMsgs.Header { get set }
}
extension SensorMsgs.JointState: ROS2BenchStamped {}
extension SensorMsgs.Image: ROS2BenchStamped {}

enum ROS2BenchMessages {
    static func jointState() -> SensorMsgs.JointState {
        SensorMsgs.JointState(name: (0..<12).map { "joint_\($0)" }, position: .init(repeating: 0.5, count: 12),
                              velocity: .init(repeating: 0.1, count: 12), effort: .init(repeating: 1, count: 12))
    }

    /// A 640×480 rgb8 image, or (with `payloadBytes`) a mono8 image one row high whose CDR payload is
    /// exactly that many bytes (the 1 KiB and 64 KiB throughput messages).
    static func image(payloadBytes: Int?) -> SensorMsgs.Image {
        guard let payloadBytes else {
            return SensorMsgs.Image(height: 480, width: 640, encoding: "rgb8", step: 640 * 3,
                                    data: (0..<(640 * 480 * 3)).map { UInt8(truncatingIfNeeded: $0) })
        }
        let overhead = SensorMsgs.Image(height: 1, encoding: "mono8").cdrBytes().count - 4
        let pixels = max(0, payloadBytes - overhead)
        return SensorMsgs.Image(height: 1, width: UInt32(pixels), encoding: "mono8", step: UInt32(pixels),
                                data: (0..<pixels).map { UInt8(truncatingIfNeeded: $0) })
    }
}

/// Tether's side of `bench ros2`: the ping and publishing ends (this process) and the pong and
/// sink ends (`tether bench ros2 --role pong|sink`, separate processes as ddsperf's are).
public enum RoundTripBenchmark {
    static let pingTopic = "/tether_bench/ping", pongTopic = "/tether_bench/pong", bulkTopic = "/tether_bench/bulk"

    /// The echo side: returns every ping on the pong topic until `seconds` pass.
    public static func pong(domain: UInt32, seconds: Double, message: ROS2BenchMessage, trigger: ROS2BenchTrigger) throws {
        switch message {
        case .jointState: try pong(SensorMsgs.JointState.self, domain: domain, seconds: seconds, trigger: trigger)
        case .image: try pong(SensorMsgs.Image.self, domain: domain, seconds: seconds, trigger: trigger)
        }
    }

    static func pong<M: ROSMessage>(_ type: M.Type, domain: UInt32, seconds: Double, trigger: ROS2BenchTrigger) throws {
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let input = try DDSSubscriber<M>(participant, topic: pingTopic, qos: .reliableLatest)
        let output = try DDSPublisher<M>(participant, topic: pongTopic, qos: .reliableLatest)
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        switch trigger {
        case .handler:
            try input.setHandler { received in
                if case .success(let sample) = received { try? output.publish(sample.message) }
            }
            while DispatchTime.now().uptimeNanoseconds < end { usleep(100_000) }
            input.removeHandler()
        case .waitingCaller:
            while DispatchTime.now().uptimeNanoseconds < end {
                if let m = try input.next(timeout: 0.1) { try output.publish(m) }
            }
        }
    }

    /// The CPU cost of one message in Swift, µs: encoding into the publisher's buffer and decoding
    /// from received bytes (best of 5 runs of `count` each), the two parts of a hop that are Tether's own.
    public static func codecCost<M: ROSMessage>(_ message: M, count: Int = 20000) throws -> (encode: Double, decode: Double) {
        var writer = CDRWriter()
        var encode = Double.infinity, decode = Double.infinity
        let bytes = message.cdrBytes()
        var checksum = 0
        for _ in 0..<5 {
            var start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<count {
                writer.restart()
                message.encode(to: &writer)
                checksum &+= writer.bytes.count
            }
            encode = min(encode, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(count))
            start = DispatchTime.now().uptimeNanoseconds
            try bytes.withUnsafeBytes { raw in
                for _ in 0..<count { checksum &+= try M(cdrBytes: raw) == message ? 1 : 0 }
            }
            decode = min(decode, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(count))
        }
        precondition(checksum != 0)
        return (encode, decode)
    }

    /// Median and p99 of one run of round trips, µs.
    struct Figures {
        var median: Double
        var p99: Double
    }

    /// Starts a pong process and pings it `repeats` times `count` round trips; the best median.
    static func measure(executable: String, message: ROS2BenchMessage, trigger: ROS2BenchTrigger, domain: UInt32,
                        count: Int, repeats: Int) throws -> Figures {
        let pong = Process()
        pong.executableURL = URL(fileURLWithPath: executable)
        pong.arguments = ["bench", "ros2", "--role", "pong", "--message", message.rawValue, "--trigger", trigger.rawValue,
                          "--domain", "\(domain)", "--seconds", "300"]
        try pong.run()
        defer { if pong.isRunning { pong.terminate(); pong.waitUntilExit() } }
        switch message {
        case .jointState:
            return try ping(ROS2BenchMessages.jointState(), domain: domain, trigger: trigger, count: count, repeats: repeats)
        case .image:
            return try ping(ROS2BenchMessages.image(payloadBytes: nil), domain: domain, trigger: trigger, count: count, repeats: repeats)
        }
    }

    /// The pinging side: after a warm-up, `repeats` runs of `count` round trips, one message in flight.
    static func ping<M: ROS2BenchStamped>(_ message: M, domain: UInt32, trigger: ROS2BenchTrigger, count: Int, repeats: Int,
                                          timeout: Double = 20) throws -> Figures {
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let output = try DDSPublisher<M>(participant, topic: pingTopic, qos: .reliableLatest)
        let input = try DDSSubscriber<M>(participant, topic: pongTopic, qos: .reliableLatest)
        guard output.waitForSubscribers(timeout: timeout) else {
            throw TetherError("the pong side never subscribed", hint: "did `tether bench ros2 --role pong` start? Is the domain free?")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while input.matchedPublishers == 0 {
            guard Date() < deadline else { throw TetherError("the pong side never published") }
            usleep(1000)
        }
        // Both sides see each other before the first timed message: a ping is re-sent every 100 ms
        // until its reply comes back (a reply written before the pong's writer matched this reader
        // is lost, and one in flight is all the benchmark ever has).
        var probe = message
        probe.header.stamp = .init(sec: -1, nanosec: 0)
        var answered = false
        while !answered {
            guard Date() < deadline else { throw TetherError("the pong side never answered a ping") }
            try output.publish(probe)
            while !answered, let reply = try input.next(timeout: 0.1) { answered = reply.header.stamp.sec == -1 }
        }
        let warmup = max(100, count / 10)
        _ = try rounds(message, output: output, input: input, trigger: trigger, count: warmup)
        var best: Figures?
        for _ in 0..<repeats {
            var samples = try rounds(message, output: output, input: input, trigger: trigger, count: count)
            samples.sort()
            let figures = Figures(median: samples[samples.count / 2], p99: samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))])
            if best == nil || figures.median < best!.median { best = figures }
        }
        return best!
    }

    /// `count` round trips; each one's time, µs.
    static func rounds<M: ROS2BenchStamped>(_ message: M, output: DDSPublisher<M>, input: DDSSubscriber<M>,
                                            trigger: ROS2BenchTrigger, count: Int) throws -> [Double] {
        switch trigger {
        case .waitingCaller:
            var message = message
            var samples: [Double] = []
            samples.reserveCapacity(count)
            for i in 0..<count {
                message.header.stamp = .init(sec: Int32(i), nanosec: 0)
                let start = DispatchTime.now().uptimeNanoseconds
                try output.publish(message)
                while true {
                    guard let reply = try input.next(timeout: 2) else { throw TetherError("round trip \(i) timed out after 2 s") }
                    if reply.header.stamp.sec == Int32(i) { break }
                }
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3)
            }
            return samples
        case .handler:
            // ddsperf's scheme: the reply's arrival, in the listener, sends the next ping.
            let state = PingState(message: message, count: count)
            try input.setHandler { received in
                guard case .success(let sample) = received else { return }
                guard let next = state.received(sample.message) else { return }
                try? output.publish(next)
            }
            defer { input.removeHandler() }
            try output.publish(state.first())
            var seen = 0
            while state.done.wait(timeout: .now() + 2) == .timedOut {
                let progress = state.progress
                guard progress != seen else {
                    throw TetherError("round trip \(progress) timed out after 2 s", hint: "is the pong process still running?")
                }
                seen = progress
            }
            return state.samples()
        }
    }

    /// The state of a handler-driven ping run, shared between the listener and the waiting thread.
    final class PingState<M: ROS2BenchStamped>: @unchecked Sendable {
        private let lock = NSLock()
        private var message: M
        private let count: Int
        private var index = 0
        private var start: UInt64 = 0
        private var times: [Double] = []
        let done = DispatchSemaphore(value: 0)

        init(message: M, count: Int) {
            self.message = message
            self.count = count
            times.reserveCapacity(count)
        }

        /// The first ping, stamped 0.
        func first() -> M {
            lock.lock()
            defer { lock.unlock() }
            message.header.stamp = .init(sec: 0, nanosec: 0)
            start = DispatchTime.now().uptimeNanoseconds
            return message
        }

        /// Round trips completed so far.
        var progress: Int {
            lock.lock()
            defer { lock.unlock() }
            return index
        }

        /// Records a reply; the next ping to send, or nil (a stale reply, or the last one).
        func received(_ reply: M) -> M? {
            let now = DispatchTime.now().uptimeNanoseconds
            lock.lock()
            defer { lock.unlock() }
            guard index < count, reply.header.stamp.sec == Int32(index) else { return nil }
            times.append(Double(now - start) / 1e3)
            index += 1
            if index == count {
                done.signal()
                return nil
            }
            message.header.stamp = .init(sec: Int32(index), nanosec: 0)
            start = DispatchTime.now().uptimeNanoseconds
            return message
        }

        func samples() -> [Double] {
            lock.lock()
            defer { lock.unlock() }
            return times
        }
    }

    /// One-way throughput: a sink process, and this process publishing as fast as DDS accepts for
    /// `seconds`; the sink's median messages per full second.
    static func oneWay(executable: String, payloadBytes: Int, domain: UInt32, seconds: Double) throws -> Double {
        let sink = Process()
        sink.executableURL = URL(fileURLWithPath: executable)
        sink.arguments = ["bench", "ros2", "--role", "sink", "--domain", "\(domain)", "--seconds", "\(seconds + 20)"]
        let out = Pipe()
        sink.standardOutput = out
        try sink.run()
        defer { if sink.isRunning { sink.terminate(); sink.waitUntilExit() } }
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let output = try DDSPublisher<SensorMsgs.Image>(participant, topic: bulkTopic, qos: .bulk)
        guard output.waitForSubscribers(timeout: 20) else { throw TetherError("the sink process never subscribed") }
        usleep(200_000)  // let the sink's side of discovery finish too, as ddsperf's wait for a match does
        var message = ROS2BenchMessages.image(payloadBytes: payloadBytes)
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        var i: Int32 = 0
        while DispatchTime.now().uptimeNanoseconds < end {
            message.header.stamp = .init(sec: i, nanosec: 0)
            try output.publish(message)
            i &+= 1
        }
        try output.flush()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        sink.waitUntilExit()
        let counts = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard let rate = DDSPerf.medianOfFullWindows(counts) else {
            throw TetherError("the sink process reported no full second of messages (it printed: \(text.prefix(200)))")
        }
        return Double(rate)
    }

    /// The sink side: counts the messages arriving on the bulk topic in each second from the first,
    /// until one second passes without any (or `seconds`); prints the counts on one line.
    public static func sink(domain: UInt32, seconds: Double) throws {
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let input = try DDSSubscriber<SensorMsgs.Image>(participant, topic: bulkTopic, qos: .reliableKeepAll)
        let counter = WindowCounter()
        try input.setHandler { received in
            if case .success = received { counter.count(at: DispatchTime.now().uptimeNanoseconds) }
        }
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        while DispatchTime.now().uptimeNanoseconds < end {
            usleep(100_000)
            if let last = counter.last, DispatchTime.now().uptimeNanoseconds - last > 1_000_000_000 { break }
        }
        input.removeHandler()
        print(counter.windows.map(String.init).joined(separator: " "))
    }

    /// Messages per one-second window from the first message.
    final class WindowCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var first: UInt64?
        private var latest: UInt64?
        private var counts: [Int] = []

        func count(at now: UInt64) {
            lock.lock()
            defer { lock.unlock() }
            if first == nil { first = now }
            latest = now
            let window = Int((now - first!) / 1_000_000_000)
            while counts.count <= window { counts.append(0) }
            counts[window] += 1
        }

        var last: UInt64? {
            lock.lock()
            defer { lock.unlock() }
            return latest
        }

        var windows: [Int] {
            lock.lock()
            defer { lock.unlock() }
            return counts
        }
    }
}
