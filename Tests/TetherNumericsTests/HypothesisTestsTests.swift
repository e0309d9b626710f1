import Foundation
import Testing
import TetherNumerics

/// Fisher, two-proportion z, Welch and Mann–Whitney against scipy.stats.
@Suite struct HypothesisTestsTests {
    @Test func proportionTestsMatchScipy() throws {
        let tables: [(Int, Int, Int, Int)] = [(3, 1, 1, 3), (19, 1, 15, 5), (10, 0, 6, 4), (0, 10, 10, 0), (1, 9, 1, 9), (45, 55, 30, 70),
                                              (100, 0, 93, 7), (2, 2, 8, 0)]
        var calls: [PeerCall] = tables.map { PeerCall("fisher_exact", $0.0, $0.1, $0.2, $0.3) }
        let proportions = tables.filter { ($0.0 + $0.2) > 0 && ($0.1 + $0.3) > 0 }
        calls += proportions.map { PeerCall("two_proportion", $0.0, $0.0 + $0.1, $0.2, $0.2 + $0.3) }
        let r = try scipy(calls)
        for (i, t) in tables.enumerated() {
            #expect(close(HypothesisTests.fisherExact(t.0, t.1, t.2, t.3), number(r[i]), relative: 1e-10), "Fisher \(t)")
        }
        for (i, t) in proportions.enumerated() {
            let z = try #require(HypothesisTests.twoProportion(successesA: t.0, trialsA: t.0 + t.1, successesB: t.2, trialsB: t.2 + t.3))
            let s = r[tables.count + i]
            #expect(close(z.z, number(field(s, "z")), relative: 1e-12) && close(z.p, number(field(s, "p")), relative: 1e-10), "z test \(t)")
        }
    }

    @Test func sampleTestsMatchScipy() throws {
        let pairs: [([Double], [Double])] = [
            ([20.1, 22.3, 19.8, 21.5, 23.0, 20.7], [18.2, 17.9, 19.5, 18.8, 17.1, 19.9, 18.4, 16.8]),
            ([1, 2, 2, 3, 3, 3, 4], [2, 3, 4, 4, 5, 5]),
            ((0..<40).map { sin(Double($0)) }, (0..<25).map { cos(Double($0)) * 2 + 0.3 }),
            ([1, 1, 1, 2], [1, 1, 5, 9, 9]),
        ]
        let r = try scipy(pairs.flatMap { [PeerCall("welch", $0.0, $0.1), PeerCall("mann_whitney", $0.0, $0.1)] })
        for (i, (a, b)) in pairs.enumerated() {
            let w = try #require(HypothesisTests.welch(a, b)), sw = r[2 * i]
            #expect(close(w.t, number(field(sw, "t")), relative: 1e-12) && close(w.df, number(field(sw, "df")), relative: 1e-12)
                    && close(w.p, number(field(sw, "p")), relative: 1e-10), "Welch \(i)")
            let m = try #require(HypothesisTests.mannWhitney(a, b)), sm = r[2 * i + 1]
            #expect(m.u == number(field(sm, "u")) && close(m.p, number(field(sm, "p")), relative: 1e-12), "Mann–Whitney \(i)")
        }
    }

    // Moved from the gap report tests.

    @Test func fisherExactMatchesTextbookValues() {
        // Fisher's tea-tasting table: two-sided p = 34/70.
        #expect(abs(HypothesisTests.fisherExact(3, 1, 1, 3) - 34.0 / 70.0) < 1e-12)
        // Values from scipy.stats.fisher_exact.
        #expect(abs(HypothesisTests.fisherExact(19, 1, 15, 5) - 0.18176418176418174) < 1e-10)
        #expect(abs(HypothesisTests.fisherExact(10, 0, 6, 4) - 0.08668730650154799) < 1e-10)
        #expect(HypothesisTests.fisherExact(5, 0, 5, 0) == 1)
    }

    @Test func welchMatchesReferenceValues() throws {
        let a = [20.1, 22.3, 19.8, 21.5, 23.0, 20.7], b = [18.2, 17.9, 19.5, 18.8, 17.1, 19.9, 18.4, 16.8]
        let r = try #require(HypothesisTests.welch(a, b))
        // scipy.stats.ttest_ind(a, b, equal_var=False)
        #expect(abs(r.t - 4.541932686922025) < 1e-9)
        #expect(abs(r.df - 9.856440714023082) < 1e-9)
        #expect(abs(r.p - 0.0011117199808369108) < 1e-9)
    }

    @Test func mannWhitneyMatchesReferenceValues() throws {
        // scipy.stats.mannwhitneyu(x, y, method="asymptotic"): U of x, two-sided p.
        let a = [20.1, 22.3, 19.8, 21.5, 23.0, 20.7], b = [18.2, 17.9, 19.5, 18.8, 17.1, 19.9, 18.4, 16.8]
        let r = try #require(HypothesisTests.mannWhitney(b, a))
        #expect(r.u == 1)
        #expect(abs(r.p - 0.003675612117741231) < 1e-12)
        // With ties.
        let t = try #require(HypothesisTests.mannWhitney([1, 2, 2, 3, 3, 3, 4], [2, 3, 4, 4, 5, 5]))
        #expect(t.u == 8.5)
        #expect(abs(t.p - 0.07826242947714618) < 1e-12)
    }

    @Test func twoProportionMatchesChiSquare() throws {
        // The chapter's 95 % → 75 %, 100 trials each: z² is Pearson's χ² without correction.
        let r = try #require(HypothesisTests.twoProportion(successesA: 95, trialsA: 100, successesB: 75, trialsB: 100))
        #expect(abs(r.z - 3.9605901719066976) < 1e-9)
        #expect(abs(r.p - 7.47647534673256e-05) < 1e-9)
        let s = try #require(HypothesisTests.twoProportion(successesA: 19, trialsA: 20, successesB: 15, trialsB: 20))
        #expect(abs(s.p - 0.07652250047505939) < 1e-9)
        #expect(HypothesisTests.twoProportion(successesA: 0, trialsA: 0, successesB: 1, trialsB: 2) == nil)
    }

    @Test func degenerateSamplesHaveNoTest() {
        #expect(HypothesisTests.welch([1], [2, 3]) == nil)
        #expect(HypothesisTests.welch([1, 1], [2, 2]) == nil)
        #expect(HypothesisTests.mannWhitney([], [1]) == nil)
        #expect(HypothesisTests.mannWhitney([1, 1], [1]) == nil)
    }
}
