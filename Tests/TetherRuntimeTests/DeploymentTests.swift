import Foundation
import Testing
import TetherCore
import TetherPolicy
import TetherROS
import TetherSafety
import TetherSim
@testable import TetherRuntime

/// A test double for a trained policy: always the same action, or NaN from a given time.
final class ScriptedPolicy: PolicyRuntime {
    let observationSize: Int, actionSize: Int
    var calls = 0
    var nanAfter: Int?
    init(observationSize: Int, actionSize: Int, nanAfter: Int? = nil) {
        self.observationSize = observationSize
        self.actionSize = actionSize
        self.nanAfter = nanAfter
    }
    func act(_ observation: [Float]) throws -> [Float] {
        calls += 1
        if let n = nanAfter, calls > n { return [Float](repeating: .nan, count: actionSize) }
        return [Float](repeating: 0, count: actionSize)
    }
}

/// A simulated robot whose reads take `delay` seconds of the manual clock from a given tick on.
final class SlowRobot: Robot {
    let inner: SimulatedRobot
    let clock: ManualClock
    var ticks = 0
    let slowFrom: Int
    init(inner: SimulatedRobot, clock: ManualClock, slowFrom: Int) {
        self.inner = inner
        self.clock = clock
        self.slowFrom = slowFrom
    }
    var manifest: Manifest { inner.manifest }
    func latestState() throws -> (state: RobotState, receivedAt: Double)? {
        ticks += 1
        if ticks > slowFrom { clock.advance(by: 0.05) }  // 2.5 periods at 50 Hz
        return try inner.latestState()
    }
    func send(_ command: JointCommand) throws { try inner.send(command) }
    func advance(to time: Double) throws { try inner.advance(to: time) }
}

@Suite struct DeploymentTests {
    func make(policy: any PolicyRuntime, recordTo path: String? = nil, robotWrapper: ((SimulatedRobot, ManualClock) -> Robot)? = nil)
        throws -> (Deployment, SimRobot) {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        sim.layDown()
        let clock = ManualClock()
        let simulated = SimulatedRobot(sim: sim, start: clock.now())
        let backend = robotWrapper?(simulated, clock) ?? simulated
        let recorder = path.map { FlightRecorder(manifest: robot.manifest, path: $0, windowSeconds: 3, clockStart: clock.now()) }
        let deployment = Deployment(robot: backend, policy: policy, safety: SafetyWrapper(config: try SafetyConfig(manifest: robot.manifest, stage: 1.0)),
                                    timing: .init(standUpSeconds: 1.5), recorder: recorder, clock: clock, loop: .init(rateHz: 50),
                                    velocityCommand: SIMD3(0.5, 0, 0))
        return (deployment, sim)
    }

    let script: [Deployment.ScriptedCommand] = [.init(time: 0.2, command: .standUp), .init(time: 2.0, command: .startPolicy),
                                                .init(time: 5.0, command: .stop)]

    @Test func theRealPolicyWalksThroughTheWholeSequence() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let onnx = try OnnxPolicy(path: "\(repositoryRoot)/policies/quadruped.onnx", manifest: manifest)
        let path = NSTemporaryDirectory() + "tether-deploy-\(UUID().uuidString).mcap"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (deployment, _) = try make(policy: onnx, recordTo: path)
        let report = try deployment.run(script: script, seconds: 7)
        #expect(!report.stopped)
        #expect(report.finalPhase == "passive")
        #expect(report.distance! > 1.0)  // about 3 s of walking at 0.5 m/s
        #expect(report.loop.ticks == 351)
        let reader = try MCAPReader(path: path)
        #expect(reader.isCleanlyClosed)
        #expect(try reader.messages(SensorMsgs.JointState.self, topic: "/joint_states").count == 151)  // the last 3 s
    }

    @Test func anEStopRequestLatchesADampingStopAndFlushesTheRecorder() throws {
        let path = NSTemporaryDirectory() + "tether-deploy-\(UUID().uuidString).mcap"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let policy = ScriptedPolicy(observationSize: 48, actionSize: 12)
        let (deployment, sim) = try make(policy: policy, recordTo: path)
        var requested = false
        let report = try deployment.run(script: script, seconds: 4) { status in
            if status.time > 3, !requested { deployment.eStopRequest.set("operator"); requested = true }
        }
        #expect(report.stopped && report.stopReason == "estop")
        #expect(deployment.safety.state.mode.isStopped)
        #expect(sim.command.kp.allSatisfy { $0 == 0 } && sim.command.kd.allSatisfy { $0 > 0 })  // damping
        let events = try MCAPReader(path: path).messages(TetherMsgs.SafetyEvent.self, topic: "/tether/safety_events")
        #expect(events.contains { $0.message.reason == "estop" })
    }

    @Test func aNaNActionFailsClosed() throws {
        let policy = ScriptedPolicy(observationSize: 48, actionSize: 12, nanAfter: 20)
        let (deployment, sim) = try make(policy: policy)
        let report = try deployment.run(script: script, seconds: 4)
        #expect(report.stopped && report.stopReason == "non_finite_action")
        #expect(sim.command.positions.allSatisfy { $0.isFinite })
    }

    @Test func consecutiveDeadlineMissesStopTheRobot() throws {
        let policy = ScriptedPolicy(observationSize: 48, actionSize: 12)
        let (deployment, _) = try make(policy: policy) { SlowRobot(inner: $0, clock: $1, slowFrom: 150) }
        let report = try deployment.run(script: script, seconds: 6)
        #expect(report.loop.deadlineMisses >= 5)
        #expect(report.stopped)
    }
}

/// A robot whose link breaks after some ticks.
final class FailingRobot: Robot {
    let inner: SimulatedRobot
    var sends = 0
    init(inner: SimulatedRobot) { self.inner = inner }
    var manifest: Manifest { inner.manifest }
    func latestState() throws -> (state: RobotState, receivedAt: Double)? { try inner.latestState() }
    func send(_ command: JointCommand) throws {
        sends += 1
        if sends > 120 { throw TetherError("link lost", at: "test robot") }
        try inner.send(command)
    }
    func advance(to time: Double) throws { try inner.advance(to: time) }
}

@Suite struct DeploymentErrorTests {
    @Test func anErrorEndsTheRunButTheRecordingIsWritten() throws {
        let path = NSTemporaryDirectory() + "tether-deploy-\(UUID().uuidString).mcap"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        let clock = ManualClock()
        let deployment = Deployment(robot: FailingRobot(inner: SimulatedRobot(sim: sim, start: 0)), policy: nil,
                                    safety: SafetyWrapper(config: try SafetyConfig(manifest: robot.manifest)),
                                    timing: .init(), recorder: FlightRecorder(manifest: robot.manifest, path: path, clockStart: 0),
                                    clock: clock, loop: .init(rateHz: 50), velocityCommand: .zero)
        #expect(throws: TetherError.self) { try deployment.run(script: [], seconds: 10) }
        let reader = try MCAPReader(path: path)
        #expect(reader.isCleanlyClosed)
        // The failed send stopped the robot; the stop ran its second (50 ticks) before the end.
        #expect(try reader.messages(SensorMsgs.JointState.self, topic: "/joint_states").count == 171)
        #expect(deployment.lastReport?.stopReason == "runtime_error")
    }
}
