import Foundation
import Testing
import TetherCore
import TetherSim
@testable import TetherPolicy

/// Joints leg by leg in the manifest, breadth-first in the policy, with a passive tail (the fixture the
/// Core tests read, tests/fixtures/biped-breadth-first.yaml), with absolute joint positions observed too.
private let breadthFirst = try! String(
    contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tests/fixtures/biped-breadth-first.yaml").path, encoding: .utf8)
    .replacingOccurrences(of: "    - {source: joint_velocities}\n", with: "    - {source: joint_velocities}\n    - {source: joint_positions_absolute}\n")

/// Two joints; terms of two values each, so every layout is easy to write by hand.
private func twoJoints(_ observation: String) -> String {
    """
    name: arm
    model: arm.xml
    rates: {physics_hz: 500, control_hz: 50}
    joints:
      - {name: j1, actuator: m1, default: 0.0, limits: [-10, 10], velocity_limit: 5.0, torque_limit: 10.0, kp: 20, kd: 0.5}
      - {name: j2, actuator: m2, default: 0.0, limits: [-10, 10], velocity_limit: 5.0, torque_limit: 10.0, kp: 20, kd: 0.5}
    observation:
    \(observation)
    action: {mode: position}
    """
}

private func state(_ q: [Double], _ qd: [Double]? = nil) -> RobotState {
    RobotState(time: 0, jointPositions: q, jointVelocities: qd ?? q.map { _ in 0 }, jointTorques: q.map { _ in 0 })
}

@Suite struct ConventionsObservationTests {
    @Test func jointTermsAreBuiltInThePolicysOrder() throws {
        let m = try Manifest.parse(yaml: breadthFirst)
        var builder = ObservationBuilder(manifest: m)
        var random = SeededRandom(seed: 1)
        // Robot state in the manifest's order: l_hip, l_knee, r_hip, r_knee, tail.
        let obs = try builder.build(state: state([1, 2, 3, 4, 5], [10, 20, 30, 40, 50]), lastAction: [0.1, 0.2, 0.3, 0.4], random: &random)
        // Policy order: l_hip, r_hip, tail, l_knee, r_knee; positions relative to the defaults.
        let expected: [Float] = [1 - 0.1, 3 - 0.3, 5 - 0, 2 - 0.2, 4 - 0.4,
                                 10, 30, 50, 20, 40,
                                 1, 3, 5, 2, 4,
                                 0.1, 0.2, 0.3, 0.4]
        #expect(obs.count == expected.count)
        for (a, b) in zip(obs, expected) { #expect(abs(a - b) < 1e-6) }
        // A state with the wrong number of joints is refused, not read out of bounds.
        #expect(throws: TetherError.self) { try builder.build(state: state([1, 2, 3]), lastAction: [0, 0, 0, 0], random: &random) }
    }

    @Test(arguments: [
        ("frame_newest_first", [5, 6, 50, 60, 3, 4, 30, 40, 1, 2, 10, 20] as [Float]),
        ("frame_oldest_first", [1, 2, 10, 20, 3, 4, 30, 40, 5, 6, 50, 60]),
        ("term_oldest_first", [1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60]),
        ("term_newest_first", [5, 6, 3, 4, 1, 2, 50, 60, 30, 40, 10, 20]),
    ])
    func historyLayoutsStackAsDeclared(layout: String, third: [Float]) throws {
        let m = try Manifest.parse(yaml: twoJoints("""
          history: 3
          history_layout: \(layout)
          terms:
            - {source: joint_positions_absolute}
            - {source: last_action}
        """))
        var builder = ObservationBuilder(manifest: m)
        var random = SeededRandom(seed: 1)
        let first = try builder.build(state: state([1, 2]), lastAction: [10, 20], random: &random)
        // The first frame of an episode fills the whole history, whatever the layout.
        let primed: [Float] = layout.hasPrefix("frame") ? [1, 2, 10, 20, 1, 2, 10, 20, 1, 2, 10, 20] : [1, 2, 1, 2, 1, 2, 10, 20, 10, 20, 10, 20]
        #expect(first == primed)
        _ = try builder.build(state: state([3, 4]), lastAction: [30, 40], random: &random)
        #expect(try builder.build(state: state([5, 6]), lastAction: [50, 60], random: &random) == third)
        builder.reset()
        #expect(try builder.build(state: state([1, 2]), lastAction: [10, 20], random: &random) == primed)
    }

    @Test func perTermHistoryLengthsAsIsaacLab() throws {
        let m = try Manifest.parse(yaml: twoJoints("""
          history_layout: term_oldest_first
          terms:
            - {source: joint_positions_absolute, history: 2, scale: 0.5}
            - {source: last_action, history: 3, clip: 45}
            - {source: joint_velocities}
        """))
        #expect(m.observationSize == 2 * 2 + 2 * 3 + 2)
        var builder = ObservationBuilder(manifest: m)
        var random = SeededRandom(seed: 1)
        _ = try builder.build(state: state([1, 2], [7, 8]), lastAction: [10, 20], random: &random)
        _ = try builder.build(state: state([3, 4], [7, 8]), lastAction: [30, 40], random: &random)
        let obs = try builder.build(state: state([5, 6], [7, 9]), lastAction: [50, 60], random: &random)
        // Scale and clip apply per term, before the history.
        #expect(obs == [1.5, 2, 2.5, 3, 10, 20, 30, 40, 45, 45, 7, 9])
    }

    @Test func theDefaultLayoutIsUnchanged() throws {
        // The figures of the historyStacksNewestFirst test, through the explicit default layout.
        var manifest = try Manifest.load(path: cartpoleManifest)
        manifest.observation.history = 3
        manifest.observation.historyLayout = .frameNewestFirst
        var builder = ObservationBuilder(manifest: manifest)
        var random = SeededRandom(seed: 1)
        func s(_ x: Double) -> RobotState { RobotState(time: 0, jointPositions: [x, 0], jointVelocities: [0, 0], jointTorques: [0, 0]) }
        _ = try builder.build(state: s(1), lastAction: [0], random: &random)
        _ = try builder.build(state: s(2), lastAction: [0], random: &random)
        let third = try builder.build(state: s(3), lastAction: [0], random: &random)
        #expect(third[0] == 3 && third[4] == 2 && third[8] == 1)
    }

    @Test func gaitPeriodCountsFromTheClockStart() throws {
        let m = try Manifest.parse(yaml: twoJoints("""
          gait_period: 0.8
          gait_clock_start: 0.02
          terms:
            - {source: gait_phase}
        """))
        var builder = ObservationBuilder(manifest: m)
        var random = SeededRandom(seed: 1)
        func phase(at t: Double) throws -> [Float] { try builder.build(state: state([0, 0]), lastAction: [0, 0], policyTime: t, random: &random) }
        // unitree_rl_gym: phase = (t mod 0.8) / 0.8, t one control period (0.02 s) at the first step.
        let first = try phase(at: 0)
        #expect(abs(first[0] - Float(sin(2 * Double.pi * 0.025))) < 1e-6 && abs(first[1] - Float(cos(2 * Double.pi * 0.025))) < 1e-6)
        let wrapped = try phase(at: 0.78)
        #expect(abs(wrapped[0]) < 1e-6 && abs(wrapped[1] - 1) < 1e-6)
        let later = try phase(at: 100.98)  // t = 101.0 s = 126.25 periods
        #expect(abs(later[0] - 1) < 1e-5 && abs(later[1]) < 1e-5)
        // The same clock as a frequency.
        var f = try Manifest.parse(yaml: twoJoints("""
          gait_frequency: 1.25
          terms:
            - {source: gait_phase}
        """))
        f.observation.gaitClockStart = 0.02
        var byFrequency = ObservationBuilder(manifest: f)
        let same = try byFrequency.build(state: state([0, 0]), lastAction: [0, 0], policyTime: 0, random: &random)
        #expect(abs(same[0] - first[0]) < 1e-6 && abs(same[1] - first[1]) < 1e-6)
    }
}

@Suite struct ConventionsContractTests {
    @Test func metadataIsComparedInThePolicysOrder() throws {
        let m = try Manifest.parse(yaml: breadthFirst)
        let own = PolicyContract(manifest: m)
        #expect(own.jointNames == ["l_hip", "r_hip", "l_knee", "r_knee"])
        #expect(own.jointStiffness == [10, 30, 20, 40] && own.defaultJointPositions == [0.1, 0.3, 0.2, 0.4])
        #expect(own.mismatches(with: m).isEmpty)
        // As BeyondMimic writes it: comma lists, three decimals, the policy's order.
        let beyondMimic = try PolicyContract(metadata: [
            "joint_names": "l_hip,r_hip,l_knee,r_knee", "default_joint_pos": "0.100,0.300,0.200,0.400",
            "joint_stiffness": "10.000,30.000,20.000,40.000", "joint_damping": "1.000,3.000,2.000,4.000",
            "action_scale": "1.000,2.000,3.000,4.000", "observation_names": "joint_positions,joint_velocities,joint_positions_absolute,last_action",
        ])
        #expect(beyondMimic.mismatches(with: m).isEmpty)
        // Every joint of the articulation, passive ones too, as Isaac Lab lists them; JSON and numpy forms.
        let allJoints = try PolicyContract(metadata: [
            "joint_names": "[\"l_hip\", \"r_hip\", \"tail\", \"l_knee\", \"r_knee\"]",
            "default_joint_pos": "[0.1 0.3 0.0 0.2 0.4]", "joint_stiffness": "[10.0, 30.0, 0.0, 20.0, 40.0]",
        ])
        #expect(allJoints.mismatches(with: m).isEmpty, "\(allJoints.mismatches(with: m))")
        // The manifest's own order in the metadata: the order is reported with the fix, values still by name.
        let manifestOrder = try PolicyContract(metadata: [
            "joint_names": "l_hip,l_knee,r_hip,r_knee", "joint_stiffness": "10,20,35,40",
        ])
        let problems = manifestOrder.mismatches(with: m)
        #expect(problems.contains("joint 1 is l_knee in the policy but r_hip in the manifest"))
        #expect(problems.contains { $0.contains("same joints in another order") })
        #expect(problems.contains("kp of r_hip is 35.0 N·m/rad in the policy but 30.0 N·m/rad in the manifest"))
        #expect(!problems.contains { $0.hasPrefix("kp of l_knee") })
        // A joint the manifest does not have.
        let foreign = try PolicyContract(metadata: ["joint_names": "l_hip,r_hip,l_knee,waist"]).mismatches(with: m)
        #expect(foreign.contains { $0.contains("does not drive: waist") } && foreign.contains { $0.contains("does not name r_knee") })
    }

    @Test func exporterListFormsAreRead() throws {
        #expect(PolicyContract.listItems("a,b, c") == ["a", "b", "c"])
        #expect(PolicyContract.listItems("['a', 'b']") == ["a", "b"])
        #expect(PolicyContract.listItems("[0.1  -0.2\n 0.3]") == ["0.1", "-0.2", "0.3"])
        #expect(PolicyContract.listItems("") == [])
        let c = try PolicyContract(metadata: ["observation_size": "47", "action_scale": "0.25", "control_dt": "0.02"])
        #expect(c.observationSize == 47 && c.actionScale == [0.25] && c.controlPeriod == 0.02)
        do {
            _ = try PolicyContract(metadata: ["joint_stiffness": "[10.0, abc]"])
            Issue.record("a word in a number list must be refused")
        } catch let error as TetherError {
            #expect(error.what.contains("joint_stiffness") && error.what.contains("abc"))
        }
    }

    @Test func aHistoryLayoutThatDoesNotFitTheModelIsRefused() throws {
        let m = try Manifest.parse(yaml: twoJoints("""
          history_layout: term_oldest_first
          terms:
            - {source: joint_positions_absolute, history: 2}
            - {source: last_action, history: 3}
        """))
        #expect(m.observationSize == 10)
        // A model trained on three frames of both terms reads 12 values.
        let path = temporaryPath("history.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try OnnxWriter.write(randomPolicy([12, 8, 2], .elu, seed: 4), metadata: ["observation_size": "12"], to: path)
        do {
            _ = try OnnxPolicy(path: path, manifest: m)
            Issue.record("a model reading 12 values must be refused for a manifest that builds 10")
        } catch let error as TetherError {
            #expect(error.what.contains("reads 12 observations") && error.what.contains("builds 10"))
            #expect(error.what.contains("10 = 2×2 + 2×3 (term_oldest_first)"))
        }
    }
}

/// Runs a policy trained with the manifest's joint order as if it had been trained breadth-first:
/// it reorders the observation's joint blocks back and the action forward.
private struct BreadthFirstWrapper: PolicyRuntime {
    var inner: OnnxPolicy
    /// For each policy joint, its index in the manifest's order.
    let order: [Int]
    /// Where the three joint blocks (positions, velocities, last action) start.
    let blocks: [Int]
    var observationSize: Int { inner.observationSize }
    var actionSize: Int { inner.actionSize }
    mutating func act(_ observation: [Float]) throws -> [Float] {
        var original = observation
        for start in blocks { for (k, j) in order.enumerated() { original[start + j] = observation[start + k] } }
        let action = try inner.act(original)
        return order.map { action[$0] }
    }
}

@Suite struct ConventionsEpisodeTests {
    @Test func aPolicyInAnotherJointOrderWalksTheSameAsTheOriginal() throws {
        let original = try RobotModel.load(manifestPath: quadrupedManifest)
        var manifest = original.manifest
        let names = manifest.joints.map(\.name)  // FR, FL, RR, RL; hip, thigh, calf per leg
        manifest.policyJointOrder = (0..<3).flatMap { part in (0..<4).map { leg in names[leg * 3 + part] } }
        let reordered = try RobotModel(manifest: manifest, model: original.model)
        #expect(manifest.policyJointIndices == [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11])
        var task = original.manifest.task!
        task.episodeSeconds = 4
        let runner = EpisodeRunner(task: task)
        let path = "\(repositoryRoot)/policies/quadruped.onnx"
        var plain = try OnnxPolicy(path: path, manifest: original.manifest)
        var random = SeededRandom(seed: 5)
        let expected = runner.run(sim: SimRobot(robot: original), policy: &plain, random: &random)
        var wrapped = BreadthFirstWrapper(inner: try OnnxPolicy(path: path, manifest: original.manifest),
                                          order: manifest.policyJointIndices, blocks: [9, 21, 33])
        random = SeededRandom(seed: 5)
        let result = runner.run(sim: SimRobot(robot: reordered), policy: &wrapped, random: &random)
        #expect(expected.steps == 200 && expected.distance > 0.5)
        #expect(result == expected)
        // The policy's metadata lists joints in the manifest's order: the reordered manifest reports it.
        #expect(throws: TetherError.self) { try OnnxPolicy(path: path, manifest: manifest) }
    }
}
