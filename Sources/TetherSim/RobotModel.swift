import CMuJoCo
import Foundation
import TetherCore

/// A manifest bound to the MuJoCo model it names, checked against it, with the index maps that
/// connect the manifest's joint order to MuJoCo's arrays. Immutable.
public struct RobotModel: Sendable {
    /// The policy contract.
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
    /// IMU and contact sensor slots (nil for a fixed base).
    public let baseSensors: BaseSensors?
    /// Keyframe to reset to, if any.
    public let keyframeID: Int?

    /// Sensor slots of a floating base.
    public struct BaseSensors: Sendable {
        public let bodyID: Int
        public let freeJointQposAddress: Int
        public let freeJointDofAddress: Int
        public let orientation: SimModel.SensorSlot
        public let gyro: SimModel.SensorSlot
        public let accelerometer: SimModel.SensorSlot?
        public let feet: [SimModel.SensorSlot]
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
                            "limits [\(joint.positionLimits.lowerBound), \(joint.positionLimits.upperBound)] of '\(joint.name)' go outside the model's range [\(range.lowerBound), \(range.upperBound)]",
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
            if let limit = joint.torqueLimit {
                let modelLimit = model.actuatorForceRange(a).map { max(abs($0.lowerBound), abs($0.upperBound)) }
                    ?? model.actuatorControlRange(a).map { max(abs($0.lowerBound), abs($0.upperBound)) * abs(gear) }
                if let modelLimit, limit > modelLimit + 1e-9 {
                    problem(.limitOutsideModel, "\(path).torque_limit",
                            "torque limit \(limit) of '\(joint.name)' exceeds what actuator '\(actuatorName)' can give (\(modelLimit))",
                            "torque_limit <= \(modelLimit)")
                }
            }
            if abs(gear - 1) > 1e-12 || model.raw.pointee.actuator_gainprm[Int(mjNGAIN) * a] != 1 || model.raw.pointee.actuator_biasprm[Int(mjNBIAS) * a] != 0 {
                problem(.invalidValue, "\(path).actuator", "actuator '\(actuatorName)' is not a plain torque motor (gear 1, gain 1, no bias)",
                        "<motor joint=\"\(joint.name)\" gear=\"1\"/>: Tether computes the PD torque itself")
            }
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
                    problem(.invalidValue, field, "sensor '\(name)' has the wrong type or size (\(slot.dimension) values)", "a \(dim)-value sensor of the right kind")
                    return nil
                }
                return slot
            }
            let bodyID = model.id(of: .body, b.body)
            if bodyID == nil { problem(.unknownBody, "base.body", "unknown body '\(b.body)' in \(modelName)", "one of \(model.names(of: .body).joined(separator: ", "))") }
            var freeJoint: Int?
            if let bodyID {
                let first = Int(model.raw.pointee.body_jntadr[bodyID]), n = Int(model.raw.pointee.body_jntnum[bodyID])
                freeJoint = (first..<(first + max(0, n))).first { model.jointType($0) == .free }
                if freeJoint == nil { problem(.invalidValue, "base.body", "body '\(b.body)' has no free joint", "the floating base body") }
            }
            let orientation = sensor(b.orientationSensor, "base.imu.orientation", type: mjSENS_FRAMEQUAT, dim: 4)
            let gyro = sensor(b.gyroSensor, "base.imu.gyro", type: mjSENS_GYRO, dim: 3)
            let acc = b.accelerometerSensor.flatMap { sensor($0, "base.imu.accelerometer", type: mjSENS_ACCELEROMETER, dim: 3) }
            let feet = b.footContactSensors.enumerated().compactMap { sensor($1, "base.foot_contacts[\($0)]", type: mjSENS_TOUCH, dim: 1) }
            if let bodyID, let freeJoint, let orientation, let gyro {
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
        baseSensors = r.baseSensors
        keyframeID = r.keyframeID
    }
}
