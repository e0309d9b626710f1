import Foundation
import Yams

/// The hidden true parameters of the virtual robot: how the "real" robot differs from the nominal
/// model (physics, actuators, sensors, link). Format in `docs/emulator.md`.
///
/// Pure data, like `RandomizationSpec`, so it lives next to it and shares the manifest reader
/// (every problem at once, with its line). `TetherEmulator` owns the presets and the models that
/// use it. The truth is never visible through the `Robot` protocol: calibration only ever sees
/// recorded data.
public struct Truth: Sendable, Equatable {
    /// Label in messages.
    public var name: String
    /// Seed of every random stream of the virtual robot (noise, jitter, losses).
    public var seed: UInt64
    public var physics: Physics
    public var actuators: Actuators
    public var sensors: Sensors
    public var link: Link
    /// The file it came from.
    public var sourcePath: String?

    /// Creates a truth; the defaults are the nominal robot (no gap at all).
    public init(name: String = "nominal", seed: UInt64 = 0, physics: Physics = .init(), actuators: Actuators = .init(),
                sensors: Sensors = .init(), link: Link = .init()) {
        self.name = name
        self.seed = seed
        self.physics = physics
        self.actuators = actuators
        self.sensors = sensors
        self.link = link
    }

    /// Edits of the MuJoCo model.
    public struct Physics: Sendable, Equatable {
        /// Multiplier on every geom's friction coefficients.
        public var frictionScale: Double = 1
        /// Multiplier on every body's mass (inertia scales with it).
        public var massScale: Double = 1
        /// Extra mass on the base body, kg (inertia scales with the base's mass).
        public var payload: Double = 0
        /// Offset of the base body's centre of mass, m (base frame).
        public var baseCenterOfMassOffset: SIMD3<Double> = .zero
        /// Viscous damping of every manifest joint, N·m·s/rad (absolute; nil keeps the model's).
        public var jointDamping: Double?
        /// Dry friction (friction loss) of every manifest joint, N·m (absolute; nil keeps the model's).
        public var jointFrictionLoss: Double?
        public init() {}
    }

    /// The motor drivers: what happens between a delivered command and the joint torque.
    public struct Actuators: Sendable, Equatable {
        /// First-order lag time constant of the torque, s (0: none).
        public var lagTimeConstant: Double = 0
        /// Dead time between a command's arrival and the driver using it, s.
        public var deadTime: Double = 0
        /// Torque the motor can actually give, as a fraction of the manifest's torque limit.
        public var saturation: Double = 1
        /// Backlash: dead band between motor and joint position, rad (full width).
        public var backlash: Double = 0
        /// Heating of the windings and the loss of torque constant with temperature.
        public var thermal = Thermal()
        public init() {}
    }

    /// dT/dt = heating · τ² − (T − ambient) / coolingTime; torque constant × (1 − loss · (T − ambient)).
    public struct Thermal: Sendable, Equatable {
        /// Temperature rise rate per squared torque, K/(N·m)²/s (0: no heating).
        public var heating: Double = 0
        /// Cooling time constant, s.
        public var coolingTime: Double = 60
        /// Relative torque-constant loss per kelvin above ambient, 1/K.
        public var lossPerKelvin: Double = 0
        public init() {}
    }

    /// The measurement: what `latestState()` reports instead of the simulation's exact values.
    public struct Sensors: Sendable, Equatable {
        /// State publishing rate of the robot, Hz.
        public var publishHz: Double = 500
        /// Joint position noise standard deviation, rad.
        public var positionNoise: Double = 0
        /// Joint velocity noise standard deviation, rad/s.
        public var velocityNoise: Double = 0
        /// Constant joint position bias, rad (every joint).
        public var positionBias: Double = 0
        /// Constant joint velocity bias, rad/s (every joint).
        public var velocityBias: Double = 0
        /// Slow drift of the joint positions: a random walk, rad/√s.
        public var positionDrift: Double = 0
        /// Encoder resolution, rad (0: continuous); readings are multiples of it.
        public var resolution: Double = 0
        /// Encoder offset per joint (manifest order), rad; empty: none. The motor drivers see it too.
        public var encoderOffsets: [Double] = []
        /// Gyro noise standard deviation, rad/s.
        public var gyroNoise: Double = 0
        /// Gyro bias per axis, rad/s.
        public var gyroBias: SIMD3<Double> = .zero
        /// Accelerometer noise standard deviation, m/s².
        public var accelerometerNoise: Double = 0
        /// Accelerometer bias per axis, m/s².
        public var accelerometerBias: SIMD3<Double> = .zero
        /// Orientation noise: standard deviation of a small random rotation per axis, rad.
        public var orientationNoise: Double = 0
        /// Probability that a state sample is not produced.
        public var dropout: Double = 0
        public init() {}
    }

    /// The link between the runtime and the robot.
    public struct Link: Sendable, Equatable {
        /// One-way latency, s (both directions).
        public var latency: Double = 0
        /// Jitter: each message's latency is latency ± a uniform draw of this, s (never below 0).
        public var jitter: Double = 0
        /// Probability a command is lost.
        public var commandLoss: Double = 0
        /// Probability a state is lost.
        public var stateLoss: Double = 0
        /// A stalled publisher: no state is published from `start` for `duration` seconds (robot time).
        public var stall: Stall?
        public init() {}
    }

    /// A publisher stall.
    public struct Stall: Sendable, Equatable {
        public var start: Double
        public var duration: Double
        public init(start: Double, duration: Double) {
            self.start = start
            self.duration = duration
        }
    }

    /// Loads and checks a truth file; every problem is reported at once with its line.
    public static func load(path: String) throws -> Truth {
        try parse(yaml: ManifestReader.text(of: path, what: "truth file"), sourcePath: path)
    }

    /// Parses a truth from YAML text.
    public static func parse(yaml: String, sourcePath: String? = nil) throws -> Truth {
        var truth = try ManifestReader.parse(sourcePath: sourcePath) { $0.readTruth(yaml: yaml) }
        truth.sourcePath = sourcePath
        return truth
    }
}

extension ManifestReader {
    mutating func readTruth(yaml: String) -> Truth? {
        guard let (root, top) = document(yaml, empty: "the truth file is empty",
                                         expected: "a mapping with seed, physics, actuators, sensors, link") else { return nil }
        checkKeys(top, "", allowed: ["tether_truth", "name", "seed", "physics", "actuators", "sensors", "link"], node: root)
        var truth = Truth()
        truth.name = optionalString(top, "name", "name") ?? "truth"
        if let seed = optionalInt(top, "seed", "seed") {
            if seed < 0 { report(.invalidValue, "seed", top["seed"], "seed \(seed) is negative", expected: "an integer >= 0") }
            else { truth.seed = UInt64(seed) }
        }
        func probability(_ m: Node.Mapping, _ key: String, _ field: String) -> Double? {
            guard let v = optionalNumber(m, key, field, nonNegative: true) else { return nil }
            if v > 1 { report(.invalidValue, field, m[key], "probability \(v) is above 1", expected: "a number in [0, 1]"); return nil }
            return v
        }
        func vector(_ m: Node.Mapping, _ key: String, _ field: String) -> SIMD3<Double>? {
            guard let node = m[key], node.null == nil else { return nil }
            guard let v = numberOrList(node, field) else { return nil }
            if v.count == 1 { return SIMD3(repeating: v[0]) }
            if v.count == 3 { return SIMD3(v[0], v[1], v[2]) }
            report(.invalidValue, field, node, "has \(v.count) values", expected: "a number or a list of 3 numbers (x, y, z)")
            return nil
        }
        if let node = top["physics"], let m = mapping(node, "physics") {
            checkKeys(m, "physics", allowed: ["friction_scale", "mass_scale", "payload", "base_com_offset", "joint_damping",
                                               "joint_frictionloss"], node: node)
            var p = Truth.Physics()
            if let v = optionalNumber(m, "friction_scale", "physics.friction_scale", positive: true) { p.frictionScale = v }
            if let v = optionalNumber(m, "mass_scale", "physics.mass_scale", positive: true) { p.massScale = v }
            if let v = optionalNumber(m, "payload", "physics.payload", nonNegative: true) { p.payload = v }
            if let v = vector(m, "base_com_offset", "physics.base_com_offset") { p.baseCenterOfMassOffset = v }
            p.jointDamping = optionalNumber(m, "joint_damping", "physics.joint_damping", nonNegative: true)
            p.jointFrictionLoss = optionalNumber(m, "joint_frictionloss", "physics.joint_frictionloss", nonNegative: true)
            truth.physics = p
        }
        if let node = top["actuators"], let m = mapping(node, "actuators") {
            checkKeys(m, "actuators", allowed: ["lag", "dead_time", "saturation", "backlash", "thermal"], node: node)
            var a = Truth.Actuators()
            if let v = optionalNumber(m, "lag", "actuators.lag", nonNegative: true) { a.lagTimeConstant = v }
            if let v = optionalNumber(m, "dead_time", "actuators.dead_time", nonNegative: true) { a.deadTime = v }
            if let v = optionalNumber(m, "saturation", "actuators.saturation", positive: true) {
                if v > 1 { report(.invalidValue, "actuators.saturation", m["saturation"], "saturation \(v) is above 1",
                                  expected: "a fraction of the torque limit in (0, 1]") }
                else { a.saturation = v }
            }
            if let v = optionalNumber(m, "backlash", "actuators.backlash", nonNegative: true) { a.backlash = v }
            if let tn = m["thermal"], let t = mapping(tn, "actuators.thermal") {
                checkKeys(t, "actuators.thermal", allowed: ["heating", "cooling_time", "loss_per_kelvin"], node: tn)
                if let v = optionalNumber(t, "heating", "actuators.thermal.heating", nonNegative: true) { a.thermal.heating = v }
                if let v = optionalNumber(t, "cooling_time", "actuators.thermal.cooling_time", positive: true) { a.thermal.coolingTime = v }
                if let v = optionalNumber(t, "loss_per_kelvin", "actuators.thermal.loss_per_kelvin", nonNegative: true) { a.thermal.lossPerKelvin = v }
            }
            truth.actuators = a
        }
        if let node = top["sensors"], let m = mapping(node, "sensors") {
            checkKeys(m, "sensors", allowed: ["publish_hz", "position_noise", "velocity_noise", "position_bias", "velocity_bias",
                                               "position_drift", "resolution", "encoder_offsets", "gyro_noise", "gyro_bias",
                                               "accelerometer_noise", "accelerometer_bias", "orientation_noise", "dropout"], node: node)
            var s = Truth.Sensors()
            if let v = optionalNumber(m, "publish_hz", "sensors.publish_hz", positive: true) { s.publishHz = v }
            if let v = optionalNumber(m, "position_noise", "sensors.position_noise", nonNegative: true) { s.positionNoise = v }
            if let v = optionalNumber(m, "velocity_noise", "sensors.velocity_noise", nonNegative: true) { s.velocityNoise = v }
            if let v = optionalNumber(m, "position_bias", "sensors.position_bias") { s.positionBias = v }
            if let v = optionalNumber(m, "velocity_bias", "sensors.velocity_bias") { s.velocityBias = v }
            if let v = optionalNumber(m, "position_drift", "sensors.position_drift", nonNegative: true) { s.positionDrift = v }
            if let v = optionalNumber(m, "resolution", "sensors.resolution", nonNegative: true) { s.resolution = v }
            if let node = m["encoder_offsets"], node.null == nil, let v = numberOrList(node, "sensors.encoder_offsets") { s.encoderOffsets = v }
            if let v = optionalNumber(m, "gyro_noise", "sensors.gyro_noise", nonNegative: true) { s.gyroNoise = v }
            if let v = vector(m, "gyro_bias", "sensors.gyro_bias") { s.gyroBias = v }
            if let v = optionalNumber(m, "accelerometer_noise", "sensors.accelerometer_noise", nonNegative: true) { s.accelerometerNoise = v }
            if let v = vector(m, "accelerometer_bias", "sensors.accelerometer_bias") { s.accelerometerBias = v }
            if let v = optionalNumber(m, "orientation_noise", "sensors.orientation_noise", nonNegative: true) { s.orientationNoise = v }
            if let v = probability(m, "dropout", "sensors.dropout") { s.dropout = v }
            truth.sensors = s
        }
        if let node = top["link"], let m = mapping(node, "link") {
            checkKeys(m, "link", allowed: ["latency", "jitter", "command_loss", "state_loss", "stall"], node: node)
            var l = Truth.Link()
            if let v = optionalNumber(m, "latency", "link.latency", nonNegative: true) { l.latency = v }
            if let v = optionalNumber(m, "jitter", "link.jitter", nonNegative: true) { l.jitter = v }
            if let v = probability(m, "command_loss", "link.command_loss") { l.commandLoss = v }
            if let v = probability(m, "state_loss", "link.state_loss") { l.stateLoss = v }
            if let sn = m["stall"], let s = mapping(sn, "link.stall") {
                checkKeys(s, "link.stall", allowed: ["start", "duration"], node: sn)
                let start = requiredNumber(s, "start", "link.stall.start", parent: sn, nonNegative: true)
                let duration = requiredNumber(s, "duration", "link.stall.duration", parent: sn, positive: true)
                if let start, let duration { l.stall = .init(start: start, duration: duration) }
            }
            truth.link = l
        }
        return truth
    }
}
