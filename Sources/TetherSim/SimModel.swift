import CMuJoCo
import Foundation
import TetherCore

/// A compiled MuJoCo model (`mjModel`): the immutable side of a simulation.
///
/// Load one from an MJCF or URDF file or string. Parameters can be read and written by name
/// (`SimParameter`); writes are meant for set-up (calibration, domain randomization) and are not
/// thread-safe. Once a model is shared between threads it must only be read: batched rollouts give
/// each worker its own copy (`copy()`) when trials change parameters.
public final class SimModel: @unchecked Sendable {
    /// The underlying MuJoCo model. Valid for the lifetime of this object.
    public let raw: UnsafeMutablePointer<mjModel>
    /// Where the model was loaded from (a path, or "<string>").
    public let source: String
    /// True after a parameter write; batch workers use it to know when to restore their copy.
    public internal(set) var isModified = false

    init(raw: UnsafeMutablePointer<mjModel>, source: String) {
        self.raw = raw
        self.source = source
    }

    deinit { mj_deleteModel(raw) }

    /// Loads an MJCF or URDF file. On failure the error carries MuJoCo's message and the path.
    public convenience init(path: String) throws {
        MuJoCo.installHandlers()
        guard FileManager.default.fileExists(atPath: path) else {
            throw TetherError("model file not found", at: path,
                              hint: "check the path (relative paths are resolved against the current directory or the manifest)")
        }
        var error = [CChar](repeating: 0, count: 1024)
        guard let m = mj_loadXML(path, nil, &error, Int32(error.count)) else {
            throw TetherError("MuJoCo could not load the model: \(MuJoCo.string(error))", at: path,
                              hint: "fix the MJCF/URDF at the place MuJoCo names")
        }
        self.init(raw: m, source: path)
    }

    /// Loads an MJCF or URDF document from a string. Assets referenced by relative paths are
    /// looked up in the current directory.
    public convenience init(xml: String) throws {
        MuJoCo.installHandlers()
        var vfs = mjVFS()
        mj_defaultVFS(&vfs)
        defer { mj_deleteVFS(&vfs) }
        let name = "tether-model.xml"
        let bytes = Array(xml.utf8)
        let added = bytes.withUnsafeBytes { mj_addBufferVFS(&vfs, name, $0.baseAddress, Int32($0.count)) }
        guard added == 0 else { throw TetherError("could not hand the model text to MuJoCo (code \(added))", at: "<string>") }
        var error = [CChar](repeating: 0, count: 1024)
        guard let m = mj_loadXML(name, &vfs, &error, Int32(error.count)) else {
            throw TetherError("MuJoCo could not load the model: \(MuJoCo.string(error))", at: "<string>",
                              hint: "fix the MJCF/URDF at the place MuJoCo names")
        }
        self.init(raw: m, source: "<string>")
    }

    /// A deep copy, independent of this model (for a worker that changes parameters).
    public func copy() -> SimModel {
        SimModel(raw: mj_copyModel(nil, raw), source: source)
    }

    /// Overwrites this model's numbers with `other`'s (same structure), clearing `isModified`.
    /// Used by batch workers to return to the base model between trials without allocating.
    public func restore(from other: SimModel) {
        mj_copyModel(raw, other.raw)
        isModified = false
    }

    // MARK: sizes

    /// Number of generalized coordinates (dim qpos).
    public var nq: Int { Int(raw.pointee.nq) }
    /// Number of degrees of freedom (dim qvel).
    public var nv: Int { Int(raw.pointee.nv) }
    /// Number of controls (dim ctrl).
    public var nu: Int { Int(raw.pointee.nu) }
    /// Number of actuators.
    public var nactuator: Int { Int(raw.pointee.nactuator) }
    /// Number of bodies, including the world body.
    public var nbody: Int { Int(raw.pointee.nbody) }
    /// Number of joints.
    public var njnt: Int { Int(raw.pointee.njnt) }
    /// Number of geoms.
    public var ngeom: Int { Int(raw.pointee.ngeom) }
    /// Number of sensors.
    public var nsensor: Int { Int(raw.pointee.nsensor) }
    /// Number of keyframes.
    public var nkey: Int { Int(raw.pointee.nkey) }

    /// Physics timestep, s.
    public var timestep: Double { raw.pointee.opt.timestep }
    /// Total mass of all bodies, kg.
    public var totalMass: Double { mj_getTotalmass(raw) }

    // MARK: names

    /// Kinds of named objects.
    public enum ObjectKind: Sendable, CustomStringConvertible {
        case body, joint, geom, actuator, sensor, site, keyframe
        var mjType: Int32 {
            switch self {
            case .body: Int32(mjOBJ_BODY.rawValue)
            case .joint: Int32(mjOBJ_JOINT.rawValue)
            case .geom: Int32(mjOBJ_GEOM.rawValue)
            case .actuator: Int32(mjOBJ_ACTUATOR.rawValue)
            case .sensor: Int32(mjOBJ_SENSOR.rawValue)
            case .site: Int32(mjOBJ_SITE.rawValue)
            case .keyframe: Int32(mjOBJ_KEY.rawValue)
            }
        }
        public var description: String {
            switch self {
            case .body: "body"
            case .joint: "joint"
            case .geom: "geom"
            case .actuator: "actuator"
            case .sensor: "sensor"
            case .site: "site"
            case .keyframe: "keyframe"
            }
        }
    }

    /// The id of a named object, or nil when the model has none of that name.
    public func id(of kind: ObjectKind, _ name: String) -> Int? {
        let id = mj_name2id(raw, kind.mjType, name)
        return id < 0 ? nil : Int(id)
    }

    /// The id of a named object, or an error that lists the names the model does have.
    public func requireID(of kind: ObjectKind, _ name: String) throws -> Int {
        if let id = id(of: kind, name) { return id }
        let known = names(of: kind)
        let suggestion = MuJoCo.closest(to: name, in: known).map { " Did you mean '\($0)'?" } ?? ""
        throw TetherError("no \(kind) named '\(name)' in the model.\(suggestion)", at: source,
                          hint: "the model's \(kind)s are: \(known.prefix(40).joined(separator: ", "))")
    }

    /// The name of object `id`, or nil if unnamed.
    /// The names of the model's cameras (`<camera name=…>`).
    public var cameraNames: [String] {
        (0..<Int(raw.pointee.ncam)).compactMap { i in mj_id2name(raw, Int32(mjOBJ_CAMERA.rawValue), Int32(i)).map { String(cString: $0) } }
    }

    public func name(of kind: ObjectKind, _ id: Int) -> String? {
        guard let c = mj_id2name(raw, kind.mjType, Int32(id)) else { return nil }
        let s = String(cString: c)
        return s.isEmpty ? nil : s
    }

    /// Every named object of a kind, in id order.
    public func names(of kind: ObjectKind) -> [String] {
        let count: Int
        switch kind {
        case .body: count = nbody
        case .joint: count = njnt
        case .geom: count = ngeom
        case .actuator: count = nactuator
        case .sensor: count = nsensor
        case .site: count = Int(raw.pointee.nsite)
        case .keyframe: count = nkey
        }
        return (0..<count).compactMap { name(of: kind, $0) }
    }

    // MARK: joints, actuators, sensors

    /// Joint types.
    public enum JointType: Sendable { case free, ball, slide, hinge }

    /// The type of joint `id`.
    public func jointType(_ id: Int) -> JointType {
        switch Int(raw.pointee.jnt_type[id]) {
        case Int(mjJNT_FREE.rawValue): .free
        case Int(mjJNT_BALL.rawValue): .ball
        case Int(mjJNT_SLIDE.rawValue): .slide
        default: .hinge
        }
    }

    /// Position limits of joint `id`, or nil when the joint is not limited.
    public func jointRange(_ id: Int) -> ClosedRange<Double>? {
        guard raw.pointee.jnt_limited[id] else { return nil }
        return raw.pointee.jnt_range[2 * id]...raw.pointee.jnt_range[2 * id + 1]
    }

    /// Address of joint `id` in qpos.
    public func jointQposAddress(_ id: Int) -> Int { Int(raw.pointee.jnt_qposadr[id]) }
    /// Address of joint `id` in qvel.
    public func jointDofAddress(_ id: Int) -> Int { Int(raw.pointee.jnt_dofadr[id]) }

    /// Degrees of freedom of joint `id`.
    public func jointDofCount(_ id: Int) -> Int {
        switch jointType(id) {
        case .free: 6
        case .ball: 3
        case .slide, .hinge: 1
        }
    }

    /// The joint that actuator `id` drives directly, or nil for other transmissions.
    public func actuatorJoint(_ id: Int) -> Int? {
        guard Int(raw.pointee.actuator_trntype[id]) == Int(mjTRN_JOINT.rawValue) else { return nil }
        return Int(raw.pointee.actuator_trnid[2 * id])
    }

    /// Force range of actuator `id` (N·m or N), or nil when not force-limited.
    public func actuatorForceRange(_ id: Int) -> ClosedRange<Double>? {
        guard raw.pointee.actuator_forcelimited[id] else { return nil }
        return raw.pointee.actuator_forcerange[2 * id]...raw.pointee.actuator_forcerange[2 * id + 1]
    }

    /// Control range of actuator `id`, or nil when not control-limited.
    public func actuatorControlRange(_ id: Int) -> ClosedRange<Double>? {
        guard raw.pointee.actuator_ctrllimited[id] else { return nil }
        return raw.pointee.actuator_ctrlrange[2 * id]...raw.pointee.actuator_ctrlrange[2 * id + 1]
    }

    /// Range of the total actuator force on joint `id` (its `actuatorfrcrange`), N·m or N, or nil
    /// when the joint has none.
    public func jointActuatorForceRange(_ id: Int) -> ClosedRange<Double>? {
        guard raw.pointee.jnt_actfrclimited[id] else { return nil }
        return raw.pointee.jnt_actfrcrange[2 * id]...raw.pointee.jnt_actfrcrange[2 * id + 1]
    }

    /// Gear ratio (first element) of actuator `id`.
    public func actuatorGear(_ id: Int) -> Double { raw.pointee.actuator_gear[6 * id] }

    /// Where a sensor's values live in `sensordata`.
    public struct SensorSlot: Sendable, Equatable {
        /// Sensor id.
        public var id: Int
        /// First index in sensordata.
        public var address: Int
        /// Number of values.
        public var dimension: Int
    }

    /// The slot of sensor `name`.
    public func sensor(_ name: String) throws -> SensorSlot {
        let id = try requireID(of: .sensor, name)
        return SensorSlot(id: id, address: Int(raw.pointee.sensor_adr[id]), dimension: Int(raw.pointee.sensor_dim[id]))
    }

    /// MuJoCo's type code of sensor `id` (mjtSensor).
    public func sensorTypeCode(_ id: Int) -> UInt32 { UInt32(raw.pointee.sensor_type[id]) }
}

/// Process-wide MuJoCo set-up and small helpers.
public enum MuJoCo {
    /// The library version string, e.g. "4.0.0".
    public static var version: String { String(cString: mj_versionString()) }

    /// Routes MuJoCo's log to standard error, so warnings never mix with a command's output
    /// (`--json`); warnings are also counted in `SimData.warnings`. MuJoCo's fatal errors still end
    /// the process, as MuJoCo requires: Tether validates inputs (sizes, ids, names, values) before
    /// every call that could raise one.
    static func installHandlers() {
        _ = installOnce
    }

    private static let installOnce: Void = {
        _ = mju_setLogHandler { message in
            guard let message else { return }
            let level = Int(message.pointee.level)
            guard level >= Int(mjLOG_WARNING.rawValue) else { return }
            let subject = withUnsafeBytes(of: message.pointee.subject) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            let kind = level >= Int(mjLOG_ERROR.rawValue) ? "error" : "warning"
            FileHandle.standardError.write(Data("MuJoCo \(kind): \(subject)\n".utf8))
        }
    }()

    static func string(_ buffer: [CChar]) -> String {
        stringFromCBuffer(buffer).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The candidate closest to `name` by edit distance, if reasonably close.
    public static func closest(to name: String, in candidates: [String]) -> String? {
        var best: (String, Int)?
        for c in candidates {
            let d = NameMatching.editDistance(Array(name.lowercased()), Array(c.lowercased()))
            if d <= max(2, name.count / 3), d < (best?.1 ?? .max) { best = (c, d) }
        }
        return best?.0
    }
}
