import ArgumentParser
import Foundation
import TetherBench
import TetherCore
import TetherPolicy
import TetherROS
import TetherRuntime
import TetherSim

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks of Tether's hot paths against the peer a user would otherwise use.",
        subcommands: [SimBench.self, PolicyBench.self, LoopBench.self, ROS2Bench.self, CalibrateBench.self, ValidateBench.self, ImproveBench.self,
                      DetectBench.self, COCOBench.self, All.self]
    )

    struct SimBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sim",
            abstract: "Physics steps per second: Tether vs a bare mj_step loop and mujoco.rollout.",
            discussion: """
            Steps both built-in robots with 1 thread and with every core, and in the same run the \
            same models with mujoco.rollout from the project venv; prints the ratios. Build with \
            -c release for meaningful numbers.

            Examples:
              tether bench sim
              tether bench sim --environments 128 --steps 2000 --json
            """
        )

        @Option(help: "Trajectories per configuration.") var environments = 64
        @Option(help: "Physics steps per trajectory.") var steps = 1000
        @Option(help: "Timed repetitions (best is kept).") var repeats = 3
        @Option(help: "Robots to measure.") var robot: [String] = ["quadruped", "cartpole"]
        @Flag(help: "Print the report as JSON.") var json = false

        func validate() throws {
            guard environments > 0, steps > 0, repeats > 0 else { throw ValidationError("--environments, --steps and --repeats must be positive") }
        }

        func run() throws {
            let robots = try report { try robot.map { try BuiltinRobots.load($0) } }
            let bench = SimBenchmark(environments: environments, steps: steps, repeats: repeats)
            if !json { print("tether bench sim: \(environments) trajectories × \(steps) steps, zero controls, best of \(repeats)") }
            let result = try report { try bench.run(robots: robots, log: json ? { _ in } : { print($0) }) }
            if json { try printJSON(result); return }
            print("ratios (higher is better for Tether):")
            for (k, v) in result.ratioToBareLoop.sorted(by: { $0.key < $1.key }) { print("  \(k): Tether batch / bare mj_step loop = \(fmt(v, 3))") }
            for (k, v) in result.ratioToRollout.sorted(by: { $0.key < $1.key }) { print("  \(k): Tether batch / mujoco.rollout = \(fmt(v, 3))") }
        }
    }

    struct PolicyBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy",
            abstract: "Policy call latency (ONNX Runtime fast path, native) vs Python onnxruntime; training vs bare simulation.",
            discussion: """
            Times a 48→256→128→12 ELU MLP per call (median and p99) through Tether's ONNX Runtime \
            fast path and natively, and in the same run Python onnxruntime on the same file by its \
            two paths (session.run, and IO binding to preallocated OrtValues, its fastest; the \
            ratios are against the faster); then ARS training throughput against bare PD stepping.

            Examples:
              tether bench policy
              tether bench policy --calls 50000 --json
            """
        )
        @Option(help: "Timed calls per runner.") var calls = 20000
        @Flag(help: "Print the report as JSON.") var json = false

        func run() throws {
            guard calls >= 100 else { throw ValidationError("--calls must be at least 100") }
            if !json { print("tether bench policy: 48→256→128→12 ELU MLP, one observation per call, 1 thread, \(calls) calls") }
            let result = try report { try PolicyBenchmark(calls: calls).run(log: json ? { _ in } : { print($0) }) }
            if json { try printJSON(result); return }
            print("ratios:")
            if let s = result.speedupOverPython { print("  Python's fastest path / Tether fast path = \(fmt(s, 2))x") }
            if let s = result.speedupOverPythonSessionRun { print("  Python session.run / Tether fast path   = \(fmt(s, 2))x") }
            if let s = result.nativeSpeedupOverPython { print("  Python's fastest path / Tether native   = \(fmt(s, 2))x") }
            if let s = result.recurrentSpeedupOverPython { print("  Python's fastest path / Tether, LSTM 64 with its state fed back = \(fmt(s, 2))x") }
            print("  ARS training / bare simulation        = \(fmt(result.trainingEfficiency, 3))")
        }
    }

    struct LoopBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "loop",
            abstract: "Per-tick cost (policy + safety + recorder) and a sustained 1 kHz loop; vs the same tick in Python.",
            discussion: """
            Measures one control tick of the quadruped's default policy (observation, ONNX Runtime, \
            safety wrapper, flight recorder) median / p99 / p99.9, then a sustained loop against the \
            in-process simulation with its deadline-miss rate, and in the same run the same tick \
            written with numpy + onnxruntime in Python. Build with -c release.

            Examples:
              tether bench loop
              tether bench loop --ticks 50000 --seconds 5 --json
            """
        )
        @Option(help: "Timed ticks.") var ticks = 20000
        @Option(help: "Duration of the sustained loop, s.") var seconds = 3.0
        @Option(help: "Rate of the sustained loop, Hz.") var rate = 1000.0
        @Flag(help: "Print the report as JSON.") var json = false

        func run() throws {
            guard ticks >= 100, seconds > 0, rate > 0 else { throw ValidationError("need --ticks >= 100 and positive --seconds and --rate") }
            if !json { print("tether bench loop: quadruped, policies/quadruped.onnx, stage 100 %") }
            let result = try report { try LoopBenchmark(ticks: ticks, sustainedSeconds: seconds,
                                                        sustainedRateHz: rate).run(log: json ? { _ in } : { print($0) }) }
            if json { try printJSON(result); return }
            if let s = result.speedupOverPython { print("ratio: Python tick / Tether tick = \(fmt(s, 2))x (median)") }
        }
    }
}

extension Bench {
    struct ROS2Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ros2",
            abstract: "Round-trip latency of sensor_msgs/JointState over DDS on loopback vs Cyclone's ddsperf.",
            discussion: """
            Runs a pong process (this binary) and pings it through Tether's DDS layer (12-joint \
            JointState, one message in flight), then, in the same run, `ddsperf ping` / `ddsperf \
            pong` (Debian cyclonedds-tools) with a payload of the same size on the same loopback \
            configuration; prints both and the ratio.

            Examples:
              tether bench ros2
              tether bench ros2 --count 20000 --json
            """
        )
        @Option(help: "Timed round trips.") var count = 5000
        @Option(help: "DDS domain for the benchmark.") var domain: UInt32 = 91
        @Option(help: "Internal: run as the pong side.") var role = "ping"
        @Option(help: "Internal: how long the pong side runs, s.") var seconds = 60.0
        @Flag(help: "Print the report as JSON.") var json = false

        struct Report: Encodable {
            var tether: RoundTripBenchmark.Result
            var ddsperfMedianMicroseconds: Double?
            var ddsperfP99Microseconds: Double?
            /// Why there is no peer figure (ddsperf missing, or its output unreadable), if there is none.
            var ddsperfNote: String?
            var ratio: Double?
        }

        func run() throws {
            if role == "pong" {
                try report { try RoundTripBenchmark.pong(domain: domain, seconds: seconds) }
                return
            }
            guard count >= 100 else { throw ValidationError("--count must be at least 100") }
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            let pong = Process()
            pong.executableURL = URL(fileURLWithPath: exe)
            pong.arguments = ["bench", "ros2", "--role", "pong", "--domain", "\(domain)", "--seconds", "120"]
            try pong.run()
            defer { if pong.isRunning { pong.terminate() } }
            if !json { print("tether bench ros2: JointState round trips on loopback, one in flight, \(count) timed") }
            let mine = try report { try RoundTripBenchmark.ping(domain: domain, count: count) }
            pong.terminate()
            if !json { print(String(format: "  tether   median %7.2f µs  p99 %7.2f µs  (%d-byte messages)", mine.medianMicroseconds, mine.p99Microseconds,
                                    mine.messageBytes)) }
            // The peer: ddsperf ping/pong with the same payload size, same loopback configuration.
            var peer: (Double, Double)?
            var peerNote: String?
            if let ddsperf = ["/usr/bin/ddsperf", "/usr/local/bin/ddsperf"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
                var env = ProcessInfo.processInfo.environment
                env["CYCLONEDDS_URI"] = DDSParticipant.loopbackConfiguration
                let peerPong = Process()
                peerPong.executableURL = URL(fileURLWithPath: ddsperf)
                peerPong.arguments = ["-i", "\(domain + 1)", "-D", "8", "pong"]
                peerPong.environment = env
                peerPong.standardOutput = FileHandle.nullDevice
                try peerPong.run()
                defer { if peerPong.isRunning { peerPong.terminate() } }
                let ping = Process()
                ping.executableURL = URL(fileURLWithPath: ddsperf)
                ping.arguments = ["-i", "\(domain + 1)", "-D", "6", "ping", "size", "\(mine.messageBytes)"]
                ping.environment = env
                let out = Pipe()
                ping.standardOutput = out
                ping.standardError = out
                try ping.run()
                let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                ping.waitUntilExit()
                // Lines like "... size 300 mean 9.6us min 8.4us 50% 8.6us 90% 9.4us 99% 14.4us max ... cnt N"; keep the last.
                for line in text.split(separator: "\n") where line.contains(" 50% ") && line.contains(" 99% ") {
                    let words = line.split(separator: " ").map(String.init)
                    func value(after key: String) -> Double? {
                        guard let i = words.firstIndex(of: key), i + 1 < words.count else { return nil }
                        return Double(words[i + 1].replacingOccurrences(of: "us", with: ""))
                    }
                    if let m = value(after: "50%"), let p = value(after: "99%") { peer = (m, p) }
                }
                if peer == nil {
                    // Say why, with what ddsperf did print, instead of a silent missing figure.
                    let tail = text.split(separator: "\n").suffix(3).joined(separator: " | ")
                    peerNote = "\(ddsperf) ping exited with status \(ping.terminationStatus) and printed no latency line (one with \"50%\" and \"99%\")"
                        + (tail.isEmpty ? ", nothing at all: is another ddsperf or a firewall in the way of loopback multicast?" : "; its last lines: \(tail)")
                }
            } else {
                peerNote = "ddsperf not found in /usr/bin or /usr/local/bin (Debian package cyclonedds-tools): the peer is skipped"
            }
            if let peerNote, !json { print("  " + peerNote) }
            let ratio = peer.map { mine.medianMicroseconds / $0.0 }
            if json {
                try printJSON(Report(tether: mine, ddsperfMedianMicroseconds: peer?.0, ddsperfP99Microseconds: peer?.1, ddsperfNote: peerNote, ratio: ratio))
                return
            }
            if let (m, p) = peer { print(String(format: "  ddsperf  median %7.2f µs  p99 %7.2f µs", m, p)) }
            if let ratio { print("ratio: Tether median / ddsperf median = \(fmt(ratio, 2))") }
        }
    }
}
