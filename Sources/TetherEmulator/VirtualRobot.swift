import Foundation
import TetherCore
import TetherRuntime
import TetherSim

/// The virtual robot: a MuJoCo world with hidden imperfections (`Truth`) behind the `Robot`
/// protocol, driven by the runtime exactly like `SimulatedRobot`.
///
/// - Physics: a private copy of the robot's model, edited through `SimParameter` (friction, mass,
///   payload, centre of mass, joint damping and friction loss).
/// - Link: each command arrives after the latency ± jitter, or is lost; each state likewise.
/// - Motor drivers, at the physics rate: the `ActuatorModel` every simulated robot composes, with
///   the truth's values (dead time, the PD law on the driver's own encoder: backlash dead band and
///   encoder offset, a first-order lag on the torque, saturation, thermal derating). The torque
///   is written to `ctrl` directly.
/// - Sensors, at the publish rate: the `SensorModel` every simulated robot composes, with the
///   truth's values (bias, drift, noise and quantization of the joints, IMU noise and bias,
///   orientation noise, dropouts), and a publisher that can stall.
///
/// - Command timeout, like a real driver's (`CommandWatchdog`): when no command has reached the
///   driver for `commandTimeout` of robot time (default 0.1 s), a damping stop, then zero torque;
///   a controller that dies never leaves its last targets applied.
///
/// The truth is hidden: nothing in the `Robot` API exposes it, so calibration only ever sees what
/// a real robot would give, recorded states for the commands sent. (Base position and linear
/// velocity stay in the state as simulation ground truth, like a motion-capture system; nothing on
/// the deployment path uses them.)
public final class VirtualRobot: Robot {
    public let manifest: Manifest

    private let sim: SimRobot
    private let truth: Truth
    private let clock: ControlClock
    /// Runtime clock time = robot (simulation) time + offset.
    private let clockOffset: Double
    private var advancedTo: Double
    private let dt: Double
    private let publishPeriod: Double
    /// The motor drivers (the truth's actuators).
    private let actuator: ActuatorModel
    /// The sensors (the truth's).
    private let sensors: SensorModel

    // Link and driver state.
    private var active: JointCommand
    private var stateQueue: [(arrival: Double, state: RobotState)] = []
    private var delivered: (state: RobotState, receivedAt: Double)?
    /// Commands in flight through the link and the dead time, lagged torque, temperature, motor side.
    private var actuatorState: ActuatorState
    // Sensor state.
    private var sensorState: SensorState
    private var nextPublish: Double
    // Independent random streams, so changing one model does not change the others' draws.
    private var commandRandom: SeededRandom
    private var stateLinkRandom: SeededRandom
    private var sensorRandom: SeededRandom
    private var watchdog: CommandWatchdog
    /// The robot-side command watchdog's mode (what a real driver shows on its status LED).
    public var commandWatchdogMode: CommandWatchdog.Mode { watchdog.mode }
    /// How many times the robot-side command timeout fired.
    public var commandTimeouts: Int { watchdog.timeouts }

    /// Creates the virtual robot for `robot` with the hidden `truth`. The simulation's time zero is
    /// the clock's current time. `layDown`: start lying on the ground with zero torque (as a real
    /// quadruped is powered on); otherwise at the initial pose holding it. `hungAt`: hang the
    /// robot on a gantry at that base height instead (system-identification experiments,
    /// `SimRobot.hang(height:)`). `commandTimeout`: the driver's own command timeout, s of robot
    /// time; `dampingSeconds`: its damping stop's duration before zero torque.
    public init(robot: RobotModel, truth: Truth, clock: ControlClock, layDown: Bool = true, hungAt height: Double? = nil,
                commandTimeout: Double? = nil, dampingSeconds: Double = 2) throws {
        guard (commandTimeout ?? 1) > 0, (commandTimeout ?? 1).isFinite, dampingSeconds >= 0, dampingSeconds.isFinite else {
            throw TetherError("command timeout \(commandTimeout ?? 0.1) s / damping \(dampingSeconds) s are not valid durations", at: robot.manifest.name,
                              hint: "a positive timeout (default 0.1 s, or three control periods below 30 Hz) and a non-negative damping time")
        }
        let offsets = truth.sensors.encoderOffsets
        guard offsets.isEmpty || offsets.count == robot.manifest.joints.count else {
            throw TetherError("the truth has \(offsets.count) encoder offsets, the robot has \(robot.manifest.joints.count) joints",
                              at: truth.sourcePath ?? truth.name, hint: "one offset per joint in manifest order, or none")
        }
        let patched = robot.with(model: robot.model.copy())
        try Self.applyPhysics(truth.physics, to: patched)
        let sim = SimRobot(robot: patched)
        if let height { sim.hang(height: height) } else if layDown { sim.layDown() }
        self.sim = sim
        self.truth = truth
        self.clock = clock
        manifest = robot.manifest
        dt = patched.model.timestep
        publishPeriod = 1 / truth.sensors.publishHz
        actuator = ActuatorModel(truth.actuators, timestep: dt)
        sensors = SensorModel(truth.sensors)
        let start = clock.now()
        clockOffset = start - sim.data.time
        advancedTo = start
        active = sim.command
        actuatorState = ActuatorState(actuatedJoints: patched.actuatorIDs.count, jointPositions: patched.qposAddress.map { sim.data.qpos[$0] })
        sensorState = SensorState(joints: robot.manifest.joints.count)
        nextPublish = sim.data.time
        commandRandom = SeededRandom(seed: truth.seed, stream: 1)
        stateLinkRandom = SeededRandom(seed: truth.seed, stream: 2)
        sensorRandom = SeededRandom(seed: truth.seed, stream: 3)
        watchdog = CommandWatchdog(configuration: .init(manifest: robot.manifest, timeout: commandTimeout, dampingSeconds: dampingSeconds))
        // The driver's torque starts where the simulation's is (zero after lying down).
        for (k, a) in sim.robot.actuatorIDs.enumerated() {
            actuatorState.torques[k] = sim.robot.drives[k] == .motor ? sim.data.ctrl[a] : sim.data.actuatorForce[a]
        }
        // The robot was publishing before the runtime connected: a first state is already there.
        delivered = (measure(), start)
        nextPublish = sim.data.time + publishPeriod
    }

    /// Applies the truth's physics edits to a robot's (private) model through `SimParameter`.
    static func applyPhysics(_ p: Truth.Physics, to robot: RobotModel) throws {
        let model = robot.model
        if p.frictionScale != 1 {
            for name in model.names(of: .geom) {
                try model.set(.geomFriction(name), try model.get(.geomFriction(name)).map { $0 * p.frictionScale })
            }
        }
        if p.massScale != 1 {
            for id in 1..<model.nbody {
                guard let name = model.name(of: .body, id) else { continue }
                try scaleMass(of: name, by: p.massScale, in: model)
            }
        }
        if let base = robot.manifest.base?.body {
            if p.payload > 0 {
                let mass = try model.get(.bodyMass(base))[0]
                try scaleMass(of: base, by: (mass + p.payload) / mass, in: model)
            }
            if p.baseCenterOfMassOffset != .zero {
                let c = try model.get(.bodyCenterOfMass(base))
                let o = p.baseCenterOfMassOffset
                try model.set(.bodyCenterOfMass(base), [c[0] + o.x, c[1] + o.y, c[2] + o.z])
            }
        }
        for joint in robot.manifest.joints {
            if let d = p.jointDamping { try model.set(.jointDamping(joint.name), [d]) }
            if let f = p.jointFrictionLoss { try model.set(.jointFrictionLoss(joint.name), [f]) }
        }
    }

    private static func scaleMass(of body: String, by factor: Double, in model: SimModel) throws {
        let mass = try model.get(.bodyMass(body))[0]
        guard mass > 0 else { return }
        try model.set(.bodyMass(body), [mass * factor])
        try model.set(.bodyInertia(body), try model.get(.bodyInertia(body)).map { $0 * factor })
    }

    // MARK: What a virtual camera sees (not part of `Robot`: a controller never sees the truth)

    /// The simulated robot's model (the truth's edits applied), for rendering it.
    public var renderModel: SimModel { sim.robot.model }
    /// The robot model bound to it (the manifest's index maps).
    public var robotModel: RobotModel { sim.robot }

    /// Copies the true configuration (MuJoCo qpos) into `buffer` and returns the simulation time.
    public func copyConfiguration(into buffer: inout [Double]) -> Double {
        let q = sim.data.qpos
        if buffer.count != q.count { buffer = [Double](repeating: 0, count: q.count) }
        for i in 0..<q.count { buffer[i] = q[i] }
        return sim.data.time + clockOffset
    }

    // MARK: Robot

    public func latestState() throws -> (state: RobotState, receivedAt: Double)? {
        let now = advancedTo - clockOffset
        while let first = stateQueue.first, first.arrival <= now + 1e-9 {
            stateQueue.removeFirst()
            // Never later than the time advanced to (simulation time plus an offset rounds).
            delivered = (first.state, min(advancedTo, first.arrival + clockOffset))
        }
        return delivered
    }

    public func send(_ command: JointCommand) throws {
        guard command.count == sim.robot.actuatorIDs.count else {
            throw TetherError("command has \(command.count) joints, the robot has \(sim.robot.actuatorIDs.count) actuated joints",
                              at: manifest.name)
        }
        let sentAt = max(clock.now(), advancedTo) - clockOffset
        let link = truth.link
        if link.commandLoss > 0, commandRandom.uniform() < link.commandLoss { return }
        actuator.schedule(command, arrivingAt: sentAt + delay(&commandRandom), in: &actuatorState)
    }

    public func advance(to time: Double) throws {
        let steps = Int(((time - clockOffset - sim.data.time) / dt + 1e-6).rounded(.down))
        for _ in 0..<max(0, steps) { stepOnce() }
        advancedTo = max(advancedTo, time)
    }

    // MARK: models

    /// One physics step: commands that reached the driver, the driver's torque, the step, the sensors.
    private func stepOnce() {
        let t = sim.data.time
        while let due = actuatorState.takeDue(at: t) {
            active = due.command
            watchdog.commandArrived(at: due.effective)
        }
        let robot = sim.robot
        let qpos = sim.data.qpos, qvel = sim.data.qvel, ctrl = sim.data.ctrl
        followBacklash()
        let c = watchdog.check(at: t, positions: active.positions) ?? active
        for k in 0..<robot.actuatorIDs.count {
            let j = robot.actuatedJointIndex[k]
            // The driver reads its own encoder: the motor side, with the encoder's offset.
            let q = actuatorState.motorPositions[j] + sensors.encoderOffset(joint: j), qd = qvel[robot.dofAddress[j]]
            let out = actuator.torque(actuated: k, command: c, position: q, velocity: qd, limit: robot.torqueLimits[k], in: &actuatorState)
            // A position servo gets the target at which it gives this torque (the true joint's state).
            ctrl[robot.actuatorIDs[k]] = robot.hasServos ? robot.control(actuated: k, torque: out, position: qpos[robot.qposAddress[j]], velocity: qd) : out
        }
        sim.holdMount()
        sim.data.step()
        publishIfDue()
    }

    /// Moves each motor-side position to within half the backlash of its joint's position.
    private func followBacklash() {
        let qpos = sim.data.qpos
        for (j, address) in sim.robot.qposAddress.enumerated() { _ = actuator.followBacklash(joint: j, position: qpos[address], in: &actuatorState) }
    }

    /// Measures, corrupts and sends a state if the publish instant has come.
    private func publishIfDue() {
        let t = sim.data.time
        guard t + 1e-9 >= nextPublish else { return }
        while nextPublish <= t + 1e-9 { nextPublish += publishPeriod }
        // The drift walks whether or not the sample is sent.
        sensors.walkDrift(over: publishPeriod, in: &sensorState, random: &sensorRandom)
        if sensors.dropsSample(random: &sensorRandom) { return }
        if let stall = truth.link.stall, t >= stall.start - 1e-9, t < stall.start + stall.duration - 1e-9 { return }
        let link = truth.link
        if link.stateLoss > 0, stateLinkRandom.uniform() < link.stateLoss { return }
        let state = measure()
        let arrival = t + delay(&stateLinkRandom)
        let index = stateQueue.firstIndex { $0.arrival > arrival } ?? stateQueue.endIndex
        stateQueue.insert((arrival, state), at: index)
    }

    /// The state as the robot's sensors report it (positions, velocities and time of the same
    /// instant: the motor side follows the joint before it is read, and the encoders sit there).
    private func measure() -> RobotState {
        followBacklash()
        var exact = sim.state()
        exact.jointPositions = actuatorState.motorPositions
        return sensors.measure(exact, state: sensorState, random: &sensorRandom)
    }

    /// Latency ± a uniform jitter, never negative.
    private func delay(_ random: inout SeededRandom) -> Double {
        let link = truth.link
        guard link.jitter > 0 else { return link.latency }
        return max(0, link.latency + random.uniform(-link.jitter, link.jitter))
    }
}
