import Foundation
import TetherNumerics

/// Uncertainty of a trajectory fit at its solution, from the Jacobian of the normalized
/// residuals (in scaled parameters).
///
/// Covariance: σ²(JᵀJ)⁻¹ with σ² estimated per signal — each signal's residuals (one joint's
/// positions, say, in one recording) have their own variance σ_g² = Σr²/n_g · n/(n − p), and
/// the covariance is (Σ_g J_gᵀJ_g / σ_g²)⁻¹, which is σ²(JᵀJ)⁻¹ when all σ_g are equal.
/// Parameters that ended on a bound are held there: they get no interval, and the others'
/// covariance is conditional on them. Inversion is through the eigen-decomposition, with tiny
/// eigenvalues raised to a floor, so a direction the data do not determine shows up as a huge
/// (finite) variance and is reported by name.
struct FitStatistics {
    var standardDeviations: [Double?]
    var bounds: [TrajectoryFitResult.Bound?]
    var identifiable: [Bool?]
    var covariance: [[Double]]
    var correlation: [[Double]]
    var singularValues: [Double]
    var weakDirections: [TrajectoryFitResult.WeakDirection]
    var degreesOfFreedom: Int
    /// Two-sided 95 % quantile of Student's t at the degrees of freedom.
    var tQuantile: Double

    init(parameters: [ResolvedFitParameter], limit: Double, outcome: LevenbergMarquardt.Solution,
         recordings: [PreparedRecording], offsets: [Int]) {
        let p = parameters.count, n = outcome.residuals.count
        let r = outcome.residuals, jac = outcome.jacobian.elements
        let bounds: [TrajectoryFitResult.Bound?] = parameters.indices.map { i in
            let par = parameters[i]
            let z = outcome.z[i], lower = par.lower / par.scale, upper = par.upper / par.scale
            let tolerance = 1e-6 * (upper - lower)
            if z - lower <= tolerance { return .lower }
            if upper - z <= tolerance { return .upper }
            return nil
        }
        self.bounds = bounds
        let free = parameters.indices.filter { bounds[$0] == nil }
        let f = free.count
        degreesOfFreedom = max(1, n - f)
        tQuantile = Distributions.studentTQuantile(0.975, degreesOfFreedom: Double(degreesOfFreedom))

        // Σ_g J_gᵀJ_g / σ_g² over the free columns.
        var h = [Double](repeating: 0, count: f * f)
        let inflation = Double(n) / Double(degreesOfFreedom)
        for (k, rec) in recordings.enumerated() {
            let m = rec.sampleTimes.count
            for s in rec.signals.indices {
                let rows = (offsets[k] + s * m)..<(offsets[k] + (s + 1) * m)
                var sum = 0.0
                for row in rows { sum += r[row] * r[row] }
                let variance = max(sum / Double(max(1, m)) * inflation, 1e-20)
                var g = [Double](repeating: 0, count: f * f)
                for row in rows {
                    for u in 0..<f {
                        let a = jac[row * p + free[u]]
                        if a == 0 { continue }
                        for v in u..<f { g[u * f + v] += a * jac[row * p + free[v]] }
                    }
                }
                for u in 0..<f { for v in u..<f { h[u * f + v] += g[u * f + v] / variance } }
            }
        }
        for u in 0..<f { for v in 0..<u { h[u * f + v] = h[v * f + u] } }

        var normal = DenseMatrix(rows: f, columns: f)
        normal.elements = h
        let eigen = SymmetricEigendecomposition(normal)
        let mu = eigen.values, vectors = eigen.vectors.elements
        let largest = max(mu.first ?? 0, 0)
        let floor = max(largest * 1e-14, 1e-12)
        var c = [Double](repeating: 0, count: f * f)
        for k in 0..<f {
            let w = 1 / max(mu[k], floor)
            for u in 0..<f { for v in 0..<f { c[u * f + v] += vectors[u * f + k] * vectors[v * f + k] * w } }
        }
        singularValues = mu.map { max($0, 0).squareRoot() }

        var sd = [Double?](repeating: nil, count: p), identified = [Bool?](repeating: nil, count: p)
        var cov = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        var corr = cov
        for (u, i) in free.enumerated() {
            let scaledSD = c[u * f + u].squareRoot()
            sd[i] = scaledSD * parameters[i].scale
            identified[i] = scaledSD <= limit
            for (v, j) in free.enumerated() {
                cov[i][j] = c[u * f + v] * parameters[i].scale * parameters[j].scale
                corr[i][j] = c[u * f + v] / (c[u * f + u] * c[v * f + v]).squareRoot()
            }
        }
        standardDeviations = sd
        identifiable = identified
        covariance = cov
        correlation = corr

        var weak: [TrajectoryFitResult.WeakDirection] = []
        for k in 0..<f {
            let directionSD = 1 / max(mu[k], floor).squareRoot()
            guard directionSD > limit || mu[k] <= largest * 1e-12 else { continue }
            let components = (0..<f).map { u in (parameters[free[u]].name, vectors[u * f + k]) }
                .filter { abs($0.1) >= 0.1 }
                .sorted { abs($0.1) > abs($1.1) }
                .map { TrajectoryFitResult.WeakDirection.Component(name: $0.0, weight: $0.1) }
            var text = ""
            for (index, component) in components.enumerated() {
                let magnitude = String(format: "%.2f", abs(component.weight))
                if index == 0 { text = "\(component.weight < 0 ? "−" : "")\(magnitude) \(component.name)" }
                else { text += " \(component.weight < 0 ? "−" : "+") \(magnitude) \(component.name)" }
            }
            weak.append(.init(relativeSingularValue: largest > 0 ? (max(mu[k], 0) / largest).squareRoot() : 0,
                              standardDeviation: directionSD, components: components, text: text))
        }
        weakDirections = weak
    }
}
