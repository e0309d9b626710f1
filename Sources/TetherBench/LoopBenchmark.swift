import Foundation
import TetherCore
import TetherPolicy
import TetherRuntime
import TetherSafety
import TetherSim

/// `tether bench loop`: the cost of one control tick (observation, ONNX policy, safety wrapper,
/// flight recorder) on the quadruped with its default policy, and a sustained 1 kHz loop against
/// the in-process simulation with its deadline-miss rate; in the same run, the same tick written
/// the usual way in Python (numpy + onnxruntime, `benchmarks/loop_tick.py`), and the ratio.
public struct LoopBenchmark: Sendable {
    public var ticks: Int
    public var sustainedSeconds: Double
    public var sustainedRateHz: Double
    public var includePeer: Bool
    /// Ticks run before timing, on both sides (Tether's and `loop_tick.py`).
    public var warmUpTicks = 1000
    /// Real-time scheduling for the measuring thread (both the tick timing and the sustained loop), if asked for.
    public var realtime: RealTimeRequest?

    public init(ticks: Int = 20000, sustainedSeconds: Double = 3, sustainedRateHz: Double = 1000, includePeer: Bool = true) {
        self.ticks = ticks
        self.sustainedSeconds = sustainedSeconds
        self.sustainedRateHz = sustainedRateHz
        self.includePeer = includePeer
    }

    public struct Report: Sendable, Codable {
        public var tickMicroseconds: LoopSummary.Distribution
        /// The engine that computed the actions (`OnnxPolicy.engineSummary`).
        public var policyEngine: String?
        /// The same tick with the policy in ONNX Runtime, when the compiled graph ran the main measurement.
        public var onnxRuntimeTickMicroseconds: LoopSummary.Distribution?
        /// What the scheduler granted, when real-time scheduling was asked for (nil: normal priority).
        public var realTime: RealTimeStatus?
        /// Median µs of each part of the tick, timed separately in a second pass: "observation +
        /// policy", "safety", "recorder" (where the time goes).
        public var partsMedianMicroseconds: [String: Double]
        public var pythonTickMicroseconds: LoopSummary.Distribution?
        /// Python median / Tether median.
        public var speedupOverPython: Double?
        public var sustained: LoopSummary
        public var sustainedMissRate: Double
    }

    public func run(log: (String) -> Void = { _ in }) throws -> Report {
        let robot = try BuiltinRobots.load("quadruped")
        let manifest = robot.manifest
        let realTime = try realtime.map { try RealTime.apply($0) }
        defer { realTime.map(RealTime.release) }
        if let rt = realTime {
            log("  realtime: \(rt.summary)" + rt.notes.map { "; \($0)" }.joined())
        }
        guard let root = TetherPaths.checkoutRoot() else { throw TetherError("cannot find the Tether checkout for policies/quadruped.onnx") }
        let policyPath = "\(root)/policies/quadruped.onnx"
        let policy = try OnnxPolicy(path: policyPath, manifest: manifest)
        log("  policy engine: \(policy.engineSummary)")
        let sim = SimRobot(robot: robot)
        for _ in 0..<50 { sim.stepControl() }
        let state = sim.state()
        let config = try SafetyConfig(manifest: manifest, stage: 1.0)
        var safety = SafetyWrapper(config: config)
        let recorder = FlightRecorder(manifest: manifest, path: NSTemporaryDirectory() + "tether-bench-loop-unused.mcap",
                                      windowSeconds: 10, clockStart: 0)
        let clock = MonotonicClock()
        var samples = [Double](repeating: 0, count: ticks)
        let dt = 1 / manifest.rates.controlHz
        // The deployment's own tick (`ControlTick`, what `Deployment` runs inline): in place, nothing allocated.
        var control = ControlTick(manifest: manifest)
        var runtime: any PolicyRuntime = policy
        let command = manifest.task?.command ?? .zero
        /// Times `ticks` ticks after the warm-up, sorted.
        func timeTicks(_ runtime: inout any PolicyRuntime, _ control: inout ControlTick, _ safety: inout SafetyWrapper) throws -> [Double] {
            for i in 0..<(ticks + warmUpTicks) {
                let t = Double(i) * dt
                let start = clock.now()
                try control.step(policy: &runtime, safety: &safety, recorder: recorder, state: state, receivedAt: t, time: t, policyTime: t,
                                 velocityCommand: command)
                let elapsed = clock.now() - start
                if i >= warmUpTicks { samples[i - warmUpTicks] = elapsed * 1e6 }  // after the warm-up
            }
            return samples.sorted()
        }
        samples = try timeTicks(&runtime, &control, &safety)
        func pct(_ p: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * p))] }
        let mine = LoopSummary.Distribution(p50: pct(0.5), p99: pct(0.99), p999: pct(0.999), max: samples.last ?? 0)
        log(String(format: "  tether tick (obs + ONNX policy + safety + recorder)  median %7.2f µs  p99 %7.2f µs  p99.9 %7.2f µs", mine.p50, mine.p99,
                   mine.p999))
        // The same tick with ONNX Runtime computing the action, for comparison (when the compiled graph ran above).
        var onnxRuntimeTick: LoopSummary.Distribution?
        if policy.engine != .onnxruntime {
            var ort: any PolicyRuntime = try OnnxPolicy(path: policyPath, manifest: manifest, engine: .onnxruntime)
            var ortControl = ControlTick(manifest: manifest)
            var ortSafety = SafetyWrapper(config: config)
            let sorted = try timeTicks(&ort, &ortControl, &ortSafety)
            func q(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            onnxRuntimeTick = .init(p50: q(0.5), p99: q(0.99), p999: q(0.999), max: sorted.last ?? 0)
            log(String(format: "  same tick, policy in ONNX Runtime                     median %7.2f µs  p99 %7.2f µs  p99.9 %7.2f µs", q(0.5), q(0.99),
                       q(0.999)))
        }

        // Where the time goes: the same tick again, each part timed on its own.
        var parts = (obs: [Double](repeating: 0, count: ticks), safety: [Double](repeating: 0, count: ticks),
                     record: [Double](repeating: 0, count: ticks))
        for i in 0..<(ticks + warmUpTicks) {
            let t = Double(i) * dt
            let t0 = clock.now()
            try control.computeAction(policy: &runtime, state: state, velocityCommand: command, policyTime: t)
            let t1 = clock.now()
            _ = control.applySafety(&safety, SafetyInput(time: t, state: state, stateReceivedAt: t, action: control.action, expectUpright: true))
            control.commitAction()
            let t2 = clock.now()
            try control.record(to: recorder, time: t, state: state, receivedAt: t, withPolicy: true, command: control.command, events: [])
            let t3 = clock.now()
            if i >= warmUpTicks {
                parts.obs[i - warmUpTicks] = (t1 - t0) * 1e6; parts.safety[i - warmUpTicks] = (t2 - t1) * 1e6
                parts.record[i - warmUpTicks] = (t3 - t2) * 1e6
            }
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        let partMedians = ["observation + policy": median(parts.obs), "safety": median(parts.safety), "recorder": median(parts.record)]
        log(String(format: "  of which (medians, timed apart): observation + policy %.2f µs, safety %.2f µs, recorder %.2f µs",
                   partMedians["observation + policy"]!, partMedians["safety"]!, partMedians["recorder"]!))
        try recorder.close()
        try? FileManager.default.removeItem(atPath: recorder.path)

        var peer: LoopSummary.Distribution?
        var speedup: Double?
        if includePeer {
            let joints = manifest.actuatedJoints
            let request: [String: Any] = [
                "q": state.jointPositions, "qd": state.jointVelocities, "gyro": [state.baseAngularVelocity!.x, state.baseAngularVelocity!.y,
                                                                                 state.baseAngularVelocity!.z],
                "quat": [state.baseOrientation![0], state.baseOrientation![1], state.baseOrientation![2], state.baseOrientation![3]],
                "default": joints.map(\.defaultPosition), "action_scale": config.mapper.scale, "action_clip": manifest.action.clip,
                "soft_lower": config.softPositionLimits.map(\.lowerBound), "soft_upper": config.softPositionLimits.map(\.upperBound),
                "kp": joints.map { $0.kp ?? 0 }, "kd": joints.map { $0.kd ?? 0 }, "ff": joints.map(\.feedforward),
                "torque_bound": (0..<joints.count).map { config.torqueBound($0, stage: 1.0) }, "tilt_limit": manifest.safety.tiltLimit,
                "command": [manifest.task?.command.x ?? 0, manifest.task?.command.y ?? 0, manifest.task?.command.z ?? 0],
            ]
            let requestPath = NSTemporaryDirectory() + "tether-bench-loop-\(getpid()).json"
            try JSONSerialization.data(withJSONObject: request).write(to: URL(fileURLWithPath: requestPath))
            defer { try? FileManager.default.removeItem(atPath: requestPath) }
            let out = try TetherPaths.run(try TetherPaths.python(), ["\(root)/benchmarks/loop_tick.py", "--model", policyPath,
                                                                     "--request", requestPath, "--ticks", "\(ticks)",
                                                                     "--warmup", "\(warmUpTicks)"])
            struct Peer: Decodable { var median_us: Double; var p99_us: Double; var p999_us: Double }
            let p = try JSONDecoder().decode(Peer.self, from: Data(out.utf8))
            peer = .init(p50: p.median_us, p99: p.p99_us, p999: p.p999_us, max: p.p999_us)
            speedup = p.median_us / mine.p50
            log(String(format: "  python tick (numpy + onnxruntime, same steps)         median %7.2f µs  p99 %7.2f µs  p99.9 %7.2f µs", p.median_us, p.p99_us,
                       p.p999_us))
        }

        // Sustained loop against the simulation at the given rate, real time.
        let loopClock = MonotonicClock()
        let fresh = SimRobot(robot: robot)
        let backend = SimulatedRobot(sim: fresh, start: loopClock.now())
        let loop = FixedRateLoop(configuration: .init(rateHz: sustainedRateHz), clock: loopClock)
        var wrapper = SafetyWrapper(config: config)
        // The deployment's own tick, as `Deployment` runs it (without a recorder: the sustained loop times the robot's I/O and the tick).
        var sustainedTick = ControlTick(manifest: manifest)
        var sustainedPolicy: any PolicyRuntime = policy
        policy.reset()
        let t0 = loopClock.now()
        try loop.run { tick in
            try backend.advance(to: tick.start)
            let readAt = loopClock.now()
            guard let (s, received) = try backend.latestState() else { return (false, .init(readAt: nil, wroteAt: nil)) }
            try sustainedTick.step(policy: &sustainedPolicy, safety: &wrapper, recorder: nil, state: s, receivedAt: received - t0, time: tick.start - t0,
                                   policyTime: tick.start - t0, velocityCommand: command, lateness: tick.lateness)
            try backend.send(sustainedTick.command)
            let wroteAt = loopClock.now()
            return (tick.start - t0 < sustainedSeconds, .init(readAt: readAt, wroteAt: wroteAt))
        }
        let sustained = loop.statistics.summary
        let missRate = Double(sustained.deadlineMisses) / Double(max(1, sustained.ticks))
        log(String(format: "  sustained %.0f Hz loop vs simulation: %d ticks at %.1f Hz, %d misses (%.3f %%), jitter p99 %.1f µs, compute p99 %.1f µs",
                   sustainedRateHz, sustained.ticks, sustained.achievedRateHz, sustained.deadlineMisses, 100 * missRate,
                   sustained.jitterMicroseconds.p99, sustained.computeMicroseconds.p99))
        return Report(tickMicroseconds: mine, policyEngine: policy.engineSummary, onnxRuntimeTickMicroseconds: onnxRuntimeTick, realTime: realTime,
                      partsMedianMicroseconds: partMedians, pythonTickMicroseconds: peer, speedupOverPython: speedup, sustained: sustained,
                      sustainedMissRate: missRate)
    }
}
