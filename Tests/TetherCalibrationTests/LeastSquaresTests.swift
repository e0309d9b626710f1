import Foundation
import Testing
import TetherCore
@testable import TetherCalibration
import TetherNumerics

@Suite struct LeastSquaresTests {
    @Test func linearFitRecoversParametersWithinIntervals() throws {
        var random = SeededRandom(seed: 1)
        let x = (0..<200).map { Double($0) / 20 }
        let truth = [1.5, -0.7, 0.05]
        let y = x.map { truth[0] + truth[1] * $0 + truth[2] * $0 * $0 + random.gaussian(standardDeviation: 0.1) }
        let fit = try LeastSquares.linear(DenseMatrix(columns: [x.map { _ in 1 }, x, x.map { $0 * $0 }]), y,
                                          parameterNames: ["a", "b", "c"], analysis: "test", source: "synthetic")
        for (estimate, value) in zip(fit.parameters, truth) {
            #expect(estimate.contains(value), "\(estimate) misses \(value)")
        }
        #expect(abs(fit.quality.residualStandardDeviation - 0.1) < 0.015)
        #expect((fit.quality.rSquared ?? 0) > 0.9)
        #expect(fit["b"]?.value == fit.parameters[1].value)
        // The covariance is symmetric and its diagonal gives the standard errors.
        #expect(fit.covariance[0][1] == fit.covariance[1][0])
        #expect(abs(fit.covariance[2][2].squareRoot() - fit.parameters[2].standardError) < 1e-15)
    }

    @Test func linearFitRefusesDependentColumnsAndTooFewRows() {
        let x: [Double] = [1, 2, 3, 4, 5]
        expectAnalysisError(source: "a.mcap", mentioning: ["test", "'twice'"]) {
            _ = try LeastSquares.linear(DenseMatrix(columns: [x, x.map { 2 * $0 }]), x, parameterNames: ["once", "twice"], analysis: "test", source: "a.mcap")
        }
        expectAnalysisError(source: "a.mcap", mentioning: ["'zero'", "does not excite"]) {
            _ = try LeastSquares.linear(DenseMatrix(columns: [x, [0, 0, 0, 0, 0]]), x, parameterNames: ["one", "zero"], analysis: "test", source: "a.mcap")
        }
        expectAnalysisError(source: "a.mcap", mentioning: ["2 observations for 2 parameters"]) {
            _ = try LeastSquares.linear(DenseMatrix(columns: [[1, 2], [3, 5]]), [1, 2], parameterNames: ["p", "q"], analysis: "test", source: "a.mcap")
        }
        expectAnalysisError(source: "a.mcap", mentioning: ["'observations'", "not finite"]) {
            _ = try LeastSquares.linear(DenseMatrix(columns: [x]), [1, 2, .nan, 4, 5], parameterNames: ["p"], analysis: "test", source: "a.mcap")
        }
    }

    @Test func weightedFitUsesWeights() throws {
        // Two groups with different noise; exact data gives the exact answer whatever the weights.
        let x = (0..<10).map(Double.init)
        let y = x.map { 2 + 3 * $0 }
        let fit = try LeastSquares.linear(DenseMatrix(columns: [x.map { _ in 1 }, x]), y, parameterNames: ["a", "b"],
                                          weights: x.map { $0 < 5 ? 1 : 100 }, analysis: "test", source: "s")
        #expect(abs(fit.values[0] - 2) < 1e-12 && abs(fit.values[1] - 3) < 1e-12)
    }

    @Test func levenbergMarquardtFitsAnExponentialWithCovariance() throws {
        var random = SeededRandom(seed: 2)
        let t = (0..<300).map { Double($0) * 0.01 }
        let truth = [2.0, 1.3, 0.4]
        let y = t.map { truth[0] * exp(-truth[1] * $0) + truth[2] + random.gaussian(standardDeviation: 0.01) }
        let fit = try LeastSquares.levenbergMarquardt(parameterNames: ["a", "k", "c"], initial: [1, 0.5, 0], analysis: "test", source: "s",
                                                      observations: y) { p in
            zip(t, y).map { p[0] * exp(-p[1] * $0.0) + p[2] - $0.1 }
        }
        for (estimate, value) in zip(fit.parameters, truth) {
            #expect(estimate.contains(value), "\(estimate) misses \(value)")
            #expect(abs(estimate.value - value) < 0.05)
        }
        #expect(fit.iterations < 100)
        #expect((fit.quality.rSquared ?? 0) > 0.999)
        // A linear problem through LM gives the linear answer.
        let line = try LeastSquares.levenbergMarquardt(parameterNames: ["a", "b"], initial: [0, 0], analysis: "test", source: "s") { p in
            zip(t, y).map { p[0] + p[1] * $0.0 - $0.1 }
        }
        let linear = try LeastSquares.linear(DenseMatrix(columns: [t.map { _ in 1 }, t]), y, parameterNames: ["a", "b"], analysis: "test", source: "s")
        #expect(relativelyClose(line.values[1], linear.values[1], 1e-7))
        #expect(relativelyClose(line.parameters[1].standardError, linear.parameters[1].standardError, 1e-5))
    }

    @Test func levenbergMarquardtNamesAnUnidentifiedParameter() {
        let t = (0..<50).map(Double.init)
        // b multiplies nothing: the model does not depend on it.
        expectAnalysisError(source: "s", mentioning: ["'b'"]) {
            _ = try LeastSquares.levenbergMarquardt(parameterNames: ["a", "b"], initial: [1, 1], analysis: "test", source: "s") { p in
                t.map { p[0] * $0 + 0 * p[1] - 2 * $0 }
            }
        }
    }

}
