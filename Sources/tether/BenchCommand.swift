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
        subcommands: [SimBench.self, PolicyBench.self, LoopBench.self, ROS2Bench.self, UnitreeBench.self, CalibrateBench.self, ValidateBench.self,
                      ImproveBench.self, RenderBench.self, DetectBench.self, COCOBench.self, All.self]
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
            if let s = result.compiledSpeedupOverPython { print("  Python's fastest path / Tether compiled = \(fmt(s, 2))x") }
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
        @OptionGroup var realTime: RealTimeArguments
        @OptionGroup var engine: PolicyEngineArguments

        func run() throws {
            guard ticks >= 100, seconds > 0, rate > 0 else { throw ValidationError("need --ticks >= 100 and positive --seconds and --rate") }
            if !json { print("tether bench loop: quadruped, policies/quadruped.onnx, stage 100 %") }
            var bench = LoopBenchmark(ticks: ticks, sustainedSeconds: seconds, sustainedRateHz: rate)
            bench.realtime = realTime.request
            let result = try report { try bench.run(log: json ? { _ in } : { print($0) }) }
            if json { try printJSON(result); return }
            if let s = result.speedupOverPython { print("ratio: Python tick / Tether tick = \(fmt(s, 2))x (median)") }
        }
    }
}

extension Bench {
    struct ROS2Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ros2",
            abstract: "ROS 2 over DDS on loopback: round trip and throughput vs Cyclone's ddsperf.",
            discussion: """
            Round trips of sensor_msgs/JointState (12 joints) and of a 640×480 rgb8 sensor_msgs/Image \
            between this process and a pong process (this binary), one message in flight, the reply \
            sent from a DDS listener and from a thread waiting on a waitset; then one-way throughput \
            of 1 KiB, 64 KiB and image messages to a subscriber process. In the same run, \
            `ddsperf ping`/`pong` and `pub`/`sub` (Debian cyclonedds-tools) with the same payload \
            sizes, QoS and triggering on the same loopback configuration; prints both and the ratios, \
            or why ddsperf's figures are missing. Build with -c release.

            Examples:
              tether bench ros2
              tether bench ros2 --count 20000 --latency-only --json
            """
        )
        @Option(help: "Timed JointState round trips per repetition.") var count = 5000
        @Option(help: "Repetitions of each round-trip measurement (best is kept).") var repeats = 5
        @Option(help: "Seconds of each throughput run and of each ddsperf latency run (at least 3).") var seconds = 5.0
        @Option(help: "DDS domain for Tether (ddsperf uses the next one).") var domain: UInt32 = 91
        @Flag(help: "Only the JointState round trips (no throughput, no images).") var latencyOnly = false
        @Option(help: "Internal: pong (echo) or sink (count) side of the benchmark.") var role = "ping"
        @Option(help: "Internal: the pong side's message (jointstate or image).") var message = "jointstate"
        @Option(help: "Internal: the pong side's triggering (handler or waiting-caller).") var trigger = "handler"
        @Flag(help: "Print the report as JSON.") var json = false

        func run() throws {
            switch role {
            case "pong":
                guard let message = ROS2BenchMessage(rawValue: message), let trigger = ROS2BenchTrigger(rawValue: trigger) else {
                    throw ValidationError("--message must be jointstate or image and --trigger handler or waiting-caller")
                }
                try report { try RoundTripBenchmark.pong(domain: domain, seconds: seconds, message: message, trigger: trigger) }
                return
            case "sink":
                try report { try RoundTripBenchmark.sink(domain: domain, seconds: seconds) }
                return
            case "ping": break
            default: throw ValidationError("--role must be ping, pong or sink (pong and sink are started by the benchmark itself)")
            }
            guard count >= 100, repeats > 0, seconds >= 3 else { throw ValidationError("need --count >= 100, --repeats > 0 and --seconds >= 3") }
            if !json {
                print("tether bench ros2: loopback, two processes, \(count) round trips × best of \(repeats); ddsperf best second of \(Int(seconds)) s")
            }
            let bench = ROS2Benchmark(count: count, repeats: repeats, seconds: seconds, domain: domain, includeThroughput: !latencyOnly)
            let result = try report { try bench.run(log: json ? { _ in } : { print($0) }) }
            if json { try printJSON(result); return }
            print("ratios (round trip: Tether / ddsperf, lower is better; throughput: Tether / ddsperf, higher is better):")
            for r in result.latency { if let ratio = r.ratio { print("  round trip \(r.name): \(fmt(ratio, 2))") } }
            for r in result.throughput { if let ratio = r.ratio { print("  one-way \(r.name): \(fmt(ratio, 2))") } }
        }
    }

    struct UnitreeBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "unitree",
            abstract: "Unitree's low-level round trip (LowCmd → LowState, CRCs) on loopback vs the vendor's Python SDK.",
            discussion: """
            A controller sends a LowCmd with its CRC; the robot side, another process, checks it and \
            answers with a LowState with its CRC, which the controller checks: one message in flight, \
            reliable keep-last-1 on rt/lowcmd and rt/lowstate. Tether's two sides, then the vendor's \
            Python SDK (unitree_sdk2 1.0.1: its IDL classes, its CRC helper, Python cyclonedds) doing \
            the same in the same run, with its CRC and without (the wheel lacks the compiled CRC its \
            helper loads on Linux, so it computes in pure Python); prints both and the ratios. Build \
            with -c release.

            Examples:
              tether bench unitree
              tether bench unitree --protocol unitree_hg --count 20000 --json
            """
        )
        @Option(help: "Timed round trips per repetition (Tether).") var count = 5000
        @Option(help: "Timed round trips per repetition (the SDK, whose round trips are slower).") var sdkCount = 500
        @Option(help: "Repetitions (best median is kept).") var repeats = 3
        @Option(help: "unitree_go (Go2, B2) or unitree_hg (G1, H1-2).") var `protocol` = "unitree_go"
        @Option(help: "DDS domain for Tether (the SDK's runs use the next two).") var domain: UInt32 = 95
        @Option(help: "Internal: pong (the robot side, started by the benchmark itself).") var role = "ping"
        @Option(help: "Internal: how long the pong side runs, s.") var seconds = 600.0
        @Flag(help: "Print the report as JSON.") var json = false

        func run() throws {
            guard let messages = UnitreeProtocol(rawValue: `protocol`) else {
                throw ValidationError("--protocol '\(`protocol`)' is not one of \(UnitreeProtocol.choices)")
            }
            switch role {
            case "pong":
                try report { try UnitreeRoundTrip.pong(messages: messages, domain: domain, seconds: seconds) }
                return
            case "ping": break
            default: throw ValidationError("--role must be ping or pong (pong is started by the benchmark itself)")
            }
            guard count >= 100, sdkCount >= 10, repeats > 0 else { throw ValidationError("need --count >= 100, --sdk-count >= 10 and --repeats > 0") }
            if !json {
                print("tether bench unitree: \(messages) LowCmd → LowState with CRCs, loopback, two processes, best of \(repeats)")
            }
            let bench = UnitreeBenchmark(count: count, repeats: repeats, domain: domain, messages: messages, sdkCount: sdkCount)
            let result = try report { try bench.run(log: json ? { _ in } : { print($0) }) }
            if json { try printJSON(result); return }
            if let ratio = result.ratio, let without = result.ratioWithoutCRC {
                print("ratio (SDK median / Tether median; how many times faster Tether's round trip is): \(fmt(ratio, 1)) with the SDK's CRC, "
                    + "\(fmt(without, 1)) against the SDK without CRC")
            } else if let note = result.note {
                print("no ratio: \(note)")
            }
        }
    }
}
