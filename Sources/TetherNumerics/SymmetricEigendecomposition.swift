// Eigenvalues and eigenvectors of a small symmetric matrix by cyclic Jacobi rotations.
//
// Reference: Golub & Van Loan, "Matrix Computations" (4th ed.), §8.5 (Jacobi methods).
import Foundation

/// S = V diag(values) Vᵀ for a symmetric S: eigenvalues in descending order and the matching unit
/// eigenvectors as the columns of V. Deterministic and accurate for small matrices.
public struct SymmetricEigendecomposition: Sendable {
    /// The eigenvalues, largest first.
    public let values: [Double]
    /// The eigenvectors as columns (`vectors[i, k]` is component i of vector k), each with its
    /// largest component positive so that results do not flip sign between runs.
    public let vectors: DenseMatrix

    /// Decomposes the symmetric matrix `s`.
    public init(_ s: DenseMatrix) {
        precondition(s.rows == s.columns, "an eigendecomposition needs a square matrix")
        let p = s.rows
        var a = s.elements
        var v = [Double](repeating: 0, count: p * p)
        for i in 0..<p { v[i * p + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0, total = 0.0
            for i in 0..<p {
                for j in 0..<p {
                    total += a[i * p + j] * a[i * p + j]
                    if i != j { off += a[i * p + j] * a[i * p + j] }
                }
            }
            if off <= 1e-30 * total || off == 0 { break }
            for q in 0..<p {
                for r in (q + 1)..<p {
                    let aqr = a[q * p + r]
                    if aqr == 0 { continue }
                    let theta = (a[r * p + r] - a[q * p + q]) / (2 * aqr)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), sn = t * c
                    for k in 0..<p {
                        let akq = a[k * p + q], akr = a[k * p + r]
                        a[k * p + q] = c * akq - sn * akr
                        a[k * p + r] = sn * akq + c * akr
                    }
                    for k in 0..<p {
                        let aqk = a[q * p + k], ark = a[r * p + k]
                        a[q * p + k] = c * aqk - sn * ark
                        a[r * p + k] = sn * aqk + c * ark
                    }
                    for k in 0..<p {
                        let vkq = v[k * p + q], vkr = v[k * p + r]
                        v[k * p + q] = c * vkq - sn * vkr
                        v[k * p + r] = sn * vkq + c * vkr
                    }
                }
            }
        }
        let order = (0..<p).sorted { a[$0 * p + $0] > a[$1 * p + $1] || (a[$0 * p + $0] == a[$1 * p + $1] && $0 < $1) }
        var values = [Double](repeating: 0, count: p)
        var vectors = DenseMatrix(rows: p, columns: p)
        for (k, source) in order.enumerated() {
            values[k] = a[source * p + source]
            var largest = 0
            for i in 0..<p where abs(v[i * p + source]) > abs(v[largest * p + source]) { largest = i }
            let sign: Double = v[largest * p + source] < 0 ? -1 : 1
            for i in 0..<p { vectors[i, k] = sign * v[i * p + source] }
        }
        self.values = values
        self.vectors = vectors
    }
}
