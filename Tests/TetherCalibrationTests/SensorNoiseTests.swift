import Foundation
import Testing
import TetherCore
@testable import TetherCalibration

private struct AllanPeerRequest: Encodable {
    var op = "allan"
    var values: [Double]
    var tau0: Double
    var m: [Int]
}

private struct AllanPeerAnswer: Decodable {
    var adev: [Double]
}

@Suite struct SensorNoiseTests {
    static let tau0 = 0.01
    static let angleRandomWalk = 1e-3  // rad/√s
    static let rateRandomWalk = 1e-4   // rad/s/√s

    /// A gyro at rest: bias 0.02 rad/s, white rate noise (angle random walk N) and a bias random
    /// walk (rate random walk K), at 100 Hz.
    static func gyro(seed: UInt64, count: Int = 1 << 16, withRateRandomWalk: Bool = true) -> (times: [Double], values: [Double]) {
        var random = SeededRandom(seed: seed)
        var bias = 0.02
        var values: [Double] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            values.append(bias + random.gaussian(standardDeviation: angleRandomWalk / tau0.squareRoot()))
            if withRateRandomWalk { bias += random.gaussian(standardDeviation: rateRandomWalk * tau0.squareRoot()) }
        }
        return ((0..<count).map { Double($0) * tau0 }, values)
    }

    /// σ(τ) for white rate noise plus a rate random walk.
    static func theory(_ tau: Double) -> Double {
        (angleRandomWalk * angleRandomWalk / tau + rateRandomWalk * rateRandomWalk * tau / 3).squareRoot()
    }

    @Test func allanCurveAndNoiseTermsMatchTheTruth() throws {
        let data = Self.gyro(seed: 51)
        let allan = try SensorNoiseAnalysis.allanDeviation(times: data.times, values: data.values, channel: "gyro x", source: "still.mcap")
        #expect(abs(allan.sampleInterval - Self.tau0) < 1e-12)
        #expect(allan.points.first?.clusterSize == 1)
        #expect(allan.points.allSatisfy { 65536 / $0.clusterSize >= 9 })
        let missed = allan.points.filter { !$0.deviation.contains(Self.theory($0.clusterTime)) }
        #expect(missed.count <= 1, "points off the theory: \(missed)")
        let n = try #require(allan.randomWalk, "\(allan.randomWalkNote)")
        #expect(n.contains(Self.angleRandomWalk), "\(n)")
        #expect(relativelyClose(n.value, Self.angleRandomWalk, 0.05))
        // The flat minimum of N²/τ + K²τ/3 is at τ = √3 N / K ≈ 17 s, σ = √(2NK/√3).
        let b = try #require(allan.biasInstability, "\(allan.biasInstabilityNote)")
        let tauB = try #require(allan.biasInstabilityClusterTime)
        #expect(tauB > 4 && tauB < 80)
        let floor = (2 * Self.angleRandomWalk * Self.rateRandomWalk / 3.0.squareRoot()).squareRoot()
        #expect(b.contains(Self.theory(tauB) / 0.664), "\(b) at \(tauB) s")
        #expect(relativelyClose(b.value * 0.664, floor, 0.3))
        #expect(abs(allan.mean.value - 0.02) < 0.01)
        #expect(allan.standardDeviation.value > 0.0099)
    }

    @Test func allanDeviationAgreesWithNumpy() throws {
        let data = Self.gyro(seed: 52, count: 20_000)
        let allan = try SensorNoiseAnalysis.allanDeviation(values: data.values, sampleInterval: Self.tau0, channel: "gyro z", source: "still.mcap")
        let peer = try calibrationPeer(AllanPeerRequest(values: data.values, tau0: Self.tau0, m: allan.points.map(\.clusterSize)),
                                       as: AllanPeerAnswer.self)
        #expect(peer.adev.count == allan.points.count)
        for (point, reference) in zip(allan.points, peer.adev) {
            #expect(relativelyClose(point.deviation.value, reference, 1e-9), "m = \(point.clusterSize): \(point.deviation.value) vs numpy \(reference)")
        }
    }

    @Test func whiteNoiseAloneHasNoResolvedBiasInstability() throws {
        let data = Self.gyro(seed: 53, count: 5000, withRateRandomWalk: false)
        let allan = try SensorNoiseAnalysis.allanDeviation(times: data.times, values: data.values, channel: "gyro y", source: "still.mcap")
        #expect(allan.randomWalk?.contains(Self.angleRandomWalk) == true, "\(String(describing: allan.randomWalk))")
        if allan.biasInstability == nil {
            #expect(allan.biasInstabilityNote.contains("still falling"))
        } else {
            // Noise can put the minimum one point early; it must then sit near the end.
            #expect(allan.biasInstabilityClusterTime! >= allan.points[allan.points.count - 2].clusterTime)
        }
    }

    @Test func encoderStatisticsGiveBiasAndSpread() throws {
        var random = SeededRandom(seed: 54)
        let values = (0..<2000).map { _ in 0.3 + 2e-4 + random.gaussian(standardDeviation: 1e-4) }
        let stats = try SensorNoiseAnalysis.statistics(values: values, reference: 0.3, channel: "knee", source: "still.mcap")
        #expect(stats.bias!.contains(2e-4), "\(stats.bias!)")
        #expect(stats.standardDeviation.contains(1e-4), "\(stats.standardDeviation)")
        #expect(stats.sampleCount == 2000 && stats.minimum < stats.maximum)
        // From a recording: every joint.
        let recording = ExperimentRecording(source: "still.mcap", jointNames: ["a", "b"],
                                            states: values.indices.map { i in
                                                .init(time: Double(i) * 0.002, positions: [values[i], -values[i]], velocities: [0, 0], efforts: [])
                                            }, commands: [])
        let joints = try SensorNoiseAnalysis.encoders(recording, references: [0.3, -0.3])
        #expect(joints.map(\.channel) == ["a", "b"])
        #expect(joints[1].bias!.contains(-2e-4))
    }

    @Test func imuRecordingGivesSixChannels() throws {
        let data = Self.gyro(seed: 55, count: 3000, withRateRandomWalk: false)
        var random = SeededRandom(seed: 56)
        let imu = data.times.indices.map { i in
            ExperimentRecording.IMUSample(time: data.times[i],
                                          angularVelocity: SIMD3(data.values[i], -data.values[i], random.gaussian(standardDeviation: 0.01)),
                                          linearAcceleration: SIMD3(random.gaussian(standardDeviation: 0.05), 0.1 + random.gaussian(standardDeviation: 0.05),
                                                                    9.81 + random.gaussian(standardDeviation: 0.05)))
        }
        let recording = ExperimentRecording(source: "still.mcap", jointNames: [], states: [], commands: [], imu: imu)
        let channels = try SensorNoiseAnalysis.imu(recording)
        #expect(channels.map(\.channel) == ["gyro x", "gyro y", "gyro z", "accelerometer x", "accelerometer y", "accelerometer z"])
        #expect(abs(channels[5].mean.value - 9.81) < 0.01)
    }

    @Test func noiseAnalysesRefuseBadInput() {
        let data = Self.gyro(seed: 57, count: 2000)
        var times = data.times
        times[500] += 0.005
        expectAnalysisError(source: "still.mcap", mentioning: ["'gyro x'", "uniformly sampled", "sample 50"]) {
            _ = try SensorNoiseAnalysis.allanDeviation(times: times, values: data.values, channel: "gyro x", source: "still.mcap")
        }
        times = data.times
        times[700] = times[699]
        expectAnalysisError(source: "still.mcap", mentioning: ["'time'", "repeats"]) {
            _ = try SensorNoiseAnalysis.allanDeviation(times: times, values: data.values, channel: "gyro x", source: "still.mcap")
        }
        var values = data.values
        values[9] = .nan
        expectAnalysisError(source: "still.mcap", mentioning: ["'gyro x'", "not finite"]) {
            _ = try SensorNoiseAnalysis.allanDeviation(times: data.times, values: values, channel: "gyro x", source: "still.mcap")
        }
        expectAnalysisError(source: "still.mcap", mentioning: ["'gyro x'", "at least 20"]) {
            _ = try SensorNoiseAnalysis.allanDeviation(times: Array(data.times.prefix(12)), values: Array(data.values.prefix(12)),
                                                       channel: "gyro x", source: "still.mcap")
        }
        expectAnalysisError(source: "still.mcap", mentioning: ["'gyro x'", "constant"]) {
            _ = try SensorNoiseAnalysis.allanDeviation(times: data.times, values: data.times.map { _ in 0.5 }, channel: "gyro x", source: "still.mcap")
        }
        expectAnalysisError(source: "still.mcap", mentioning: ["'knee'", "1 sample"]) {
            _ = try SensorNoiseAnalysis.statistics(values: [0.1], channel: "knee", source: "still.mcap")
        }
        expectAnalysisError(source: "still.mcap", mentioning: ["no IMU"]) {
            _ = try SensorNoiseAnalysis.imu(ExperimentRecording(source: "still.mcap", jointNames: [], states: [], commands: []))
        }
    }
}
