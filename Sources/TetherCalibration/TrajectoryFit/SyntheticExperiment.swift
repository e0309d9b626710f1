import Foundation
import TetherCore
import TetherSim

/// Excitation commands and simulated recordings with a known truth, for the fit's tests and its
/// benchmark: the model replayed at chosen ("true") parameter values, sampled, with Gaussian
/// sensor noise.
package enum SyntheticExperiment {
    /// A multisine excitation on some actuated joints around the default pose, sent at `rate` Hz
    /// for `duration` s. Each joint gets Σ_k a cos(2π f_k t + φ_k) with a = amplitude / √K and
    /// phases drawn from `seed`: added to the position target (`torque` false; gains from the
    /// manifest) or sent as the torque itself (`torque` true; zero gains). With `zeroPhase`, all
    /// phases are zero: the torque then integrates to a velocity without drift. The first `rest`
    /// seconds hold still (default pose, or zero torque), as an identification experiment starts.
    package static func multisine(robot: RobotModel, joints: [String], amplitude: Double, frequencies: [Double],
                          duration: Double, rate: Double, torque: Bool, zeroPhase: Bool = false, rest: Double = 0,
                          seed: UInt64) throws -> [ExperimentRecording.CommandSample] {
        let manifest = robot.manifest
        let actuated = robot.actuatedJointIndex.map { manifest.joints[$0].name }
        let targets = try joints.map { name in
            guard let k = actuated.firstIndex(of: name) else {
                throw TetherError("'\(name)' is not an actuated joint of robot '\(manifest.name)'",
                                  hint: "its actuated joints: \(actuated.joined(separator: ", "))")
            }
            return k
        }
        var random = SeededRandom(seed: seed, stream: 17)
        let phases = targets.map { _ in frequencies.map { _ in zeroPhase ? 0 : random.uniform(0, 2 * Double.pi) } }
        let a = amplitude / Double(max(1, frequencies.count)).squareRoot()
        let base = manifest.defaultPoseCommand
        let count = Int((duration * rate).rounded()) + 1
        return (0..<count).map { step in
            let t = Double(step) / rate
            var c = base
            if torque {
                c.kp = c.kp.map { _ in 0 }
                c.kd = c.kd.map { _ in 0 }
                c.torques = c.torques.map { _ in 0 }
            }
            for (u, k) in targets.enumerated() where t >= rest - 1e-9 {
                var s = 0.0
                for (v, f) in frequencies.enumerated() { s += a * cos(2 * Double.pi * f * (t - rest) + phases[u][v]) }
                if torque { c.torques[k] += s } else { c.positions[k] += s }
            }
            return .init(time: t, command: c)
        }
    }

    /// A recording of `commands` replayed on the robot with the `truth` values (everything else
    /// nominal), starting at rest in `initialPositions` (manifest order; default: the default
    /// pose), states sampled at `sampleRate` Hz, with Gaussian noise on positions and velocities.
    /// With `settle` > 0 the robot first holds the first command for that long, unrecorded, so
    /// that the recording starts at rest in equilibrium (a leg sags under gravity, for one).
    package static func record(robot: RobotModel, truth: [String: Double], commands: [ExperimentRecording.CommandSample],
                       duration: Double, sampleRate: Double, initialPositions: [Double]? = nil, hungAt: Double? = nil,
                       settle: Double = 0, positionNoise: Double, velocityNoise: Double, seed: UInt64,
                       source: String) throws -> ExperimentRecording {
        // The nominal robot is the one with no sensor delay.
        let truth = truth.isEmpty ? ["sensor.delay": 0] : truth
        let fit = try TrajectoryFit(robot: robot, parameters: truth.keys.sorted().map { FitParameter($0, nominal: truth[$0]!, initial: truth[$0]!) })
        let joints = robot.manifest.joints
        let q0 = initialPositions ?? joints.map(\.defaultPosition)
        let skipped = Int((settle * sampleRate).rounded())
        let count = Int((duration * sampleRate).rounded()) + 1 + skipped
        let shift = Double(skipped) / sampleRate
        let held = commands.first.map { [ExperimentRecording.CommandSample(time: 0, command: $0.command)] } ?? []
        let template = ExperimentRecording(
            source: source, kind: "chirp", metadata: hungAt.map { [PreparedRecording.hangKey: "\($0)"] } ?? [:],
            jointNames: joints.map(\.name),
            states: (0..<count).map { .init(time: Double($0) / sampleRate, positions: q0, velocities: q0.map { _ in 0 }, efforts: []) },
            commands: (skipped > 0 ? held : []) + commands.map { .init(time: $0.time + shift, command: $0.command) })
        var recording = try fit.simulate(template)
        recording.source = source
        recording.commands = commands
        recording.states = recording.states.dropFirst(skipped).map { s in
            var s = s
            s.time = ((s.time - shift) * sampleRate).rounded() / sampleRate
            return s
        }
        var random = SeededRandom(seed: seed, stream: 29)
        for k in recording.states.indices {
            // The initial state is measured like every other.
            for j in joints.indices {
                recording.states[k].positions[j] += random.gaussian(standardDeviation: positionNoise)
                recording.states[k].velocities[j] += random.gaussian(standardDeviation: velocityNoise)
            }
        }
        return recording
    }
}
