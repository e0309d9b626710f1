// Bounded Levenberg–Marquardt: the one nonlinear least-squares solver of Tether.
//
// References: K. Levenberg, "A method for the solution of certain non-linear problems in least
// squares", Q. Appl. Math. 2 (1944); D. Marquardt, "An algorithm for least-squares estimation of
// nonlinear parameters", SIAM J. Appl. Math. 11 (1963); the damping update after H. B. Nielsen,
// "Damping parameter in Marquardt's method" (IMM-REP-1999-05); bounds by an active set and
// projection, as in projected Newton methods (D. Bertsekas, SIAM J. Control Optim. 20, 1982).
import Foundation

/// Minimizes ½‖r(z)‖² over a box lower ≤ z ≤ upper (infinite bounds: unbounded) with a
/// finite-difference Jacobian, evaluating residuals in batches.
///
/// The solver works in the caller's variables; pass them scaled (each parameter divided by its
/// typical size) so that one damping λ·I suits all of them. Each iteration:
/// 1. g = Jᵀr, H = JᵀJ at the current point (cost ½‖r‖²).
/// 2. Variables on a bound whose gradient points out of the box are held (the active set).
/// 3. Solve (H + λI) δ = −g for the others (Cholesky); project z + δ onto the box.
/// 4. ρ = actual / predicted decrease. ρ > 0: accept, recompute J, λ ← λ·max(⅓, 1 − (2ρ − 1)³);
///    otherwise λ ← λ·ν, ν ← 2ν.
///
/// It stops when an accepted step, or the undamped Gauss–Newton step of the quadratic model,
/// lowers the cost by less than a fraction `costTolerance`; when the step or the projected
/// gradient becomes negligible; when no step helps even with a huge damping; or after
/// `maximumIterations` (rejected steps count as iterations).
public struct LevenbergMarquardt: Sendable {
    /// How the Jacobian is estimated.
    public enum Differences: Sendable, Equatable {
        /// Forward differences with a fixed step in the solver's variables: one residual
        /// evaluation per parameter (taken backwards at an upper bound or where the forward point
        /// cannot be evaluated).
        case forward(step: Double)
        /// Central differences with step `relativeStep · max(|z_j|, 1)`: two evaluations per
        /// parameter, one-sided where a side lies outside the box or cannot be evaluated.
        case central(relativeStep: Double)

        /// Central differences with the step ∛ε that balances truncation and rounding errors.
        public static let central = Differences.central(relativeStep: pow(Double.ulpOfOne, 1.0 / 3.0))
    }

    /// Why the solver stopped.
    public enum StopReason: String, Sendable, Codable {
        /// An accepted step (or the Gauss–Newton step) lowered the cost by less than `costTolerance` of it.
        case costConverged
        /// The step became negligible.
        case stepConverged
        /// The gradient, projected on the box, vanished.
        case gradientConverged
        /// `maximumIterations` reached.
        case maxIterations
        /// No step lowered the cost even with a huge damping.
        case noProgress

        /// Whether the solver reached a stationary point (every reason but `maxIterations`).
        public var converged: Bool { self != .maxIterations }
    }

    /// The residuals at one point, or why they could not be evaluated there.
    public struct Evaluation: Sendable {
        /// The residuals (the same count at every point); nil when the point could not be evaluated.
        public var values: [Double]?
        /// Why not, for messages.
        public var failure: String?

        /// Residuals that could be evaluated.
        public init(values: [Double]) {
            self.values = values
            failure = nil
        }

        /// A point that could not be evaluated, and why.
        public init(failure: String) {
            values = nil
            self.failure = failure
        }
    }

    /// One iteration, as reported to a progress callback.
    public struct Iteration: Sendable, Codable, Equatable {
        /// 1-based iteration number.
        public var iteration: Int
        /// ½‖r‖² after the iteration.
        public var cost: Double
        /// The damping λ for the next iteration.
        public var lambda: Double
        /// Length of the step tried, in the solver's variables.
        public var step: Double
        /// Whether the step was taken.
        public var accepted: Bool
        /// Points evaluated so far.
        public var evaluations: Int

        /// An iteration record.
        public init(iteration: Int, cost: Double, lambda: Double, step: Double, accepted: Bool, evaluations: Int) {
            self.iteration = iteration
            self.cost = cost
            self.lambda = lambda
            self.step = step
            self.accepted = accepted
            self.evaluations = evaluations
        }
    }

    /// Where the solver ended.
    public struct Solution: Sendable {
        /// The minimizer.
        public var z: [Double]
        /// The residuals at `z`.
        public var residuals: [Double]
        /// The Jacobian of the residuals at `z` (n × p).
        public var jacobian: DenseMatrix
        /// ½‖r‖² at `z`.
        public var cost: Double
        /// The residuals at the start (after projection onto the box).
        public var initialResiduals: [Double]
        /// ½‖r‖² at the start.
        public var initialCost: Double
        /// Iterations, accepted or not.
        public var iterations: Int
        /// Why it stopped.
        public var stop: StopReason
        /// Every iteration.
        public var history: [Iteration]
    }

    /// Why the solver could not run.
    public enum Failure: Error, Sendable, Equatable {
        /// The residuals cannot be evaluated at the start.
        case startNotEvaluable(reason: String)
        /// No more residuals than parameters.
        case tooFewResiduals(residuals: Int, parameters: Int)
        /// Parameter `parameter` (an index) cannot be varied in either direction for the Jacobian.
        case jacobianNotEvaluable(parameter: Int, reason: String)
    }

    /// Residuals at several points at once (one batch, which the caller may evaluate in parallel).
    public typealias BatchResiduals = ([[Double]]) -> [Evaluation]

    /// Most iterations, accepted or not.
    public var maximumIterations: Int
    /// Converged when a step lowers the cost by less than this fraction of it.
    public var costTolerance: Double
    /// Converged when ‖δ‖ ≤ stepTolerance (‖z‖ + stepTolerance).
    public var stepTolerance: Double
    /// Converged when the projected gradient's largest component is below this times max(1, cost).
    public var gradientTolerance: Double
    /// How the Jacobian is estimated.
    public var differences: Differences
    /// The damping at the start, relative to the largest diagonal entry of JᵀJ.
    public var initialDamping: Double
    /// Whether, on stopping because the Gauss–Newton step promises less than `costTolerance`,
    /// that step is taken (when it lowers the cost) at the price of one more evaluation and
    /// Jacobian: worth it where evaluations are cheap (curve fits), since the parameters then
    /// land on the minimum rather than within √(costTolerance · cost) of it in the weakest direction.
    public var finishesWithGaussNewtonStep: Bool

    /// A solver with its tolerances.
    public init(maximumIterations: Int = 200, costTolerance: Double = 1e-12, stepTolerance: Double = 1e-10,
                gradientTolerance: Double = 0, differences: Differences = .central, initialDamping: Double = 1e-3,
                finishesWithGaussNewtonStep: Bool = false) {
        self.maximumIterations = maximumIterations
        self.costTolerance = costTolerance
        self.stepTolerance = stepTolerance
        self.gradientTolerance = gradientTolerance
        self.differences = differences
        self.initialDamping = initialDamping
        self.finishesWithGaussNewtonStep = finishesWithGaussNewtonStep
    }

    /// Minimizes ½‖r(z)‖² from `start` over the box [`lower`, `upper`] (nil: unbounded), one
    /// residual evaluation per point.
    ///
    /// `residuals` returns nil (or non-finite values) where the model cannot be evaluated; a
    /// trial step there is rejected.
    public func minimize(start: [Double], lower: [Double]? = nil, upper: [Double]? = nil,
                         residuals: ([Double]) -> [Double]?) throws(Failure) -> Solution {
        try minimize(start: start, lower: lower, upper: upper, batch: { points in
            points.map { point in
                guard let r = residuals(point) else { return Evaluation(failure: "the residuals cannot be evaluated") }
                guard r.allSatisfy(\.isFinite) else { return Evaluation(failure: "the residuals are not finite") }
                return Evaluation(values: r)
            }
        })
    }

    /// Minimizes ½‖r(z)‖² from `start` over the box [`lower`, `upper`] (nil: unbounded),
    /// evaluating the points of each Jacobian in one batch.
    ///
    /// - Parameters:
    ///   - evaluations: points evaluated so far as the caller counts them, for the iteration
    ///     records; nil: the solver's own count.
    ///   - progress: called after every iteration.
    /// - Throws: `Failure` when the start cannot be evaluated, when there are no more residuals
    ///   than parameters, or when a Jacobian column cannot be estimated.
    public func minimize(start: [Double], lower: [Double]? = nil, upper: [Double]? = nil, batch: BatchResiduals,
                         evaluations: (() -> Int)? = nil,
                         progress: (Iteration) -> Void = { _ in }) throws(Failure) -> Solution {
        let p = start.count
        let lower = lower ?? [Double](repeating: -.infinity, count: p)
        let upper = upper ?? [Double](repeating: .infinity, count: p)
        precondition(lower.count == p && upper.count == p && zip(lower, upper).allSatisfy { $0 <= $1 }, "one bound pair per parameter, lower ≤ upper")
        var evaluated = 0
        func residuals(_ points: [[Double]]) -> [Evaluation] {
            evaluated += points.count
            return batch(points)
        }
        func count() -> Int { evaluations?() ?? evaluated }
        var z = zip(start, zip(lower, upper)).map { min(max($0, $1.0), $1.1) }
        let first = residuals([z])[0]
        guard var r = first.values else { throw .startNotEvaluable(reason: first.failure ?? "unknown reason") }
        let n = r.count
        guard n > p else { throw .tooFewResiduals(residuals: n, parameters: p) }
        var cost = 0.5 * dot(r, r)
        let initialCost = cost, initialResiduals = r
        var jac = try jacobian(z, r, lower, upper, residuals)
        var h = jac.gram
        var lambda = initialDamping * max((0..<p).map { h[$0, $0] }.max() ?? 1, 1e-12)
        var nu = 2.0
        var history: [Iteration] = []
        var stop = StopReason.maxIterations
        var iteration = 0
        func record(_ step: Double, _ accepted: Bool) {
            let entry = Iteration(iteration: iteration, cost: cost, lambda: lambda, step: step, accepted: accepted, evaluations: count())
            progress(entry)
            history.append(entry)
        }

        while iteration < maximumIterations {
            iteration += 1
            let g = jac.transposeMultiply(r)
            // Active set: on a bound, pushed outward by the descent direction −g.
            let tol = 1e-12
            let free = (0..<p).filter { i in
                !((z[i] <= lower[i] + tol && g[i] > 0) || (z[i] >= upper[i] - tol && g[i] < 0))
            }
            let projectedGradient = free.map { abs(g[$0]) }.max() ?? 0
            if free.isEmpty || projectedGradient <= gradientTolerance * max(1, cost) {
                stop = .gradientConverged
                iteration -= 1
                break
            }
            let f = free.count
            var a = DenseMatrix(rows: f, columns: f), b = [Double](repeating: 0, count: f)
            for (u, i) in free.enumerated() {
                b[u] = -g[i]
                for (v, j) in free.enumerated() { a[u, v] = h[i, j] }
            }
            // Converged when even the undamped (Gauss–Newton) step promises less than the
            // tolerance: no damping can do better, so further trials would only be rejected.
            let largestDiagonal = (0..<f).map { a[$0, $0] }.max() ?? 0
            var regularized = a
            for u in 0..<f { regularized[u, u] += 1e-12 * max(largestDiagonal, 1e-300) }
            if let newton = CholeskyDecomposition(regularized)?.solve(b), 0.5 * dot(newton, b) <= costTolerance * cost {
                stop = .costConverged
                iteration -= 1
                if finishesWithGaussNewtonStep {
                    // The undamped step to the model's minimum, kept when it lowers the cost.
                    var trial = z
                    for (u, i) in free.enumerated() { trial[i] = min(max(z[i] + newton[u], lower[i]), upper[i]) }
                    let delta = zip(trial, z).map { $0 - $1 }
                    if let newR = residuals([trial])[0].values, 0.5 * dot(newR, newR) < cost {
                        iteration += 1
                        z = trial
                        r = newR
                        cost = 0.5 * dot(newR, newR)
                        record(dot(delta, delta).squareRoot(), true)
                        jac = try jacobian(z, r, lower, upper, residuals)
                    }
                }
                break
            }
            for u in 0..<f { a[u, u] += lambda }
            guard let solution = CholeskyDecomposition(a)?.solve(b) else {
                lambda *= nu
                nu *= 2
                record(0, false)
                continue
            }
            var trial = z
            for (u, i) in free.enumerated() { trial[i] = min(max(z[i] + solution[u], lower[i]), upper[i]) }
            let delta = zip(trial, z).map { $0 - $1 }
            let stepNorm = dot(delta, delta).squareRoot()
            if stepNorm <= stepTolerance * (dot(z, z).squareRoot() + stepTolerance) {
                stop = .stepConverged
                record(stepNorm, false)
                break
            }
            // Predicted decrease of the local quadratic model along the projected step.
            let hDelta = h.multiply(delta)
            let predicted = -(dot(g, delta) + 0.5 * dot(delta, hDelta))
            let outcome = residuals([trial])[0]
            let trialCost = outcome.values.map { 0.5 * dot($0, $0) } ?? .infinity
            let rho = predicted > 0 ? (cost - trialCost) / predicted : -1
            if rho > 0, let newR = outcome.values {
                let decrease = cost - trialCost
                z = trial
                r = newR
                cost = trialCost
                lambda *= max(1.0 / 3, 1 - pow(2 * rho - 1, 3))
                nu = 2
                record(stepNorm, true)
                jac = try jacobian(z, r, lower, upper, residuals)
                h = jac.gram
                if decrease <= costTolerance * cost {
                    stop = .costConverged
                    break
                }
            } else {
                lambda *= nu
                nu *= 2
                record(stepNorm, false)
                if lambda > 1e20 {
                    stop = .noProgress
                    break
                }
            }
        }
        return Solution(z: z, residuals: r, jacobian: jac, cost: cost, initialResiduals: initialResiduals, initialCost: initialCost,
                        iterations: iteration, stop: stop, history: history)
    }

    /// The finite-difference Jacobian at `z` (residuals `r` there), its points in one batch; a
    /// point outside the box or that cannot be evaluated is replaced by one on the other side.
    private func jacobian(_ z: [Double], _ r: [Double], _ lower: [Double], _ upper: [Double],
                          _ residuals: BatchResiduals) throws(Failure) -> DenseMatrix {
        let p = z.count, n = r.count
        var jac = DenseMatrix(rows: n, columns: p)
        switch differences {
        case .forward(let step):
            var steps = (0..<p).map { i in z[i] + step <= upper[i] ? step : -step }
            func points(_ columns: [Int]) -> [[Double]] {
                columns.map { i in
                    var point = z
                    point[i] += steps[i]
                    return point
                }
            }
            var results = residuals(points(Array(0..<p)))
            let failed = (0..<p).filter { results[$0].values == nil }
            if !failed.isEmpty {
                for i in failed { steps[i] = -steps[i] }
                let retry = residuals(points(failed))
                for (k, i) in failed.enumerated() {
                    guard retry[k].values != nil else {
                        throw .jacobianNotEvaluable(parameter: i, reason: retry[k].failure ?? results[i].failure ?? "unknown reason")
                    }
                    results[i] = retry[k]
                }
            }
            for i in 0..<p {
                guard let column = results[i].values else { continue }
                let inverse = 1 / steps[i]
                for row in 0..<n { jac.elements[row * p + i] = (column[row] - r[row]) * inverse }
            }
        case .central(let relativeStep):
            // Both sides of every parameter in one batch: plus points first, then minus points.
            var plus = [[Double]](), minus = [[Double]]()
            for i in 0..<p {
                let h = relativeStep * max(abs(z[i]), 1)
                var a = z, b = z
                a[i] = min(z[i] + h, upper[i])
                b[i] = max(z[i] - h, lower[i])
                plus.append(a)
                minus.append(b)
            }
            let results = residuals(plus + minus)
            for i in 0..<p {
                let up = results[i], down = results[p + i]
                let width = plus[i][i] - minus[i][i]
                if let rp = up.values, let rm = down.values, width > 0 {
                    for row in 0..<n { jac.elements[row * p + i] = (rp[row] - rm[row]) / width }
                } else if let rp = up.values, plus[i][i] > z[i] {
                    for row in 0..<n { jac.elements[row * p + i] = (rp[row] - r[row]) / (plus[i][i] - z[i]) }
                } else if let rm = down.values, minus[i][i] < z[i] {
                    for row in 0..<n { jac.elements[row * p + i] = (r[row] - rm[row]) / (z[i] - minus[i][i]) }
                } else {
                    throw .jacobianNotEvaluable(parameter: i, reason: up.failure ?? down.failure ?? "the box has no width here")
                }
            }
        }
        return jac
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }
}
