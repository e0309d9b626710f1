import CMuJoCo
import TetherCore

/// A model parameter that calibration and domain randomization read and write, by name.
///
/// Text form (used in YAML files and on the command line): `body[trunk].mass`,
/// `joint[FR_calf_joint].damping`, `geom[FR_foot_geom].friction`, `actuator[FR_hip].gain`,
/// `gravity`, `timestep`. Values are SI: kg, kg·m², m, N·m·s/rad, N·m, N·m/rad, m/s², s.
public enum SimParameter: Hashable, Sendable, CustomStringConvertible {
    /// Body mass, kg (1 value).
    case bodyMass(String)
    /// Principal moments of inertia about the centre of mass, kg·m² (3 values).
    case bodyInertia(String)
    /// Centre of mass in the body frame, m (3 values).
    case bodyCenterOfMass(String)
    /// Geom friction: sliding, torsional, rolling (3 values).
    case geomFriction(String)
    /// Joint viscous damping, N·m·s/rad (1 value, applied to every DoF of the joint).
    case jointDamping(String)
    /// Joint dry friction (friction loss), N·m (1 value).
    case jointFrictionLoss(String)
    /// Joint armature (reflected rotor inertia), kg·m² (1 value).
    case jointArmature(String)
    /// Joint spring stiffness, N·m/rad (1 value).
    case jointStiffness(String)
    /// Actuator gain (gainprm[0]; for a motor, the torque per unit control) (1 value).
    case actuatorGain(String)
    /// Actuator bias terms (biasprm[0...2]) (3 values).
    case actuatorBias(String)
    /// Actuator control range (2 values).
    case actuatorControlRange(String)
    /// Actuator force range, N·m or N (2 values).
    case actuatorForceRange(String)
    /// Gravity in the world frame, m/s² (3 values).
    case gravity
    /// Physics timestep, s (1 value).
    case timestep

    /// Number of values.
    public var count: Int {
        switch self {
        case .bodyMass, .jointDamping, .jointFrictionLoss, .jointArmature, .jointStiffness, .actuatorGain, .timestep: 1
        case .actuatorControlRange, .actuatorForceRange: 2
        case .bodyInertia, .bodyCenterOfMass, .geomFriction, .actuatorBias, .gravity: 3
        }
    }

    /// SI unit of the values, for reports.
    public var unit: String {
        switch self {
        case .bodyMass: "kg"
        case .bodyInertia, .jointArmature: "kg·m²"
        case .bodyCenterOfMass: "m"
        case .geomFriction, .actuatorGain, .actuatorBias, .actuatorControlRange: "1"
        case .jointDamping: "N·m·s/rad"
        case .jointFrictionLoss, .actuatorForceRange: "N·m"
        case .jointStiffness: "N·m/rad"
        case .gravity: "m/s²"
        case .timestep: "s"
        }
    }

    private static let fields: [(kind: String, field: String, make: @Sendable (String) -> SimParameter)] = [
        ("body", "mass", SimParameter.bodyMass), ("body", "inertia", SimParameter.bodyInertia),
        ("body", "com", SimParameter.bodyCenterOfMass), ("geom", "friction", SimParameter.geomFriction),
        ("joint", "damping", SimParameter.jointDamping), ("joint", "frictionloss", SimParameter.jointFrictionLoss),
        ("joint", "armature", SimParameter.jointArmature), ("joint", "stiffness", SimParameter.jointStiffness),
        ("actuator", "gain", SimParameter.actuatorGain), ("actuator", "bias", SimParameter.actuatorBias),
        ("actuator", "ctrlrange", SimParameter.actuatorControlRange),
        ("actuator", "forcerange", SimParameter.actuatorForceRange),
    ]

    /// Parses the text form, e.g. `joint[FR_hip_joint].damping`.
    public init(path: String) throws {
        if path == "gravity" { self = .gravity; return }
        if path == "timestep" { self = .timestep; return }
        guard let open = path.firstIndex(of: "["), let close = path.lastIndex(of: "]"), open < close,
              path[path.index(after: close)...].hasPrefix(".") else {
            throw TetherError("'\(path)' is not a parameter path",
                              hint: "write KIND[NAME].FIELD, e.g. body[trunk].mass, joint[FR_hip_joint].damping, or gravity / timestep")
        }
        let kind = String(path[..<open])
        let name = String(path[path.index(after: open)..<close])
        let field = String(path[path.index(close, offsetBy: 2)...])
        guard !name.isEmpty else { throw TetherError("'\(path)' has an empty name between [ ]") }
        guard let entry = Self.fields.first(where: { $0.kind == kind && $0.field == field }) else {
            let known = Self.fields.map { "\($0.kind)[…].\($0.field)" }.joined(separator: ", ")
            throw TetherError("'\(path)' names an unknown parameter '\(kind)[…].\(field)'", hint: "known parameters: \(known), gravity, timestep")
        }
        self = entry.make(name)
    }

    /// The text form.
    public var description: String {
        switch self {
        case .bodyMass(let n): "body[\(n)].mass"
        case .bodyInertia(let n): "body[\(n)].inertia"
        case .bodyCenterOfMass(let n): "body[\(n)].com"
        case .geomFriction(let n): "geom[\(n)].friction"
        case .jointDamping(let n): "joint[\(n)].damping"
        case .jointFrictionLoss(let n): "joint[\(n)].frictionloss"
        case .jointArmature(let n): "joint[\(n)].armature"
        case .jointStiffness(let n): "joint[\(n)].stiffness"
        case .actuatorGain(let n): "actuator[\(n)].gain"
        case .actuatorBias(let n): "actuator[\(n)].bias"
        case .actuatorControlRange(let n): "actuator[\(n)].ctrlrange"
        case .actuatorForceRange(let n): "actuator[\(n)].forcerange"
        case .gravity: "gravity"
        case .timestep: "timestep"
        }
    }

    /// Whether a change invalidates MuJoCo's derived constants (`mj_setConst`).
    var changesInertia: Bool {
        switch self {
        case .bodyMass, .bodyInertia, .bodyCenterOfMass, .jointArmature: true
        default: false
        }
    }
}

extension SimModel {
    /// The storage of a parameter: a pointer into mjModel, the stride between repeated copies
    /// (for multi-DoF joints), and how many copies.
    private func storage(_ p: SimParameter) throws -> (UnsafeMutablePointer<Double>, stride: Int, copies: Int) {
        let m = raw
        switch p {
        case .bodyMass(let n): return (m.pointee.body_mass + (try requireID(of: .body, n)), 1, 1)
        case .bodyInertia(let n): return (m.pointee.body_inertia + 3 * (try requireID(of: .body, n)), 3, 1)
        case .bodyCenterOfMass(let n): return (m.pointee.body_ipos + 3 * (try requireID(of: .body, n)), 3, 1)
        case .geomFriction(let n): return (m.pointee.geom_friction + 3 * (try requireID(of: .geom, n)), 3, 1)
        case .jointDamping(let n):
            let j = try requireID(of: .joint, n)
            return (m.pointee.dof_damping + jointDofAddress(j), 1, jointDofCount(j))
        case .jointFrictionLoss(let n):
            let j = try requireID(of: .joint, n)
            return (m.pointee.dof_frictionloss + jointDofAddress(j), 1, jointDofCount(j))
        case .jointArmature(let n):
            let j = try requireID(of: .joint, n)
            return (m.pointee.dof_armature + jointDofAddress(j), 1, jointDofCount(j))
        case .jointStiffness(let n): return (m.pointee.jnt_stiffness + (try requireID(of: .joint, n)), 1, 1)
        case .actuatorGain(let n): return (m.pointee.actuator_gainprm + Int(mjNGAIN) * (try requireID(of: .actuator, n)), 1, 1)
        case .actuatorBias(let n): return (m.pointee.actuator_biasprm + Int(mjNBIAS) * (try requireID(of: .actuator, n)), 3, 1)
        case .actuatorControlRange(let n): return (m.pointee.actuator_ctrlrange + 2 * (try requireID(of: .actuator, n)), 2, 1)
        case .actuatorForceRange(let n): return (m.pointee.actuator_forcerange + 2 * (try requireID(of: .actuator, n)), 2, 1)
        case .gravity:
            return (withUnsafeMutablePointer(to: &m.pointee.opt.gravity) { $0.withMemoryRebound(to: Double.self, capacity: 3) { $0 } }, 3, 1)
        case .timestep:
            return (withUnsafeMutablePointer(to: &m.pointee.opt.timestep) { $0 }, 1, 1)
        }
    }

    /// Reads a parameter's values (`parameter.count` of them).
    public func get(_ parameter: SimParameter) throws -> [Double] {
        let (pointer, _, _) = try storage(parameter)
        return (0..<parameter.count).map { pointer[$0] }
    }

    /// Writes a parameter. Values are checked (count, finite, physical range) before anything
    /// changes; inertial changes refresh MuJoCo's derived constants (`mj_setConst`).
    public func set(_ parameter: SimParameter, _ values: [Double]) throws {
        try write(parameter, values)
        if parameter.changesInertia { refreshDerivedConstants() }
    }

    /// Writes several parameters in order, then refreshes MuJoCo's derived constants once if any
    /// of them is inertial. The same model as `set` one by one (`mj_setConst` computes the
    /// constants from the primary fields alone, so only the last refresh counts), at the price of
    /// one refresh instead of one per edit: a randomization draw edits the mass, inertia and
    /// armature of every link, and refreshing after each edit cost more than the draw itself.
    /// Stops at the first invalid value, leaving the earlier writes (and refreshing them).
    public func set(_ edits: [(SimParameter, [Double])]) throws {
        var inertial = false
        defer { if inertial { refreshDerivedConstants() } }
        for (parameter, values) in edits {
            try write(parameter, values)
            inertial = inertial || parameter.changesInertia
        }
    }

    /// Checks and writes one parameter, without refreshing derived constants.
    private func write(_ parameter: SimParameter, _ values: [Double]) throws {
        guard values.count == parameter.count else {
            throw TetherError("\(parameter) takes \(parameter.count) value(s), got \(values.count)")
        }
        guard values.allSatisfy(\.isFinite) else {
            throw TetherError("\(parameter) must be finite, got \(values)")
        }
        switch parameter {
        case .bodyMass, .jointDamping, .jointFrictionLoss, .jointArmature, .jointStiffness, .geomFriction:
            if values.contains(where: { $0 < 0 }) { throw TetherError("\(parameter) must not be negative, got \(values)") }
        case .bodyInertia:
            if values.contains(where: { $0 <= 0 }) { throw TetherError("\(parameter) must be positive, got \(values)") }
            let v = values
            if v[0] + v[1] < v[2] || v[1] + v[2] < v[0] || v[0] + v[2] < v[1] {
                throw TetherError("\(parameter) \(values) violates the triangle inequality of principal moments",
                                  hint: "each moment must be at most the sum of the other two (a physically consistent body)")
            }
        case .timestep:
            if values[0] <= 0 { throw TetherError("timestep must be positive, got \(values[0]) s") }
        case .actuatorControlRange, .actuatorForceRange:
            if values[0] > values[1] { throw TetherError("\(parameter) lower bound \(values[0]) is above upper bound \(values[1])") }
        case .actuatorGain, .actuatorBias, .gravity, .bodyCenterOfMass:
            break
        }
        let (pointer, stride, copies) = try storage(parameter)
        for c in 0..<copies {
            for k in 0..<parameter.count { pointer[c * stride + k] = values[k] }
        }
        isModified = true
    }

    /// Recomputes MuJoCo's position-dependent constants after inertial edits (`mj_setConst`).
    public func refreshDerivedConstants() {
        guard let d = mj_makeData(raw) else { return }
        mj_setConst(raw, d)
        mj_deleteData(d)
    }
}
