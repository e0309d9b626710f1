import CMuJoCo
import Foundation
import Testing
import TetherCore
@testable import TetherRender
import TetherSim

/// The virtual camera's ground truth: boxes from MuJoCo's segmentation, checked against MuJoCo's
/// Python renderer (an independent caller of the same segmentation) and against the geometry
/// projected through the camera (independent of rendering).
@Suite(.serialized) struct GroundTruthTests {
    static let seen = ["seen_cube", "seen_ball", "seen_cylinder"]
    static let width = 320, height = 240

    /// The quadruped at its home pose, and moved / turned so the objects land elsewhere.
    static func poses(_ model: SimModel) throws -> [[Double]] {
        let data = SimData(model: model)
        try data.reset(keyframe: "home")
        let home = Array(data.qpos)
        var moved = home
        moved[0] = 0.45; moved[1] = 0.08
        let yaw = 10.0 * Double.pi / 180  // about z: quaternion (cos, 0, 0, sin) of half the angle
        moved[3] = cos(yaw / 2); moved[6] = sin(yaw / 2)
        return [home, moved]
    }

    /// Boxes from Tether's renderer for a pose.
    static func boxes(_ renderer: OffscreenRenderer, _ data: SimData, _ qpos: [Double], geoms: [Int]) -> [ObjectBox] {
        for i in 0..<qpos.count { data.qpos[i] = qpos[i] }
        data.forward()
        return renderer.segment(data) { ObjectBox.boxes(in: $0, width: width, height: height, geoms: geoms) }
    }

    struct PeerRequest: Encodable {
        var model: String, camera: String, width: Int, height: Int, qpos: [Double], geoms: [String]
        var min_pixels: Int
    }

    struct PeerReply: Decodable { var boxes: [String: [Int]] }

    @Test func boxesAgreeWithMuJoCosPythonRenderer() throws {
        let model = try SimModel(path: quadrupedXML)
        let renderer = try OffscreenRenderer(model: model, width: Self.width, height: Self.height, camera: .named("front"))
        let data = SimData(model: model)
        let ids = try Self.seen.map { try model.requireID(of: .geom, $0) }
        var worst = 0
        for qpos in try Self.poses(model) {
            let ours = Self.boxes(renderer, data, qpos, geoms: ids)
            let peer = try runPeer("segmentation_peer.py", PeerRequest(model: quadrupedXML, camera: "front", width: Self.width, height: Self.height,
                                                                        qpos: qpos, geoms: Self.seen, min_pixels: 20), as: PeerReply.self)
            #expect(ours.count == 3, "all three objects in view: \(ours)")
            #expect(Set(ours.map { Self.seen[ids.firstIndex(of: $0.geom)!] }) == Set(peer.boxes.keys))
            for box in ours {
                let name = Self.seen[ids.firstIndex(of: box.geom)!]
                guard let p = peer.boxes[name] else { continue }
                let edges = [(box.x, p[0]), (box.y, p[1]), (box.x + box.width, p[0] + p[2]), (box.y + box.height, p[1] + p[3])]
                for (a, b) in edges {
                    #expect(abs(a - b) <= 2, "\(name): Tether \(box), MuJoCo Python \(p)")
                    worst = max(worst, abs(a - b))
                }
                #expect(abs(Double(box.pixels - p[4])) <= 0.1 * Double(p[4]), "\(name): \(box.pixels) vs \(p[4]) visible pixels")
            }
        }
        print("ground truth vs MuJoCo Python: largest box edge difference \(worst) px")
    }

    /// Points on a geom's surface in world coordinates (box corners, sphere, cylinder rims).
    static func surface(_ model: SimModel, _ data: SimData, geom g: Int) -> [SIMD3<Double>] {
        let m = model.raw.pointee, d = data.raw.pointee
        let size = SIMD3(m.geom_size[3 * g], m.geom_size[3 * g + 1], m.geom_size[3 * g + 2])
        var local: [SIMD3<Double>] = []
        switch Int32(m.geom_type[g]) {
        case Int32(mjGEOM_BOX.rawValue):
            for corner in 0..<8 { local.append(SIMD3(corner & 1 == 0 ? -1 : 1, corner & 2 == 0 ? -1 : 1, corner & 4 == 0 ? -1 : 1) * size) }
        case Int32(mjGEOM_SPHERE.rawValue):
            let n = 4000, golden = Double.pi * (3 - 5.0.squareRoot())
            for i in 0..<n {
                let z = 1 - 2 * (Double(i) + 0.5) / Double(n), r = (1 - z * z).squareRoot()
                local.append(SIMD3(r * cos(golden * Double(i)), r * sin(golden * Double(i)), z) * size.x)
            }
        case Int32(mjGEOM_CYLINDER.rawValue):
            for i in 0..<720 {
                let a = 2 * Double.pi * Double(i) / 720
                for z in [-size.y, size.y] { local.append(SIMD3(size.x * cos(a), size.x * sin(a), z)) }
            }
        default: Issue.record("geom \(g): unexpected type \(m.geom_type[g])")
        }
        let position = SIMD3(d.geom_xpos[3 * g], d.geom_xpos[3 * g + 1], d.geom_xpos[3 * g + 2])
        return local.map { p in
            let r = (0..<3).map { i in d.geom_xmat[9 * g + 3 * i] * p.x + d.geom_xmat[9 * g + 3 * i + 1] * p.y + d.geom_xmat[9 * g + 3 * i + 2] * p.z }
            return position + SIMD3(r[0], r[1], r[2])
        }
    }

    /// A pinhole camera from the model's camera pose and vertical field of view: camera x right,
    /// y up, looking along −z; pixel (u, v) with v down, in pixel-edge coordinates.
    static func project(_ model: SimModel, _ data: SimData, camera c: Int, _ p: SIMD3<Double>) -> (u: Double, v: Double) {
        let m = model.raw.pointee, d = data.raw.pointee
        let delta = p - SIMD3(d.cam_xpos[3 * c], d.cam_xpos[3 * c + 1], d.cam_xpos[3 * c + 2])
        // Camera axes are the columns of cam_xmat (row-major): coordinate i = column i · delta.
        let q = (0..<3).map { i in d.cam_xmat[9 * c + i] * delta.x + d.cam_xmat[9 * c + 3 + i] * delta.y + d.cam_xmat[9 * c + 6 + i] * delta.z }
        let f = 0.5 * Double(height) / tan(m.cam_fovy[c] * Double.pi / 360)
        return (Double(width) / 2 + f * q[0] / -q[2], Double(height) / 2 - f * q[1] / -q[2])
    }

    @Test func boxesLieWhereTheCameraProjectsTheObjects() throws {
        let model = try SimModel(path: quadrupedXML)
        let renderer = try OffscreenRenderer(model: model, width: Self.width, height: Self.height, camera: .named("front"))
        let data = SimData(model: model)
        let ids = try Self.seen.map { try model.requireID(of: .geom, $0) }
        let camera = try #require(model.cameraNames.firstIndex(of: "front"))
        var worst = 0.0
        for qpos in try Self.poses(model) {
            let boxes = Self.boxes(renderer, data, qpos, geoms: ids)
            #expect(boxes.count == 3)
            for box in boxes {
                let uv = Self.surface(model, data, geom: box.geom).map { Self.project(model, data, camera: camera, $0) }
                let projected = [uv.map(\.u).min()!, uv.map(\.v).min()!, uv.map(\.u).max()!, uv.map(\.v).max()!]
                let visible = [Double(box.x), Double(box.y), Double(box.x + box.width), Double(box.y + box.height)]
                for (a, b) in zip(visible, projected) {
                    #expect(abs(a - b) <= 1.5, "\(model.name(of: .geom, box.geom)!): visible box \(visible), projected geometry \(projected)")
                    worst = max(worst, abs(a - b))
                }
            }
        }
        print(String(format: "ground truth vs projected geometry: largest box edge difference %.2f px", worst))
    }

    @Test func fewVisiblePixelsGiveNoBoxAndTheExtentIsInPixelEdges() {
        // A 6×4 segmentation: geom 3 covers 2×2 pixels at (1, 1); geom 5 one pixel; geom 7 none.
        var ids = [Int32](repeating: -1, count: 24)
        for (x, y) in [(1, 1), (2, 1), (1, 2), (2, 2)] { ids[y * 6 + x] = 3 }
        ids[5] = 5
        let boxes = ids.withUnsafeBufferPointer { ObjectBox.boxes(in: $0, width: 6, height: 4, geoms: [3, 5, 7], minimumPixels: 2) }
        #expect(boxes == [ObjectBox(geom: 3, x: 1, y: 1, width: 2, height: 2, pixels: 4)])
        let all = ids.withUnsafeBufferPointer { ObjectBox.boxes(in: $0, width: 6, height: 4, geoms: [5], minimumPixels: 1) }
        #expect(all == [ObjectBox(geom: 5, x: 5, y: 0, width: 1, height: 1, pixels: 1)])
    }
}

let quadrupedXML = "\(repositoryRoot)/robots/quadruped/quadruped.xml"

/// Runs a Python test peer from the project venv and decodes its JSON output.
func runPeer<T: Decodable>(_ script: String, _ request: some Encodable, as type: T.Type) throws -> T {
    let python = "\(repositoryRoot)/.venv/bin/python"
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw TetherError("the project venv is missing; the peer tests need it", at: python, hint: "run scripts/setup.sh")
    }
    let json = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
    let output = try TetherPaths.run(python, ["\(repositoryRoot)/tests/peers/\(script)", json])
    return try JSONDecoder().decode(T.self, from: Data(output.utf8))
}
