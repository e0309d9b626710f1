import CMuJoCo
import Foundation
import TetherCore

/// The robot's bodies as a tree of links, read from its MuJoCo model: for `/tf` (every link's
/// transform from its parent, by forward kinematics from the joint positions, without MuJoCo) and
/// for `/robot_description` (a URDF with the model's visual geometry), so Foxglove and RViz can
/// show a recording in 3D.
///
/// Approximations, said here once: a body with several joints keeps its first hinge or slide
/// joint (URDF allows one); ball joints are drawn fixed; a joint anchored away from its body's
/// origin (`pos` ≠ 0) rotates about the origin; meshes, planes and height fields are left out of
/// the URDF (boxes, spheres, cylinders, capsules and ellipsoids are kept).
public struct KinematicTree: Sendable {
    public struct Link: Sendable {
        public var name: String
        /// Index of the parent link in `links` (nil: the root, placed in `world`).
        public var parent: Int?
        /// The body's frame in its parent's at the joint's reference position.
        public var translation: SIMD3<Double>
        /// Rotation (w, x, y, z).
        public var rotation: SIMD4<Double>
        public enum Joint: Sendable { case fixed, hinge(axis: SIMD3<Double>), slide(axis: SIMD3<Double>), floating }
        public var joint: Joint
        /// The joint's name, its qpos address, its reference position, its range (nil: unlimited).
        public var jointName: String?
        public var qposAddress: Int?
        public var reference: Double
        public var range: ClosedRange<Double>?
        public var visuals: [Visual]
    }

    public struct Visual: Sendable {
        public enum Shape: Sendable { case box(SIMD3<Double>), sphere(Double), cylinder(radius: Double, length: Double) }
        public var shape: Shape
        public var translation: SIMD3<Double>
        public var rotation: SIMD4<Double>
        public var rgba: SIMD4<Double>
    }

    public var name: String
    public var links: [Link]

    /// Reads the subtree of the robot's root body (the first body under the world).
    public init(model: SimModel, name: String) {
        self.name = name
        let m = model.raw.pointee
        func body(_ id: Int) -> String {
            mj_id2name(model.raw, Int32(mjOBJ_BODY.rawValue), Int32(id)).map { String(cString: $0) } ?? "body_\(id)"
        }
        func vector(_ p: UnsafeMutablePointer<mjtNum>, _ i: Int) -> SIMD3<Double> { SIMD3(p[3 * i], p[3 * i + 1], p[3 * i + 2]) }
        func quaternion(_ p: UnsafeMutablePointer<mjtNum>, _ i: Int) -> SIMD4<Double> { SIMD4(p[4 * i], p[4 * i + 1], p[4 * i + 2], p[4 * i + 3]) }
        var links: [Link] = []
        var index: [Int: Int] = [:]
        guard m.nbody > 1 else {
            self.links = []
            return
        }
        let root = 1
        for id in 1..<Int(m.nbody) {
            let parentBody = Int(m.body_parentid[id])
            guard id == root || index[parentBody] != nil else { continue }  // only the root's subtree
            var joint = Link.Joint.fixed
            var jointName: String?, qposAddress: Int?, reference = 0.0
            var range: ClosedRange<Double>?
            for j in Int(m.body_jntadr[id])..<(Int(m.body_jntadr[id]) + Int(m.body_jntnum[id])) {
                let type = Int(m.jnt_type[j])
                let axis = vector(m.jnt_axis, j)
                let name = mj_id2name(model.raw, Int32(mjOBJ_JOINT.rawValue), Int32(j)).map { String(cString: $0) } ?? "joint_\(j)"
                switch type {
                case Int(mjJNT_FREE.rawValue): joint = .floating
                case Int(mjJNT_HINGE.rawValue): joint = .hinge(axis: axis)
                case Int(mjJNT_SLIDE.rawValue): joint = .slide(axis: axis)
                default: continue
                }
                jointName = name
                qposAddress = Int(m.jnt_qposadr[j])
                reference = m.qpos0[Int(m.jnt_qposadr[j])]
                if m.jnt_limited[j] { range = m.jnt_range[2 * j]...max(m.jnt_range[2 * j], m.jnt_range[2 * j + 1]) }
                break
            }
            var visuals: [Visual] = []
            for g in Int(m.body_geomadr[id])..<(Int(m.body_geomadr[id]) + max(0, Int(m.body_geomnum[id]))) where m.geom_group[g] <= 2 {
                let size = vector(m.geom_size, g)
                var rgba = SIMD4(Double(m.geom_rgba[4 * g]), Double(m.geom_rgba[4 * g + 1]), Double(m.geom_rgba[4 * g + 2]), Double(m.geom_rgba[4 * g + 3]))
                let material = Int(m.geom_matid[g])
                if material >= 0 {
                    rgba = SIMD4(Double(m.mat_rgba[4 * material]), Double(m.mat_rgba[4 * material + 1]), Double(m.mat_rgba[4 * material + 2]),
                                 Double(m.mat_rgba[4 * material + 3]))
                }
                guard rgba.w > 0 else { continue }
                let position = vector(m.geom_pos, g), rotation = quaternion(m.geom_quat, g)
                switch Int(m.geom_type[g]) {
                case Int(mjGEOM_BOX.rawValue): visuals.append(Visual(shape: .box(2 * size), translation: position, rotation: rotation, rgba: rgba))
                case Int(mjGEOM_SPHERE.rawValue): visuals.append(Visual(shape: .sphere(size.x), translation: position, rotation: rotation, rgba: rgba))
                case Int(mjGEOM_ELLIPSOID.rawValue):
                    visuals.append(Visual(shape: .sphere(max(size.x, size.y, size.z)), translation: position, rotation: rotation, rgba: rgba))
                case Int(mjGEOM_CYLINDER.rawValue):
                    visuals.append(Visual(shape: .cylinder(radius: size.x, length: 2 * size.y), translation: position, rotation: rotation, rgba: rgba))
                case Int(mjGEOM_CAPSULE.rawValue):
                    // A cylinder with a sphere at each end (URDF has no capsule); the capsule's axis is its local z.
                    visuals.append(Visual(shape: .cylinder(radius: size.x, length: 2 * size.y), translation: position, rotation: rotation, rgba: rgba))
                    for sign in [-1.0, 1.0] {
                        let end = position + Self.rotate(rotation, SIMD3(0, 0, sign * size.y))
                        visuals.append(Visual(shape: .sphere(size.x), translation: end, rotation: rotation, rgba: rgba))
                    }
                default: continue  // meshes, planes, height fields
                }
            }
            index[id] = links.count
            links.append(Link(name: body(id), parent: id == root ? nil : index[parentBody], translation: vector(m.body_pos, id),
                              rotation: quaternion(m.body_quat, id), joint: joint, jointName: jointName, qposAddress: qposAddress,
                              reference: reference, range: range, visuals: visuals))
        }
        self.links = links
    }

    /// Reads the model a manifest names (`manifest.modelPath`).
    public static func load(_ manifest: Manifest) throws -> KinematicTree {
        KinematicTree(model: try SimModel(path: manifest.modelPath), name: manifest.name)
    }

    /// The qpos address of each named joint (nil: not a hinge or slide joint of the tree).
    public func qposAddresses(of joints: [String]) -> [Int?] {
        let byName = Dictionary(links.compactMap { l in l.jointName.flatMap { n in l.qposAddress.map { (n, $0) } } }, uniquingKeysWith: { a, _ in a })
        return joints.map { byName[$0] }
    }

    // MARK: Forward kinematics

    /// Each non-root link's transform from its parent for the joint positions `qpos` (MuJoCo's
    /// qpos layout: `value(address)`, nil for a joint at its reference), and the root's from
    /// `world` (`basePosition` and `baseOrientation` when known, else the model's root pose).
    public func transforms(qpos value: (Int) -> Double?, basePosition: SIMD3<Double>?, baseOrientation: SIMD4<Double>?)
        -> [(parent: String, child: String, translation: SIMD3<Double>, rotation: SIMD4<Double>)] {
        links.map { link in
            if link.parent == nil, case .floating = link.joint {
                return ("world", link.name, basePosition ?? link.translation, baseOrientation ?? link.rotation)
            }
            let parentName = link.parent.map { links[$0].name } ?? "world"
            var translation = link.translation, rotation = link.rotation
            if let address = link.qposAddress {
                let q = (value(address) ?? link.reference) - link.reference
                switch link.joint {
                case .hinge(let axis):
                    let n = axis / max(1e-12, (axis * axis).sum().squareRoot())
                    rotation = Self.multiply(rotation, SIMD4(cos(q / 2), sin(q / 2) * n.x, sin(q / 2) * n.y, sin(q / 2) * n.z))
                case .slide(let axis): translation += Self.rotate(rotation, axis * q)
                case .fixed, .floating: break
                }
            }
            return (parentName, link.name, translation, rotation)
        }
    }

    static func multiply(_ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
        SIMD4(a.x * b.x - a.y * b.y - a.z * b.z - a.w * b.w,
              a.x * b.y + a.y * b.x + a.z * b.w - a.w * b.z,
              a.x * b.z - a.y * b.w + a.z * b.x + a.w * b.y,
              a.x * b.w + a.y * b.z - a.z * b.y + a.w * b.x)
    }

    /// `v` rotated by the unit quaternion `q` (w, x, y, z).
    static func rotate(_ q: SIMD4<Double>, _ v: SIMD3<Double>) -> SIMD3<Double> {
        let r = multiply(multiply(q, SIMD4(0, v.x, v.y, v.z)), SIMD4(q.x, -q.y, -q.z, -q.w))
        return SIMD3(r.y, r.z, r.w)
    }

    // MARK: URDF

    /// The tree as URDF: links with their visual geometry and colours, joints with their origins,
    /// axes and limits. The root link's pose comes from `/tf` (world → root).
    public func urdf() -> String {
        func f(_ v: Double) -> String { String(format: "%.6g", v) }
        func xyz(_ v: SIMD3<Double>) -> String { "\(f(v.x)) \(f(v.y)) \(f(v.z))" }
        func rpy(_ q: SIMD4<Double>) -> String {
            let (w, x, y, z) = (q.x, q.y, q.z, q.w)
            let roll = atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
            let pitch = asin(max(-1, min(1, 2 * (w * y - z * x))))
            let yaw = atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
            return "\(f(roll)) \(f(pitch)) \(f(yaw))"
        }
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "<", with: "&lt;")
        }
        var out = "<?xml version=\"1.0\"?>\n<!-- Written by Tether from the MuJoCo model: visual geometry only (boxes, spheres, cylinders). -->\n"
        out += "<robot name=\"\(escape(name))\">\n"
        for (i, link) in links.enumerated() {
            out += "  <link name=\"\(escape(link.name))\">\n"
            for (k, v) in link.visuals.enumerated() {
                let geometry: String
                switch v.shape {
                case .box(let s): geometry = "<box size=\"\(xyz(s))\"/>"
                case .sphere(let r): geometry = "<sphere radius=\"\(f(r))\"/>"
                case let .cylinder(r, l): geometry = "<cylinder radius=\"\(f(r))\" length=\"\(f(l))\"/>"
                }
                out += "    <visual>\n      <origin xyz=\"\(xyz(v.translation))\" rpy=\"\(rpy(v.rotation))\"/>\n      <geometry>\(geometry)</geometry>\n"
                let rgba = "\(f(v.rgba.x)) \(f(v.rgba.y)) \(f(v.rgba.z)) \(f(v.rgba.w))"
                out += "      <material name=\"\(escape(link.name))_\(k)\"><color rgba=\"\(rgba)\"/></material>\n"
                out += "    </visual>\n"
            }
            out += "  </link>\n"
            guard let parent = link.parent else { continue }
            let type: String, axis: SIMD3<Double>?
            switch link.joint {
            case .hinge(let a): (type, axis) = (link.range == nil ? "continuous" : "revolute", a)
            case .slide(let a): (type, axis) = ("prismatic", a)
            case .fixed, .floating: (type, axis) = ("fixed", nil)
            }
            out += "  <joint name=\"\(escape(link.jointName ?? "\(link.name)_fixed_\(i)"))\" type=\"\(type)\">\n"
            out += "    <parent link=\"\(escape(links[parent].name))\"/>\n    <child link=\"\(escape(link.name))\"/>\n"
            out += "    <origin xyz=\"\(xyz(link.translation))\" rpy=\"\(rpy(link.rotation))\"/>\n"
            if let axis { out += "    <axis xyz=\"\(xyz(axis))\"/>\n" }
            if let range = link.range, type != "fixed" {
                let (lower, upper) = (f(range.lowerBound - link.reference), f(range.upperBound - link.reference))
                out += "    <limit lower=\"\(lower)\" upper=\"\(upper)\" effort=\"0\" velocity=\"0\"/>\n"
            }
            out += "  </joint>\n"
        }
        return out + "</robot>\n"
    }
}
