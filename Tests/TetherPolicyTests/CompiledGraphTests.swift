import Foundation
import Testing
import TetherCore
@testable import TetherPolicy

/// The compiled engine against Python onnxruntime (tests/peers/graph_zoo.py builds each model with
/// the `onnx` package and runs it on seeded inputs), and the engine choice of `OnnxPolicy`.
@Suite struct CompiledGraphTests {
    struct Case: Decodable {
        struct Tensor: Decodable { var name: String; var shape: [Int]?; var data: [Double] }
        var name: String
        var path: String
        var supported: Bool
        var inputs: [Tensor]
        var outputs: [Tensor]
    }

    static func zoo() throws -> [Case] {
        let directory = temporaryPath("zoo")
        let out = try TetherPaths.run("\(repositoryRoot)/.venv/bin/python", ["\(repositoryRoot)/tests/peers/graph_zoo.py", directory])
        return try JSONDecoder().decode([Case].self, from: Data(out.utf8))
    }

    @Test func everyOperatorMatchesOnnxRuntimeInPython() throws {
        let cases = try Self.zoo()
        #expect(cases.filter(\.supported).count >= 7)
        for c in cases {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: c.path)))
            let inputs = c.inputs.map { ($0.name, $0.shape ?? []) }
            if !c.supported {
                #expect(throws: CompiledGraph.Unsupported.self, "\(c.name) must be refused") {
                    try CompiledGraph(model: bytes, inputs: inputs, outputs: c.outputs.map(\.name))
                }
                continue
            }
            let graph = try CompiledGraph(model: bytes, inputs: inputs, outputs: c.outputs.map(\.name))
            for (i, input) in c.inputs.enumerated() {
                let buffer = graph.input(i)
                #expect(buffer.count == input.data.count, "\(c.name): input \(input.name)")
                for k in buffer.indices { buffer[k] = Float(input.data[k]) }
            }
            graph.run()
            for (o, expected) in c.outputs.enumerated() {
                let got = graph.output(o)
                #expect(got.count == expected.data.count, "\(c.name): output \(expected.name) has \(got.count) values, onnxruntime \(expected.data.count)")
                guard got.count == expected.data.count else { continue }
                var worst = 0.0
                for k in got.indices { worst = max(worst, abs(Double(got[k]) - expected.data[k]) / (1 + abs(expected.data[k]))) }
                #expect(worst < 2e-5, "\(c.name): output \(expected.name) differs from onnxruntime by \(worst) · (1 + |value|)")
            }
        }
    }

    @Test func refusalsNameTheNode() throws {
        let lstm = try #require(try Self.zoo().first { $0.name == "lstm" })
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: lstm.path)))
        do {
            _ = try CompiledGraph(model: bytes, inputs: [("obs", [1, 4])], outputs: ["actions"])
            Issue.record("an LSTM compiled")
        } catch let error as CompiledGraph.Unsupported {
            #expect(error.description.contains("LSTM"))
            #expect(error.description.contains("node 1"))
        }
        #expect(throws: CompiledGraph.Unsupported.self) { try CompiledGraph(model: [1, 2, 3], inputs: [], outputs: []) }
        // An input left unbound, an output the graph does not compute.
        #expect(throws: CompiledGraph.Unsupported.self) { try CompiledGraph(model: bytes, inputs: [], outputs: ["actions"]) }
        let actor = try #require(try Self.zoo().first { $0.name == "actor_elu" })
        let actorBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: actor.path)))
        #expect(throws: CompiledGraph.Unsupported.self) { try CompiledGraph(model: actorBytes, inputs: [("obs", [1, 48])], outputs: ["nothing"]) }
        #expect(throws: CompiledGraph.Unsupported.self) { try CompiledGraph(model: actorBytes, inputs: [("obs", [1, 47])], outputs: ["actions"]) }
    }

    @Test func theQuadrupedPolicyRunsCompiledAndMatchesOnnxRuntime() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let path = "\(repositoryRoot)/policies/quadruped.onnx"
        let auto = try OnnxPolicy(path: path, manifest: manifest, engine: .auto)
        #expect(auto.engine == .native)
        #expect(auto.engineSummary.hasPrefix("compiled graph"))
        let ort = try OnnxPolicy(path: path, manifest: manifest, engine: .onnxruntime)
        #expect(ort.engine == .onnxruntime)
        var random = SeededRandom(seed: 11)
        var observations: [[Float]] = []
        for _ in 0..<50 { observations.append((0..<manifest.observationSize).map { _ in Float(random.uniform(-1.5, 1.5)) }) }
        // Against Python onnxruntime as well as against ONNX Runtime in this process.
        struct Run: Decodable { var output: [[Double]] }
        let python = try peer(["op": "run", "model": path, "input": observations.map { $0.map(Double.init) }], as: Run.self)
        for (k, o) in observations.enumerated() {
            let a = try auto.act(o), b = try ort.act(o)
            for j in a.indices {
                #expect(abs(a[j] - b[j]) <= 1e-5 * (1 + abs(b[j])))
                #expect(abs(Double(a[j]) - python.output[k][j]) <= 1e-5 * (1 + abs(python.output[k][j])))
            }
        }
    }

    @Test func aRecurrentCellCarriesItsStateLikeOnnxRuntime() throws {
        let gru = try #require(try Self.zoo().first { $0.name == "gru_cell" })
        let manifest = try Manifest.load(path: cartpoleManifest)
        let native = try OnnxPolicy(path: gru.path, manifest: manifest, engine: .native)
        let ort = try OnnxPolicy(path: gru.path, manifest: manifest, engine: .onnxruntime)
        #expect(native.isRecurrent && native.engine == .native)
        var random = SeededRandom(seed: 5)
        for step in 0..<40 {
            if step == 25 { native.reset(); ort.reset() }
            let o = (0..<4).map { _ in Float(random.uniform(-1, 1)) }
            let a = try native.act(o), b = try ort.act(o)
            #expect(abs(a[0] - b[0]) <= 1e-5 * (1 + abs(b[0])), "step \(step)")
            for (x, y) in zip(native.recurrentState, ort.recurrentState) { #expect(abs(x - y) <= 1e-5) }
        }
        let saved = ort.recurrentState
        try native.setRecurrentState(saved)
        #expect(native.recurrentState == saved)
    }

    @Test func engineChoiceAndItsErrors() throws {
        let manifest = try Manifest.load(path: cartpoleManifest)
        let lstm = try #require(try Self.zoo().first { $0.name == "lstm" })
        // auto: ONNX Runtime runs what does not compile, and says why.
        let auto = try OnnxPolicy(path: lstm.path, manifest: manifest, engine: .auto)
        #expect(auto.engine == .onnxruntime)
        #expect(auto.engineSummary.contains("LSTM"))
        // native: an error naming the operator and the way out.
        do {
            _ = try OnnxPolicy(path: lstm.path, manifest: manifest, engine: .native)
            Issue.record("native accepted an LSTM")
        } catch let error as TetherError {
            #expect(error.what.contains("LSTM"))
            #expect(error.hint?.contains("onnxruntime") == true)
        }
        #expect(PolicyEngine(rawValue: "tensorrt") == nil)
    }
}
