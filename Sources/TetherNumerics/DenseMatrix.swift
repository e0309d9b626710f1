// A small dense matrix of doubles, stored row by row, with the products least squares needs.
import Foundation

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

    /// AᵀA (p × p for an n × p matrix), exactly symmetric.
    public var gram: DenseMatrix {
        let n = rows, p = columns
        var g = DenseMatrix(rows: p, columns: p)
        for r in 0..<n {
            let row = r * p
            for i in 0..<p {
                let ai = elements[row + i]
                if ai == 0 { continue }
                for j in i..<p { g.elements[i * p + j] += ai * elements[row + j] }
            }
        }
        for i in 0..<p { for j in 0..<i { g.elements[i * p + j] = g.elements[j * p + i] } }
        return g
    }

    /// Aᵀv for a vector with one entry per row.
    public func transposeMultiply(_ v: [Double]) -> [Double] {
        precondition(v.count == rows, "transposed matrix–vector product of \(rows)×\(columns) and \(v.count)")
        var out = [Double](repeating: 0, count: columns)
        for r in 0..<rows {
            let vr = v[r]
            if vr == 0 { continue }
            let row = r * columns
            for i in 0..<columns { out[i] += elements[row + i] * vr }
        }
        return out
    }
}
