import Foundation
import Testing
import TetherNumerics

/// Sample statistics against numpy (mean, var and std with ddof = 1, median, quantile).
@Suite struct SampleStatisticsTests {
    @Test func matchNumpy() throws {
        let samples: [[Double]] = [[3], [1, 2], [5, -1, 2.5, 7, 0.25], [0.1, 0.2, 0.2, 0.9, 1e3, -4, 6, 6], (0..<101).map { sin(Double($0)) }]
        let qs = [0, 0.1, 0.25, 0.5, 0.9, 0.99, 1]
        var calls: [PeerCall] = []
        for x in samples {
            calls += [PeerCall("mean", x), PeerCall("median", x)] + qs.map { PeerCall("quantile", x, $0) }
            if x.count > 1 { calls += [PeerCall("variance", x), PeerCall("std", x)] }
        }
        let r = try scipy(calls)
        var i = 0
        for x in samples {
            #expect(close(SampleStatistics.mean(x), number(r[i]), relative: 1e-14, absolute: 1e-16)); i += 1
            #expect(close(SampleStatistics.median(x), number(r[i]), relative: 1e-15)); i += 1
            for q in qs {
                #expect(close(SampleStatistics.quantile(x, q), number(r[i]), relative: 1e-14), "quantile \(q) of \(x.count)")
                #expect(SampleStatistics.percentile(x, 100 * q) == SampleStatistics.quantile(x, q))
                i += 1
            }
            if x.count > 1 {
                #expect(close(SampleStatistics.variance(x), number(r[i]), relative: 1e-13)); i += 1
                #expect(close(SampleStatistics.standardDeviation(x), number(r[i]), relative: 1e-13)); i += 1
            }
        }
        #expect(SampleStatistics.variance([4]) == 0 && SampleStatistics.mean([Double]()) == 0 && SampleStatistics.median([]) == 0)
        #expect(close(SampleStatistics.medianInterval([0, 0.01, 0.02, 0.04, 0.05]), 0.01, relative: 1e-14))
    }
}
