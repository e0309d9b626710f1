import ArgumentParser
import Foundation
import TetherCore
import TetherPolicy
import TetherRuntime
import TetherSim

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks of Tether's hot paths against the peer a user would otherwise use.",
        subcommands: [SimBench.self, PolicyBench.self, LoopBench.self]
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
            fast path and natively, and in the same run Python onnxruntime's session.run on the \
            same file; then ARS training throughput against bare PD stepping of the quadruped.

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
            if let s = result.speedupOverPython { print("  Python session.run / Tether fast path = \(fmt(s, 2))x") }
            if let s = result.nativeSpeedupOverPython { print("  Python session.run / Tether native    = \(fmt(s, 2))x") }
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
            let result = try report { try LoopBenchmark(ticks: ticks, sustainedSeconds: seconds, sustainedRateHz: rate).run(log: json ? { _ in } : { print($0) }) }
            if json { try printJSON(result); return }
            if let s = result.speedupOverPython { print("ratio: Python tick / Tether tick = \(fmt(s, 2))x (median)") }
        }
    }
}
