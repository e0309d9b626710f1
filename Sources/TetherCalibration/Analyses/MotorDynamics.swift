// Motor (torque) dynamics from torque steps: a first-order lag with dead time,
// y'(t) = (K u(t − d) − y(t)) / T, identified in two stages — a grid over d with the closed-form
// (linear least-squares) estimate of T and K for each d from the integrated equation, then
// Levenberg–Marquardt on the simulated output for standard errors — and, for comparison, the
// classic two-point step-response estimate (28.3 % and 63.2 % times).
//
// References: Ljung, "System Identification" (2nd ed.), §7 (output-error models); Smith,
// "Digital Computer Process Control" (1972) for the 28.3 %/63.2 % two-point method.
import Foundation
import TetherNumerics
import TetherCore

/// A first-order-plus-dead-time model of a torque loop fitted to a recording.
public struct FirstOrderDeadTimeFit: Codable, Sendable, Equatable {
    /// s: time constant T.
    public var timeConstant: ParameterEstimate
    /// s: dead time d.
    public var deadTime: ParameterEstimate
    /// Steady-state gain K, measured per commanded (exactly 1 with SE 0 when not fitted).
    public var gain: ParameterEstimate
    /// Output at the first response sample (units of the response).
    public var initialOutput: ParameterEstimate
    /// Fit quality of the simulated output (units of the response).
    public var quality: FitQuality
    /// The largest command change (units of the command).
    public var largestStep: Double
    /// The largest step's effect on the output, `|K Δu|`, over the residual standard deviation.
    public var stepToNoise: Double
    /// s: d from the grid stage (closed-form T for each d), the start of the nonlinear fit.
    public var gridDeadTime: Double
    /// s: T from the grid stage at that d.
    public var gridTimeConstant: Double
    /// The classic step-response estimate on the largest step, when it could be made.
    public var stepResponse: StepResponseEstimate?
    /// Why there is no step-response estimate, when there is none.
    public var stepResponseNote: String?
    /// Covariance of (T, d, K, y0) — or (T, d, y0) when K was fixed — row by row.
    public var covariance: [[Double]]
}

/// The classic reading of one step response.
public struct StepResponseEstimate: Codable, Sendable, Equatable {
    /// s: when the command stepped.
    public var stepTime: Double
    /// The command change (units of the command).
    public var stepSize: Double
    /// Response level before the step (mean of the later half of the window before it).
    public var initialLevel: Double
    /// Response level after the step (mean of the last quarter of the window after it).
    public var finalLevel: Double
    /// Response noise (standard deviation before the step).
    public var noiseStandardDeviation: Double
    /// s: from the step to 63.2 % of the change (d + T for a first-order lag with dead time).
    public var riseTime63: ParameterEstimate
    /// s: from the step to 28.3 % of the change (d + T/3).
    public var riseTime28: ParameterEstimate
    /// s: T = 1.5 (t63 − t28).
    public var timeConstant: ParameterEstimate
    /// s: d = t63 − T.
    public var deadTime: ParameterEstimate
}

/// Settings of the motor-dynamics fit.
public struct MotorDynamicsOptions: Sendable {
    /// s: the dead-time search covers [0, this]; nil: the smaller of 10 % of the recording and
    /// 100 response sample intervals.
    public var maximumDeadTime: Double?
    /// Fit the steady-state gain K (otherwise K = 1).
    public var fitGain = true
    /// The step's effect on the output must exceed this many noise standard deviations.
    public var minimumStepToNoise = 10.0
    /// Creates the default settings.
    public init() {}
}

/// Torque-loop identification from command steps.
public enum MotorDynamicsAnalysis {
    /// Fits `y' = (K u(t − d) − y) / T` to a commanded input u (each sample in force until the
    /// next, assumed held before the first) and a measured output y.
    ///
    /// Stage 1: for each d on a grid of a quarter response interval, the integrated equation
    /// `y(t) = y0 + (K/T) ∫u(s − d) ds − (1/T) ∫y ds` is linear in (y0, K/T, 1/T); the d with the
    /// least residual wins. Stage 2: Levenberg–Marquardt on the exactly simulated output (exact
    /// exponential relaxation between input switches) gives T, d, K, y0 and their covariance.
    ///
    /// - Parameters:
    ///   - commandTimes, commands: s and command units (N·m), strictly increasing times.
    ///   - responseTimes, responses: s and response units, strictly increasing (uneven is fine).
    ///   - joint, source: for messages.
    /// - Throws: `TetherError` for invalid input, a command that never changes, a step smaller
    ///   than `minimumStepToNoise` noise deviations, a dead time at the search limit, a time
    ///   constant below half the sample interval, or a response that leads the command.
    public static func fitFirstOrderDeadTime(commandTimes: [Double], commands: [Double], responseTimes: [Double], responses: [Double],
                                             joint: String, source: String, options: MotorDynamicsOptions = .init()) throws -> FirstOrderDeadTimeFit {
        let analysis = "motor dynamics of '\(joint)'"
        try AnalysisInput.requireSeries(times: commandTimes, values: commands, timeName: "command time", valueName: "command",
                                        minimumCount: 2, analysis: analysis, source: source)
        try AnalysisInput.requireSeries(times: responseTimes, values: responses, timeName: "response time", valueName: "response",
                                        minimumCount: 20, analysis: analysis, source: source)
        let steps = zip(commands.dropFirst(), commands).map { abs($0 - $1) }
        guard let largestStep = steps.max(), largestStep > 0 else {
            throw TetherError("\(analysis): the command never changes, so there is no step to identify the dynamics from", at: source,
                              hint: "record a torque-step experiment")
        }
        let input = HeldSignal(times: commandTimes, values: commands)
        let t = responseTimes, y = responses, n = t.count
        let dt = SampleStatistics.medianInterval(t)
        let duration = t[n - 1] - t[0]
        let maxDelay = options.maximumDeadTime ?? min(0.1 * duration, 100 * dt)
        try AnalysisInput.requirePositive(maxDelay, named: "maximum dead time", analysis: analysis, source: source)

        // Stage 1: grid over d, closed-form (y0, K/T, 1/T) for each.
        var integralY = [0.0]
        integralY.reserveCapacity(n)
        for i in 1..<n { integralY.append(integralY[i - 1] + 0.5 * (y[i] + y[i - 1]) * (t[i] - t[i - 1])) }
        let ones = Array(repeating: 1.0, count: n)
        var best: (rss: Double, d: Double, T: Double, K: Double, y0: Double)?
        let gridStep = dt / 4
        let gridCount = Int((maxDelay / gridStep).rounded(.up))
        for k in 0...gridCount {
            let d = min(Double(k) * gridStep, maxDelay)
            let base = input.integral(to: t[0] - d)
            let integralU = t.map { input.integral(to: $0 - d) - base }
            let design: DenseMatrix
            if options.fitGain {
                design = DenseMatrix(columns: [ones, integralU, integralY.map { -$0 }])
            } else {
                design = DenseMatrix(columns: [ones, zip(integralU, integralY).map { $0 - $1 }])
            }
            guard let fit = try? LeastSquares.linear(design, y, parameterNames: options.fitGain ? ["y0", "K/T", "1/T"] : ["y0", "1/T"],
                                                     analysis: analysis, source: source) else { continue }
            let c = options.fitGain ? fit.values[2] : fit.values[1]
            guard c > 0 else { continue }
            let gain = options.fitGain ? fit.values[1] / c : 1
            if best == nil || fit.residualSumOfSquares < best!.rss { best = (fit.residualSumOfSquares, d, 1 / c, gain, fit.values[0]) }
        }
        guard let best else {
            throw TetherError("\(analysis): no dead time in [0, \(maxDelay)] s gives a stable first-order fit", at: source,
                              hint: "check that the response follows the command (same joint, same units)")
        }
        if best.d >= maxDelay - gridStep / 2 {
            throw TetherError("\(analysis): the best dead time is at the search limit (\(maxDelay) s)", at: source,
                              hint: "raise maximumDeadTime, or check that command and response share a clock")
        }

        // Stage 2: output error by Levenberg–Marquardt.
        let yRange = (y.max()! - y.min()!)
        var lm = LevenbergMarquardtOptions()
        lm.parameterScales = [max(best.T, dt), max(best.d, dt), 1, max(yRange, 1e-9)]
        if !options.fitGain { lm.parameterScales!.remove(at: 2) }
        let initial = options.fitGain ? [best.T, best.d, best.K, best.y0] : [best.T, best.d, best.y0]
        let names = options.fitGain ? ["time constant", "dead time", "gain", "initial output"] : ["time constant", "dead time", "initial output"]
        let fit = try LeastSquares.levenbergMarquardt(parameterNames: names, initial: initial, analysis: analysis, source: source,
                                                      options: lm, observations: y) { p in
            let gain = options.fitGain ? p[2] : 1
            let simulated = simulate(input: input, times: t, timeConstant: p[0], deadTime: p[1], gain: gain, initial: p[options.fitGain ? 3 : 2])
            return zip(simulated, y).map { $0 - $1 }
        }
        let timeConstant = fit.parameters[0], deadTime = fit.parameters[1]
        let gain = options.fitGain ? fit.parameters[2] : ParameterEstimate(value: 1, standardError: 0, lower95: 1, upper95: 1)
        let noise = fit.quality.residualStandardDeviation
        let stepToNoise = noise > 0 ? abs(gain.value) * largestStep / noise : .greatestFiniteMagnitude
        guard stepToNoise >= options.minimumStepToNoise else {
            throw TetherError("\(analysis): the largest step moves the response by \(String(format: "%.3g", abs(gain.value) * largestStep)), only "
                + "\(String(format: "%.1f", stepToNoise)) times the noise (\(String(format: "%.2g", noise))); at least \(options.minimumStepToNoise) are "
                    + "needed",
                              at: source, hint: "command larger torque steps")
        }
        guard timeConstant.value >= dt / 2 else {
            throw TetherError("\(analysis): the time constant (\(String(format: "%.3g", timeConstant.value)) s) is below half the sample interval "
                + "(\(String(format: "%.3g", dt)) s), so it is not resolved",
                              at: source, hint: "record the response at a higher rate")
        }
        if deadTime.upper95 < 0 {
            throw TetherError("\(analysis): the response leads the command by \(String(format: "%.3g", -deadTime.value)) s", at: source,
                              hint: "check that command and response time stamps share one clock")
        }
        var stepResponse: StepResponseEstimate?
        var stepNote: String?
        do {
            stepResponse = try self.stepResponse(commandTimes: commandTimes, commands: commands, responseTimes: t, responses: y,
                                                 joint: joint, source: source, options: options)
        } catch let error as TetherError {
            stepNote = error.what
        }
        return FirstOrderDeadTimeFit(timeConstant: timeConstant, deadTime: deadTime, gain: gain,
                                     initialOutput: fit.parameters[options.fitGain ? 3 : 2], quality: fit.quality,
                                     largestStep: largestStep, stepToNoise: stepToNoise, gridDeadTime: best.d, gridTimeConstant: best.T,
                                     stepResponse: stepResponse, stepResponseNote: stepNote, covariance: fit.covariance)
    }

    /// Fits the torque loop of one joint of a recording: commanded torque against measured effort.
    public static func fitFirstOrderDeadTime(_ recording: ExperimentRecording, joint: String,
                                             options: MotorDynamicsOptions = .init()) throws -> FirstOrderDeadTimeFit {
        let index = try recording.jointIndex(joint)
        let commands = recording.commands.filter { index < $0.command.torques.count }
        let effort = recording.series(joint: index, \.efforts)
        return try fitFirstOrderDeadTime(commandTimes: commands.map(\.time), commands: commands.map { $0.command.torques[index] },
                                         responseTimes: effort.times, responses: effort.values, joint: joint,
                                         source: recording.source, options: options)
    }

    /// The classic step-response reading of the largest command step: levels before and after,
    /// the times to 28.3 % and 63.2 % of the change (each the mean of the first and last
    /// crossing, against noise), and the two-point estimates T = 1.5 (t63 − t28), d = t63 − T.
    ///
    /// Standard errors of the crossing times are `√((σ/slope)² + Δt²/12)` with σ the noise before
    /// the step and the slope a first-order response has there; intervals are normal.
    ///
    /// - Throws: `TetherError` for invalid input, too few samples before or after the step, a
    ///   response that has not settled before the next command change, or a change smaller than
    ///   `minimumStepToNoise` noise deviations.
    public static func stepResponse(commandTimes: [Double], commands: [Double], responseTimes: [Double], responses: [Double],
                                    joint: String, source: String, options: MotorDynamicsOptions = .init()) throws -> StepResponseEstimate {
        let analysis = "step response of '\(joint)'"
        try AnalysisInput.requireSeries(times: commandTimes, values: commands, timeName: "command time", valueName: "command",
                                        minimumCount: 2, analysis: analysis, source: source)
        try AnalysisInput.requireSeries(times: responseTimes, values: responses, timeName: "response time", valueName: "response",
                                        minimumCount: 10, analysis: analysis, source: source)
        // The largest change, and the command changes on either side of it.
        var k = 1
        for i in 1..<commands.count where abs(commands[i] - commands[i - 1]) > abs(commands[k] - commands[k - 1]) { k = i }
        let stepSize = commands[k] - commands[k - 1]
        guard stepSize != 0 else {
            throw TetherError("\(analysis): the command never changes", at: source, hint: "record a torque-step experiment")
        }
        let stepTime = commandTimes[k]
        var previousChange = responseTimes[0]
        for i in stride(from: k - 1, through: 1, by: -1) where commands[i] != commands[i - 1] { previousChange = commandTimes[i]; break }
        var nextChange = responseTimes.last! + 1e-9
        for i in (k + 1)..<max(k + 1, commands.count) where commands[i] != commands[i - 1] { nextChange = commandTimes[i]; break }

        // Before: the later half of the window since the previous change.
        let preStart = previousChange + 0.5 * (stepTime - previousChange)
        let pre = responseTimes.indices.filter { responseTimes[$0] >= preStart && responseTimes[$0] < stepTime }
        let post = responseTimes.indices.filter { responseTimes[$0] >= stepTime && responseTimes[$0] < nextChange }
        try AnalysisInput.requireCount(pre.count, atLeast: 3, of: "response before the step", analysis: analysis, source: source,
                                       hint: "hold the command longer before the step")
        try AnalysisInput.requireCount(post.count, atLeast: 16, of: "response after the step", analysis: analysis, source: source,
                                       hint: "hold the command longer after the step")
        let before = pre.map { responses[$0] }
        let initial = SampleStatistics.mean(before)
        // Noise about a straight line, so a slow drift does not count as noise.
        let noise = trendResidualDeviation(times: pre.map { responseTimes[$0] }, values: before)
        // After: the last quarter of the window; settled when its two halves agree.
        let tail = Array(post.suffix(post.count / 4))
        let finalLevel = SampleStatistics.mean(tail.map { responses[$0] })
        let change = finalLevel - initial
        guard change != 0, abs(change) >= options.minimumStepToNoise * noise else {
            throw TetherError("\(analysis): the response changes by \(String(format: "%.3g", change)), only "
                + "\(String(format: "%.1f", noise > 0 ? abs(change) / noise : 0)) times the noise (\(String(format: "%.2g", noise))); at least "
                    + "\(options.minimumStepToNoise) are needed",
                              at: source, hint: "command a larger step")
        }
        // Settled before and after: the two halves of each window agree within noise and 2 %.
        func drift(_ window: [Int]) -> (drift: Double, limit: Double) {
            let half = window.count / 2
            let early = SampleStatistics.mean(window[..<half].map { responses[$0] })
            let late = SampleStatistics.mean(window[half...].map { responses[$0] })
            return (abs(late - early), max(4 * noise * (1 / Double(half) + 1 / Double(window.count - half)).squareRoot(), 0.02 * abs(change)))
        }
        let preDrift = drift(pre), postDrift = drift(tail)
        guard preDrift.drift <= preDrift.limit else {
            throw TetherError("\(analysis): the response is still moving before the step (drift \(String(format: "%.3g", preDrift.drift)))", at: source,
                              hint: "hold each torque step longer (at least 5 time constants)")
        }
        guard postDrift.drift <= postDrift.limit else {
            throw TetherError("\(analysis): the response is still moving at the end of the step window (drift \(String(format: "%.3g", postDrift.drift)))",
                              at: source,
                              hint: "hold each torque step longer (at least 5 time constants)")
        }

        // Crossing times of a normalized level: mean of the first and the last upward crossing.
        let window = [max(0, post[0] - 1)] + post
        func crossing(_ level: Double) -> Double? {
            var first: Double?, last: Double?
            for j in 1..<window.count {
                let a = (responses[window[j - 1]] - initial) / change, b = (responses[window[j]] - initial) / change
                if a < level && b >= level {
                    let ta = responseTimes[window[j - 1]], tb = responseTimes[window[j]]
                    let tc = max(stepTime, ta + (tb - ta) * (level - a) / (b - a))
                    if first == nil { first = tc }
                    last = tc
                }
            }
            guard let first, let last else { return nil }
            return 0.5 * (first + last)
        }
        guard let t63 = crossing(1 - exp(-1)), let t28 = crossing(1 - exp(-1.0 / 3)) else {
            throw TetherError("\(analysis): the response does not cross 28 % and 63 % of its change after the step", at: source,
                              hint: "check that the response follows the command")
        }
        let timeConstant = 1.5 * (t63 - t28)
        let dt = SampleStatistics.medianInterval(responseTimes)
        let slopeScale = abs(change) / max(timeConstant, dt)
        func timeError(_ slope: Double) -> Double { ((noise / slope) * (noise / slope) + dt * dt / 12).squareRoot() }
        let se63 = timeError(slopeScale * exp(-1)), se28 = timeError(slopeScale * exp(-1.0 / 3))
        return StepResponseEstimate(
            stepTime: stepTime, stepSize: stepSize, initialLevel: initial, finalLevel: finalLevel, noiseStandardDeviation: noise,
            riseTime63: ParameterEstimate(value: t63 - stepTime, standardError: se63),
            riseTime28: ParameterEstimate(value: t28 - stepTime, standardError: se28),
            timeConstant: ParameterEstimate(value: timeConstant, standardError: 1.5 * (se63 * se63 + se28 * se28).squareRoot()),
            deadTime: ParameterEstimate(value: t63 - stepTime - timeConstant, standardError: (0.25 * se63 * se63 + 2.25 * se28 * se28).squareRoot()))
    }

    /// The standard deviation of `values` about their least-squares line in `times`.
    static func trendResidualDeviation(times: [Double], values: [Double]) -> Double {
        guard values.count > 2 else { return SampleStatistics.standardDeviation(values) }
        let tMean = SampleStatistics.mean(times), vMean = SampleStatistics.mean(values)
        let stt = times.reduce(0) { $0 + ($1 - tMean) * ($1 - tMean) }
        let slope = stt > 0 ? zip(times, values).reduce(0) { $0 + ($1.0 - tMean) * ($1.1 - vMean) } / stt : 0
        let rss = zip(times, values).reduce(0) { $0 + pow($1.1 - vMean - slope * ($1.0 - tMean), 2) }
        return (rss / Double(values.count - 2)).squareRoot()
    }

    /// The exact response of the first-order lag with dead time to a held input, at `times`.
    static func simulate(input: HeldSignal, times: [Double], timeConstant: Double, deadTime: Double, gain: Double, initial: Double) -> [Double] {
        guard timeConstant > 0 else { return Array(repeating: .nan, count: times.count) }
        var out = [initial]
        out.reserveCapacity(times.count)
        var y = initial, now = times[0]
        var j = input.index(at: now - deadTime)  // command in force at now − d (−1: before the first)
        for i in 1..<times.count {
            let target = times[i]
            while j + 1 < input.times.count && input.times[j + 1] + deadTime < target {
                let switchTime = input.times[j + 1] + deadTime
                let u = gain * input.value(index: j)
                y = u + (y - u) * exp(-(switchTime - now) / timeConstant)
                now = switchTime
                j += 1
            }
            let u = gain * input.value(index: j)
            y = u + (y - u) * exp(-(target - now) / timeConstant)
            now = target
            out.append(y)
        }
        return out
    }
}

/// A sampled signal held constant from each sample until the next (and before the first, at the
/// first value), with its exact running integral.
struct HeldSignal {
    let times: [Double]
    let values: [Double]
    /// ∫ from times[0] to times[k] of the signal.
    private let cumulative: [Double]

    init(times: [Double], values: [Double]) {
        self.times = times
        self.values = values
        var c = [0.0]
        for k in 1..<max(1, times.count) { c.append(c[k - 1] + values[k - 1] * (times[k] - times[k - 1])) }
        cumulative = c
    }

    /// The index of the sample in force at `t` (−1 before the first).
    func index(at t: Double) -> Int {
        var lo = 0, hi = times.count  // first index with times[index] > t
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo - 1
    }

    /// The value of sample `index` (the first value for −1).
    func value(index: Int) -> Double { values[max(index, 0)] }

    /// The value in force at `t`.
    func value(at t: Double) -> Double { value(index: index(at: t)) }

    /// ∫ from times[0] to t of the signal (negative for t before the first sample).
    func integral(to t: Double) -> Double {
        let k = index(at: t)
        if k < 0 { return values[0] * (t - times[0]) }
        return cumulative[k] + values[k] * (t - times[k])
    }
}
