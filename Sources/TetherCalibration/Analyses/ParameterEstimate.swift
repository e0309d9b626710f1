// What every closed-form analysis returns (an estimate with its uncertainty, a fit quality) and
// the input checks they share.
import Foundation
import TetherCore
import TetherNumerics

/// An estimated quantity with its standard error and a 95 % interval (SI units, radians).
public struct ParameterEstimate: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The estimate.
    public var value: Double
    /// Its standard error (one standard deviation of the estimate).
    public var standardError: Double
    /// Lower end of the 95 % interval.
    public var lower95: Double
    /// Upper end of the 95 % interval.
    public var upper95: Double

    /// An estimate with a normal (large-sample) interval `value ± 1.96 SE`.
    public init(value: Double, standardError: Double) {
        let half = Distributions.normalQuantile(0.975) * standardError
        self.init(value: value, standardError: standardError, lower95: value - half, upper95: value + half)
    }

    /// An estimate with a Student-t interval `value ± t(0.975, dof) SE`.
    public init(value: Double, standardError: Double, degreesOfFreedom: Int) {
        let half = Distributions.studentTQuantile(0.975, degreesOfFreedom: Double(max(degreesOfFreedom, 1))) * standardError
        self.init(value: value, standardError: standardError, lower95: value - half, upper95: value + half)
    }

    /// An estimate with an explicit (possibly asymmetric) 95 % interval.
    public init(value: Double, standardError: Double, lower95: Double, upper95: Double) {
        self.value = value
        self.standardError = standardError
        self.lower95 = lower95
        self.upper95 = upper95
    }

    /// The 95 % interval as a `ConfidenceInterval`.
    public var interval95: ConfidenceInterval { ConfidenceInterval(lower: lower95, upper: upper95) }

    /// Whether `x` lies in the 95 % interval.
    public func contains(_ x: Double) -> Bool { lower95 <= x && x <= upper95 }

    /// The estimate of `f(x)` for a monotone f, with the interval mapped through f and the
    /// standard error to first order (`|f'(x)| SE`).
    public func mapped(_ f: (Double) -> Double, derivative: Double) -> ParameterEstimate {
        let a = f(lower95), b = f(upper95)
        return ParameterEstimate(value: f(value), standardError: abs(derivative) * standardError, lower95: min(a, b), upper95: max(a, b))
    }

    /// "value ± SE (95 %: lower … upper)".
    public var description: String {
        String(format: "%.6g ± %.2g (95 %%: %.6g … %.6g)", value, standardError, lower95, upper95)
    }
}

/// How well a model fits its data.
public struct FitQuality: Codable, Sendable, Equatable {
    /// Number of observations (residuals).
    public var sampleCount: Int
    /// Number of fitted parameters.
    public var parameterCount: Int
    /// Root mean square of the residuals (units of the observations).
    public var rmsResidual: Double
    /// Residual standard deviation `s = √(RSS / (n − p))`, the noise level the fit implies.
    public var residualStandardDeviation: Double
    /// Coefficient of determination `1 − RSS / Σ(y − ȳ)²`; nil when the data does not vary.
    public var rSquared: Double?

    /// The quality of a fit from its residuals and, for R², the total sum of squares of the data.
    public init(residuals: [Double], parameterCount: Int, totalSumOfSquares: Double?) {
        let rss = residuals.reduce(0) { $0 + $1 * $1 }
        sampleCount = residuals.count
        self.parameterCount = parameterCount
        rmsResidual = residuals.isEmpty ? 0 : (rss / Double(residuals.count)).squareRoot()
        residualStandardDeviation = residuals.count > parameterCount ? (rss / Double(residuals.count - parameterCount)).squareRoot() : 0
        if let tss = totalSumOfSquares, tss > 0 { rSquared = 1 - rss / tss } else { rSquared = nil }
    }

    /// The quality of a fit from the data and its residuals.
    public init(observations: [Double], residuals: [Double], parameterCount: Int) {
        let mean = observations.reduce(0, +) / Double(max(observations.count, 1))
        let tss = observations.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        self.init(residuals: residuals, parameterCount: parameterCount, totalSumOfSquares: tss)
    }
}

/// Input checks shared by the analyses; each error names the analysis, the parameter and the source.
enum AnalysisInput {
    /// At least `minimum` samples of `name`.
    static func requireCount(_ count: Int, atLeast minimum: Int, of name: String, analysis: String, source: String,
                             hint: String = "record longer or at a higher rate") throws {
        guard count >= minimum else {
            throw TetherError("\(analysis): '\(name)' has \(count) sample\(count == 1 ? "" : "s"); at least \(minimum) are needed",
                              at: source, hint: hint)
        }
    }

    /// Every value of `name` finite.
    static func requireFinite(_ values: [Double], named name: String, analysis: String, source: String) throws {
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw TetherError("\(analysis): '\(name)' sample \(i) is not finite (\(values[i]))", at: source,
                              hint: "drop or repair non-finite samples before the analysis")
        }
    }

    /// `times` strictly increasing (sorted, no duplicates) and finite.
    static func requireIncreasing(_ times: [Double], named name: String, analysis: String, source: String) throws {
        try requireFinite(times, named: name, analysis: analysis, source: source)
        for i in times.indices.dropFirst() where !(times[i] > times[i - 1]) {
            let kind = times[i] == times[i - 1] ? "repeats" : "goes back"
            throw TetherError("\(analysis): '\(name)' \(kind) at sample \(i) (\(times[i]) after \(times[i - 1]))", at: source,
                              hint: "sort the samples by time and drop duplicates")
        }
    }

    /// Two parallel arrays with the same count.
    static func requireSameCount(_ a: Int, _ b: Int, names: (String, String), analysis: String, source: String) throws {
        guard a == b else {
            throw TetherError("\(analysis): '\(names.0)' has \(a) samples but '\(names.1)' has \(b)", at: source,
                              hint: "pass one value per time stamp")
        }
    }

    /// A time series checked for count, finiteness and increasing times.
    static func requireSeries(times: [Double], values: [Double], timeName: String = "time", valueName: String,
                              minimumCount: Int, analysis: String, source: String) throws {
        try requireSameCount(times.count, values.count, names: (timeName, valueName), analysis: analysis, source: source)
        try requireCount(values.count, atLeast: minimumCount, of: valueName, analysis: analysis, source: source)
        try requireIncreasing(times, named: timeName, analysis: analysis, source: source)
        try requireFinite(values, named: valueName, analysis: analysis, source: source)
    }

    /// A positive finite option value.
    static func requirePositive(_ value: Double, named name: String, analysis: String, source: String) throws {
        guard value.isFinite && value > 0 else {
            throw TetherError("\(analysis): '\(name)' must be positive and finite (got \(value))", at: source)
        }
    }
}
