import Foundation
import Testing
@testable import TetherBench

/// Reading ddsperf's output (its format as Cyclone DDS 0.10 prints it).
@Suite struct DDSPerfTests {
    /// ddsperf prints half the round trip; the best line with enough round trips is kept, doubled.
    @Test func roundTripLinesAreReadAsWholeRoundTrips() throws {
        let text = """
        [8169] 1.000  rss:7.4MB vcsw:261 ivcsw:33 ddsperf:1%+0%
        [8169] 2.000  vm:8168 size 300 mean 42.2us min 37.3us 50% 41.7us 90% 44.5us 99% 58.9us max 58.9us cnt 99
        [8169] 3.000  vm:8168 size 300 mean 40.0us min 30.3us 50% 39.5us 90% 44.5us 99% 61.0us max 70.9us cnt 120
        [8169] 4.000  vm:8168 size 300 mean 5.0us min 3.0us 50% 4.0us 90% 4.5us 99% 6.0us max 7.0us cnt 3
        [8169] 5.000  vm:8168 size 921644 mean 1.1ms min 0.9ms 50% 1.2ms 90% 1.3ms 99% 1.5ms max 2.0ms cnt 400
        """
        let best = try #require(DDSPerf.parseRoundTrip(text))
        #expect(best.median == 79 && best.p99 == 122)
        #expect(DDSPerf.microseconds("1.2ms") == 1200 && DDSPerf.microseconds("900ns") == 0.9)
        #expect(DDSPerf.parseRoundTrip("[1] participant vm:1: new (self)\n") == nil)
    }

    /// Throughput is the median of the subscriber's full seconds: not the partial first and last.
    @Test func throughputIsTheMedianOfFullSeconds() {
        let text = """
        [8133] participant vm:8143: new
        [8133] 1.000  size 1024 total 139 lost 0 delta 139 lost 0 rate 0.14 kS/s 1.14 Mb/s (0.01 kS/s 0.11 Mb/s)
        [8133] 2.000  size 1024 total 339 lost 0 delta 200 lost 0 rate 0.20 kS/s 1.64 Mb/s (0.03 kS/s 0.28 Mb/s)
        [8133] 3.000  size 1024 total 549 lost 0 delta 210 lost 0 rate 0.21 kS/s 1.63 Mb/s (0.05 kS/s 0.44 Mb/s)
        [8133] 3.000  rss:7.2MB vcsw:242 ivcsw:42 recvUC:1%+0%
        [8133] 4.000  size 1024 total 739 lost 0 delta 190 lost 0 rate 0.19 kS/s 1.63 Mb/s (0.05 kS/s 0.44 Mb/s)
        [8133] 5.000  size 1024 total 800 lost 0 delta 61 lost 0 rate 0.06 kS/s 0.51 Mb/s (0.06 kS/s 0.49 Mb/s)
        [8133] 6.000  size 1024 total 800 lost 0 delta 0 lost 0 rate 0.00 kS/s 0.00 Mb/s (0.06 kS/s 0.49 Mb/s)
        """
        #expect(DDSPerf.parseThroughput(text) == 200)
        #expect(DDSPerf.medianOfFullWindows([0, 5, 7]) == nil)
        #expect(DDSPerf.medianOfFullWindows([0, 5, 7, 9, 8, 1, 0]) == 8)
    }

    /// Output that is not recognised is quoted in the note, with the exit status.
    @Test func unreadableOutputIsQuoted() {
        let note = DDSPerf.unreadable("ping", "line one\nddsperf: unknown option\n", status: 3, expected: "a latency line")
        #expect(note.contains("exit status 3") && note.contains("ddsperf: unknown option") && note.contains("a latency line"))
        #expect(DDSPerf.unreadable("sub", "", status: 1, expected: "x").contains("printed nothing"))
    }
}
