import Foundation
import Testing
import TetherCore
@testable import TetherSim

let g1LikeXML = "\(repositoryRoot)/tests/fixtures/g1_like/g1_like.xml"

@Suite struct RobotImportTests {
    @Test func outlineReadsJointsActuatorsAndSensors() throws {
        let outline = try ModelOutline(path: g1LikeXML)
        #expect(outline.joints.count == 12 && outline.floatingBody == "pelvis")
        #expect(outline.joints[0].name == "left_hip_pitch_joint" && outline.joints[0].actuator == "left_hip_pitch")
        #expect(outline.joints[3].torqueLimit == 139 && outline.joints.allSatisfy(\.actuatorIsPlainMotor))
        #expect(outline.joints.map(\.depth) == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5])
        #expect(outline.orientationSensors == ["imu_quat"] && outline.gyroSensors == ["imu_gyro"] && outline.accelerometerSensors == ["imu_acc"])
        #expect(outline.timestep == 0.002)
    }

    @Test func unitreeDraftPassesTheRobotCheck() throws {
        let outline = try ModelOutline(path: g1LikeXML)
        let dir = NSTemporaryDirectory() + "tether-import-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/g1.yaml"
        let draft = try ManifestDraft.draft(model: outline, configPath: "\(repositoryRoot)/tests/fixtures/g1_like/deploy_g1_like.yaml", manifestPath: out)
        try draft.yaml.write(toFile: out, atomically: true, encoding: .utf8)
        let robot = try RobotModel.load(manifestPath: out)
        let m = robot.manifest
        // G1 12-dof: 47 = 3 + 3 + 3 + 12 + 12 + 12 + 2.
        #expect(m.observationSize == 47 && m.actionSize == 12)
        #expect(m.rates.physicsHz == 500 && m.rates.decimation == 10)
        #expect(m.joints.map(\.kp) == [100, 100, 100, 150, 40, 40, 100, 100, 100, 150, 40, 40])
        #expect(m.joints[3].defaultPosition == 0.3 && m.joints[3].torqueLimit == 139)
        #expect(m.observation.gaitPeriod == 0.8 && m.action.scale == [0.25])
        #expect(m.policyJointOrder == nil)
        #expect(draft.checks.contains { $0.contains("velocity_limit") })
    }

    @Test func isaacLabDraftGuessesTheBreadthFirstOrderAndPassesTheCheck() throws {
        let outline = try ModelOutline(path: g1LikeXML)
        let dir = NSTemporaryDirectory() + "tether-import-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/g1.yaml"
        let draft = try ManifestDraft.draft(model: outline, configPath: "\(repositoryRoot)/tests/fixtures/g1_like/isaaclab_env.yaml", manifestPath: out)
        #expect(draft.trainer == .isaacLab)
        try draft.yaml.write(toFile: out, atomically: true, encoding: .utf8)
        let m = try RobotModel.load(manifestPath: out).manifest
        #expect(m.policyJointOrder?.prefix(4) == ["left_hip_pitch_joint", "right_hip_pitch_joint", "left_hip_roll_joint", "right_hip_roll_joint"])
        #expect(m.observation.historyLayout == .termOldestFirst)
        #expect(m.observationSize == (3 + 3 + 3 + 12 + 12 + 12) * 5)
        #expect(m.joints.first { $0.name == "left_knee_joint" }?.kp == 150 && m.joints.first { $0.name == "left_ankle_roll_joint" }?.kd == 2)
        #expect(m.joints.first { $0.name == "right_ankle_pitch_joint" }?.defaultPosition == -0.2)
        #expect(m.observation.terms[0].scale == [0.2] && m.observation.terms[0].history == 5)
        #expect(draft.checks.contains { $0.contains("breadth-first") })
    }
}
