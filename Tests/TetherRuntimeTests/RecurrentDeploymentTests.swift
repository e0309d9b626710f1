import Foundation
import Testing
import TetherCore
import TetherPolicy
import TetherROS
import TetherSafety
import TetherSim
@testable import TetherRuntime

/// Counts the resets of the policy it wraps.
final class ResetCounting: PolicyRuntime, @unchecked Sendable {
    var inner: OnnxPolicy
    var resets = 0
    init(_ inner: OnnxPolicy) { self.inner = inner }
    var observationSize: Int { inner.observationSize }
    var actionSize: Int { inner.actionSize }
    func act(_ observation: [Float]) throws -> [Float] { try inner.act(observation) }
    func reset() { resets += 1; inner.reset() }
    var recurrentState: [Float] { inner.recurrentState }
    func setRecurrentState(_ values: [Float]) throws { try inner.setRecurrentState(values) }
}

@Suite struct RecurrentDeploymentTests {
    /// A small LSTM whose actions stay near zero (the quadruped keeps standing), its state busy.
    func lstmPolicy(manifest: Manifest) throws -> String {
        var random = SeededRandom(seed: 3)
        var network = RecurrentNetwork(cell: .lstm, inputSize: manifest.observationSize, hiddenSize: 16, actions: manifest.actionSize, random: &random)
        for i in network.head.weights[0].indices { network.head.weights[0][i] *= 0.05 }
        for i in network.head.biases[0].indices { network.head.biases[0][i] = 0 }
        let path = NSTemporaryDirectory() + "tether-lstm-\(UUID().uuidString).onnx"
        try OnnxWriter.write(network, to: path)
        return path
    }

    let script: [Deployment.ScriptedCommand] = [.init(time: 0.2, command: .standUp), .init(time: 2.0, command: .startPolicy),
                                                .init(time: 3.5, command: .stop), .init(time: 5.0, command: .standUp),
                                                .init(time: 7.0, command: .startPolicy), .init(time: 8.5, command: .stop)]

    func deploy(recordTo path: String, continuous: Bool, window: Double = 3, policy: any PolicyRuntime, manifest: Manifest) throws -> Deployment.Report {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        sim.layDown()
        let clock = ManualClock()
        let recorder = FlightRecorder(manifest: manifest, path: path, windowSeconds: window, continuous: continuous, clockStart: clock.now())
        let deployment = Deployment(robot: SimulatedRobot(sim: sim, start: clock.now()), policy: policy,
                                    safety: SafetyWrapper(config: try SafetyConfig(manifest: manifest, stage: 1.0)),
                                    timing: .init(standUpSeconds: 1.5), recorder: recorder, clock: clock, loop: .init(rateHz: 50), velocityCommand: .zero)
        return try deployment.run(script: script, seconds: 10)
    }

    @Test func eachPolicyPhaseStartsFromZerosAndTheRecordingReplaysTheDecisions() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let model = try lstmPolicy(manifest: manifest)
        let path = NSTemporaryDirectory() + "tether-recurrent-\(UUID().uuidString).mcap"
        defer { for p in [model, path] { try? FileManager.default.removeItem(atPath: p) } }
        let counting = ResetCounting(try OnnxPolicy(path: model, manifest: manifest))
        let report = try deploy(recordTo: path, continuous: true, policy: counting, manifest: manifest)
        #expect(!report.stopped, "\(report.stopReason ?? "")")
        #expect(counting.resets == 2, "one reset per policy phase: \(counting.resets)")
        let reader = try MCAPReader(path: path)
        let events = try reader.messages(TetherMsgs.SafetyEvent.self, topic: "/tether/safety_events")
        #expect(events.filter { $0.message.reason == "policy_reset" }.count == 2)
        let states = try reader.messages(StdMsgs.Float64MultiArray.self, topic: FlightRecorder.policyStateTopic)
        #expect(states.count == 150, "a state per policy tick (2 × 1.5 s at 50 Hz): \(states.count)")
        #expect(states.allSatisfy { $0.message.data.count == 32 })

        // The same policy replays the recorded decisions exactly.
        var fresh = try OnnxPolicy(path: model, manifest: manifest)
        let replay = try PolicyReplay.run(path: path, policy: &fresh)
        #expect(replay.ticks == 150 && replay.resets == 2 && replay.skipped == 0)
        #expect(replay.maxActionError < 1e-6, "\(replay.maxActionError)")
        #expect((replay.maxStateError ?? 1) < 1e-6)

        // The safety replay with the policy re-run gives the same commands as with the recorded
        // actions; with the memory carried across phases it does not.
        let manifestForReplay = try Manifest.load(path: quadrupedManifest)
        let config = try SafetyConfig(manifest: manifestForReplay, stage: 1.0)
        let recorded = SafetyReplay.run(try SafetyReplay.inputs(path: path, manifest: manifestForReplay), config: config)
        var rerun = try OnnxPolicy(path: model, manifest: manifest)
        let recomputed = SafetyReplay.run(try SafetyReplay.inputs(path: path, manifest: manifestForReplay, policy: &rerun), config: config)
        #expect(recorded.count == recomputed.count)
        let worst = zip(recorded, recomputed).flatMap { a, b in zip(a.positions, b.positions).map { abs($0 - $1) } }.max() ?? 1
        #expect(worst < 1e-6, "safety replay with the re-run policy vs the recorded actions: \(worst)")

        // Without the resets (the second phase continuing the first's memory) the decisions differ.
        var continuing = NoReset(inner: try OnnxPolicy(path: model, manifest: manifest))
        let wrong = try PolicyReplay.run(path: path, policy: &continuing)
        #expect(wrong.maxActionError > 1e-4, "the memory must matter: \(wrong.maxActionError)")
    }

    @Test func aWindowRecordingRestoresTheStateItStartsFrom() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let model = try lstmPolicy(manifest: manifest)
        let path = NSTemporaryDirectory() + "tether-recurrent-window-\(UUID().uuidString).mcap"
        defer { for p in [model, path] { try? FileManager.default.removeItem(atPath: p) } }
        _ = try deploy(recordTo: path, continuous: false, window: 2.5, policy: try OnnxPolicy(path: model, manifest: manifest), manifest: manifest)
        var fresh = try OnnxPolicy(path: model, manifest: manifest)
        let replay = try PolicyReplay.run(path: path, policy: &fresh)
        // The last 2.5 s hold the end of the second phase only: replayed from its first recorded state.
        #expect(replay.ticks > 0 && replay.skipped == 1, "\(replay)")
        #expect(replay.maxActionError < 1e-6, "\(replay.maxActionError)")
    }

    @Test func theWorkerResetsTheStateWhenANewPhaseBegins() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let model = try lstmPolicy(manifest: manifest)
        defer { try? FileManager.default.removeItem(atPath: model) }
        let counting = ResetCounting(try OnnxPolicy(path: model, manifest: manifest))
        let worker = PolicyWorker(policy: counting)
        defer { worker.shutdown() }
        let observation = [Float](repeating: 0.1, count: manifest.observationSize)
        var states: [[Float]] = []
        for epoch in [1, 1, 1, 2] {
            #expect(worker.submit(observation, at: 0, epoch: epoch))
            let result = worker.waitForResult(seconds: 5)
            #expect(result?.epoch == epoch)
            states.append(result?.state ?? [])
        }
        #expect(counting.resets == 2)
        #expect(states[0] == states[3], "a new epoch starts from zeros, as the first did")
        #expect(states[1] != states[0])
    }
}

/// Ignores resets: a recurrent policy whose memory runs on across episodes.
struct NoReset: PolicyRuntime {
    var inner: OnnxPolicy
    var observationSize: Int { inner.observationSize }
    var actionSize: Int { inner.actionSize }
    mutating func act(_ observation: [Float]) throws -> [Float] { try inner.act(observation) }
    var recurrentState: [Float] { inner.recurrentState }
    mutating func setRecurrentState(_ values: [Float]) throws { try inner.setRecurrentState(values) }
}

/// The gantry start of robots that cannot stand up from lying (`SimRobot.hangStanding`).
@Suite struct GantryStartTests {
    @Test func theRobotHangsUntilItStandsThenIsLetGoAndWalks() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let copy = robot.with(model: robot.model.copy())
        let sim = SimRobot(robot: copy)
        let armature = copy.model.raw.pointee.dof_armature[copy.baseSensors!.freeJointDofAddress]
        sim.hangStanding()
        #expect(sim.mount != nil)
        let hungHeight = sim.data.qpos[copy.baseSensors!.freeJointQposAddress + 2]
        let clock = ManualClock()
        let simulated = SimulatedRobot(sim: sim, start: clock.now())
        simulated.releaseWhenStanding = true
        // Passive while hung: the base does not move although the legs hang limp.
        try simulated.send(.zeroTorque(count: 12))
        clock.advance(by: 0.5)
        try simulated.advance(to: clock.now())
        #expect(abs(sim.data.qpos[copy.baseSensors!.freeJointQposAddress + 2] - hungHeight) < 1e-9)
        #expect(simulated.releasedAt == nil)
        let manifest = try Manifest.load(path: quadrupedManifest)
        let onnx = try OnnxPolicy(path: "\(repositoryRoot)/policies/quadruped.onnx", manifest: manifest)
        let deployment = Deployment(robot: simulated, policy: onnx, safety: SafetyWrapper(config: try SafetyConfig(manifest: manifest, stage: 1.0)),
                                    timing: .init(standUpSeconds: 1.5), recorder: nil, clock: clock, loop: .init(rateHz: 50),
                                    velocityCommand: SIMD3(0.5, 0, 0))
        let report = try deployment.run(script: [.init(time: 0.2, command: .standUp), .init(time: 2.0, command: .startPolicy),
                                                 .init(time: 6.0, command: .stop)], seconds: 7.5)
        #expect(!report.stopped, "\(report.stopReason ?? "")")
        // Let go at the end of the stand-up (simulation time 0.5 s hung before the run, + 0.2 s
        // + 1.5 s of stand-up; the low-pass reaches the pose within a few ticks), with the base's
        // own armature back.
        let released = try #require(simulated.releasedAt)
        #expect(released > 2.15 && released < 2.5, "released at \(released) s")
        #expect(sim.mount == nil)
        #expect(copy.model.raw.pointee.dof_armature[copy.baseSensors!.freeJointDofAddress] == armature)
        #expect((report.distance ?? 0) > 1.0, "walked \(report.distance ?? 0) m")
        #expect(simulated.inputNotes.first?.contains("released at t =") == true)
    }
}
