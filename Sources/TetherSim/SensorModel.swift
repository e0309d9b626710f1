import TetherCore

/// The sensors of a simulated robot: how a measured state differs from the simulation's exact
/// one. Every simulated robot composes this one model (the virtual robot, the calibrated
/// simulation; `SimRobot` itself reports the exact state), so they differ only in its values.
///
/// - joints: encoder offset, constant bias, a random-walk drift, white noise, then quantization
///   to the encoder's resolution (positions); bias and white noise (velocities);
/// - gyro: bias and white noise per axis; accelerometer: bias and white noise per axis;
///   orientation: a small random rotation;
/// - dropout: a sample is not produced with a given probability (the reader keeps the last one).
///
/// Draws come from a `SeededRandom` the caller passes in, in a fixed order (per joint position
/// then velocity, then gyro, accelerometer, orientation), and only for effects that are on, so the
/// same seed gives the same measurements. What changes over time (the drift) is in `SensorState`.
public struct SensorModel: Sendable, Equatable {
    /// Joint position noise standard deviation, rad.
    public var positionNoise: Double
    /// Joint velocity noise standard deviation, rad/s.
    public var velocityNoise: Double
    /// Constant joint position bias, rad (every joint).
    public var positionBias: Double
    /// Constant joint velocity bias, rad/s (every joint).
    public var velocityBias: Double
    /// Random-walk drift of the joint positions, rad/√s.
    public var positionDrift: Double
    /// Encoder resolution, rad (0: continuous); positions read as multiples of it.
    public var resolution: Double
    /// Encoder offset per joint (manifest order), rad; empty: none.
    public var encoderOffsets: [Double]
    /// Gyro noise standard deviation per axis, rad/s.
    public var gyroNoise: SIMD3<Double>
    /// Gyro bias per axis, rad/s.
    public var gyroBias: SIMD3<Double>
    /// Accelerometer noise standard deviation per axis, m/s².
    public var accelerometerNoise: SIMD3<Double>
    /// Accelerometer bias per axis, m/s².
    public var accelerometerBias: SIMD3<Double>
    /// Standard deviation of a small random rotation of the orientation per axis, rad.
    public var orientationNoise: Double
    /// Probability that a sample is not produced.
    public var dropout: Double

    /// Creates a sensor model; the defaults are exact sensors.
    public init(positionNoise: Double = 0, velocityNoise: Double = 0, positionBias: Double = 0, velocityBias: Double = 0,
                positionDrift: Double = 0, resolution: Double = 0, encoderOffsets: [Double] = [], gyroNoise: SIMD3<Double> = .zero,
                gyroBias: SIMD3<Double> = .zero, accelerometerNoise: SIMD3<Double> = .zero, accelerometerBias: SIMD3<Double> = .zero,
                orientationNoise: Double = 0, dropout: Double = 0) {
        self.positionNoise = positionNoise
        self.velocityNoise = velocityNoise
        self.positionBias = positionBias
        self.velocityBias = velocityBias
        self.positionDrift = positionDrift
        self.resolution = resolution
        self.encoderOffsets = encoderOffsets
        self.gyroNoise = gyroNoise
        self.gyroBias = gyroBias
        self.accelerometerNoise = accelerometerNoise
        self.accelerometerBias = accelerometerBias
        self.orientationNoise = orientationNoise
        self.dropout = dropout
    }

    /// The virtual robot's hidden sensors.
    public init(_ sensors: Truth.Sensors) {
        self.init(positionNoise: sensors.positionNoise, velocityNoise: sensors.velocityNoise, positionBias: sensors.positionBias,
                  velocityBias: sensors.velocityBias, positionDrift: sensors.positionDrift, resolution: sensors.resolution,
                  encoderOffsets: sensors.encoderOffsets, gyroNoise: SIMD3(repeating: sensors.gyroNoise), gyroBias: sensors.gyroBias,
                  accelerometerNoise: SIMD3(repeating: sensors.accelerometerNoise), accelerometerBias: sensors.accelerometerBias,
                  orientationNoise: sensors.orientationNoise, dropout: sensors.dropout)
    }

    /// Whether measurements are the exact state (every effect off).
    public var isExact: Bool {
        var plain = self
        plain.encoderOffsets = []
        return plain == SensorModel() && encoderOffsets.allSatisfy { $0 == 0 }
    }

    /// The encoder offset of joint `joint` (manifest order), rad.
    @inline(__always)
    public func encoderOffset(joint: Int) -> Double { encoderOffsets.isEmpty ? 0 : encoderOffsets[joint] }

    /// Walks the drift over `period` seconds (whether or not a sample is then produced).
    public func walkDrift(over period: Double, in state: inout SensorState, random: inout SeededRandom) {
        guard positionDrift > 0 else { return }
        let step = positionDrift * period.squareRoot()
        for j in state.drift.indices { state.drift[j] += random.gaussian(standardDeviation: step) }
    }

    /// Whether this sample drops out (draws only when dropouts are on).
    public func dropsSample(random: inout SeededRandom) -> Bool {
        dropout > 0 && random.uniform() < dropout
    }

    /// `exact` as the sensors report it. `exact.jointPositions` are the positions the encoders sit
    /// on (for a joint with backlash, the motor side).
    public func measure(_ exact: RobotState, state: SensorState, random: inout SeededRandom) -> RobotState {
        var measured = exact
        for j in measured.jointPositions.indices {
            var q = measured.jointPositions[j] + encoderOffset(joint: j) + positionBias + (j < state.drift.count ? state.drift[j] : 0)
            if positionNoise > 0 { q += random.gaussian(standardDeviation: positionNoise) }
            if resolution > 0 { q = (q / resolution).rounded() * resolution }
            measured.jointPositions[j] = q
            var qd = measured.jointVelocities[j] + velocityBias
            if velocityNoise > 0 { qd += random.gaussian(standardDeviation: velocityNoise) }
            measured.jointVelocities[j] = qd
        }
        if let w = measured.baseAngularVelocity { measured.baseAngularVelocity = w + gyroBias + Self.noise(gyroNoise, &random) }
        if let f = measured.baseAcceleration {
            measured.baseAcceleration = f + accelerometerBias + Self.noise(accelerometerNoise, &random)
        }
        if let q = measured.baseOrientation, orientationNoise > 0 {
            let e = Self.noise(SIMD3(repeating: orientationNoise), &random) / 2
            var d = Self.multiply(q, SIMD4(1, e.x, e.y, e.z))
            d /= (d * d).sum().squareRoot()
            measured.baseOrientation = d
        }
        return measured
    }

    /// White noise per axis; no draw when every axis is exact.
    private static func noise(_ sd: SIMD3<Double>, _ random: inout SeededRandom) -> SIMD3<Double> {
        guard sd != .zero else { return .zero }
        return SIMD3(random.gaussian(standardDeviation: sd.x), random.gaussian(standardDeviation: sd.y),
                     random.gaussian(standardDeviation: sd.z))
    }

    /// Hamilton product of (w, x, y, z) quaternions.
    private static func multiply(_ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
        SIMD4(a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
              a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
              a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
              a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0])
    }
}
