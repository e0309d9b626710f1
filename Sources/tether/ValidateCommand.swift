import ArgumentParser
import Foundation
import TetherCore
import TetherPolicy
import TetherSim
import TetherValidation

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "The validation gate: N randomized trials of a policy, success rate with intervals, GO / NO-GO.",
        discussion: """
        Runs the manifest's task (quadruped: walk 10 m without falling; cart-pole: keep the pole up) \
        N times under domain randomization on all cores. Trial i draws everything random from the \
        stream (seed, i), so results do not depend on the thread count or the shard. GO when the \
        lower bound of the 95 % Clopper–Pearson interval of the success rate reaches the threshold. \
        See docs/validation.md.

        Examples:
          tether validate --robot quadruped --policy policies/quadruped.onnx --randomize robots/quadruped/randomization.yaml --trials 100
          tether validate --robot cartpole --policy policies/cartpole.onnx --trials 400 --sequential --batch 50
          tether validate --robot quadruped --policy policies/quadruped.onnx --randomize robots/quadruped/randomization.yaml --trials 1000 --shard 3/8 \
        --out shard3.json
          tether validate merge shard*.json --out result.json --report report.html
        """,
        subcommands: [RunGate.self, Merge.self],
        defaultSubcommand: RunGate.self
    )
}

extension Validate {
    struct RunGate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the gate (the default subcommand).")

        @Option(help: "Built-in robot name or manifest path.") var robot: String = "quadruped"
        @Option(help: "ONNX policy to validate.") var policy: String
        @OptionGroup var engine: PolicyEngineArguments
        @Option(help: "Domain randomization spec (omit: nominal model).") var randomize: String?
        @Option(help: "Number of trials N.") var trials = 100
        @Option(help: "Seed; trial i uses the random stream (seed, i).") var seed: UInt64 = 1
        @Option(help: "Success-rate threshold on the interval's lower bound, 0…1.") var threshold = 0.9
        @Option(help: "Run only slice I of N of the trials (0-based), e.g. 2/8; merge the JSON shards later.") var shard: String?
        @Flag(help: "Stop early when the decision is certain (looks every --batch trials, Bonferroni-corrected).") var sequential = false
        @Option(help: "Trials between looks of --sequential.") var batch = 20
        @Option(help: "Worker threads (default: all cores).") var threads: Int?
        @Option(help: "Write the JSON result (or shard) here.") var out: String?
        @Option(name: .customLong("report"), help: "Write the HTML report here.") var reportPath: String?
        @Option(help: "With --report: videos of the first N failed trials, replayed and rendered beside the report (default 2; 0: none).")
        var videos: Int?
        @Flag(help: "Print the result as JSON instead of the summary.") var json = false
        @Flag(help: "Run the policy even if its metadata contradicts the manifest (unsafe).") var allowMismatch = false

        func validate() throws {
            guard trials > 0 else { throw ValidationError("--trials must be positive, got \(trials)") }
            guard threshold > 0, threshold < 1 else { throw ValidationError("--threshold is a success rate strictly between 0 and 1, got \(threshold)") }
            guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
            if let videos {
                guard videos >= 0 else { throw ValidationError("--videos must be 0 or more, got \(videos)") }
                if videos > 0 && reportPath == nil { throw ValidationError("--videos makes videos for the HTML report: add --report PATH") }
            }
        }

        func run() throws {
            let robotModel = try report { try BuiltinRobots.load(robot) }
            var run = ValidationRun(robot: robotModel, policy: policy, randomization: try report { try randomize.map { try RandomizationSpec.load(path: $0) } })
            run.trials = trials
            run.seed = seed
            run.threshold = threshold
            run.shard = try report { try shard.map { try GateShard(parsing: $0) } }
            run.sequentialBatch = sequential ? batch : nil
            run.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
            run.allowMismatch = allowMismatch
            let toStandardError = json
            var result = try report {
                try run.run { line in
                    if toStandardError { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { emit(line) }
                }
            }
            if let reportPath {
                attachFailedTrialVideos(&result, run: run, reportPath: reportPath, count: videos ?? 2) { line in
                    if toStandardError { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { emit(line) }
                }
            }
            if let out { try report { try result.write(to: out) } }
            if let reportPath { try writeGateReport(result, to: reportPath) }
            if run.shard == nil { HistoryHooks.validation(result, artifact: out ?? reportPath) }
            if json { try printJSON(result); return }
            printGateSummary(result)
            if let out { print("  wrote            \(out)") }
            if let reportPath { print("  report           \(reportPath)") }
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Combine shards (tether validate --shard I/N --out …) into the result of the unsharded run.")

        @Argument(help: "Shard files.") var shards: [String]
        @Option(help: "Write the merged JSON result here.") var out: String?
        @Option(name: .customLong("report"), help: "Write the HTML report here.") var reportPath: String?
        @Flag(help: "Print the result as JSON instead of the summary.") var json = false

        func run() throws {
            guard !shards.isEmpty else { throw ValidationError("pass the shard files to merge") }
            let files = shards
            let merged = try report {
                let loaded = try files.map { try GateResult.load(path: $0) }
                return try GateResult.merge(loaded, sources: files)
            }
            if let out { try report { try merged.write(to: out) } }
            if let reportPath { try writeGateReport(merged, to: reportPath) }
            HistoryHooks.validation(merged, artifact: out ?? reportPath)
            if json { try printJSON(merged); return }
            print("tether validate merge: \(files.count) shards, \(merged.summary.trials) trials")
            printGateSummary(merged)
            if let out { print("  wrote            \(out)") }
            if let reportPath { print("  report           \(reportPath)") }
        }
    }
}

/// Writes the HTML report of a result, turning errors into the CLI's messages.
func writeGateReport(_ result: GateResult, to path: String) throws {
    try report { try result.htmlReport(generatedAt: Date()).write(to: path) }
}

/// Prints the terminal summary of a gate result.
func printGateSummary(_ r: GateResult) {
    let s = r.summary
    print("  success          \(s.successes)/\(s.trials) = \(fmt(100 * s.successRate, 1)) %")
    print("  Wilson 95 %      \(fmt(100 * s.wilson.lower, 1))–\(fmt(100 * s.wilson.upper, 1)) %")
    print("  Clopper–Pearson  \(fmt(100 * s.clopperPearson.lower, 1))–\(fmt(100 * s.clopperPearson.upper, 1)) %")
    if let seq = r.sequential {
        print("  sequential       \(seq.looksTaken) of \(seq.rule.looks) looks\(seq.stoppedEarly ? ", stopped early" : ""), each at "
            + "\(String(format: "%.4g", 100 * seq.rule.lookConfidence)) %")
    }
    print("  decision         \(s.decision.rawValue) (threshold \(fmt(100 * r.identity.threshold, 1)) %): \(s.reason)")
    print("  outcomes         "
        + "\(s.outcomes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
    print("  mean distance    \(fmt(s.meanDistance, 2)) m, length \(fmt(s.meanSeconds, 2)) s, return \(fmt(s.meanReturn, 2))")
    for item in s.sensitivity.prefix(3) { print("  sensitivity      \(item.sentence)") }
    if r.wallSeconds > 0 {
        print("  wall time        \(fmt(r.wallSeconds, 1)) s (\(fmt(Double(s.trials) / r.wallSeconds, 2)) trials/s)")
    }
}
