import Foundation
import TetherCore

/// Bounded Levenberg–Marquardt on a box, with a forward-difference Jacobian.
///
/// References: K. Levenberg (1944), D. Marquardt (1963); the damping update after
/// H. B. Nielsen, "Damping parameter in Marquardt's method" (IMM-REP-1999-05); bounds by an
/// active set and projection, as in projected Newton methods (D. Bertsekas, 1982).
///
/// The variables are scaled (each parameter divided by its scale), so one damping λ·I suits all
/// of them and the unit of a step is "one typical size". Each iteration:
/// 1. g = Jᵀr, H = JᵀJ at the current point (cost ½‖r‖²).
/// 2. Variables on a bound whose gradient points out of the box are held (the active set).
/// 3. Solve (H + λI) δ = −g for the others; project z + δ onto the box.
/// 4. ρ = actual / predicted decrease. ρ > 0: accept, recompute J, λ ← λ·max(⅓, 1 − (2ρ − 1)³);
///    otherwise λ ← λ·ν, ν ← 2ν.
/// Stops when an accepted step, or the undamped Gauss–Newton step of the quadratic model, lowers
/// the cost by less than a fraction `costTolerance`; when the step or the projected gradient
/// becomes negligible; or after `maxIterations`.
struct BoundedLevenbergMarquardt {
    var maxIterations: Int
    var costTolerance: Double
    var stepTolerance: Double
    var gradientTolerance: Double
    /// Forward-difference step, in scaled units.
    var differenceStep: Double

    struct Outcome {
        var z: [Double]
        var residuals: [Double]
        /// Row-major n × p, at `z`.
        var jacobian: [Double]
        var cost: Double
        /// The residuals and cost at the start.
        var initialResiduals: [Double]
        var initialCost: Double
        var iterations: Int
        var stop: TrajectoryFitResult.StopReason
        var history: [FitProgress]
    }

    /// Residuals at several scaled points at once (one parallel batch); nil with a reason where
    /// the model could not be simulated.
    typealias Residuals = ([[Double]]) -> [(values: [Double]?, failure: String?)]

    func minimize(start: [Double], lower: [Double], upper: [Double], names: [String],
                  residuals: Residuals, evaluations: () -> Int,
                  progress: (FitProgress) -> Void) throws -> Outcome {
        let p = start.count
        var z = zip(start, zip(lower, upper)).map { min(max($0, $1.0), $1.1) }
        let first = residuals([z])[0]
        guard var r = first.values else {
            throw TetherError("the model cannot be simulated at the starting values: \(first.failure ?? "unknown reason")",
                              hint: "check the initial values and bounds of the parameters")
        }
        let n = r.count
        guard n > p else {
            throw TetherError("\(n) residuals for \(p) parameters: too few samples to fit", hint: "use longer recordings or fewer parameters")
        }
        var cost = 0.5 * dot(r, r)
        let initialCost = cost, initialResiduals = r
        var jac = try jacobian(z, r, lower, upper, names, residuals)
        var h = FitMatrix.gram(jac, rows: n, columns: p)
        var lambda = 1e-3 * max((0..<p).map { h[$0 * p + $0] }.max() ?? 1, 1e-12)
        var nu = 2.0
        var history: [FitProgress] = []
        var stop = TrajectoryFitResult.StopReason.maxIterations
        var iteration = 0

        while iteration < maxIterations {
            iteration += 1
            let g = FitMatrix.transposeTimes(jac, rows: n, columns: p, r)
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
            var a = [Double](repeating: 0, count: f * f), b = [Double](repeating: 0, count: f)
            for (u, i) in free.enumerated() {
                b[u] = -g[i]
                for (v, j) in free.enumerated() { a[u * f + v] = h[i * p + j] }
            }
            // Converged when even the undamped (Gauss–Newton) step promises less than the
            // tolerance: no damping can do better, so further trials would only be rejected.
            let largestDiagonal = (0..<f).map { a[$0 * f + $0] }.max() ?? 0
            var regularized = a
            for u in 0..<f { regularized[u * f + u] += 1e-12 * max(largestDiagonal, 1e-300) }
            if let newton = FitMatrix.solveSPD(regularized, b), 0.5 * dot(newton, b) <= costTolerance * cost {
                stop = .costConverged
                iteration -= 1
                break
            }
            for u in 0..<f { a[u * f + u] += lambda }
            guard let solution = FitMatrix.solveSPD(a, b) else {
                lambda *= nu
                nu *= 2
                history.append(report(iteration, cost, lambda, 0, false, evaluations(), progress))
                continue
            }
            var trial = z
            for (u, i) in free.enumerated() { trial[i] = min(max(z[i] + solution[u], lower[i]), upper[i]) }
            let delta = zip(trial, z).map { $0 - $1 }
            let stepNorm = dot(delta, delta).squareRoot()
            if stepNorm <= stepTolerance * (dot(z, z).squareRoot() + stepTolerance) {
                stop = .stepConverged
                history.append(report(iteration, cost, lambda, stepNorm, false, evaluations(), progress))
                break
            }
            // Predicted decrease of the local quadratic model along the projected step.
            var hDelta = [Double](repeating: 0, count: p)
            for i in 0..<p { for j in 0..<p { hDelta[i] += h[i * p + j] * delta[j] } }
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
                history.append(report(iteration, cost, lambda, stepNorm, true, evaluations(), progress))
                jac = try jacobian(z, r, lower, upper, names, residuals)
                h = FitMatrix.gram(jac, rows: n, columns: p)
                if decrease <= costTolerance * cost {
                    stop = .costConverged
                    break
                }
            } else {
                lambda *= nu
                nu *= 2
                history.append(report(iteration, cost, lambda, stepNorm, false, evaluations(), progress))
                if lambda > 1e20 {
                    stop = .noProgress
                    break
                }
            }
        }
        return Outcome(z: z, residuals: r, jacobian: jac, cost: cost, initialResiduals: initialResiduals, initialCost: initialCost, iterations: iteration, stop: stop, history: history)
    }

    /// Forward differences, one parallel batch for all columns; a column whose forward point lies
    /// outside the box or cannot be simulated is taken backwards instead.
    private func jacobian(_ z: [Double], _ r: [Double], _ lower: [Double], _ upper: [Double], _ names: [String],
                          _ residuals: Residuals) throws -> [Double] {
        let p = z.count, n = r.count
        var steps = (0..<p).map { i in z[i] + differenceStep <= upper[i] ? differenceStep : -differenceStep }
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
                    throw TetherError("the model cannot be simulated on either side of \(names[i]): \(retry[k].failure ?? results[i].failure ?? "unknown reason")",
                                      hint: "narrow the bounds of \(names[i]) to physical values")
                }
                results[i] = retry[k]
            }
        }
        var jac = [Double](repeating: 0, count: n * p)
        for i in 0..<p {
            let column = results[i].values!
            let inverse = 1 / steps[i]
            for row in 0..<n { jac[row * p + i] = (column[row] - r[row]) * inverse }
        }
        return jac
    }

    private func report(_ iteration: Int, _ cost: Double, _ lambda: Double, _ step: Double, _ accepted: Bool, _ evaluations: Int,
                        _ progress: (FitProgress) -> Void) -> FitProgress {
        let entry = FitProgress(iteration: iteration, cost: cost, lambda: lambda, step: step, accepted: accepted, evaluations: evaluations)
        progress(entry)
        return entry
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }
}

/// One Levenberg–Marquardt iteration, as reported to a progress callback.
public struct FitProgress: Sendable, Codable, Equatable {
    /// 1-based iteration number.
    public var iteration: Int
    /// ½‖r‖² of the normalized residuals after the iteration.
    public var cost: Double
    /// The damping λ for the next iteration.
    public var lambda: Double
    /// Length of the step tried, in scaled units (parameter / scale).
    public var step: Double
    /// Whether the step was taken.
    public var accepted: Bool
    /// Parameter points simulated so far (each over every recording).
    public var evaluations: Int
}
