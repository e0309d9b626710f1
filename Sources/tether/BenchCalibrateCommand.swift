import ArgumentParser
import Foundation
import TetherBench
import TetherCalibration

extension Bench {
    struct CalibrateBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "calibrate",
            abstract: "One trajectory-fitting problem solved by Tether and by mujoco.sysid in the same run: wall time ratio and each estimate's error.",
            discussion: """
            The cart-pole with four unknown parameters (slider damping and dry friction, hinge \
            damping, pole mass), two recordings with a known truth and sensor noise, the same \
            model, solver tolerance, normalization, start and bounds for both fitters.

            Examples:
              tether bench calibrate
              tether bench calibrate --threads 1 --json
            """
        )
        @Option(help: "Worker threads of both fitters (default: all cores).") var threads: Int?
        @Flag(help: "Print the report as JSON.") var json = false

        func run() throws {
            let quiet = json
            let result = try report {
                try runCalibrationBenchmark(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount) { line in
                    if !quiet { emit("  \(line)") }
                }
            }
            if json { try printJSON(result); return }
            print("bench calibrate: \(result.robot), \(result.parameters.count) parameters, \(result.recordings) recordings × \(result.samples) samples, "
                + "\(result.threads) threads (MuJoCo \(result.mujocoVersion))")
            print(String(format: "  Tether        %8.3f s  (%d iterations, %d parameter points)", result.tetherSeconds, result.tetherIterations,
                         result.tetherEvaluations))
            if let peer = result.peerSeconds {
                print(String(format: "  mujoco.sysid  %8.3f s  (%@, %d residual calls)", peer, result.peerOptimizer ?? "?", result.peerResidualCalls ?? 0))
            }
            if let speedup = result.speedup { print(String(format: "  ratio         %.2f× (Tether faster when > 1)", speedup)) }
            print("  " + "parameter".padding(toLength: 28, withPad: " ", startingAt: 0) + "       truth   Tether err           σ    sysid err")
            for l in result.parameters {
                let sd = l.tetherStandardDeviation.map { String(format: "%.2g", $0) } ?? "—"
                let peer = l.peerError.map { String(format: "%.3g", $0) } ?? "—"
                print("  " + l.name.padding(toLength: 28, withPad: " ", startingAt: 0)
                      + String(format: " %11.5g %12.3g ", l.truth, l.tetherError) + sd.leftPadded(11) + " " + peer.leftPadded(12))
            }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
