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
            abstract: "Validation-gate trials per second vs bare simulation of the same episodes: the gate's overhead.",
            discussion: """
            Runs N randomized trials of the gate (randomization, policy, episode bookkeeping), then \
            steps the same number of physics steps per trial with no randomization, policy or \
            bookkeeping, same threads, and prints both throughputs and their ratio. Build with \
            -c release for meaningful numbers.

            Examples:
              tether bench validate
              tether bench validate --robot cartpole --policy policies/cartpole.onnx --trials 50 --json
            """
        )
        @Option(help: "Built-in robot name or manifest path.") var robot: String = "quadruped"
        @Option(help: "ONNX policy (default: policies/<robot>.onnx).") var policy: String?
        @Option(help: "Randomization spec (default: robots/quadruped/randomization.yaml for the quadruped, none otherwise).") var randomize: String?
        @Option(help: "Trials of each run.") var trials = 20
        @Option(help: "Seed.") var seed: UInt64 = 1
        @Option(help: "Worker threads (default: all cores).") var threads: Int?
        @Flag(help: "Print the report as JSON.") var json = false

        func validate() throws {
            guard trials > 0 else { throw ValidationError("--trials must be positive, got \(trials)") }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        }

        func run() throws {
            let robotModel = try report { try BuiltinRobots.load(robot) }
            let manifest = robotModel.manifest
            let path = policy ?? "policies/\(manifest.name).onnx"
            let specPath = randomize ?? (manifest.name == "quadruped" ? "robots/quadruped/randomization.yaml" : nil)
            _ = try report { try OnnxPolicy(path: path, manifest: manifest) }
            let spec = try report { try specPath.map { try RandomizationSpec.load(path: $0) } }
            let simulation = try report {
                try GateSimulation(robot: robotModel, randomization: spec, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
            }
            if !json { print("tether bench validate: \(manifest.name), \(trials) trials, policy \(path), "
                + "\(specPath.map { "randomization \($0)" } ?? "nominal"), \(simulation.threads) threads") }
            let result = try report {
                try runGateBenchmark(simulation: simulation, trials: trials, seed: seed) { try OnnxPolicy(path: path, manifest: manifest) }
            }
            if json { try printJSON(result); return }
            print("  gate trials        \(fmt(result.gateSeconds, 2)) s  (\(fmt(result.gateTrialsPerSecond, 2)) trials/s)")
            print("  bare simulation    \(fmt(result.bareSeconds, 2)) s  (\(fmt(result.bareTrialsPerSecond, 2)) trials/s, \(result.physicsSteps) physics "
                + "steps)")
            print("  ratio              \(fmt(result.ratio, 3)) (gate / bare throughput; 1 = no overhead)")
        }
    }
}
