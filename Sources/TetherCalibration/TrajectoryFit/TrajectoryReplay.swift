import Foundation
import TetherCore
import TetherSim

/// A measured quantity of a joint.
package enum JointQuantity: String, Sendable, Codable, CaseIterable {
    case position, velocity, effort
}

/// One compared signal: a joint (manifest index) and a quantity.
struct CompareSignal: Sendable, Equatable {
    var joint: Int
    var quantity: JointQuantity
}

/// A recording checked against the robot and laid out for replay: initial state, commands after
/// the start, sample times, and the measured values of the compared signals.
package struct PreparedRecording: Sendable {
    package struct Command: Sendable {
        package var time: Double
        package var command: JointCommand
    }

    var source: String
    /// Base height of the gantry when the recording was made hung, nil otherwise.
    package var hangHeight: Double?
    package var startTime: Double
    /// Manifest order.
    package var initialPositions: [Double]
    package var initialVelocities: [Double]
    /// The command in force at the start.
    package var initialCommand: JointCommand
    /// Commands sent after the start, in time order.
    package var commands: [Command]
    /// Times at which the simulation is sampled.
    var sampleTimes: [Double]
    var signals: [CompareSignal]
    /// Measured values, signal-major (`signals.count × sampleTimes.count`); empty for a replay
    /// that only predicts.
    var measured: [Double]
    /// 1 / normalization scale, per signal.
    var weights: [Double]

    /// Number of residuals.
    var count: Int { signals.count * sampleTimes.count }

    /// Metadata key of the gantry height (m) a recording was made at; `tether experiment` writes it
    /// for hung experiments.
    static let hangKey = "hung_at"

    /// Checks a recording against the robot (every manifest joint present, sizes, times) and lays
    /// it out. `skipFirst`: leave out the first state, which is the initial condition. Efforts
    /// missing from the recording read as zero (callers compare them only when recorded).
    package init(_ r: ExperimentRecording, robot: RobotModel, joints compared: [Int]?, quantities: [JointQuantity],
         normalization: TrajectoryFit.Normalization, initialState: TrajectoryFit.InitialState, skipFirst: Bool) throws {
        let manifest = robot.manifest
        let place = r.source
        guard !r.states.isEmpty else {
            throw TetherError("the recording has no joint states", at: place, hint: "record the joint states of the experiment (at least two samples)")
        }
        guard r.states.count >= 2 else {
            throw TetherError("the recording has a single joint state; nothing to compare a trajectory with", at: place)
        }
        guard !r.commands.isEmpty else {
            throw TetherError("the recording has no commands; a replay needs what was sent", at: place, hint: "record the joint commands of the experiment")
        }
        // Recording order → manifest order.
        var column: [Int] = []
        for joint in manifest.joints {
            guard let i = r.jointNames.firstIndex(of: joint.name) else {
                throw TetherError("joint '\(joint.name)' of robot '\(manifest.name)' is missing from the recording", at: place,
                                  hint: "the recording's joints: \(r.jointNames.joined(separator: ", ")); record every joint of the manifest")
            }
            column.append(i)
        }
        if let extra = r.jointNames.first(where: { name in !manifest.joints.contains { $0.name == name } }) {
            throw TetherError("the recording has joint '\(extra)', which robot '\(manifest.name)' does not have", at: place,
                              hint: "the robot's joints: \(manifest.joints.map(\.name).joined(separator: ", "))")
        }
        let n = r.jointNames.count
        for (k, s) in r.states.enumerated() {
            guard s.positions.count == n, s.velocities.count == n, s.efforts.isEmpty || s.efforts.count == n else {
                throw TetherError("state \(k) has \(s.positions.count) positions, \(s.velocities.count) velocities and \(s.efforts.count) efforts for \(n) "
                    + "joints", at: place)
            }
            guard s.time.isFinite, s.positions.allSatisfy(\.isFinite), s.velocities.allSatisfy(\.isFinite) else {
                throw TetherError("state \(k) (t = \(s.time) s) has a value that is not finite", at: place)
            }
            if k > 0, s.time <= r.states[k - 1].time {
                throw TetherError("state times must increase: state \(k) is at \(s.time) s after \(r.states[k - 1].time) s", at: place)
            }
        }
        let actuated = robot.actuatorIDs.count
        for (k, c) in r.commands.enumerated() {
            guard c.command.count == actuated, c.command.velocities.count == actuated, c.command.torques.count == actuated,
                  c.command.kp.count == actuated, c.command.kd.count == actuated else {
                throw TetherError("command \(k) (t = \(c.time) s) is for \(c.command.count) joints; robot '\(manifest.name)' has \(actuated) actuated joints",
                                  at: place)
            }
            if k > 0, c.time < r.commands[k - 1].time {
                throw TetherError("command times must not decrease: command \(k) is at \(c.time) s after \(r.commands[k - 1].time) s", at: place)
            }
        }

        source = place
        if robot.baseSensors != nil, let text = r.metadata[Self.hangKey] {
            guard let h = Double(text), h.isFinite else {
                throw TetherError("metadata \(Self.hangKey) '\(text)' is not a height in metres", at: place)
            }
            hangHeight = h
        } else {
            hangHeight = nil
        }
        let first = r.states[0]
        startTime = first.time
        switch initialState {
        case .firstSample:
            initialPositions = column.map { first.positions[$0] }
            initialVelocities = column.map { first.velocities[$0] }
        case .atRest(let window):
            let resting = r.states.prefix { $0.time <= first.time + window + 1e-9 }
            initialPositions = column.map { c in resting.reduce(0) { $0 + $1.positions[c] } / Double(resting.count) }
            initialVelocities = column.map { _ in 0 }
        }
        let eps = 1e-9
        let start = first.time
        let before = r.commands.lastIndex { $0.time <= start + eps }
        initialCommand = r.commands[before ?? 0].command
        commands = r.commands[((before ?? -1) + 1)...].map { Command(time: $0.time, command: $0.command) }
        let used = skipFirst ? Array(r.states.dropFirst()) : r.states

        sampleTimes = used.map(\.time)
        let jointSet = compared ?? Array(manifest.joints.indices)
        signals = quantities.flatMap { q in jointSet.map { CompareSignal(joint: $0, quantity: q) } }
        var measured: [Double] = []
        measured.reserveCapacity(signals.count * used.count)
        for s in signals {
            let c = column[s.joint]
            switch s.quantity {
            case .position: measured += used.map { $0.positions[c] }
            case .velocity: measured += used.map { $0.velocities[c] }
            case .effort: measured += used.map { $0.efforts.isEmpty ? 0 : $0.efforts[c] }
            }
        }
        self.measured = measured
        weights = Self.weights(signals: signals, measured: measured, samples: used.count, normalization: normalization)
    }

    /// 1 / scale per signal. Spread: each signal's standard deviation over the recording, but at
    /// least a tenth of the largest of its kind, so that the sensor noise of a joint that barely
    /// moves cannot outweigh the joints that were excited.
    static func weights(signals: [CompareSignal], measured: [Double], samples m: Int,
                        normalization: TrajectoryFit.Normalization) -> [Double] {
        switch normalization {
        case .sensorNoise(let position, let velocity, let effort):
            return signals.map { s in
                switch s.quantity {
                case .position: 1 / position
                case .velocity: 1 / velocity
                case .effort: 1 / effort
                }
            }
        case .signalSpread:
            let spread: [Double] = signals.indices.map { k in
                let values = measured[(k * m)..<((k + 1) * m)]
                let mean = values.reduce(0, +) / Double(max(1, m))
                return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, m))).squareRoot()
            }
            var largest: [JointQuantity: Double] = [:]
            for (k, s) in signals.enumerated() { largest[s.quantity] = max(largest[s.quantity] ?? 0, spread[k]) }
            return signals.indices.map { k in
                let floor = max(0.1 * (largest[signals[k].quantity] ?? 0), 1e-9)
                return 1 / max(spread[k], floor)
            }
        }
    }
}

/// Replays recordings on one simulated robot per gantry setting, with parameter values written
/// into its private model copy. One replayer belongs to one thread at a time.
///
/// Replay: the robot starts at the recorded initial joint state (hung when the recording was);
/// the command in force at the start is held and, with a driver lag, the lagged torque is brought
/// to its steady state first; each later command takes effect at its recorded time plus the
/// driver delay. A command that takes effect inside a physics step is averaged with the previous
/// one over that step (weighted by time), so that the simulation changes continuously with the
/// delay instead of in whole steps. The simulated state is linearly interpolated between physics
/// steps at each sample time minus the sensor delay.
package final class TrajectoryReplayer {
    private let robot: RobotModel
    private let writer: ParameterWriter
    private var simulators: [(height: Double?, sim: SimRobot)] = []
    /// Actuator id per manifest joint (nil: passive joint).
    private let actuatorOfJoint: [Int?]

    /// Constraint-solver tolerance of every replay (the model's own is usually 1e-8).
    package static let solverTolerance = 1e-14

    init(robot: RobotModel, writer: ParameterWriter) {
        self.robot = robot
        self.writer = writer
        var map = [Int?](repeating: nil, count: robot.manifest.joints.count)
        for (k, j) in robot.actuatedJointIndex.enumerated() { map[j] = robot.actuatorIDs[k] }
        actuatorOfJoint = map
    }

    private func simulator(hungAt height: Double?) -> SimRobot {
        if let s = simulators.first(where: { $0.height == height }) { return s.sim }
        let sim = SimRobot(robot: robot.with(model: robot.model.copy()))
        if let height { sim.hang(height: height) }
        // Let the constraint solver converge to machine precision instead of stopping at the
        // model's tolerance: an early exit makes trajectories jump by tiny amounts when a
        // parameter changes, which a finite-difference Jacobian sees as a rough cost surface (and
        // the optimizer as many local minima). Converged forces are the model's physics all the
        // same; Newton's method needs only an iteration or so more.
        sim.robot.model.raw.pointee.opt.tolerance = Self.solverTolerance
        simulators.append((height, sim))
        return sim
    }

    /// The simulated values of the recording's signals at its sample times (signal-major).
    /// Throws `ReplayFailure` when the values are not physical or the simulation diverges.
    func replay(_ r: PreparedRecording, values: [Double]) throws(ReplayFailure) -> [Double] {
        let sim = simulator(hungAt: r.hangHeight)
        do {
            try writer.apply(values, to: sim.robot.model)
        } catch {
            throw ReplayFailure(reason: "\(error)")
        }
        let lag = writer.lag.map { values[$0] } ?? writer.fixedLag
        let delay = writer.delay.map { values[$0] } ?? writer.fixedDelay
        let sensorDelay = writer.sensorDelay.map { values[$0] } ?? 0
        guard lag >= 0, delay >= 0, sensorDelay >= 0 else { throw ReplayFailure(reason: "a negative lag or delay") }
        sim.driver = DriverDynamics(lagTimeConstant: lag, actionDelay: 0)
        sim.reset()
        let data = sim.data
        let qpos = data.qpos, qvel = data.qvel
        for j in r.initialPositions.indices {
            qpos[robot.qposAddress[j]] = r.initialPositions[j]
            qvel[robot.dofAddress[j]] = r.initialVelocities[j]
        }
        data.time = r.startTime
        data.forward()
        do { try sim.apply(r.initialCommand) } catch { throw ReplayFailure(reason: "\(error)") }
        let dt = sim.robot.model.timestep
        if lag > 0 {
            // The robot held this command before the recording began: bring the lagged torque to
            // where it was, keeping the state where it was.
            let held = data.saveState()
            for _ in 0..<Int((5 * lag / dt).rounded(.up)) {
                sim.stepPhysics(1)
                do { try data.restore(held) } catch { throw ReplayFailure(reason: "\(error)") }
            }
        }

        let m = r.sampleTimes.count, signals = r.signals
        var out = [Double](repeating: 0, count: signals.count * m)
        var previous = [Double](repeating: 0, count: signals.count), current = previous
        read(signals, data, into: &previous)
        var previousTime = data.time
        let eps = 1e-9
        var i = 0
        while i < m, r.sampleTimes[i] - sensorDelay <= previousTime + eps {
            for k in signals.indices { out[k * m + i] = previous[k] }
            i += 1
        }
        var command = r.initialCommand, next = 0, blended = false
        let commands = r.commands
        let maxSteps = Int(((r.sampleTimes.last ?? r.startTime) - r.startTime) / dt) + 3
        var steps = 0
        while i < m {
            let t = data.time
            while next < commands.count, commands[next].time + delay <= t + eps {
                command = commands[next].command
                next += 1
                blended = true // force a re-apply below
            }
            do {
                if next < commands.count, commands[next].time + delay < t + dt - eps {
                    // A command takes effect inside this step: average over the step.
                    var mix = Self.scaled(command, 0)
                    var start = t
                    while next < commands.count, commands[next].time + delay < t + dt - eps {
                        let switchTime = commands[next].time + delay
                        Self.accumulate(&mix, command, (switchTime - start) / dt)
                        start = switchTime
                        command = commands[next].command
                        next += 1
                    }
                    Self.accumulate(&mix, command, (t + dt - start) / dt)
                    try sim.apply(mix)
                    blended = true
                } else if blended {
                    try sim.apply(command)
                    blended = false
                }
            } catch {
                throw ReplayFailure(reason: "\(error)")
            }
            sim.stepPhysics(1)
            steps += 1
            read(signals, data, into: &current)
            let now = data.time
            while i < m, r.sampleTimes[i] - sensorDelay <= now + eps {
                let w = now > previousTime ? min(1, max(0, (r.sampleTimes[i] - sensorDelay - previousTime) / (now - previousTime))) : 1
                for k in signals.indices { out[k * m + i] = previous[k] + w * (current[k] - previous[k]) }
                i += 1
            }
            swap(&previous, &current)
            previousTime = now
            if steps > maxSteps { throw ReplayFailure(reason: "the replay did not reach the last sample time") }
        }
        if data.isDiverged || !out.allSatisfy(\.isFinite) {
            throw ReplayFailure(reason: "the simulation diverged (\(data.warnings.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")))")
        }
        return out
    }

    private func read(_ signals: [CompareSignal], _ data: SimData, into out: inout [Double]) {
        let qpos = data.qpos, qvel = data.qvel, force = data.actuatorForce
        for (k, s) in signals.enumerated() {
            switch s.quantity {
            case .position: out[k] = qpos[robot.qposAddress[s.joint]]
            case .velocity: out[k] = qvel[robot.dofAddress[s.joint]]
            case .effort: out[k] = actuatorOfJoint[s.joint].map { force[$0] } ?? 0
            }
        }
    }

    private static func scaled(_ c: JointCommand, _ w: Double) -> JointCommand {
        JointCommand(positions: c.positions.map { $0 * w }, velocities: c.velocities.map { $0 * w },
                     torques: c.torques.map { $0 * w }, kp: c.kp.map { $0 * w }, kd: c.kd.map { $0 * w })
    }

    private static func accumulate(_ sum: inout JointCommand, _ c: JointCommand, _ w: Double) {
        for k in 0..<c.count {
            sum.positions[k] += w * c.positions[k]
            sum.velocities[k] += w * c.velocities[k]
            sum.torques[k] += w * c.torques[k]
            sum.kp[k] += w * c.kp[k]
            sum.kd[k] += w * c.kd[k]
        }
    }
}

/// Why a replay produced no trajectory: values that are not physical, or a diverged simulation.
struct ReplayFailure: Error, Sendable {
    var reason: String
}
