// Latency between a command and the response to it, by normalized cross-correlation on a common
// uniform grid, a parabolic sub-sample peak, and a delete-one-block jackknife for the uncertainty.
//
// References: Knapp & Carter, "The generalized correlation method for estimation of time delay",
// IEEE Trans. ASSP 24 (1976); Efron & Stein, "The jackknife estimate of variance", Ann. Stat. 9
// (1981) and Künsch (1989) for the block jackknife of dependent data.
import Foundation
import TetherNumerics
import TetherCore

/// How a signal is read between its samples when it is put on the common grid.
public enum SignalInterpolation: String, Codable, Sendable {
    /// Straight lines between samples (a sampled continuous signal).
    case linear
    /// Each sample in force until the next (a command that is held).
    case hold
}

/// The delay of a response behind its command.
public struct LatencyEstimate: Codable, Sendable, Equatable {
    /// The signal pair, for reports.
    public var signal: String
    /// s: how far the response lags the command (negative: it leads), with a standard error that
    /// combines the jackknife, the peak-interpolation error and, for a cusped peak, the sampling
    /// resolution; Student-t 95 % interval on (blocks − 1) degrees of freedom.
    public var delay: ParameterEstimate
    /// Normalized cross-correlation at the peak (−1 … 1).
    public var peakCorrelation: Double
    /// s: step of the common grid.
    public var gridStep: Double
    /// Samples on the common grid.
    public var gridCount: Int
    /// s: the shortest lag searched (a grid multiple).
    public var minimumLag: Double
    /// s: the longest lag searched.
    public var maximumLag: Double
    /// Blocks of the jackknife.
    public var blockCount: Int
    /// s: the jackknife standard error alone.
    public var jackknifeStandardError: Double
    /// s: the sampling-resolution term (nonzero when the peak is a cusp, see `crossCorrelation`).
    public var resolutionStandardError: Double
    /// How the correlation falls off the peak: (r₀ − r±₂) / (r₀ − r±₁), about 4 for a smooth
    /// (parabolic) peak and about 2 for a cusp.
    public var peakShapeRatio: Double
}

/// Settings of the latency analysis.
public struct LatencyOptions: Sendable {
    /// s: grid step; nil: the smaller median sample interval of the two signals.
    public var gridStep: Double?
    /// s: shortest lag searched; nil: minus a quarter of the overlap.
    public var minimumLag: Double?
    /// s: longest lag searched; nil: a quarter of the overlap.
    public var maximumLag: Double?
    /// How the command is read between samples.
    public var commandInterpolation: SignalInterpolation = .linear
    /// How the response is read between samples.
    public var responseInterpolation: SignalInterpolation = .linear
    /// Refuse a peak correlation below this.
    public var minimumPeakCorrelation = 0.5
    /// Refuse when another distinct peak reaches this fraction of the highest (periodic input).
    public var ambiguityRatio = 0.9
    /// Blocks of the delete-one-block jackknife.
    public var blockCount = 16
    /// Creates the default settings.
    public init() {}
}

/// Latency by cross-correlation.
public enum LatencyAnalysis {
    /// The delay of `response` behind `command`: both resampled onto one uniform grid over their
    /// overlap, then for each lag k the Pearson correlation of command[i] with response[i + k]
    /// over the overlapping pairs (means removed per lag); the highest peak is refined by a
    /// parabola through it and its neighbours.
    ///
    /// The standard error combines a delete-one-block jackknife (the pairs whose command index
    /// falls in one of `blockCount` blocks left out in turn) with the disagreement between the
    /// parabolic and the Gaussian (log-parabolic) peak interpolation, an estimate of the
    /// interpolation error. When the peak is a cusp rather than smooth — sharp edges, such as steps,
    /// sampled in step with the command — the sub-sample position is set by where the edges fell
    /// between samples, which no interpolation recovers; then the resolution term `h_s/√3` is
    /// added, h_s the response's sample interval (the larger of both signals' when the command
    /// is not held), covering an error of up to one sample. The interval is Student-t with
    /// (blocks − 1) degrees of freedom.
    ///
    /// - Parameters:
    ///   - commandTimes, commands: s and command units, strictly increasing times.
    ///   - responseTimes, responses: s and response units.
    ///   - signal: what is compared ("hip torque"), for messages.
    ///   - source: the recording path, for messages.
    /// - Throws: `TetherError` for invalid input, too short an overlap, a constant signal, a peak
    ///   below `minimumPeakCorrelation`, a peak at the edge of the lag window, or a second peak
    ///   nearly as high (a periodic command makes the lag ambiguous).
    public static func crossCorrelation(commandTimes: [Double], commands: [Double], responseTimes: [Double], responses: [Double],
                                        signal: String, source: String, options: LatencyOptions = .init()) throws -> LatencyEstimate {
        let analysis = "latency of '\(signal)'"
        try AnalysisInput.requireSeries(times: commandTimes, values: commands, timeName: "command time", valueName: "command",
                                        minimumCount: 10, analysis: analysis, source: source)
        try AnalysisInput.requireSeries(times: responseTimes, values: responses, timeName: "response time", valueName: "response",
                                        minimumCount: 10, analysis: analysis, source: source)
        let start = max(commandTimes[0], responseTimes[0])
        let end = min(commandTimes.last!, responseTimes.last!)
        guard end > start else {
            throw TetherError("\(analysis): the command and the response do not overlap in time", at: source,
                              hint: "check that both signals come from the same recording and clock")
        }
        let h = options.gridStep ?? min(SampleStatistics.medianInterval(commandTimes), SampleStatistics.medianInterval(responseTimes))
        try AnalysisInput.requirePositive(h, named: "grid step", analysis: analysis, source: source)
        let count = Int(((end - start) / h + 1e-9).rounded(.down)) + 1
        let grid = (0..<count).map { start + Double($0) * h }
        // Removing the grid means first keeps the per-lag sums free of cancellation; the
        // correlation does not change.
        var a = resample(times: commandTimes, values: commands, at: grid, interpolation: options.commandInterpolation)
        var b = resample(times: responseTimes, values: responses, at: grid, interpolation: options.responseInterpolation)
        let meanA = SampleStatistics.mean(a), meanB = SampleStatistics.mean(b)
        a = a.map { $0 - meanA }
        b = b.map { $0 - meanB }
        let overlap = end - start
        let minLag = options.minimumLag ?? -overlap / 4, maxLag = options.maximumLag ?? overlap / 4
        guard minLag < maxLag else {
            throw TetherError("\(analysis): the lag window [\(minLag), \(maxLag)] s is empty", at: source)
        }
        let kMin = Int((minLag / h).rounded(.up)), kMax = Int((maxLag / h).rounded(.down))
        guard kMax - kMin >= 2, count - max(abs(kMin), abs(kMax)) >= 10 else {
            throw TetherError("\(analysis): the overlap (\(String(format: "%.3g", overlap)) s, \(count) grid samples) is too short for lags "
                + "\(minLag)…\(maxLag) s",
                              at: source, hint: "record longer, or narrow the lag window")
        }
        for (name, series) in [("command", a), ("response", b)] where SampleStatistics.standardDeviation(series) == 0 {
            throw TetherError("\(analysis): the \(name) is constant over the overlap, so there is nothing to correlate", at: source,
                              hint: "excite the system with a varying command (steps, chirp, noise)")
        }

        // Per lag and block: the sums the Pearson correlation needs.
        let blocks = max(2, options.blockCount)
        let lagCount = kMax - kMin + 1
        var sums = [CorrelationSums](repeating: CorrelationSums(), count: lagCount * blocks)
        for (li, k) in (kMin...kMax).enumerated() {
            let lo = max(0, -k), hi = min(count, count - k)
            guard lo < hi else { continue }
            for i in lo..<hi {
                sums[li * blocks + i * blocks / count].add(a[i], b[i + k])
            }
        }
        func correlations(leavingOut left: Int?) -> [Double] {
            (0..<lagCount).map { li in
                var total = CorrelationSums()
                for s in 0..<blocks where s != left { total.merge(sums[li * blocks + s]) }
                return total.correlation
            }
        }
        let r = correlations(leavingOut: nil)
        let peak = r.indices.max { r[$0] < r[$1] }!
        guard r[peak] >= options.minimumPeakCorrelation else {
            throw TetherError("\(analysis): the cross-correlation peaks at only \(String(format: "%.2f", r[peak])) (at least "
                + "\(options.minimumPeakCorrelation) is needed)",
                              at: source, hint: "check that the response follows this command; widen the lag window if the delay may be larger")
        }
        guard peak > 0 && peak < lagCount - 1 else {
            throw TetherError("\(analysis): the correlation peak is at the edge of the lag window (\(String(format: "%.4g", Double(kMin + peak) * h)) s)",
                              at: source, hint: "widen the lag window")
        }
        if let rival = distinctRival(r, peak: peak), r[rival] >= options.ambiguityRatio * r[peak] {
            throw TetherError("\(analysis): the correlation has two near-equal peaks, at \(String(format: "%.4g", Double(kMin + peak) * h)) s and "
                + "\(String(format: "%.4g", Double(kMin + rival) * h)) s; the lag is ambiguous",
                              at: source, hint: "use a non-periodic command (steps at irregular times, a chirp, noise) or narrow the lag window")
        }
        let (offset, gaussianOffset) = interpolatedPeak(r, peak)
        let delay = (Double(kMin + peak) + offset) * h
        // Peak shape: a parabola drops four times as far at two steps as at one, a cusp twice.
        var shape = 4.0
        if peak >= 2 && peak < lagCount - 2 {
            let drop1 = 2 * r[peak] - r[peak - 1] - r[peak + 1], drop2 = 2 * r[peak] - r[peak - 2] - r[peak + 2]
            if drop1 > 0 { shape = drop2 / drop1 }
        }
        let samplingInterval = options.commandInterpolation == .hold
            ? SampleStatistics.medianInterval(responseTimes)
            : max(SampleStatistics.medianInterval(commandTimes), SampleStatistics.medianInterval(responseTimes))
        let resolution = shape < 3 ? samplingInterval / 3.0.squareRoot() : 0

        // Delete-one-block jackknife.
        var leaveOut: [Double] = []
        for s in 0..<blocks {
            let rs = correlations(leavingOut: s)
            let p = rs.indices.max { rs[$0] < rs[$1] }!
            let o = p > 0 && p < lagCount - 1 ? interpolatedPeak(rs, p).parabolic : 0
            leaveOut.append((Double(kMin + p) + o) * h)
        }
        let mean = SampleStatistics.mean(leaveOut)
        let g = Double(blocks)
        let jackknife = ((g - 1) / g * leaveOut.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }).squareRoot()
        let interpolation = abs(offset - gaussianOffset) * h
        let standardError = (jackknife * jackknife + interpolation * interpolation + resolution * resolution).squareRoot()
        return LatencyEstimate(signal: signal,
                               delay: ParameterEstimate(value: delay, standardError: standardError, degreesOfFreedom: blocks - 1),
                               peakCorrelation: r[peak], gridStep: h, gridCount: count, minimumLag: Double(kMin) * h,
                               maximumLag: Double(kMax) * h, blockCount: blocks, jackknifeStandardError: jackknife,
                               resolutionStandardError: resolution, peakShapeRatio: shape)
    }

    /// Which joint quantity to compare, command against measurement.
    public enum JointQuantity: String, Codable, Sendable {
        /// Commanded position against measured position.
        case position
        /// Commanded velocity against measured velocity.
        case velocity
        /// Commanded (feed-forward) torque against measured effort.
        case torque
    }

    /// The delay of one joint's measurement behind its command in a recording (commands held
    /// until the next, measurements linear between samples).
    public static func crossCorrelation(_ recording: ExperimentRecording, joint: String, quantity: JointQuantity,
                                        options: LatencyOptions = .init()) throws -> LatencyEstimate {
        let index = try recording.jointIndex(joint)
        let commandField: KeyPath<JointCommand, [Double]>
        let stateField: KeyPath<ExperimentRecording.StateSample, [Double]>
        switch quantity {
        case .position: (commandField, stateField) = (\.positions, \.positions)
        case .velocity: (commandField, stateField) = (\.velocities, \.velocities)
        case .torque: (commandField, stateField) = (\.torques, \.efforts)
        }
        let commands = recording.commands.filter { index < $0.command[keyPath: commandField].count }
        let measured = recording.series(joint: index, stateField)
        var options = options
        options.commandInterpolation = .hold
        return try crossCorrelation(commandTimes: commands.map(\.time), commands: commands.map { $0.command[keyPath: commandField][index] },
                                    responseTimes: measured.times, responses: measured.values, signal: "\(joint) \(quantity.rawValue)",
                                    source: recording.source, options: options)
    }

    // MARK: - Internals

    /// Running sums for a Pearson correlation.
    struct CorrelationSums {
        var n = 0.0, sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0
        mutating func add(_ a: Double, _ b: Double) {
            n += 1; sa += a; sb += b; saa += a * a; sbb += b * b; sab += a * b
        }
        mutating func merge(_ o: CorrelationSums) {
            n += o.n; sa += o.sa; sb += o.sb; saa += o.saa; sbb += o.sbb; sab += o.sab
        }
        var correlation: Double {
            guard n > 1 else { return 0 }
            let cov = sab - sa * sb / n, va = saa - sa * sa / n, vb = sbb - sb * sb / n
            return va > 0 && vb > 0 ? cov / (va * vb).squareRoot() : 0
        }
    }

    /// The sub-sample offset of a peak from a parabola through it and its neighbours, and the same
    /// from a parabola through their logarithms (a Gaussian peak), when they are positive.
    static func interpolatedPeak(_ r: [Double], _ k: Int) -> (parabolic: Double, gaussian: Double) {
        let l = r[k - 1], c = r[k], u = r[k + 1]
        let denominator = l - 2 * c + u
        let parabolic = denominator < 0 ? 0.5 * (l - u) / denominator : 0
        guard l > 0, c > 0, u > 0 else { return (parabolic, parabolic) }
        let ll = log(l), lc = log(c), lu = log(u)
        let logDenominator = ll - 2 * lc + lu
        return (parabolic, logDenominator < 0 ? 0.5 * (ll - lu) / logDenominator : parabolic)
    }

    /// The highest local maximum other than `peak` that is separated from it by a dip below
    /// half the peak.
    static func distinctRival(_ r: [Double], peak: Int) -> Int? {
        var rival: Int?
        for k in 1..<max(1, r.count - 1) where k != peak && r[k] >= r[k - 1] && r[k] >= r[k + 1] {
            let between = k < peak ? r[k...peak] : r[peak...k]
            guard between.min()! < 0.5 * r[peak] else { continue }
            if rival == nil || r[k] > r[rival!] { rival = k }
        }
        return rival
    }

    /// Values of a signal at `grid` times inside its span.
    static func resample(times: [Double], values: [Double], at grid: [Double], interpolation: SignalInterpolation) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(grid.count)
        var j = 0
        for t in grid {
            while j + 1 < times.count && times[j + 1] <= t { j += 1 }
            switch interpolation {
            case .hold:
                out.append(values[j])
            case .linear:
                if j + 1 >= times.count || t <= times[j] {
                    out.append(values[j])
                } else {
                    let w = (t - times[j]) / (times[j + 1] - times[j])
                    out.append(values[j] + w * (values[j + 1] - values[j]))
                }
            }
        }
        return out
    }
}
