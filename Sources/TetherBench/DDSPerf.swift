import Foundation
import TetherCore
import TetherROS

/// Cyclone DDS's `ddsperf` (Debian cyclonedds-tools) as the peer of `bench ros2`: runs its
/// ping/pong and pub/sub pairs on the same loopback configuration as Tether and reads the
/// figures it prints. When its output cannot be read the failure says why, with what it printed.
struct DDSPerf {
    let path: String

    /// Why a figure is missing.
    struct Failure: Error {
        var text: String
    }

    /// ddsperf where Debian installs it, or nil.
    static func find() -> DDSPerf? {
        ["/usr/bin/ddsperf", "/usr/local/bin/ddsperf"].first { FileManager.default.isExecutableFile(atPath: $0) }.map(DDSPerf.init)
    }

    /// Runs `server` (pong or sub) for `seconds` + 3 s and `client` (ping or pub) for `seconds`;
    /// returns both outputs and the client's exit status.
    private func pair(domain: UInt32, server: [String], client: [String], seconds: Double) throws -> (client: String, server: String, status: Int32) {
        var environment = ProcessInfo.processInfo.environment
        environment["CYCLONEDDS_URI"] = DDSParticipant.loopbackConfiguration
        let duration = Int(seconds.rounded(.up))
        func process(_ arguments: [String], seconds: Int) -> (Process, Pipe) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: path)
            p.arguments = ["-i", "\(domain)", "-D", "\(seconds)"] + arguments
            p.environment = environment
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            return (p, pipe)
        }
        let (serverProcess, serverPipe) = process(server, seconds: duration + 3)
        try serverProcess.run()
        defer { if serverProcess.isRunning { serverProcess.terminate() } }
        // Drained on its own thread: a full pipe would block the server.
        let serverText = Locked("")
        let drain = Thread {
            let text = String(decoding: serverPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            serverText.withLock { $0 = text }
        }
        drain.start()
        let (clientProcess, clientPipe) = process(client, seconds: duration)
        try clientProcess.run()
        let clientText = String(decoding: clientPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        clientProcess.waitUntilExit()
        serverProcess.terminate()
        serverProcess.waitUntilExit()
        while drain.isExecuting { usleep(10_000) }
        return (clientText, serverText.withLock { $0 }, clientProcess.terminationStatus)
    }

    /// `ddsperf ping size N` against `ddsperf pong` in `trigger`'s mode: the best second's median and p99, µs.
    func roundTrip(domain: UInt32, payloadBytes: Int, trigger: ROS2BenchTrigger, seconds: Double) -> Result<RoundTripBenchmark.Figures, Failure> {
        let mode = trigger == .handler ? "listener" : "waitset"
        let run: (client: String, server: String, status: Int32)
        do {
            run = try pair(domain: domain, server: ["pong", mode], client: ["ping", "size", "\(payloadBytes)", mode], seconds: seconds)
        } catch {
            return .failure(Failure(text: "\(path) could not be started: \(error)"))
        }
        if let best = Self.parseRoundTrip(run.client) { return .success(best) }
        return .failure(Failure(text: Self.unreadable("ping", run.client, status: run.status,
                                                     expected: "a latency line with \"50%\" and \"99%\" (ddsperf 0.10's format)")))
    }

    /// `ddsperf pub size N` (as fast as possible) against `ddsperf sub`: messages per second, the
    /// median over the subscriber's full one-second windows.
    func throughput(domain: UInt32, payloadBytes: Int, seconds: Double) -> Result<Double, Failure> {
        let run: (client: String, server: String, status: Int32)
        do {
            run = try pair(domain: domain, server: ["sub"], client: ["pub", "size", "\(payloadBytes)"], seconds: seconds)
        } catch {
            return .failure(Failure(text: "\(path) could not be started: \(error)"))
        }
        if let rate = Self.parseThroughput(run.server) { return .success(rate) }
        return .failure(Failure(text: Self.unreadable("sub", run.server, status: run.status,
                                                     expected: "per-second lines with \"size\" and \"delta\" and at least three non-zero seconds")))
    }

    /// Says that ddsperf's output was not recognised, with the lines it printed.
    static func unreadable(_ mode: String, _ text: String, status: Int32, expected: String) -> String {
        let lines = text.split(separator: "\n").suffix(6).joined(separator: " | ")
        return "ddsperf \(mode) (exit status \(status)) printed no \(expected)"
            + (lines.isEmpty ? "; it printed nothing: is loopback blocked, or the domain taken?" : "; its last lines: \(lines)")
    }

    /// The best (lowest-median) line of ddsperf ping's once-a-second output, e.g.
    /// `[pid] 2.000  vm:8168 size 300 mean 42.2us min 37.3us 50% 41.7us 90% 44.5us 99% 58.9us max 58.9us cnt 99`,
    /// among lines with at least 10 round trips, as round-trip times.
    ///
    /// ddsperf prints *half* the round trip (its pong listener records `(now − the ping's source
    /// timestamp) / 2`, an estimate of one-way latency), so its figures are doubled here to be
    /// compared with Tether's round trip, which is timed the same way: from just before the ping
    /// is written to the reply's arrival in the listener.
    static func parseRoundTrip(_ text: String) -> RoundTripBenchmark.Figures? {
        var best: RoundTripBenchmark.Figures?
        for line in text.split(separator: "\n") where line.contains(" 50% ") && line.contains(" 99% ") {
            let words = line.split(separator: " ").map(String.init)
            func value(after key: String) -> String? {
                guard let i = words.firstIndex(of: key), i + 1 < words.count else { return nil }
                return words[i + 1]
            }
            guard let median = value(after: "50%").flatMap(microseconds), let p99 = value(after: "99%").flatMap(microseconds) else { continue }
            if let cnt = value(after: "cnt").flatMap({ Int($0) }), cnt < 10 { continue }
            if best == nil || 2 * median < best!.median { best = .init(median: 2 * median, p99: 2 * p99) }
        }
        return best
    }

    /// `41.7us`, `1.2ms`, `900ns`, `1.1s` → µs.
    static func microseconds(_ word: String) -> Double? {
        for (suffix, scale) in [("ns", 1e-3), ("us", 1.0), ("ms", 1e3), ("s", 1e6)] where word.hasSuffix(suffix) {
            return Double(word.dropLast(suffix.count)).map { $0 * scale }
        }
        return Double(word)
    }

    /// ddsperf sub's once-a-second lines, e.g.
    /// `[pid] 2.000  size 1024 total 339 lost 0 delta 200 lost 0 rate 0.20 kS/s 1.64 Mb/s (...)`:
    /// the median of the `delta` (messages in that second) of the full seconds.
    static func parseThroughput(_ text: String) -> Double? {
        var deltas: [Int] = []
        for line in text.split(separator: "\n") where line.contains(" size ") && line.contains(" delta ") {
            let words = line.split(separator: " ").map(String.init)
            guard let i = words.firstIndex(of: "delta"), i + 1 < words.count, let delta = Int(words[i + 1]) else { continue }
            deltas.append(delta)
        }
        return medianOfFullWindows(deltas).map(Double.init)
    }

    /// The median of per-second counts, leaving out the seconds before the first and after the
    /// last non-zero one and those two themselves (partial seconds); nil without a full second.
    static func medianOfFullWindows(_ counts: [Int]) -> Int? {
        guard let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }), last - first >= 2 else { return nil }
        let full = counts[(first + 1)..<last].sorted()
        return full[full.count / 2]
    }
}
