import ArgumentParser
import Foundation
import TetherCore
import TetherONNX
import TetherPolicy
import TetherRuntime
import TetherSim

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Inspect ONNX policies and run them on observations.",
        subcommands: [Inspect.self, RunPolicy.self, Replay.self]
    )

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a model's inputs, outputs and metadata, and check it against a manifest.",
            discussion: """
            With --robot, the policy contract is checked: observation and action sizes, and, when \
            the model carries metadata (joint names, gains, default pose, action scale, \
            observation terms, control period), every mismatch by name. Exits 1 on a mismatch.

            The roles of the inputs and outputs are recognised and shown: the observation, the \
            action, and a recurrent policy's state tensors (LSTM: obs, h_in, c_in → actions, \
            h_out, c_out; GRU: obs, h_in → actions, h_out; paired by name, else by shape), which \
            Tether carries from call to call and sets to zeros where an episode starts.

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
            var signature: PolicySignature?
            var signatureProblem: String?
            var contractProblems: [String]?
            /// Which engine runs the calls on this robot, and why (with --robot).
            var engine: String?
        }

        func run() throws {
            let session = try report { try OnnxSession(path: model) }
            var signature: PolicySignature?
            var signatureProblem: String?
            do { signature = try PolicySignature.recognise(session, observationSize: nil) } catch let error as TetherError {
                signatureProblem = error.what + (error.hint.map { " (\($0))" } ?? "")
            }
            var problems: [String]?
            var engine: String?
            if let robot {
                let manifest = try report { try Manifest.load(path: try BuiltinRobots.manifestPath(for: robot)) }
                do {
                    engine = try OnnxPolicy(path: model, manifest: manifest).engineSummary
                    problems = []
                } catch let error as TetherError {
                    problems = [error.what]
                }
            }
            if json {
                try printJSON(Output(model: model, onnxRuntime: OnnxRuntime.version, producer: session.producer, inputs: session.inputs,
                                     outputs: session.outputs, metadata: session.metadata, signature: signature,
                                     signatureProblem: signatureProblem, contractProblems: problems, engine: engine))
            } else {
                print("\(model)  (ONNX Runtime \(OnnxRuntime.version ?? "?"), producer '\(session.producer)')")
                for i in session.inputs { print("  input  \(i.name)  \(i.elementType.name) "
                    + "[\(i.shape.map { $0 < 0 ? "?" : String($0) }.joined(separator: ", "))]") }
                for o in session.outputs { print("  output \(o.name)  \(o.elementType.name) "
                    + "[\(o.shape.map { $0 < 0 ? "?" : String($0) }.joined(separator: ", "))]") }
                if let signature {
                    print("  recognised: " + signature.summary.joined(separator: "\n              "))
                } else if let signatureProblem {
                    print("  recognised: NOT A POLICY TETHER CAN RUN: \(signatureProblem)")
                }
                if !session.metadata.isEmpty {
                    print("  metadata:")
                    for (k, v) in session.metadata.sorted(by: { $0.key < $1.key }) { print("    \(k): \(v.count > 160 ? String(v.prefix(160)) + "…" : v)") }
                }
                if let problems {
                    print(problems.isEmpty ? "  contract: matches \(robot!)" : "  contract: MISMATCH\n    \(problems.joined(separator: "\n    "))")
                }
                if let engine { print("  engine: \(engine)") }
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
                do { return try Data(contentsOf: URL(fileURLWithPath: input)) } catch { throw TetherError("cannot read observations: "
                    + "\(error.localizedDescription)", at: input) }
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
                let signature = try PolicySignature.recognise(session, observationSize: width)
                if !signature.states.isEmpty {
                    // A recurrent policy: the observations are a sequence, the state carried from
                    // zeros, one call per observation.
                    var states = signature.states.map { [Float](repeating: 0, count: $0.count) }
                    var shapes = session.inputs.map { $0.shape.map { max($0, 1) } }
                    shapes[signature.observationIndex] = signature.observationShape
                    for s in signature.states { shapes[s.inputIndex] = s.shape }
                    var out: [[Float]] = []
                    for o in observations {
                        var values = [[Float]](repeating: [], count: session.inputs.count)
                        values[signature.observationIndex] = o
                        for (k, s) in signature.states.enumerated() { values[s.inputIndex] = states[k] }
                        let result = try session.run(values, shapes: shapes)
                        for (k, s) in signature.states.enumerated() { states[k] = result[s.outputIndex] }
                        out.append(result[signature.actionIndex])
                    }
                    return out
                }
                let out = try session.run([observations.flatMap { $0 }], shapes: [[observations.count, width]])[0]
                let m = out.count / observations.count
                return (0..<observations.count).map { Array(out[($0 * m)..<(($0 + 1) * m)]) }
            }
            try printJSON(["actions": actions])
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-run a policy's decisions from a flight recording and compare them with the recorded actions.",
            discussion: """
            Each recorded observation (/tether/observation) is fed to the policy in order; a \
            recurrent policy's state is set to zeros where the deployment reset it (policy_reset \
            events) or restored from /tether/policy_state when the recording starts mid-phase. \
            Prints the largest difference between the replayed and recorded actions (and states). \
            Exits 1 when the largest action difference exceeds --tolerance.

            Examples:
              tether policy replay out/deploy.mcap --policy policies/cartpole.onnx --robot cartpole
            """
        )
        @Argument(help: "Flight recording (.mcap).") var recording: String
        @Option(help: "ONNX policy.") var policy: String
        @Option(help: "Built-in robot or manifest the recording was made with.") var robot: String
        @Option(help: "Largest acceptable action difference.") var tolerance = 1e-4
        @Flag(help: "Print as JSON.") var json = false

        func run() throws {
            let manifest = try report { try Manifest.load(path: try BuiltinRobots.manifestPath(for: robot)) }
            var onnx = try report { try OnnxPolicy(path: policy, manifest: manifest) }
            let result = try report { try PolicyReplay.run(path: recording, policy: &onnx) }
            if json {
                try printJSON(result)
            } else {
                print("\(recording): \(result.ticks) ticks replayed\(result.skipped > 0 ? ", \(result.skipped) skipped before the state was known" : ""), "
                    + "\(result.resets) reset\(result.resets == 1 ? "" : "s")")
                print(String(format: "  largest action difference %.3g%@", result.maxActionError, result.worstTick.map { " (tick \($0))" } ?? ""))
                if let e = result.maxStateError { print(String(format: "  largest recurrent-state difference %.3g", e)) }
                if result.recurrent && !result.stateRecorded { print("  note: the recording holds no /tether/policy_state; replayed from the resets") }
            }
            if result.maxActionError > tolerance {
                FileHandle.standardError.write(Data(("error: the replayed actions differ from the recorded ones by up to \(result.maxActionError) (tolerance "
                    + "\(tolerance)): is this the policy that ran?\n").utf8))
                throw ExitCode.failure
            }
        }
    }
}
