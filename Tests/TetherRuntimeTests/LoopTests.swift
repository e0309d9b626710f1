import Foundation
import Testing
import TetherCore
import TetherSim
@testable import TetherRuntime

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let quadrupedManifest = "\(repositoryRoot)/robots/quadruped/quadruped.yaml"

@Suite struct FixedRateLoopTests {
    @Test func ticksRunOnAbsoluteDeadlinesWithoutDrift() {
        let clock = ManualClock(start: 100)
        let loop = FixedRateLoop(configuration: .init(rateHz: 1000), clock: clock)
        var starts: [Double] = []
        loop.run { tick in
            starts.append(tick.start)
            clock.advance(by: 0.0003)  // work takes 0.3 ms
            return (tick.index < 999, .init(readAt: tick.start, wroteAt: tick.start + 0.0002))
        }
        #expect(starts.count == 1000)
        #expect(abs(starts.last! - (100 + 0.999)) < 1e-9)  // tick 999 at exactly t0 + 999 ms
        let s = loop.statistics.summary
        #expect(s.deadlineMisses == 0)
        #expect(abs(s.achievedRateHz - 1000) < 1e-6)
        #expect(abs(s.computeMicroseconds.p50 - 300) < 1)
        #expect(abs(s.readToWriteMicroseconds.p99 - 200) < 1)
    }

    @Test func lateTicksAreMissesAndWholePeriodsAreSkipped() {
        let clock = ManualClock()
        let loop = FixedRateLoop(configuration: .init(rateHz: 100, maxConsecutiveMisses: 3), clock: clock)
        var seen: [FixedRateLoop.Tick] = []
        loop.run { tick in
            seen.append(tick)
            if tick.index == 5 { clock.advance(by: 0.036) }  // overrun by 3.6 periods
            if seen.count == 7 { clock.advance(by: 0.012) }  // the tick after it overruns again
            return (seen.count < 12, .init(readAt: nil, wroteAt: nil))
        }
        let indices = seen.map(\.index)
        #expect(indices.prefix(7) == [0, 1, 2, 3, 4, 5, 8])  // 6 and 7 skipped
        #expect(loop.statistics.skippedDeadlines == 2)
        #expect(seen[6].missed && seen[6].consecutiveMisses == 1)  // tick 8 started 6 ms late
        #expect(seen[7].index == 9 && seen[7].missed && seen[7].consecutiveMisses == 2)  // tick 9 started 7 ms late
        #expect(!seen[8].missed && seen[8].consecutiveMisses == 0)
        #expect(loop.statistics.deadlineMisses == 2)
    }
}

@Suite struct DeploymentStateMachineTests {
    @Test func theSequenceRunsAndWrongCommandsAreRefused() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        var machine = DeploymentStateMachine(manifest: manifest, timing: .init(standUpSeconds: 2, stopSeconds: 1))
        let lying = [Double](repeating: 0, count: 12)
        #expect(throws: TetherError.self) { try machine.handle(.startPolicy, time: 0, jointPositions: lying) }
        #expect(machine.command(time: 0, policyCommand: nil) == .zeroTorque(count: 12))
        try machine.handle(.standUp, time: 1, jointPositions: lying)
        #expect(machine.phase == .standingUp)
        #expect(throws: TetherError.self) { try machine.handle(.startPolicy, time: 1.5, jointPositions: lying) }
        let halfway = machine.command(time: 2, policyCommand: nil)
        #expect(abs(halfway.positions[1] - 0.45) < 1e-9)  // thigh halfway from 0 to 0.9 (smoothstep at s = 0.5)
        #expect(halfway.kp[1] == 25)
        machine.update(time: 3)
        #expect(machine.phase == .standing)
        #expect(machine.command(time: 3, policyCommand: nil) == manifest.defaultPoseCommand)
        try machine.handle(.startPolicy, time: 3.5, jointPositions: lying)
        let policy = JointCommand.zeroTorque(count: 12)
        #expect(machine.command(time: 4, policyCommand: policy) == policy)
        try machine.handle(.stop, time: 5, jointPositions: lying)
        let stop = machine.command(time: 5, policyCommand: policy)
        #expect(stop.kp.allSatisfy { $0 == 0 } && stop.kd.allSatisfy { $0 > 0 } && stop.torques.allSatisfy { $0 == 0 })
        machine.update(time: 6.1)
        #expect(machine.phase == .passive)
    }
}

@Suite struct SimulatedRobotTests {
    /// Exact sensors read the simulation's state; a sensor model corrupts each new state once, and
    /// a dropped sample is the previous one read again, with the time it was received.
    @Test func sensorModelCorruptsEachNewStateOnceAndHoldsDroppedSamples() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let exact = SimulatedRobot(sim: SimRobot(robot: robot), start: 0)
        try exact.advance(to: 0.01)
        #expect(try #require(try exact.latestState()).state == exact.sim.state())

        let sensors = SensorModel(positionNoise: 0.001, positionBias: 0.01, dropout: 0.3)
        let noisy = SimulatedRobot(sim: SimRobot(robot: robot), start: 0, sensors: sensors, sensorRandom: SeededRandom(seed: 4))
        var held = 0, fresh = 0
        for k in 1...400 {
            try noisy.advance(to: Double(k) * 0.002)
            let a = try #require(try noisy.latestState()), b = try #require(try noisy.latestState())
            #expect(a.state == b.state, "a state read twice reads the same")
            let truth = noisy.sim.state()
            if a.state.time == truth.time {
                fresh += 1
                #expect(abs(a.state.jointPositions[0] - truth.jointPositions[0] - 0.01) < 0.006)
                #expect(a.state.jointPositions[0] != truth.jointPositions[0] + 0.01, "noise is drawn")
            } else {
                held += 1
                #expect(a.state.time < truth.time && a.receivedAt < Double(k) * 0.002, "a dropped sample holds the last one")
            }
        }
        #expect(abs(Double(held) / 400 - 0.3) < 0.1 && fresh + held == 400)
    }

    @Test func aLoopStandsTheQuadrupedUpFromLying() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        // Lay it down: legs folded, trunk low.
        for (i, _) in robot.manifest.joints.enumerated() where i % 3 == 2 { sim.data.qpos[robot.qposAddress[i]] = -2.6 }
        for (i, _) in robot.manifest.joints.enumerated() where i % 3 == 1 { sim.data.qpos[robot.qposAddress[i]] = 1.2 }
        sim.data.qpos[2] = 0.12
        sim.data.forward()
        try sim.apply(.zeroTorque(count: 12))
        let clock = ManualClock()
        let simulated = SimulatedRobot(sim: sim, start: clock.now())
        var machine = DeploymentStateMachine(manifest: robot.manifest, timing: .init(standUpSeconds: 1.5))
        let loop = FixedRateLoop(configuration: .init(rateHz: 50), clock: clock)
        try loop.run { tick in
            try simulated.advance(to: tick.start)
            let (state, _) = try #require(try simulated.latestState())
            if tick.index == 25 { try machine.handle(.standUp, time: tick.start, jointPositions: state.jointPositions) }
            machine.update(time: tick.start)
            try simulated.send(machine.command(time: tick.start, policyCommand: nil))
            return (tick.index < 200, .init(readAt: tick.start, wroteAt: tick.start))
        }
        let final = sim.state()
        #expect(machine.phase == .standing)
        #expect(final.basePosition!.z > 0.25)
        #expect(final.tilt! < Units.radians(degrees: 5))
        #expect(abs(sim.data.time - 4.0) < 0.003)  // 200 ticks at 50 Hz, simulation in lock step
    }
}
