import CMuJoCo
import Foundation
import TetherCore

/// A manifest bound to the MuJoCo model it names, checked against it, with the index maps that
/// connect the manifest's joint order to MuJoCo's arrays. Immutable.
public struct RobotModel: Sendable {
    /// The policy contract, with the gains a position servo supplies filled in (`Drive`).
    public let manifest: Manifest
    /// The compiled model (shared read-only; see `SimModel`).
    public let model: SimModel
    /// qpos address per manifest joint.
    public let qposAddress: [Int]
    /// qvel address per manifest joint.
    public let dofAddress: [Int]
    /// Actuator id per actuated joint (manifest actuated order).
    public let actuatorIDs: [Int]
    /// For each actuated joint, its index in `manifest.joints`.
    public let actuatedJointIndex: [Int]
    /// Torque limit per actuated joint, N·m.
    public let torqueLimits: [Double]
    /// How each actuated joint's actuator turns its control into torque (actuated order).
    public let drives: [Drive]
    /// Whether any actuated joint is driven by a position servo.
    public let hasServos: Bool
    /// IMU and contact sensor slots (nil for a fixed base).
    public let baseSensors: BaseSensors?
    /// Keyframe to reset to, if any.
    public let keyframeID: Int?

    /// Sensor slots of a floating base.
    public struct BaseSensors: Sendable {
        public let bodyID: Int
        public let freeJointQposAddress: Int
        public let freeJointDofAddress: Int
        /// The `framequat` sensor; nil when the orientation comes from the free joint (`imu: floating_base`).
        public let orientation: SimModel.SensorSlot?
        /// The `gyro` sensor; nil when the angular velocity comes from the free joint.
        public let gyro: SimModel.SensorSlot?
        public let accelerometer: SimModel.SensorSlot?
        public let feet: [SimModel.SensorSlot]
    }

    /// How MuJoCo turns an actuated joint's control into its torque. Tether computes the torque of
    /// every command itself (PD with the command's gains, feed-forward, the torque limit) and
    /// writes the control that makes the actuator give exactly that torque.
    public enum Drive: Sendable, Equatable {
        /// A plain torque motor (gear 1, gain 1, no bias): the control is the torque.
        case motor
        /// A position servo (`<position kp kv>`, gear 1: force = kp (ctrl - q) - kv qd), as in
        /// MuJoCo Playground and Menagerie's MJX models. Gains in N·m/rad and N·m·s/rad.
        case positionServo(kp: Double, kv: Double)
    }

    /// The control that makes actuated joint `k`'s actuator give `torque` at joint position `q`
    /// and velocity `qd` (the motor's control is the torque; a servo's is the target that gives it).
    @inline(__always) public func control(actuated k: Int, torque: Double, position q: Double, velocity qd: Double) -> Double {
        switch drives[k] {
        case .motor: torque
        case .positionServo(let kp, let kv): q + (torque + kv * qd) / kp
        }
    }

    /// What actuator `a` is, from its parameters in the model: a `Drive`, or why Tether cannot use it.
    static func drive(of a: Int, in model: SimModel) -> Result<Drive, DriveRefusal> {
        let m = model.raw.pointee
        let gain = (0..<3).map { m.actuator_gainprm[Int(mjNGAIN) * a + $0] }
        let bias = (0..<3).map { m.actuator_biasprm[Int(mjNBIAS) * a + $0] }
        let gear = model.actuatorGear(a)
        let described = "gear \(gear), gain \(gain[0]), bias [\(bias[0]), \(bias[1]), \(bias[2])]"
        if m.actuator_dyntype[a] != Int32(mjDYN_NONE.rawValue) {
            return .failure(.init(what: "has activation dynamics (dyntype \(m.actuator_dyntype[a]), e.g. <position timeconst>), which Tether does not model",
                                  fix: "an actuator without dynamics (drop timeconst / dyntype)"))
        }
        guard m.actuator_gaintype[a] == Int32(mjGAIN_FIXED.rawValue), abs(gear - 1) <= 1e-12 else {
            return .failure(.init(what: "is neither a plain torque motor nor a position servo (\(described))",
                                  fix: "<motor joint=... gear=\"1\"/> or <position joint=... kp=... kv=...> with gear 1"))
        }
        let biasType = m.actuator_biastype[a]
        if biasType == Int32(mjBIAS_NONE.rawValue) || bias.allSatisfy({ $0 == 0 }) {
            if gain[0] == 1 { return .success(.motor) }
            return .failure(.init(what: "is a torque motor with gain \(gain[0]) (\(described))",
                                  fix: "<motor joint=... gear=\"1\"/> with gain 1: Tether computes the torque itself"))
        }
        if biasType == Int32(mjBIAS_AFFINE.rawValue), gain[0] > 0, bias[0] == 0, bias[2] <= 0,
           abs(bias[1] + gain[0]) <= 1e-12 * gain[0] {
            return .success(.positionServo(kp: gain[0], kv: -bias[2]))
        }
        if biasType == Int32(mjBIAS_AFFINE.rawValue), gain[0] > 0, bias[0] == 0, bias[1] == 0, abs(bias[2] + gain[0]) <= 1e-12 * gain[0] {
            return .failure(.init(what: "is a velocity servo (kv \(gain[0]))",
                                  fix: "a torque motor <motor joint=... gear=\"1\"/> or a position servo <position kp=... kv=...>"))
        }
        return .failure(.init(what: "is neither a plain torque motor nor a position servo (\(described))",
                              fix: "<motor joint=... gear=\"1\"/>, or <position kp=... kv=...> (bias [0, -kp, -kv])"))
    }

    /// Why an actuator cannot be driven: what it is, and what would work.
    struct DriveRefusal: Error {
        var what: String
        var fix: String
    }

    /// Loads a manifest and its model and checks them against each other. Throws `ManifestError`
    /// listing every problem (structure, values, and mismatches with the model) at once.
    public static func load(manifestPath: String) throws -> RobotModel {
        let manifest = try Manifest.load(path: manifestPath)
        let model: SimModel
        do {
            model = try SimModel(path: manifest.modelPath)
        } catch let error as TetherError {
            throw ManifestError(problems: [ManifestProblem(.modelError, field: "model", error.what,
                                                           expected: error.hint, file: manifestPath)])
        }
        return try RobotModel(manifest: manifest, model: model)
    }

    /// Binds a manifest to a model, checking every joint, actuator, sensor, limit and rate.
    public init(manifest: Manifest, model: SimModel) throws {
        var problems: [ManifestProblem] = []
        var manifest = manifest
        func problem(_ kind: ManifestProblem.Kind, _ field: String, _ message: String, _ expected: String? = nil) {
            // Point at the field's line, or at its enclosing entry (`joints[2]`, `base`) when the
            // field itself was not written.
            var line = manifest.fieldLines[field]
            var path = field
            while line == nil, let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) {
                path = String(path[..<cut])
                line = manifest.fieldLines[path]
            }
            problems.append(ManifestProblem(kind, field: field, message, expected: expected, file: manifest.sourcePath, line: line))
        }
        let modelName = URL(fileURLWithPath: model.source).lastPathComponent

        // Rates against the timestep.
        let physicsFromModel = 1 / model.timestep
        if abs(manifest.rates.physicsHz - physicsFromModel) > 1e-6 * physicsFromModel {
            problem(.rateMismatch, "rates.physics_hz",
                    "physics rate \(manifest.rates.physicsHz) Hz does not match the model's timestep \(model.timestep) s (\(physicsFromModel) Hz)",
                    "physics_hz: \(physicsFromModel), or change <option timestep> in \(modelName)")
        }
        if model.nu != model.nactuator {
            problem(.modelError, "model", "\(modelName) has actuators with several controls (nu \(model.nu) ≠ nactuator \(model.nactuator))",
                    "one control per actuator")
        }

        // Joints.
        var qpos: [Int] = [], dof: [Int] = [], actuators: [Int] = [], actuatedIndex: [Int] = [], torques: [Double] = []
        var drives: [Drive] = []
        let modelJoints = model.names(of: .joint)
        for (i, joint) in manifest.joints.enumerated() {
            let path = "joints[\(i)]"
            guard let id = model.id(of: .joint, joint.name) else {
                let hint = MuJoCo.closest(to: joint.name, in: modelJoints).map { "; did you mean '\($0)'?" } ?? ""
                problem(.unknownJoint, "\(path).name", "unknown joint '\(joint.name)' in \(modelName)\(hint)",
                        "one of \(modelJoints.joined(separator: ", "))")
                continue
            }
            let type = model.jointType(id)
            guard type == .hinge || type == .slide else {
                problem(.invalidValue, "\(path).name", "joint '\(joint.name)' is a \(type) joint", "a hinge or slide joint")
                continue
            }
            qpos.append(model.jointQposAddress(id))
            dof.append(model.jointDofAddress(id))
            if let range = model.jointRange(id) {
                let tolerance = 1e-6
                if joint.positionLimits.lowerBound < range.lowerBound - tolerance || joint.positionLimits.upperBound > range.upperBound + tolerance {
                    problem(.limitOutsideModel, "\(path).limits",
                            "limits [\(joint.positionLimits.lowerBound), \(joint.positionLimits.upperBound)] of '\(joint.name)' go outside the model's "
                                + "range [\(range.lowerBound), \(range.upperBound)]",
                            "limits within [\(range.lowerBound), \(range.upperBound)]")
                }
            }
            guard let actuatorName = joint.actuator else { continue }
            guard let a = model.id(of: .actuator, actuatorName) else {
                let known = model.names(of: .actuator)
                let hint = MuJoCo.closest(to: actuatorName, in: known).map { "; did you mean '\($0)'?" } ?? ""
                problem(.unknownActuator, "\(path).actuator", "unknown actuator '\(actuatorName)' in \(modelName)\(hint)",
                        "one of \(known.joined(separator: ", "))")
                continue
            }
            if model.actuatorJoint(a) != id {
                let driven = model.actuatorJoint(a).flatMap { model.name(of: .joint, $0) } ?? "no joint"
                problem(.invalidValue, "\(path).actuator", "actuator '\(actuatorName)' drives \(driven), not '\(joint.name)'",
                        "the actuator whose joint is '\(joint.name)'")
            }
            let gear = model.actuatorGear(a)
            let drive: Drive
            switch Self.drive(of: a, in: model) {
            case .success(let d): drive = d
            case .failure(let refusal):
                problem(.invalidValue, "\(path).actuator", "actuator '\(actuatorName)' \(refusal.what)", refusal.fix)
                continue
            }
            if let limit = joint.torqueLimit {
                // What the actuator can give: its force range, or (a motor's) control range times
                // the gear; and what the joint's actuatorfrcrange lets through.
                var modelLimits: [(Double, String)] = []
                if let range = model.actuatorForceRange(a) {
                    modelLimits.append((max(abs(range.lowerBound), abs(range.upperBound)), "actuator '\(actuatorName)' can give"))
                } else if drive == .motor, let range = model.actuatorControlRange(a) {
                    modelLimits.append((max(abs(range.lowerBound), abs(range.upperBound)) * abs(gear), "actuator '\(actuatorName)' can give"))
                }
                if let range = model.jointActuatorForceRange(id) {
                    modelLimits.append((max(abs(range.lowerBound), abs(range.upperBound)), "the actuatorfrcrange of joint '\(joint.name)' lets through"))
                }
                if let (modelLimit, what) = modelLimits.min(by: { $0.0 < $1.0 }), limit > modelLimit + 1e-9 {
                    problem(.limitOutsideModel, "\(path).torque_limit",
                            "torque limit \(limit) of '\(joint.name)' exceeds what \(what) (\(modelLimit))",
                            "torque_limit <= \(modelLimit)")
                }
            }
            if case .positionServo(let kp, let kv) = drive {
                let servo = "position servo '\(actuatorName)' in \(modelName)"
                if manifest.action.mode == .effort {
                    problem(.invalidValue, "\(path).actuator",
                            "actuator '\(actuatorName)' is a position servo (kp \(kp), kv \(kv)); an effort-mode policy's torques cannot be sent through it",
                            "action mode position, or a torque motor <motor joint=\"\(joint.name)\" gear=\"1\"/> in the model")
                } else {
                    // The manifest's gains are what the policy was trained with; the servo's are
                    // what the model applies. They must agree; absent ones are taken from the servo.
                    func same(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)) }
                    if let mkp = joint.kp, !same(mkp, kp) {
                        problem(.invalidValue, "\(path).kp",
                                "kp \(mkp) of '\(joint.name)' differs from the \(servo), whose kp is \(kp)",
                                "kp: \(kp) (or leave kp out to take the servo's), or kp=\"\(mkp)\" on the actuator if the policy was trained with \(mkp)")
                    }
                    if let mkd = joint.kd, !same(mkd, kv) {
                        problem(.invalidValue, "\(path).kd",
                                "kd \(mkd) of '\(joint.name)' differs from the \(servo), whose kv is \(kv)",
                                "kd: \(kv) (or leave kd out to take the servo's), or kv=\"\(mkd)\" on the actuator if the policy was trained with \(mkd)")
                    }
                    if manifest.joints[i].kp == nil { manifest.joints[i].kp = kp }
                    if manifest.joints[i].kd == nil { manifest.joints[i].kd = kv }
                }
                if let range = model.actuatorControlRange(a),
                   joint.positionLimits.lowerBound < range.lowerBound - 1e-6 || joint.positionLimits.upperBound > range.upperBound + 1e-6 {
                    problem(.limitOutsideModel, "\(path).limits",
                            "limits [\(joint.positionLimits.lowerBound), \(joint.positionLimits.upperBound)] of '\(joint.name)' go outside the ctrlrange "
                                + "[\(range.lowerBound), \(range.upperBound)] of \(servo): MuJoCo would clamp those targets",
                            "limits within [\(range.lowerBound), \(range.upperBound)], or a wider ctrlrange")
                }
            } else if manifest.action.mode == .position && (joint.kp == nil || joint.kd == nil) {
                problem(.missingField, "\(path).kp", "position mode needs kp and kd for actuated joint '\(joint.name)'",
                        "kp (N·m/rad) and kd (N·m·s/rad); they may be left out only when the actuator is a position servo")
            }
            drives.append(drive)
            actuators.append(a)
            actuatedIndex.append(i)
            torques.append(joint.torqueLimit ?? .infinity)
        }

        // Floating base.
        var base: BaseSensors?
        if let b = manifest.base {
            func sensor(_ name: String, _ field: String, type: mjtSensor, dim: Int) -> SimModel.SensorSlot? {
                guard let slot = try? model.sensor(name) else {
                    let known = model.names(of: .sensor)
                    let hint = MuJoCo.closest(to: name, in: known).map { "; did you mean '\($0)'?" } ?? ""
                    problem(.unknownSensor, field, "unknown sensor '\(name)' in \(modelName)\(hint)", "one of \(known.joined(separator: ", "))")
                    return nil
                }
                if model.sensorTypeCode(slot.id) != type.rawValue || slot.dimension != dim {
                    problem(.invalidValue, field, "sensor '\(name)' has the wrong type or size (\(slot.dimension) values)",
                            "a \(dim)-value sensor of the right kind")
                    return nil
                }
                return slot
            }
            let bodyID = model.id(of: .body, b.body)
            if bodyID == nil { problem(.unknownBody, "base.body", "unknown body '\(b.body)' in \(modelName)",
                                       "one of \(model.names(of: .body).joined(separator: ", "))") }
            var freeJoint: Int?
            if let bodyID {
                let first = Int(model.raw.pointee.body_jntadr[bodyID]), n = Int(model.raw.pointee.body_jntnum[bodyID])
                freeJoint = (first..<(first + max(0, n))).first { model.jointType($0) == .free }
                if freeJoint == nil { problem(.invalidValue, "base.body", "body '\(b.body)' has no free joint", "the floating base body") }
            }
            var orientation: SimModel.SensorSlot?, gyro: SimModel.SensorSlot?, acc: SimModel.SensorSlot?
            var imuFound = true
            if case .sensors(let o, let g, let a) = b.imu {
                orientation = sensor(o, "base.imu.orientation", type: mjSENS_FRAMEQUAT, dim: 4)
                gyro = sensor(g, "base.imu.gyro", type: mjSENS_GYRO, dim: 3)
                acc = a.flatMap { sensor($0, "base.imu.accelerometer", type: mjSENS_ACCELEROMETER, dim: 3) }
                imuFound = orientation != nil && gyro != nil
            }
            let feet = b.footContactSensors.enumerated().compactMap { sensor($1, "base.foot_contacts[\($0)]", type: mjSENS_TOUCH, dim: 1) }
            if let bodyID, let freeJoint, imuFound {
                base = BaseSensors(bodyID: bodyID, freeJointQposAddress: model.jointQposAddress(freeJoint),
                                   freeJointDofAddress: model.jointDofAddress(freeJoint), orientation: orientation,
                                   gyro: gyro, accelerometer: acc, feet: feet)
            }
        }
        var keyframe: Int?
        if let key = manifest.base?.keyframe {
            keyframe = model.id(of: .keyframe, key)
            if keyframe == nil { problem(.invalidValue, "base.keyframe", "no keyframe '\(key)' in \(modelName)", "one of \(model.names(of: .keyframe))") }
        }
        guard problems.isEmpty else { throw ManifestError(sorting: problems) }
        self.manifest = manifest
        self.model = model
        self.qposAddress = qpos
        self.dofAddress = dof
        self.actuatorIDs = actuators
        self.actuatedJointIndex = actuatedIndex
        self.torqueLimits = torques
        self.drives = drives
        self.hasServos = drives.contains { $0 != .motor }
        self.baseSensors = base
        self.keyframeID = keyframe
    }

    /// The same robot on another model with the same structure (a worker's parameter copy).
    public func with(model other: SimModel) -> RobotModel {
        RobotModel(copying: self, model: other)
    }

    private init(copying r: RobotModel, model: SimModel) {
        manifest = r.manifest
        self.model = model
        qposAddress = r.qposAddress
        dofAddress = r.dofAddress
        actuatorIDs = r.actuatorIDs
        actuatedJointIndex = r.actuatedJointIndex
        torqueLimits = r.torqueLimits
        drives = r.drives
        hasServos = r.hasServos
        baseSensors = r.baseSensors
        keyframeID = r.keyframeID
    }
}
