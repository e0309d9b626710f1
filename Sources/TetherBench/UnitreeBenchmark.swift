import Dispatch
import Foundation
import TetherCore
import TetherROS

/// `tether bench unitree`: the low-level control round trip on loopback, Tether against the
/// vendor's Python SDK doing the same in the same run.
///
/// One round trip: the controller sends a `LowCmd` with its CRC sealed; the robot side (another
/// process) checks the command's CRC and answers with a `LowState` carrying the command's tag as
/// its tick, CRC sealed; the controller checks that CRC and stops the clock. One message in
/// flight; both sides reliable, keep last 1, XCDR1, on the real topic names (`rt/lowcmd`,
/// `rt/lowstate`) in a domain of their own. Tether's sides: this process and
/// `tether bench unitree --role pong`; the SDK's: `benchmarks/unitree_roundtrip.py` twice. The
/// SDK runs twice, with its CRC helper and without: the 1.0.1 wheel lacks the compiled CRC
/// library its helper loads on Linux, so the helper falls back to pure Python, which dominates
/// its round trip; the run without CRC is the SDK's transport and IDL alone.
public struct UnitreeBenchmark: Sendable {
    /// Timed round trips per repetition.
    public var count: Int
    /// Repetitions (the best median is kept, its p99 with it).
    public var repeats: Int
    /// DDS domain of Tether's run; the SDK's runs use the next two.
    public var domain: UInt32
    /// Which message set.
    public var messages: UnitreeProtocol
    /// The executable with the `--role pong` entry point (nil: this process's own binary).
    public var executable: String?
    /// Round trips per repetition for the SDK (its round trip is slower: fewer keep the run short).
    public var sdkCount: Int

    public init(count: Int = 5000, repeats: Int = 3, domain: UInt32 = 95, messages: UnitreeProtocol = .go, executable: String? = nil,
                sdkCount: Int = 500) {
        self.count = count
        self.repeats = repeats
        self.domain = domain
        self.messages = messages
        self.executable = executable
        self.sdkCount = sdkCount
    }

    /// Median and p99 of one side, µs.
    public struct Figures: Sendable, Codable {
        public var medianMicroseconds: Double
        public var p99Microseconds: Double
    }

    /// What the benchmark measured.
    public struct Report: Sendable, Codable {
        public var messages: String
        public var tether: Figures
        /// Tether's CRC of one `LowState`, µs.
        public var tetherCRCMicroseconds: Double
        /// The SDK with its CRC helper (pure Python here), nil when it could not run.
        public var sdk: Figures?
        /// The SDK's CRC of one `LowState`, µs.
        public var sdkCRCMicroseconds: Double?
        /// The SDK without CRC (transport and IDL only).
        public var sdkWithoutCRC: Figures?
        /// SDK median / Tether median: how many times faster Tether's round trip is.
        public var ratio: Double?
        /// The same against the SDK without CRC.
        public var ratioWithoutCRC: Double?
        /// Why the SDK's figures are missing, if they are.
        public var note: String?
    }

    /// Runs Tether's round trips, then the SDK's; `log` gets a line per result.
    public func run(log: (String) -> Void = { _ in }) throws -> Report {
        let executable = executable ?? CommandLine.arguments[0]
        let tether: Figures
        switch messages {
        case .go: tether = try UnitreeRoundTrip.measure(UnitreeGoDialect.self, executable: executable, domain: domain, count: count, repeats: repeats)
        case .hg: tether = try UnitreeRoundTrip.measure(UnitreeHGDialect.self, executable: executable, domain: domain, count: count, repeats: repeats)
        }
        let crc = messages == .go ? UnitreeRoundTrip.crcCost(UnitreeGoMsgs.LowState()) : UnitreeRoundTrip.crcCost(UnitreeHGMsgs.LowState())
        log(Self.line("tether", tether) + String(format: "   (CRC of a LowState %.2f µs)", crc))
        var report = Report(messages: messages.rawValue, tether: tether, tetherCRCMicroseconds: crc)
        do {
            let (withCRC, crcCost) = try sdkRun(crc: true, domain: domain + 1)
            let (without, _) = try sdkRun(crc: false, domain: domain + 2)
            report.sdk = withCRC
            report.sdkCRCMicroseconds = crcCost
            report.sdkWithoutCRC = without
            report.ratio = withCRC.medianMicroseconds / tether.medianMicroseconds
            report.ratioWithoutCRC = without.medianMicroseconds / tether.medianMicroseconds
            log(Self.line("unitree_sdk2 (Python)", withCRC) + String(format: "   (CRC of a LowState %.0f µs: pure Python)", crcCost ?? 0))
            log(Self.line("unitree_sdk2, no CRC", without))
        } catch {
            report.note = "the vendor's SDK did not run: \(error)"
            log("unitree_sdk2: not measured (\(error))")
        }
        return report
    }

    static func line(_ name: String, _ f: Figures) -> String {
        "  " + name.padding(toLength: 24, withPad: " ", startingAt: 0)
            + String(format: "median %9.1f µs   p99 %9.1f µs", f.medianMicroseconds, f.p99Microseconds)
    }

    /// One run of the SDK's ping against its pong; the figures and its CRC cost.
    func sdkRun(crc: Bool, domain: UInt32) throws -> (Figures, Double?) {
        let python = try TetherPaths.python()
        guard let root = TetherPaths.checkoutRoot() else {
            throw TetherError("cannot find benchmarks/unitree_roundtrip.py", hint: "run from the Tether checkout or set TETHER_HOME")
        }
        let script = "\(root)/benchmarks/unitree_roundtrip.py"
        let kind = messages == .go ? "go" : "hg"
        var environment = ProcessInfo.processInfo.environment
        environment["CYCLONEDDS_URI"] = DDSParticipant.loopbackConfiguration
        let pong = Process()
        pong.executableURL = URL(fileURLWithPath: python)
        pong.arguments = [script, "--role", "pong", "--protocol", kind, "--domain", "\(domain)", "--seconds", "600"] + (crc ? [] : ["--no-crc"])
        pong.environment = environment
        pong.standardOutput = FileHandle.nullDevice
        try pong.run()
        defer { if pong.isRunning { pong.terminate(); pong.waitUntilExit() } }
        let ping = Process()
        ping.executableURL = URL(fileURLWithPath: python)
        ping.arguments = [script, "--role", "ping", "--protocol", kind, "--domain", "\(domain)", "--count", "\(sdkCount)",
                          "--repeats", "\(repeats)"] + (crc ? [] : ["--no-crc"])
        ping.environment = environment
        let out = Pipe(), err = Pipe()
        ping.standardOutput = out
        ping.standardError = err
        try ping.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        ping.waitUntilExit()
        struct Answer: Decodable {
            var median_us: Double
            var p99_us: Double
            var crc_us: Double
        }
        guard ping.terminationStatus == 0, let answer = try? JSONDecoder().decode(Answer.self, from: data) else {
            throw TetherError("benchmarks/unitree_roundtrip.py failed (exit \(ping.terminationStatus)): \(errors.suffix(400))",
                              hint: "is unitree-sdk2 installed? run scripts/setup.sh")
        }
        return (Figures(medianMicroseconds: answer.median_us, p99Microseconds: answer.p99_us), crc ? answer.crc_us : nil)
    }
}

/// A command's tag, which the robot side returns as its state's tick (to pair replies).
protocol UnitreeBenchTagging: UnitreeDialect {
    static func setTag(_ command: inout Command, _ tag: UInt32)
    static func tag(of command: Command) -> UInt32
    static func tick(of state: State) -> UInt32
}

extension UnitreeGoDialect: UnitreeBenchTagging {
    static func setTag(_ command: inout Command, _ tag: UInt32) { command.reserve = tag }
    static func tag(of command: Command) -> UInt32 { command.reserve }
    static func tick(of state: State) -> UInt32 { state.tick }
}

extension UnitreeHGDialect: UnitreeBenchTagging {
    static func setTag(_ command: inout Command, _ tag: UInt32) { command.reserve[0] = tag }
    static func tag(of command: Command) -> UInt32 { command.reserve.first ?? 0 }
    static func tick(of state: State) -> UInt32 { state.tick }
}

/// Tether's two sides of `bench unitree`.
public enum UnitreeRoundTrip {
    /// The robot side: answers every command whose CRC holds with a state (tick = the command's
    /// tag, CRC sealed) until `seconds` pass.
    public static func pong(messages: UnitreeProtocol, domain: UInt32, seconds: Double) throws {
        switch messages {
        case .go: try pong(UnitreeGoDialect.self, domain: domain, seconds: seconds)
        case .hg: try pong(UnitreeHGDialect.self, domain: domain, seconds: seconds)
        }
    }

    static func pong<D: UnitreeBenchTagging>(_ dialect: D.Type, domain: UInt32, seconds: Double) throws {
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let input = try DDSSubscriber<D.Command>(participant, topic: UnitreeTopics.lowCmd, qos: .reliableLatest)
        let output = try DDSPublisher<D.State>(participant, topic: UnitreeTopics.lowState, qos: .reliableLatest)
        var reading = UnitreeReading(slots: D.kind.motorSlots)
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        while DispatchTime.now().uptimeNanoseconds < end {
            guard let command = try input.next(timeout: 0.1), command.hasValidCRC else { continue }
            reading.tick = D.tag(of: command)
            try output.publish(D.state(reading))
        }
    }

    /// Starts the pong process and times round trips against it.
    static func measure<D: UnitreeBenchTagging>(_ dialect: D.Type, executable: String, domain: UInt32, count: Int,
                                                repeats: Int) throws -> UnitreeBenchmark.Figures {
        let pong = Process()
        pong.executableURL = URL(fileURLWithPath: executable)
        pong.arguments = ["bench", "unitree", "--role", "pong", "--protocol", D.kind.rawValue, "--domain", "\(domain)", "--seconds", "600"]
        try pong.run()
        defer { if pong.isRunning { pong.terminate(); pong.waitUntilExit() } }
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let output = try DDSPublisher<D.Command>(participant, topic: UnitreeTopics.lowCmd, qos: .reliableLatest)
        let input = try DDSSubscriber<D.State>(participant, topic: UnitreeTopics.lowState, qos: .reliableLatest)
        guard output.waitForSubscribers(timeout: 20) else {
            throw TetherError("the pong side never subscribed", hint: "did `tether bench unitree --role pong` start? Is the domain free?")
        }
        var command = D.command((0..<D.kind.motorSlots).map { _ in UnitreeMotorCommand(mode: 1, kp: 20, kd: 0.5) }, modeMachine: 0)
        var tag: UInt32 = 0
        /// One round trip, µs; nil when no valid reply came within `timeout`.
        func once(timeout: Double = 1) throws -> Double? {
            tag &+= 1
            D.setTag(&command, tag)
            let start = DispatchTime.now().uptimeNanoseconds
            command.sealCRC()
            try output.publish(command)
            let limit = Double(start) / 1e9 + timeout
            while true {
                let left = limit - Double(DispatchTime.now().uptimeNanoseconds) / 1e9
                guard left > 0 else { return nil }
                if let state = try input.next(timeout: left), D.tick(of: state) == tag, state.hasValidCRC {
                    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3
                }
            }
        }
        let deadline = Date().addingTimeInterval(20)
        while try once(timeout: 0.1) == nil {
            guard Date() < deadline else { throw TetherError("the pong side never answered a command") }
        }
        for _ in 0..<max(100, count / 10) { _ = try once() }
        var best: UnitreeBenchmark.Figures?
        for _ in 0..<max(1, repeats) {
            var samples: [Double] = []
            samples.reserveCapacity(count)
            for _ in 0..<count { if let t = try once() { samples.append(t) } }
            guard !samples.isEmpty else { throw TetherError("no round trip completed") }
            samples.sort()
            let figures = UnitreeBenchmark.Figures(medianMicroseconds: samples[samples.count / 2],
                                                   p99Microseconds: samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))])
            if best == nil || figures.medianMicroseconds < best!.medianMicroseconds { best = figures }
        }
        return best!
    }

    /// Tether's CRC of one message, µs (best of five runs of 2000).
    public static func crcCost<M: UnitreeCheckedMessage>(_ message: M) -> Double {
        var best = Double.infinity, sink: UInt32 = 0
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<2000 { sink &+= message.expectedCRC }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / 2000)
        }
        precondition(sink != 1)   // keeps the loop
        return best
    }
}
