import Foundation
import Testing
import TetherCore
import TetherSim
@testable import TetherCalibration

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Suite struct ModelPatcherTests {
    let mjcfPath = "\(repositoryRoot)/robots/quadruped/quadruped.xml"
    let urdfPath = "\(repositoryRoot)/robots/quadruped/quadruped.urdf"

    @Test func mjcfPatchTouchesOnlyTheChangedAttributes() throws {
        let text = try String(contentsOfFile: mjcfPath, encoding: .utf8)
        let changes: [ModelPatcher.Change] = [
            .init(parameter: .bodyMass("FR_thigh"), values: [1.07]),
            .init(parameter: .jointDamping("FR_thigh_joint"), values: [0.21]),
            .init(parameter: .jointFrictionLoss("FR_thigh_joint"), values: [0.14]),
            .init(parameter: .bodyCenterOfMass("trunk"), values: [0.035, 0.004, 0]),
        ]
        let result = try ModelPatcher().patch(text, format: .mjcf, changes: changes, source: mjcfPath)
        // Three lines changed (the thigh's inertial, the thigh joint, the trunk's inertial), each once.
        #expect(result.diff.count == 6, "\(result.diff)")
        let oldLines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let newLines = result.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(oldLines.count == newLines.count)
        #expect(zip(oldLines, newLines).filter { $0 != $1 }.count == 3)
        // MuJoCo reads the patched file with the new values (and the joint's own attributes override its class).
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-patch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let patched = dir.appendingPathComponent("quadruped.xml").path
        try result.text.write(toFile: patched, atomically: true, encoding: .utf8)
        let model = try SimModel(path: patched)
        #expect(try model.get(.bodyMass("FR_thigh")) == [1.07])
        #expect(try model.get(.jointDamping("FR_thigh_joint")) == [0.21])
        #expect(try model.get(.jointFrictionLoss("FR_thigh_joint")) == [0.14])
        #expect(try model.get(.jointDamping("FL_thigh_joint")) == [0.1])
        #expect(try model.get(.bodyCenterOfMass("trunk")) == [0.035, 0.004, 0])
    }

    @Test func urdfPatchWritesInertialsAndDynamics() throws {
        let text = try String(contentsOfFile: urdfPath, encoding: .utf8)
        let changes: [ModelPatcher.Change] = [
            .init(parameter: .bodyMass("FR_calf"), values: [0.25]),
            .init(parameter: .bodyInertia("FR_calf"), values: [0.001, 0.002, 0.0015]),
            .init(parameter: .jointDamping("FR_calf_joint"), values: [0.3]),
            .init(parameter: .jointArmature("FR_calf_joint"), values: [0.02]),
        ]
        let result = try ModelPatcher().patch(text, format: .urdf, changes: changes, source: urdfPath)
        #expect(result.notWritten.count == 1 && result.notWritten[0].contains("armature"))
        #expect(result.text.contains("<dynamics damping=\"0.3\" friction=\"0.05\"/>"))
        #expect(result.text.contains("<mass value=\"0.25\"/>"))
        #expect(result.text.contains("<inertia ixx=\"0.001\" iyy=\"0.002\" izz=\"0.0015\""))
        // An independent reader (MuJoCo's URDF importer) sees the values.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-urdf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let patched = dir.appendingPathComponent("q.urdf").path
        try result.text.write(toFile: patched, atomically: true, encoding: .utf8)
        let model = try SimModel(path: patched)
        #expect(try model.get(.bodyMass("FR_calf")) == [0.25])
        #expect(try model.get(.jointDamping("FR_calf_joint")) == [0.3])
    }

    @Test func unknownNamesAreClearErrors() throws {
        let text = try String(contentsOfFile: mjcfPath, encoding: .utf8)
        #expect { try ModelPatcher().patch(text, format: .mjcf, changes: [.init(parameter: .bodyMass("FR_thighh"), values: [1])], source: mjcfPath) }
            throws: { "\($0)".contains("body 'FR_thighh' is not in the model") }
        // A body whose mass comes from its geoms cannot be patched in place.
        let xml = "<mujoco><worldbody><body name=\"b\"><geom size=\"0.1\"/></body></worldbody></mujoco>"
        #expect { try ModelPatcher().patch(xml, format: .mjcf, changes: [.init(parameter: .bodyMass("b"), values: [1])], source: "x.xml") }
            throws: { "\($0)".contains("no <inertial>") }
    }

    @Test func commentsAreNeverPatched() throws {
        let xml = "<mujoco><!-- <joint name=\"j\" damping=\"9\"/> --><worldbody><body name=\"b\"><joint name=\"j\" type=\"hinge\"/><geom "
            + "size=\"0.1\"/></body></worldbody></mujoco>"
        let r = try ModelPatcher().patch(xml, format: .mjcf, changes: [.init(parameter: .jointDamping("j"), values: [0.5])], source: "x.xml")
        #expect(r.text.contains("<!-- <joint name=\"j\" damping=\"9\"/> -->"))
        #expect(r.text.contains("<joint name=\"j\" type=\"hinge\" damping=\"0.5\"/>"))
    }
}
