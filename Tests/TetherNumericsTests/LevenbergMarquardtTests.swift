import Foundation
import Testing
import TetherNumerics

/// The Levenberg–Marquardt solver against scipy.optimize.least_squares ('lm' unbounded, 'trf'
/// with bounds) on small nonlinear problems that the peer evaluates the same way.
@Suite struct LevenbergMarquardtTests {
    static let t: [Double] = (0..<40).map { (i: Int) -> Double in Double(i) / 10 }
    static let y: [Double] = t.map { (x: Double) -> Double in
        let decay: Double = 2.5 * exp(-1.3 * x)
        return decay + 0.4 + 0.01 * sin(7 * x)
    }
    static func decay(_ p: [Double]) -> [Double] {
        zip(t, y).map { (x: Double, observed: Double) -> Double in
            let model: Double = p[0] * exp(-p[1] * x)
            return model + p[2] - observed
        }
    }
    static let circleX: [Double] = (0..<24).map { (i: Int) -> Double in
        let angle = Double(i) * 0.26, wobble = 0.02 * sin(Double(i * 5))
        return 1 + 3 * cos(angle) + wobble
    }
    static let circleY: [Double] = (0..<24).map { (i: Int) -> Double in
        let angle = Double(i) * 0.26, wobble = 0.02 * cos(Double(i * 3))
        return -2 + 3 * sin(angle) + wobble
    }
    static func circle(_ p: [Double]) -> [Double] {
        zip(circleX, circleY).map { (x: Double, y: Double) -> Double in
            let dx = x - p[0], dy = y - p[1]
            return (dx * dx + dy * dy).squareRoot() - p[2]
        }
    }

    @Test func unboundedProblemsMatchScipy() throws {
        let r = try scipy([
            PeerCall("least_squares", "decay", ["t": Self.t, "y": Self.y], [1.0, 0.5, 0.0], NSNull(), NSNull()),
            PeerCall("least_squares", "rosenbrock", [String: Any](), [-1.2, 1.0], NSNull(), NSNull()),
            PeerCall("least_squares", "circle", ["x": Self.circleX, "y": Self.circleY], [0.0, 0.0, 1.0], NSNull(), NSNull()),
        ])
        let lm = LevenbergMarquardt()
        let decay = try lm.minimize(start: [1, 0.5, 0]) { Self.decay($0) }
        let rosenbrock = try lm.minimize(start: [-1.2, 1]) { p in [10 * (p[1] - p[0] * p[0]), 1 - p[0], 0.5 * (p[1] - 1)] }
        // The circle through the batched interface with forward differences.
        var batches = 0
        let forward = LevenbergMarquardt(differences: .forward(step: 1e-7))
        let circle = try forward.minimize(start: [0, 0, 1], batch: { points in
            batches += 1
            return points.map { .init(values: Self.circle($0)) }
        })
        // One batch for the start, one per Jacobian (after each accepted step) and one per trial step.
        #expect(batches <= circle.history.count * 2 + 2)
        for (solution, reference) in zip([decay, rosenbrock, circle], r) {
            #expect(solution.stop.converged, "stopped: \(solution.stop.rawValue)")
            for (x, s) in zip(solution.z, vector(field(reference, "x"))) { #expect(close(x, s, relative: 1e-6, absolute: 1e-9), "\(solution.z)") }
            #expect(close(solution.cost, number(field(reference, "cost")), relative: 1e-8, absolute: 1e-20))
        }
        #expect(decay.jacobian.rows == Self.t.count && decay.jacobian.columns == 3)
    }

    @Test func anActiveBoundMatchesScipy() throws {
        // The decay rate is held below its unconstrained optimum (1.3): the bound is active.
        let lower = [0.0, 0.0, -1.0], upper = [10.0, 1.0, 1.0]
        let r = try scipy([PeerCall("least_squares", "decay", ["t": Self.t, "y": Self.y], [1.0, 0.5, 0.0], lower, upper)])[0]
        let lm = LevenbergMarquardt(differences: .forward(step: 1e-8))
        var reported = 0
        let solution = try lm.minimize(start: [1, 0.5, 0], lower: lower, upper: upper,
                                       batch: { $0.map { .init(values: Self.decay($0)) } }, progress: { _ in reported += 1 })
        #expect(solution.stop.converged, "stopped: \(solution.stop.rawValue)")
        #expect(solution.z[1] == 1 && vector(field(r, "active"))[1] == 1)
        for (x, s) in zip(solution.z, vector(field(r, "x"))) { #expect(close(x, s, relative: 1e-6), "\(solution.z)") }
        #expect(close(solution.cost, number(field(r, "cost")), relative: 1e-8))
        #expect(reported == solution.history.count && reported >= solution.iterations)
    }

    /// A straight line through the decay data, with a poor fit (large cost): with the final
    /// Gauss–Newton step the solver lands on the QR least-squares solution, without it within
    /// √(costTolerance · cost) of it in the weakest direction.
    @Test func aFinalGaussNewtonStepLandsOnTheMinimum() throws {
        let line = { (p: [Double]) -> [Double] in zip(Self.t, Self.y).map { p[0] + p[1] * $0.0 - $0.1 } }
        let exact = QRDecomposition(DenseMatrix(columns: [Self.t.map { _ in 1 }, Self.t])).solve(Self.y)
        let finished = try LevenbergMarquardt(finishesWithGaussNewtonStep: true).minimize(start: [0, 0], residuals: line)
        for (x, e) in zip(finished.z, exact) { #expect(close(x, e, relative: 1e-10)) }
        let plain = try LevenbergMarquardt().minimize(start: [0, 0], residuals: line)
        #expect(plain.cost >= finished.cost && close(plain.cost, finished.cost, relative: 1e-11))
    }

    @Test func failuresAreReported() {
        let lm = LevenbergMarquardt()
        #expect(throws: LevenbergMarquardt.Failure.tooFewResiduals(residuals: 1, parameters: 2)) { try lm.minimize(start: [1, 2]) { _ in [0] } }
        #expect(throws: LevenbergMarquardt.Failure.self) { try lm.minimize(start: [1]) { _ in nil } }
        let capped = LevenbergMarquardt(maximumIterations: 1)
        let short = try? capped.minimize(start: [-1.2, 1]) { p in [10 * (p[1] - p[0] * p[0]), 1 - p[0], 0.5 * (p[1] - 1)] }
        #expect(short?.stop == .maxIterations && short?.stop.converged == false)
    }
}
