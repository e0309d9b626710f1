import CMuJoCo
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TetherCore
@testable import TetherSim

/// The link tree's forward kinematics against MuJoCo's own (`mj_kinematics`), and its URDF.
@Suite struct KinematicTreeTests {
    @Test(arguments: ["quadruped", "cartpole"])
    func linkPosesMatchMuJoCo(robotName: String) throws {
        let robot = try BuiltinRobots.load(robotName)
        let tree = KinematicTree(model: robot.model, name: robot.manifest.name)
        #expect(!tree.links.isEmpty)
        let data = SimData(model: robot.model)
        var random = SeededRandom(seed: 3)
        for _ in 0..<20 {
            data.reset()
            for address in robot.qposAddress { data.qpos[address] += random.uniform(-1, 1) }
            var basePosition: SIMD3<Double>?, baseOrientation: SIMD4<Double>?
            if let base = robot.baseSensors {
                let a = base.freeJointQposAddress
                let q = SIMD4(random.uniform(-1, 1), random.uniform(-1, 1), random.uniform(-1, 1), random.uniform(-1, 1))
                let n = q / (q * q).sum().squareRoot()
                for k in 0..<3 { data.qpos[a + k] = random.uniform(-2, 2) }
                for k in 0..<4 { data.qpos[a + 3 + k] = n[k] }
                basePosition = SIMD3(data.qpos[a], data.qpos[a + 1], data.qpos[a + 2])
                baseOrientation = n
            }
            mj_kinematics(robot.model.raw, data.raw)
            let transforms = tree.transforms(qpos: { data.qpos[$0] }, basePosition: basePosition, baseOrientation: baseOrientation)
            // Compose world poses down the tree and compare with MuJoCo's xpos / xquat.
            var world: [String: (p: SIMD3<Double>, q: SIMD4<Double>)] = [:]
            let rootParent = (p: SIMD3<Double>(0, 0, 0), q: SIMD4<Double>(1, 0, 0, 0))
            for t in transforms {
                let parent = t.parent == "world" ? rootParent : world[t.parent]!
                world[t.child] = (parent.p + KinematicTree.rotate(parent.q, t.translation), KinematicTree.multiply(parent.q, t.rotation))
            }
            for id in 1..<Int(robot.model.raw.pointee.nbody) {
                let name = String(cString: mj_id2name(robot.model.raw, Int32(mjOBJ_BODY.rawValue), Int32(id)))
                guard let mine = world[name] else { continue }
                let xpos = SIMD3(data.raw.pointee.xpos[3 * id], data.raw.pointee.xpos[3 * id + 1], data.raw.pointee.xpos[3 * id + 2])
                let xquat = SIMD4(data.raw.pointee.xquat[4 * id], data.raw.pointee.xquat[4 * id + 1], data.raw.pointee.xquat[4 * id + 2],
                                  data.raw.pointee.xquat[4 * id + 3])
                let dp = mine.p - xpos
                #expect((dp * dp).sum().squareRoot() < 1e-9, "\(robotName) \(name): position \(mine.p) vs MuJoCo \(xpos)")
                let dot = abs((mine.q * xquat).sum())  // q and −q are the same rotation
                #expect(abs(dot - 1) < 1e-9, "\(robotName) \(name): orientation \(mine.q) vs MuJoCo \(xquat)")
            }
        }
    }

    @Test func theURDFDescribesEveryLinkAndJoint() throws {
        let robot = try BuiltinRobots.load("quadruped")
        let tree = KinematicTree(model: robot.model, name: "quadruped")
        let urdf = tree.urdf()
        let document = try XMLDocument(xmlString: urdf)
        let links = try document.nodes(forXPath: "/robot/link").count
        let joints = try document.nodes(forXPath: "/robot/joint").count
        #expect(links == tree.links.count && joints == links - 1)
        let revolute = try document.nodes(forXPath: "/robot/joint[@type='revolute']")
            .compactMap { ($0 as? XMLElement)?.attribute(forName: "name")?.stringValue }
        #expect(Set(revolute) == Set(robot.manifest.joints.map(\.name)), "every actuated joint is revolute, by its name")
        #expect(try document.nodes(forXPath: "//visual").count >= links, "every link has geometry to draw")
        #expect(tree.qposAddresses(of: robot.manifest.joints.map(\.name)) == robot.qposAddress.map { Optional($0) })
    }
}
