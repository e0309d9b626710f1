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
        #expect(config.smoothingAlpha == nil && config.maxTargetVelocity == nil)
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
