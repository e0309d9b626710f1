import CMuJoCo
import TetherCore

/// A robot simulated in-process by MuJoCo: reads state in manifest order, takes joint commands,
/// and runs the PD law at the physics rate inside each control step (the decimation).
public final class SimRobot {
    /// The robot's model and index maps.
    public let robot: RobotModel
    /// The simulation data.
    public let data: SimData
    /// The command applied at every physics step until the next one arrives.
    public private(set) var command: JointCommand

    /// Creates a simulated robot at its initial state (keyframe, or the model's reference pose).
    public convenience init(robot: RobotModel) {
        self.init(robot: robot, data: SimData(model: robot.model))
    }

    /// Creates a simulated robot over existing data of the robot's model (a batch worker's).
    public init(robot: RobotModel, data: SimData) {
        precondition(data.model === robot.model, "the data must belong to the robot's model")
        self.robot = robot
        self.data = data
        self.command = robot.manifest.defaultPoseCommand
        reset()
    }

    /// Physics steps per control step.
    public var decimation: Int { robot.manifest.rates.decimation }

    /// Returns to the initial state and holds the default pose.
    public func reset() {
        if let key = robot.keyframeID {
            mj_resetDataKeyframe(robot.model.raw, data.raw, Int32(key))
        } else {
            data.reset()
            for (i, joint) in robot.manifest.joints.enumerated() { data.qpos[robot.qposAddress[i]] = joint.defaultPosition }
        }
        data.forward()
        command = robot.manifest.defaultPoseCommand
    }

    /// Puts a floating-base robot on the ground in its manifest rest pose (`rest` per joint: legs
    /// folded, as a quadruped lies when powered off) and lets it settle for 1 s with zero torque.
    /// Fixed-base robots keep their pose.
    public func layDown() {
        guard let base = robot.baseSensors else { return }
        for (i, joint) in robot.manifest.joints.enumerated() {
            data.qpos[robot.qposAddress[i]] = joint.rest ?? joint.defaultPosition
        }
        data.qpos[base.freeJointQposAddress + 2] = 0.15
        data.forward()
        command = .zeroTorque(count: robot.actuatorIDs.count)
        stepPhysics(Int(1 / robot.model.timestep))
        data.time = 0
    }

    /// Sets the command to apply from now on (actuated-joint order).
    public func apply(_ command: JointCommand) throws {
        guard command.count == robot.actuatorIDs.count else {
            throw TetherError("command has \(command.count) joints, the robot has \(robot.actuatorIDs.count) actuated joints",
                              at: robot.manifest.name)
        }
        self.command = command
    }

    /// Runs one control period: `decimation` physics steps, the PD torque recomputed before each.
    public func stepControl() {
        data.step(count: decimation) { _ in self.applyPD() }
    }

    /// Runs `count` physics steps with the current command.
    public func stepPhysics(_ count: Int) {
        data.step(count: count) { _ in self.applyPD() }
    }

    /// tau = kp (q* - q) + kd (qd* - qd) + tau_ff, clipped to the torque limit, into ctrl.
    @inline(__always) func applyPD() {
        let qpos = data.raw.pointee.qpos!, qvel = data.raw.pointee.qvel!, ctrl = data.raw.pointee.ctrl!
        let c = command
        for k in 0..<robot.actuatorIDs.count {
            let j = robot.actuatedJointIndex[k]
            let q = qpos[robot.qposAddress[j]], qd = qvel[robot.dofAddress[j]]
            var tau = c.kp[k] * (c.positions[k] - q) + c.kd[k] * (c.velocities[k] - qd) + c.torques[k]
            let limit = robot.torqueLimits[k]
            tau = tau.isNaN ? 0 : min(limit, max(-limit, tau))
            ctrl[robot.actuatorIDs[k]] = tau
        }
    }

    /// The current state in manifest order, with simulation ground truth filled in.
    public func state() -> RobotState {
        let qpos = data.qpos, qvel = data.qvel
        let joints = robot.manifest.joints
        var torques = [Double](repeating: 0, count: joints.count)
        for (k, a) in robot.actuatorIDs.enumerated() { torques[robot.actuatedJointIndex[k]] = data.actuatorForce[a] }
        var state = RobotState(time: data.time,
                               jointPositions: robot.qposAddress.map { qpos[$0] },
                               jointVelocities: robot.dofAddress.map { qvel[$0] },
                               jointTorques: torques)
        if let base = robot.baseSensors {
            let q = data.sensor(base.orientation), w = data.sensor(base.gyro)
            state.baseOrientation = SIMD4(q[0], q[1], q[2], q[3])
            state.baseAngularVelocity = SIMD3(w[0], w[1], w[2])
            if let slot = base.accelerometer { let a = data.sensor(slot); state.baseAcceleration = SIMD3(a[0], a[1], a[2]) }
            state.footContacts = base.feet.map { data.sensor($0)[0] > 0 }
            let p = base.freeJointQposAddress, v = base.freeJointDofAddress
            state.basePosition = SIMD3(qpos[p], qpos[p + 1], qpos[p + 2])
            let worldVelocity = SIMD3(qvel[v], qvel[v + 1], qvel[v + 2])
            state.baseLinearVelocity = Rotation.worldToBody(worldVelocity, orientation: SIMD4(qpos[p + 3], qpos[p + 4], qpos[p + 5], qpos[p + 6]))
        }
        return state
    }
}
