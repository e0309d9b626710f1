import Foundation
import Testing
import TetherCore
import TetherNumerics

/// Confidence intervals against scipy (binomtest's Wilson and exact intervals, t.interval).
@Suite struct ConfidenceIntervalTests {
    static let counts: [(Int, Int)] = [(0, 1), (1, 1), (0, 10), (1, 10), (5, 10), (9, 10), (10, 10), (3, 7), (77, 100), (95, 100), (0, 400), (399, 400)]
    static let levels = [0.9, 0.95, 0.99, 0.999]

    @Test func proportionsMatchScipy() throws {
        var calls: [PeerCall] = []
        for (k, n) in Self.counts { for level in Self.levels { calls += [PeerCall("wilson", k, n, level), PeerCall("clopper_pearson", k, n, level)] } }
        let r = try scipy(calls)
        var i = 0
        for (k, n) in Self.counts {
            for level in Self.levels {
                let w = ConfidenceInterval.wilson(successes: k, trials: n, level: level), ws = vector(r[i])
                #expect(close(w.lower, ws[0], absolute: 1e-13) && close(w.upper, ws[1], absolute: 1e-13), "Wilson \(k)/\(n) at \(level): \(w) vs \(ws)")
                let c = ConfidenceInterval.clopperPearson(successes: k, trials: n, level: level), cs = vector(r[i + 1])
                #expect(close(c.lower, cs[0], absolute: 1e-12) && close(c.upper, cs[1], absolute: 1e-12),
                        "Clopper–Pearson \(k)/\(n) at \(level): \(c) vs \(cs)")
                #expect(w.level == level && c.level == level)
                i += 2
            }
        }
    }

    @Test func newcombeMatchesScipyWilsonIntervals() throws {
        let grid: [(Int, Int, Int, Int)] = [(56, 70, 48, 80), (0, 10, 0, 20), (10, 10, 0, 10), (1, 1, 0, 1), (30, 60, 1, 10), (99, 100, 100, 100)]
        var calls: [PeerCall] = []
        for (a, n, b, m) in grid { for level in Self.levels { calls.append(PeerCall("newcombe", a, n, b, m, level)) } }
        let r = try scipy(calls)
        var i = 0
        for (a, n, b, m) in grid {
            for level in Self.levels {
                let ci = ConfidenceInterval.newcombeDifference(successesA: a, trialsA: n, successesB: b, trialsB: m, level: level), s = vector(r[i])
                #expect(close(ci.lower, s[0], absolute: 1e-13) && close(ci.upper, s[1], absolute: 1e-13), "\(a)/\(n) − \(b)/\(m) at \(level)")
                i += 1
            }
        }
    }

    @Test func meanIntervalMatchesScipy() throws {
        let samples: [[Double]] = [[1, 2], [20.1, 22.3, 19.8, 21.5, 23.0, 20.7], (0..<50).map { cos(Double($0) * 0.7) * 3 + 1 }]
        let r = try scipy(samples.flatMap { x in Self.levels.map { PeerCall("t_interval", x, $0) } })
        var i = 0
        for x in samples {
            for level in Self.levels {
                let ci = try #require(ConfidenceInterval.studentT(mean: x, level: level)), s = vector(r[i])
                #expect(close(ci.lower, s[0], relative: 1e-12) && close(ci.upper, s[1], relative: 1e-12), "t interval of \(x.count) at \(level)")
                i += 1
            }
        }
        #expect(ConfidenceInterval.studentT(mean: [1]) == nil)
    }

    @Test func encodesAsTheTwoElementArray() throws {
        let ci = ConfidenceInterval(lower: 0.25, upper: 0.75, level: 0.9)
        #expect(String(decoding: try JSONEncoder().encode(ci), as: UTF8.self) == "[0.25,0.75]")
        let back = try JSONDecoder().decode(ConfidenceInterval.self, from: Data("[0.25,0.75]".utf8))
        #expect(back == ci && back.level == 0.95)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ConfidenceInterval.self, from: Data("[1,2,3]".utf8)) }
    }

    // Moved from the validation and policy tests.

    @Test func clopperPearsonMatchesKnownValues() {
        let ci = ConfidenceInterval.clopperPearson(successes: 5, trials: 10)
        #expect(abs(ci.lower - 0.187086) < 1e-5 && abs(ci.upper - 0.812914) < 1e-5)
        // All successes: the lower bound is (α/2)^(1/n); no successes: the upper is 1 − (α/2)^(1/n).
        let all = ConfidenceInterval.clopperPearson(successes: 20, trials: 20)
        #expect(abs(all.lower - pow(0.025, 1.0 / 20)) < 1e-9 && all.upper == 1)
        let none = ConfidenceInterval.clopperPearson(successes: 0, trials: 20)
        #expect(none.lower == 0 && abs(none.upper - (1 - pow(0.025, 1.0 / 20))) < 1e-9)
    }

    @Test func wilsonIntervalMatchesTheFormula() {
        let ci = ConfidenceInterval.wilson(successes: 95, trials: 100)
        #expect(abs(ci.lower - 0.88824) < 1e-4 && abs(ci.upper - 0.97845) < 1e-4)
        #expect(ConfidenceInterval.wilson(successes: 0, trials: 10).lower == 0)
        #expect(abs(ConfidenceInterval.wilson(successes: 10, trials: 10).upper - 1) < 1e-12)
    }

    /// R. G. Newcombe, Statistics in Medicine 17 (1998) 873–890, Table II, method 10 (hybrid score
    /// interval from the two Wilson intervals), to the 4 decimals printed there.
    @Test func newcombeMatchesPublishedExamples() {
        let cases: [(Int, Int, Int, Int, Double, Double)] = [
            (56, 70, 48, 80, 0.0524, 0.3339), (9, 10, 3, 10, 0.1705, 0.8090), (6, 7, 2, 7, 0.0582, 0.8062),
            (5, 56, 0, 29, -0.0381, 0.1926), (0, 10, 0, 20, -0.1611, 0.2775), (0, 10, 0, 10, -0.2775, 0.2775),
            (10, 10, 0, 20, 0.6791, 1.0000), (10, 10, 0, 10, 0.6075, 1.0000),
        ]
        for (a, n, b, m, low, high) in cases {
            let ci = ConfidenceInterval.newcombeDifference(successesA: a, trialsA: n, successesB: b, trialsB: m)
            #expect(abs(ci.lower - low) < 5e-5 && abs(ci.upper - high) < 5e-5, "\(a)/\(n) − \(b)/\(m): \(ci) vs [\(low), \(high)]")
        }
    }

    /// Coverage by simulation: draw binomial counts at known rates and count how often each
    /// interval holds the true rate.
    @Test func intervalsCoverTheTrueRate() {
        var random = SeededRandom(seed: 42)
        var wilsonTotal = 0.0, cases = 0.0
        for n in [15, 40, 120] {
            let exact = (0...n).map { ConfidenceInterval.clopperPearson(successes: $0, trials: n) }
            for p in [0.5, 0.8, 0.9, 0.97] {
                let draws = 2000
                var cp = 0, wilson = 0
                for _ in 0..<draws {
                    var s = 0
                    for _ in 0..<n where random.uniform() < p { s += 1 }
                    let c = exact[s], w = ConfidenceInterval.wilson(successes: s, trials: n)
                    if c.contains(p) { cp += 1 }
                    if w.contains(p) { wilson += 1 }
                }
                // Clopper–Pearson is conservative: at least 95 % (less 3.5 standard errors of the simulation).
                #expect(Double(cp) / Double(draws) >= 0.95 - 3.5 * (0.05 * 0.95 / Double(draws)).squareRoot(), "n \(n) p \(p)")
                #expect(Double(wilson) / Double(draws) >= 0.88, "n \(n) p \(p)")
                wilsonTotal += Double(wilson) / Double(draws); cases += 1
            }
        }
        // Wilson is close to nominal on average.
        #expect(abs(wilsonTotal / cases - 0.95) < 0.02)
    }
}
