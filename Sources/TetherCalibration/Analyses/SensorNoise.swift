// Sensor noise from stationary recordings: bias and standard deviation per channel, and the
// overlapping Allan deviation with the noise terms read off it (random walk from the −1/2 slope,
// bias instability from the flat minimum).
//
// References: IEEE Std 952-1997, Annex C (Allan variance of gyros; the 0.664 factor of bias
// instability and the approximate relative error 1/√(2(N/m − 1))); Riley, "Handbook of
// Frequency Stability Analysis", NIST SP 1065 (2008), §5.2.4 (overlapping Allan variance).
import Foundation
import TetherNumerics
import TetherCore

/// One point of an Allan deviation curve.
public struct AllanPoint: Codable, Sendable, Equatable {
    /// s: cluster time τ = m τ0.
    public var clusterTime: Double
    /// Samples per cluster m.
    public var clusterSize: Int
    /// Units of the channel: σ(τ), with a χ² 95 % interval on `degreesOfFreedom`.
    public var deviation: ParameterEstimate
    /// ⌊N/m⌋ − 1, the degrees of freedom of the approximate χ² interval (independent clusters − 1).
    public var degreesOfFreedom: Int
}

/// The Allan deviation of one stationary channel and the noise terms read from it.
public struct AllanAnalysis: Codable, Sendable, Equatable {
    /// The channel ("gyro x", a joint name).
    public var channel: String
    /// s: the sample interval τ0 (median).
    public var sampleInterval: Double
    /// Samples used.
    public var sampleCount: Int
    /// Mean of the channel (its bias when the true value is 0), SE from 10 batch means.
    public var mean: ParameterEstimate
    /// Sample standard deviation with a χ² interval.
    public var standardDeviation: ParameterEstimate
    /// Overlapping Allan deviation at octave-spaced cluster times.
    public var points: [AllanPoint]
    /// Units·√s (rad/√s for a gyro, m/s/√s for an accelerometer): angle / velocity random walk N,
    /// the −1/2-slope line through the short-τ points at τ = 1 s. nil when there is no such region.
    public var randomWalk: ParameterEstimate?
    /// s: the cluster times the random walk was fitted on.
    public var randomWalkClusterTimes: [Double]
    /// How the random walk was read, or why it was not.
    public var randomWalkNote: String
    /// Units of the channel: bias instability, the minimum of the curve / 0.664. nil when the
    /// curve is still falling at the longest cluster time.
    public var biasInstability: ParameterEstimate?
    /// s: the cluster time of that minimum.
    public var biasInstabilityClusterTime: Double?
    /// How the bias instability was read, or why it was not.
    public var biasInstabilityNote: String
}

/// Bias and noise of a stationary channel (an encoder at rest, say).
public struct NoiseStatistics: Codable, Sendable, Equatable {
    /// The channel.
    public var channel: String
    /// Samples used.
    public var sampleCount: Int
    /// Mean, SE from batch means (10 batches from 50 samples on), which allows for drift and
    /// correlation; plain s/√n below that.
    public var mean: ParameterEstimate
    /// Mean minus the reference (the known true value), when a reference was given.
    public var bias: ParameterEstimate?
    /// Sample standard deviation with a χ² 95 % interval (n − 1 degrees of freedom).
    public var standardDeviation: ParameterEstimate
    /// Smallest value.
    public var minimum: Double
    /// Largest value.
    public var maximum: Double
}

/// Settings of the Allan analysis.
public struct AllanOptions: Sendable {
    /// Keep cluster sizes m with at least this many independent clusters ⌊N/m⌋.
    public var minimumIndependentClusters = 9
    /// Largest allowed relative deviation of any sample interval from the median.
    public var maximumIntervalJitter = 0.1
    /// Segments whose log–log slope lies within this of −1/2 count as random walk.
    public var slopeTolerance = 0.2
    /// Creates the default settings.
    public init() {}
}

/// Noise of stationary sensors.
public enum SensorNoiseAnalysis {
    /// The bias instability factor: the flicker floor of the Allan deviation is 0.664 B.
    public static let biasInstabilityFactor = 0.664

    /// Mean, bias against an optional reference, and standard deviation of a stationary channel.
    ///
    /// - Throws: `TetherError` for fewer than 2 samples or non-finite values.
    public static func statistics(values: [Double], reference: Double? = nil, channel: String, source: String) throws -> NoiseStatistics {
        let analysis = "noise statistics"
        try AnalysisInput.requireCount(values.count, atLeast: 2, of: channel, analysis: analysis, source: source)
        try AnalysisInput.requireFinite(values, named: channel, analysis: analysis, source: source)
        if let reference { try AnalysisInput.requireFinite([reference], named: "reference of \(channel)", analysis: analysis, source: source) }
        let mean = FrictionAnalysis.batchMean(values)
        let bias = reference.map { ParameterEstimate(value: mean.value - $0, standardError: mean.standardError,
                                                      lower95: mean.lower95 - $0, upper95: mean.upper95 - $0) }
        return NoiseStatistics(channel: channel, sampleCount: values.count, mean: mean, bias: bias,
                               standardDeviation: standardDeviationEstimate(values), minimum: values.min()!, maximum: values.max()!)
    }

    /// Overlapping Allan deviation of a uniformly sampled stationary channel at m = 1, 2, 4, …
    /// samples per cluster, with the noise terms read from the curve.
    ///
    /// `σ²(τ) = Σ (x[k+2m] − 2x[k+m] + x[k])² / (2 τ² (N − 2m + 1))` over the integrated signal
    /// x (x[0] = 0, x[k] = τ0 Σ_{i<k} y[i]), τ = m τ0. The random walk N is the weighted mean of
    /// σ(τ)√τ over the points on the −1/2 slope before the minimum (weights ∝ degrees of
    /// freedom; its SE assumes those points fully correlated, which is conservative). The bias
    /// instability is the minimum σ over 0.664, with that point's χ² interval.
    ///
    /// - Parameters:
    ///   - times: s, strictly increasing and uniform within `maximumIntervalJitter`.
    ///   - values: the channel (rate units: rad/s for a gyro, m/s² for an accelerometer).
    ///   - channel, source: for messages.
    /// - Throws: `TetherError` for fewer than `2 · minimumIndependentClusters` samples (and 20),
    ///   non-finite values, unsorted or non-uniform times, or a constant channel.
    public static func allanDeviation(times: [Double], values: [Double], channel: String, source: String,
                                      options: AllanOptions = .init()) throws -> AllanAnalysis {
        let analysis = "Allan deviation"
        try AnalysisInput.requireSeries(times: times, values: values, valueName: channel,
                                        minimumCount: max(20, 2 * options.minimumIndependentClusters), analysis: analysis, source: source)
        let tau0 = SampleStatistics.medianInterval(times)
        for i in 1..<times.count {
            let dt = times[i] - times[i - 1]
            if abs(dt / tau0 - 1) > options.maximumIntervalJitter {
                throw TetherError("\(analysis): '\(channel)' is not uniformly sampled: the interval before sample \(i) is \(String(format: "%.4g", dt)) s "
                    + "against a median of \(String(format: "%.4g", tau0)) s",
                                  at: source, hint: "the Allan deviation needs a uniform rate; record without drops or analyse a gap-free stretch")
            }
        }
        return try allanDeviation(values: values, sampleInterval: tau0, channel: channel, source: source, options: options)
    }

    /// The same from values at a known uniform sample interval τ0 (s).
    public static func allanDeviation(values: [Double], sampleInterval tau0: Double, channel: String, source: String,
                                      options: AllanOptions = .init()) throws -> AllanAnalysis {
        let analysis = "Allan deviation"
        try AnalysisInput.requireCount(values.count, atLeast: max(20, 2 * options.minimumIndependentClusters), of: channel,
                                       analysis: analysis, source: source, hint: "record the sensor at rest for longer")
        try AnalysisInput.requireFinite(values, named: channel, analysis: analysis, source: source)
        try AnalysisInput.requirePositive(tau0, named: "sample interval", analysis: analysis, source: source)
        let n = values.count
        let deviation = standardDeviationEstimate(values)
        guard deviation.value > 0 else {
            throw TetherError("\(analysis): '\(channel)' is constant (\(values[0])), so it has no measurable noise", at: source,
                              hint: "check that the channel is connected; a quantized sensor at rest needs dither or a finer resolution")
        }
        let points = overlappingAllanDeviation(values: values, sampleInterval: tau0, clusterSizes: octaveClusterSizes(count: n, options: options))
        if let zero = points.first(where: { $0.deviation.value <= 0 }) {
            throw TetherError("\(analysis): '\(channel)' has zero Allan deviation at τ = \(zero.clusterTime) s", at: source,
                              hint: "the channel is too coarsely quantized for this analysis")
        }
        var result = AllanAnalysis(channel: channel, sampleInterval: tau0, sampleCount: n, mean: FrictionAnalysis.batchMean(values),
                                   standardDeviation: deviation, points: points, randomWalk: nil, randomWalkClusterTimes: [],
                                   randomWalkNote: "", biasInstability: nil, biasInstabilityClusterTime: nil, biasInstabilityNote: "")
        let minimumIndex = points.indices.min { points[$0].deviation.value < points[$1].deviation.value }!

        // Random walk: points before the minimum on segments of slope −1/2 ± tolerance.
        let logTau = points.map { log($0.clusterTime) }, logSigma = points.map { log($0.deviation.value) }
        var onSlope = Set<Int>()
        for k in 0..<max(0, minimumIndex) {
            let slope = (logSigma[k + 1] - logSigma[k]) / (logTau[k + 1] - logTau[k])
            if abs(slope + 0.5) <= options.slopeTolerance { onSlope.insert(k); onSlope.insert(k + 1) }
        }
        if onSlope.isEmpty {
            result.randomWalkNote = "No −1/2 slope before the minimum: white noise does not dominate at short cluster times."
        } else {
            let used = onSlope.sorted()
            let weights = used.map { Double(points[$0].degreesOfFreedom) }
            let total = weights.reduce(0, +)
            let logN = zip(used, weights).reduce(0) { $0 + $1.1 * (logSigma[$1.0] + 0.5 * logTau[$1.0]) } / total
            let logSE = zip(used, weights).reduce(0) { $0 + $1.1 / (2 * Double(points[$1.0].degreesOfFreedom)).squareRoot() } / total
            let value = exp(logN), z = Distributions.normalQuantile(0.975)
            result.randomWalk = ParameterEstimate(value: value, standardError: value * logSE,
                                                  lower95: value * exp(-z * logSE), upper95: value * exp(z * logSE))
            result.randomWalkClusterTimes = used.map { points[$0].clusterTime }
            result.randomWalkNote = "The −1/2 slope line through \(used.count) point\(used.count == 1 ? "" : "s") from τ = "
                + "\(String(format: "%.3g", points[used.first!].clusterTime)) s to \(String(format: "%.3g", points[used.last!].clusterTime)) s, read at τ = "
                    + "1 s."
        }
        // Bias instability: the minimum, unless the curve is still falling at the end.
        if minimumIndex == points.count - 1 {
            result.biasInstabilityNote = "The Allan deviation is still falling at the longest cluster time (τ = "
                + "\(String(format: "%.3g", points[minimumIndex].clusterTime)) s); record at least \(options.minimumIndependentClusters) times longer than "
                    + "where it flattens."
        } else {
            let point = points[minimumIndex]
            let f = biasInstabilityFactor
            result.biasInstability = ParameterEstimate(value: point.deviation.value / f, standardError: point.deviation.standardError / f,
                                                       lower95: point.deviation.lower95 / f, upper95: point.deviation.upper95 / f)
            result.biasInstabilityClusterTime = point.clusterTime
            result.biasInstabilityNote = minimumIndex == 0
                ? "The curve rises from the shortest cluster time; its minimum there bounds the bias instability from above."
                : "The minimum of the curve at τ = \(String(format: "%.3g", point.clusterTime)) s, divided by \(f)."
        }
        return result
    }

    /// Allan analyses of a stationary IMU recording: gyro x, y, z then accelerometer x, y, z.
    /// - Parameter evenlySpaced: take the samples as evenly spaced at their mean interval instead
    ///   of requiring uniform time stamps. Right when the stamps are receive times: the robot
    ///   samples its IMU on its own clock and the link adds the jitter (a lost sample shortens the
    ///   time axis by one interval in thousands).
    public static func imu(_ recording: ExperimentRecording, evenlySpaced: Bool = false, options: AllanOptions = .init()) throws -> [AllanAnalysis] {
        guard !recording.imu.isEmpty else {
            throw TetherError("Allan deviation: the recording has no IMU samples", at: recording.source,
                              hint: "record a stationary experiment on a robot with an IMU")
        }
        let times = recording.imu.map(\.time)
        let meanInterval = (times.last! - times.first!) / Double(max(1, times.count - 1))
        var out: [AllanAnalysis] = []
        for (name, pick) in [("gyro", { (s: ExperimentRecording.IMUSample) in s.angularVelocity }),
                             ("accelerometer", { (s: ExperimentRecording.IMUSample) in s.linearAcceleration })] {
            for (axis, k) in [("x", 0), ("y", 1), ("z", 2)] {
                let values = recording.imu.map { pick($0)[k] }
                out.append(evenlySpaced
                    ? try allanDeviation(values: values, sampleInterval: meanInterval, channel: "\(name) \(axis)", source: recording.source, options: options)
                    : try allanDeviation(times: times, values: values, channel: "\(name) \(axis)", source: recording.source, options: options))
            }
        }
        return out
    }

    /// Encoder statistics of every joint of a stationary recording (positions), with biases
    /// against `references` (manifest order) when given.
    public static func encoders(_ recording: ExperimentRecording, references: [Double]? = nil) throws -> [NoiseStatistics] {
        if let references, references.count != recording.jointNames.count {
            throw TetherError("noise statistics: \(references.count) reference positions for \(recording.jointNames.count) joints", at: recording.source)
        }
        return try recording.jointNames.indices.map { j in
            try statistics(values: recording.series(joint: j, \.positions).values, reference: references?[j],
                           channel: recording.jointNames[j], source: recording.source)
        }
    }

    // MARK: - Internals

    /// m = 1, 2, 4, … while ⌊N/m⌋ ≥ the minimum number of independent clusters.
    static func octaveClusterSizes(count n: Int, options: AllanOptions) -> [Int] {
        var sizes: [Int] = []
        var m = 1
        while n / m >= options.minimumIndependentClusters && 2 * m < n {
            sizes.append(m)
            m *= 2
        }
        return sizes
    }

    /// The overlapping Allan deviation at the given cluster sizes, from the integrated signal.
    static func overlappingAllanDeviation(values: [Double], sampleInterval tau0: Double, clusterSizes: [Int]) -> [AllanPoint] {
        // Integrate after removing the mean: the variance does not change, the precision does.
        let mean = SampleStatistics.mean(values)
        var x = [0.0]
        x.reserveCapacity(values.count + 1)
        for v in values { x.append(x[x.count - 1] + (v - mean) * tau0) }
        let n = values.count
        return clusterSizes.map { m in
            let tau = Double(m) * tau0
            var sum = 0.0
            for k in 0...(n - 2 * m) {
                let d = x[k + 2 * m] - 2 * x[k + m] + x[k]
                sum += d * d
            }
            let sigma = (sum / (2 * tau * tau * Double(n - 2 * m + 1))).squareRoot()
            let dof = n / m - 1
            return AllanPoint(clusterTime: tau, clusterSize: m, deviation: chiSquaredDeviation(sigma, degreesOfFreedom: dof), degreesOfFreedom: dof)
        }
    }

    /// A standard deviation with its χ² interval and first-order SE `s / √(2ν)`.
    static func chiSquaredDeviation(_ s: Double, degreesOfFreedom nu: Int) -> ParameterEstimate {
        let v = Double(max(nu, 1))
        return ParameterEstimate(value: s, standardError: s / (2 * v).squareRoot(),
                                 lower95: s * (v / Distributions.chiSquaredQuantile(0.975, degreesOfFreedom: v)).squareRoot(),
                                 upper95: s * (v / Distributions.chiSquaredQuantile(0.025, degreesOfFreedom: v)).squareRoot())
    }

    static func standardDeviationEstimate(_ values: [Double]) -> ParameterEstimate {
        chiSquaredDeviation(SampleStatistics.standardDeviation(values), degreesOfFreedom: values.count - 1)
    }
}
