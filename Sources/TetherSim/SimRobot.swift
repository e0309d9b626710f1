import CMuJoCo
import Foundation
import TetherCore

/// A robot simulated in-process by MuJoCo: reads state in manifest order, takes joint commands,
/// and runs its motor drivers (`ActuatorModel`, the PD law and what a driver adds to it) at the
/// physics rate inside each control step (the decimation). The state it reports is exact; a
/// `SensorModel` corrupts it where a robot's sensors should (`SimulatedRobot`, the virtual robot).
public final class SimRobot {
    /// The robot's model and index maps (a private copy once hung: `hang(height:)`).
    public private(set) var robot: RobotModel
    /// The simulation data.
    public private(set) var data: SimData
    /// The command applied at every physics step until the next one arrives.
    public private(set) var command: JointCommand
    /// The motor drivers between a command and the joint torque (default: the ideal driver).
    public var actuator: ActuatorModel {
        didSet { isIdealDriver = actuator.passesTorqueThrough && actuator.backlash == 0 }
    }
    /// The motor drivers' state (pending commands, lagged torque, temperature, motor side).
    public private(set) var actuatorState: ActuatorState
    /// Whether the driver is the ideal one (no lag, saturation, derating or backlash): the PD law
    /// alone, with no state to keep. Kept in step with `actuator`.
    private var isIdealDriver = true
    /// The dead time and lag of the motor drivers (what calibration fits); setting it keeps the
    /// actuator model's other effects.
    public var driver: DriverDynamics {
        get { actuator.driver }
        set { actuator = actuator.with(driver: newValue) }
    }
    /// The base pose held fixed while hung (`hang(height:)`), nil when free.
    public private(set) var mount: [Double]?
    /// Whether `robot.model` is this robot's own copy (made by the first `hang`).
    private var ownsModel = false

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
        actuator = ActuatorModel(timestep: robot.model.timestep)
        actuatorState = ActuatorState(actuatedJoints: robot.actuatorIDs.count, jointPositions: robot.qposAddress.map { data.qpos[$0] })
        reset()
    }

    /// Hangs a floating-base robot on a gantry, as system-identification experiments do (friction
    /// sweeps, torque steps and pendulum swings need the legs in the air): the base is held
    /// upright at `height` metres with zero velocity, and the base's six degrees of freedom get
    /// a very large armature so that the legs move as on a fixed base (their coupling to the base
    /// vanishes). The armature is set in a private copy of the model that this robot takes on its
    /// first hang (`robot` and `data` are then the copy's; the state carries over): a model shared
    /// with other robots is never changed. Fixed-base robots are left as they are.
    public func hang(height: Double = 0.8) {
        guard let base = robot.baseSensors else { return }
        takeOwnModel()
        let m = robot.model.raw
        for i in 0..<6 { m.pointee.dof_armature[base.freeJointDofAddress + i] = 1e6 }
        let p = base.freeJointQposAddress
        let pose = [0, 0, height, 1, 0, 0, 0]
        for i in 0..<7 { data.qpos[p + i] = pose[i] }
        for i in 0..<6 { data.qvel[base.freeJointDofAddress + i] = 0 }
        mount = pose
        data.forward()
    }

    /// Hangs a floating-base robot on a gantry at its default pose, its feet just above the
    /// ground (the lowest collision geometry 1 mm up): the start of robots that cannot stand up
    /// from lying, such as humanoids, whose operators hang them, stand them up in the air and
    /// lower them. `releaseGantry()` lets go. Hangs on the robot's own copy of the model, as `hang`
    /// does.
    public func hangStanding() {
        guard let base = robot.baseSensors else { return }
        place(jointPositions: robot.manifest.joints.map(\.defaultPosition),
              jointVelocities: [Double](repeating: 0, count: robot.manifest.joints.count),
              baseOrientation: SIMD4(1, 0, 0, 0), baseAngularVelocity: .zero)
        let height = data.qpos[base.freeJointQposAddress + 2]
        takeOwnModel()
        gantryArmature = (0..<6).map { robot.model.raw.pointee.dof_armature[base.freeJointDofAddress + $0] }
        hang(height: height)
        command = .zeroTorque(count: robot.actuatorIDs.count)
    }

    /// Lets go of the gantry (`hangStanding`): the base is free again, with the model's own
    /// armature; nothing happens when the robot is not hung that way.
    public func releaseGantry() {
        guard mount != nil, let base = robot.baseSensors, let armature = gantryArmature else { return }
        for i in 0..<6 { robot.model.raw.pointee.dof_armature[base.freeJointDofAddress + i] = armature[i] }
        mount = nil
        gantryArmature = nil
    }

    /// The base's armature before `hangStanding` (nil: not hung that way).
    private var gantryArmature: [Double]?

    /// Moves the robot onto its own copy of the model (once), carrying the simulation state over.
    private func takeOwnModel() {
        guard !ownsModel else { return }
        let own = robot.with(model: robot.model.copy())
        let copied = SimData(model: own.model)
        mj_copyData(copied.raw, own.model.raw, data.raw)
        robot = own
        data = copied
        ownsModel = true
    }

    /// Puts the base back on its mount (called before every physics step while hung).
    @inline(__always) public func holdMount() {
        guard let pose = mount, let base = robot.baseSensors else { return }
        let qpos = data.raw.pointee.qpos!, qvel = data.raw.pointee.qvel!
        for i in 0..<7 { qpos[base.freeJointQposAddress + i] = pose[i] }
        for i in 0..<6 { qvel[base.freeJointDofAddress + i] = 0 }
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
        if let pose = mount, let base = robot.baseSensors {
            for i in 0..<7 { data.qpos[base.freeJointQposAddress + i] = pose[i] }
        }
        if robot.hasServos {
            // No torque until the first step, as a motor's zero control means: each servo's
            // control is where it gives none (the keyframe's or zero control would pull).
            for (k, a) in robot.actuatorIDs.enumerated() {
                let j = robot.actuatedJointIndex[k]
                data.ctrl[a] = robot.control(actuated: k, torque: 0, position: data.qpos[robot.qposAddress[j]], velocity: data.qvel[robot.dofAddress[j]])
            }
        }
        data.forward()
        command = robot.manifest.defaultPoseCommand
        actuatorState.rest(jointPositions: robot.qposAddress.map { data.qpos[$0] })
    }

    /// Puts a floating-base robot on the ground in its manifest rest pose (`rest` per joint: legs
    /// folded, as a quadruped lies when powered off) and lets it settle for 1 s with zero torque.
    /// Fixed-base robots keep their pose.
    public func layDown() {
        var none = SeededRandom(seed: 0)
        layDown(jointNoise: 0, random: &none)
    }

    /// `layDown()` with each joint's rest angle moved by a uniform draw in ±`jointNoise` rad: trials
    /// on the simulated robot then start, like real ones, from slightly different poses.
    public func layDown(jointNoise: Double, random: inout SeededRandom) {
        guard let base = robot.baseSensors else { return }
        for (i, joint) in robot.manifest.joints.enumerated() {
            let noise = jointNoise > 0 ? random.uniform(-jointNoise, jointNoise) : 0
            data.qpos[robot.qposAddress[i]] = (joint.rest ?? joint.defaultPosition) + noise
        }
        data.qpos[base.freeJointQposAddress + 2] = 0.15
        data.forward()
        command = .zeroTorque(count: robot.actuatorIDs.count)
        stepPhysics(Int(1 / robot.model.timestep))
        data.time = 0
    }

    /// Puts the robot in a measured state (a moment of a flight recording): joint positions and
    /// velocities (manifest order), and for a floating base its orientation (w, x, y, z) and
    /// angular velocity in the base frame. A real robot does not measure where its base is, so
    /// the base is set over the origin at the height where its lowest collision geometry touches
    /// the ground (1 mm above), with zero linear velocity. The command is held at the default pose.
    public func place(jointPositions: [Double], jointVelocities: [Double], baseOrientation: SIMD4<Double>?,
                      baseAngularVelocity: SIMD3<Double>?) {
        reset()
        for i in robot.manifest.joints.indices where i < jointPositions.count {
            data.qpos[robot.qposAddress[i]] = jointPositions[i]
            if i < jointVelocities.count { data.qvel[robot.dofAddress[i]] = jointVelocities[i] }
        }
        guard let base = robot.baseSensors else { data.forward(); return }
        let p = base.freeJointQposAddress, v = base.freeJointDofAddress
        if let q = baseOrientation {
            let norm = (q * q).sum().squareRoot()
            if norm > 1e-9 { for k in 0..<4 { data.qpos[p + 3 + k] = q[k] / norm } }
        }
        for k in 0..<3 { data.qvel[v + k] = 0 }
        if let w = baseAngularVelocity { for k in 0..<3 { data.qvel[v + 3 + k] = w[k] } }
        data.qpos[p] = 0; data.qpos[p + 1] = 0
        data.forward()
        // Lowest point of every collision geometry of the robot (spheres exactly, others by their
        // bounding sphere), then shift the base so that it is 1 mm above the ground.
        let m = robot.model.raw.pointee, d = data.raw.pointee
        var lowest = Double.infinity
        for g in 0..<Int(m.ngeom) where m.geom_bodyid[g] != 0 && (m.geom_contype[g] != 0 || m.geom_conaffinity[g] != 0) {
            let z = d.geom_xpos[3 * g + 2]
            let reach = m.geom_type[g] == Int32(mjGEOM_SPHERE.rawValue) ? m.geom_size[3 * g] : m.geom_rbound[g]
            lowest = min(lowest, z - reach)
        }
        if lowest.isFinite { data.qpos[p + 2] += 0.001 - lowest }
        data.forward()
    }

    /// Sets the command to apply from now on (actuated-joint order).
    public func apply(_ command: JointCommand) throws {
        guard command.count == robot.actuatorIDs.count else {
            throw TetherError("command has \(command.count) joints, the robot has \(robot.actuatorIDs.count) actuated joints",
                              at: robot.manifest.name)
        }
        if actuator.deadTime > 0 {
            actuator.schedule(command, arrivingAt: data.time, in: &actuatorState)
        } else {
            self.command = command
        }
    }

    /// Called before each physics step, after the motor drivers have written the controls (nil:
    /// nothing). `tether bench validate` records a gate trial's controls and applied forces through
    /// it, to step the same physics again with nothing else around it (its bare baseline).
    public var beforePhysicsStep: ((SimData) -> Void)?

    /// Runs one control period: `decimation` physics steps, the PD torque recomputed before each.
    public func stepControl() {
        stepPhysics(decimation)
    }

    /// Runs `count` physics steps with the current command.
    public func stepPhysics(_ count: Int) {
        if let observe = beforePhysicsStep {
            data.step(count: count) { d in
                self.applyPD()
                observe(d)
            }
        } else {
            data.step(count: count) { _ in self.applyPD() }
        }
    }

    /// The motor drivers' torque (`ActuatorModel`: the PD law, clipped to the torque limit, through
    /// the dead time, backlash, lag, saturation and derating it has) into ctrl; the base held when
    /// hung. A position servo gets the control that makes it give that torque (`applyWithServos`).
    @inline(__always) func applyPD() {
        if mount != nil { holdMount() }
        if !actuatorState.pending.isEmpty {
            while let due = actuatorState.takeDue(at: data.time) { command = due.command }
        }
        if robot.hasServos {
            applyWithServos(command)
            return
        }
        let qpos = data.raw.pointee.qpos!, qvel = data.raw.pointee.qvel!, ctrl = data.raw.pointee.ctrl!
        if isIdealDriver {
            // The ideal driver (training's, and the nominal model's) is the clipped PD law and keeps
            // no state: computed here without touching `actuatorState`, on the hot path of every
            // rollout. The same law as `ActuatorModel.torque` (ActuatorModelTests checks they agree).
            let c = command
            for k in 0..<robot.actuatorIDs.count {
                let j = robot.actuatedJointIndex[k], limit = robot.torqueLimits[k]
                let tau = c.kp[k] * (c.positions[k] - qpos[robot.qposAddress[j]]) + c.kd[k] * (c.velocities[k] - qvel[robot.dofAddress[j]]) + c.torques[k]
                ctrl[robot.actuatorIDs[k]] = tau.isNaN ? 0 : min(limit, max(-limit, tau))
            }
            return
        }
        for k in 0..<robot.actuatorIDs.count {
            let j = robot.actuatedJointIndex[k]
            let q = actuator.followBacklash(joint: j, position: qpos[robot.qposAddress[j]], in: &actuatorState)
            ctrl[robot.actuatorIDs[k]] = actuator.torque(actuated: k, command: command, position: q, velocity: qvel[robot.dofAddress[j]],
                                                         limit: robot.torqueLimits[k], in: &actuatorState)
        }
    }

    /// `applyPD` for a robot with position servos. The torque is the motor drivers' as for a motor;
    /// a servo's control is the target at which the servo gives that torque at the current state,
    /// `q + (tau + kv qd) / kp`. When the command's gains are the servo's (every position-mode
    /// command the safety wrapper has not had to weaken) and the driver passes the torque through
    /// (no lag, saturation, derating or backlash), that is the command's own target,
    /// `target + (kd v + tau_ff) / kp`, kept inside the interval where the servo's torque stays
    /// within the limit: the servo then tracks the target as the model's author meant (MuJoCo's
    /// implicit integrators treat its kv implicitly).
    func applyWithServos(_ c: JointCommand) {
        let qpos = data.raw.pointee.qpos!, qvel = data.raw.pointee.qvel!, ctrl = data.raw.pointee.ctrl!
        let direct = isIdealDriver
        for k in 0..<robot.actuatorIDs.count {
            let j = robot.actuatedJointIndex[k]
            let q = qpos[robot.qposAddress[j]], qd = qvel[robot.dofAddress[j]]
            let limit = robot.torqueLimits[k]
            if direct, case .positionServo(let kp, let kv) = robot.drives[k], c.kp[k] == kp, c.kd[k] == kv {
                let target = c.positions[k] + (c.kd[k] * c.velocities[k] + c.torques[k]) / kp
                let low = q + (kv * qd - limit) / kp, high = q + (kv * qd + limit) / kp
                ctrl[robot.actuatorIDs[k]] = target.isNaN ? q + kv * qd / kp : min(high, max(low, target))
                continue
            }
            let reading = actuator.followBacklash(joint: j, position: q, in: &actuatorState)
            let tau = actuator.torque(actuated: k, command: c, position: reading, velocity: qd, limit: limit, in: &actuatorState)
            ctrl[robot.actuatorIDs[k]] = robot.control(actuated: k, torque: tau, position: q, velocity: qd)
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
            if let orientation = base.orientation, let gyro = base.gyro {
                let q = data.sensor(orientation), w = data.sensor(gyro)
                state.baseOrientation = SIMD4(q[0], q[1], q[2], q[3])
                state.baseAngularVelocity = SIMD3(w[0], w[1], w[2])
            } else {
                // `imu: floating_base`: the free joint's quaternion (normalized, as MuJoCo's
                // framequat is) and its rotational velocity, which MuJoCo keeps in the body frame.
                let p = base.freeJointQposAddress + 3, v = base.freeJointDofAddress + 3
                let q = SIMD4(qpos[p], qpos[p + 1], qpos[p + 2], qpos[p + 3])
                let norm = (q * q).sum().squareRoot()
                state.baseOrientation = norm > 0 ? q / norm : SIMD4(1, 0, 0, 0)
                state.baseAngularVelocity = SIMD3(qvel[v], qvel[v + 1], qvel[v + 2])
            }
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
