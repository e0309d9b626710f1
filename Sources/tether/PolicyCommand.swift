import ArgumentParser
import Foundation
import TetherCore
import TetherPolicy
import TetherSim

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Inspect ONNX policies and run them on observations.",
        subcommands: [Inspect.self, RunPolicy.self]
    )

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a model's inputs, outputs and metadata, and check it against a manifest.",
            discussion: """
            With --robot, the policy contract is checked: observation and action sizes, and, when \
            the model carries metadata (joint names, gains, default pose, action scale, \
            observation terms, control period), every mismatch by name. Exits 1 on a mismatch.

            Examples:
              tether policy inspect policies/cartpole.onnx
              tether policy inspect policies/quadruped.onnx --robot quadruped
              tether policy inspect model.onnx --json
            """
        )
        @Argument(help: "ONNX model path.") var model: String
        @Option(help: "Built-in robot or manifest to check the policy against.") var robot: String?
        @Flag(help: "Print as JSON.") var json = false

        struct Output: Encodable {
            var model: String
            var onnxRuntime: String?
            var producer: String
            var inputs: [TensorInfo]
            var outputs: [TensorInfo]
            var metadata: [String: String]
            var contractProblems: [String]?
        }

        func run() throws {
            let session = try report { try OnnxSession(path: model) }
            var problems: [String]?
            if let robot {
                let manifest = try report { try Manifest.load(path: try BuiltinRobots.manifestPath(for: robot)) }
                do {
                    _ = try OnnxPolicy(path: model, manifest: manifest)
                    problems = []
                } catch let error as TetherError {
                    problems = [error.what]
                }
            }
            if json {
                try printJSON(Output(model: model, onnxRuntime: OnnxRuntime.version, producer: session.producer, inputs: session.inputs,
                                     outputs: session.outputs, metadata: session.metadata, contractProblems: problems))
            } else {
                print("\(model)  (ONNX Runtime \(OnnxRuntime.version ?? "?"), producer '\(session.producer)')")
                for i in session.inputs { print("  input  \(i.name)  \(i.elementType.name) \(i.shape.map { $0 < 0 ? "?" : String($0) })") }
                for o in session.outputs { print("  output \(o.name)  \(o.elementType.name) \(o.shape.map { $0 < 0 ? "?" : String($0) })") }
                if !session.metadata.isEmpty {
                    print("  metadata:")
                    for (k, v) in session.metadata.sorted(by: { $0.key < $1.key }) { print("    \(k): \(v.count > 160 ? String(v.prefix(160)) + "…" : v)") }
                }
                if let problems {
                    print(problems.isEmpty ? "  contract: matches \(robot!)" : "  contract: MISMATCH\n    \(problems.joined(separator: "\n    "))")
                }
            }
            if let problems, !problems.isEmpty { throw ExitCode.failure }
        }
    }

    struct RunPolicy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a model on observations given as JSON; print the actions as JSON.",
            discussion: """
            Input: a JSON array of observations (each an array of numbers), or an object \
            {"observations": [[...], ...]}, from a file or standard input ('-'). Output: \
            {"actions": [[...], ...]}. NaN or infinite inputs are refused.

            Examples:
              echo '[[0.1, 0, 0.05, 0]]' | tether policy run policies/cartpole.onnx --input -
              tether policy run policy.onnx --input observations.json
            """
        )
        @Argument(help: "ONNX model path.") var model: String
        @Option(help: "JSON file with observations, or '-' for standard input.") var input = "-"

        func run() throws {
            let data = input == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try report {
                do { return try Data(contentsOf: URL(fileURLWithPath: input)) } catch { throw TetherError("cannot read observations: \(error.localizedDescription)", at: input) }
            }
            let observations: [[Float]] = try report {
                let parsed: Any
                do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
                    throw TetherError("observations are not valid JSON: \(error.localizedDescription)", at: input)
                }
                let rows = (parsed as? [String: Any])?["observations"] ?? parsed
                guard let list = rows as? [[Any]] else {
                    throw TetherError("expected an array of observation arrays", at: input, hint: "e.g. [[0.1, 0.0, 0.05, 0.0]]")
                }
                return try list.enumerated().map { i, row in
                    try row.enumerated().map { k, v in
                        guard let number = v as? NSNumber, number.doubleValue.isFinite else {
                            throw TetherError("observation \(i) element \(k) is \(v), not a finite number", at: input)
                        }
                        return number.floatValue
                    }
                }
            }
            let actions: [[Float]] = try report {
                let session = try OnnxSession(path: model)
                guard let width = observations.first?.count, observations.allSatisfy({ $0.count == width }) else {
                    throw TetherError("observations must be non-empty and of equal length", at: input)
                }
                let out = try session.run([observations.flatMap { $0 }], shapes: [[observations.count, width]])[0]
                let m = out.count / observations.count
                return (0..<observations.count).map { Array(out[($0 * m)..<(($0 + 1) * m)]) }
            }
            try printJSON(["actions": actions])
        }
    }
}
