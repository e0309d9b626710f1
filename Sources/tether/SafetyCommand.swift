import ArgumentParser
import Foundation
import TetherCore
import TetherPolicy
import TetherRuntime
import TetherSafety
import TetherSim

struct SafetyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "safety",
        abstract: "Offline tools for the safety wrapper.",
        subcommands: [Replay.self]
    )

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a recording or a JSON Lines stream of states and actions through a safety configuration.",
            discussion: """
            Writes, one JSON line per tick, the command the wrapper would have sent and the events \
            it would have raised, then prints a summary (counters per reason, first stop). The input \
            is a flight recording (.mcap) or JSON Lines (format in docs/safety.md, "Replay").

            Examples:
              tether safety replay flight.mcap --robot quadruped --stage 25 --out replay.jsonl
              tether safety replay ticks.jsonl --robot my_robot.yaml
              tether safety replay flight.mcap --robot my_robot.yaml --policy other.onnx
            """
        )
        @Argument(help: "Recording (.mcap) or JSON Lines file.") var input: String
        @Option(help: "Built-in robot name or manifest path.") var robot = "quadruped"
        @Option(help: "Torque stage in percent (25, 50, 100).", transform: TorqueStage.argument) var stage: TorqueStage?
        @Option(help: "Where to write the replayed ticks (JSON Lines).") var out: String?
        @Option(help: ArgumentHelp("Re-run this ONNX policy on the recording's observations (a recurrent policy's state reset where its policy phases "
            + "started) and "
            + "replay its actions instead of the recorded ones.")) var policy: String?

        func run() throws {
            let manifest = try report { try Manifest.load(path: try BuiltinRobots.manifestPath(for: robot)) }
            let config = try report { try SafetyConfig(manifest: manifest, stage: stage?.fraction) }
            let inputs: [SafetyInput] = try report {
                guard let policy else { return try SafetyReplay.inputs(path: input, manifest: manifest) }
                var onnx = try OnnxPolicy(path: policy, manifest: manifest)
                return try SafetyReplay.inputs(path: input, manifest: manifest, policy: &onnx)
            }
            let ticks = SafetyReplay.run(inputs, config: config)
            if let out {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                var data = Data()
                for t in ticks { data.append(try encoder.encode(t)); data.append(0x0A) }
                try writeOutput(to: out, what: "the ticks") { data }
            }
            var counts: [String: Int] = [:]
            for t in ticks { for e in t.events { counts[String(e.prefix { $0 != ":" }), default: 0] += 1 } }
            print("replayed \(ticks.count) ticks of \(input) through \(manifest.name)'s safety configuration (stage \(Int(config.startStage * 100)) %)")
            print("  events: " + (counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")))
            if let stop = ticks.first(where: { $0.mode.hasPrefix("stopped") }) {
                print("  first stop at \(fmt(stop.time, 3)) s: \(stop.mode) — \(stop.events.first ?? "")")
            } else {
                print("  no stop")
            }
            if let out { print("  wrote \(out)") }
        }
    }
}
