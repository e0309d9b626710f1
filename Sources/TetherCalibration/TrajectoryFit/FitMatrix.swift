import Foundation

/// The few dense linear-algebra operations trajectory fitting needs, on small symmetric matrices
/// (one row and column per fitted parameter) stored row-major in flat arrays.
///
/// Small and exact rather than fast: the matrices are at most a few tens of rows, while each
/// Jacobian column costs a full simulation of every recording.
enum FitMatrix {
    /// AᵀA of an n×p row-major matrix, p×p.
    static func gram(_ a: [Double], rows n: Int, columns p: Int) -> [Double] {
        var g = [Double](repeating: 0, count: p * p)
        for r in 0..<n {
            let row = r * p
            for i in 0..<p {
                let ai = a[row + i]
                if ai == 0 { continue }
                for j in i..<p { g[i * p + j] += ai * a[row + j] }
            }
        }
        for i in 0..<p { for j in 0..<i { g[i * p + j] = g[j * p + i] } }
        return g
    }

    /// Aᵀv of an n×p row-major matrix and an n-vector.
    static func transposeTimes(_ a: [Double], rows n: Int, columns p: Int, _ v: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: p)
        for r in 0..<n {
            let vr = v[r]
            if vr == 0 { continue }
            let row = r * p
            for i in 0..<p { out[i] += a[row + i] * vr }
        }
        return out
    }

    /// Solves S x = b for a symmetric positive definite S (Cholesky); nil when S is not positive
    /// definite to working precision.
    static func solveSPD(_ s: [Double], _ b: [Double]) -> [Double]? {
        let p = b.count
        var l = [Double](repeating: 0, count: p * p)
        for i in 0..<p {
            for j in 0...i {
                var sum = s[i * p + j]
                for k in 0..<j { sum -= l[i * p + k] * l[j * p + k] }
                if i == j {
                    guard sum > 0, sum.isFinite else { return nil }
                    l[i * p + i] = sum.squareRoot()
                } else {
                    l[i * p + j] = sum / l[j * p + j]
                }
            }
        }
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

    /// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: eigenvalues in
    /// descending order and the matching unit eigenvectors as columns (`vectors[i * p + k]` is
    /// component i of vector k). Deterministic and accurate for small matrices.
    static func symmetricEigen(_ s: [Double], size p: Int) -> (values: [Double], vectors: [Double]) {
        var a = s
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
        var values = [Double](repeating: 0, count: p), vectors = [Double](repeating: 0, count: p * p)
        for (k, source) in order.enumerated() {
            values[k] = a[source * p + source]
            // A fixed sign (largest component positive) so that reports do not flip between runs.
            var largest = 0
            for i in 0..<p where abs(v[i * p + source]) > abs(v[largest * p + source]) { largest = i }
            let sign: Double = v[largest * p + source] < 0 ? -1 : 1
            for i in 0..<p { vectors[i * p + k] = sign * v[i * p + source] }
        }
        return (values, vectors)
    }

    /// Upper 1 − α/2 quantile of Student's t with ν degrees of freedom (Cornish–Fisher expansion
    /// around the normal quantile; within 1e-3 of the exact value for ν ≥ 5).
    static func studentQuantile975(degreesOfFreedom nu: Int) -> Double {
        let z = 1.959963984540054
        let n = Double(max(1, nu))
        let z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, z9 = z7 * z * z
        return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * n * n * n)
            + (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * n * n * n * n)
    }
}
