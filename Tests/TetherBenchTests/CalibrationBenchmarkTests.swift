import Foundation
import Testing
import TetherBench
import TetherCalibration
import TetherCore

@Suite struct CalibrationBenchmarkTests {
    /// The benchmark problem through both fitters: each finds the truth, and mujoco.sysid (the
    /// independent peer) lands where Tether does.
    @Test func tetherAndMujocoSysidAgreeOnTheBenchmarkProblem() throws {
        var lines: [String] = []
        let report = try runCalibrationBenchmark(threads: 2) { lines.append($0) }
        #expect(report.parameters.count == 4 && report.recordings == 2)
        #expect(lines.contains { $0.contains("tether iteration") })
        for p in report.parameters {
            let sd = try #require(p.tetherStandardDeviation)
            #expect(abs(p.tetherError) < 3 * sd, "\(p.name): Tether off by \(p.tetherError) (σ \(sd))")
            let peer = try #require(p.peer, "no peer estimate for \(p.name)")
            #expect(abs(peer - p.tether) < 2 * sd, "\(p.name): mujoco.sysid \(peer), Tether \(p.tether) (σ \(sd))")
        }
        #expect(report.peerSeconds != nil && report.speedup != nil)
        // The JSON scripts read carries every parameter with both fitters' estimates.
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(report)) as? [String: Any]
        let parameters = try #require(json?["parameters"] as? [[String: Any]])
        #expect(parameters.count == 4 && parameters.allSatisfy { $0["tether"] is Double && $0["peer"] is Double })
    }
}
