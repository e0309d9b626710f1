// Joint friction from constant-velocity sweeps: steady-state segments of a velocity/effort
// recording, a Coulomb + viscous (+ bias) model by linear least squares, and a Stribeck model by
// nonlinear least squares only when the data supports it (F-test against the linear model).
//
// References: Armstrong-Hélouvry, Dupont & Canudas de Wit, "A survey of models, analysis tools
// and compensation methods for the control of machines with friction", Automatica 30 (1994)
// for the models; the extra-sum-of-squares F-test and AIC (Akaike 1974) for model choice.
import Foundation
import TetherNumerics
import TetherCore

/// One steady-state operating point: a constant velocity and the torque needed to hold it.
public struct FrictionPoint: Codable, Sendable, Equatable {
    /// rad/s (nonzero).
    public var velocity: Double
    /// N·m, the steady joint torque (effort) at that velocity.
    public var torque: Double
    /// Creates a point.
    public init(velocity: Double, torque: Double) {
        self.velocity = velocity
        self.torque = torque
    }
}

/// Which Coulomb model the linear fit uses.
public enum CoulombModel: String, Codable, Sendable {
    /// `τ = Fc sign(v) + b v + τ0` (τ0 only when both directions were swept).
    case symmetric
    /// `τ = Fc⁺ [v > 0] − Fc⁻ [v < 0] + b v` (a constant bias is part of Fc⁺ − Fc⁻).
    case asymmetric
}

/// A friction model fitted to steady-state points.
public struct FrictionFit: Codable, Sendable, Equatable {
    /// The joint, for reports.
    public var joint: String
    /// The linear model used.
    public var model: CoulombModel
    /// N·m: Coulomb friction Fc (symmetric model).
    public var coulomb: ParameterEstimate?
    /// N·m: Coulomb friction in the positive direction Fc⁺ (asymmetric model).
    public var coulombPositive: ParameterEstimate?
    /// N·m: Coulomb friction magnitude in the negative direction Fc⁻ (asymmetric model).
    public var coulombNegative: ParameterEstimate?
    /// N·m·s/rad: viscous coefficient b.
    public var viscous: ParameterEstimate
    /// N·m: constant torque bias τ0 (gravity, sensor offset), when it could be separated.
    public var offset: ParameterEstimate?
    /// What the fit could not separate, and other remarks, in sentences.
    public var notes: [String]
    /// The linear fit behind the numbers (names, covariance, residuals, quality).
    public var linear: LinearFit
    /// The Stribeck model, when the data supports it.
    public var stribeck: StribeckFit?
    /// Why the Stribeck model was or was not fitted, in a sentence.
    public var stribeckDecision: String
    /// Points with positive velocity.
    public var positiveCount: Int
    /// Points with negative velocity.
    public var negativeCount: Int

    /// Fit quality of the linear model (N·m).
    public var quality: FitQuality { linear.quality }

    /// N·m: the linear model's torque at velocity `v`.
    public func torque(at v: Double) -> Double {
        let s: Double = v > 0 ? 1 : (v < 0 ? -1 : 0)
        var tau = viscous.value * v + (offset?.value ?? 0)
        if let coulomb { tau += coulomb.value * s }
        if let coulombPositive, v > 0 { tau += coulombPositive.value }
        if let coulombNegative, v < 0 { tau -= coulombNegative.value }
        return tau
    }
}

/// The Stribeck model `τ = sign(v)(Fc + (Fs − Fc) e^{−(|v|/vs)²}) + b v + τ0`.
public struct StribeckFit: Codable, Sendable, Equatable {
    /// N·m: Coulomb (kinetic) friction.
    public var coulomb: ParameterEstimate
    /// N·m: static (breakaway) friction.
    public var staticFriction: ParameterEstimate
    /// rad/s: Stribeck velocity (interval mapped from the fit of ln vs, so it is asymmetric).
    public var stribeckVelocity: ParameterEstimate
    /// N·m·s/rad: viscous coefficient.
    public var viscous: ParameterEstimate
    /// N·m: constant bias, when both directions were swept.
    public var offset: ParameterEstimate?
    /// The nonlinear fit (parameters Fc, Fs, ln vs, b [, τ0]).
    public var fit: NonlinearFit
    /// Extra-sum-of-squares F statistic against the symmetric Coulomb + viscous model.
    public var fStatistic: Double
    /// Its p-value (small: the Stribeck terms explain real structure).
    public var fTestPValue: Double
    /// Akaike information criterion `n ln(RSS/n) + 2k` of the symmetric linear model.
    public var aicLinear: Double
    /// The same for the Stribeck model (lower is better).
    public var aicStribeck: Double

    /// N·m: the model's torque at velocity `v`.
    public func torque(at v: Double) -> Double {
        let s: Double = v > 0 ? 1 : (v < 0 ? -1 : 0)
        let vs = stribeckVelocity.value
        return s * (coulomb.value + (staticFriction.value - coulomb.value) * exp(-(v / vs) * (v / vs))) + viscous.value * v + (offset?.value ?? 0)
    }
}

/// Settings of the friction fit.
public struct FrictionOptions: Sendable {
    /// Use separate Coulomb levels per direction (needs both directions).
    public var model: CoulombModel = .symmetric
    /// Try the Stribeck model at all.
    public var attemptStribeck = true
    /// Keep the Stribeck model only when the F-test p-value is below this.
    public var stribeckSignificance = 0.01
    /// Points needed at low speed (|v| ≤ `lowSpeedFraction` · max |v|) to try Stribeck.
    public var minimumLowSpeedPoints = 4
    /// What counts as low speed, as a fraction of the fastest point.
    public var lowSpeedFraction = 0.25
    /// Creates the default settings.
    public init() {}
}

/// A window of a sweep where the joint ran at constant velocity.
public struct SteadySegment: Codable, Sendable, Equatable {
    /// s: first sample used (after the settling time was cut).
    public var startTime: Double
    /// s: last sample used.
    public var endTime: Double
    /// Samples averaged.
    public var sampleCount: Int
    /// rad/s: mean measured velocity and its standard error.
    public var velocity: ParameterEstimate
    /// N·m: mean measured effort and its standard error.
    public var torque: ParameterEstimate
    /// rad/s: spread of the measured velocity in the window.
    public var velocityStandardDeviation: Double
    /// N·m: spread of the measured effort in the window.
    public var torqueStandardDeviation: Double
    /// rad/s: the commanded velocity, when commands were given.
    public var commandedVelocity: Double?

    /// The operating point for `FrictionAnalysis.fit`.
    public var point: FrictionPoint { FrictionPoint(velocity: velocity.value, torque: torque.value) }
}

/// A window that was looked at and not used, with the reason.
public struct RejectedSegment: Codable, Sendable, Equatable {
    /// s: when the candidate window began (the command change).
    public var startTime: Double
    /// s: when it ended.
    public var endTime: Double
    /// Why it was not used, in a sentence.
    public var reason: String
}

/// The steady segments of a sweep, and the command windows that were not steady.
public struct SteadySegmentExtraction: Codable, Sendable, Equatable {
    /// The steady windows, in time order.
    public var segments: [SteadySegment]
    /// Command windows that were looked at and not used.
    public var rejected: [RejectedSegment]
    /// The operating points of the segments.
    public var points: [FrictionPoint] { segments.map(\.point) }
}

/// How steady-state windows are found.
public struct SteadyStateOptions: Sendable {
    /// s cut after each command change (or the start of a detected run): the transient.
    public var settleTime = 0.3
    /// s: shortest window kept after the cut.
    public var minimumDuration = 0.5
    /// Fewest samples in a kept window.
    public var minimumSamples = 10
    /// Velocity must stay within `relative · |mean| + absolute` of the window mean.
    public var relativeVelocityTolerance = 0.05
    /// rad/s.
    public var absoluteVelocityTolerance = 0.02
    /// rad/s: windows slower than this are not moving (stalled or holding) and are not used.
    public var minimumSpeed = 1e-3
    /// Creates the default settings.
    public init() {}
}

/// Friction identification from constant-velocity sweeps.
public enum FrictionAnalysis {
    /// Fits Coulomb + viscous friction (and a constant bias when both directions are present) by
    /// linear least squares, and the Stribeck model when the data supports it.
    ///
    /// The Stribeck model is fitted (grid over vs, each point linear in the other parameters, then
    /// Levenberg–Marquardt) only when there are enough points (n ≥ p + 3) and at least
    /// `minimumLowSpeedPoints` at low speed, and kept only when the F-test against the symmetric
    /// linear model has p < `stribeckSignificance` and the fitted vs lies within the swept speeds;
    /// `stribeckDecision` says which way it went and why.
    ///
    /// - Parameters:
    ///   - points: steady operating points (velocity ≠ 0).
    ///   - joint: the joint name, for messages and the result.
    ///   - source: the recording path, for messages.
    ///   - options: model choice and Stribeck gates.
    /// - Throws: `TetherError` for non-finite values, zero velocities, too few points, a single
    ///   speed (viscous friction not identified), or the asymmetric model with one direction.
    public static func fit(_ points: [FrictionPoint], joint: String, source: String, options: FrictionOptions = .init()) throws -> FrictionFit {
        let analysis = "friction fit of '\(joint)'"
        let v = points.map(\.velocity), tau = points.map(\.torque)
        try AnalysisInput.requireFinite(v, named: "velocity", analysis: analysis, source: source)
        try AnalysisInput.requireFinite(tau, named: "torque", analysis: analysis, source: source)
        if let i = v.firstIndex(of: 0) {
            throw TetherError("\(analysis): point \(i) has velocity 0; the friction torque at rest is not defined by these models", at: source,
                              hint: "drop points at rest (the steady-segment extraction does)")
        }
        let positive = v.filter { $0 > 0 }.count, negative = v.count - positive
        let both = positive > 0 && negative > 0
        let speeds = Set(v.map { abs($0) })
        guard speeds.count >= 2 else {
            throw TetherError("\(analysis): every point has the same speed (\(speeds.first.map { String($0) } ?? "none") rad/s), so 'viscous' cannot be "
                + "told apart from 'coulomb'",
                              at: source, hint: "sweep at least two (better five or more) speeds")
        }
        var notes: [String] = []
        var columns: [[Double]] = []
        var names: [String] = []
        let sign = v.map { $0 > 0 ? 1.0 : -1.0 }
        switch options.model {
        case .symmetric:
            columns = [sign, v]
            names = ["coulomb", "viscous"]
            if both {
                columns.append(Array(repeating: 1, count: v.count))
                names.append("offset")
            } else {
                notes.append("Only one direction was swept, so a constant torque bias (gravity, sensor offset) cannot be told apart from Coulomb friction: "
                    + "'coulomb' includes it.")
            }
        case .asymmetric:
            guard both else {
                throw TetherError("\(analysis): the asymmetric Coulomb model needs both directions; only \(positive > 0 ? "positive" : "negative") "
                    + "velocities were swept",
                                  at: source, hint: "sweep both directions, or use the symmetric model")
            }
            columns = [v.map { $0 > 0 ? 1 : 0 }, v.map { $0 < 0 ? -1 : 0 }, v]
            names = ["coulomb (positive)", "coulomb (negative)", "viscous"]
            notes.append("In the asymmetric model a constant torque bias is part of Fc⁺ − Fc⁻; with truly symmetric friction the bias is (Fc⁺ − Fc⁻)/2.")
        }
        try AnalysisInput.requireCount(points.count, atLeast: names.count + 2, of: "friction points", analysis: analysis, source: source,
                                       hint: "sweep more speeds")
        let linear = try LeastSquares.linear(DenseMatrix(columns: columns), tau, parameterNames: names, analysis: analysis, source: source)

        var result = FrictionFit(joint: joint, model: options.model,
                                 coulomb: linear["coulomb"], coulombPositive: linear["coulomb (positive)"],
                                 coulombNegative: linear["coulomb (negative)"], viscous: linear["viscous"]!,
                                 offset: linear["offset"], notes: notes, linear: linear, stribeck: nil,
                                 stribeckDecision: "", positiveCount: positive, negativeCount: negative)
        let (stribeck, decision) = fitStribeck(v: v, tau: tau, both: both, analysis: analysis, source: source, options: options)
        result.stribeck = stribeck
        result.stribeckDecision = decision
        return result
    }

    /// The Stribeck fit when the gates pass, and the sentence saying what happened.
    static func fitStribeck(v: [Double], tau: [Double], both: Bool, analysis: String, source: String,
                            options: FrictionOptions) -> (StribeckFit?, String) {
        guard options.attemptStribeck else { return (nil, "Not attempted (turned off).") }
        let n = v.count
        let pLinear = both ? 3 : 2, pStribeck = pLinear + 2
        guard n >= pStribeck + 3 else {
            return (nil, "Not fitted: \(n) points are too few for \(pStribeck) parameters (need at least \(pStribeck + 3)).")
        }
        let speeds = v.map { abs($0) }
        let fastest = speeds.max()!, slowest = speeds.min()!
        let lowCount = speeds.filter { $0 <= options.lowSpeedFraction * fastest }.count
        guard lowCount >= options.minimumLowSpeedPoints else {
            return (nil,
                    "Not fitted: \(lowCount) point\(lowCount == 1 ? "" : "s") below \(String(format: "%.3g", options.lowSpeedFraction * fastest)) rad/s; "
                        + "the Stribeck effect needs at least \(options.minimumLowSpeedPoints) low-speed points.")
        }
        let sign = v.map { $0 > 0 ? 1.0 : -1.0 }
        // The symmetric linear model is the null hypothesis (also when the asymmetric one was reported).
        var nullColumns = [sign, v]
        if both { nullColumns.append(Array(repeating: 1, count: n)) }
        let nullNames = both ? ["coulomb", "viscous", "offset"] : ["coulomb", "viscous"]
        guard let null = try? LeastSquares.linear(DenseMatrix(columns: nullColumns), tau, parameterNames: nullNames, analysis: analysis, source: source) else {
            return (nil, "Not fitted: the Coulomb + viscous model is not identified.")
        }
        // Start: for each vs on a log grid the model is linear in (Fc, Fs − Fc, b, τ0).
        var best: (rss: Double, vs: Double, beta: [Double])?
        let gridCount = 40
        for k in 0..<gridCount {
            let vs = slowest * pow(fastest / slowest, Double(k) / Double(gridCount - 1))
            var columns = [sign, zip(sign, speeds).map { $0 * exp(-($1 / vs) * ($1 / vs)) }, v]
            if both { columns.append(Array(repeating: 1, count: n)) }
            guard let fit = try? LeastSquares.linear(DenseMatrix(columns: columns), tau, parameterNames: ["Fc", "Fs-Fc", "b",
                                                                                                          "offset"].prefix(columns.count).map { $0 },
                                                     analysis: analysis, source: source) else { continue }
            if best == nil || fit.residualSumOfSquares < best!.rss { best = (fit.residualSumOfSquares, vs, fit.values) }
        }
        guard let best else { return (nil, "Not fitted: no Stribeck velocity in the swept range gives an identified model.") }
        var initial = [best.beta[0], best.beta[0] + best.beta[1], log(best.vs), best.beta[2]]
        if both { initial.append(best.beta[3]) }
        let torqueScale = max(tau.map { abs($0) }.max() ?? 1, 1e-6)
        var lm = LevenbergMarquardtOptions()
        lm.parameterScales = [torqueScale, torqueScale, 1, torqueScale / fastest] + (both ? [torqueScale] : [])
        let names = ["coulomb", "static friction", "ln stribeck velocity", "viscous"] + (both ? ["offset"] : [])
        let fit: NonlinearFit
        do {
            fit = try LeastSquares.levenbergMarquardt(parameterNames: names, initial: initial, analysis: "Stribeck fit", source: source,
                                                      options: lm, observations: tau) { p in
                let vs = exp(p[2])
                return (0..<n).map { i in
                    let model = sign[i] * (p[0] + (p[1] - p[0]) * exp(-(speeds[i] / vs) * (speeds[i] / vs))) + p[3] * v[i] + (both ? p[4] : 0)
                    return model - tau[i]
                }
            }
        } catch let error as TetherError {
            return (nil, "Not fitted: \(error.what).")
        } catch {
            return (nil, "Not fitted: \(error).")
        }
        let rssNull = null.residualSumOfSquares, rss = fit.residualSumOfSquares
        let dof = Double(n - pStribeck)
        let fStatistic = rss > 0 ? max(0, (rssNull - rss) / 2) / (rss / dof) : .greatestFiniteMagnitude
        let pValue = Distributions.fSurvival(fStatistic, 2, dof)
        func aic(_ rss: Double, _ k: Int) -> Double { Double(n) * log(max(rss, .leastNormalMagnitude) / Double(n)) + 2 * Double(k) }
        let lnVs = fit.parameters[2]
        let vs = exp(lnVs.value)
        guard pValue < options.stribeckSignificance else {
            return (nil,
                    "Not kept: the Stribeck terms do not improve the fit significantly (F = \(String(format: "%.3g", fStatistic)), p = "
                        + "\(String(format: "%.3g", pValue)) ≥ \(options.stribeckSignificance)).")
        }
        guard vs >= slowest && vs <= fastest else {
            return (nil,
                    "Not kept: the fitted Stribeck velocity (\(String(format: "%.3g", vs)) rad/s) lies outside the swept speeds "
                        + "(\(String(format: "%.3g", slowest))–\(String(format: "%.3g", fastest)) rad/s), so it is not identified.")
        }
        let stribeck = StribeckFit(coulomb: fit.parameters[0], staticFriction: fit.parameters[1],
                                   stribeckVelocity: lnVs.mapped(exp, derivative: vs), viscous: fit.parameters[3],
                                   offset: both ? fit.parameters[4] : nil, fit: fit, fStatistic: fStatistic, fTestPValue: pValue,
                                   aicLinear: aic(rssNull, pLinear), aicStribeck: aic(rss, pStribeck))
        return (stribeck,
                "Fitted: the Stribeck terms improve the fit (F = \(String(format: "%.3g", fStatistic)), p = \(String(format: "%.2g", pValue)); AIC "
                    + "\(String(format: "%.1f", stribeck.aicLinear)) → \(String(format: "%.1f", stribeck.aicStribeck))).")
    }

    /// Finds the constant-velocity windows of a sweep and averages velocity and effort in each.
    ///
    /// With commands, each window of constant commanded velocity is a candidate: the first
    /// `settleTime` after the change is cut, and the rest is kept when it lasts `minimumDuration`,
    /// moves faster than `minimumSpeed` and its measured velocity stays within the tolerance.
    /// Without commands, maximal runs of measured velocity within the tolerance of their running
    /// mean are the candidates, cut the same way. Means carry standard errors from batch means
    /// (10 batches when a window has 50 samples or more), which allows for correlated samples.
    ///
    /// - Parameters:
    ///   - times: s, strictly increasing.
    ///   - velocities: rad/s, measured.
    ///   - efforts: N·m, measured.
    ///   - commandTimes, commandedVelocities: the velocity commands, each in force until the next.
    ///   - joint, source: for messages.
    /// - Throws: `TetherError` for mismatched, non-finite or unsorted input, or when no window is steady.
    public static func steadySegments(times: [Double], velocities: [Double], efforts: [Double],
                                      commandTimes: [Double]? = nil, commandedVelocities: [Double]? = nil,
                                      joint: String, source: String, options: SteadyStateOptions = .init()) throws -> SteadySegmentExtraction {
        let analysis = "steady-state segments of '\(joint)'"
        try AnalysisInput.requireSeries(times: times, values: velocities, valueName: "velocity", minimumCount: options.minimumSamples,
                                        analysis: analysis, source: source)
        try AnalysisInput.requireSameCount(times.count, efforts.count, names: ("time", "effort"), analysis: analysis, source: source)
        try AnalysisInput.requireFinite(efforts, named: "effort", analysis: analysis, source: source)
        var candidates: [(start: Double, end: Double, command: Double?)] = []
        if let commandTimes, let commandedVelocities {
            try AnalysisInput.requireSeries(times: commandTimes, values: commandedVelocities, timeName: "command time",
                                            valueName: "commanded velocity", minimumCount: 1, analysis: analysis, source: source)
            var k = 0
            while k < commandTimes.count {
                var next = k + 1
                while next < commandTimes.count && commandedVelocities[next] == commandedVelocities[k] { next += 1 }
                let end = next < commandTimes.count ? commandTimes[next] : times.last! + 1e-9
                candidates.append((commandTimes[k], end, commandedVelocities[k]))
                k = next
            }
        } else if commandTimes != nil || commandedVelocities != nil {
            throw TetherError("\(analysis): give both command times and commanded velocities, or neither", at: source)
        } else {
            // Maximal runs within the tolerance of their running mean.
            var i = 0
            while i < velocities.count {
                var sum = velocities[i], j = i + 1
                while j < velocities.count {
                    let mean = sum / Double(j - i)
                    if abs(velocities[j] - mean) > options.relativeVelocityTolerance * abs(mean) + options.absoluteVelocityTolerance { break }
                    sum += velocities[j]
                    j += 1
                }
                if times[j - 1] - times[i] >= options.settleTime + options.minimumDuration {
                    candidates.append((times[i], times[j - 1] + 1e-12, nil))
                }
                i = j
            }
        }
        var segments: [SteadySegment] = [], rejected: [RejectedSegment] = []
        for candidate in candidates {
            let from = candidate.start + options.settleTime
            let indices = times.indices.filter { times[$0] >= from && times[$0] < candidate.end }
            func reject(_ reason: String) { rejected.append(RejectedSegment(startTime: candidate.start, endTime: candidate.end, reason: reason)) }
            if let command = candidate.command, abs(command) < options.minimumSpeed {
                reject("commanded speed \(command) rad/s is below the minimum \(options.minimumSpeed) rad/s")
                continue
            }
            guard let first = indices.first, let last = indices.last, times[last] - times[first] >= options.minimumDuration,
                  indices.count >= options.minimumSamples else {
                reject("shorter than \(options.minimumDuration) s (or \(options.minimumSamples) samples) after the \(options.settleTime) s settling time")
                continue
            }
            let vs = indices.map { velocities[$0] }, es = indices.map { efforts[$0] }
            let vMean = SampleStatistics.mean(vs)
            let spread = vs.map { abs($0 - vMean) }.max()!
            let tolerance = options.relativeVelocityTolerance * abs(vMean) + options.absoluteVelocityTolerance
            if abs(vMean) < options.minimumSpeed {
                reject("measured speed \(String(format: "%.3g", vMean)) rad/s is below the minimum (stalled or holding)")
                continue
            }
            if spread > tolerance {
                reject("not steady: velocity deviates \(String(format: "%.3g", spread)) rad/s from its mean (tolerance \(String(format: "%.3g", tolerance)))")
                continue
            }
            segments.append(SteadySegment(startTime: times[first], endTime: times[last], sampleCount: indices.count,
                                          velocity: batchMean(vs), torque: batchMean(es),
                                          velocityStandardDeviation: SampleStatistics.standardDeviation(vs),
                                          torqueStandardDeviation: SampleStatistics.standardDeviation(es),
                                          commandedVelocity: candidate.command))
        }
        guard !segments.isEmpty else {
            let reasons = rejected.prefix(3).map(\.reason).joined(separator: "; ")
            throw TetherError("\(analysis): no steady constant-velocity window found\(reasons.isEmpty ? "" : " (\(reasons))")", at: source,
                              hint: "hold each speed longer than settle time + \(options.minimumDuration) s, or loosen the velocity tolerance")
        }
        return SteadySegmentExtraction(segments: segments, rejected: rejected)
    }

    /// Steady segments of one joint of a sweep recording; uses the commanded velocities when the
    /// recording's commands carry them (nonzero somewhere), the measured velocity otherwise.
    public static func steadySegments(_ recording: ExperimentRecording, joint: String,
                                      options: SteadyStateOptions = .init()) throws -> SteadySegmentExtraction {
        let index = try recording.jointIndex(joint)
        let velocity = recording.series(joint: index, \.velocities)
        let effort = recording.series(joint: index, \.efforts)
        guard effort.values.count == velocity.values.count, !effort.values.isEmpty else {
            throw TetherError("steady-state segments of '\(joint)': the recording has no effort for this joint", at: recording.source,
                              hint: "friction needs measured joint torque (effort)")
        }
        let commands = recording.commands.filter { index < $0.command.velocities.count }
        let commanded = commands.map { $0.command.velocities[index] }
        let useCommands = commanded.contains { $0 != 0 }
        return try steadySegments(times: velocity.times, velocities: velocity.values, efforts: effort.values,
                                  commandTimes: useCommands ? commands.map(\.time) : nil,
                                  commandedVelocities: useCommands ? commanded : nil,
                                  joint: joint, source: recording.source, options: options)
    }

    /// Mean with a standard error from batch means (10 batches) when there are 50 samples or
    /// more, else from the sample standard deviation.
    static func batchMean(_ x: [Double]) -> ParameterEstimate {
        let mean = SampleStatistics.mean(x)
        if x.count >= 50 {
            let batches = 10
            let means = (0..<batches).map { b in SampleStatistics.mean(x[(b * x.count / batches)..<((b + 1) * x.count / batches)]) }
            return ParameterEstimate(value: mean, standardError: SampleStatistics.standardDeviation(means) / Double(batches).squareRoot(),
                                     degreesOfFreedom: batches - 1)
        }
        return ParameterEstimate(value: mean, standardError: SampleStatistics.standardDeviation(x) / Double(x.count).squareRoot(),
                                 degreesOfFreedom: x.count - 1)
    }
}
