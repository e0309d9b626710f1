// Mass from repeated scale readings, and link inertia from a free pendulum swing: a damped
// sinusoid fitted by nonlinear least squares, then the compound-pendulum relation
// I_pivot = m g d / ω_n² with a finite-amplitude correction of the period.
//
// References: any mechanics text for the compound pendulum; the amplitude series of the
// pendulum period T = T0 (1 + θ0²/16 + 11 θ0⁴/3072 + …) from the complete elliptic integral
// (e.g. Nelson & Olsson, "The pendulum — rich physics from a simple system", Am. J. Phys. 54, 1986).
import Foundation
import TetherNumerics
import TetherCore

/// A mass from repeated scale readings.
public struct MassEstimate: Codable, Sendable, Equatable {
    /// kg: the mean reading, its standard error and a Student-t 95 % interval.
    public var mass: ParameterEstimate
    /// Number of readings.
    public var readingCount: Int
    /// kg: the standard deviation of the readings.
    public var readingStandardDeviation: Double
    /// kg: the scale's resolution (display step), when given; adds `resolution²/12` to the variance.
    public var scaleResolution: Double?
}

/// A damped sinusoid `θ(t) = A e^{−σ t} cos(ω_d t + φ) + c`, `σ = ζ ω_n`, fitted to a free swing
/// (t from the first sample).
public struct DampedSinusoidFit: Codable, Sendable, Equatable {
    /// rad: amplitude A at the first sample (positive).
    public var amplitude: ParameterEstimate
    /// 1/s: decay rate σ = ζ ω_n.
    public var decayRate: ParameterEstimate
    /// rad/s: damped angular frequency ω_d.
    public var dampedFrequency: ParameterEstimate
    /// rad: phase φ at the first sample, in (−π, π].
    public var phase: ParameterEstimate
    /// rad: the equilibrium angle c.
    public var offset: ParameterEstimate
    /// rad/s: undamped natural frequency ω_n = √(ω_d² + σ²) at the recorded amplitude.
    public var naturalFrequency: ParameterEstimate
    /// Damping ratio ζ = σ / ω_n.
    public var dampingRatio: ParameterEstimate
    /// s: damped period 2π / ω_d.
    public var period: ParameterEstimate
    /// s: the time of the first sample (t = 0 of the model).
    public var startTime: Double
    /// rad²: the squared amplitude (A e^{−σt})² averaged the way the fit weighs the swing (see
    /// `fitDampedSinusoid`): the amplitude at which ω_d and σ were in effect measured.
    public var meanSquaredAmplitude: Double
    /// rad⁴: the fourth power of the amplitude, averaged the same way.
    public var meanFourthPowerAmplitude: Double
    /// Fit quality (residuals in rad).
    public var quality: FitQuality
    /// Covariance of (A, σ, ω_d, φ, c), row by row.
    public var covariance: [[Double]]

    /// rad: the model at time `t` (same clock as the input).
    public func angle(at t: Double) -> Double {
        let s = t - startTime
        return amplitude.value * exp(-decayRate.value * s) * cos(dampedFrequency.value * s + phase.value) + offset.value
    }
}

/// Link inertia and damping from a swing, by the compound-pendulum relation.
public struct PendulumInertia: Codable, Sendable, Equatable {
    /// kg·m²: inertia about the pivot axis, `m g d / ω0²`.
    public var inertiaAboutPivot: ParameterEstimate
    /// kg·m²: inertia about the parallel axis through the centre of mass, `I_pivot − m d²`.
    public var inertiaAboutCenterOfMass: ParameterEstimate
    /// N·m·s/rad: viscous damping at the pivot, `b = 2 ζ ω_n I_pivot`, corrected for amplitude.
    public var dampingCoefficient: ParameterEstimate
    /// Damping ratio ζ (from the fit).
    public var dampingRatio: ParameterEstimate
    /// rad/s: small-amplitude natural frequency ω0 (the fitted ω_n times the amplitude correction).
    public var smallAmplitudeNaturalFrequency: ParameterEstimate
    /// s: small-amplitude undamped period 2π / ω0.
    public var smallAmplitudePeriod: ParameterEstimate
    /// The factor the period at the recorded amplitude exceeds the small-amplitude one by,
    /// `1 + ⟨θ0²⟩/16 + 11⟨θ0⁴⟩/3072` (1 when the correction is off).
    public var amplitudeCorrection: Double
    /// The factor the decay rate at the recorded amplitude exceeds the small-amplitude one by,
    /// `1 + 5⟨θ0²⟩/96` (1 when the correction is off).
    public var dampingAmplitudeCorrection: Double
    /// kg: the mass used.
    public var mass: ParameterEstimate
    /// m: the pivot-to-centre-of-mass distance used.
    public var pivotToCenterOfMass: ParameterEstimate
    /// m/s²: gravity used.
    public var gravity: Double
}

/// Mass from a scale.
public enum MassAnalysis {
    /// The mass from repeated readings of one scale: mean, standard error `√(s²/n + res²/12)`
    /// and a Student-t 95 % interval (n − 1 degrees of freedom).
    ///
    /// - Parameters:
    ///   - readings: kg, at least two.
    ///   - scaleResolution: kg, the display step, when known. Needed when every reading is equal.
    ///   - parameter: what is weighed (a link name), for messages.
    ///   - source: where the readings came from, for messages.
    public static func fromScaleReadings(_ readings: [Double], scaleResolution: Double? = nil,
                                         parameter: String = "mass", source: String) throws -> MassEstimate {
        let analysis = "mass from scale readings"
        try AnalysisInput.requireCount(readings.count, atLeast: 2, of: parameter, analysis: analysis, source: source,
                                       hint: "weigh it at least twice (lift it off and put it back)")
        try AnalysisInput.requireFinite(readings, named: parameter, analysis: analysis, source: source)
        if let i = readings.firstIndex(where: { $0 <= 0 }) {
            throw TetherError("\(analysis): '\(parameter)' reading \(i) is not positive (\(readings[i]) kg)", at: source,
                              hint: "tare the scale and record masses in kg")
        }
        if let scaleResolution {
            try AnalysisInput.requirePositive(scaleResolution, named: "scale resolution", analysis: analysis, source: source)
        }
        let n = Double(readings.count)
        let mean = SampleStatistics.mean(readings)
        let sd = SampleStatistics.standardDeviation(readings)
        if sd == 0 && scaleResolution == nil {
            throw TetherError("\(analysis): every reading of '\(parameter)' is the same (\(mean) kg), so their spread gives no uncertainty",
                              at: source, hint: "pass the scale's resolution (display step)")
        }
        let variance = sd * sd / n + (scaleResolution.map { $0 * $0 / 12 } ?? 0)
        return MassEstimate(mass: ParameterEstimate(value: mean, standardError: variance.squareRoot(), degreesOfFreedom: readings.count - 1),
                            readingCount: readings.count, readingStandardDeviation: sd, scaleResolution: scaleResolution)
    }
}

/// Pendulum swings: damped-sinusoid fit and compound-pendulum inertia.
public enum PendulumAnalysis {
    /// Least ratio of the fitted amplitude to the residual noise for the swing to count as identified.
    public static let minimumAmplitudeToNoise = 10.0

    /// Fits `θ(t) = A e^{−σt} cos(ω_d t + φ) + c` to a free swing by Levenberg–Marquardt.
    ///
    /// The start comes from zero crossings (with hysteresis against noise) for ω_d and a small
    /// grid over (ω_d, ζ) on which A, φ and c are linear. Assumes viscous (exponential) decay and a
    /// swing small enough to be nearly linear; the amplitude correction lives in `compoundPendulum`.
    ///
    /// A finite swing slows down as it grows, so the fitted ω_d is an average over the decaying
    /// amplitude. Least squares fits the phase φ(t) as a line weighted by the squared envelope
    /// w = A(t)²; the slope of such a line is an average of the instantaneous frequency with the
    /// kernel κ(s) ∝ Σ_{t_i > s} w_i (t_i − t̄_w). The amplitude moments returned are averaged with
    /// that same kernel, so the correction applies at the amplitude the fit actually saw.
    ///
    /// - Parameters:
    ///   - times: s, strictly increasing (uneven spacing is fine).
    ///   - angles: rad, the joint angle during the free swing (release transient already cut).
    ///   - joint: the joint name, for messages.
    ///   - source: the recording path, for messages.
    /// - Throws: `TetherError` for fewer than 20 samples, non-finite or unsorted input, fewer than
    ///   two full swings, fewer than 6 samples per period, a swing that grows, or an amplitude
    ///   below `minimumAmplitudeToNoise` times the noise.
    public static func fitDampedSinusoid(times: [Double], angles: [Double], joint: String = "angle",
                                         source: String) throws -> DampedSinusoidFit {
        let analysis = "pendulum swing fit"
        try AnalysisInput.requireSeries(times: times, values: angles, valueName: joint, minimumCount: 20, analysis: analysis, source: source)
        let t0 = times[0]
        let t = times.map { $0 - t0 }
        let n = t.count
        let mean = SampleStatistics.mean(angles)
        let range = (angles.max() ?? 0) - (angles.min() ?? 0)
        guard range > 0 else {
            throw TetherError("\(analysis): '\(joint)' does not move", at: source, hint: "release the link from an angle and record the free swing")
        }

        // Zero crossings of θ − mean with hysteresis: the state flips only past ±h, so noise near
        // zero does not add crossings. Each crossing time is interpolated at the last sign change.
        let diffs = zip(angles.dropFirst(), angles).map { $0 - $1 }
        let h = min(3 * SampleStatistics.standardDeviation(diffs) / 2.0.squareRoot(), 0.25 * range)
        var crossings: [Double] = []
        var state = 0
        var lastSignChange: Int?
        for i in 0..<n {
            let v = angles[i] - mean
            if i > 0, (angles[i - 1] - mean < 0) != (v < 0) { lastSignChange = i }
            if v > h && state <= 0 || v < -h && state >= 0 {
                if state != 0, let j = lastSignChange {
                    let a = angles[j - 1] - mean, b = angles[j] - mean
                    crossings.append(t[j - 1] + (t[j] - t[j - 1]) * a / (a - b))
                }
                state = v > h ? 1 : -1
            }
        }
        guard crossings.count >= 4 else {
            throw TetherError("\(analysis): '\(joint)' crosses its mean \(crossings.count) time\(crossings.count == 1 ? "" : "s"); at least two full swings "
                + "(4 crossings) are needed",
                              at: source, hint: "record longer after release, or release from a larger angle")
        }
        // Half period: slope of crossing time against crossing index.
        let k = (0..<crossings.count).map(Double.init)
        let kMean = SampleStatistics.mean(k), cMean = SampleStatistics.mean(crossings)
        let halfPeriod = zip(k, crossings).reduce(0) { $0 + ($1.0 - kMean) * ($1.1 - cMean) } / k.reduce(0) { $0 + ($1 - kMean) * ($1 - kMean) }
        let omegaGuess = Double.pi / halfPeriod
        let dt = SampleStatistics.medianInterval(times)
        guard 2 * halfPeriod / dt >= 6 else {
            throw TetherError("\(analysis): '\(joint)' has \(String(format: "%.1f", 2 * halfPeriod / dt)) samples per swing period; at least 6 are needed",
                              at: source, hint: "record the swing at a higher rate")
        }

        // Start: on a grid over (ω_d, ζ), A cos φ, −A sin φ and c are linear; keep the best.
        var best: (rss: Double, omega: Double, sigma: Double, coefficients: [Double]) = (.infinity, omegaGuess, 0, [range / 2, 0, mean])
        for step in -5...5 {
            let omega = omegaGuess * (1 + 0.004 * Double(step))
            for zeta in [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.35, 0.5] {
                let sigma = zeta * omega
                let design = DenseMatrix(columns: [t.map { exp(-sigma * $0) * cos(omega * $0) },
                                                   t.map { exp(-sigma * $0) * sin(omega * $0) },
                                                   Array(repeating: 1, count: n)])
                let qr = QRDecomposition(design)
                guard (0..<3).allSatisfy({ qr.independence(ofColumn: $0) > LeastSquares.minimumIndependence }) else { continue }
                let coefficients = qr.solve(angles)
                let fitted = design.multiply(coefficients)
                let rss = zip(fitted, angles).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                if rss < best.rss { best = (rss, omega, sigma, coefficients) }
            }
        }
        let a0 = (best.coefficients[0] * best.coefficients[0] + best.coefficients[1] * best.coefficients[1]).squareRoot()
        let phi0 = atan2(-best.coefficients[1], best.coefficients[0])

        var options = LevenbergMarquardtOptions()
        options.parameterScales = [max(a0, range / 2), max(best.sigma, 0.01 * best.omega), best.omega, 1, max(a0, range / 2)]
        let fit = try LeastSquares.levenbergMarquardt(
            parameterNames: ["amplitude", "decay rate", "damped frequency", "phase", "offset"],
            initial: [a0, best.sigma, best.omega, phi0, best.coefficients[2]],
            analysis: analysis, source: source, options: options, observations: angles
        ) { p in
            (0..<n).map { i in p[0] * exp(-p[1] * t[i]) * cos(p[2] * t[i] + p[3]) + p[4] - angles[i] }
        }

        var values = fit.values
        var covariance = fit.covarianceMatrix
        if values[0] < 0 {  // keep A positive: −A cos(x) = A cos(x + π)
            values[0] = -values[0]
            values[3] += .pi
            for j in 0..<5 where j != 0 { covariance[0, j] = -covariance[0, j]; covariance[j, 0] = -covariance[j, 0] }
        }
        values[3] = atan2(sin(values[3]), cos(values[3]))
        let dof = n - 5
        func estimate(_ i: Int) -> ParameterEstimate {
            ParameterEstimate(value: values[i], standardError: covariance[i, i].squareRoot(), degreesOfFreedom: dof)
        }
        let amplitude = values[0], sigma = values[1], omegaD = values[2]
        let noise = fit.quality.residualStandardDeviation
        guard amplitude >= minimumAmplitudeToNoise * noise else {
            throw TetherError("\(analysis): the swing of '\(joint)' (amplitude \(String(format: "%.3g", amplitude)) rad) is only "
                + "\(String(format: "%.1f", amplitude / noise)) times the noise (\(String(format: "%.2g", noise)) rad); at least "
                    + "\(Int(minimumAmplitudeToNoise)) are needed",
                              at: source, hint: "release from a larger angle, or check that the joint swings freely")
        }
        let decay = estimate(1)
        if decay.upper95 < 0 {
            throw TetherError("\(analysis): the swing of '\(joint)' grows (decay rate \(String(format: "%.3g", sigma)) 1/s); a free swing decays",
                              at: source, hint: "make sure the joint is not driven during the swing")
        }
        // Derived quantities to first order, with the (σ, ω_d) covariance.
        let sub = DenseMatrix(rows: [[covariance[1, 1], covariance[1, 2]], [covariance[2, 1], covariance[2, 2]]])
        let omegaN = (omegaD * omegaD + sigma * sigma).squareRoot()
        func derived(_ value: Double, _ gradient: [Double]) -> ParameterEstimate {
            ParameterEstimate(value: value, standardError: sub.quadraticForm(gradient).squareRoot(), degreesOfFreedom: dof)
        }
        let moments = fitWeightedAmplitudeMoments(t: t, amplitude: amplitude, decayRate: sigma)
        return DampedSinusoidFit(
            amplitude: estimate(0), decayRate: decay, dampedFrequency: estimate(2), phase: estimate(3), offset: estimate(4),
            naturalFrequency: derived(omegaN, [sigma / omegaN, omegaD / omegaN]),
            dampingRatio: derived(sigma / omegaN, [omegaD * omegaD / pow(omegaN, 3), -sigma * omegaD / pow(omegaN, 3)]),
            period: derived(2 * .pi / omegaD, [0, -2 * .pi / (omegaD * omegaD)]),
            startTime: t0,
            meanSquaredAmplitude: moments.squared, meanFourthPowerAmplitude: moments.fourth,
            quality: fit.quality, covariance: covariance.rowArrays)
    }

    /// Fits the free swing of one joint of a recording (its measured positions).
    public static func fitDampedSinusoid(_ recording: ExperimentRecording, joint: String) throws -> DampedSinusoidFit {
        let series = recording.series(joint: try recording.jointIndex(joint), \.positions)
        return try fitDampedSinusoid(times: series.times, angles: series.values, joint: joint, source: recording.source)
    }

    /// Inertia and damping of a link swinging freely about a joint, as a compound pendulum.
    ///
    /// `ω0 = ω_n (1 + ⟨θ0²⟩/16 + 11⟨θ0⁴⟩/3072)` corrects the fitted natural frequency to small
    /// amplitude (⟨·⟩ averages the fitted envelope as the fit weighs it); then
    /// `I_pivot = m g d / ω0²`, `I_cm = I_pivot − m d²` and `b = 2 σ I_pivot / (1 + 5⟨θ0²⟩/96)`
    /// (σ = ζ ω_n): to first order in θ0², the amplitude of a viscously damped pendulum decays at
    /// `σ = (b / 2I)(1 + 5θ0²/96)` (the virial theorem for the potential 1 − cos θ gives
    /// ⟨kinetic⟩ = E (1/2 − θ0²/64), and E ∝ θ0²(1 − θ0²/12)).
    /// Uncertainties propagate to first order from the fit's (σ, ω_d) covariance and the
    /// independent standard errors of m and d; intervals are normal (± 1.96 SE). The correction
    /// factor itself is taken as exact.
    ///
    /// - Parameters:
    ///   - swing: the damped-sinusoid fit of the swing.
    ///   - mass: kg, the swinging mass (e.g. `MassEstimate.mass`).
    ///   - pivotToCenterOfMass: m, distance d from the joint axis to the centre of mass.
    ///   - gravity: m/s².
    ///   - amplitudeCorrection: apply the finite-amplitude correction of the period.
    ///   - source: for messages.
    /// - Throws: `TetherError` for a non-positive or non-finite mass, distance or gravity, or when
    ///   the inputs give a negative inertia about the centre of mass.
    public static func compoundPendulum(swing: DampedSinusoidFit, mass: ParameterEstimate, pivotToCenterOfMass: ParameterEstimate,
                                        gravity: Double = 9.80665, amplitudeCorrection: Bool = true, source: String) throws -> PendulumInertia {
        let analysis = "compound pendulum"
        try AnalysisInput.requirePositive(mass.value, named: "mass", analysis: analysis, source: source)
        try AnalysisInput.requirePositive(pivotToCenterOfMass.value, named: "pivot-to-centre-of-mass distance", analysis: analysis, source: source)
        try AnalysisInput.requirePositive(gravity, named: "gravity", analysis: analysis, source: source)
        try AnalysisInput.requireFinite([mass.standardError, pivotToCenterOfMass.standardError], named: "input standard errors",
                                        analysis: analysis, source: source)
        let m = mass.value, d = pivotToCenterOfMass.value, g = gravity
        let sigma = swing.decayRate.value, omegaD = swing.dampedFrequency.value
        let omegaN = (omegaD * omegaD + sigma * sigma).squareRoot()
        let factor = amplitudeCorrection ? 1 + swing.meanSquaredAmplitude / 16 + 11 * swing.meanFourthPowerAmplitude / 3072 : 1
        let dampingFactor = amplitudeCorrection ? 1 + 5 * swing.meanSquaredAmplitude / 96 : 1
        let omega0 = factor * omegaN
        let inertia = m * g * d / (omega0 * omega0)
        let inertiaCM = inertia - m * d * d
        guard inertiaCM > 0 else {
            throw TetherError("\(analysis): the inertia about the centre of mass comes out negative (\(String(format: "%.3g", inertiaCM)) kg·m²)",
                              at: source, hint: "the mass (\(m) kg) or pivot-to-centre-of-mass distance (\(d) m) does not agree with the measured period; "
                                  + "check them")
        }
        // Variables (σ, ω_d, m, d): the fit's 2 × 2 block and independent m, d.
        var cov = DenseMatrix(rows: 4, columns: 4)
        cov[0, 0] = swing.covariance[1][1]; cov[0, 1] = swing.covariance[1][2]
        cov[1, 0] = swing.covariance[2][1]; cov[1, 1] = swing.covariance[2][2]
        cov[2, 2] = mass.standardError * mass.standardError
        cov[3, 3] = pivotToCenterOfMass.standardError * pivotToCenterOfMass.standardError
        let dOmega0 = [factor * sigma / omegaN, factor * omegaD / omegaN, 0, 0]
        let gradI = [-2 * inertia / omega0 * dOmega0[0], -2 * inertia / omega0 * dOmega0[1], inertia / m, inertia / d]
        let gradICM = [gradI[0], gradI[1], gradI[2] - d * d, gradI[3] - 2 * m * d]
        let gradB = [2 * inertia + 2 * sigma * gradI[0], 2 * sigma * gradI[1], 2 * sigma * gradI[2], 2 * sigma * gradI[3]].map { $0 / dampingFactor }
        func estimate(_ value: Double, _ gradient: [Double]) -> ParameterEstimate {
            ParameterEstimate(value: value, standardError: cov.quadraticForm(gradient).squareRoot())
        }
        let omega0Estimate = estimate(omega0, dOmega0)
        return PendulumInertia(
            inertiaAboutPivot: estimate(inertia, gradI),
            inertiaAboutCenterOfMass: estimate(inertiaCM, gradICM),
            dampingCoefficient: estimate(2 * sigma * inertia / dampingFactor, gradB),
            dampingRatio: swing.dampingRatio,
            smallAmplitudeNaturalFrequency: omega0Estimate,
            smallAmplitudePeriod: estimate(2 * .pi / omega0, dOmega0.map { -2 * .pi / (omega0 * omega0) * $0 }),
            amplitudeCorrection: factor, dampingAmplitudeCorrection: dampingFactor, mass: mass, pivotToCenterOfMass: pivotToCenterOfMass, gravity: g)
    }

    /// ⟨A(t)²⟩ and ⟨A(t)⁴⟩ of the envelope A(t) = A e^{−σt}, averaged with the kernel that a
    /// least-squares line through the phase, weighted by A(t)², puts on the instantaneous frequency:
    /// for the interval k between samples k and k+1, κ_k ∝ (t_{k+1} − t_k) Σ_{i>k} w_i (t_i − t̄_w).
    static func fitWeightedAmplitudeMoments(t: [Double], amplitude: Double, decayRate: Double) -> (squared: Double, fourth: Double) {
        let w = t.map { pow(amplitude * exp(-decayRate * $0), 2) }
        let totalWeight = w.reduce(0, +)
        let mean = zip(w, t).reduce(0) { $0 + $1.0 * $1.1 } / totalWeight
        var tail = 0.0, kernelSum = 0.0, squared = 0.0, fourth = 0.0
        for k in stride(from: t.count - 2, through: 0, by: -1) {
            tail += w[k + 1] * (t[k + 1] - mean)
            let kappa = (t[k + 1] - t[k]) * max(tail, 0)
            let a = amplitude * exp(-decayRate * 0.5 * (t[k] + t[k + 1]))
            kernelSum += kappa
            squared += kappa * a * a
            fourth += kappa * a * a * a * a
        }
        guard kernelSum > 0 else { return (amplitude * amplitude, pow(amplitude, 4)) }
        return (squared / kernelSum, fourth / kernelSum)
    }
}
