import Foundation
import Testing
import TetherCore
import TetherPolicy
import TetherROS
import TetherSafety
import TetherSim
@testable import TetherRuntime

/// End to end over Unitree's low-level protocol on loopback: the simulated quadruped served as a
/// Go2's motor controller (`UnitreeRobotServer`) on one thread, the deployment driving it through
/// `UnitreeRobot` on another, in real time.
@Suite(.serialized) struct UnitreeDeploymentTests {
    struct Served {
        let sim: SimRobot
        let server: UnitreeRobotServer<UnitreeGoDialect>
        let remote: UnitreeRobot<UnitreeGoDialect>
        let manifest: Manifest
        let clock: MonotonicClock
        let done: DispatchSemaphore
    }

    func serve(domain: UInt32) throws -> Served {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        sim.layDown()
        let clock = MonotonicClock()
        let serverParticipant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let server = try UnitreeRobotServer<UnitreeGoDialect>(robot: SimulatedRobot(sim: sim, start: clock.now()), participant: serverParticipant,
                                                              clock: clock)
        let done = DispatchSemaphore(value: 0)
        Thread {
            try? server.run(seconds: 30)
            done.signal()
        }.start()
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let remote = try UnitreeRobot<UnitreeGoDialect>(manifest: robot.manifest, participant: participant, clock: clock)
        try remote.waitForRobot(timeout: 10)
        return Served(sim: sim, server: server, remote: remote, manifest: robot.manifest, clock: clock, done: done)
    }

    /// The deployment; its policy budget is 0.25 s, as the lateness bound of `tolerantTicks`:
    /// these tests are about the transport, and a starved policy on a loaded machine is not.
    func deployment(_ s: Served) throws -> Deployment {
        let deployment = Deployment(robot: s.remote, policy: try OnnxPolicy(path: "\(repositoryRoot)/policies/quadruped.onnx", manifest: s.manifest),
                   safety: SafetyWrapper(config: try SafetyConfig(manifest: s.manifest, stage: 1.0, options: ROS2DeploymentTests.tolerantTicks)),
                   timing: .init(standUpSeconds: 1.5), recorder: nil, clock: s.clock, loop: .init(rateHz: 50), velocityCommand: SIMD3(0.5, 0, 0))
        deployment.policyBudget = 0.25
        return deployment
    }

    /// The policy walks over `rt/lowcmd` / `rt/lowstate`; when the states stop, the state timeout stops it.
    @Test func thePolicyWalksOverUnitreeAndALostLinkStopsTheRobot() throws {
        let s = try serve(domain: 203)
        defer { s.server.stop(); s.done.wait() }
        var cut = false
        let report = try deployment(s).run(script: [.init(time: 0.2, command: .standUp), .init(time: 2.0, command: .startPolicy)],
                                           seconds: 6) { status in
            if status.time > 5, !cut { s.server.setPaused(true); cut = true }  // the state stream stops
        }
        #expect(s.server.commandsApplied > 200 && s.server.commandsRejected == 0)
        #expect(s.sim.state().basePosition!.x > 0.8, "walked \(s.sim.state().basePosition!.x) m over Unitree's protocol")
        #expect(report.stopped && report.stopReason == "state_timeout", "report: \(report.stopReason ?? "no stop") \(report.events.prefix(5))")
        #expect(s.remote.stateCounts.rejected == 0)
    }

    /// L2 + B on the wireless remote (the quadruped manifest's estop_buttons) stops the robot.
    @Test func theRemoteButtonsStopTheRobot() throws {
        let s = try serve(domain: 204)
        defer { s.server.stop(); s.done.wait() }
        var pressed = false
        let report = try deployment(s).run(script: [.init(time: 0.2, command: .standUp), .init(time: 2.0, command: .startPolicy)],
                                           seconds: 5) { status in
            if status.time > 3, !pressed {
                var frame = [UInt8](repeating: 0, count: 40)
                frame[2] = 0b0010_0000   // L2
                frame[3] = 0b0000_0010   // B
                s.server.setRemote(frame)
                pressed = true
            }
        }
        #expect(report.stopped && report.stopReason == "estop", "report: \(report.stopReason ?? "no stop") \(report.events.prefix(5))")
    }
}
