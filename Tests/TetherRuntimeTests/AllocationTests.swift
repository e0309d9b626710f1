import CAllocationCounter
import Foundation
import Testing
import TetherCore
import TetherPolicy
import TetherRuntime
import TetherSafety
import TetherSim

/// Heap allocations made on this thread while `body` runs (the test binary's malloc interposer).
func allocations(_ body: () throws -> Void) rethrows -> UInt64 {
    tether_alloc_counter_start()
    defer { _ = tether_alloc_counter_stop() }
    try body()
    return tether_alloc_counter_stop()
}

/// A sink the optimizer cannot see through, so that the canary's allocation happens.
nonisolated(unsafe) var allocationSink: [Int] = []

@Suite(.serialized) struct AllocationTests {
    @Test func theCounterSeesAnArrayAppend() {
        #expect(tether_alloc_counter_active() == 1, "the malloc interposer is not linked into the test binary")
        let n = allocations {
            var a: [Int] = []
            for k in 0..<100 { a.append(k) }
            allocationSink = a
        }
        #expect(n > 0, "an array that grows allocates: the counter must see it")
        #expect(allocations {} == 0)
    }

    /// The deployment's policy-phase tick (`ControlTick`, which `Deployment` calls) on the quadruped
    /// with its ONNX policy, the safety wrapper and a window-mode flight recorder; with the policy in
    /// Tether's compiled engine and in ONNX Runtime.
    @Test(arguments: [PolicyEngine.onnxruntime, .native])  // ONNX Runtime first: the counter ignores its library from then on
    func aControlTickAllocatesNothingAfterWarmUp(engine: PolicyEngine) throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let manifest = robot.manifest
        let onnx = try OnnxPolicy(path: "\(repositoryRoot)/policies/quadruped.onnx", manifest: manifest, engine: engine)
        #expect(onnx.engine == engine)
        var policy: any PolicyRuntime = onnx
        let sim = SimRobot(robot: robot)
        for _ in 0..<50 { sim.stepControl() }
        let state = sim.state()
        // The low-pass filter runs as configured; its hold-back is not reported. With the state frozen
        // and the gait clock running, the policy's targets move every tick and the filter's lag
        // crosses the report threshold on many ticks: each crossing is a new safety event, and a new
        // event's message is a String built for it (an allocation by design). A tick with no new
        // event, persisting conditions included, must allocate nothing.
        var options = SafetyOptions()
        options.filterReportThreshold = .infinity
        var safety = SafetyWrapper(config: try SafetyConfig(manifest: manifest, stage: 1.0, options: options))
        let dir = NSTemporaryDirectory() + "tether-alloc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recorder = FlightRecorder(manifest: manifest, path: "\(dir)/run.mcap", windowSeconds: 2, clockStart: 0)
        var tick = ControlTick(manifest: manifest)
        let dt = 1 / manifest.rates.controlHz
        var i = 0
        func run(_ ticks: Int) throws {
            for _ in 0..<ticks {
                let t = Double(i) * dt
                try tick.step(policy: &policy, safety: &safety, recorder: recorder, state: state, receivedAt: t, time: t, policyTime: t,
                              velocityCommand: SIMD3(0.5, 0, 0))
                i += 1
            }
        }
        try run(1000)
        // ONNX Runtime's own Run, alone, for comparison (its allocations are the library's, not Tether's).
        let observation = tick.observation.map { $0 }   // a copy of its own: sharing would make the tick copy its buffer
        var action = [Float](repeating: 0, count: manifest.actionSize)
        let ort = try allocations {
            try observation.withUnsafeBufferPointer { o in
                try action.withUnsafeMutableBufferPointer { a in for _ in 0..<10_000 { try policy.act(o, into: a) } }
            }
        }
        let n = try allocations { try run(10_000) }
        // The same ticks again, with ONNX Runtime's own allocations left out (its C++ code and
        // `operator new` in libstdc++; Tether has no C++): what Tether allocates, which must be nothing.
        #expect(tether_alloc_counter_ignore("libonnxruntime") > 0 && tether_alloc_counter_ignore("libstdc++") > 0)
        let tether = try allocations { try run(10_000) }
        // ONNX Runtime's Run allocates inside the library (its execution frame: ~130 blocks per call
        // for this model); Tether's part of the tick must add none.
        print("\(engine): allocations over 10,000 ticks: \(n) in all, \(tether) by Tether; the policy's call alone over 10,000 calls: \(ort)")
        #expect(tether == 0, "the tick (\(engine)) allocated \(tether) times in 10,000 ticks")
        if engine == .native { #expect(n == 0, "with the compiled engine nothing in the tick allocates, library or not: \(n)") }
        #expect(n >= ort, "ONNX Runtime's allocations are in the total")
        #expect(safety.state.mode == .running)
        try recorder.close()
        #expect(recorder.recordsDropped == 0)
    }
}
