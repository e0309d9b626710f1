// Least squares for system identification: linear fits with the parameter covariance
// s²(XᵀX)⁻¹ by Householder QR, and nonlinear curve fits by TetherNumerics' Levenberg–Marquardt
// with the same covariance at the solution. The numerics live in TetherNumerics; this file adds
// parameter names, input checks and messages that name the analysis and the recording.
import Foundation
import TetherCore
import TetherNumerics

/// A linear least-squares fit `y ≈ X β` with the covariance of `β`.
public struct LinearFit: Codable, Sendable, Equatable {
    /// Parameter names, in column order.
    public var names: [String]
    /// The estimates with standard errors and Student-t 95 % intervals (n − p degrees of freedom).
    public var parameters: [ParameterEstimate]
    /// Parameter covariance `s² (XᵀX)⁻¹`, row by row.
    public var covariance: [[Double]]
    /// Residuals `y − Xβ`, one per observation.
    public var residuals: [Double]
    /// Sum of squared (weighted) residuals.
    public var residualSumOfSquares: Double
    /// Fit quality (RMS residual, R², counts).
    public var quality: FitQuality

    /// The fitted values, in column order.
    public var values: [Double] { parameters.map(\.value) }

    /// The estimate of the parameter called `name`, if there is one.
    public subscript(name: String) -> ParameterEstimate? {
        names.firstIndex(of: name).map { parameters[$0] }
    }
}

/// A nonlinear least-squares fit with the covariance at the solution.
public struct NonlinearFit: Codable, Sendable, Equatable {
    /// Parameter names, in the order of the parameter vector.
    public var names: [String]
    /// The estimates with standard errors and Student-t 95 % intervals (n − p degrees of freedom;
    /// valid to first order, as the model is linearized at the solution).
    public var parameters: [ParameterEstimate]
    /// Parameter covariance `s² (JᵀJ)⁻¹` with J the Jacobian at the solution, row by row.
    public var covariance: [[Double]]
    /// Residuals at the solution.
    public var residuals: [Double]
    /// Sum of squared residuals at the solution.
    public var residualSumOfSquares: Double
    /// Fit quality.
    public var quality: FitQuality
    /// Levenberg–Marquardt iterations used (accepted and rejected steps).
    public var iterations: Int

    /// The fitted values, in parameter order.
    public var values: [Double] { parameters.map(\.value) }

    /// The estimate of the parameter called `name`, if there is one.
    public subscript(name: String) -> ParameterEstimate? {
        names.firstIndex(of: name).map { parameters[$0] }
    }

    /// The covariance as a matrix.
    public var covarianceMatrix: DenseMatrix { DenseMatrix(rows: covariance) }
}

/// Settings of the Levenberg–Marquardt solver for the closed-form analyses.
public struct LevenbergMarquardtOptions: Sendable {
    /// Most iterations (accepted or rejected steps) before giving up (with an error).
    public var maximumIterations: Int = 200
    /// Converged when a step lowers the cost by less than this fraction.
    public var relativeCostTolerance: Double = 1e-12
    /// Converged when the step, in units of the parameter scales, is below this times the length of the parameter vector in those units.
    public var relativeStepTolerance: Double = 1e-10
    /// Typical magnitude of each parameter: the solver works in parameter / scale, and the
    /// central-difference steps are ∛ε · max(|parameter|, scale). When nil, `max(|initial value|, 1e-3)`
    /// is used; give it whenever a parameter may start at 0.
    public var parameterScales: [Double]?
    /// Damping at the start, relative to the largest diagonal entry of JᵀJ.
    public var initialDamping: Double = 1e-3
    /// Creates the default settings.
    public init() {}
}

/// Linear and nonlinear least squares with parameter covariances.
public enum LeastSquares {
    /// Below this independence (sine of the angle between a column and the span of the others)
    /// a parameter is refused as not identifiable.
    public static let minimumIndependence = 1e-8

    /// Fits `y ≈ X β` by Householder QR and returns β with its covariance `s² (XᵀX)⁻¹`,
    /// `s² = RSS / (n − p)`.
    ///
    /// - Parameters:
    ///   - design: X, one row per observation and one column per parameter.
    ///   - observations: y.
    ///   - parameterNames: one name per column, used in results and messages.
    ///   - weights: optional positive weights (1/variance) per observation.
    ///   - analysis: what is being fitted, for messages ("friction fit").
    ///   - source: where the data came from (a recording path), for messages.
    /// - Throws: `TetherError` for too few observations, non-finite data, or a parameter the data
    ///   does not identify (a zero or dependent column).
    public static func linear(_ design: DenseMatrix, _ observations: [Double], parameterNames: [String],
                              weights: [Double]? = nil, analysis: String, source: String) throws -> LinearFit {
        let n = design.rows, p = design.columns
        precondition(parameterNames.count == p, "one name per column")
        guard observations.count == n else {
            throw TetherError("\(analysis): \(observations.count) observations for \(n) design rows", at: source)
        }
        guard n > p else {
            throw TetherError("\(analysis): \(n) observations for \(p) parameters (\(parameterNames.joined(separator: ", "))); need more than \(p)",
                              at: source, hint: "record more points")
        }
        try AnalysisInput.requireFinite(design.elements, named: "design matrix", analysis: analysis, source: source)
        try AnalysisInput.requireFinite(observations, named: "observations", analysis: analysis, source: source)
        var x = design, y = observations
        if let weights {
            guard weights.count == n, weights.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw TetherError("\(analysis): weights must be \(n) positive finite numbers", at: source)
            }
            for i in 0..<n {
                let w = weights[i].squareRoot()
                y[i] *= w
                for j in 0..<p { x[i, j] *= w }
            }
        }
        let qr = QRDecomposition(x)
        try checkIdentifiable(qr, names: parameterNames, analysis: analysis, source: source)
        let beta = qr.solve(y)
        let fitted = x.multiply(beta)
        let residuals = zip(y, fitted).map { $0 - $1 }
        let rss = residuals.reduce(0) { $0 + $1 * $1 }
        let dof = n - p
        let covariance = scaled(qr.inverseOfNormalMatrix(), by: rss / Double(dof))
        let estimates = (0..<p).map {
            ParameterEstimate(value: beta[$0], standardError: covariance[$0, $0].squareRoot(), degreesOfFreedom: dof)
        }
        // Report residuals in the units of the observations.
        let plainResiduals = weights.map { w in residuals.enumerated().map { $0.element / w[$0.offset].squareRoot() } } ?? residuals
        return LinearFit(names: parameterNames, parameters: estimates, covariance: covariance.rowArrays,
                         residuals: plainResiduals, residualSumOfSquares: rss,
                         quality: FitQuality(observations: observations, residuals: plainResiduals, parameterCount: p))
    }

    /// Minimizes `½ Σ rᵢ(β)²` by Levenberg–Marquardt (TetherNumerics, unbounded, central
    /// differences) from `initial` and returns β with the covariance `s² (JᵀJ)⁻¹` at the solution,
    /// `s² = RSS / (n − p)`.
    ///
    /// - Parameters:
    ///   - parameterNames: one per parameter, used in results and messages.
    ///   - initial: the starting point.
    ///   - analysis, source: for messages.
    ///   - options: tolerances and parameter scales.
    ///   - observations: the data, when the residuals are model − data one for one (for R²).
    ///   - residuals: r(β), the same length for every β; non-finite values reject a trial step.
    /// - Throws: `TetherError` when the residuals at the start are not finite, when there are
    ///   no more residuals than parameters, when the solver does not converge, or when a
    ///   parameter is not identified at the solution.
    public static func levenbergMarquardt(parameterNames: [String], initial: [Double], analysis: String, source: String,
                                          options: LevenbergMarquardtOptions = .init(), observations: [Double]? = nil,
                                          residuals: ([Double]) -> [Double]) throws -> NonlinearFit {
        let p = initial.count
        precondition(parameterNames.count == p, "one name per parameter")
        try AnalysisInput.requireFinite(initial, named: "initial guess", analysis: analysis, source: source)
        let scales: [Double] = options.parameterScales ?? initial.map { max(abs($0), 1e-3) }
        precondition(scales.count == p && scales.allSatisfy { $0 > 0 }, "one positive scale per parameter")
        func beta(_ z: [Double]) -> [Double] { zip(z, scales).map { $0 * $1 } }
        let solver = LevenbergMarquardt(maximumIterations: options.maximumIterations, costTolerance: options.relativeCostTolerance,
                                        stepTolerance: options.relativeStepTolerance, differences: .central,
                                        initialDamping: options.initialDamping, finishesWithGaussNewtonStep: true)
        let solution: LevenbergMarquardt.Solution
        do throws(LevenbergMarquardt.Failure) {
            solution = try solver.minimize(start: zip(initial, scales).map { $0 / $1 }) { z in residuals(beta(z)) }
        } catch .startNotEvaluable {
            throw TetherError("\(analysis): the model is not finite at the initial guess", at: source)
        } catch .tooFewResiduals(let n, _) {
            throw TetherError("\(analysis): \(n) residuals for \(p) parameters; need more than \(p)", at: source, hint: "record more samples")
        } catch .jacobianNotEvaluable(let j, _) {
            throw TetherError("\(analysis): the model is not finite on either side of '\(parameterNames[j])'", at: source,
                              hint: "check that the recording shows the expected response")
        }
        guard solution.stop.converged else {
            throw TetherError("\(analysis): the nonlinear fit did not converge in \(options.maximumIterations) iterations", at: source,
                              hint: "check that the recording shows the expected response; a better-excited experiment helps")
        }
        // The Jacobian in the parameters' own units: ∂r/∂β_j = (∂r/∂z_j) / scale_j.
        var jacobian = solution.jacobian
        for i in 0..<jacobian.rows { for j in 0..<p { jacobian[i, j] /= scales[j] } }
        return try nonlinearResult(names: parameterNames, beta: beta(solution.z), residuals: solution.residuals,
                                   iterations: solution.iterations, jacobian: jacobian,
                                   observations: observations, analysis: analysis, source: source)
    }

    /// The variance of `f(β)` to first order: `gᵀ Σ g` for the gradient `g` of f at β.
    public static func propagatedVariance(gradient: [Double], covariance: DenseMatrix) -> Double {
        covariance.quadraticForm(gradient)
    }

    // MARK: - Internals

    /// Throws when a column of the factored design is zero or (nearly) a combination of earlier ones.
    static func checkIdentifiable(_ qr: QRDecomposition, names: [String], analysis: String, source: String) throws {
        for j in 0..<qr.columns {
            if qr.columnNorms[j] == 0 {
                throw TetherError("\(analysis): the data does not excite '\(names[j])' at all (its regressor is zero)", at: source,
                                  hint: "record an experiment that varies what '\(names[j])' multiplies")
            }
            let independence = qr.independence(ofColumn: j)
            if independence < minimumIndependence {
                let others = names[..<j].joined(separator: ", ")
                throw TetherError("\(analysis): '\(names[j])' cannot be told apart from \(others.isEmpty ? "the other parameters" : others) in this data "
                    + "(independence \(String(format: "%.1e", independence)))",
                                  at: source, hint: "the experiment does not excite '\(names[j])' separately; widen the range of the input")
            }
        }
    }

    static func scaled(_ m: DenseMatrix, by s: Double) -> DenseMatrix {
        var out = m
        for i in out.elements.indices { out.elements[i] *= s }
        return out
    }

    /// The result of a nonlinear fit: covariance `s² (JᵀJ)⁻¹` from the Jacobian at the solution.
    static func nonlinearResult(names: [String], beta: [Double], residuals r: [Double], iterations: Int,
                                jacobian: DenseMatrix, observations: [Double]?, analysis: String, source: String) throws -> NonlinearFit {
        let n = r.count, p = beta.count
        let qr = QRDecomposition(jacobian)
        try checkIdentifiable(qr, names: names, analysis: analysis, source: source)
        let rss = r.reduce(0) { $0 + $1 * $1 }
        let dof = n - p
        let covariance = scaled(qr.inverseOfNormalMatrix(), by: rss / Double(dof))
        let estimates = (0..<p).map {
            ParameterEstimate(value: beta[$0], standardError: covariance[$0, $0].squareRoot(), degreesOfFreedom: dof)
        }
        return NonlinearFit(names: names, parameters: estimates, covariance: covariance.rowArrays, residuals: r,
                            residualSumOfSquares: rss, quality: observations.map { FitQuality(observations: $0, residuals: r, parameterCount: p) }
                                ?? FitQuality(residuals: r, parameterCount: p, totalSumOfSquares: nil),
                            iterations: iterations)
    }
}
