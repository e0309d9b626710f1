import Foundation
import Testing
import TetherCore
@testable import TetherSafety

/// `safety.clamp_targets: false` and `safety.torque_bound: saturate`: the actuator semantics of
/// trainers whose PD pushes joints against their limits and saturates at the motor's torque
/// (legged_gym, unitree_rl_gym), declared in the manifest.
@Suite struct TrainerActuatorTests {
    func manifest(clamp: Bool, bound: Manifest.Safety.TorqueBound) -> Manifest {
        var m = Robots.quadruped
        m.safety.clampTargets = clamp
        m.safety.torqueBound = bound
        return m
    }

    @Test func targetsPastTheRangeAreKeptWhenTheManifestSaysSo() throws {
        var wrapper = try makeWrapper(manifest(clamp: false, bound: .saturate), stage: 1.0)
        var action = zeroAction()
        action[0] = 4  // 0.25 × 4 = 1 rad on a ±0.863 rad hip
        let output = wrapper.tick(nominal(0, action: action))
        #expect(abs(output.command.positions[0] - 1.0) < 1e-12)
        #expect(output.command.kp[0] == 25)
        #expect(output.events.isEmpty)
        // The measured position is still checked: past the hard limit by more than the
        // tolerance, the robot stops.
        var state = standing()
        state.jointPositions[0] = 0.863 + 0.11
        let stopped = wrapper.tick(nominal(0.02, state: state, action: action))
        #expect(stopped.mode.isStopped)
        #expect(stopped.events.contains { $0.reason == .positionLimit })
    }

    @Test func saturateLeavesTheFullStageToTheDriverAndShapesTheLowerStages() throws {
        var action = zeroAction()
        action[0] = 3  // 0.75 rad: 18.75 N·m at kp 25, within the 23.7 N·m limit; 4.7 N·m at 25 %
        action[1] = 20 // a torque far past the limit at any stage
        var full = try makeWrapper(manifest(clamp: true, bound: .saturate), stage: 1.0)
        let unshaped = full.tick(nominal(0, action: action))
        #expect(unshaped.command.kp == Robots.quadruped.defaultPoseCommand.kp)
        #expect(!unshaped.events.contains { $0.reason == .torqueBound })
        var quarter = try makeWrapper(manifest(clamp: true, bound: .saturate), stage: 0.25)
        let shaped = quarter.tick(nominal(0, action: action))
        let torque = pdTorque(shaped.command, 0, config: quarter.config, state: standing())
        #expect(abs(torque) <= 0.25 * 23.7 + 1e-9)
        #expect(shaped.events.contains { $0.reason == .torqueBound })
        // The default method shapes at the full stage too.
        var shapeAtFull = try makeWrapper(manifest(clamp: true, bound: .shapeTargets), stage: 1.0)
        #expect(shapeAtFull.tick(nominal(0, action: action)).events.contains { $0.reason == .torqueBound })
    }

    @Test func theManifestReadsBothAndRefusesNonsense() throws {
        let source = try String(contentsOfFile: "\(repositoryRoot)/robots/quadruped/quadruped.yaml", encoding: .utf8)
        let dir = NSTemporaryDirectory() + "tether-actuator-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for file in ["quadruped.xml"] {
            try FileManager.default.copyItem(atPath: "\(repositoryRoot)/robots/quadruped/\(file)", toPath: "\(dir)/\(file)")
        }
        func load(_ extra: String) throws -> Manifest {
            let text = source.replacingOccurrences(of: "safety:\n", with: "safety:\n" + extra)
            try text.write(toFile: "\(dir)/m.yaml", atomically: true, encoding: .utf8)
            return try Manifest.load(path: "\(dir)/m.yaml")
        }
        let m = try load("  clamp_targets: false\n  torque_bound: saturate\n")
        #expect(m.safety.clampTargets == false && m.safety.torqueBound == .saturate)
        let defaults = try load("")
        #expect(defaults.safety.clampTargets && defaults.safety.torqueBound == .shapeTargets)
        do {
            _ = try load("  torque_bound: clip\n")
            Issue.record("an unknown torque_bound was accepted")
        } catch {
            #expect("\(error)".contains("safety.torque_bound") && "\(error)".contains("shape_targets or saturate"), "\(error)")
        }
        do {
            _ = try load("  clamp_targets: maybe\n")
            Issue.record("clamp_targets: maybe was accepted")
        } catch {
            #expect("\(error)".contains("safety.clamp_targets"), "\(error)")
        }
    }
}
