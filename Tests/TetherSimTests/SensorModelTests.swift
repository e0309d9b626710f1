import Foundation
import Testing
import TetherCore
@testable import TetherSim

/// Each effect of the sensor model alone, on synthetic states, without a simulation.
@Suite struct SensorModelTests {
    /// A state of `joints` joints at 0.3 rad, 0.5 rad/s, with an IMU reading.
    func exact(joints: Int = 3) -> RobotState {
        RobotState(time: 1, jointPositions: [Double](repeating: 0.3, count: joints), jointVelocities: [Double](repeating: 0.5, count: joints),
                   jointTorques: [Double](repeating: 0, count: joints), baseOrientation: SIMD4(1, 0, 0, 0),
                   baseAngularVelocity: SIMD3(0.1, 0.2, 0.3), baseAcceleration: SIMD3(0, 0, 9.81))
    }

    func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
    func sd(_ v: [Double]) -> Double {
        let m = mean(v)
        return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
    }

    /// Exact sensors report the state unchanged and draw nothing from the random stream.
    @Test func exactSensorsChangeNothing() {
        let model = SensorModel(encoderOffsets: [0, 0, 0])
        #expect(model.isExact)
        var random = SeededRandom(seed: 1), untouched = SeededRandom(seed: 1)
        #expect(model.measure(exact(), state: SensorState(joints: 3), random: &random) == exact())
        #expect(!model.dropsSample(random: &random))
        #expect(random.next() == untouched.next())
    }

    /// Biases and encoder offsets are constant offsets, without noise.
    @Test func biasesAreConstantOffsets() {
        let model = SensorModel(positionBias: 0.01, velocityBias: -0.02, encoderOffsets: [0, 0.05, 0], gyroBias: SIMD3(0, 0, 0.1),
                                accelerometerBias: SIMD3(0.2, 0, 0))
        #expect(!model.isExact)
        var random = SeededRandom(seed: 1)
        let m = model.measure(exact(), state: SensorState(joints: 3), random: &random)
        #expect(abs(m.jointPositions[0] - 0.31) < 1e-15 && abs(m.jointPositions[1] - 0.36) < 1e-15)
        #expect(abs(m.jointVelocities[2] - 0.48) < 1e-15)
        #expect(m.baseAngularVelocity == SIMD3(0.1, 0.2, 0.3) + SIMD3(0, 0, 0.1))
        #expect(m.baseAcceleration == SIMD3(0.2, 0, 9.81))
    }

    /// White noise has zero mean and the configured standard deviation, per axis for the gyro.
    @Test func noiseHasTheConfiguredSpread() {
        let model = SensorModel(positionNoise: 0.005, velocityNoise: 0.03, gyroNoise: SIMD3(0.01, 0, 0.04))
        var random = SeededRandom(seed: 7)
        var q: [Double] = [], qd: [Double] = [], gx: [Double] = [], gy: [Double] = [], gz: [Double] = []
        for _ in 0..<5000 {
            let m = model.measure(exact(), state: SensorState(joints: 3), random: &random)
            q += m.jointPositions.map { $0 - 0.3 }
            qd += m.jointVelocities.map { $0 - 0.5 }
            gx.append(m.baseAngularVelocity!.x - 0.1)
            gy.append(m.baseAngularVelocity!.y - 0.2)
            gz.append(m.baseAngularVelocity!.z - 0.3)
        }
        #expect(abs(sd(q) / 0.005 - 1) < 0.03 && abs(mean(q)) < 3 * 0.005 / Double(q.count).squareRoot() + 1e-5)
        #expect(abs(sd(qd) / 0.03 - 1) < 0.03)
        #expect(abs(sd(gx) / 0.01 - 1) < 0.05 && abs(sd(gz) / 0.04 - 1) < 0.05)
        #expect(gy.allSatisfy { abs($0) < 1e-15 }, "an exact axis stays exact")
    }

    /// The drift is a random walk: after time T its spread over joints is drift · √T, and it is
    /// part of every later reading.
    @Test func driftIsARandomWalk() {
        let model = SensorModel(positionDrift: 0.01)
        var random = SeededRandom(seed: 3)
        var s = SensorState(joints: 4000)
        for _ in 0..<200 { model.walkDrift(over: 0.02, in: &s, random: &random) }  // 4 s
        #expect(abs(sd(s.drift) / (0.01 * 4.0.squareRoot()) - 1) < 0.05)
        let m = model.measure(exact(joints: 4000), state: s, random: &random)
        #expect(abs(m.jointPositions[17] - (0.3 + s.drift[17])) < 1e-15)
    }

    /// Quantized readings are multiples of the resolution, within half a step of the truth.
    @Test func quantizationRoundsToTheResolution() {
        let resolution = 0.001
        let model = SensorModel(resolution: resolution)
        var random = SeededRandom(seed: 5)
        for _ in 0..<1000 {
            let q = random.uniform(-3, 3)
            var state = exact(joints: 1)
            state.jointPositions[0] = q
            let m = model.measure(state, state: SensorState(joints: 1), random: &random).jointPositions[0]
            #expect(abs(m / resolution - (m / resolution).rounded()) < 1e-6)
            #expect(abs(m - q) <= resolution / 2 + 1e-12)
        }
    }

    /// Samples drop out at the configured rate.
    @Test func dropoutsHaveTheConfiguredRate() {
        let model = SensorModel(dropout: 0.1)
        var random = SeededRandom(seed: 2)
        let n = 20000
        let dropped = (0..<n).filter { _ in model.dropsSample(random: &random) }.count
        let sd = (Double(n) * 0.1 * 0.9).squareRoot()
        #expect(abs(Double(dropped) - 0.1 * Double(n)) < 4 * sd)
    }

    /// Orientation noise is a small rotation: the quaternion stays a unit quaternion near the truth.
    @Test func orientationNoiseIsASmallRotation() {
        let model = SensorModel(orientationNoise: 0.01)
        var random = SeededRandom(seed: 4)
        for _ in 0..<100 {
            let q = model.measure(exact(), state: SensorState(joints: 3), random: &random).baseOrientation!
            #expect(abs((q * q).sum() - 1) < 1e-12)
            #expect(q[0] > 0.999 && q[0] < 1)
        }
    }

    /// The virtual robot's scalar figures apply to every axis.
    @Test func truthSensorsMapAxisForAxis() {
        var t = Truth.Sensors()
        t.gyroNoise = 0.004
        t.accelerometerNoise = 0.08
        let model = SensorModel(t)
        #expect(model.gyroNoise == SIMD3(repeating: 0.004) && model.accelerometerNoise == SIMD3(repeating: 0.08))
    }
}
