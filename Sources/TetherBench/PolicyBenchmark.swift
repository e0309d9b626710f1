import Foundation
import TetherCore
import TetherONNX
import TetherPolicy
import TetherSim

/// `tether bench policy`: per-call latency of a 48→256→128→12 ELU MLP through ONNX Runtime's fast
/// path and natively, against Python onnxruntime on the same file in the same run, by both of its
/// paths (`session.run` with a feed dict, and IO binding to preallocated OrtValues, its fastest);
/// the ratios are taken against the faster Python path; and ARS training throughput against bare
/// simulation throughput on the quadruped.
public struct PolicyBenchmark: Sendable {
    public var calls: Int
    public var includePeer: Bool

    public init(calls: Int = 20000, includePeer: Bool = true) {
        self.calls = calls
        self.includePeer = includePeer
    }

    public struct Latency: Sendable, Codable {
        public var runner: String
        public var medianMicroseconds: Double
        public var p99Microseconds: Double
    }

    public struct Report: Sendable, Codable {
        public var onnxRuntime: String?
        public var latencies: [Latency]
        /// Python's fastest path (session.run or IO binding) median / Tether fast-path median.
        public var speedupOverPython: Double?
        /// Python's fastest path median / native median.
        public var nativeSpeedupOverPython: Double?
        /// Python's fastest path median / compiled-graph median (the engine `--policy-engine auto` picks for this model).
        public var compiledSpeedupOverPython: Double?
        /// Python session.run median / Tether fast-path median (the path most deploy scripts use).
        public var speedupOverPythonSessionRun: Double?
        /// A recurrent policy (48 → LSTM 64 → 12, state fed back each call): Tether's
        /// `OnnxPolicy.act` and Python's session.run with the state outputs fed back as inputs.
        public var recurrentLatencies: [Latency]
        /// Python's fastest path / Tether median for the recurrent policy.
        public var recurrentSpeedupOverPython: Double?
        /// Training environment steps/s (policy steps × decimation = physics steps/s) and bare PD stepping.
        public var trainingPhysicsStepsPerSecond: Double
        public var bareSimulationStepsPerSecond: Double
        /// Training / bare: the fraction of simulation throughput left after training's own work.
        public var trainingEfficiency: Double
    }

    public func run(log: (String) -> Void = { _ in }) throws -> Report {
        var random = SeededRandom(seed: 42)
        var network = PolicyNetwork(mlp: MLP(sizes: [48, 256, 128, 12], activation: .elu, random: &random))
        network.observationStd = [Float](repeating: 1.5, count: 48)
        let path = NSTemporaryDirectory() + "tether-bench-policy-\(getpid()).onnx"
        try OnnxWriter.write(network, to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let observation = (0..<48).map { _ in Float(random.gaussian()) }
        var latencies: [Latency] = []

        // ONNX Runtime fast path: tensors bound once, only Run per call.
        let session = try OnnxSession(path: path, threads: 1)
        let fast = try FastRun(session: session, inputShapes: [[1, 48]], outputShapes: [[1, 12]])
        fast.setInput(0, observation)
        let ort = try measure { try fast.run() }
        latencies.append(Latency(runner: "tether onnxruntime fast path", medianMicroseconds: ort.0, p99Microseconds: ort.1))
        log(String(format: "  tether onnxruntime fast path   median %7.2f µs   p99 %7.2f µs", ort.0, ort.1))

        // Tether's compiled engine (`PolicyEngine.auto` picks it when it compiles and agrees).
        let compiled = try CompiledGraph(model: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), inputs: [("obs", [1, 48])],
                                         outputs: ["actions"])
        _ = compiled.input(0).update(fromContentsOf: observation)
        let comp = try measure { compiled.run() }
        latencies.append(Latency(runner: "tether compiled graph", medianMicroseconds: comp.0, p99Microseconds: comp.1))
        log(String(format: "  tether compiled graph          median %7.2f µs   p99 %7.2f µs", comp.0, comp.1))

        var native = NativePolicy(network)
        var sink: Float = 0
        let nat = try measure { sink += try native.act(observation)[0] }
        latencies.append(Latency(runner: "tether native MLP", medianMicroseconds: nat.0, p99Microseconds: nat.1))
        log(String(format: "  tether native MLP              median %7.2f µs   p99 %7.2f µs", nat.0, nat.1))
        if sink.isNaN { log("  (checksum NaN)") }

        var speedup: Double?, nativeSpeedup: Double?, sessionRunSpeedup: Double?, compiledSpeedup: Double?
        if includePeer {
            let peer = try pythonPeer(model: path, recurrent: false)
            latencies += peer.latencies("")
            for l in peer.latencies("") {
                log(String(format: "  %@ median %7.2f µs   p99 %7.2f µs", l.runner.padding(toLength: 30, withPad: " ", startingAt: 0),
                           l.medianMicroseconds, l.p99Microseconds))
            }
            speedup = peer.median_us / ort.0
            nativeSpeedup = peer.median_us / nat.0
            compiledSpeedup = peer.median_us / comp.0
            sessionRunSpeedup = peer.run.median_us / ort.0
        }

        // A recurrent policy, its state carried call to call (rsl_rl's LSTM export convention).
        var recurrentLatencies: [Latency] = []
        var recurrentSpeedup: Double?
        do {
            let lstm = RecurrentNetwork(cell: .lstm, inputSize: 48, hiddenSize: 64, actions: 12, random: &random)
            let lstmPath = NSTemporaryDirectory() + "tether-bench-lstm-\(getpid()).onnx"
            try OnnxWriter.write(lstm, to: lstmPath)
            defer { try? FileManager.default.removeItem(atPath: lstmPath) }
            var manifest = try BuiltinRobots.load("quadruped").manifest
            manifest.observation.history = 1
            guard manifest.observationSize == 48, manifest.actionSize == 12 else { throw TetherError("the quadruped's sizes changed: the benchmark needs 48 "
                + "observations, 12 actions") }
            let policy = try OnnxPolicy(path: lstmPath, manifest: manifest)
            var sink: Float = 0
            let r = try measure { sink += try policy.act(observation)[0] }
            if sink.isNaN { log("  (checksum NaN)") }
            recurrentLatencies.append(Latency(runner: "tether OnnxPolicy (LSTM 64, state carried)", medianMicroseconds: r.0, p99Microseconds: r.1))
            log(String(format: "  tether LSTM 64, state carried  median %7.2f µs   p99 %7.2f µs", r.0, r.1))
            if includePeer {
                let peer = try pythonPeer(model: lstmPath, recurrent: true)
                recurrentLatencies += peer.latencies(" (LSTM 64, state fed back)")
                log(String(format: "  python LSTM 64, state fed back median %7.2f µs (session.run) %7.2f µs (IO binding)   (Tether %.2f× the faster)",
                           peer.run.median_us, peer.iobinding.median_us, peer.median_us / r.0))
                recurrentSpeedup = peer.median_us / r.0
            }
        }

        // Training throughput vs bare simulation, quadruped, same episode length and threads.
        let robot = try BuiltinRobots.load("quadruped")
        var config = ARSConfig()
        config.iterations = 2
        config.directions = 8
        config.topDirections = 4
        config.episodeSeconds = 4
        config.evaluateEvery = 0
        let trainer = try ARSTrainer(robot: robot, randomization: nil, config: config)
        var physicsSteps = 0
        let clock = ContinuousClock()
        let t0 = clock.now
        _ = try trainer.train(from: trainer.initialCheckpoint()) { physicsSteps += $0.environmentSteps * robot.manifest.rates.decimation }
        let trainingRate = Double(physicsSteps) / (clock.now - t0).seconds
        let episodes = 2 * config.iterations * config.directions
        let stepsPerEpisode = max(1, physicsSteps / episodes)
        let t1 = clock.now
        _ = robot.rollouts(BatchRollout(trials: episodes, seed: 1, threads: config.threads)) { sim, _, _ in
            sim.stepPhysics(stepsPerEpisode)
            return 0
        }
        let bareRate = Double(episodes * stepsPerEpisode) / (clock.now - t1).seconds
        log(String(format: "  ARS training (quadruped)       %9.0f physics steps/s", trainingRate))
        log(String(format: "  bare PD stepping (quadruped)   %9.0f physics steps/s", bareRate))
        return Report(onnxRuntime: OnnxRuntime.version, latencies: latencies, speedupOverPython: speedup, nativeSpeedupOverPython: nativeSpeedup,
                      compiledSpeedupOverPython: compiledSpeedup,
                      speedupOverPythonSessionRun: sessionRunSpeedup,
                      recurrentLatencies: recurrentLatencies, recurrentSpeedupOverPython: recurrentSpeedup,
                      trainingPhysicsStepsPerSecond: trainingRate, bareSimulationStepsPerSecond: bareRate,
                      trainingEfficiency: trainingRate / bareRate)
    }

    /// benchmarks/policy_latency.py's answer: both Python paths, the same warm-up (1000 calls) and count.
    private struct PythonPeer: Decodable {
        struct Path: Decodable { var median_us: Double; var p99_us: Double }
        var run: Path
        var iobinding: Path
        var median_us: Double

        func latencies(_ suffix: String) -> [Latency] {
            [Latency(runner: "python onnxruntime session.run\(suffix)", medianMicroseconds: run.median_us, p99Microseconds: run.p99_us),
             Latency(runner: "python onnxruntime IO binding\(suffix)", medianMicroseconds: iobinding.median_us, p99Microseconds: iobinding.p99_us)]
        }
    }

    private func pythonPeer(model: String, recurrent: Bool) throws -> PythonPeer {
        guard let root = TetherPaths.checkoutRoot() else {
            throw TetherError("cannot find benchmarks/policy_latency.py", hint: "run from the Tether checkout or set TETHER_HOME")
        }
        let out = try TetherPaths.run(try TetherPaths.python(), ["\(root)/benchmarks/policy_latency.py", "--model", model, "--calls", "\(calls)",
                                                                 "--warmup", "1000"] + (recurrent ? ["--recurrent"] : []))
        do {
            return try JSONDecoder().decode(PythonPeer.self, from: Data(out.utf8))
        } catch {
            throw TetherError("benchmarks/policy_latency.py printed something other than its JSON result: \(out.suffix(300))",
                              hint: "run it by hand with --model \(model) to see why")
        }
    }

    /// Median and 99th percentile of single-call latency, µs, after a warm-up.
    private func measure(_ body: () throws -> Void) throws -> (Double, Double) {
        for _ in 0..<1000 { try body() }
        var samples = [Double](repeating: 0, count: calls)
        let clock = ContinuousClock()
        for i in 0..<calls {
            let start = clock.now
            try body()
            samples[i] = (clock.now - start).seconds * 1e6
        }
        samples.sort()
        return (samples[calls / 2], samples[min(calls - 1, Int(Double(calls) * 0.99))])
    }
}
