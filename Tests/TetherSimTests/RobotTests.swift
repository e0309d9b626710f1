import Foundation
import Testing
import TetherCore
@testable import TetherSim

@Suite struct RobotModelTests {
    func manifestProblems(_ replacements: [(String, String)], original: String = quadrupedManifest) throws -> [ManifestProblem] {
        let path = try writeManifestVariant(original, replacing: replacements)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try RobotModel.load(manifestPath: path)
            return []
        } catch let error as ManifestError {
            #expect(error.problems.allSatisfy { $0.file == path })
            return error.problems
        }
    }

    @Test func builtInRobotsPassTheirChecks() throws {
        let q = try RobotModel.load(manifestPath: quadrupedManifest)
        #expect(q.actuatorIDs.count == 12)
        #expect(q.baseSensors?.feet.count == 4)
        let c = try RobotModel.load(manifestPath: cartpoleManifest)
        #expect(c.actuatorIDs.count == 1 && c.actuatedJointIndex == [0])
    }

    @Test func unknownJointIsReportedWithASuggestion() throws {
        // Renamed in the unitree: section's motor slots too, so that the manifest itself is consistent.
        let p = try manifestProblems([("name: FR_calf_joint,", "name: FR_calf_jiont,"), ("FR_calf_joint: 2", "FR_calf_jiont: 2")])
        #expect(p.contains { $0.kind == .unknownJoint && $0.field == "joints[2].name" && $0.message.contains("did you mean 'FR_calf_joint'") && $0.line == 24 })
    }

    @Test func limitOutsideTheModelRangeIsReported() throws {
        let p = try manifestProblems([("limits: [-0.863, 0.863], velocity_limit: 30.0, torque_limit: 23.7,  kp: 25.0, kd: 0.5, rest: 0.0}\n  - {name: "
            + "FR_thigh", "limits: [-1.2, 0.863], velocity_limit: 30.0, torque_limit: 23.7,  kp: 25.0, kd: 0.5, rest: 0.0}\n  - {name: FR_thigh")])
        #expect(p.contains { $0.kind == .limitOutsideModel && $0.field == "joints[0].limits" })
    }

    @Test func torqueLimitAboveTheActuatorIsReported() throws {
        let p = try manifestProblems([("torque_limit: 35.55, kp: 25.0, kd: 0.5, feedforward: 5.2, rest: -2.6}\n  - {name: FL_hip",
                                       "torque_limit: 50.0, kp: 25.0, kd: 0.5, feedforward: 5.2, rest: -2.6}\n  - {name: FL_hip")])
        #expect(p.contains { $0.kind == .limitOutsideModel && $0.field == "joints[2].torque_limit" })
    }

    @Test func physicsRateMustMatchTheTimestep() throws {
        let p = try manifestProblems([("physics_hz: 500", "physics_hz: 1000")])
        #expect(p.contains { $0.kind == .rateMismatch && $0.field == "rates.physics_hz" })
    }

    @Test func wrongActuatorAndUnknownSensorAreReportedTogether() throws {
        let p = try manifestProblems([("actuator: FR_hip,", "actuator: FL_hip,"), ("gyro: imu_gyro", "gyro: imu_gyr"), ("body: trunk", "body: torso")])
        #expect(p.contains { $0.field == "joints[0].actuator" && $0.message.contains("drives FL_hip_joint") })
        #expect(p.contains { $0.kind == .unknownSensor && $0.field == "base.imu.gyro" })
        #expect(p.contains { $0.kind == .unknownBody && $0.field == "base.body" })
        #expect(p.count >= 3)
    }

    @Test func sensorOfTheWrongKindIsReported() throws {
        let p = try manifestProblems([("orientation: imu_quat", "orientation: imu_gyro")])
        #expect(p.contains { $0.field == "base.imu.orientation" })
    }

    @Test func badModelFileIsAManifestProblem() throws {
        let p = try manifestProblems([("model: quadruped.xml", "model: missing.xml")])
        #expect(p.contains { $0.kind == .modelError && $0.field == "model" })
    }
}

@Suite struct SimRobotTests {
    @Test func quadrupedStandsStablyAtItsDefaultPose() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let summary = HoldRollout(seconds: 10).run(SimRobot(robot: robot))
        #expect(summary.held)
        #expect(summary.maxTilt! < Units.radians(degrees: 3))
        #expect(summary.maxJointDeviation < 0.15)
        #expect(summary.feetInContact == 4)
        #expect(summary.minBaseHeight! > 0.25)
        #expect(summary.warnings.isEmpty)
    }

    @Test func quadrupedRecoversFromPushes() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let pushes = (0..<5).map { HoldRollout.Push(time: 1 + Double($0), force: SIMD2(20 * cos(Double($0)), 20 * sin(Double($0))), duration: 0.1) }
        let summary = HoldRollout(seconds: 6.5, pushes: pushes).run(SimRobot(robot: robot))
        #expect(summary.held)
        #expect(summary.feetInContact == 4)
    }

    @Test func zeroTorqueQuadrupedCollapses() throws {
        // The stand test can fail: without torque the robot must not hold its pose.
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        try sim.apply(.zeroTorque(count: 12))
        for _ in 0..<150 { sim.stepControl() }
        #expect(sim.state().basePosition!.z < 0.2)
    }

    @Test func sensorsReadAtRest() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        for _ in 0..<100 { sim.stepControl() }
        let s = sim.state()
        let g = s.projectedGravity!
        #expect(abs(g.z + 1) < 0.01)
        #expect(abs(s.baseAcceleration!.z - 9.81) < 0.3)  // the accelerometer reads +g at rest
        #expect((s.baseAngularVelocity! * s.baseAngularVelocity!).sum() < 1e-4)
        #expect(s.footContacts == [true, true, true, true])
        #expect(s.jointPositions.count == 12 && s.jointTorques.count == 12)
        // Calves carry the weight: about +5 N·m each.
        for i in [2, 5, 8, 11] { #expect(s.jointTorques[i] > 3 && s.jointTorques[i] < 8) }
        #expect(abs(s.time - 2.0) < 1e-9)  // 100 control steps at 50 Hz
    }

    @Test func decimationRunsThePhysicsRate() throws {
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        let sim = SimRobot(robot: robot)
        #expect(sim.decimation == 4)
        sim.stepControl()
        #expect(abs(sim.data.time - 0.02) < 1e-12)
    }

    @Test func cartpoleIsDrivenByForceAndThePoleFalls() throws {
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        let sim = SimRobot(robot: robot)
        sim.data.qpos[robot.qposAddress[1]] = 0.1
        try sim.apply(JointCommand(positions: [0], velocities: [0], torques: [5], kp: [0], kd: [0]))
        for _ in 0..<100 { sim.stepControl() }
        let s = sim.state()
        #expect(abs(s.jointPositions[1]) > .pi / 2)
        #expect(s.jointPositions[0] > 0.5)  // pushed to +x
        #expect(abs(s.jointTorques[0] - 5) < 1e-9)
        #expect(throws: TetherError.self) { try sim.apply(.zeroTorque(count: 3)) }
    }

    @Test func torqueIsClippedToTheLimit() throws {
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        let sim = SimRobot(robot: robot)
        try sim.apply(JointCommand(positions: [0], velocities: [0], torques: [500], kp: [0], kd: [0]))
        sim.stepControl()
        #expect(sim.state().jointTorques[0] == 20)
        try sim.apply(JointCommand(positions: [0], velocities: [0], torques: [.nan], kp: [0], kd: [0]))
        sim.stepControl()
        #expect(sim.state().jointTorques[0] == 0)  // NaN fails closed to zero torque
    }
}

@Suite struct BatchRolloutTests {
    /// A trial that randomizes parameters and pushes, then returns the final state.
    static func randomizedTrial(_ sim: SimRobot, _ random: inout SeededRandom, _ index: Int) throws -> [Double] {
        try sim.robot.model.set(.geomFriction("FR_foot_geom"), [random.uniform(0.3, 1.2), 0.02, 0.01])
        try sim.robot.model.set(.bodyMass("trunk"), [5.2 + random.uniform(-0.5, 1.5)])
        try sim.robot.model.set(.jointDamping("RL_calf_joint"), [random.uniform(0, 0.5)])
        sim.reset()
        let push = HoldRollout.Push(time: 0.2, force: SIMD2(random.uniform(-40, 40), random.uniform(-40, 40)), duration: 0.1)
        _ = HoldRollout(seconds: 0.6, pushes: [push]).run(sim)
        return Array(sim.data.qpos) + [Double(index)]
    }

    @Test func resultsDependOnlyOnSeedAndIndexNotThreads() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let one = try robot.rollouts(BatchRollout(trials: 12, seed: 99, threads: 1), Self.randomizedTrial)
        let two = try robot.rollouts(BatchRollout(trials: 12, seed: 99, threads: 2), Self.randomizedTrial)
        let four = try robot.rollouts(BatchRollout(trials: 12, seed: 99, threads: 4), Self.randomizedTrial)
        #expect(one == two)
        #expect(one == four)
        #expect(Set(one.map { $0[2] }).count == 12)  // trials differ from each other
        let other = try robot.rollouts(BatchRollout(trials: 12, seed: 100, threads: 2), Self.randomizedTrial)
        #expect(other != one)
        // Trial i alone gives the same result as inside the batch.
        let subset = try robot.rollouts(BatchRollout(trials: 3, seed: 99, threads: 2), Self.randomizedTrial)
        #expect(Array(one.prefix(3)) == subset)
        // The base model is never changed by the trials.
        #expect(try robot.model.get(.bodyMass("trunk")) == [5.2])
    }

    @Test func errorsInATrialAreThrownNotLost() throws {
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        #expect(throws: TetherError.self) {
            _ = try robot.rollouts(BatchRollout(trials: 8, seed: 1, threads: 2)) { sim, _, index -> Int in
                if index == 5 { try sim.robot.model.set(.bodyMass("nope"), [1]) }
                return index
            }
        }
    }

    @Test func progressCountsEveryTrial() throws {
        let robot = try RobotModel.load(manifestPath: cartpoleManifest)
        let seen = Counter()
        _ = robot.rollouts(BatchRollout(trials: 10, seed: 1, threads: 2), progress: { seen.record($0) }) { sim, _, _ in
            sim.stepControl()
            return 0
        }
        #expect(seen.maximum == 10)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func record(_ v: Int) { lock.lock(); value = max(value, v); lock.unlock() }
    var maximum: Int { lock.lock(); defer { lock.unlock() }; return value }
}
