import Foundation
import Testing
import TetherCore
@testable import TetherSafety

/// The error `body` throws, as text ("" when it does not throw).
func errorText(_ body: () throws -> Void) -> String {
    do {
        try body()
        return ""
    } catch {
        return "\(error)"
    }
}

@Suite struct SafetyConfigTests {
    @Test func configReadsTheQuadrupedManifest() throws {
        let config = try SafetyConfig(manifest: Robots.quadruped)
        #expect(config.count == 12)
        #expect(config.mode == .position)
        #expect(config.startStage == 0.25)
        #expect(config.tiltLimit == 0.785)
        #expect(config.stateTimeout == 0.05)
        #expect(abs(config.maxTickLateness - 0.02) < 1e-12)  // one control period at 50 Hz
        #expect(config.actionClip == 100)
        let calf = try #require(config.jointNames.firstIndex(of: "FR_calf_joint"))
        #expect(abs(config.softPositionLimits[calf].lowerBound - (-2.768)) < 1e-12)
        #expect(abs(config.softPositionLimits[calf].upperBound - (-0.938)) < 1e-12)
        #expect(config.torqueLimits[calf] == 35.55)
        #expect(config.feedforward[calf] == 5.2)
        #expect(config.dampingKd.allSatisfy { $0 == 0.5 })  // the manifest's kd
        #expect(config.minBaseHeight == 0.15)  // the walking task's fallen height
        // The deployment's filters are on by default: a low-pass at half the control
        // rate and the joints' velocity limits on the targets' speed (libfranka enables its own).
        #expect(config.smoothingCutoffHz == 25)
        #expect(config.maxTargetVelocity == config.velocityLimits)
        let off = try SafetyConfig(manifest: Robots.quadruped, options: SafetyOptions(manifestFilters: false))
        #expect(off.smoothingAlpha == nil && off.maxTargetVelocity == nil)
    }

    @Test func theManifestSetsOrTurnsOffTheDeploymentFilters() throws {
        var manifest = Robots.quadruped
        manifest.safety.smoothingCutoffHz = 0
        manifest.safety.maxTargetVelocity = [0]
        let off = try SafetyConfig(manifest: manifest)
        #expect(off.smoothingAlpha == nil && off.maxTargetVelocity == nil)
        manifest.safety.smoothingCutoffHz = 20
        manifest.safety.maxTargetVelocity = [5]
        let on = try SafetyConfig(manifest: manifest)
        #expect(on.smoothingCutoffHz == 20 && on.maxTargetVelocity == Array(repeating: 5, count: 12))
        // The cart-pole drives efforts: no position filters there.
        let effort = try SafetyConfig(manifest: Robots.cartpole)
        #expect(effort.smoothingAlpha == nil && effort.maxTargetVelocity == nil)
    }

    @Test func velocityTargetsAndEffortModeGainsAreBounded() throws {
        var wrapper = try makeWrapper(stage: 1.0)
        let manifest = Robots.quadruped
        let n = 12
        let q = manifest.joints.map(\.defaultPosition)
        let state = RobotState(time: 0, jointPositions: q, jointVelocities: Array(repeating: 0, count: n), jointTorques: Array(repeating: 0, count: n),
                               baseOrientation: SIMD4(1, 0, 0, 0), baseAngularVelocity: .zero)
        var command = manifest.defaultPoseCommand
        command.velocities = Array(repeating: 1000, count: n)
        let output = wrapper.tick(SafetyInput(time: 0, state: state, stateReceivedAt: 0, action: nil, lateness: 0, command: command, expectUpright: true))
        #expect(output.command.velocities.enumerated().allSatisfy { abs($0.element) <= manifest.actuatedJoints[$0.offset].velocityLimit })
        for k in 0..<n {
            let tau = output.command.kp[k] * (output.command.positions[k] - q[k])
                + output.command.kd[k] * output.command.velocities[k] + output.command.torques[k]
            #expect(abs(tau) <= manifest.actuatedJoints[k].torqueLimit! + 1e-9)
        }
        // Effort mode: a hold command's gains are bounded like position mode's.
        var cart = try makeWrapper(Robots.cartpole, stage: 0.25)
        let cm = Robots.cartpole
        let m = cm.actuatedJoints.count
        let cq = cm.joints.map { _ in 0.0 }
        let cstate = RobotState(time: 0, jointPositions: cq, jointVelocities: cq.map { _ in 0 }, jointTorques: cq.map { _ in 0 })
        let hold = JointCommand(positions: Array(repeating: 0.5, count: m), velocities: Array(repeating: 0, count: m), torques: Array(repeating: 0, count: m),
                                kp: Array(repeating: 1e6, count: m), kd: Array(repeating: 0, count: m))
        let out = cart.tick(SafetyInput(time: 0, state: cstate, stateReceivedAt: 0, action: nil, lateness: 0, command: hold, expectUpright: false))
        let config = cart.config
        for k in 0..<m {
            let idx = config.stateIndices[k]
            let tau = out.command.kp[k] * (out.command.positions[k] - cq[idx]) + out.command.torques[k]
            #expect(abs(tau) <= config.torqueBound(k, stage: 0.25) + 1e-9)
        }
    }

    @Test func cartpoleDampingDefaultsToTorqueOverVelocityLimit() throws {
        let config = try SafetyConfig(manifest: Robots.cartpole)
        #expect(config.count == 1)
        #expect(config.jointNames == ["slider"])
        #expect(config.mode == .effort)
        #expect(config.floatingBase == false)
        #expect(config.minBaseHeight == nil)
        #expect(config.dampingKd == [2.0])  // 20 N / 10 m/s
    }

    @Test func explicitStageOverridesTheManifest() throws {
        #expect(try SafetyConfig(manifest: Robots.quadruped, stage: 1.0).startStage == 1.0)
        let text = errorText { _ = try SafetyConfig(manifest: Robots.quadruped, stage: 0.3) }
        #expect(text.contains("torque stage 0.3") && text.contains("stage"))
    }

    @Test func marginWiderThanLimitsNamesTheJoint() {
        var manifest = Robots.cartpole
        manifest.safety.positionMargin = 2.5
        let text = errorText { _ = try SafetyConfig(manifest: manifest) }
        #expect(text.contains("slider") && text.contains("safety.position_margin"))
    }

    @Test func missingTorqueLimitNamesTheJointAndField() {
        var manifest = Robots.quadruped
        manifest.joints[2].torqueLimit = nil
        let text = errorText { _ = try SafetyConfig(manifest: manifest) }
        #expect(text.contains("FR_calf_joint") && text.contains("joints[2].torque_limit"))
    }

    @Test func badOptionsAreNamed() {
        let cases: [(SafetyOptions, String)] = [
            (SafetyOptions(maxTargetJerk: [100]), "maxTargetJerk"),
            (SafetyOptions(maxTargetVelocity: [1, 2]), "maxTargetVelocity"),
            (SafetyOptions(maxTargetAcceleration: [-1]), "maxTargetAcceleration"),
            (SafetyOptions(smoothingCutoffHz: .nan), "smoothingCutoffHz"),
            (SafetyOptions(maxTickLateness: 0), "maxTickLateness"),
            (SafetyOptions(dampingKd: [0]), "dampingKd"),
            (SafetyOptions(velocityLimitTicks: 0), "velocityLimitTicks"),
            (SafetyOptions(maxTiltRate: -1), "maxTiltRate"),
        ]
        for (options, field) in cases {
            let text = errorText { _ = try SafetyConfig(manifest: Robots.quadruped, options: options) }
            #expect(text.contains(field), "\(field): \(text)")
        }
        let effort = errorText { _ = try SafetyConfig(manifest: Robots.cartpole, options: SafetyOptions(smoothingCutoffHz: 5)) }
        #expect(effort.contains("effort"))
    }

    @Test func smoothingAlphaFollowsLibfranka() throws {
        let config = try SafetyConfig(manifest: Robots.quadruped, options: SafetyOptions(smoothingCutoffHz: 4))
        let period = 0.02
        let expected = period / (period + 1 / (2 * Double.pi * 4))
        #expect(abs(try #require(config.smoothingAlpha) - expected) < 1e-15)
        let off = try SafetyConfig(manifest: Robots.quadruped, options: SafetyOptions(smoothingCutoffHz: 0))
        #expect(off.smoothingAlpha == nil && off.smoothingCutoffHz == nil)
    }

    @Test func reasonsHaveStableSnakeCaseNames() {
        let names = SafetyReason.allCases.map(\.rawValue)
        #expect(Set(names).count == names.count)
        #expect(names.allSatisfy { $0.allSatisfy { $0.isLowercase || $0 == "_" } })
        #expect(SafetyReason(rawValue: "estop") == .eStop)
        // Every stop cause has a priority, so a tick with several names one.
        #expect(Set(SafetyReason.allCases.filter(\.stops)) == Set(SafetyReason.stopPriority))
    }
}
