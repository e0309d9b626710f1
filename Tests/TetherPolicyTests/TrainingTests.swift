import Foundation
import Testing
import TetherCore
import TetherONNX
import TetherSim
@testable import TetherPolicy

@Suite struct RandomizationTests {
    let specYAML = """
    tether_randomization: 1
    terms:
      - {target: geom_friction, distribution: uniform, low: 0.5, high: 1.25}
      - {target: body_mass, distribution: uniform, low: 0.9, high: 1.1, independent: true}
      - {target: base_com, distribution: uniform, low: -0.02, high: 0.02}
      - {target: motor_strength, distribution: uniform, low: 0.9, high: 1.1}
      - {target: kp_scale, distribution: uniform, low: 0.8, high: 1.2}
      - {target: kd_scale, distribution: uniform, low: 0.8, high: 1.2}
      - {target: joint_damping, distribution: log_uniform, low: 0.05, high: 0.5, mode: absolute}
      - {target: joint_armature, distribution: uniform, low: 0.8, high: 1.2}
      - {target: action_latency, distribution: uniform, low: 0.0, high: 0.02}
      - {target: observation_noise, distribution: uniform, low: 0.5, high: 1.5}
      - {target: parameter, path: "body[trunk].mass", distribution: normal, mean: 5.5, std: 0.1, low: 5.0, high: 6.0}
    pushes: {interval: [1.0, 2.0], force: [10, 40], duration: 0.1}
    """

    @Test func specParsesAndSamplesWithinBounds() throws {
        let spec = try RandomizationSpec.parse(yaml: specYAML)
        #expect(spec.terms.count == 11)
        #expect(spec.pushes?.force == 10...40)
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        var random = SeededRandom(seed: 3)
        for _ in 0..<50 {
            let s = try spec.sample(for: robot, random: &random)
            #expect(s.kpScale >= 0.8 && s.kpScale <= 1.2)
            #expect(s.actionLatency >= 0 && s.actionLatency <= 0.02)
            #expect(s.values["joint_damping"]! >= 0.05 && s.values["joint_damping"]! <= 0.5)
            let trunk = s.modelEdits.last { $0.0 == .bodyMass("trunk") }!.1[0]
            #expect(trunk >= 5.0 && trunk <= 6.0)  // the parameter term comes last and wins
            let friction = s.modelEdits.first { $0.0 == .geomFriction("FR_foot_geom") }!.1[0]
            #expect(friction >= 0.9 * 0.5 - 1e-12 && friction <= 0.9 * 1.25 + 1e-12)
        }
        // Same stream, same sample; the base model is untouched by sampling.
        var a = SeededRandom(seed: 9), b = SeededRandom(seed: 9)
        #expect(try spec.sample(for: robot, random: &a) == spec.sample(for: robot, random: &b))
        #expect(try robot.model.get(.bodyMass("trunk")) == [5.2])
    }

    @Test func massScalingKeepsBodiesConsistent() throws {
        let spec = try RandomizationSpec.parse(yaml: "terms:\n  - {target: body_mass, distribution: constant, value: 2.0, items: [FR_thigh]}")
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        var random = SeededRandom(seed: 1)
        let s = try spec.sample(for: robot, random: &random)
        let model = robot.model.copy()
        let inertia = try model.get(.bodyInertia("FR_thigh"))
        try s.apply(to: model)
        #expect(try model.get(.bodyMass("FR_thigh")) == [2.0])
        #expect(try model.get(.bodyInertia("FR_thigh")) == inertia.map { $0 * 2 })
    }

    @Test func badSpecsListEveryProblem() {
        let yaml = """
        terms:
          - {target: friction, low: 0.5, high: 1.0}
          - {target: geom_friction, distribution: log_uniform, low: 0, high: 1}
          - {target: kp_scale, distribution: uniform, low: 1.2, high: 0.8}
          - {target: parameter, distribution: constant, value: 1}
          - {target: kd_scale, distribution: gamma, low: 1, high: 2}
        pushes: {interval: [0, 1], force: [1, 2]}
        """
        do {
            _ = try RandomizationSpec.parse(yaml: yaml, sourcePath: "dr.yaml")
            Issue.record("must fail")
        } catch let error as ManifestError {
            let fields = error.problems.map(\.field)
            #expect(fields.contains("terms[0].target"))
            #expect(fields.contains("terms[1].low"))
            #expect(fields.contains("terms[2].low"))
            #expect(fields.contains("terms[3].path"))
            #expect(fields.contains("terms[4].distribution"))
            #expect(fields.contains("pushes.interval"))
            #expect(error.problems.allSatisfy { $0.file == "dr.yaml" && $0.line != nil })
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func unknownItemsAreNamed() throws {
        let spec = try RandomizationSpec.parse(yaml: "terms:\n  - {target: geom_friction, distribution: constant, value: 1, items: [nope]}")
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        var random = SeededRandom(seed: 1)
        #expect(throws: TetherError.self) { try spec.sample(for: robot, random: &random) }
    }
}

/// A hand-written controller used as a test double for a trained policy: LQR-like gains on the cartpole.
struct CartpoleController: PolicyRuntime {
    var observationSize: Int { 4 }
    var actionSize: Int { 1 }
    mutating func act(_ o: [Float]) throws -> [Float] { [(3.02 * o[0] + 11.57 * o[2] + 76.48 * o[1] + 19.70 * o[3]) / 20] }
}

struct ZeroPolicy: PolicyRuntime {
    let observationSize: Int, actionSize: Int
    mutating func act(_ o: [Float]) throws -> [Float] { [Float](repeating: 0, count: actionSize) }
}

@Suite struct EpisodeTests {
    @Test func aBalancingControllerSucceedsAndDoingNothingFails() throws {
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        let runner = EpisodeRunner(task: robot.manifest.task!)
        var random = SeededRandom(seed: 1)
        var good = CartpoleController()
        let success = runner.run(sim: SimRobot(robot: robot), policy: &good, random: &random)
        #expect(success.success && success.outcome == "timeout" && abs(success.seconds - 30) < 1e-9)
        var idle = ZeroPolicy(observationSize: 4, actionSize: 1)
        let failure = runner.run(sim: SimRobot(robot: robot), policy: &idle, random: &random)
        #expect(!failure.success && failure.outcome == "pole" && failure.seconds < 5)
    }

    @Test func latencyDelaysTheCommand() throws {
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        var task = robot.manifest.task!
        task.episodeSeconds = 0.02  // one control step = 4 physics steps
        task.initialNoise = 0
        struct Push: PolicyRuntime { var observationSize: Int { 4 }; var actionSize: Int { 1 }; mutating func act(_ o: [Float]) throws -> [Float] { [1] } }
        func cartSpeed(latency: Double) -> Double {
            var sample = RandomizationSample.nominal
            sample.actionLatency = latency
            let sim = SimRobot(robot: robot)
            var policy = Push()
            var random = SeededRandom(seed: 1)
            _ = EpisodeRunner(task: task).run(sim: sim, policy: &policy, sample: sample, random: &random)
            return sim.state().jointVelocities[0]
        }
        let immediate = cartSpeed(latency: 0), late = cartSpeed(latency: 0.01), never = cartSpeed(latency: 0.05)
        #expect(immediate > late && late > 0)
        #expect(abs(never) < 1e-9)
    }

    @Test func quadrupedStandingStillFailsTheWalkTask() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        var task = robot.manifest.task!
        task.episodeSeconds = 2
        var random = SeededRandom(seed: 1)
        var idle = ZeroPolicy(observationSize: 48, actionSize: 12)
        let r = EpisodeRunner(task: task).run(sim: SimRobot(robot: robot), policy: &idle, random: &random)
        #expect(r.outcome == "timeout" && !r.success && abs(r.distance) < 0.1)
    }
}

@Suite struct ARSTests {
    func config(threads: Int) -> ARSConfig {
        var c = ARSConfig()
        c.iterations = 3
        c.directions = 4
        c.topDirections = 2
        c.episodeSeconds = 1
        c.threads = threads
        c.evaluateEvery = 0
        c.seed = 5
        return c
    }

    @Test func trainingIsReproducibleWhateverTheThreadCount() throws {
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        let spec = try RandomizationSpec.parse(yaml: "terms:\n  - {target: geom_friction, distribution: uniform, low: 0.5, high: 1.5}\n  - {target: "
            + "action_latency, distribution: uniform, low: 0, high: 0.02}")
        let one = try ARSTrainer(robot: robot, randomization: spec, config: config(threads: 1))
        let two = try ARSTrainer(robot: robot, randomization: spec, config: config(threads: 2))
        let a = try one.train(from: one.initialCheckpoint())
        let b = try two.train(from: two.initialCheckpoint())
        #expect(a.policy == b.policy)
        #expect(a.policy.mlp.parameters.contains { $0 != 0 })  // it moved
        #expect(a.history.map(\.meanReturn) == b.history.map(\.meanReturn))
    }

    @Test func resumingFromACheckpointEqualsRunningStraight() throws {
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        let trainer = try ARSTrainer(robot: robot, randomization: nil, config: config(threads: 2))
        let straight = try trainer.train(from: trainer.initialCheckpoint())
        var short = config(threads: 2)
        short.iterations = 1
        let first = try ARSTrainer(robot: robot, randomization: nil, config: short)
        let partial = try first.train(from: first.initialCheckpoint())
        let path = temporaryPath("ckpt.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try partial.write(to: path)
        let resumed = try trainer.train(from: try ARSCheckpoint.read(from: path))
        #expect(resumed.policy == straight.policy)
        #expect(resumed.iteration == 3)
    }

    @Test func arsLearnsToBalanceTheCartpole() throws {
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        var c = ARSConfig()
        c.iterations = 30
        c.seed = 1
        c.evaluateEvery = 0
        let trainer = try ARSTrainer(robot: robot, randomization: nil, config: c)
        let final = try trainer.train(from: trainer.initialCheckpoint())
        let evaluation = try trainer.evaluate(final, episodes: 16, seconds: 10)
        #expect(evaluation.successRate >= 0.9, "success \(evaluation.successRate)")
        // and the exported ONNX acts the same as the native network
        let policy = trainer.exportedPolicy(final)
        let session = try OnnxSession(bytes: try OnnxWriter.model(policy))
        let x: [Float] = [0.1, -0.05, 0.2, 0.3]
        #expect(abs(try session.run([x], shapes: [[1, 4]])[0][0] - policy.act(x)[0]) < 1e-5)
    }

    @Test func scenariosAreReplayedInTheFirstDirectionsCyclingAcrossIterations() throws {
        var c = config(threads: 1)
        c.directions = 8
        #expect(c.scenarioDirections == 0)
        c.scenarios = [EpisodeStream(seed: 7, stream: 3), EpisodeStream(seed: 7, stream: 11), EpisodeStream(seed: 9, stream: 0)]
        #expect(c.scenarioDirections == 1)  // the default 12.5 % of 8
        c.scenarioShare = 0.25
        #expect(c.scenarioDirections == 2)
        func firstDraws(_ r: SeededRandom) -> [UInt64] { var r = r; return (0..<4).map { _ in r.next() } }
        // Iteration 0 replays scenarios 0 and 1, iteration 1 scenarios 2 and 0: each exactly the
        // stream the validation gate drew that trial from.
        #expect(firstDraws(c.episodeRandom(iteration: 0, direction: 0)) == firstDraws(SeededRandom(seed: 7, stream: 3)))
        #expect(firstDraws(c.episodeRandom(iteration: 0, direction: 1)) == firstDraws(SeededRandom(seed: 7, stream: 11)))
        #expect(firstDraws(c.episodeRandom(iteration: 1, direction: 0)) == firstDraws(SeededRandom(seed: 9, stream: 0)))
        #expect(firstDraws(c.episodeRandom(iteration: 1, direction: 1)) == firstDraws(SeededRandom(seed: 7, stream: 3)))
        // The other directions draw fresh episodes, as without scenarios.
        var plain = c
        plain.scenarios = nil
        #expect(firstDraws(c.episodeRandom(iteration: 4, direction: 5)) == firstDraws(plain.episodeRandom(iteration: 4, direction: 5)))
        c.scenarioShare = 1
        #expect(c.scenarioDirections == 8)
        // Training with scenarios still runs, and a checkpoint without them (older files) decodes.
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        let trainer = try ARSTrainer(robot: robot, randomization: nil, config: c)
        let trained = try trainer.train(from: trainer.initialCheckpoint())
        #expect(trained.iteration == c.iterations)
        let data = try JSONEncoder().encode(config(threads: 1))
        #expect(try JSONDecoder().decode(ARSConfig.self, from: data).scenarios == nil)
    }

    @Test func recordedStartsTakeTheDirectionsAfterTheScenarios() throws {
        var c = config(threads: 1)
        c.directions = 8
        #expect(c.startDirections == 0 && c.episodeStart(iteration: 0, direction: 0) == nil)
        let tilted = EpisodeStart(jointPositions: [0.1, 0.5], jointVelocities: [0, 1], policyTime: 1)
        let other = EpisodeStart(jointPositions: [-0.2, -0.4], jointVelocities: [0.3, 0])
        let third = EpisodeStart(jointPositions: [0, 0.2], jointVelocities: [0, 0])
        c.starts = [tilted, other, third]
        #expect(c.startDirections == 1)  // the default 12.5 % of 8
        c.scenarios = [EpisodeStream(seed: 7, stream: 3)]
        c.startShare = 0.25
        #expect(c.scenarioDirections == 1 && c.startDirections == 2)
        // Direction 0 replays the scenario, directions 1 and 2 start from the recorded states
        // (cycling across iterations), the rest start as the task does.
        #expect(c.episodeStart(iteration: 0, direction: 0) == nil)
        #expect(c.episodeStart(iteration: 0, direction: 1) == tilted && c.episodeStart(iteration: 0, direction: 2) == other)
        #expect(c.episodeStart(iteration: 1, direction: 1) == third && c.episodeStart(iteration: 1, direction: 2) == tilted)
        #expect(c.episodeStart(iteration: 0, direction: 3) == nil)
        c.startShare = 0
        #expect(c.startDirections == 0 && c.episodeStart(iteration: 0, direction: 1) == nil, "a share of 0 starts none")
        c.startShare = 1
        #expect(c.startDirections == 7, "never more than the directions the scenarios leave")
        // All directions from a tilted pole: training sees those episodes (lower returns than
        // from the upright start), and still runs to the end.
        var fromStarts = config(threads: 1)
        fromStarts.iterations = 1
        fromStarts.evaluateEvery = 0
        fromStarts.starts = [EpisodeStart(jointPositions: [0, 0.35], jointVelocities: [0, 0])]
        fromStarts.startShare = 1
        var plain = fromStarts
        plain.starts = nil
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        var returns: [Double] = []
        for cfg in [plain, fromStarts] {
            let trainer = try ARSTrainer(robot: robot, randomization: nil, config: cfg)
            var seen: [ARSIteration] = []
            let trained = try trainer.train(from: trainer.initialCheckpoint(), progress: { seen.append($0) })
            #expect(trained.iteration == 1)
            returns.append(try #require(seen.first).meanReturn)
        }
        #expect(returns[1] < returns[0], "from a tilted pole the episodes end sooner: \(returns)")
        #expect(try JSONDecoder().decode(ARSConfig.self, from: JSONEncoder().encode(fromStarts)).starts == fromStarts.starts)
    }

    @Test func noTaskNoTraining() throws {
        var manifest = try Manifest.load(path: cartpoleManifest)
        manifest.task = nil
        let robot = try RobotModel(manifest: manifest, model: try SimModel(path: manifest.modelPath))
        #expect(throws: TetherError.self) { try ARSTrainer(robot: robot, randomization: nil, config: ARSConfig()) }
    }
}
