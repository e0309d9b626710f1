import Foundation
import TetherCalibration
import TetherCore
import TetherSim

/// What `tether bench calibrate` measured: one trajectory-fitting problem with a known truth,
/// solved by Tether and by mujoco.sysid in the same run.
public struct CalibrationBenchmarkReport: Sendable, Codable {
    /// One parameter: the truth, where both started, and what each found.
    public struct Line: Sendable, Codable {
        public var name: String
        public var unit: String
        public var truth: Double
        public var initial: Double
        public var tether: Double
        /// Tether's standard deviation.
        public var tetherStandardDeviation: Double?
        /// Estimate − truth.
        public var tetherError: Double
        public var peer: Double?
        public var peerError: Double?
    }

    public var robot: String
    public var mujocoVersion: String
    public var recordings: Int
    /// State samples per recording.
    public var samples: Int
    public var parameters: [Line]
    public var threads: Int
    /// Wall time of `TrajectoryFit.fit`, s (covariance and error statistics included).
    public var tetherSeconds: Double
    public var tetherIterations: Int
    /// Parameter points simulated by Tether (each over every recording).
    public var tetherEvaluations: Int
    /// Wall time of `sysid.optimize`, s (set-up excluded); nil when the peer was not run.
    public var peerSeconds: Double?
    public var peerOptimizer: String?
    /// Calls of the peer's residual function (each may batch several points).
    public var peerResidualCalls: Int?
    /// peerSeconds / tetherSeconds: how many times faster Tether is.
    public var speedup: Double?
}

/// `tether bench calibrate`: fits four parameters of the cart-pole (slider damping and dry
/// friction, hinge damping, pole mass) to two 3 s recordings with a known truth, with Tether's
/// `TrajectoryFit` and, in the same run, with mujoco.sysid from the project venv; returns the wall
/// time of each, their ratio, and each estimate's error against the truth.
///
/// The recordings are Tether's own replays at the true values with Gaussian sensor noise
/// (1 mm / 1 mrad, 0.01 m/s / rad/s), starting at rest with the pole hanging, then a force
/// multisine. Open-loop forces and no driver dynamics, so that mujoco.sysid (which replays
/// controls, not Tether's PD law) solves exactly the same problem: same model, same solver
/// tolerance, same data, same initial states, same per-signal normalization, same starting
/// point and bounds, same iteration limit.
/// - Parameters:
///   - threads: worker threads of both fitters.
///   - includePeer: also run mujoco.sysid (needs the venv with the pinned peers).
///   - progress: receives a line per step and per Tether iteration.
public func runCalibrationBenchmark(threads: Int = ProcessInfo.processInfo.activeProcessorCount, includePeer: Bool = true,
                                    progress: (String) -> Void = { _ in }) throws -> CalibrationBenchmarkReport {
    guard let root = TetherPaths.checkoutRoot() else {
        throw TetherError("cannot find the Tether checkout (robots/, benchmarks/)", hint: "run from the checkout, or set TETHER_HOME")
    }
    let robot = try RobotModel.load(manifestPath: "\(root)/robots/cartpole/cartpole.yaml")
    let truth: [String: Double] = [
        "joint[slider].damping": 0.3, "joint[slider].frictionloss": 0.15, "joint[hinge].damping": 0.005, "body[pole].mass": 0.13,
    ]
    let parameters = [
        FitParameter("joint[slider].damping", bounds: 0...2),
        FitParameter("joint[slider].frictionloss", bounds: 0...1),
        FitParameter("joint[hinge].damping", bounds: 0...0.05, scale: 0.01),
        FitParameter("body[pole].mass", bounds: 0.02...0.5),
    ]
    let rest = 0.2, seconds = 3.0, sampleRate = 200.0, maxIterations = 30
    var recordings: [ExperimentRecording] = []
    for (seed, frequencies) in [(UInt64(1), [0.4, 0.9, 1.7, 3.1]), (2, [0.5, 1.2, 2.3, 4.1])] {
        let commands = try SyntheticExperiment.multisine(robot: robot, joints: ["slider"], amplitude: 4, frequencies: frequencies,
                                                         duration: seconds, rate: 50, torque: true, zeroPhase: true, rest: rest, seed: seed)
        recordings.append(try SyntheticExperiment.record(robot: robot, truth: truth, commands: commands, duration: seconds,
                                                         sampleRate: sampleRate, initialPositions: [0, Double.pi],
                                                         positionNoise: 1e-3, velocityNoise: 1e-2, seed: seed, source: "cartpole-\(seed)"))
    }
    progress("calibrate: cartpole, \(parameters.count) parameters, \(recordings.count) recordings × \(recordings[0].states.count) samples, \(threads) threads")

    let fit = try TrajectoryFit(robot: robot, parameters: parameters,
                                options: .init(maxIterations: maxIterations, threads: threads, initialState: .atRest(window: rest)))
    let result = try fit.fit(recordings) { step in
        progress(String(format: "  tether iteration %2d  cost %.6g  λ %.3g  step %.3g%@", step.iteration, step.cost, step.lambda, step.step,
                        step.accepted ? "" : "  (rejected)"))
    }
    progress(String(format: "  tether: %.3f s, %d iterations, %d parameter points", result.wallSeconds, result.iterations, result.evaluations))

    var peer: PeerOutput?
    if includePeer {
        let problem = try peerProblem(fit: fit, recordings: recordings, threads: threads, maxIterations: maxIterations)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tether-bench-calibrate-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("problem.json")
        try JSONEncoder().encode(problem).write(to: file)
        progress("  mujoco.sysid: running benchmarks/calibrate_peer.py")
        let output = try TetherPaths.run(try TetherPaths.python(), ["\(root)/benchmarks/calibrate_peer.py", file.path])
        do {
            peer = try JSONDecoder().decode(PeerOutput.self, from: Data(output.utf8))
        } catch {
            throw TetherError("benchmarks/calibrate_peer.py printed something that is not its JSON report: \(output.prefix(500))")
        }
        progress(String(format: "  mujoco.sysid: %.3f s, %d residual calls", peer!.wall_seconds, peer!.residual_calls))
    }

    let lines = result.estimates.map { e in
        CalibrationBenchmarkReport.Line(name: e.name, unit: e.unit, truth: truth[e.name]!, initial: e.initial, tether: e.value,
                                        tetherStandardDeviation: e.standardDeviation, tetherError: e.value - truth[e.name]!,
                                        peer: peer?.estimates[e.name], peerError: peer?.estimates[e.name].map { $0 - truth[e.name]! })
    }
    return CalibrationBenchmarkReport(
        robot: robot.manifest.name, mujocoVersion: MuJoCo.version, recordings: recordings.count, samples: recordings[0].states.count,
        parameters: lines, threads: threads, tetherSeconds: result.wallSeconds, tetherIterations: result.iterations,
        tetherEvaluations: result.evaluations, peerSeconds: peer?.wall_seconds, peerOptimizer: peer?.optimizer,
        peerResidualCalls: peer?.residual_calls, speedup: peer.map { $0.wall_seconds / result.wallSeconds })
}

/// What calibrate_peer.py prints.
private struct PeerOutput: Decodable {
    var mujoco: String
    var optimizer: String
    var estimates: [String: Double]
    var wall_seconds: Double
    var residual_calls: Int
}

/// The problem file calibrate_peer.py reads (see its docstring).
private struct PeerProblem: Encodable {
    struct Parameter: Encodable {
        var name: String
        var initial: Double
        var lower: Double
        var upper: Double
    }
    struct Recording: Encodable {
        var name: String
        var qpos0: [Double]
        var qvel0: [Double]
        var control_times: [Double]
        var control: [[Double]]
        var times: [Double]
        var joints: [String]
        var positions: [[Double]]
        var velocities: [[Double]]
    }
    var model: String
    var solver_tolerance: Double
    var threads: Int
    var max_iters: Int
    var parameters: [Parameter]
    var recordings: [Recording]
}

/// The benchmark problem as the peer sees it: the same initial states as Tether's replays (at
/// rest), and the torque commands held over each physics step as MuJoCo controls.
private func peerProblem(fit: TrajectoryFit, recordings: [ExperimentRecording], threads: Int, maxIterations: Int) throws -> PeerProblem {
    let robot = fit.robot
    let model = robot.model
    let dt = model.timestep
    let reference = SimData(model: model)
    var out: [PeerProblem.Recording] = []
    for r in recordings {
        let prepared = try PreparedRecording(r, robot: robot, joints: nil, quantities: [.position, .velocity],
                                             normalization: fit.options.normalization, initialState: fit.options.initialState, skipFirst: false)
        guard prepared.hangHeight == nil, robot.baseSensors == nil else {
            throw TetherError("the calibration benchmark's peer needs a fixed-base robot", at: r.source)
        }
        var qpos = Array(reference.qpos), qvel = [Double](repeating: 0, count: model.nv)
        for j in prepared.initialPositions.indices {
            qpos[robot.qposAddress[j]] = prepared.initialPositions[j]
            qvel[robot.dofAddress[j]] = prepared.initialVelocities[j]
        }
        // Commands are torques (zero gains): the control of each physics step is the torque in
        // force at its start, clipped as SimRobot clips it.
        let start = prepared.startTime, end = r.states.last!.time
        let steps = Int(((end - start) / dt).rounded()) + 1
        var times: [Double] = [], control: [[Double]] = []
        var next = 0
        var current = prepared.initialCommand
        for k in 0..<steps {
            let t = start + Double(k) * dt
            while next < prepared.commands.count, prepared.commands[next].time <= t + 1e-9 {
                current = prepared.commands[next].command
                next += 1
            }
            guard current.kp.allSatisfy({ $0 == 0 }), current.kd.allSatisfy({ $0 == 0 }) else {
                throw TetherError("the calibration benchmark's peer replays torques only; a command has PD gains", at: r.source)
            }
            var u = [Double](repeating: 0, count: model.nu)
            for (a, id) in robot.actuatorIDs.enumerated() { u[id] = min(robot.torqueLimits[a], max(-robot.torqueLimits[a], current.torques[a])) }
            times.append(t)
            control.append(u)
        }
        out.append(.init(name: r.source, qpos0: qpos, qvel0: qvel, control_times: times, control: control,
                         times: r.states.map(\.time), joints: r.jointNames,
                         positions: r.states.map(\.positions), velocities: r.states.map(\.velocities)))
    }
    return PeerProblem(model: model.source, solver_tolerance: TrajectoryReplayer.solverTolerance, threads: threads, max_iters: maxIterations,
                       parameters: fit.parameters.map { .init(name: $0.name, initial: $0.initial, lower: $0.lower, upper: $0.upper) },
                       recordings: out)
}
