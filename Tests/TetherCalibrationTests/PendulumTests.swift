import Foundation
import Testing
import TetherCore
@testable import TetherCalibration

@Suite struct PendulumTests {
    @Test func massFromScaleReadingsCoversTheTruth() throws {
        var random = SeededRandom(seed: 11)
        let readings = (0..<8).map { _ in 1.35 + random.gaussian(standardDeviation: 0.002) }
        let estimate = try MassAnalysis.fromScaleReadings(readings, parameter: "thigh", source: "scale.csv")
        #expect(estimate.mass.contains(1.35))
        #expect(abs(estimate.mass.value - 1.35) < 0.003)
        #expect(estimate.readingCount == 8)
        // Equal readings need the scale's resolution for an uncertainty.
        let same = try MassAnalysis.fromScaleReadings([2.5, 2.5, 2.5], scaleResolution: 0.01, source: "scale.csv")
        #expect(abs(same.mass.standardError - 0.01 / 12.0.squareRoot()) < 1e-15)
    }

    @Test func massRefusesBadReadings() {
        expectAnalysisError(source: "scale.csv", mentioning: ["'thigh'", "1 sample"]) {
            _ = try MassAnalysis.fromScaleReadings([1.2], parameter: "thigh", source: "scale.csv")
        }
        expectAnalysisError(source: "scale.csv", mentioning: ["'thigh'", "not finite"]) {
            _ = try MassAnalysis.fromScaleReadings([1.2, .nan], parameter: "thigh", source: "scale.csv")
        }
        expectAnalysisError(source: "scale.csv", mentioning: ["'thigh'", "not positive"]) {
            _ = try MassAnalysis.fromScaleReadings([1.2, -1.2], parameter: "thigh", source: "scale.csv")
        }
        expectAnalysisError(source: "scale.csv", mentioning: ["'thigh'", "same"]) {
            _ = try MassAnalysis.fromScaleReadings([1.2, 1.2, 1.2], parameter: "thigh", source: "scale.csv")
        }
    }

    /// A linear damped swing with noise, sampled unevenly.
    static func linearSwing(seed: UInt64, amplitude: Double = 0.2, noise: Double = 0.002, duration: Double = 8)
        -> (times: [Double], angles: [Double], omegaN: Double, zeta: Double) {
        var random = SeededRandom(seed: seed)
        let omegaN = 2 * Double.pi * 1.3, zeta = 0.02
        let omegaD = omegaN * (1 - zeta * zeta).squareRoot()
        let times = jitteredTimes(rate: 200, duration: duration, jitter: 0.0005, random: &random).map { $0 + 3 }
        let angles = times.map { t in
            amplitude * exp(-zeta * omegaN * (t - 3)) * cos(omegaD * (t - 3) + 0.4) + 0.01 + random.gaussian(standardDeviation: noise)
        }
        return (times, angles, omegaN, zeta)
    }

    @Test func dampedSinusoidFitLandsOnTheTruth() throws {
        let swing = Self.linearSwing(seed: 12)
        let fit = try PendulumAnalysis.fitDampedSinusoid(times: swing.times, angles: swing.angles, joint: "knee", source: "swing.mcap")
        #expect(fit.naturalFrequency.contains(swing.omegaN), "\(fit.naturalFrequency)")
        #expect(fit.dampingRatio.contains(swing.zeta), "\(fit.dampingRatio)")
        #expect(fit.period.contains(2 * .pi / (swing.omegaN * (1 - swing.zeta * swing.zeta).squareRoot())))
        // The model's t = 0 is the first (jittered) sample.
        let lead = swing.times[0] - 3
        let omegaD = swing.omegaN * (1 - swing.zeta * swing.zeta).squareRoot()
        #expect(fit.amplitude.contains(0.2 * exp(-swing.zeta * swing.omegaN * lead)), "\(fit.amplitude)")
        #expect(fit.offset.contains(0.01), "\(fit.offset)")
        #expect(fit.phase.contains(0.4 + omegaD * lead), "\(fit.phase)")
        #expect(relativelyClose(fit.naturalFrequency.value, swing.omegaN, 1e-3))
        #expect(abs(fit.dampingRatio.value - swing.zeta) < 1e-3)
        #expect(abs(fit.quality.residualStandardDeviation - 0.002) < 2e-4)
        #expect(abs(fit.angle(at: 4) - (swing.angles[200] - 0)) < 0.01)
    }

    /// A compound pendulum integrated with the full sin θ (RK4), released from `release` rad.
    static func nonlinearSwing(release: Double, seed: UInt64) -> (times: [Double], angles: [Double]) {
        let m = 1.2, g = 9.80665, d = 0.25, inertia = 0.1, b = 0.01
        var random = SeededRandom(seed: seed)
        func acceleration(_ theta: Double, _ omega: Double) -> Double { (-m * g * d * sin(theta) - b * omega) / inertia }
        var theta = release, omega = 0.0
        let h = 1e-4
        var times: [Double] = [], angles: [Double] = []
        for step in 0..<120_000 {
            if step % 50 == 0 {
                times.append(Double(step) * h)
                angles.append(theta + random.gaussian(standardDeviation: 0.001))
            }
            let k1t = omega, k1o = acceleration(theta, omega)
            let k2t = omega + 0.5 * h * k1o, k2o = acceleration(theta + 0.5 * h * k1t, omega + 0.5 * h * k1o)
            let k3t = omega + 0.5 * h * k2o, k3o = acceleration(theta + 0.5 * h * k2t, omega + 0.5 * h * k2o)
            let k4t = omega + h * k3o, k4o = acceleration(theta + h * k3t, omega + h * k3o)
            theta += h / 6 * (k1t + 2 * k2t + 2 * k3t + k4t)
            omega += h / 6 * (k1o + 2 * k2o + 2 * k3o + k4o)
        }
        return (times, angles)
    }

    @Test func compoundPendulumInertiaWithAmplitudeCorrection() throws {
        let swing = Self.nonlinearSwing(release: 0.5, seed: 13)
        let fit = try PendulumAnalysis.fitDampedSinusoid(times: swing.times, angles: swing.angles, joint: "shoulder", source: "swing.mcap")
        let mass = try MassAnalysis.fromScaleReadings([1.201, 1.199, 1.2, 1.202, 1.198], source: "scale.csv").mass
        let distance = ParameterEstimate(value: 0.25, standardError: 0.0005)
        let corrected = try PendulumAnalysis.compoundPendulum(swing: fit, mass: mass, pivotToCenterOfMass: distance, source: "swing.mcap")
        let uncorrected = try PendulumAnalysis.compoundPendulum(swing: fit, mass: mass, pivotToCenterOfMass: distance,
                                                                amplitudeCorrection: false, source: "swing.mcap")
        #expect(corrected.inertiaAboutPivot.contains(0.1), "\(corrected.inertiaAboutPivot)")
        #expect(relativelyClose(corrected.inertiaAboutPivot.value, 0.1, 0.003))
        // Without the correction a 0.5 rad swing (a longer period) reads the inertia more than 1 % high.
        #expect(uncorrected.inertiaAboutPivot.value > 0.1 * 1.01)
        #expect(!uncorrected.inertiaAboutPivot.contains(0.1))
        #expect(corrected.amplitudeCorrection > 1.005)
        #expect(corrected.inertiaAboutCenterOfMass.contains(0.1 - 1.2 * 0.25 * 0.25), "\(corrected.inertiaAboutCenterOfMass)")
        #expect(corrected.dampingCoefficient.contains(0.01), "\(corrected.dampingCoefficient)")
        #expect(relativelyClose(corrected.dampingCoefficient.value, 0.01, 0.01))
        #expect(corrected.dampingAmplitudeCorrection > 1.003)
        #expect(corrected.smallAmplitudePeriod.contains(2 * .pi / (1.2 * 9.80665 * 0.25 / 0.1).squareRoot()))
        // The result is Codable (reports are JSON).
        let data = try JSONEncoder().encode(corrected)
        #expect(try JSONDecoder().decode(PendulumInertia.self, from: data) == corrected)
    }

    @Test func swingFitRefusesBadInput() {
        let swing = Self.linearSwing(seed: 14)
        var times = swing.times
        times[50] = times[49]
        expectAnalysisError(source: "swing.mcap", mentioning: ["'time'", "repeats", "sample 50"]) {
            _ = try PendulumAnalysis.fitDampedSinusoid(times: times, angles: swing.angles, joint: "knee", source: "swing.mcap")
        }
        times.swapAt(10, 11)
        expectAnalysisError(source: "swing.mcap", mentioning: ["'time'", "goes back"]) {
            _ = try PendulumAnalysis.fitDampedSinusoid(times: times, angles: swing.angles, joint: "knee", source: "swing.mcap")
        }
        var angles = swing.angles
        angles[7] = .infinity
        expectAnalysisError(source: "swing.mcap", mentioning: ["'knee'", "not finite"]) {
            _ = try PendulumAnalysis.fitDampedSinusoid(times: swing.times, angles: angles, joint: "knee", source: "swing.mcap")
        }
        expectAnalysisError(source: "swing.mcap", mentioning: ["'knee'", "at least 20"]) {
            _ = try PendulumAnalysis.fitDampedSinusoid(times: Array(swing.times.prefix(10)), angles: Array(swing.angles.prefix(10)),
                                                       joint: "knee", source: "swing.mcap")
        }
        // Less than two swings.
        expectAnalysisError(source: "swing.mcap", mentioning: ["'knee'", "two full swings"]) {
            _ = try PendulumAnalysis.fitDampedSinusoid(times: Array(swing.times.prefix(200)), angles: Array(swing.angles.prefix(200)),
                                                       joint: "knee", source: "swing.mcap")
        }
        // A swing buried in noise.
        let quiet = Self.linearSwing(seed: 15, amplitude: 0.004, noise: 0.002)
        expectAnalysisError(source: "swing.mcap", mentioning: ["'knee'", "noise"]) {
            _ = try PendulumAnalysis.fitDampedSinusoid(times: quiet.times, angles: quiet.angles, joint: "knee", source: "swing.mcap")
        }
        // A distance that makes the centre-of-mass inertia negative.
        expectAnalysisError(source: "swing.mcap", mentioning: ["negative"]) {
            let fit = try PendulumAnalysis.fitDampedSinusoid(times: swing.times, angles: swing.angles, joint: "knee", source: "swing.mcap")
            _ = try PendulumAnalysis.compoundPendulum(swing: fit, mass: ParameterEstimate(value: 1, standardError: 0.01),
                                                      pivotToCenterOfMass: ParameterEstimate(value: 5, standardError: 0.01), source: "swing.mcap")
        }
    }
}
