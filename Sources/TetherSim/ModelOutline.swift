import CMuJoCo
import Foundation
import TetherCore

/// What a manifest draft needs to know about a robot model, read from its MJCF (`init(path:)`).
public struct ModelOutline: Sendable, Equatable {
    /// One hinge or slide joint, in the model's order (the order of `qpos`).
    public struct Joint: Sendable, Equatable {
        public var name: String
        /// True for a slide joint (m, N), false for a hinge (rad, N·m).
        public var isSlide: Bool
        /// The model's range, when the joint is limited.
        public var range: ClosedRange<Double>?
        /// Number of joints between this one and the root of the kinematic tree (0: first below the base).
        public var depth: Int
        /// The actuator that drives the joint directly, if any.
        public var actuator: String?
        /// Whether that actuator is a plain motor (gear 1, gain 1, no bias), as Tether needs.
        public var actuatorIsPlainMotor: Bool
        /// The actuator's torque (force) limit from its force range, or its control range times the gear,
        /// and at most the joint's `actuatorfrcrange`.
        public var torqueLimit: Double?
        public init(name: String, isSlide: Bool = false, range: ClosedRange<Double>?, depth: Int, actuator: String?,
                    actuatorIsPlainMotor: Bool = true, torqueLimit: Double?) {
            self.name = name
            self.isSlide = isSlide
            self.range = range
            self.depth = depth
            self.actuator = actuator
            self.actuatorIsPlainMotor = actuatorIsPlainMotor
            self.torqueLimit = torqueLimit
        }
    }
    /// The model file.
    public var path: String
    /// Physics timestep, s.
    public var timestep: Double
    /// Hinge and slide joints in model order.
    public var joints: [Joint]
    /// The body that carries the free joint (nil: fixed base).
    public var floatingBody: String?
    /// Sensor names by kind, in model order.
    public var orientationSensors: [String], gyroSensors: [String], accelerometerSensors: [String], touchSensors: [String]
    /// Keyframe names.
    public var keyframes: [String]
    /// Actuators that do not drive a single joint directly (tendons, sites...).
    public var otherActuators: [String]

    public init(path: String, timestep: Double, joints: [Joint], floatingBody: String?, orientationSensors: [String] = [],
                gyroSensors: [String] = [], accelerometerSensors: [String] = [], touchSensors: [String] = [],
                keyframes: [String] = [], otherActuators: [String] = []) {
        self.path = path
        self.timestep = timestep
        self.joints = joints
        self.floatingBody = floatingBody
        self.orientationSensors = orientationSensors
        self.gyroSensors = gyroSensors
        self.accelerometerSensors = accelerometerSensors
        self.touchSensors = touchSensors
        self.keyframes = keyframes
        self.otherActuators = otherActuators
    }
}

extension ModelOutline {
    /// Loads the model at `path` and outlines it for a manifest draft (`tether robot import`).
    public init(path: String) throws {
        try self.init(model: SimModel(path: path))
    }

    /// Outlines a compiled model: its hinge and slide joints in model order with ranges, tree
    /// depth and driving actuator; the floating body; the sensors an IMU or a foot may use.
    public init(model: SimModel) {
        let raw = model.raw.pointee
        var actuatorOf: [Int: Int] = [:]
        var other: [String] = []
        for a in 0..<model.nactuator {
            if let j = model.actuatorJoint(a), actuatorOf[j] == nil { actuatorOf[j] = a } else {
                other.append(model.name(of: .actuator, a) ?? "actuator \(a)")
            }
        }
        // A joint's depth: how many bodies above its own carry hinge or slide joints.
        func bodyHasJoint(_ b: Int) -> Bool {
            let first = Int(raw.body_jntadr[b]), n = Int(raw.body_jntnum[b])
            return n > 0 && (first..<(first + n)).contains { model.jointType($0) == .hinge || model.jointType($0) == .slide }
        }
        var joints: [Joint] = []
        var floating: String?
        for j in 0..<model.njnt {
            switch model.jointType(j) {
            case .free:
                if floating == nil { floating = model.name(of: .body, Int(raw.jnt_bodyid[j])) }
                continue
            case .ball:
                continue
            case .hinge, .slide:
                break
            }
            var depth = 0
            var b = Int(raw.body_parentid[Int(raw.jnt_bodyid[j])])
            while b > 0 {
                if bodyHasJoint(b) { depth += 1 }
                b = Int(raw.body_parentid[b])
            }
            var actuatorName: String?, plain = true, torque: Double?
            if let a = actuatorOf[j] {
                actuatorName = model.name(of: .actuator, a)
                let gear = model.actuatorGear(a)
                let gain = raw.actuator_gainprm[Int(mjNGAIN) * a]
                let bias = (0..<3).map { raw.actuator_biasprm[Int(mjNBIAS) * a + $0] }
                plain = abs(gear - 1) < 1e-12 && gain == 1 && bias.allSatisfy { $0 == 0 }
                torque = model.actuatorForceRange(a).map { max(abs($0.lowerBound), abs($0.upperBound)) }
                    ?? model.actuatorControlRange(a).map { max(abs($0.lowerBound), abs($0.upperBound)) * abs(gear) }
                if torque == 0 { torque = nil }
                // The joint's actuatorfrcrange bounds what any actuator applies (unitree's MJCFs
                // put the motors' peak torques there, on plain motors without ranges).
                if let r = model.jointActuatorForceRange(j) {
                    let t = max(abs(r.lowerBound), abs(r.upperBound))
                    if t > 0 { torque = min(torque ?? t, t) }
                }
            }
            joints.append(Joint(name: model.name(of: .joint, j) ?? "joint\(j)", isSlide: model.jointType(j) == .slide,
                                range: model.jointRange(j), depth: depth, actuator: actuatorName,
                                actuatorIsPlainMotor: plain, torqueLimit: torque))
        }
        func sensors(_ type: mjtSensor) -> [String] {
            (0..<model.nsensor).filter { model.sensorTypeCode($0) == type.rawValue }.compactMap { model.name(of: .sensor, $0) }
        }
        self.init(path: model.source, timestep: model.timestep, joints: joints, floatingBody: floating,
                  orientationSensors: sensors(mjSENS_FRAMEQUAT), gyroSensors: sensors(mjSENS_GYRO),
                  accelerometerSensors: sensors(mjSENS_ACCELEROMETER), touchSensors: sensors(mjSENS_TOUCH),
                  keyframes: model.names(of: .keyframe), otherActuators: other)
    }
}
