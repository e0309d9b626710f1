import Foundation
import Testing
import TetherCore
import TetherSim
@testable import TetherPolicy

let blindCartpoleManifest = "\(repositoryRoot)/robots/cartpole/cartpole-blind.yaml"
let recurrentCartpoleFixture = "\(repositoryRoot)/tests/fixtures/cartpole-lstm.onnx"

/// The cartpole policy that must remember: the ARS-trained full-state linear policy
/// (policies/cartpole.onnx, observing x, θ, ẋ, θ̇) turned into an LSTM policy that observes only
/// x and θ (robots/cartpole/cartpole-blind.yaml).
///
/// The LSTM (hidden 4) starts as a delay line: units 0–1 hold α·x̂ of this tick (input, output
/// gates open, forget gate shut), units 2–3 hold units 0–1 of the previous tick (through R). For
/// small α every tanh is in its linear range, so (h₀ − h₂)/α is the normalized finite difference
/// x̂ₜ − x̂ₜ₋₁, and the head is the linear policy with ẋ ≈ σ (x̂ₜ − x̂ₜ₋₁)/Δt. Its memory is
/// what it balances with: with the state reset every tick, h₂ = 0 and the "velocity" is the
/// position over Δt — it fails.
func blindCartpolePolicy() throws -> RecurrentNetwork {
    let checkpoint = try ARSCheckpoint.read(from: "\(repositoryRoot)/policies/cartpole.onnx.checkpoint.json")
    let n = checkpoint.statsCount
    let mean = checkpoint.statsSum.map { $0 / n }
    let std = zip(checkpoint.statsSum, checkpoint.statsSumOfSquares).map { s, q in max((q / n - (s / n) * (s / n)).squareRoot(), 0.1) }
    let w = checkpoint.policy.mlp.weights[0].map(Double.init), b = Double(checkpoint.policy.mlp.biases[0][0])
    let alpha = 0.01, dt = 1 / 50.0, gate: Float = 10
    var network = RecurrentNetwork(cell: .lstm, inputSize: 2, hiddenSize: 4, head: MLP(sizes: [4, 1], activation: .tanh))
    network.observationMean = [Float(mean[0]), Float(mean[1])]
    network.observationStd = [Float(std[0]), Float(std[1])]
    let h = 4, inputs = 2
    for u in 0..<h {
        network.biases[u] = gate           // input gate open
        network.biases[h + u] = gate       // output gate open
        network.biases[2 * h + u] = -gate  // forget gate shut
    }
    for j in 0..<2 {
        network.inputWeights[(3 * h + j) * inputs + j] = Float(alpha)   // unit j: α x̂ⱼ now
        network.recurrentWeights[(3 * h + 2 + j) * h + j] = 1           // unit 2+j: unit j one tick ago
    }
    let k2 = w[2] * std[0] / (alpha * dt * std[2]), k3 = w[3] * std[1] / (alpha * dt * std[3])
    network.head.weights[0] = [Float(w[0] / alpha + k2), Float(w[1] / alpha + k3), Float(-k2), Float(-k3)]
    network.head.biases[0] = [Float(b - w[2] * mean[2] / std[2] - w[3] * mean[3] / std[3])]
    return network
}

/// Resets the wrapped policy before every call: a recurrent policy without its memory.
struct Amnesic<P: PolicyRuntime>: PolicyRuntime {
    var inner: P
    var observationSize: Int { inner.observationSize }
    var actionSize: Int { inner.actionSize }
    mutating func act(_ observation: [Float]) throws -> [Float] {
        inner.reset()
        return try inner.act(observation)
    }
}

@Suite struct RecurrentPolicyTests {
    struct Sequence: Decodable { var actions: [[Double]]; var states: [[String: [Double]]] }
    struct CheckResult: Decodable { var ok: Bool; var opset: Int }

    @Test(arguments: [RecurrentNetwork.Cell.lstm, .gru])
    func nativeOnnxRuntimeAndPythonAgreeStepByStep(cell: RecurrentNetwork.Cell) throws {
        var random = SeededRandom(seed: 21)
        var network = RecurrentNetwork(cell: cell, inputSize: 6, hiddenSize: 16, actions: 3, headHidden: [8], random: &random)
        network.observationMean = (0..<6).map { _ in Float(random.uniform(-0.3, 0.3)) }
        network.observationStd = (0..<6).map { _ in Float(random.uniform(0.5, 2)) }
        let path = temporaryPath("\(cell.rawValue).onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try OnnxWriter.write(network, to: path)
        let check = try peer(["op": "check", "model": path], as: CheckResult.self)
        #expect(check.ok && check.opset == 17)

        let manifest = try syntheticManifest(observations: 6, actions: 3)
        let policy = try OnnxPolicy(path: path, manifest: manifest)
        #expect(policy.signature.states.map(\.input) == (cell == .lstm ? ["h_in", "c_in"] : ["h_in"]))
        #expect(policy.signature.kind == (cell == .lstm ? "LSTM (hidden 16, 1 layer)" : "GRU (hidden 16, 1 layer)"))
        #expect(policy.isRecurrent && policy.recurrentStateSize == network.stateSize)

        let observations = (0..<25).map { _ in (0..<6).map { _ in Float(random.gaussian()) } }
        let python = try peer(["op": "sequence", "model": path, "observations": observations.map { $0.map(Double.init) }], as: Sequence.self)
        var state = [Float](repeating: 0, count: network.stateSize)
        var worstPython = 0.0, worstNative = 0.0, worstState = 0.0
        for (t, o) in observations.enumerated() {
            let a = try policy.act(o)
            let native = network.step(o, state: &state)
            for k in 0..<3 {
                worstPython = max(worstPython, abs(Double(a[k]) - python.actions[t][k]))
                worstNative = max(worstNative, abs(a[k] - native[k]).double)
            }
            let carried = policy.recurrentState
            let pythonState = python.states[t]["h_in"]! + (cell == .lstm ? python.states[t]["c_in"]! : [])
            for k in carried.indices { worstState = max(worstState, abs(Double(carried[k]) - pythonState[k])) }
        }
        #expect(worstPython < 1e-5, "Swift vs Python onnxruntime over 25 steps: \(worstPython)")
        #expect(worstState < 1e-5, "carried state vs Python's: \(worstState)")
        #expect(worstNative < 1e-4, "native step vs ONNX Runtime: \(worstNative)")
        // The state is what makes the difference: after a reset the first action is the first again.
        policy.reset()
        #expect(policy.recurrentState.allSatisfy { $0 == 0 })
        let again = try policy.act(observations[0])
        #expect(abs(Double(again[0]) - python.actions[0][0]) < 1e-5)
        // Restoring a state continues from there.
        try policy.setRecurrentState(pythonState(python, step: 9, lstm: cell == .lstm))
        let resumed = try policy.act(observations[10])
        #expect(abs(Double(resumed[0]) - python.actions[10][0]) < 1e-5)
        #expect(throws: TetherError.self) { try policy.setRecurrentState([1, 2, 3]) }
    }

    func pythonState(_ s: Sequence, step: Int, lstm: Bool) -> [Float] {
        (s.states[step]["h_in"]! + (lstm ? s.states[step]["c_in"]! : [])).map(Float.init)
    }

    @Test func statesArePairedByShapeWhenTheNamesSayNothing() throws {
        var random = SeededRandom(seed: 5)
        let network = RecurrentNetwork(cell: .lstm, inputSize: 6, hiddenSize: 8, actions: 3, random: &random)
        let path = temporaryPath("lstm.onnx"), renamed = temporaryPath("renamed.onnx")
        defer { for p in [path, renamed] { try? FileManager.default.removeItem(atPath: p) } }
        try OnnxWriter.write(network, to: path)
        struct Ok: Decodable { var ok: Bool }
        _ = try peer(["op": "rename", "model": path, "out": renamed,
                      "names": ["obs": "observation", "h_in": "h0", "c_in": "c0", "h_out": "hn", "c_out": "cn", "actions": "mu"]], as: Ok.self)
        let policy = try OnnxPolicy(path: renamed, manifest: try syntheticManifest(observations: 6, actions: 3))
        #expect(policy.signature.observation == "observation")
        #expect(policy.signature.action == "mu")
        #expect(policy.signature.states.map { "\($0.input)→\($0.output)" } == ["h0→hn", "c0→cn"])
        #expect(policy.signature.kind.hasPrefix("LSTM"))
    }

    @Test func unrecognisedOrMismatchedStatesAreRefusedByName() throws {
        struct Ok: Decodable { var ok: Bool }
        let manifest = try syntheticManifest(observations: 4, actions: 1)
        let shape = temporaryPath("shape.onnx"), extra = temporaryPath("extra.onnx")
        defer { for p in [shape, extra] { try? FileManager.default.removeItem(atPath: p) } }
        _ = try peer(["op": "make_bad_recurrent", "path": shape, "kind": "state_shape"], as: Ok.self)
        _ = try peer(["op": "make_bad_recurrent", "path": extra, "kind": "extra_input"], as: Ok.self)
        do {
            _ = try OnnxPolicy(path: shape, manifest: manifest)
            Issue.record("a state that comes back another shape was accepted")
        } catch let error as TetherError {
            #expect(error.what.contains("'h_in'") && error.what.contains("'h_out'") && error.what.contains("[1, 1, 8]") && error.what.contains("[1, 1, 4]"),
                    "\(error)")
        }
        do {
            _ = try OnnxPolicy(path: extra, manifest: manifest)
            Issue.record("an input that is neither observation nor state was accepted")
        } catch let error as TetherError {
            #expect(error.what.contains("'goal'"), "\(error)")
        }
        // A recurrent policy whose observation size does not fit the manifest.
        var random = SeededRandom(seed: 1)
        let path = temporaryPath("gru.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try OnnxWriter.write(RecurrentNetwork(cell: .gru, inputSize: 5, hiddenSize: 4, actions: 1, random: &random), to: path)
        #expect(throws: TetherError.self) { _ = try OnnxPolicy(path: path, manifest: manifest) }
    }

    /// The committed fixture is what `blindCartpolePolicy()` builds (regenerate with
    /// TETHER_WRITE_FIXTURES=1 swift test --filter RecurrentPolicyTests).
    @Test func theCommittedFixtureIsTheDelayLinePolicy() throws {
        let bytes = try OnnxWriter.model(try blindCartpolePolicy(), metadata: PolicyContract(manifest: try Manifest.load(path: blindCartpoleManifest)).metadata)
        if ProcessInfo.processInfo.environment["TETHER_WRITE_FIXTURES"] == "1" {
            try Data(bytes).write(to: URL(fileURLWithPath: recurrentCartpoleFixture))
        }
        let committed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: recurrentCartpoleFixture)))
        #expect(committed == bytes, "tests/fixtures/cartpole-lstm.onnx is stale: regenerate it")
    }

    /// The recurrent policy balances with its memory and fails without it.
    @Test func theBlindCartpoleNeedsItsMemory() throws {
        let robot = try RobotModel.load(manifestPath: blindCartpoleManifest)
        let task = robot.manifest.task!
        let runner = EpisodeRunner(task: task)
        let episodes = 100
        func successes(amnesic: Bool) throws -> Int {
            let results = try robot.rollouts(BatchRollout(trials: episodes, seed: 7, threads: 2)) { sim, random, _ -> Bool in
                var random = random
                let policy = try OnnxPolicy(path: recurrentCartpoleFixture, manifest: robot.manifest)
                if amnesic {
                    var p = Amnesic(inner: policy)
                    return runner.run(sim: sim, policy: &p, random: &random).success
                }
                var p = policy
                return runner.run(sim: sim, policy: &p, random: &random).success
            }
            return results.filter { $0 }.count
        }
        let carried = try successes(amnesic: false)
        let reset = try successes(amnesic: true)
        print("blind cartpole: \(carried)/\(episodes) balanced with the state carried, \(reset)/\(episodes) with it reset every tick")
        #expect(carried >= 99, "with its state carried: \(carried)/\(episodes)")
        #expect(reset <= 10, "with its state reset every tick: \(reset)/\(episodes)")
    }
}

extension Float { var double: Double { Double(self) } }

/// A manifest with the sizes a test needs: the cartpole's (one action) with its history scaled
/// to the observation size, or the quadruped's first three joints (three actions, six observations).
func syntheticManifest(observations: Int, actions: Int) throws -> Manifest {
    var m = try Manifest.load(path: cartpoleManifest)
    // The cartpole frame is 4 values (2 positions, 2 velocities); pick terms to reach the size.
    precondition(actions == 1 || actions == 3)
    if actions == 3 {
        m = try Manifest.load(path: quadrupedManifest)
        m.joints = Array(m.joints.prefix(3))
        m.action.scale = Array(m.action.scale.prefix(m.action.scale.count == 1 ? 1 : 3))
        m.action.offset = m.action.offset.map { Array($0.prefix(3)) }
        m.observation.terms = [.init(source: .jointPositions), .init(source: .jointVelocities)]
        m.observation.history = 1
        precondition(m.observationSize == observations, "synthetic manifest: \(m.observationSize) observations")
        return m
    }
    m.observation.history = observations / m.observationFrameSize
    precondition(m.observationSize == observations)
    return m
}
