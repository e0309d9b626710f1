import Foundation
import TetherCore
import TetherSim

/// How an episode ended, and what it earned.
public struct EpisodeResult: Sendable, Codable, Equatable {
    /// Sum of rewards.
    public var totalReward: Double
    /// Control steps taken.
    public var steps: Int
    /// Simulated duration, s.
    public var seconds: Double
    /// Whether the task's success criterion was met.
    public var success: Bool
    /// Why it ended: "timeout", "fall", "pole", "limit", "diverged", "error".
    public var outcome: String
    /// Forward distance of the base (walking), or largest |cart position| (balance), m.
    public var distance: Double
    /// Mean forward speed, m/s (walking).
    public var meanSpeed: Double
    /// Sideways drift of the base, world y at the end minus at the start, m (walking).
    public var lateralDrift: Double? = nil
    /// Heading change of the base, yaw at the end minus at the start (wrapped to ±π), rad (walking).
    public var headingChange: Double? = nil
    /// Mean base height over the episode's control steps, m (walking).
    public var meanBaseHeight: Double? = nil
}

/// A measured state an episode starts from (a moment of a flight recording), manifest order, SI.
public struct EpisodeStart: Sendable, Codable, Equatable {
    public var jointPositions: [Double]
    public var jointVelocities: [Double]
    /// Base orientation (w, x, y, z), world frame.
    public var baseOrientation: [Double]?
    /// Base angular velocity in the base (IMU) frame, rad/s.
    public var baseAngularVelocity: [Double]?
    /// Time since the policy started, s (the phase of a gait generator).
    public var policyTime: Double
    /// The policy's previous action, if recorded.
    public var lastAction: [Double]?
    /// A recurrent policy's state at that moment (`PolicyRuntime.recurrentState`), if recorded;
    /// nil: the episode starts from zeros.
    public var policyState: [Float]?

    public init(jointPositions: [Double], jointVelocities: [Double], baseOrientation: [Double]? = nil,
                baseAngularVelocity: [Double]? = nil, policyTime: Double = 0, lastAction: [Double]? = nil, policyState: [Float]? = nil) {
        self.jointPositions = jointPositions; self.jointVelocities = jointVelocities; self.baseOrientation = baseOrientation
        self.baseAngularVelocity = baseAngularVelocity; self.policyTime = policyTime; self.lastAction = lastAction
        self.policyState = policyState
    }
}

/// One control step of an episode as it happened, for whoever watches it (the gate's replay into
/// a flight recording, `GateSimulation.record`). The first step an observer sees is the start
/// (time 0, the state only).
public struct EpisodeStep {
    /// Simulated time at the end of the step, s.
    public var time: Double
    /// The state the step ended in (the true state: the policy saw it with noise).
    public var state: RobotState
    public var observation: [Float]?
    /// The policy's raw action.
    public var action: [Float]?
    /// The command as applied (after the sample's gain scaling).
    public var command: JointCommand?
    /// A push that started during this step: its horizontal force on the base, N.
    public var push: SIMD2<Double>?
}

/// Runs one episode of a manifest's task on a `SimRobot` with a policy, as training, validation
/// and `tether sim --policy` all do.
public struct EpisodeRunner: Sendable {
    /// The task (from the manifest, possibly with a shorter episode for training).
    public var task: Manifest.Task
    /// Observation noise multiplier (0 = none; training uses 1 times the manifest's noise).
    public var noiseScale: Double
    /// Randomization spec for pushes (model edits and the rest come from the sample).
    public var pushes: RandomizationSpec.Pushes?

    /// Creates a runner for `task`.
    /// Start from a measured state instead of the task's initial state (replays of recorded
    /// failures); nil: the task's start with its initial noise.
    public var start: EpisodeStart?

    public init(task: Manifest.Task, noiseScale: Double = 0, pushes: RandomizationSpec.Pushes? = nil) {
        self.task = task
        self.noiseScale = noiseScale
        self.pushes = pushes
    }

    /// Observations visited, for ARS's running normalization (optional).
    public struct ObservationStats: Sendable {
        public var count = 0.0
        public var sum: [Double]
        public var sumOfSquares: [Double]
        public init(size: Int) {
            sum = .init(repeating: 0, count: size)
            sumOfSquares = .init(repeating: 0, count: size)
        }
        mutating func add(_ x: [Float]) {
            count += 1
            for i in x.indices { let v = Double(x[i]); sum[i] += v; sumOfSquares[i] += v * v }
        }
        /// Adds another set of statistics.
        public mutating func merge(_ o: ObservationStats) {
            count += o.count
            for i in sum.indices { sum[i] += o.sum[i]; sumOfSquares[i] += o.sumOfSquares[i] }
        }
    }

    /// Runs one episode. The model of `sim` must already carry the sample's edits. `observe` sees
    /// the start and every control step; it changes nothing in the episode (the same seed gives the
    /// same result with or without it).
    public func run<P: PolicyRuntime>(sim: SimRobot, policy: inout P, sample: RandomizationSample = .nominal,
                                      random: inout SeededRandom, stats: UnsafeMutablePointer<ObservationStats>? = nil,
                                      observe: ((EpisodeStep) -> Void)? = nil) -> EpisodeResult {
        let manifest = sim.robot.manifest
        sim.reset()
        if let start = self.start {
            sim.place(jointPositions: start.jointPositions, jointVelocities: start.jointVelocities,
                      baseOrientation: start.baseOrientation.map { SIMD4($0[0], $0[1], $0[2], $0[3]) },
                      baseAngularVelocity: start.baseAngularVelocity.map { SIMD3($0[0], $0[1], $0[2]) })
        } else if task.initialNoise > 0 {
            for (i, _) in manifest.joints.enumerated() {
                sim.data.qpos[sim.robot.qposAddress[i]] += random.uniform(-task.initialNoise, task.initialNoise)
            }
            sim.data.forward()
        }
        // An episode starts from a fresh memory: zeros for a recurrent policy's state (or the
        // recorded state of the moment a replayed failure starts from).
        policy.reset()
        if let recorded = self.start?.policyState, !recorded.isEmpty, (try? policy.setRecurrentState(recorded)) == nil {
            return EpisodeResult(totalReward: 0, steps: 0, seconds: 0, success: false, outcome: "error", distance: 0, meanSpeed: 0)
        }
        var builder = ObservationBuilder(manifest: manifest)
        let mapper = ActionMapper(manifest: manifest)
        var lastAction = self.start?.lastAction.map { $0.map(Float.init) } ?? [Float](repeating: 0, count: manifest.actionSize)
        if lastAction.count != manifest.actionSize { lastAction = [Float](repeating: 0, count: manifest.actionSize) }
        let policyTimeOffset = self.start?.policyTime ?? 0
        let controlSteps = Int((task.episodeSeconds * manifest.rates.controlHz).rounded())
        let dt = 1 / manifest.rates.controlHz
        let decimation = sim.decimation
        let latencySteps = Int((sample.actionLatency / sim.robot.model.timestep).rounded())
        var pending: [(at: Int, command: JointCommand)] = []  // physics-step index when a command takes effect
        var physicsStep = 0
        let start = sim.state()
        let startX = start.basePosition?.x ?? 0
        var totalReward = 0.0, outcome = "timeout", steps = 0, farthest = 0.0
        var heightSum = 0.0, heightCount = 0
        var nextPush = pushes.map { random.uniform($0.interval.lowerBound, $0.interval.upperBound) } ?? .infinity
        var pushForce = SIMD2<Double>.zero, pushUntil = -1.0
        let baseBody = sim.robot.baseSensors?.bodyID
        let balanceIndex = task.balanceJoint.flatMap { name in manifest.joints.firstIndex { $0.name == name } }

        // The state the policy sees is the one the previous step ended in (nothing moves between
        // them): read once per control step.
        var state = start
        observe?(EpisodeStep(time: 0, state: start))
        episode: for step in 0..<controlSteps {
            let observation: [Float]
            do {
                observation = try builder.build(state: state, command: task.command, lastAction: lastAction,
                        policyTime: policyTimeOffset + Double(step) * dt, noiseScale: noiseScale * sample.observationNoise, random: &random)
            } catch { outcome = "error"; break episode }
            stats?.pointee.add(observation)
            guard let action = try? policy.act(observation), var command = try? mapper.command(for: action) else { outcome = "error"; break episode }
            lastAction = action
            if sample.kpScale != 1 || sample.kdScale != 1 {
                for k in command.kp.indices { command.kp[k] *= sample.kpScale; command.kd[k] *= sample.kdScale }
            }
            pending.append((physicsStep + latencySteps, command))
            // Pushes.
            let t = sim.data.time
            var pushed: SIMD2<Double>?
            if let pushes, baseBody != nil, t >= nextPush {
                let magnitude = random.uniform(pushes.force.lowerBound, pushes.force.upperBound)
                let angle = random.uniform(0, 2 * .pi)
                pushForce = SIMD2(magnitude * cos(angle), magnitude * sin(angle))
                pushUntil = t + pushes.duration
                pushed = pushForce
                nextPush = t + random.uniform(pushes.interval.lowerBound, pushes.interval.upperBound)
            }
            if let baseBody {
                let active = t < pushUntil
                sim.data.appliedBodyForces[6 * baseBody] = active ? pushForce.x : 0
                sim.data.appliedBodyForces[6 * baseBody + 1] = active ? pushForce.y : 0
            }
            for _ in 0..<decimation {
                while let first = pending.first, first.at <= physicsStep {
                    try? sim.apply(first.command)
                    pending.removeFirst()
                }
                sim.stepPhysics(1)
                physicsStep += 1
            }
            steps += 1
            if sim.data.isDiverged { outcome = "diverged"; break episode }
            let next = sim.state()
            state = next
            observe?(EpisodeStep(time: Double(step + 1) * dt, state: next, observation: observation, action: action, command: command, push: pushed))
            // Reward and termination.
            switch task.kind {
            case .balance:
                let angle = balanceIndex.map { next.jointPositions[$0] } ?? 0
                let x = next.jointPositions.first ?? 0
                farthest = max(farthest, abs(x))
                totalReward += 1 - 0.1 * x * x - 0.01 * Double(action.map { $0 * $0 }.reduce(0, +))
                if abs(angle) > task.maxAngle { outcome = "pole"; break episode }
                if let limits = manifest.joints.first?.positionLimits, !limits.contains(x) { outcome = "limit"; break episode }
            case .walk:
                let v = next.baseLinearVelocity ?? .zero, w = next.baseAngularVelocity ?? .zero
                let c = task.command
                let tracking = exp(-((v.x - c.x) * (v.x - c.x) + (v.y - c.y) * (v.y - c.y)) / 0.05)
                let yaw = exp(-(w.z - c.z) * (w.z - c.z) / 0.2)
                let g = next.projectedGravity ?? SIMD3(0, 0, -1)
                let torque = next.jointTorques.reduce(0) { $0 + $1 * $1 }
                let heading = Rotation.wrap((next.yaw ?? 0) - (start.yaw ?? 0) - c.z * Double(step + 1) * dt)
                totalReward += (1.0 * tracking + 0.5 * yaw - 1.0 * heading * heading - 0.5 * (g.x * g.x + g.y * g.y) - 2e-4 * torque) * dt * 50
                let height = next.basePosition?.z ?? 1
                if let z = next.basePosition?.z { heightSum += z; heightCount += 1 }
                if (next.tilt ?? 0) > manifest.safety.tiltLimit || height < task.minBaseHeight { outcome = "fall"; break episode }
            }
        }
        let end = sim.state()
        let distance = task.kind == .walk ? (end.basePosition?.x ?? 0) - startX : farthest
        let seconds = Double(steps) * dt
        let success: Bool
        switch task.kind {
        case .balance: success = outcome == "timeout"
        case .walk: success = outcome == "timeout" && distance >= task.successDistance
        }
        var result = EpisodeResult(totalReward: totalReward, steps: steps, seconds: seconds, success: success, outcome: outcome,
                                   distance: distance, meanSpeed: seconds > 0 ? distance / seconds : 0)
        if task.kind == .walk {
            if let p0 = start.basePosition, let p1 = end.basePosition { result.lateralDrift = p1.y - p0.y }
            if let y0 = start.yaw, let y1 = end.yaw { result.headingChange = Rotation.wrap(y1 - y0) }
            if heightCount > 0 { result.meanBaseHeight = heightSum / Double(heightCount) }
        }
        return result
    }
}
