import Foundation
import Testing
import TetherCore
import TetherSafety
@testable import TetherRuntime

@Suite struct SafetyReplayTests {
    func line(_ t: Double, action: String, q: [Double]) -> String {
        let positions = q.map { String($0) }.joined(separator: ",")
        let zeros = [String](repeating: "0", count: q.count).joined(separator: ",")
        return "{\"time\": \(t), \"action\": \(action), \"state\": {\"joint_positions\": [\(positions)], \"joint_velocities\": [\(zeros)], \"base_orientation\": [1,0,0,0], \"base_angular_velocity\": [0,0,0]}}"
    }

    @Test func aJSONLinesStreamReplaysAndANaNActionStops() throws {
        let manifest = try Manifest.load(path: quadrupedManifest)
        let q = manifest.joints.map(\.defaultPosition)
        let zero = "[" + [String](repeating: "0", count: 12).joined(separator: ",") + "]"
        var lines = (0..<10).map { line(Double($0) * 0.02, action: zero, q: q) }
        lines.append(line(0.2, action: "[" + ["\"nan\""] .joined() + "]", q: q))
        let path = NSTemporaryDirectory() + "tether-replay-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        // A JSON string is not a number: the malformed line is named.
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try SafetyReplay.inputs(path: path, manifest: manifest)
            Issue.record("must fail")
        } catch let error as TetherError {
            #expect(error.location == "\(path):11")
        }
        lines[10] = line(0.2, action: "null", q: q)  // the policy produced nothing
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let ticks = SafetyReplay.run(try SafetyReplay.inputs(path: path, manifest: manifest),
                                     config: try SafetyConfig(manifest: manifest, stage: 0.25))
        #expect(ticks.count == 11)
        #expect(ticks[9].mode == "running")
        #expect(ticks[10].mode.hasPrefix("stopped(missing_action"))
        #expect(ticks[10].kp.allSatisfy { $0 == 0 })
    }
}
