// The Cholesky decomposition S = LLᵀ of a symmetric positive definite matrix.
//
// Reference: Golub & Van Loan, "Matrix Computations" (4th ed.), §4.2 (the outer-product-free,
// row-by-row form).
import Foundation

/// The Cholesky factor L (lower triangular, positive diagonal) of a symmetric positive definite
/// matrix, for solving S x = b twice as fast as a general factorization.
public struct CholeskyDecomposition: Sendable {
    /// L, with zeros above the diagonal.
    public let lower: DenseMatrix

    /// Factors `s` (square; only its lower triangle is read); nil when it is not positive
    /// definite to working precision (a pivot that is not positive and finite).
    public init?(_ s: DenseMatrix) {
        precondition(s.rows == s.columns, "Cholesky needs a square matrix")
        let p = s.rows
        var l = [Double](repeating: 0, count: p * p)
        for i in 0..<p {
            for j in 0...i {
                var sum = s.elements[i * p + j]
                for k in 0..<j { sum -= l[i * p + k] * l[j * p + k] }
                if i == j {
                    guard sum > 0, sum.isFinite else { return nil }
                    l[i * p + i] = sum.squareRoot()
                } else {
                    l[i * p + j] = sum / l[j * p + j]
                }
            }
        }
        var factor = DenseMatrix(rows: p, columns: p)
        factor.elements = l
        lower = factor
    }

    /// x with S x = b, by forward substitution with L and back substitution with Lᵀ.
    public func solve(_ b: [Double]) -> [Double] {
        let p = lower.rows
        precondition(b.count == p, "right-hand side has \(b.count) entries for \(p) rows")
        let l = lower.elements
        var y = b
        for i in 0..<p {
            for k in 0..<i { y[i] -= l[i * p + k] * y[k] }
            y[i] /= l[i * p + i]
        }
        for i in stride(from: p - 1, through: 0, by: -1) {
            for k in (i + 1)..<p { y[i] -= l[k * p + i] * y[k] }
            y[i] /= l[i * p + i]
        }
        return y
    }

    /// S⁻¹, column by column.
    public func inverse() -> DenseMatrix {
        let p = lower.rows
        var out = DenseMatrix(rows: p, columns: p)
        for c in 0..<p {
            var e = [Double](repeating: 0, count: p)
            e[c] = 1
            let column = solve(e)
            for r in 0..<p { out[r, c] = column[r] }
        }
        return out
    }
}
