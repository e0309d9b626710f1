// The Householder QR decomposition, for least squares without forming AᵀA.
//
// Reference: Golub & Van Loan, "Matrix Computations" (4th ed.), §5.1–5.3 (Householder QR and
// least squares).
import Foundation

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
