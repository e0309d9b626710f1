import Foundation
import Testing
import TetherCore
@testable import TetherSim

/// Models as vendors and MuJoCo Menagerie ship them (fixtures/vendor_robot): no IMU sensors, a
/// scene that includes the robot, meshes in a meshdir, joint actuatorfrcrange, position servos.
let vendorDirectory = "\(repositoryRoot)/fixtures/vendor_robot"
let vendorManifest = "\(vendorDirectory)/vendorbot.yaml"
let vendorServoManifest = "\(vendorDirectory)/vendorbot_servo.yaml"

/// Loads a manifest variant (written beside the fixture) and returns its problems, none if it loads.
func vendorProblems(_ original: String, _ replacements: [(String, String)]) throws -> [ManifestProblem] {
    let path = try writeManifestVariant(original, replacing: replacements)
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
        _ = try RobotModel.load(manifestPath: path)
        return []
    } catch let error as ManifestError {
        return error.problems
    }
}

/// Writes a scene beside the fixture that includes robot.xml and `actuators` (an <actuator> body),
/// runs `body` with its path, and removes it.
func withVendorScene<T>(actuators: String, _ body: (String) throws -> T) throws -> T {
    let id = UUID().uuidString
    let actuatorFile = ".test-\(id)-actuators.xml", scene = "\(vendorDirectory)/.test-\(id)-scene.xml"
    try "<mujoco><actuator>\(actuators)</actuator></mujoco>".write(toFile: "\(vendorDirectory)/\(actuatorFile)", atomically: true, encoding: .utf8)
    try "<mujoco><include file=\"robot.xml\"/><include file=\"\(actuatorFile)\"/></mujoco>".write(toFile: scene, atomically: true, encoding: .utf8)
    defer {
        try? FileManager.default.removeItem(atPath: "\(vendorDirectory)/\(actuatorFile)")
        try? FileManager.default.removeItem(atPath: scene)
    }
    return try body(URL(fileURLWithPath: scene).lastPathComponent)
}

/// Position targets that wander around the default pose (small enough that no torque is clipped).
func wanderingCommand(_ robot: RobotModel, step: Int) -> JointCommand {
    var c = robot.manifest.defaultPoseCommand
    let t = Double(step) * 0.02
    for k in c.positions.indices { c.positions[k] += 0.12 * sin(2 * .pi * 1.3 * t + Double(k)) }
    return c
}

@Suite struct VendorModelTests {
    @Test func menagerieStyleModelLoadsUnchanged() throws {
        let robot = try RobotModel.load(manifestPath: vendorManifest)
        #expect(robot.actuatorIDs.count == 8)
        #expect(robot.drives.allSatisfy { $0 == .motor } && !robot.hasServos)
        #expect(robot.model.raw.pointee.nmesh == 1, "the trunk mesh from the meshdir")
        #expect(robot.model.raw.pointee.nsensor == 0, "the model has no sensors at all")
        let base = try #require(robot.baseSensors)
        #expect(base.orientation == nil && base.gyro == nil && base.accelerometer == nil)
        #expect(robot.manifest.base?.imu == .floatingBase)
        let state = SimRobot(robot: robot).state()
        #expect(state.baseOrientation == SIMD4(1, 0, 0, 0))
        #expect(state.baseAngularVelocity == SIMD3(0, 0, 0))
        #expect(state.baseAcceleration == nil)
    }

    @Test func menagerieStyleModelStandsAndFallsLimp() throws {
        let robot = try RobotModel.load(manifestPath: vendorManifest)
        let stand = HoldRollout(seconds: 5).run(SimRobot(robot: robot))
        #expect(stand.held)
        #expect(stand.maxTilt! < Units.radians(degrees: 3))
        #expect(stand.minBaseHeight! > 0.2)
        #expect(stand.maxTorque <= 5 + 1e-9)
        #expect(stand.warnings.isEmpty)

        // With zero torque it folds onto its trunk: lower, still above the floor, level, finite.
        let sim = SimRobot(robot: robot)
        try sim.apply(.zeroTorque(count: 8))
        for _ in 0..<150 { sim.stepControl() }
        let s = sim.state()
        #expect(!sim.data.isDiverged)
        let z = try #require(s.basePosition?.z)
        #expect(z < 0.12 && z > 0.02, "the trunk rests on its folded legs or the floor: z = \(z)")
        #expect(s.tilt! < Units.radians(degrees: 20))
        #expect(abs((s.baseOrientation! * s.baseOrientation!).sum() - 1) < 1e-12)
        #expect(s.jointVelocities.allSatisfy { abs($0) < 0.05 }, "at rest after 3 s")
    }

    @Test func floatingBaseIMUEqualsFramequatAndGyroSensors() throws {
        // One model with both: the manifest reads the floating base, the sensors read the same body.
        let path = try writeManifestVariant(vendorManifest, replacing: [("model: scene.xml", "model: scene_sensors.xml")])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let robot = try RobotModel.load(manifestPath: path)
        let sim = SimRobot(robot: robot)
        let quat = try robot.model.sensor("imu_quat"), gyro = try robot.model.sensor("imu_gyro")
        var checked = 0, turned = 0.0
        for step in 0..<100 {
            // Push the trunk sideways and twist it so that every axis turns.
            sim.data.appliedBodyForces[6 * robot.baseSensors!.bodyID + 3] = step < 20 ? 0.3 : 0
            sim.data.appliedBodyForces[6 * robot.baseSensors!.bodyID + 5] = step < 20 ? 0.4 : 0
            try sim.apply(wanderingCommand(robot, step: step))
            sim.stepControl()
            sim.data.forward()  // sensors of the current state (after a step they are of the one before)
            let s = sim.state()
            let q = sim.data.sensor(quat), w = sim.data.sensor(gyro)
            for k in 0..<4 { #expect(abs(s.baseOrientation![k] - q[k]) < 1e-12, "orientation[\(k)] at step \(step)") }
            for k in 0..<3 { #expect(abs(s.baseAngularVelocity![k] - w[k]) < 1e-12, "angular velocity[\(k)] at step \(step)") }
            turned = max(turned, abs(w[0]) + abs(w[1]) + abs(w[2]))
            checked += 1
        }
        #expect(checked == 100)
        #expect(turned > 0.1, "the trunk turned (largest |w| sum \(turned) rad/s)")

        // The sensor path, named in the manifest, reads the same values after forward().
        let sensed = try writeManifestVariant(path, replacing: [("imu: floating_base", "imu: {orientation: imu_quat, gyro: imu_gyro}")])
        defer { try? FileManager.default.removeItem(atPath: sensed) }
        let viaSensors = try RobotModel.load(manifestPath: sensed)
        #expect(viaSensors.baseSensors?.orientation != nil)
        let other = SimRobot(robot: viaSensors)
        for step in 0..<20 { try other.apply(wanderingCommand(viaSensors, step: step)); other.stepControl() }
        other.data.forward()
        let fromSensors = other.state()
        let fromBase = SimRobot(robot: robot)
        for step in 0..<20 { try fromBase.apply(wanderingCommand(robot, step: step)); fromBase.stepControl() }
        let b = fromBase.state()
        for k in 0..<4 { #expect(abs(b.baseOrientation![k] - fromSensors.baseOrientation![k]) < 1e-12) }
        for k in 0..<3 { #expect(abs(b.baseAngularVelocity![k] - fromSensors.baseAngularVelocity![k]) < 1e-12) }
    }

    @Test func torqueLimitAboveTheJointsActuatorForceRangeIsReported() throws {
        let p = try vendorProblems(vendorManifest, [("limits: [-2.6, -0.4], velocity_limit: 20.0, torque_limit: 5.0, kp: 20.0, kd: 0.5}\n  - {name: FL_hip",
                                                    "limits: [-2.6, -0.4], velocity_limit: 20.0, torque_limit: 7.0, kp: 20.0, kd: 0.5}\n  - {name: FL_hip")])
        #expect(p.count == 1)
        #expect(p.contains { $0.kind == .limitOutsideModel && $0.field == "joints[1].torque_limit" && $0.message.contains("actuatorfrcrange of joint "
            + "'FR_knee'") && $0.message.contains("(6.0)") })
    }

    @Test func unknownIMUSourceIsReported() throws {
        let p = try vendorProblems(vendorManifest, [("imu: floating_base", "imu: floating")])
        #expect(p.contains { $0.kind == .invalidValue && $0.field == "base.imu" && $0.message.contains("'floating'") && $0.line == 14 })
    }

    @Test func positionModeWithoutGainsOnAMotorIsReported() throws {
        let p = try vendorProblems(vendorManifest, [("torque_limit: 5.0, kp: 20.0, kd: 0.5}\n  - {name: FR_knee", "torque_limit: 5.0}\n  - {name: FR_knee")])
        #expect(p.count == 1)
        #expect(p.contains { $0.kind == .missingField && $0.field == "joints[0].kp" && $0.message.contains("'FR_hip'") })
    }
}

@Suite struct PositionServoTests {
    @Test func servoGainsAreTakenFromTheModel() throws {
        let robot = try RobotModel.load(manifestPath: vendorServoManifest)
        #expect(robot.hasServos)
        #expect(robot.drives.allSatisfy { $0 == .positionServo(kp: 20, kv: 0.5) })
        #expect(robot.manifest.joints.allSatisfy { $0.kp == 20 && $0.kd == 0.5 })
        #expect(robot.manifest.defaultPoseCommand.kp == [Double](repeating: 20, count: 8))
    }

    @Test func servoFollowsTheSameTrajectoryAsTetherPDOnMotors() throws {
        let servo = try RobotModel.load(manifestPath: vendorServoManifest)
        let motor = try RobotModel.load(manifestPath: vendorManifest)
        let a = SimRobot(robot: servo), b = SimRobot(robot: motor)
        var worst = 0.0, moved = 0.0
        for step in 0..<150 {
            try a.apply(wanderingCommand(servo, step: step))
            try b.apply(wanderingCommand(motor, step: step))
            a.stepControl()
            b.stepControl()
            for (x, y) in zip(a.data.qpos, b.data.qpos) { worst = max(worst, abs(x - y)) }
            moved = max(moved, abs(a.data.qpos[7] - 0.7))
        }
        #expect(worst < 1e-9, "largest qpos difference servo vs motor with Tether's PD: \(worst)")
        #expect(moved > 0.05, "the joints followed the targets (\(moved) rad)")
        #expect(!a.data.isDiverged)
    }

    /// The servo's control is the command's target: MuJoCo's Python bindings, given the targets as
    /// the controls, step the same model to the same states.
    @Test func servoControlIsTheTargetAsInMuJoCoPython() throws {
        let robot = try RobotModel.load(manifestPath: vendorServoManifest)
        let sim = SimRobot(robot: robot)
        var swift: [[Double]] = [], controls: [[Double]] = []
        for step in 0..<100 {
            let c = wanderingCommand(robot, step: step)
            try sim.apply(c)
            sim.stepControl()
            #expect(zip(robot.actuatorIDs.map { sim.data.ctrl[$0] }, c.positions).allSatisfy { $0 == $1 }, "ctrl = target at step \(step)")
            var u = [Double](repeating: 0, count: robot.model.nu)
            for (k, a) in robot.actuatorIDs.enumerated() { u[a] = c.positions[k] }
            controls.append(u)
            swift.append(Array(sim.data.qpos))
        }
        struct Request: Encodable { var model: String; var keyframe: String?; var controls: [[Double]]; var decimation: Int }
        struct Response: Decodable { var qpos: [[Double]] }
        let peer = try runPeer("servo_trajectory.py", Request(model: robot.model.source, keyframe: "home", controls: controls, decimation: sim.decimation),
                               as: Response.self)
        #expect(peer.qpos.count == swift.count)
        var worst = 0.0
        for (p, s) in zip(peer.qpos, swift) { for (x, y) in zip(p, s) { worst = max(worst, abs(x - y)) } }
        #expect(worst < 1e-9, "largest qpos difference Swift vs Python: \(worst)")
    }

    @Test func servoTorqueStaysWithinTheLimit() throws {
        let robot = try RobotModel.load(manifestPath: vendorServoManifest)
        let sim = SimRobot(robot: robot)
        // Targets 1 rad away ask for 20 N·m; the limit is 5 N·m.
        var far = robot.manifest.defaultPoseCommand
        for k in far.positions.indices { far.positions[k] += k % 2 == 0 ? 1.0 : 0.9 }
        try sim.apply(far)
        var saturated = 0
        for _ in 0..<200 {
            sim.stepPhysics(1)
            for a in robot.actuatorIDs {
                #expect(abs(sim.data.actuatorForce[a]) <= 5 + 1e-9)
                if abs(sim.data.actuatorForce[a]) > 5 - 1e-6 { saturated += 1 }
            }
        }
        #expect(saturated > 0, "the bound was reached")

        // A command whose gains are not the servo's (the safety wrapper scaled them, or a damping
        // stop): the servo gives exactly Tether's PD torque of that command, clipped to the limit.
        var weak = far
        weak.kp = weak.kp.map { $0 * 0.3 }
        weak.kd = weak.kd.map { $0 * 0.3 }
        weak.torques = [Double](repeating: 0.2, count: 8)
        try sim.apply(weak)
        var worst = 0.0
        for _ in 0..<200 {
            let q = robot.qposAddress.map { sim.data.qpos[$0] }, qd = robot.dofAddress.map { sim.data.qvel[$0] }
            sim.stepPhysics(1)
            for (k, a) in robot.actuatorIDs.enumerated() {
                let j = robot.actuatedJointIndex[k]
                let tau = min(5, max(-5, weak.kp[k] * (weak.positions[k] - q[j]) - weak.kd[k] * qd[j] + weak.torques[k]))
                worst = max(worst, abs(sim.data.actuatorForce[a] - tau))
            }
        }
        #expect(worst < 1e-9, "servo torque vs Tether's PD torque: \(worst)")
    }

    @Test func servoKpMismatchIsRefusedNamingTheJoint() throws {
        let p = try vendorProblems(vendorServoManifest,
                                   [("{name: FL_knee, actuator: FL_knee, default: -1.4, limits: [-2.6, -0.4], velocity_limit: 20.0, torque_limit: 5.0}",
                                                         "{name: FL_knee, actuator: FL_knee, default: -1.4, limits: [-2.6, -0.4], velocity_limit: 20.0, "
                                                             + "torque_limit: 5.0, kp: 25.0, kd: 0.5}")])
        #expect(p.count == 1)
        let problem = try #require(p.first)
        #expect(problem.field == "joints[3].kp" && problem.line == 20)
        #expect(problem.message.contains("'FL_knee'") && problem.message.contains("25.0") && problem.message.contains("kp is 20.0"))
        #expect(problem.expected?.contains("kp: 20.0") ?? false)
    }

    @Test func servoKdMismatchIsRefused() throws {
        let p = try vendorProblems(vendorServoManifest,
                                   [("{name: FR_hip,  actuator: FR_hip,  default: 0.7,  limits: [-1.0, 2.0],  velocity_limit: 20.0, torque_limit: 5.0}",
                                                         "{name: FR_hip,  actuator: FR_hip,  default: 0.7,  limits: [-1.0, 2.0],  velocity_limit: 20.0, "
                                                             + "torque_limit: 5.0, kd: 1.0}")])
        #expect(p.count == 1 && p[0].field == "joints[0].kd" && p[0].message.contains("kv is 0.5"))
    }

    @Test func effortModeOnAServoIsRefused() throws {
        let p = try vendorProblems(vendorServoManifest, [("mode: position", "mode: effort")])
        #expect(p.count == 8)
        #expect(p.allSatisfy { $0.field.hasSuffix(".actuator") && $0.message.contains("is a position servo") && $0.message.contains("effort-mode") })
    }

    @Test func servoControlRangeNarrowerThanTheLimitsIsReported() throws {
        try withVendorScene(actuators: """
            <position name="FR_hip" joint="FR_hip" kp="20" kv="0.5" ctrlrange="-0.5 1.5"/>
            """) { scene in
            let q = try vendorProblems(vendorServoManifest, [("model: scene_servo.xml", "model: \(scene)"),
                                                             ("actuator: FR_knee,", ""), ("actuator: FL_hip,", ""), ("actuator: FL_knee,",
                                                                                                                     ""), ("actuator: RR_hip,", ""),
                                                             ("actuator: RR_knee,", ""), ("actuator: RL_hip,", ""), ("actuator: RL_knee,", "")])
            #expect(q.count == 1 && q[0].kind == .limitOutsideModel && q[0].field == "joints[0].limits" && q[0].message.contains("ctrlrange"))
        }
    }

    @Test func otherActuatorKindsAreRefusedClearly() throws {
        let cases: [(String, String)] = [
            ("<velocity name=\"FR_hip\" joint=\"FR_hip\" kv=\"2\"/>", "is a velocity servo"),
            ("<general name=\"FR_hip\" joint=\"FR_hip\" gainprm=\"20\" biastype=\"affine\" biasprm=\"1 -20 -0.5\"/>",
             "neither a plain torque motor nor a position servo"),
            ("<position name=\"FR_hip\" joint=\"FR_hip\" kp=\"20\" kv=\"0.5\" timeconst=\"0.01\"/>", "activation dynamics"),
            ("<position name=\"FR_hip\" joint=\"FR_hip\" kp=\"20\" gear=\"2\"/>", "neither a plain torque motor nor a position servo"),
            ("<general name=\"FR_hip\" joint=\"FR_hip\" gainprm=\"2\"/>", "torque motor with gain 2.0"),
        ]
        for (xml, phrase) in cases {
            try withVendorScene(actuators: xml) { scene in
                let p = try vendorProblems(vendorServoManifest, [("model: scene_servo.xml", "model: \(scene)"),
                                                                 ("actuator: FR_knee,", ""), ("actuator: FL_hip,", ""), ("actuator: FL_knee,",
                                                                     ""), ("actuator: RR_hip,", ""),
                                                                 ("actuator: RR_knee,", ""), ("actuator: RL_hip,", ""), ("actuator: RL_knee,", "")])
                #expect(p.count == 1 && p[0].field == "joints[0].actuator" && p[0].message.contains(phrase), "\(xml): \(p)")
            }
        }
    }
}
