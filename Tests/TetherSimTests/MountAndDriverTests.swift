import Testing
import TetherCore
@testable import TetherSim

@Suite struct MountAndDriverTests {
    @Test func hungRobotKeepsItsBaseAndSwingsItsLegs() throws {
        let loaded = try RobotModel.load(manifestPath: quadrupedManifest)
        let robot = loaded.with(model: loaded.model.copy())
        let sim = SimRobot(robot: robot)
        sim.hang(height: 0.8)
        let start = sim.state().jointPositions
        try sim.apply(.zeroTorque(count: robot.actuatorIDs.count))
        sim.stepPhysics(500)
        let s = sim.state()
        #expect(abs(s.basePosition!.z - 0.8) < 1e-9)
        #expect(abs(s.baseOrientation![0] - 1) < 1e-9)
        // Legs in the air, no torque: gravity moves them; nothing touches the ground.
        let moved = zip(start, s.jointPositions).map { abs($0 - $1) }.max()!
        #expect(moved > 0.05)
        #expect(s.footContacts.allSatisfy { !$0 })
        // The caller's model is untouched.
        #expect(loaded.model.raw.pointee.dof_armature[0] != 1e6)
    }

    /// Hanging a robot changes its own copy of the model, never one it shares: another robot on
    /// the same model stays free, and releasing the gantry gives the base its own armature back.
    @Test func hangLeavesASharedModelAlone() throws {
        let shared = try RobotModel.load(manifestPath: quadrupedManifest)
        let base = try #require(shared.baseSensors).freeJointDofAddress
        let armature = shared.model.raw.pointee.dof_armature[base]
        let hung = SimRobot(robot: shared), free = SimRobot(robot: shared)
        hung.hangStanding()
        #expect(shared.model.raw.pointee.dof_armature[base] == armature, "the shared model is unchanged")
        #expect(hung.robot.model !== shared.model && hung.data.model === hung.robot.model)
        #expect(hung.robot.model.raw.pointee.dof_armature[base] == 1e6)
        let height = hung.state().basePosition!.z
        hung.stepPhysics(100)
        #expect(abs(hung.state().basePosition!.z - height) < 1e-8, "held by the gantry (put back before every step)")
        free.stepPhysics(100)
        #expect(free.mount == nil && free.robot.model === shared.model)
        hung.releaseGantry()
        #expect(hung.robot.model.raw.pointee.dof_armature[base] == armature)
    }

    @Test func driverDelaysAndLagsTheTorque() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot.with(model: robot.model.copy()))
        sim.hang()
        sim.driver = DriverDynamics(lagTimeConstant: 0.02, actionDelay: 0.01)
        var c = JointCommand.zeroTorque(count: robot.actuatorIDs.count)
        try sim.apply(c)
        sim.stepPhysics(200)
        c.torques[0] = 2
        try sim.apply(c)
        let dt = robot.model.timestep
        sim.stepPhysics(Int((0.01 / dt).rounded()) - 1)
        let a = robot.actuatorIDs[0]
        #expect(abs(sim.data.ctrl[a]) < 0.2)           // still the old command (lagging towards zero)
        sim.stepPhysics(Int((0.02 / dt).rounded()) + 1)  // one time constant after the dead time
        #expect(abs(sim.data.ctrl[a] - 2 * (1 - 0.3679)) < 0.1)
    }
}
