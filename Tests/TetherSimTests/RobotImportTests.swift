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

    @Test func unitreeDeployConfigDraftsAManifest() throws {
        let outline = ModelOutline(path: "/robots/g1/g1.xml", timestep: 0.002, joints: [
            .init(name: "hip", range: -2.5...2.8, depth: 0, actuator: "hip_motor", torqueLimit: 88),
            .init(name: "knee", range: -0.1...2.9, depth: 1, actuator: "knee_motor", torqueLimit: 139),
        ], floatingBody: "pelvis", orientationSensors: ["imu_quat"], gyroSensors: ["imu_gyro"])
        let config = temporaryFile("""
        simulation_dt: 0.002
        control_decimation: 10
        kps: [100, 150]
        kds: [2, 4]
        default_angles: [-0.1, 0.3]
        ang_vel_scale: 0.25
        dof_pos_scale: 1.0
        dof_vel_scale: 0.05
        action_scale: 0.25
        cmd_scale: [2.0, 2.0, 0.25]
        num_actions: 2
        num_obs: 17
        """)
        let draft = try ManifestDraft.draft(model: outline, configPath: config, manifestPath: "/robots/g1/g1.yaml")
        #expect(draft.trainer == .unitreeRLGym)
        let m = try Manifest.parse(yaml: draft.yaml, sourcePath: "/robots/g1/g1.yaml")
        #expect(m.modelPath == "/robots/g1/g1.xml")
        #expect(m.rates.physicsHz == 500 && m.rates.controlHz == 50)
        #expect(m.observationSize == 17 && m.actionSize == 2)
        #expect(m.observation.gaitPeriod == 0.8 && m.observation.gaitClockStart == 0.02)
        #expect(m.observation.terms.map(\.source) == [.baseAngularVelocity, .projectedGravity, .velocityCommand, .jointPositions,
                                                        .jointVelocities, .lastAction, .gaitPhase])
        #expect(m.observation.terms[2].scale == [2, 2, 0.25] && m.observation.terms[4].scale == [0.05])
        #expect(m.joints.map(\.kp) == [100, 150] && m.joints.map(\.defaultPosition) == [-0.1, 0.3])
        #expect(m.action.scale == [0.25] && m.base?.gyroSensor == "imu_gyro")
        #expect(draft.checks.contains { $0.contains("velocity_limit") })
        #expect(draft.checks.contains { $0.contains("0.8 s period") })
        #expect(draft.yaml.contains("# To check:"))
        // A model without IMU sensors: the floating base's orientation and rate, a TODO for the
        // user, and an item to check.
        var noIMU = outline
        noIMU.orientationSensors = []
        noIMU.gyroSensors = []
        let blind = try ManifestDraft.draft(model: noIMU, configPath: config, manifestPath: "/robots/g1/g1.yaml")
        #expect(blind.yaml.contains("imu: floating_base  # TODO(check)"))
        #expect(!blind.yaml.contains("TODO_framequat_sensor"))
        #expect(blind.checks.contains { $0.contains("no framequat and gyro sensors") })
        // A configuration for another robot is refused, naming the key.
        let wrong = temporaryFile("simulation_dt: 0.002\ncontrol_decimation: 10\nkps: [1, 2, 3]\nkds: [1, 2]\ndefault_angles: [0, 0]\naction_scale: 0.25\n")
        do {
            _ = try ManifestDraft.draft(model: outline, configPath: wrong, manifestPath: "/robots/g1/g1.yaml")
            Issue.record("three gains for two joints must be refused")
        } catch let error as TetherError {
            #expect(error.what.contains("'kps' has 3 values") && error.location == wrong)
        }
    }
}

/// Writes `text` to a fresh temporary file and returns its path.
private func temporaryFile(_ text: String, suffix: String = ".yaml") -> String {
    let path = NSTemporaryDirectory() + "tether-\(UUID().uuidString)\(suffix)"
    try? text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
