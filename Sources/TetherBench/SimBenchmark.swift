import CMuJoCo
import Foundation
import TetherCore
import TetherSim

/// `tether bench sim`: physics throughput of Tether against a bare `mj_step` loop and MuJoCo's own
/// batched rollout (`mujoco.rollout` from the venv), measured in the same run.
///
/// Every configuration steps the same model from the same initial state (keyframe or default
/// pose) with zero controls: `environments` trajectories of `steps` physics steps. Best of
/// `repeats` timings. Tether's PD-controlled stepping (what training and deployment use) is
/// reported as its own line; it does more work per step than the open-loop peers.
public struct SimBenchmark: Sendable {
    public var environments: Int
    public var steps: Int
    public var repeats: Int
    public var threads: [Int]
    /// Run the Python peer (needs the venv); off in unit tests.
    public var includePeer: Bool

    /// Creates a benchmark description.
    public init(environments: Int = 64, steps: Int = 1000, repeats: Int = 3,
                threads: [Int] = [1, ProcessInfo.processInfo.activeProcessorCount], includePeer: Bool = true) {
        self.environments = environments
        self.steps = steps
        self.repeats = repeats
        self.threads = Array(Set(threads)).sorted()
        self.includePeer = includePeer
    }

    /// One measured configuration.
    public struct Line: Sendable, Codable {
        public var robot: String
        public var runner: String
        public var threads: Int
        public var stepsPerSecond: Double
    }

    /// All lines plus the ratios README quotes.
    public struct Report: Sendable, Codable {
        public var mujocoVersion: String
        public var environments: Int
        public var steps: Int
        public var lines: [Line]
        /// Tether batch / mujoco.rollout, per robot and thread count.
        public var ratioToRollout: [String: Double]
        /// Tether single-thread stepping / bare mj_step loop, per robot.
        public var ratioToBareLoop: [String: Double]
    }

    /// Runs the benchmark for the given robots.
    public func run(robots: [RobotModel], log: (String) -> Void = { _ in }) throws -> Report {
        var lines: [Line] = []
        var ratioRollout: [String: Double] = [:], ratioBare: [String: Double] = [:]
        for robot in robots {
            let name = robot.manifest.name
            let initial = initialState(robot)
            let total = Double(environments * steps)

            // 1. Bare C loop: mj_step on one mjData, straight from Swift, no Tether code in between.
            let bare = best {
                let d = SimData(model: robot.model)
                for _ in 0..<environments {
                    try? d.restore(initial)
                    let m = robot.model.raw, raw = d.raw
                    for _ in 0..<steps { mj_step(m, raw) }
                }
            }
            lines.append(Line(robot: name, runner: "bare mj_step loop", threads: 1, stepsPerSecond: total / bare))
            log(format(lines.last!))

            // 2. Tether's batched rollout (per-worker model copy and data, seeded streams).
            var tetherOneThread = 0.0
            for t in threads {
                let batch = BatchRollout(trials: environments, seed: 1, threads: t)
                let seconds = best {
                    _ = batch.run(model: robot.model) { trial in
                        try? trial.data.restore(initial)
                        trial.data.step(count: steps)
                        return trial.data.time
                    }
                }
                lines.append(Line(robot: name, runner: "tether batch", threads: t, stepsPerSecond: total / seconds))
                log(format(lines.last!))
                if t == 1 { tetherOneThread = total / seconds }
            }
            ratioBare[name] = tetherOneThread / (total / bare)

            // 3. Tether with the PD law at every physics step (the training / deployment workload).
            for t in threads {
                let batch = BatchRollout(trials: environments, seed: 1, threads: t)
                let seconds = best {
                    _ = robot.rollouts(batch) { sim, _, _ in
                        sim.stepPhysics(steps)
                        return sim.data.time
                    }
                }
                lines.append(Line(robot: name, runner: "tether batch + PD", threads: t, stepsPerSecond: total / seconds))
                log(format(lines.last!))
            }

            // 4. The peer: mujoco.rollout, same model, same initial state, zero controls.
            if includePeer {
                guard let root = TetherPaths.checkoutRoot() else { throw TetherError("cannot find benchmarks/sim_rollout.py",
                                                                                     hint: "run from the Tether checkout") }
                var args = ["\(root)/benchmarks/sim_rollout.py", "--model", robot.model.source,
                            "--nenv", "\(environments)", "--nstep", "\(steps)", "--repeats", "\(repeats)", "--threads"]
                args += threads.map(String.init)
                if let key = robot.manifest.base?.keyframe { args += ["--keyframe", key] }
                let output = try TetherPaths.run(try TetherPaths.python(), args)
                struct PeerOutput: Decodable { struct R: Decodable { var threads: Int; var steps_per_second: Double }; var results: [R] }
                let peer = try JSONDecoder().decode(PeerOutput.self, from: Data(output.utf8))
                for r in peer.results {
                    lines.append(Line(robot: name, runner: "mujoco.rollout (Python)", threads: r.threads, stepsPerSecond: r.steps_per_second))
                    log(format(lines.last!))
                    if let mine = lines.first(where: { $0.robot == name && $0.runner == "tether batch" && $0.threads == r.threads }) {
                        ratioRollout["\(name) \(r.threads) thread\(r.threads == 1 ? "" : "s")"] = mine.stepsPerSecond / r.steps_per_second
                    }
                }
            }
        }
        return Report(mujocoVersion: MuJoCo.version, environments: environments, steps: steps, lines: lines,
                      ratioToRollout: ratioRollout, ratioToBareLoop: ratioBare)
    }

    private func initialState(_ robot: RobotModel) -> SimState {
        let sim = SimRobot(robot: robot)
        return sim.data.saveState()
    }

    private func best(_ body: () -> Void) -> Double {
        var best = Double.infinity
        let clock = ContinuousClock()
        for _ in 0..<max(1, repeats) {
            let start = clock.now
            body()
            best = min(best, (clock.now - start).seconds)
        }
        return best
    }

    private func format(_ line: Line) -> String {
        "  \(line.robot.padding(toLength: 10, withPad: " ", startingAt: 0)) \(line.runner.padding(toLength: 26, withPad: " ", startingAt: 0)) "
            + "\(line.threads) thr  \(String(format: "%12.0f", line.stepsPerSecond)) steps/s"
    }
}
