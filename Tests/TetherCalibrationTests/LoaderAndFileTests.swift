import Foundation
import TetherNumerics
import Testing
import TetherCore
import TetherROS
import TetherSim
@testable import TetherCalibration

@Suite struct LoaderAndFileTests {
    let manifest = try! RobotModel.load(manifestPath: "\(repositoryRoot)/robots/cartpole/cartpole.yaml").manifest

    func temp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tether-\(UUID().uuidString)-\(name)").path
    }

    /// A bag with joint states at the given stamps (seconds), and commands.
    func writeBag(_ path: String, stamps: [Double], names: [String]? = nil, metadata: [String: String] = [:]) throws {
        let w = try MCAPWriter(path: path)
        let joints = try w.addTopic(manifest.ros2.jointStates, type: SensorMsgs.JointState.self)
        let commands = try w.addTopic(manifest.ros2.jointCommands, type: StdMsgs.Float64MultiArray.self, metadata: metadata)
        let n = manifest.joints.count
        for (i, t) in stamps.enumerated() {
            let ns = Int64(1_000_000_000 + t * 1e9)
            let msg = SensorMsgs.JointState(header: .init(stamp: .init(nanoseconds: ns), frameID: ""), name: names ?? manifest.joints.map(\.name),
                                            position: (0..<n).map { Double($0) + t }, velocity: .init(repeating: 1, count: n), effort: .init(repeating: 0.5,
                                                count: n))
            try w.write(msg, channel: joints, logTime: UInt64(1_000_000_000 + Double(i) * 1e6))
            let actuated = manifest.actuatedJoints.count
            let c = JointCommand(positions: .init(repeating: t, count: actuated), velocities: .init(repeating: 0, count: actuated),
                                 torques: .init(repeating: 0, count: actuated), kp: .init(repeating: 1, count: actuated), kd: .init(repeating: 0,
                                     count: actuated))
            try w.write(StdMsgs.Float64MultiArray(jointCommand: c), channel: commands, logTime: UInt64(ns))
        }
        try w.close()
    }

    @Test func aBagLoadsInManifestOrderWithItsMetadata() throws {
        let path = temp("ok.mcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writeBag(path, stamps: (0..<50).map { Double($0) * 0.002 }, names: manifest.joints.map(\.name).reversed(),
                     metadata: ["tether.experiment.kind": "chirp", "tether.experiment.joints": "slider"])
        var loader = RecordingLoader(manifest: manifest)
        let r = try loader.load(path)
        #expect(r.kind == "chirp" && r.metadata["joints"] == "slider")
        #expect(r.states.count == 50 && abs(r.states[1].time - 0.002) < 1e-9)
        // Reversed names in the bag: mapped back into manifest order (joint k has position k + t).
        #expect(abs(r.states[0].positions[0] - Double(manifest.joints.count - 1)) < 1e-12)
        #expect(r.commands.count == 50)
        #expect(loader.warnings.isEmpty)
    }

    @Test func unsortedDuplicateAndGappyStampsAreWarnedAboutByName() throws {
        let path = temp("bad.mcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var stamps = (0..<40).map { Double($0) * 0.002 }
        stamps.swapAt(3, 4)
        stamps.append(stamps[10])          // a duplicate
        stamps.append(1.0)                 // a gap
        try writeBag(path, stamps: stamps)
        var loader = RecordingLoader(manifest: manifest)
        let r = try loader.load(path)
        #expect(zip(r.states, r.states.dropFirst()).allSatisfy { $0.time < $1.time })
        #expect(r.states.count == 41)
        let text = loader.warnings.joined(separator: "\n")
        #expect(text.contains("not in time order"))
        #expect(text.contains("duplicate timestamp"))
        #expect(text.contains("1 gaps"))
        #expect(loader.warnings.allSatisfy { $0.hasPrefix(path) })
    }

    @Test func missingTopicsJointsAndFilesAreClearErrors() throws {
        let path = temp("other.mcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writeBag(path, stamps: [0, 0.01], names: ["a", "b"])
        var loader = RecordingLoader(manifest: manifest)
        #expect { try loader.load(path) } throws: { "\($0)".contains("lacks joint") && "\($0)".contains(path) }
        // A topic the user chose must be there (the manifest's, when absent, would be looked
        // for by schema instead).
        loader.chosenJointStatesTopic = "/robot/joint_states"
        #expect { try loader.load(path) } throws: { "\($0)".contains("no topic /robot/joint_states (chosen with "
            + "--joint-states-topic)") && "\($0)".contains(manifest.ros2.jointStates) }
        #expect { try loader.load("/nonexistent.mcap") } throws: { "\($0)".contains("recording not found") }
        #expect { try loader.load(self.temp("x.bag")) } throws: { "\($0)".contains("not found") }
    }

    @Test func csvLoadsAndNamesBadCells() throws {
        let names = manifest.joints.map(\.name)
        var csv = "# kind: sweep\ntime," + names.map { "\($0).position,\($0).velocity,\($0).effort" }.joined(separator: ",") + "\n"
        for i in 0..<10 { csv += "\(Double(i) * 0.01)," + names.map { _ in "0.1,0.2,0.3" }.joined(separator: ",") + "\n" }
        let path = temp("r.csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        var loader = RecordingLoader(manifest: manifest)
        let r = try loader.load(path)
        #expect(r.kind == "sweep" && r.states.count == 10 && r.states[9].efforts == names.map { _ in 0.3 })
        try (csv + "0.2," + names.map { _ in "x,0.2,0.3" }.joined(separator: ",") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try loader.load(path) } throws: { "\($0)".contains("r.csv:13") && "\($0)".contains("'x'") }
    }

    @Test func derivedRandomizationParsesBackAndWidensTheIntervals() throws {
        let file = CalibrationFile(robot: "quadruped", model: "q.xml", recordings: ["a.mcap"], parameters: [
            CalibratedParameter(name: "joint[FR_thigh_joint].damping", unit: "N·m·s/rad", nominal: [0.1], estimate: [0.2], standardError: [0.01],
                                method: "sweep", recordings: ["a.mcap"], patched: true),
            CalibratedParameter(name: "joint[FR_thigh_joint].frictionloss", unit: "N·m", nominal: [0.05], estimate: [0.15], standardError: [0.5],
                                method: "sweep", recordings: ["a.mcap"], flags: ["not identifiable: too little excitation"], patched: true),
            CalibratedParameter(name: "driver.delay", unit: "s", nominal: [0], estimate: [0.007], standardError: [0.0005], method: "xcorr",
                                recordings: ["a.mcap"]),
        ], warnings: [], heldOut: [])
        let base = try RandomizationSpec.load(path: "\(repositoryRoot)/robots/quadruped/randomization.yaml")
        let joints = try RobotModel.load(manifestPath: "\(repositoryRoot)/robots/quadruped/quadruped.yaml").manifest.joints.map(\.name)
        let (spec, yaml) = RandomizationDerivation.spec(from: file, base: base, joints: joints)
        let parsed = try RandomizationSpec.parse(yaml: yaml)
        #expect(parsed.terms == spec.terms)
        func range(_ s: RandomizationSpec, _ f: (RandomizationSpec.Term) -> Bool) -> (Double, Double) {
            guard let term = s.terms.first(where: f), case .uniform(let lo, let hi) = term.distribution else {
                Issue.record("no uniform term")
                return (.nan, .nan)
            }
            return (lo, hi)
        }
        // The robot as measured: the interval 0.2 ± 0.0196 itself (wider than the ±5 % floor).
        let (lo, hi) = range(spec) { $0.path == "joint[FR_thigh_joint].damping" }
        #expect(abs(lo - (0.2 - 1.96 * 0.01)) < 1e-6 && abs(hi - (0.2 + 1.96 * 0.01)) < 1e-6)
        let friction = try #require(spec.terms.first { $0.path == "joint[FR_thigh_joint].frictionloss" })
        #expect(friction.distribution == .uniform(low: 0.075, high: 0.225))
        // The delay 7 ± 0.98 ms: action latency over its interval, not [0, upper].
        let (dlo, dhi) = range(spec) { $0.target == .actionLatency }
        #expect(abs(dlo - (0.007 - 1.96 * 0.0005)) < 1e-6 && abs(dhi - (0.007 + 1.96 * 0.0005)) < 1e-6)
        #expect(spec.pushes == nil && base.pushes != nil && yaml.contains("pushes: left out"))
        // For training: widened by max(half-width, 20 % of the estimate) on each side, with the base's pushes.
        let training = RandomizationDerivation.spec(from: file, purpose: .training, base: base, joints: joints)
        #expect(try RandomizationSpec.parse(yaml: training.yaml).terms == training.spec.terms)
        let (tlo, thi) = range(training.spec) { $0.path == "joint[FR_thigh_joint].damping" }
        #expect(abs(tlo - (0.2 - 0.0196 - 0.04)) < 1e-6 && abs(thi - (0.2 + 0.0196 + 0.04)) < 1e-6)
        let (tdlo, tdhi) = range(training.spec) { $0.target == .actionLatency }
        #expect(abs(tdlo - (0.007 - 0.00098 - 0.0014)) < 1e-6 && abs(tdhi - (0.007 + 0.00098 + 0.0014)) < 1e-6)
        #expect(training.spec.pushes == base.pushes)
        // A zero-width interval is floored at ±5 % for the gate.
        let narrow = RandomizationDerivation.range(estimate: 2, interval: ConfidenceInterval(lower: 2, upper: 2), identifiable: true, purpose: .asMeasured)
        #expect(abs(narrow.low - 1.9) < 1e-12 && abs(narrow.high - 2.1) < 1e-12)
        // The same joint on the other legs: FR_thigh_joint's range widened by ±20 % of its estimate.
        for leg in ["FL", "RR", "RL"] {
            let (slo, shi) = range(spec) { $0.path == "joint[\(leg)_thigh_joint].damping" }
            #expect(abs(slo - (0.2 - 1.96 * 0.01 - 0.04)) < 1e-6 && abs(shi - (0.2 + 1.96 * 0.01 + 0.04)) < 1e-6)
        }
        #expect(yaml.contains("not measured: from FR_thigh_joint (the same joint)"))
        #expect(!spec.terms.contains { $0.path == "joint[FR_calf_joint].damping" })
        // The base's joint_damping term stays for the 8 joints with no measured sibling; the rest is kept.
        let kept = try #require(spec.terms.first { $0.target == .jointDamping })
        #expect(kept.items.count == 8 && !kept.items.contains { $0.hasSuffix("_thigh_joint") })
        #expect(spec.terms.contains { $0.target == .geomFriction })
        // The calibration file round-trips through YAML and JSON.
        let base2 = temp("cal")
        try file.write(base: base2)
        defer { try? FileManager.default.removeItem(atPath: base2 + ".yaml"); try? FileManager.default.removeItem(atPath: base2 + ".json") }
        let fromYAML = try CalibrationFile.load(path: base2 + ".yaml").parameters
        #expect(fromYAML.map(\.name) == file.parameters.map(\.name))
        #expect(zip(fromYAML, file.parameters).allSatisfy { abs($0.estimate[0] - $1.estimate[0]) < 1e-12 && $0.flags == $1.flags })
        #expect(try CalibrationFile.load(path: base2 + ".json").parameters == file.parameters)
    }
}
