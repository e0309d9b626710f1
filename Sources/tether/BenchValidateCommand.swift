import ArgumentParser
import Foundation
import TetherBench
import TetherCore
import TetherPolicy
import TetherSim
import TetherValidation

extension Bench {
    struct ValidateBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Validation-gate trials per second vs bare simulation of the same episodes, and how the gate scales with threads.",
            discussion: """
            Runs N randomized trials of the gate (randomization, policy, observations, episode \
            bookkeeping) at each thread count, and after each the bare simulation of the same \
            episodes on the same threads: the recorded controls and forces of every trial stepped \
            through MuJoCo again, with nothing else. Prints both throughputs, their ratio, the \
            gate's trials/s per thread (to size an array job) and its speed-up over 1 thread. Build \
            with -c release for meaningful numbers.

            Examples:
              tether bench validate
              tether bench validate --threads 1,2,4,8 --trials 40
              tether bench validate --robot cartpole --policy policies/cartpole.onnx --trials 50 --json
            """
        )
        @Option(help: "Built-in robot name or manifest path.") var robot: String = "quadruped"
        @Option(help: "ONNX policy (default: policies/<robot>.onnx).") var policy: String?
        @OptionGroup var engine: PolicyEngineArguments
        @Option(help: "Randomization spec (default: robots/quadruped/randomization.yaml for the quadruped, none otherwise).") var randomize: String?
        @Option(help: "Trials of each run.") var trials = 20
        @Option(help: "Seed.") var seed: UInt64 = 1
        @Option(help: "Rounds at each thread count, gate and bare alternating; the fastest of each counts.") var rounds = 2
        @Option(help: "Thread counts to measure, comma-separated (default: 1 and all cores).", transform: parseThreadCounts)
        var threads: [Int] = []
        @Flag(help: "Print the report as JSON.") var json = false

        func validate() throws {
            guard trials > 0 else { throw ValidationError("--trials must be positive, got \(trials)") }
            guard rounds > 0 else { throw ValidationError("--rounds must be positive, got \(rounds)") }
            if let bad = threads.first(where: { $0 < 1 }) { throw ValidationError("--threads: each thread count must be at least 1, got \(bad)") }
        }

        func run() throws {
            let bench = GateBenchmark(robot: robot, policy: policy, randomization: randomize, trials: trials, seed: seed, threadCounts: threads,
                                      rounds: rounds)
            let quiet = json
            let r = try report { try bench.run { line in if !quiet { print(line) } } }
            if json { try printJSON(r); return }
            print("\n  threads   gate trials/s   bare trials/s   ratio   gate trials/s per thread   speed-up over 1 thread")
            for run in r.runs {
                print("  \(pad(run.threads, 7))   \(pad(fmt(run.gateTrialsPerSecond, 2), 13))   \(pad(fmt(run.bareTrialsPerSecond, 2), 13))   "
                    + "\(fmt(run.ratio, 3))   \(pad(fmt(run.gateTrialsPerSecondPerThread, 2), 24))   \(run.speedup.map { fmt($0, 2) + "x" } ?? "-")")
            }
            print("  \(r.physicsSteps) physics steps per run, fastest of \(r.rounds) rounds; \(r.successes)/\(r.trials) successes; "
                + "records identical at every thread count: \(r.recordsAgree ? "yes" : "NO"); bare replay bit-exact: \(r.replayExact ? "yes" : "NO")")
            print("  ratio = gate / bare throughput (1 = the gate costs nothing beyond the physics of the same episodes)")
        }
    }
}

/// "1,2,8" → [1, 2, 8].
private func parseThreadCounts(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    return try parts.map { part in
        guard let n = Int(part), n >= 1 else { throw ValidationError("--threads takes thread counts ≥ 1 separated by commas (e.g. 1,2,8), got '\(text)'") }
        return n
    }
}

private func pad(_ value: some CustomStringConvertible, _ width: Int) -> String {
    let s = value.description
    return String(repeating: " ", count: max(0, width - s.count)) + s
}
