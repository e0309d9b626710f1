import Foundation
import Testing
import TetherNumerics

/// Every distribution function against scipy.stats / scipy.special over a grid with the tails.
@Suite struct DistributionsTests {
    @Test func normalMatchesScipy() throws {
        let xs = [-37.5, -20, -8, -3, -1, -0.25, 0, 0.5, 2, 5, 8]
        let ps = [1e-300, 1e-20, 1e-10, 1e-3, 0.025, 0.3, 0.5, 0.7, 0.975, 0.999, 1 - 1e-12]
        let zs = [0, 0.5, 1.96, 4, 10, 30]
        let calls = xs.map { PeerCall("normal_cdf", $0) } + ps.map { PeerCall("normal_ppf", $0) } + zs.map { PeerCall("normal_two_sided", $0) }
        let r = try scipy(calls)
        for (i, x) in xs.enumerated() {
            #expect(close(Distributions.normalCDF(x), number(r[i]), relative: 1e-12), "Φ(\(x))")
        }
        for (i, p) in ps.enumerated() {
            #expect(close(Distributions.normalQuantile(p), number(r[xs.count + i]), relative: 1e-13, absolute: 1e-15), "Φ⁻¹(\(p))")
        }
        for (i, z) in zs.enumerated() {
            #expect(close(Distributions.normalTwoSidedP(z), number(r[xs.count + ps.count + i]), relative: 1e-12), "2(1 − Φ(\(z)))")
        }
    }

    @Test func studentTMatchesScipy() throws {
        let dfs = [0.5, 1, 2.5, 4, 10, 30, 1e6]
        let ts = [-50.0, -3, -1, 0, 0.5, 2, 10, 100]
        let ps = [1e-10, 1e-3, 0.025, 0.3, 0.5, 0.9, 0.975, 0.9999]
        var calls: [PeerCall] = []
        for df in dfs {
            calls += ts.map { PeerCall("t_cdf", $0, df) } + ts.map { PeerCall("t_two_sided", $0, df) } + ps.map { PeerCall("t_ppf", $0, df) }
        }
        let r = try scipy(calls)
        var k = 0
        for df in dfs {
            // At ν = 10⁶ the continued fraction works next to its slowest point: 1e-9 there.
            let tolerance = df > 1e5 ? 1e-9 : 1e-11
            for t in ts {
                #expect(close(Distributions.studentTCDF(t, degreesOfFreedom: df), number(r[k]), relative: tolerance), "t cdf \(t), \(df)")
                k += 1
            }
            for t in ts {
                #expect(close(Distributions.studentTTwoSidedP(t, degreesOfFreedom: df), number(r[k]), relative: tolerance), "t p \(t), \(df)")
                k += 1
            }
            for p in ps {
                #expect(close(Distributions.studentTQuantile(p, degreesOfFreedom: df), number(r[k]), relative: 1e-10, absolute: 1e-14), "t ppf \(p), \(df)")
                k += 1
            }
        }
    }

    @Test func chiSquaredMatchesScipy() throws {
        let ks = [0.5, 1, 2, 5, 10, 100, 60_000]
        let xs = [0.01, 0.5, 1, 3, 10, 50, 200, 61_000]
        let ps = [1e-10, 0.025, 0.5, 0.975, 1 - 1e-9]
        var calls: [PeerCall] = []
        for k in ks { calls += xs.map { PeerCall("chi2_cdf", $0, k) } + ps.map { PeerCall("chi2_ppf", $0, k) } }
        let r = try scipy(calls)
        var i = 0
        for k in ks {
            for x in xs {
                #expect(close(Distributions.chiSquaredCDF(x, degreesOfFreedom: k), number(r[i]), relative: 1e-11, absolute: 1e-300), "χ² cdf \(x), \(k)")
                i += 1
            }
            for p in ps {
                #expect(close(Distributions.chiSquaredQuantile(p, degreesOfFreedom: k), number(r[i]), relative: 1e-10), "χ² ppf \(p), \(k)")
                i += 1
            }
        }
    }

    @Test func fMatchesScipy() throws {
        let dfs: [(Double, Double)] = [(1, 1), (2, 10), (5, 3.5), (30, 200)]
        let fs = [0.001, 0.5, 1, 4.102821015130399, 20, 1000]
        var calls: [PeerCall] = []
        for (a, b) in dfs { calls += fs.map { PeerCall("f_cdf", $0, a, b) } + fs.map { PeerCall("f_sf", $0, a, b) } }
        let r = try scipy(calls)
        var i = 0
        for (a, b) in dfs {
            for f in fs {
                #expect(close(Distributions.fCDF(f, a, b), number(r[i]), relative: 1e-11), "F cdf \(f), \(a), \(b)")
                i += 1
            }
            for f in fs {
                #expect(close(Distributions.fSurvival(f, a, b), number(r[i]), relative: 1e-11), "F sf \(f), \(a), \(b)")
                i += 1
            }
        }
    }

    @Test func specialFunctionsMatchScipy() throws {
        let betaParameters: [(Double, Double)] = [(0.5, 0.5), (1, 3), (2.5, 0.5), (10, 20), (200, 300)]
        let xs = [0, 1e-5, 0.1, 0.4, 0.5, 0.9, 0.999, 1]
        let gammaParameters = [0.5, 1, 3, 10, 100]
        let gammaXs = [0, 0.1, 1, 5, 20, 150]
        let gammaArguments = [0.1, 0.5, 1, 2.5, 10, 170, 1e5]
        var calls: [PeerCall] = []
        for (a, b) in betaParameters { calls += xs.map { PeerCall("betainc", $0, a, b) } }
        for a in gammaParameters { calls += gammaXs.map { PeerCall("gammainc", a, $0) } + gammaXs.map { PeerCall("gammaincc", a, $0) } }
        calls += gammaArguments.map { PeerCall("gammaln", $0) }
        let betaArguments: [(Double, Double)] = betaParameters + [(0.5, 5e5), (3, 1e4), (12, 9.5), (1e3, 2e6)]
        calls += betaArguments.map { PeerCall("betaln", $0.0, $0.1) }
        let r = try scipy(calls)
        var i = 0
        for (a, b) in betaParameters {
            for x in xs {
                #expect(close(Distributions.regularizedIncompleteBeta(x, a, b), number(r[i]), relative: 1e-11, absolute: 1e-300), "I_\(x)(\(a), \(b))")
                i += 1
            }
        }
        for a in gammaParameters {
            for x in gammaXs {
                #expect(close(Distributions.regularizedLowerGamma(a, x), number(r[i]), relative: 1e-12, absolute: 1e-300), "P(\(a), \(x))")
                i += 1
            }
            for x in gammaXs {
                #expect(close(Distributions.regularizedUpperGamma(a, x), number(r[i]), relative: 1e-11, absolute: 1e-300), "Q(\(a), \(x))")
                i += 1
            }
        }
        for x in gammaArguments {
            #expect(close(Distributions.logGamma(x), number(r[i]), relative: 1e-14, absolute: 1e-15), "ln Γ(\(x))")
            i += 1
        }
        for (a, b) in betaArguments {
            #expect(close(Distributions.logBeta(a, b), number(r[i]), relative: 1e-13, absolute: 1e-14), "ln B(\(a), \(b))")
            i += 1
        }
    }

    /// Tabulated values (moved from the calibration and gap report tests).
    @Test func quantilesMatchTabulatedValues() {
        #expect(abs(Distributions.normalQuantile(0.975) - 1.959963984540054) < 1e-9)
        #expect(abs(Distributions.studentTQuantile(0.975, degreesOfFreedom: 10) - 2.228138851986274) < 1e-9)
        #expect(abs(Distributions.studentTQuantile(0.975, degreesOfFreedom: 1) - 12.70620473617471) < 1e-8)
        #expect(abs(Distributions.studentTQuantile(0.025, degreesOfFreedom: 4) + 2.776445105197793) < 1e-9)
        #expect(abs(Distributions.studentTQuantile(0.975, degreesOfFreedom: 4) - 2.7764451051977934) < 1e-9)
        #expect(abs(Distributions.studentTQuantile(0.975, degreesOfFreedom: 1e6) - 1.959966) < 1e-5)
        #expect(abs(Distributions.chiSquaredQuantile(0.975, degreesOfFreedom: 10) - 20.48317735080739) < 1e-8)
        #expect(abs(Distributions.chiSquaredQuantile(0.025, degreesOfFreedom: 10) - 3.246972780236841) < 1e-9)
        #expect(abs(Distributions.chiSquaredQuantile(0.5, degreesOfFreedom: 2) - 2 * log(2.0)) < 1e-10)
        // F(2, 10) upper 5 % point is 4.102821.
        #expect(abs(Distributions.fSurvival(4.102821015130399, 2, 10) - 0.05) < 1e-9)
        // Large degrees of freedom (Allan deviation of long recordings) stay accurate.
        let q = Distributions.chiSquaredQuantile(0.975, degreesOfFreedom: 60_000)
        #expect(abs(q - (60_000 + 1.959964 * (120_000.0).squareRoot())) < 3)
    }
}
