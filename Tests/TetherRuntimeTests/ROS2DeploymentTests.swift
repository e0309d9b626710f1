import Foundation
import Testing
import TetherCore
import TetherPolicy
import TetherROS
import TetherSafety
import TetherSim
@testable import TetherRuntime

/// End to end over ROS 2 on loopback: the simulated quadruped served as a ROS 2 robot on one
/// thread, the deployment talking to it through `ROS2Robot` on another, in real time.
@Suite(.serialized) struct ROS2DeploymentTests {
    /// These tests run in real time beside other suites that load both cores (ONNX inference,
    /// COCO evaluation): a tick may be late by more than one control period without that being
    /// what is tested here (walking over ROS 2, the lost link, the e-stop), so the lateness bound
    /// is 0.25 s. The watchdog's own lateness rule is tested on a manual clock (TetherSafetyTests).
    static var tolerantTicks: SafetyOptions {
        var options = SafetyOptions()
        options.maxTickLateness = 0.25
        return options
    }

    @Test func thePolicyWalksOverROS2AndALostLinkStopsTheRobot() throws {
        let domain: UInt32 = 73
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let manifest = robot.manifest
        let sim = SimRobot(robot: robot)
        sim.layDown()
        let clock = MonotonicClock()
        let served = SimulatedRobot(sim: sim, start: clock.now())
        let serverParticipant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let server = try ROS2RobotServer(robot: served, participant: serverParticipant, clock: clock)
        let serverDone = DispatchSemaphore(value: 0)
        let serverThread = Thread {
            try? server.run(seconds: 30)
            serverDone.signal()
        }
        serverThread.start()
        defer { server.stop(); serverDone.wait() }

        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let remote = try ROS2Robot(manifest: manifest, participant: participant, clock: clock)
        try remote.waitForRobot(timeout: 10)
        let policy = try OnnxPolicy(path: "\(repositoryRoot)/policies/quadruped.onnx", manifest: manifest)
        let deployment = Deployment(robot: remote, policy: policy,
                                    safety: SafetyWrapper(config: try SafetyConfig(manifest: manifest, stage: 1.0, options: Self.tolerantTicks)),
                                    timing: .init(standUpSeconds: 1.5), recorder: nil, clock: clock, loop: .init(rateHz: 50),
                                    velocityCommand: SIMD3(0.5, 0, 0))
        var cut = false
        let report = try deployment.run(script: [.init(time: 0.2, command: .standUp), .init(time: 2.0, command: .startPolicy)],
                                        seconds: 6) { status in
            if status.time > 5, !cut { server.setPaused(true); cut = true }  // the link goes quiet
        }
        #expect(server.commandsApplied > 200)
        #expect((sim.state().basePosition!.x) > 0.8, "walked \(sim.state().basePosition!.x) m over ROS 2")
        #expect(report.stopped && report.stopReason == "state_timeout", "report: \(report.stopReason ?? "no stop") \(report.events.prefix(5))")
        #expect(report.events.contains { $0.contains("state_timeout") })
    }

    @Test func theEStopTopicLatchesAStopAndDiagnosticsReportIt() throws {
        let domain: UInt32 = 74
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let manifest = robot.manifest
        let sim = SimRobot(robot: robot)
        sim.layDown()
        let clock = MonotonicClock()
        let serverParticipant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let server = try ROS2RobotServer(robot: SimulatedRobot(sim: sim, start: clock.now()), participant: serverParticipant, clock: clock)
        let serverDone = DispatchSemaphore(value: 0)
        Thread { try? server.run(seconds: 30); serverDone.signal() }.start()
        defer { server.stop(); serverDone.wait() }

        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let remote = try ROS2Robot(manifest: manifest, participant: participant, clock: clock)
        try remote.waitForRobot(timeout: 10)
        let operatorParticipant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let estop = try DDSPublisher<StdMsgs.Bool>(operatorParticipant, topic: manifest.ros2.estop)
        let diagnostics = try DDSSubscriber<DiagnosticMsgs.DiagnosticArray>(operatorParticipant, topic: manifest.ros2.safetyStatus)
        #expect(estop.waitForSubscribers(timeout: 10))
        // This test is about the e-stop topic: a watchdog that tolerates a busy CI machine (the
        // other suites run in parallel on two cores) keeps a stale state from stopping it first.
        var relaxed = manifest
        relaxed.safety.stateTimeout = 0.5
        let deployment = Deployment(robot: remote, policy: nil,
                                    safety: SafetyWrapper(config: try SafetyConfig(manifest: relaxed, stage: 1.0, options: Self.tolerantTicks)),
                                    timing: .init(standUpSeconds: 1.0), recorder: nil, clock: clock, loop: .init(rateHz: 50),
                                    velocityCommand: .zero)
        var pressed = false
        let report = try deployment.run(script: [.init(time: 0.2, command: .standUp)], seconds: 3) { status in
            if status.time > 1.5, !pressed { try? estop.publish(StdMsgs.Bool(data: true)); pressed = true }
        }
        #expect(report.stopped && report.stopReason == "estop", "report: \(report.stopReason ?? "no stop")")
        var levels: [UInt8] = []
        while let m = try diagnostics.take() { levels += m.message.status.map(\.level) }
        #expect(levels.contains(0) && levels.last == 2, "diagnostic levels \(levels)")
    }
}
