import Foundation
import Testing
import TetherNumerics

/// QR, Cholesky and the symmetric eigendecomposition against numpy.linalg.
@Suite struct LinearAlgebraTests {
    /// A tall, well-conditioned design with a polynomial and a periodic column.
    static let design: DenseMatrix = {
        let x: [Double] = (0..<30).map { (i: Int) -> Double in Double(i) / 10 }
        return DenseMatrix(columns: [x.map { _ in 1.0 }, x, x.map { $0 * $0 }, x.map { sin(10 * $0) }])
    }()
    static let observations: [Double] = (0..<30).map { (i: Int) -> Double in
        let x = Double(i), wave = cos(x * 1.3)
        return 1 + 0.3 * x - 0.02 * x * x + wave
    }

    @Test func qrMatchesNumpy() throws {
        let a = Self.design, b = Self.observations
        let r = try scipy([PeerCall("qr", a.rowArrays, b)])[0]
        let qr = QRDecomposition(a)
        for (x, y) in zip(qr.solve(b), vector(field(r, "solve"))) { #expect(close(x, y, relative: 1e-11)) }
        let inverse = qr.inverseOfNormalMatrix(), reference = matrix(field(r, "inverse_normal"))
        for i in 0..<a.columns { for j in 0..<a.columns { #expect(close(inverse[i, j], reference[i][j], relative: 1e-10, absolute: 1e-14)) } }
        for (j, s) in vector(field(r, "independence")).enumerated() { #expect(close(qr.independence(ofColumn: j), s, relative: 1e-12)) }
        // Qᵀb keeps the norm of b.
        let qtb = qr.applyQTranspose(b)
        #expect(close(qtb.reduce(0) { $0 + $1 * $1 }, b.reduce(0) { $0 + $1 * $1 }, relative: 1e-13))
    }

    @Test func choleskyAndEigenMatchNumpy() throws {
        let s = Self.design.gram
        var shifted = s
        for i in 0..<s.rows { shifted[i, i] += 0.5 }
        let b = [1.0, -2, 0.5, 3]
        let r = try scipy([PeerCall("cholesky", shifted.rowArrays, b), PeerCall("eigen", s.rowArrays)])
        let cholesky = try #require(CholeskyDecomposition(shifted))
        let lower = matrix(field(r[0], "lower")), inverse = matrix(field(r[0], "inverse"))
        let computedInverse = cholesky.inverse()
        for i in 0..<4 {
            for j in 0..<4 {
                #expect(close(cholesky.lower[i, j], lower[i][j], relative: 1e-13, absolute: 1e-14))
                #expect(close(computedInverse[i, j], inverse[i][j], relative: 1e-11, absolute: 1e-15))
            }
        }
        for (x, y) in zip(cholesky.solve(b), vector(field(r[0], "solve"))) { #expect(close(x, y, relative: 1e-11)) }
        #expect(CholeskyDecomposition(DenseMatrix(rows: [[1, 2], [2, 1]])) == nil)

        let eigen = SymmetricEigendecomposition(s)
        let values = vector(field(r[1], "values")), vectors = matrix(field(r[1], "vectors"))
        for k in 0..<4 {
            #expect(close(eigen.values[k], values[k], relative: 1e-11, absolute: 1e-12 * values[0]))
            for i in 0..<4 { #expect(close(eigen.vectors[i, k], vectors[i][k], relative: 1e-8, absolute: 1e-10), "vector \(k)") }
        }
    }

    @Test func productsAgreeWithTheirDefinitions() {
        let a = DenseMatrix(rows: [[1, 2], [3, 4], [5, 6]])
        #expect(a.gram == a.transposed * a)
        #expect(a.transposeMultiply([1, 0, -1]) == a.transposed.multiply([1, 0, -1]))
        #expect(DenseMatrix.identity(2).quadraticForm([3, 4]) == 25)
    }

    /// Moved from the least-squares tests.
    @Test func qrSolvesSquareSystemsExactly() {
        let a = DenseMatrix(rows: [[4, 1, 2], [1, 3, 0], [2, 0, 5]])
        let x = QRDecomposition(a).solve([1, 2, 3])
        let back = a.multiply(x)
        for (u, v) in zip(back, [1.0, 2, 3]) { #expect(abs(u - v) < 1e-12) }
        let inverse = QRDecomposition(a).inverseOfNormalMatrix()
        let product = (a.transposed * a) * inverse
        for i in 0..<3 { for j in 0..<3 { #expect(abs(product[i, j] - (i == j ? 1 : 0)) < 1e-12) } }
    }
}
