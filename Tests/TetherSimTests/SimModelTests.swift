import Foundation
import Testing
import TetherCore
@testable import TetherSim

@Suite struct SimModelTests {
    @Test func loadsBothBuiltInModelsWithNames() throws {
        let q = try SimModel(path: quadrupedXML)
        #expect(q.nq == 19 && q.nv == 18 && q.nu == 12)
        #expect(abs(q.totalMass - 12.72) < 0.01)
        #expect(q.id(of: .body, "trunk") != nil)
        #expect(q.id(of: .joint, "FR_calf_joint") != nil)
        #expect(q.id(of: .actuator, "RL_thigh") != nil)
        #expect(q.id(of: .geom, "FL_foot_geom") != nil)
        #expect(try q.sensor("imu_quat").dimension == 4)
        #expect(q.names(of: .actuator).count == 12)
        #expect(q.timestep == 0.002)
        let c = try SimModel(path: cartpoleXML)
        #expect(c.nq == 2 && c.nu == 1)
    }

    @Test func badMJCFGivesMuJoCosMessageNotACrash() {
        do {
            _ = try SimModel(xml: "<mujoco><worldbody><body><geom type='sphere' size='-1'/></body></worldbody></mujoco>")
            Issue.record("a negative sphere size must not load")
        } catch let error as TetherError {
            #expect(error.what.contains("MuJoCo could not load the model"))
            #expect(error.location == "<string>")
            #expect(error.what.count > "MuJoCo could not load the model: ".count)
        } catch { Issue.record("unexpected error \(error)") }
        do {
            _ = try SimModel(xml: "<mujoco><worldbody><body name='a'><joint type='hinge'/></body></worldbody><actuator><motor "
                + "joint='nope'/></actuator></mujoco>")
            Issue.record("an unknown joint must not load")
        } catch let error as TetherError {
            #expect(error.what.contains("nope"))
        } catch { Issue.record("unexpected error \(error)") }
        #expect(throws: TetherError.self) { try SimModel(xml: "<mujoco><worldbody>") }
    }

    @Test func missingFileNamesThePath() {
        do {
            _ = try SimModel(path: "/nonexistent/robot.xml")
            Issue.record("must fail")
        } catch let error as TetherError {
            #expect(error.location == "/nonexistent/robot.xml")
        } catch { Issue.record("unexpected error \(error)") }
    }

    @Test func malformedFileOnDiskNamesThePath() throws {
        let path = NSTemporaryDirectory() + "tether-bad-\(UUID().uuidString).xml"
        try "<mujoco><worldbody><geom type='box'/></worldbody>".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try SimModel(path: path)
            Issue.record("must fail")
        } catch let error as TetherError {
            #expect(error.location == path)
            #expect(error.what.contains("MuJoCo"))
        }
    }

    @Test func loadsURDF() throws {
        let urdf = """
        <robot name="two_link">
          <link name="base"><inertial><mass value="1"/><inertia ixx="0.01" iyy="0.01" izz="0.01" ixy="0" ixz="0" iyz="0"/></inertial></link>
          <link name="arm"><inertial><origin xyz="0 0 0.2"/><mass value="0.5"/><inertia ixx="0.002" iyy="0.002" izz="0.001" ixy="0" ixz="0" \
        iyz="0"/></inertial></link>
          <joint name="shoulder" type="revolute"><parent link="base"/><child link="arm"/><axis xyz="0 1 0"/>
            <limit lower="-1.5" upper="1.5" effort="10" velocity="3"/></joint>
        </robot>
        """
        let m = try SimModel(xml: urdf)
        #expect(m.id(of: .joint, "shoulder") != nil)
        #expect(m.jointRange(m.id(of: .joint, "shoulder")!) == -1.5...1.5)
        #expect(try m.get(.bodyMass("arm")) == [0.5])
    }

    @Test func unknownNameSuggestsTheClosest() throws {
        let q = try SimModel(path: quadrupedXML)
        do {
            _ = try q.get(.jointDamping("FR_calf_jont"))
            Issue.record("must fail")
        } catch let error as TetherError {
            #expect(error.what.contains("Did you mean 'FR_calf_joint'"))
        }
    }

    @Test func everyParameterRoundTripsByName() throws {
        let q = try SimModel(path: quadrupedXML)
        let cases: [(SimParameter, [Double])] = [
            (.bodyMass("trunk"), [6.1]), (.bodyInertia("trunk"), [0.02, 0.06, 0.07]), (.bodyCenterOfMass("trunk"), [0.01, 0.002, -0.003]),
            (.geomFriction("FR_foot_geom"), [0.55, 0.01, 0.002]), (.jointDamping("FR_hip_joint"), [0.3]),
            (.jointFrictionLoss("FR_hip_joint"), [0.2]), (.jointArmature("FR_calf_joint"), [0.02]), (.jointStiffness("FL_hip_joint"), [1.5]),
            (.actuatorGain("RR_calf"), [0.9]), (.actuatorBias("RR_calf"), [0, 0.1, 0]), (.actuatorControlRange("RR_calf"), [-30, 30]),
            (.actuatorForceRange("RR_calf"), [-30, 30]), (.gravity, [0, 0, -9.7]), (.timestep, [0.001]),
        ]
        #expect(!q.isModified)
        for (p, v) in cases {
            try q.set(p, v)
            #expect(try q.get(p) == v, "\(p)")
            #expect(try SimParameter(path: p.description) == p)
        }
        #expect(q.isModified)
        // A copy carries the edits; restore returns to the original numbers.
        let original = try SimModel(path: quadrupedXML)
        let copy = q.copy()
        #expect(try copy.get(.bodyMass("trunk")) == [6.1])
        copy.restore(from: original)
        #expect(try copy.get(.bodyMass("trunk")) == [5.2])
        #expect(!copy.isModified)
    }

    @Test func invalidParameterValuesAreRejectedBeforeAnyChange() throws {
        let q = try SimModel(path: quadrupedXML)
        #expect(throws: TetherError.self) { try q.set(.bodyMass("trunk"), [-1]) }
        #expect(throws: TetherError.self) { try q.set(.bodyMass("trunk"), [.nan]) }
        #expect(throws: TetherError.self) { try q.set(.bodyInertia("trunk"), [1, 0.1, 0.1]) }  // triangle inequality
        #expect(throws: TetherError.self) { try q.set(.geomFriction("FR_foot_geom"), [1, 2]) }  // count
        #expect(throws: TetherError.self) { try q.set(.timestep, [0]) }
        #expect(throws: TetherError.self) { try q.set(.actuatorForceRange("FR_hip"), [5, -5]) }
        #expect(try q.get(.bodyMass("trunk")) == [5.2])
        #expect(!q.isModified)
        #expect(throws: TetherError.self) { try SimParameter(path: "body[trunk].colour") }
        #expect(throws: TetherError.self) { try SimParameter(path: "trunk.mass") }
    }

    @Test func saveAndRestoreStateReplaysBitIdentically() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        sim.stepPhysics(100)
        let saved = sim.data.saveState()
        sim.stepPhysics(200)
        let first = Array(sim.data.qpos)
        try sim.data.restore(saved)
        sim.stepPhysics(200)
        #expect(Array(sim.data.qpos) == first)
        let other = try SimModel(path: cartpoleXML)
        #expect(throws: TetherError.self) { try SimData(model: other).restore(saved) }
    }
}

/// The same edits through MuJoCo's Python bindings must give the same trajectory.
@Suite struct PythonPeerTests {
    struct Request: Encodable {
        var model: String
        var keyframe: String?
        var edits: [[Edit]]
        var set_const: Bool
        var steps: Int
        var ctrl: [Double]
        var every: Int
    }
    enum Edit: Encodable {
        case text(String), values([Double])
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self { case .text(let s): try c.encode(s); case .values(let v): try c.encode(v) }
        }
    }
    struct Response: Decodable { var qpos: [[Double]]; var qvel_final: [Double]; var values: [[Double]] }

    func compare(model path: String, keyframe: String?, edits: [(String, String, String, SimParameter, [Double])],
                 ctrl: [Double], steps: Int) throws {
        let m = try SimModel(path: path)
        for e in edits { try m.set(e.3, e.4) }
        let d = SimData(model: m)
        if let keyframe { try d.reset(keyframe: keyframe) }
        for (i, u) in ctrl.enumerated() { d.ctrl[i] = u }
        var swift: [[Double]] = []
        for i in 0..<steps {
            d.step()
            if (i + 1) % 50 == 0 { swift.append(Array(d.qpos)) }
        }
        let request = Request(model: path, keyframe: keyframe,
                              edits: edits.map { [.text($0.0), .text($0.1), .text($0.2), .values($0.4)] },
                              set_const: edits.contains { $0.3.changesInertia }, steps: steps, ctrl: ctrl, every: 50)
        let peer = try runPeer("mujoco_trajectory.py", request, as: Response.self)
        #expect(peer.qpos.count == swift.count)
        var worst = 0.0
        for (a, b) in zip(peer.qpos, swift) { for (x, y) in zip(a, b) { worst = max(worst, abs(x - y)) } }
        #expect(worst < 1e-9, "largest qpos difference Swift vs Python: \(worst)")
        for (e, readBack) in zip(edits, peer.values) {
            let mine = try m.get(e.3)
            #expect(mine.count == readBack.count || readBack.count == 1 || e.3.count == 1, "\(e.3)")
            #expect(abs((mine.first ?? 0) - (readBack.first ?? 0)) < 1e-12, "\(e.3)")
        }
    }

    @Test func frictionDampingAndGainEditsMatchPython() throws {
        try compare(model: quadrupedXML, keyframe: "home", edits: [
            ("geom", "FR_foot_geom", "friction", .geomFriction("FR_foot_geom"), [0.3, 0.01, 0.001]),
            ("geom", "RL_foot_geom", "friction", .geomFriction("RL_foot_geom"), [0.5, 0.02, 0.001]),
            ("joint", "FR_calf_joint", "damping", .jointDamping("FR_calf_joint"), [0.8]),
            ("joint", "FL_thigh_joint", "frictionloss", .jointFrictionLoss("FL_thigh_joint"), [0.3]),
            ("joint", "RR_hip_joint", "stiffness", .jointStiffness("RR_hip_joint"), [2.0]),
            ("actuator", "FR_calf", "gain", .actuatorGain("FR_calf"), [0.7]),
            ("option", "", "gravity", .gravity, [0.5, 0, -9.6]),
        ], ctrl: [0, 1, 5, 0, 1, 5, 0, 1, 5, 0, 1, 5], steps: 1000)
    }

    @Test func inertialEditsMatchPythonAfterSetConst() throws {
        try compare(model: quadrupedXML, keyframe: "home", edits: [
            ("body", "trunk", "mass", .bodyMass("trunk"), [6.5]),
            ("body", "trunk", "com", .bodyCenterOfMass("trunk"), [0.05, 0.01, 0]),
            ("body", "FR_thigh", "inertia", .bodyInertia("FR_thigh"), [0.006, 0.006, 0.001]),
            ("joint", "FR_calf_joint", "armature", .jointArmature("FR_calf_joint"), [0.03]),
        ], ctrl: [Double](repeating: 2, count: 12), steps: 1000)
    }

    @Test func cartpoleTimestepEditMatchesPython() throws {
        try compare(model: cartpoleXML, keyframe: nil, edits: [
            ("option", "", "timestep", .timestep, [0.002]),
            ("joint", "hinge", "damping", .jointDamping("hinge"), [0.05]),
        ], ctrl: [3.0], steps: 600)
    }
}
