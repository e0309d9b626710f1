// Small dense least squares for system identification: a row-major matrix, Householder QR,
// linear least squares with the parameter covariance s²(JᵀJ)⁻¹, and a Levenberg–Marquardt
// solver for nonlinear curve fits with the same covariance at the solution.
//
// References: Golub & Van Loan, "Matrix Computations" (4th ed.), §5.1–5.3 (Householder QR and
// least squares); Marquardt, "An algorithm for least-squares estimation of nonlinear
// parameters", SIAM J. Appl. Math. 11 (1963); Moré, "The Levenberg–Marquardt algorithm:
// implementation and theory" (1978) for the diagonal scaling.
import Foundation
import TetherCore

/// A small dense matrix of doubles, stored row by row.
///
/// Sized for system identification (a few thousand rows, a handful of columns), not for large
/// linear algebra.
public struct DenseMatrix: Sendable, Equatable, Codable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// The elements, row by row (`rows × columns` of them).
    public var elements: [Double]

    /// A `rows × columns` matrix filled with `value`.
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must not be negative")
        self.rows = rows
        self.columns = columns
        elements = Array(repeating: value, count: rows * columns)
    }

    /// A matrix from its rows, which must all have the same length.
    public init(rows rowArrays: [[Double]]) {
        let width = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == width }, "every row needs the same length")
        rows = rowArrays.count
        columns = width
        elements = rowArrays.flatMap { $0 }
    }

    /// A matrix from its columns, which must all have the same length (the natural way to build a
    /// design matrix: one regressor per column).
    public init(columns columnArrays: [[Double]]) {
        let height = columnArrays.first?.count ?? 0
        precondition(columnArrays.allSatisfy { $0.count == height }, "every column needs the same length")
        rows = height
        columns = columnArrays.count
        elements = Array(repeating: 0, count: rows * columns)
        for (j, column) in columnArrays.enumerated() {
            for i in 0..<rows { elements[i * columns + j] = column[i] }
        }
    }

    /// The `n × n` identity.
    public static func identity(_ n: Int) -> DenseMatrix {
        var m = DenseMatrix(rows: n, columns: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    /// The element at (`row`, `column`).
    @inlinable public subscript(row: Int, column: Int) -> Double {
        get { elements[row * columns + column] }
        set { elements[row * columns + column] = newValue }
    }

    /// The rows as arrays (the form results are encoded in).
    public var rowArrays: [[Double]] {
        (0..<rows).map { i in Array(elements[(i * columns)..<((i + 1) * columns)]) }
    }

    /// One column as an array.
    public func column(_ j: Int) -> [Double] {
        (0..<rows).map { self[$0, j] }
    }

    /// The transpose.
    public var transposed: DenseMatrix {
        var t = DenseMatrix(rows: columns, columns: rows)
        for i in 0..<rows { for j in 0..<columns { t[j, i] = self[i, j] } }
        return t
    }

    /// The matrix product.
    public static func * (a: DenseMatrix, b: DenseMatrix) -> DenseMatrix {
        precondition(a.columns == b.rows, "matrix product of \(a.rows)×\(a.columns) and \(b.rows)×\(b.columns)")
        var c = DenseMatrix(rows: a.rows, columns: b.columns)
        for i in 0..<a.rows {
            for k in 0..<a.columns {
                let aik = a[i, k]
                if aik == 0 { continue }
                for j in 0..<b.columns { c[i, j] += aik * b[k, j] }
            }
        }
        return c
    }

    /// The product with a vector.
    public func multiply(_ v: [Double]) -> [Double] {
        precondition(v.count == columns, "matrix–vector product of \(rows)×\(columns) and \(v.count)")
        var out = Array(repeating: 0.0, count: rows)
        for i in 0..<rows {
            var s = 0.0
            for j in 0..<columns { s += self[i, j] * v[j] }
            out[i] = s
        }
        return out
    }

    /// `vᵀ M v` for a square matrix (the variance of a linear combination with coefficients `v`
    /// when the matrix is a covariance).
    public func quadraticForm(_ v: [Double]) -> Double {
        precondition(rows == columns && v.count == rows, "quadratic form needs a square matrix and a matching vector")
        var s = 0.0
        for i in 0..<rows { for j in 0..<columns { s += v[i] * self[i, j] * v[j] } }
        return s
    }
}

/// The Householder QR decomposition `A = QR` of a matrix with at least as many rows as columns.
///
/// Q is kept as its reflectors; R is upper triangular. Least-squares solutions come from
/// `R x = Qᵀb`, which avoids forming `AᵀA` and squaring the condition number.
public struct QRDecomposition: Sendable {
    /// R in the upper triangle (the rest is unused).
    private var r: DenseMatrix
    /// One Householder vector per column, with `2/(vᵀv)` beside it.
    private var reflectors: [(vector: [Double], scale: Double)]
    /// The Euclidean norm of each column of A.
    public let columnNorms: [Double]

    /// Factors `a` (rows ≥ columns).
    public init(_ a: DenseMatrix) {
        precondition(a.rows >= a.columns, "QR needs at least as many rows as columns")
        let n = a.rows, p = a.columns
        var work = a
        var reflectors: [(vector: [Double], scale: Double)] = []
        reflectors.reserveCapacity(p)
        columnNorms = (0..<p).map { j in
            var s = 0.0
            for i in 0..<n { s += a[i, j] * a[i, j] }
            return s.squareRoot()
        }
        for k in 0..<p {
            // The reflector that maps work[k..<n, k] onto a multiple of the first unit vector,
            // choosing the sign that avoids cancellation.
            var v = (k..<n).map { work[$0, k] }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm == 0 {
                reflectors.append((v, 0))
                continue
            }
            let alpha = v[0] >= 0 ? -norm : norm
            v[0] -= alpha
            let vv = v.reduce(0) { $0 + $1 * $1 }
            let scale = vv > 0 ? 2 / vv : 0
            for j in k..<p {
                var s = 0.0
                for i in k..<n { s += v[i - k] * work[i, j] }
                s *= scale
                if s != 0 { for i in k..<n { work[i, j] -= s * v[i - k] } }
            }
            reflectors.append((v, scale))
        }
        r = work
        self.reflectors = reflectors
    }

    /// Number of columns of the factored matrix.
    public var columns: Int { r.columns }

    /// How independent column `j` is of the columns before it: `|R_jj| / ‖A_j‖`, the sine of the
    /// angle between the column and the span of the earlier ones (0 for a zero column).
    public func independence(ofColumn j: Int) -> Double {
        columnNorms[j] > 0 ? abs(r[j, j]) / columnNorms[j] : 0
    }

    /// `Qᵀ b`.
    public func applyQTranspose(_ b: [Double]) -> [Double] {
        precondition(b.count == r.rows, "right-hand side has \(b.count) entries for \(r.rows) rows")
        var out = b
        for (k, reflector) in reflectors.enumerated() where reflector.scale != 0 {
            var s = 0.0
            for i in k..<out.count { s += reflector.vector[i - k] * out[i] }
            s *= reflector.scale
            for i in k..<out.count { out[i] -= s * reflector.vector[i - k] }
        }
        return out
    }

    /// The least-squares solution of `A x ≈ b` (R must be nonsingular: check `independence`).
    public func solve(_ b: [Double]) -> [Double] {
        let qtb = applyQTranspose(b)
        let p = r.columns
        var x = Array(repeating: 0.0, count: p)
        for i in stride(from: p - 1, through: 0, by: -1) {
            var s = qtb[i]
            for j in (i + 1)..<max(i + 1, p) { s -= r[i, j] * x[j] }
            x[i] = s / r[i, i]
        }
        return x
    }

    /// `(AᵀA)⁻¹ = R⁻¹R⁻ᵀ` (R must be nonsingular).
    public func inverseOfNormalMatrix() -> DenseMatrix {
        let p = r.columns
        // R⁻¹ is upper triangular; solve R X = I column by column.
        var rInverse = DenseMatrix(rows: p, columns: p)
        for c in 0..<p {
            for i in stride(from: c, through: 0, by: -1) {
                var s = i == c ? 1.0 : 0.0
                for j in (i + 1)..<max(i + 1, c + 1) { s -= r[i, j] * rInverse[j, c] }
                rInverse[i, c] = s / r[i, i]
            }
        }
        var out = DenseMatrix(rows: p, columns: p)
        for i in 0..<p {
            for j in i..<p {
                var s = 0.0
                for k in j..<p { s += rInverse[i, k] * rInverse[j, k] }
                out[i, j] = s
                out[j, i] = s
            }
        }
        return out
    }
}

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
    /// Jacobian evaluations used.
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

/// Settings of the Levenberg–Marquardt solver.
public struct LevenbergMarquardtOptions: Sendable {
    /// Most Jacobian evaluations before giving up (with an error).
    public var maximumIterations: Int = 200
    /// Converged when an accepted step lowers the cost by less than this fraction.
    public var relativeCostTolerance: Double = 1e-12
    /// Converged when every step component is below this times (|parameter| + scale).
    public var relativeStepTolerance: Double = 1e-10
    /// Typical magnitude of each parameter, for finite-difference steps and the step test. When
    /// nil, `max(|initial value|, 1e-3)` is used; give it whenever a parameter may start at 0.
    public var parameterScales: [Double]?
    /// Damping at the start, relative to the diagonal of JᵀJ.
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

    /// Minimizes `½ Σ rᵢ(β)²` by Levenberg–Marquardt from `initial` and returns β with the
    /// covariance `s² (JᵀJ)⁻¹` at the solution (J by central differences), `s² = RSS / (n − p)`.
    ///
    /// Each step solves the damped problem `[J; √λ D] δ = [−r; 0]` by QR, D the column norms of J
    /// (Marquardt's scaling, so the result does not depend on parameter units).
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

        var beta = initial
        var r = residuals(beta)
        let n = r.count
        guard n > p else {
            throw TetherError("\(analysis): \(n) residuals for \(p) parameters; need more than \(p)", at: source, hint: "record more samples")
        }
        guard r.allSatisfy(\.isFinite) else {
            throw TetherError("\(analysis): the model is not finite at the initial guess", at: source)
        }
        func cost(_ r: [Double]) -> Double { r.reduce(0) { $0 + $1 * $1 } }
        var currentCost = cost(r)
        var lambda = options.initialDamping
        var iterations = 0
        var converged = false

        while iterations < options.maximumIterations && !converged {
            iterations += 1
            let jacobian = numericJacobian(residuals, at: beta, current: r, scales: scales)
            // Marquardt scaling: D_j = ‖J_j‖, floored so a momentarily flat direction still moves.
            var d = (0..<p).map { j in (0..<n).reduce(0.0) { $0 + jacobian[$1, j] * jacobian[$1, j] }.squareRoot() }
            let dMax = d.max() ?? 0
            if dMax == 0 {
                throw TetherError("\(analysis): the model does not depend on any parameter at the initial guess", at: source)
            }
            d = d.map { max($0, 1e-12 * dMax) }
            var accepted = false
            while !accepted {
                var augmented = DenseMatrix(rows: n + p, columns: p)
                for i in 0..<n { for j in 0..<p { augmented[i, j] = jacobian[i, j] } }
                for j in 0..<p { augmented[n + j, j] = lambda.squareRoot() * d[j] }
                let rhs = r.map { -$0 } + Array(repeating: 0.0, count: p)
                let step = QRDecomposition(augmented).solve(rhs)
                let trial = zip(beta, step).map { $0 + $1 }
                let trialResiduals = residuals(trial)
                let trialCost = trialResiduals.allSatisfy(\.isFinite) ? cost(trialResiduals) : .infinity
                let smallStep = (0..<p).allSatisfy { abs(step[$0]) <= options.relativeStepTolerance * (abs(beta[$0]) + scales[$0]) }
                if trialCost.isFinite && trialCost <= currentCost {
                    let reduction = currentCost - trialCost
                    beta = trial
                    r = trialResiduals
                    currentCost = trialCost
                    lambda = max(lambda / 3, 1e-12)
                    accepted = true
                    if reduction <= options.relativeCostTolerance * max(currentCost, .leastNormalMagnitude) || smallStep {
                        converged = true
                    }
                } else {
                    lambda *= 4
                    // No damped step lowers the cost: the cost is stationary to working precision.
                    if smallStep || lambda > 1e16 {
                        converged = true
                        break
                    }
                }
            }
        }
        guard converged else {
            throw TetherError("\(analysis): the nonlinear fit did not converge in \(options.maximumIterations) iterations", at: source,
                              hint: "check that the recording shows the expected response; a better-excited experiment helps")
        }
        return try nonlinearResult(names: parameterNames, beta: beta, residuals: r, iterations: iterations,
                                   jacobian: numericJacobian(residuals, at: beta, current: r, scales: scales),
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
                throw TetherError("\(analysis): '\(names[j])' cannot be told apart from \(others.isEmpty ? "the other parameters" : others) in this data (independence \(String(format: "%.1e", independence)))",
                                  at: source, hint: "the experiment does not excite '\(names[j])' separately; widen the range of the input")
            }
        }
    }

    static func scaled(_ m: DenseMatrix, by s: Double) -> DenseMatrix {
        var out = m
        for i in out.elements.indices { out.elements[i] *= s }
        return out
    }

    /// Central-difference Jacobian of the residuals (n × p), step `cbrt(ε)·max(|β_j|, scale_j)`.
    static func numericJacobian(_ residuals: ([Double]) -> [Double], at beta: [Double], current: [Double], scales: [Double]) -> DenseMatrix {
        let n = current.count, p = beta.count
        var jacobian = DenseMatrix(rows: n, columns: p)
        let relativeStep = pow(Double.ulpOfOne, 1.0 / 3.0)
        for j in 0..<p {
            let h = relativeStep * max(abs(beta[j]), scales[j])
            var plus = beta, minus = beta
            plus[j] += h
            minus[j] -= h
            let rPlus = residuals(plus), rMinus = residuals(minus)
            let width = plus[j] - minus[j]
            if rPlus.allSatisfy(\.isFinite) && rMinus.allSatisfy(\.isFinite) {
                for i in 0..<n { jacobian[i, j] = (rPlus[i] - rMinus[i]) / width }
            } else if rPlus.allSatisfy(\.isFinite) {
                for i in 0..<n { jacobian[i, j] = (rPlus[i] - current[i]) / (plus[j] - beta[j]) }
            } else if rMinus.allSatisfy(\.isFinite) {
                for i in 0..<n { jacobian[i, j] = (current[i] - rMinus[i]) / (beta[j] - minus[j]) }
            }
        }
        return jacobian
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
