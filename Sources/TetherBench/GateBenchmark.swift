import Foundation
import TetherCore
import TetherPolicy
import TetherSim
import TetherValidation

/// What `tether bench validate` measures: the gate's randomized trials per second against the
/// bare simulation of the same episodes (same physics steps per trial, same threads, no
/// randomization, no policy, no bookkeeping) on the same machine, in the same run.
public struct GateBenchmarkResult: Sendable, Codable {
    /// Robot name.
    public var robot: String
    /// Trials of each run.
    public var trials: Int
    /// Worker threads of both runs.
    public var threads: Int
    /// Physics steps over all trials (both runs step exactly these).
    public var physicsSteps: Int
    /// Wall time of the gate's trials, s.
    public var gateSeconds: Double
    /// Wall time of the bare stepping, s.
    public var bareSeconds: Double
    /// Gate trials per second.
    public var gateTrialsPerSecond: Double
    /// Bare trials per second.
    public var bareTrialsPerSecond: Double
    /// gate / bare throughput (1 = the gate costs nothing beyond the physics).
    public var ratio: Double
}

/// Runs the gate's trial function and the bare stepping of the same episodes.
public func runGateBenchmark(simulation: GateSimulation, trials: Int, seed: UInt64,
                             makePolicy: @Sendable @escaping () throws -> some PolicyRuntime) throws -> GateBenchmarkResult {
    guard trials > 0 else { throw TetherError("the benchmark needs at least 1 trial, got \(trials)", at: "--trials") }
    let indices = Array(0..<trials)
    let gateStart = ContinuousClock.now
    let records = try simulation.run(indices: indices, seed: seed, makePolicy: makePolicy)
    let gateSeconds = seconds(since: gateStart)
    let manifest = simulation.robot.manifest
    let decimation = manifest.rates.decimation
    // The same episodes: each trial steps as many physics steps as its gate trial did.
    let steps = records.map { Int(($0.seconds * manifest.rates.controlHz).rounded()) * decimation }
    let bareStart = ContinuousClock.now
    _ = simulation.robot.rollouts(BatchRollout(trials: trials, seed: seed, threads: simulation.threads)) { sim, _, i -> Int in
        sim.reset()
        sim.stepPhysics(steps[i])
        return steps[i]
    }
    let bareSeconds = seconds(since: bareStart)
    let gateRate = Double(trials) / max(gateSeconds, 1e-9), bareRate = Double(trials) / max(bareSeconds, 1e-9)
    return GateBenchmarkResult(robot: manifest.name, trials: trials, threads: simulation.threads, physicsSteps: steps.reduce(0, +),
                               gateSeconds: gateSeconds, bareSeconds: bareSeconds, gateTrialsPerSecond: gateRate,
                               bareTrialsPerSecond: bareRate, ratio: gateRate / bareRate)
}

private func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
