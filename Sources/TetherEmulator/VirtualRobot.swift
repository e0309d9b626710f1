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
/// - Motor drivers, at the physics rate: dead time, the PD law on the driver's own encoder
///   (backlash dead band, encoder offset), a first-order lag on the torque, saturation, and the
///   thermal loss of torque constant. The torque is written to `ctrl` directly.
/// - Sensors, at the publish rate: bias, drift, noise and quantization of the joints, IMU noise
///   and bias, orientation noise, dropouts, and a publisher that can stall.
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
    private let offsets: [Double]
    private let lagAlpha: Double

    // Link and driver state.
    private var commandQueue: [(effective: Double, command: JointCommand)] = []
    private var active: JointCommand
    private var stateQueue: [(arrival: Double, state: RobotState)] = []
    private var delivered: (state: RobotState, receivedAt: Double)?
    private var laggedTorque: [Double]
    /// Winding temperature above ambient per actuated joint, K.
    private var temperature: [Double]
    /// Motor-side position per joint (the joint position seen through the backlash), rad.
    private var motorPosition: [Double]
    // Sensor state.
    private var drift: [Double]
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
        self.offsets = offsets.isEmpty ? [Double](repeating: 0, count: robot.manifest.joints.count) : offsets
        let tau = truth.actuators.lagTimeConstant
        lagAlpha = tau > 0 ? 1 - Foundation.exp(-dt / tau) : 1
        let start = clock.now()
        clockOffset = start - sim.data.time
        advancedTo = start
        active = sim.command
        let n = patched.actuatorIDs.count
        laggedTorque = [Double](repeating: 0, count: n)
        temperature = [Double](repeating: 0, count: n)
        motorPosition = patched.qposAddress.map { sim.data.qpos[$0] }
        drift = [Double](repeating: 0, count: robot.manifest.joints.count)
        nextPublish = sim.data.time
        commandRandom = SeededRandom(seed: truth.seed, stream: 1)
        stateLinkRandom = SeededRandom(seed: truth.seed, stream: 2)
        sensorRandom = SeededRandom(seed: truth.seed, stream: 3)
        watchdog = CommandWatchdog(configuration: .init(manifest: robot.manifest, timeout: commandTimeout, dampingSeconds: dampingSeconds))
        // The driver's torque starts where the simulation's is (zero after lying down).
        for (k, a) in patched.actuatorIDs.enumerated() {
            laggedTorque[k] = patched.drives[k] == .motor ? sim.data.ctrl[a] : sim.data.actuatorForce[a]
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
        let arrival = sentAt + delay(&commandRandom)
        let effective = arrival + truth.actuators.deadTime
        let index = commandQueue.firstIndex { $0.effective > effective } ?? commandQueue.endIndex
        commandQueue.insert((effective, command), at: index)
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
        while let first = commandQueue.first, first.effective <= t + 1e-9 {
            commandQueue.removeFirst()
            active = first.command
            watchdog.commandArrived(at: first.effective)
        }
        let robot = sim.robot
        let qpos = sim.data.qpos, qvel = sim.data.qvel, ctrl = sim.data.ctrl
        followBacklash()
        let a = truth.actuators
        let c = watchdog.check(at: t, positions: active.positions) ?? active
        for k in 0..<robot.actuatorIDs.count {
            let j = robot.actuatedJointIndex[k]
            let q = motorPosition[j] + offsets[j], qd = qvel[robot.dofAddress[j]]
            let limit = robot.torqueLimits[k]
            var tau = c.kp[k] * (c.positions[k] - q) + c.kd[k] * (c.velocities[k] - qd) + c.torques[k]
            tau = tau.isNaN ? 0 : min(limit, max(-limit, tau))
            laggedTorque[k] += lagAlpha * (tau - laggedTorque[k])
            let peak = limit * a.saturation
            var out = min(peak, max(-peak, laggedTorque[k]))
            out *= max(0, 1 - a.thermal.lossPerKelvin * temperature[k])
            // A position servo gets the target at which it gives this torque (the true joint's state).
            ctrl[robot.actuatorIDs[k]] = robot.hasServos ? robot.control(actuated: k, torque: out, position: qpos[robot.qposAddress[j]], velocity: qd) : out
            temperature[k] += dt * (a.thermal.heating * out * out - temperature[k] / a.thermal.coolingTime)
        }
        sim.holdMount()
        sim.data.step()
        publishIfDue()
    }

    /// Moves each motor-side position to within half the backlash of its joint's position.
    private func followBacklash() {
        let qpos = sim.data.qpos
        let half = truth.actuators.backlash / 2
        for (j, address) in sim.robot.qposAddress.enumerated() {
            let q = qpos[address]
            if q - motorPosition[j] > half { motorPosition[j] = q - half }
            else if q - motorPosition[j] < -half { motorPosition[j] = q + half }
        }
    }

    /// Measures, corrupts and sends a state if the publish instant has come.
    private func publishIfDue() {
        let t = sim.data.time
        guard t + 1e-9 >= nextPublish else { return }
        while nextPublish <= t + 1e-9 { nextPublish += publishPeriod }
        let s = truth.sensors
        // The drift walks whether or not the sample is sent.
        if s.positionDrift > 0 {
            let step = s.positionDrift * publishPeriod.squareRoot()
            for j in drift.indices { drift[j] += sensorRandom.gaussian(standardDeviation: step) }
        }
        if s.dropout > 0, sensorRandom.uniform() < s.dropout { return }
        if let stall = truth.link.stall, t >= stall.start - 1e-9, t < stall.start + stall.duration - 1e-9 { return }
        let link = truth.link
        if link.stateLoss > 0, stateLinkRandom.uniform() < link.stateLoss { return }
        let state = measure()
        let arrival = t + delay(&stateLinkRandom)
        let index = stateQueue.firstIndex { $0.arrival > arrival } ?? stateQueue.endIndex
        stateQueue.insert((arrival, state), at: index)
    }

    /// The state as the robot's sensors report it (positions, velocities and time of the same
    /// instant: the motor side follows the joint before it is read).
    private func measure() -> RobotState {
        followBacklash()
        var state = sim.state()
        let s = truth.sensors
        for j in state.jointPositions.indices {
            var q = motorPosition[j] + offsets[j] + s.positionBias + drift[j]
            if s.positionNoise > 0 { q += sensorRandom.gaussian(standardDeviation: s.positionNoise) }
            if s.resolution > 0 { q = (q / s.resolution).rounded() * s.resolution }
            state.jointPositions[j] = q
            var qd = state.jointVelocities[j] + s.velocityBias
            if s.velocityNoise > 0 { qd += sensorRandom.gaussian(standardDeviation: s.velocityNoise) }
            state.jointVelocities[j] = qd
        }
        if let w = state.baseAngularVelocity { state.baseAngularVelocity = w + s.gyroBias + noise3(s.gyroNoise) }
        if let f = state.baseAcceleration { state.baseAcceleration = f + s.accelerometerBias + noise3(s.accelerometerNoise) }
        if let q = state.baseOrientation, s.orientationNoise > 0 {
            let e = noise3(s.orientationNoise) / 2
            var d = Self.multiply(q, SIMD4(1, e.x, e.y, e.z))
            d /= (d * d).sum().squareRoot()
            state.baseOrientation = d
        }
        return state
    }

    private func noise3(_ sd: Double) -> SIMD3<Double> {
        guard sd > 0 else { return .zero }
        return SIMD3(sensorRandom.gaussian(standardDeviation: sd), sensorRandom.gaussian(standardDeviation: sd),
                     sensorRandom.gaussian(standardDeviation: sd))
    }

    /// Latency ± a uniform jitter, never negative.
    private func delay(_ random: inout SeededRandom) -> Double {
        let link = truth.link
        guard link.jitter > 0 else { return link.latency }
        return max(0, link.latency + random.uniform(-link.jitter, link.jitter))
    }

    /// Hamilton product of (w, x, y, z) quaternions.
    private static func multiply(_ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
        SIMD4(a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
              a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
              a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
              a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0])
    }
}
