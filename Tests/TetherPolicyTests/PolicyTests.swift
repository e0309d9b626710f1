import Foundation
import Testing
import TetherCore
@testable import TetherONNX
import TetherSim
@testable import TetherPolicy

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let quadrupedManifest = "\(repositoryRoot)/robots/quadruped/quadruped.yaml"
let cartpoleManifest = "\(repositoryRoot)/robots/cartpole/cartpole.yaml"

func peer<T: Decodable>(_ request: [String: Any], as: T.Type) throws -> T {
    let json = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
    let out = try TetherPaths.run("\(repositoryRoot)/.venv/bin/python", ["\(repositoryRoot)/tests/peers/onnx_peer.py", json])
    return try JSONDecoder().decode(T.self, from: Data(out.utf8))
}

func temporaryPath(_ name: String) -> String { NSTemporaryDirectory() + "tether-\(UUID().uuidString)-\(name)" }

func randomPolicy(_ sizes: [Int], _ activation: MLP.Activation, seed: UInt64) -> PolicyNetwork {
    var random = SeededRandom(seed: seed)
    var policy = PolicyNetwork(mlp: MLP(sizes: sizes, activation: activation, random: &random))
    for i in policy.mlp.biases.indices { for k in policy.mlp.biases[i].indices { policy.mlp.biases[i][k] = Float(random.uniform(-0.1, 0.1)) } }
    policy.observationMean = (0..<sizes[0]).map { _ in Float(random.uniform(-0.5, 0.5)) }
    policy.observationStd = (0..<sizes[0]).map { _ in Float(random.uniform(0.5, 2)) }
    return policy
}

@Suite struct OnnxTests {
    struct RunResult: Decodable { var output: [[Double]]; var metadata: [String: String] }
    struct CheckResult: Decodable { var ok: Bool; var opset: Int; var ir_version: Int }

    @Test(arguments: [MLP.Activation.elu, .tanh, .relu])
    func nativeOnnxRuntimeAndPythonAgree(activation: MLP.Activation) throws {
        let policy = randomPolicy([48, 256, 128, 12], activation, seed: 3)
        let path = temporaryPath("policy.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try OnnxWriter.write(policy, metadata: ["robot": "test", "joint_names": "a,b"], to: path)

        let check = try peer(["op": "check", "model": path], as: CheckResult.self)
        #expect(check.ok && check.opset == 17 && check.ir_version == 8)

        let session = try OnnxSession(path: path)
        #expect(session.inputs == [TensorInfo(name: "obs", elementType: .float, shape: [-1, 48])])
        #expect(session.outputs.first?.shape == [-1, 12])
        #expect(session.metadata["robot"] == "test")
        #expect(session.metadata["joint_names"] == "a,b")
        #expect(session.producer == "tether")

        var random = SeededRandom(seed: 11)
        let batch = (0..<4).map { _ in (0..<48).map { _ in Float(random.gaussian()) } }
        // Batch > 1 through the general path.
        let ort = try session.run([batch.flatMap { $0 }], shapes: [[4, 48]])[0]
        let python = try peer(["op": "run", "model": path, "input": batch.map { $0.map(Double.init) }], as: RunResult.self)
        #expect(python.metadata["robot"] == "test")
        let fast = try FastRun(session: session, inputShapes: [[1, 48]], outputShapes: [[1, 12]])
        var worstNative = 0.0, worstPython = 0.0, worstFast = 0.0
        for (b, x) in batch.enumerated() {
            let native = policy.act(x)
            fast.setInput(0, x)
            try fast.run()
            for k in 0..<12 {
                let o = Double(ort[b * 12 + k])
                worstNative = max(worstNative, abs(Double(native[k]) - o))
                worstPython = max(worstPython, abs(python.output[b][k] - o))
                worstFast = max(worstFast, abs(Double(fast.output(0)[k]) - o))
            }
        }
        #expect(worstNative < 1e-5, "native vs ONNX Runtime: \(worstNative)")
        #expect(worstPython < 1e-5, "Python onnxruntime vs Swift: \(worstPython)")
        #expect(worstFast == 0, "the fast path and the general path differ by \(worstFast)")
    }

    @Test func linearPolicyExports() throws {
        let policy = randomPolicy([4, 1], .elu, seed: 5)
        let session = try OnnxSession(bytes: try OnnxWriter.model(policy))
        let y = try session.run([[0.1, -0.2, 0.3, 0.4]], shapes: [[1, 4]])[0]
        #expect(abs(y[0] - policy.act([0.1, -0.2, 0.3, 0.4])[0]) < 1e-6)
    }

    @Test func missingAndCorruptModelsGiveClearErrors() throws {
        do {
            _ = try OnnxSession(path: "/nonexistent/policy.onnx")
            Issue.record("must fail")
        } catch let error as TetherError {
            #expect(error.location == "/nonexistent/policy.onnx")
        }
        let path = temporaryPath("corrupt.onnx")
        try Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try OnnxSession(path: path)
            Issue.record("must fail")
        } catch let error as TetherError {
            #expect(error.location == path)
            #expect(error.what.contains("ONNX Runtime cannot load the model"))
        }
    }

    @Test func nonFloatInputsAndBadShapesAreRejected() throws {
        let path = temporaryPath("int.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        struct OK: Decodable { var ok: Bool }
        _ = try peer(["op": "make_int_input", "path": path], as: OK.self)
        let session = try OnnxSession(path: path)
        #expect(session.inputs.first?.elementType == .int64)
        #expect(throws: TetherError.self) { try FastRun(session: session, inputShapes: [[1, 4]], outputShapes: [[1, 4]]) }

        let policy = try OnnxSession(bytes: try OnnxWriter.model(randomPolicy([6, 2], .elu, seed: 1)))
        do {
            _ = try FastRun(session: policy, inputShapes: [[1, 7]], outputShapes: [[1, 2]])
            Issue.record("must fail")
        } catch let error as TetherError {
            #expect(error.what.contains("dimension 1 must be 6"))
        }
        #expect(throws: TetherError.self) { try policy.run([[1, 2, 3]], shapes: [[1, 6]]) }
    }

    @Test func contractMismatchesAreListedByName() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        var contract = PolicyContract(manifest: manifest)
        #expect(contract.mismatches(with: manifest).isEmpty)
        contract.jointNames!.swapAt(0, 3)
        contract.jointStiffness![2] = 40
        contract.controlPeriod = 0.01
        contract.observationNames = ["projected_gravity"]
        let back = try PolicyContract(metadata: contract.metadata)
        let problems = back.mismatches(with: manifest)
        #expect(problems.contains("joint 0 is FL_hip_joint in the policy but FR_hip_joint in the manifest"))
        #expect(problems.contains("joint 3 is FR_hip_joint in the policy but FL_hip_joint in the manifest"))
        #expect(problems.contains { $0.hasPrefix("kp of FR_calf_joint is 40.0") })
        #expect(problems.contains { $0.contains("control period is 0.01 s") })
        #expect(problems.contains { $0.hasPrefix("observation terms are [projected_gravity]") })
        #expect(throws: TetherError.self) { try PolicyContract(metadata: ["action_scale": "0.25,abc"]) }
    }
}

@Suite struct MLPTests {
    @Test(arguments: [MLP.Activation.elu, .tanh, .relu])
    func backwardMatchesFiniteDifferences(activation: MLP.Activation) {
        var random = SeededRandom(seed: 9)
        let mlp = MLP(sizes: [5, 7, 3], activation: activation, random: &random)
        let x: [Float] = (0..<5).map { _ in Float(random.gaussian()) }
        let target: [Float] = [0.3, -0.1, 0.5]
        func loss(_ net: MLP) -> Double {
            zip(net.forward(x), target).reduce(0) { $0 + 0.5 * Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        }
        var workspace = MLP.Workspace(mlp)
        var gradients = MLP.Gradients(mlp)
        let y = x.withUnsafeBufferPointer { Array(mlp.forward($0, workspace: &workspace)) }
        mlp.backward(outputGradient: zip(y, target).map { $0 - $1 }, workspace: &workspace, gradients: &gradients)
        let analytic = gradients.flattened
        let params = mlp.parameters
        var worst = 0.0
        for i in stride(from: 0, to: params.count, by: 3) {
            var plus = mlp, minus = mlp
            var p = params; p[i] += 1e-2; plus.parameters = p
            p[i] -= 2e-2; minus.parameters = p
            let numeric = (loss(plus) - loss(minus)) / 2e-2
            worst = max(worst, abs(numeric - Double(analytic[i])))
        }
        #expect(worst < 2e-3, "largest gradient error \(worst)")
    }

    @Test func parametersRoundTrip() {
        var random = SeededRandom(seed: 1)
        var mlp = MLP(sizes: [3, 4, 2], random: &random)
        let p = mlp.parameters
        #expect(p.count == mlp.parameterCount && p.count == 3 * 4 + 4 + 4 * 2 + 2)
        mlp.parameters = p.map { $0 * 2 }
        #expect(mlp.parameters == p.map { $0 * 2 })
    }
}

@Suite struct ObservationAndActionTests {
    @Test func quadrupedObservationFollowsTheManifest() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        sim.stepControl()
        var builder = ObservationBuilder(manifest: robot.manifest)
        var random = SeededRandom(seed: 1)
        let lastAction = [Float](repeating: 0.5, count: 12)
        let obs = try builder.build(state: sim.state(), command: SIMD3(0.5, 0, 0.1), lastAction: lastAction, random: &random)
        #expect(obs.count == 48)
        #expect(abs(obs[5] + 1) < 0.01)  // projected gravity z ≈ -1
        #expect(obs[6] == 1.0 && obs[8] == Float(0.025))  // command scaled by [2, 2, 0.25]
        #expect(Array(obs[33..<45]) == lastAction)
        #expect(obs[45] == 0 && obs[46] == 1)  // gait clock at t = 0
        // joint positions are relative to default: near zero standing
        #expect(obs[9..<21].allSatisfy { abs($0) < 0.1 })
        var bad = sim.state()
        bad.jointVelocities[4] = .nan
        #expect(throws: TetherError.self) { try builder.build(state: bad, lastAction: lastAction, random: &random) }
    }

    @Test func historyStacksNewestFirst() throws {
        var manifest = try Manifest.load(path: cartpoleManifest)
        manifest.observation.history = 3
        var builder = ObservationBuilder(manifest: manifest)
        var random = SeededRandom(seed: 1)
        func state(_ x: Double) -> RobotState {
            RobotState(time: 0, jointPositions: [x, 0], jointVelocities: [0, 0], jointTorques: [0, 0])
        }
        let first = try builder.build(state: state(1), lastAction: [0], random: &random)
        #expect(first.count == 12 && first[0] == 1 && first[4] == 1 && first[8] == 1)  // primed with the first frame
        _ = try builder.build(state: state(2), lastAction: [0], random: &random)
        let third = try builder.build(state: state(3), lastAction: [0], random: &random)
        #expect(third[0] == 3 && third[4] == 2 && third[8] == 1)
        builder.reset()
        let fresh = try builder.build(state: state(7), lastAction: [0], random: &random)
        #expect(fresh[0] == 7 && fresh[4] == 7)
    }

    @Test func noiseIsOnlyAddedInTraining() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let state = SimRobot(robot: robot).state()
        var a = ObservationBuilder(manifest: manifest), b = ObservationBuilder(manifest: manifest)
        var random = SeededRandom(seed: 2)
        let clean = try a.build(state: state, lastAction: .init(repeating: 0, count: 12), random: &random)
        let noisy = try b.build(state: state, lastAction: .init(repeating: 0, count: 12), noiseScale: 1, random: &random)
        #expect(clean != noisy)
        // gyro noise 0.2 rad/s scaled by 0.25 stays within ±0.05
        #expect(zip(clean[0..<3], noisy[0..<3]).allSatisfy { abs($0 - $1) <= 0.05 + 1e-6 })
    }

    @Test func actionsMapToTargetsAndTorques() throws {
        let q = try Manifest.load(path: quadrupedManifest)
        let mapper = ActionMapper(manifest: q)
        var action = [Float](repeating: 0, count: 12)
        action[2] = 1
        action[3] = 1000  // clipped to 100
        let cmd = try mapper.command(for: action)
        #expect(cmd.positions[0] == 0 && cmd.positions[1] == 0.9)
        #expect(abs(cmd.positions[2] - (-1.8 + 0.25)) < 1e-12)
        #expect(abs(cmd.positions[3] - 25) < 1e-12)
        #expect(cmd.kp == Array(repeating: 25, count: 12) && cmd.torques[2] == 5.2)
        action[5] = .nan
        #expect(throws: TetherError.self) { try mapper.command(for: action) }
        #expect(throws: TetherError.self) { try mapper.command(for: [0]) }

        let c = try Manifest.load(path: cartpoleManifest)
        let force = try ActionMapper(manifest: c).command(for: [0.5])
        #expect(force.torques == [10] && force.kp == [0])
        #expect(try ActionMapper(manifest: c).command(for: [3]).torques == [20])  // clip 1
    }
}

@Suite struct TrajectoryGeneratorTests {
    struct RunResult: Decodable { var output: [[Double]] }
    struct CheckResult: Decodable { var ok: Bool }

    @Test func generatorIsInsideTheOnnxModelAndMatchesNative() throws {
        var random = SeededRandom(seed: 21)
        var policy = randomPolicy([10, 16, 3], .tanh, seed: 4)
        policy.generator = TrajectoryGenerator(phaseIndex: 6, harmonics: 4, weights: (0..<24).map { _ in Float(random.uniform(-1, 1)) },
                                               offsets: [0.1, -0.2, 0.3],
                                               steering: .init(headingIndex: 8, weights: (0..<24).map { _ in Float(random.uniform(-1, 1)) },
                                                               offsets: [0.5, 0, -0.5]))
        let path = temporaryPath("tg.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try OnnxWriter.write(policy, to: path)
        #expect(try peer(["op": "check", "model": path], as: CheckResult.self).ok)
        let session = try OnnxSession(path: path)
        var rows: [[Float]] = []
        for k in 0..<5 {
            var x = (0..<10).map { _ in Float(random.gaussian()) }
            let phase = Float(k) * 1.3
            x[6] = sin(phase); x[7] = cos(phase)
            rows.append(x)
        }
        let ort = try session.run([rows.flatMap { $0 }], shapes: [[5, 10]])[0]
        let python = try peer(["op": "run", "model": path, "input": rows.map { $0.map(Double.init) }], as: RunResult.self)
        for (b, x) in rows.enumerated() {
            let native = policy.act(x)
            var runtime = NativePolicy(policy)
            let viaRuntime = try runtime.act(x)
            for a in 0..<3 {
                #expect(abs(native[a] - ort[b * 3 + a]) < 1e-5)
                #expect(abs(python.output[b][a] - Double(ort[b * 3 + a])) < 1e-5)
                #expect(abs(viaRuntime[a] - native[a]) < 1e-6)
            }
        }
        // Steering scales with the heading error at index 8.
        var turned = rows[1]
        turned[8] += 0.3
        #expect(policy.act(turned) != policy.act(rows[1]))
        // The generator really moves the action with the phase.
        var quiet = policy
        quiet.generator = nil
        #expect(policy.act(rows[1]) != quiet.act(rows[1]))
    }

    @Test func fittingRecoversAFourierSeriesAndApproximatesAKink() {
        let (exact, error) = TrajectoryGenerator.fit(phaseIndex: 0, harmonics: 3, actions: 2) { phi in
            [0.5 + 0.3 * sin(phi) - 0.2 * cos(3 * phi), -1 + 0.1 * cos(2 * phi)]
        }
        #expect(error < 1e-5)
        #expect(abs(exact.offsets[0] - 0.5) < 1e-6 && abs(exact.weights[0] - 0.3) < 1e-6 && abs(exact.weights[5] + 0.2) < 1e-6)
        let (_, kinkError) = TrajectoryGenerator.fit(phaseIndex: 0, harmonics: 8, actions: 1) { phi in [max(0, sin(phi))] }
        #expect(kinkError < 0.05)  // a kink converges as 1/K²: 3.5 % of the amplitude at K = 8
    }

    @Test func trotGeneratorReproducesTheGaitAndSteers() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let gait = TrotGait()
        let (g, error) = try gait.generator(for: manifest)
        #expect(error < 0.03)
        let mapper = ActionMapper(manifest: manifest)
        let phaseIndex = g.phaseIndex, headingIndex = try #require(g.steering).headingIndex
        #expect(phaseIndex == 45 && headingIndex == 47)
        for phi in stride(from: 0.0, to: 2 * Double.pi, by: 0.7) {
            var obs = [Float](repeating: 0, count: manifest.observationSize)
            obs[phaseIndex] = Float(sin(phi)); obs[phaseIndex + 1] = Float(cos(phi))
            var action = [Float](repeating: 0, count: 12)
            g.add(to: &action, observation: obs)
            let targets = try mapper.command(for: action).positions
            let exact = gait.jointTargets(phase: phi)
            for k in 0..<12 { #expect(abs(targets[k] - exact[k]) < 0.03) }
            // A heading error to the left lengthens the left strides: the left thigh swings farther.
            obs[headingIndex] = 0.2
            var steered = [Float](repeating: 0, count: 12)
            g.add(to: &steered, observation: obs)
            let wider = gait.jointTargets(phase: phi, strideScale: [1 - 0.4, 1 + 0.4, 1 - 0.4, 1 + 0.4])
            let steeredTargets = try mapper.command(for: steered).positions
            for k in 0..<12 { #expect(abs(steeredTargets[k] - wider[k]) < 0.05) }
        }
    }

    @Test func gaitPhaseNeedsAFrequency() {
        let yaml = validManifestWithGait(frequency: nil)
        #expect(throws: ManifestError.self) { try Manifest.parse(yaml: yaml) }
        #expect(throws: Never.self) { try Manifest.parse(yaml: validManifestWithGait(frequency: 2)) }
    }

    func validManifestWithGait(frequency: Double?) -> String {
        """
        name: arm
        model: arm.xml
        rates: {physics_hz: 500, control_hz: 50}
        joints:
          - {name: j1, actuator: m1, default: 0.0, limits: [-1.0, 1.0], velocity_limit: 5.0, torque_limit: 10.0, kp: 20, kd: 0.5}
        observation:
        \(frequency.map { "  gait_frequency: \($0)\n" } ?? "")  terms:
            - {source: gait_phase}
            - {source: joint_positions}
        action: {mode: position, scale: 0.25}
        """
    }
}
