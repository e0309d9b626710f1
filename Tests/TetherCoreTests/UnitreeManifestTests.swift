import Foundation
import Testing
@testable import TetherCore

/// The manifest's `unitree:` section: every actuated joint on a distinct motor slot of a known
/// protocol, each mistake reported with its field and line.
@Suite struct UnitreeManifestTests {
    func yaml(_ section: String) -> String { validYAML + "\n" + section }

    @Test func unitreeSectionParses() throws {
        let m = try Manifest.parse(yaml: yaml("unitree: {protocol: unitree_hg, motors: {j1: 0, j2: 34}, interface: eth0, estop_buttons: [L2, B]}"))
        #expect(m.unitree == Manifest.Unitree(messages: .hg, motors: ["j1": 0, "j2": 34], interface: "eth0", estopButtons: ["L2", "B"]))
        #expect(try Manifest.parse(yaml: validYAML).unitree == nil)
        let q = try Manifest.load(path: "\(repositoryRoot)/robots/quadruped/quadruped.yaml")
        #expect(q.unitree?.messages == .go && q.unitree?.motors["RL_calf_joint"] == 11)
    }

    @Test func unitreeUnknownProtocolIsAnError() {
        let p = problems(yaml("unitree: {protocol: unitree_b2, motors: {j1: 0, j2: 1}}"))
        #expect(p.count == 1)
        #expect(p.first?.field == "unitree.protocol" && p.first?.kind == .invalidValue && p.first?.line == 18)
        #expect(p.first?.expected?.contains("unitree_go (Go2, B2) or unitree_hg (G1, H1-2)") == true)
    }

    @Test func unitreeJointWithoutMotorIsAnError() {
        let p = problems(yaml("unitree: {protocol: unitree_go, motors: {j1: 0}}"))
        #expect(p.count == 1)
        #expect(p.first?.field == "unitree.motors.j2" && p.first?.kind == .missingField)
    }

    @Test func unitreeMotorIndexOutOfRangeIsAnError() {
        let p = problems(yaml("unitree: {protocol: unitree_go, motors: {j1: 0, j2: 20}}"))
        #expect(p.contains { $0.field == "unitree.motors.j2" && $0.message.contains("outside unitree_go's slots") && $0.expected == "0 to 19" })
        #expect(problems(yaml("unitree: {protocol: unitree_hg, motors: {j1: 0, j2: 20}}")).isEmpty)
        #expect(problems(yaml("unitree: {protocol: unitree_hg, motors: {j1: -1, j2: 20}}")).contains { $0.field == "unitree.motors.j1" })
        #expect(problems(yaml("unitree: {protocol: unitree_hg, motors: {j1: two, j2: 20}}")).contains { $0.kind == .wrongType })
    }

    @Test func unitreeRepeatedMotorIndexIsAnError() {
        let p = problems(yaml("unitree: {protocol: unitree_go, motors: {j1: 3, j2: 3}}"))
        #expect(p.count == 1)
        #expect(p.first?.message.contains("motor index 3 is already") == true)
    }

    @Test func unitreeUnknownJointAndButtonAreErrors() {
        let p = problems(yaml("unitree: {protocol: unitree_go, motors: {j1: 0, j2: 1, j3: 2}, estop_buttons: [L2, Z]}"))
        #expect(p.contains { $0.kind == .unknownJoint && $0.field == "unitree.motors.j3" })
        #expect(p.contains { $0.field == "unitree.estop_buttons" && $0.message.contains("'Z'") })
        #expect(problems(yaml("unitree: {protocol: unitree_go, motors: {j1: 0, j2: 1}, interface: 'eth0 \"x'}")).contains {
            $0.field == "unitree.interface"
        })
    }

    @Test func unitreeRemoteButtonsDecode() {
        // L2 is bit 5, B bit 9 of the little-endian word at bytes 2-3.
        var frame = [UInt8](repeating: 0, count: 40)
        frame[2] = 0b0010_0000
        frame[3] = 0b0000_0010
        let mask = UnitreeRemote.mask(["L2", "B"])
        #expect(mask == 1 << 5 | 1 << 9)
        #expect(UnitreeRemote.buttonBits(frame) == mask)
        #expect(UnitreeRemote.mask(["L2", "nope"]) == nil)
    }
}
