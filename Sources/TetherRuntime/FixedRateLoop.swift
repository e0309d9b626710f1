import Histogram
import TetherCore

/// A control loop scheduled on absolute deadlines: tick k is due at `t0 + k / rate`, so timing
/// errors never accumulate (no drift). It measures every tick and counts deadline misses.
///
/// A tick that starts later than `lateBound` after its deadline is a miss. When a tick overruns
/// so far that whole periods passed, those deadlines are skipped (counted) rather than run back
/// to back, and the next tick counts as a miss too. What to do about misses is the caller's policy: each `Tick` carries
/// its lateness and the number of consecutive misses, and the deployment holds the last command,
/// then stops after `maxConsecutiveMisses`.
public final class FixedRateLoop {
    /// Loop settings.
    public struct Configuration: Sendable {
        /// Tick rate, Hz.
        public var rateHz: Double
        /// A tick starting later than this after its deadline is a miss, s.
        public var lateBound: Double
        /// Consecutive misses after which the deployment stops.
        public var maxConsecutiveMisses: Int
        /// Creates a configuration; the late bound defaults to half a period.
        public init(rateHz: Double, lateBound: Double? = nil, maxConsecutiveMisses: Int = 5) {
            precondition(rateHz > 0 && rateHz.isFinite, "the loop rate must be positive")
            self.rateHz = rateHz
            self.lateBound = lateBound ?? 0.5 / rateHz
            self.maxConsecutiveMisses = maxConsecutiveMisses
        }
        /// The period, s.
        public var period: Double { 1 / rateHz }
    }

    /// What the loop tells each tick.
    public struct Tick: Sendable {
        /// Tick index from 0.
        public var index: Int
        /// When it was due, s on the loop's clock.
        public var deadline: Double
        /// When it started.
        public var start: Double
        /// start − deadline, s.
        public var lateness: Double { start - deadline }
        /// Whether this tick is a deadline miss.
        public var missed: Bool
        /// Misses in a row, including this one.
        public var consecutiveMisses: Int
    }

    /// What a tick reports back: when it read the state and wrote the command (nil if it did not).
    public struct TickTiming: Sendable {
        public var readAt: Double?
        public var wroteAt: Double?
        public init(readAt: Double?, wroteAt: Double?) {
            self.readAt = readAt
            self.wroteAt = wroteAt
        }
    }

    public let configuration: Configuration
    public let clock: ControlClock
    /// Measurements so far.
    public private(set) var statistics = LoopStatistics()

    /// Creates a loop on `clock`.
    public init(configuration: Configuration, clock: ControlClock) {
        self.configuration = configuration
        self.clock = clock
    }

    /// Runs ticks until `tick` returns false (or throws, which ends the loop and rethrows).
    public func run(_ tick: (Tick) throws -> (continue: Bool, timing: TickTiming)) rethrows {
        let period = configuration.period
        let t0 = clock.now()
        var k = 0
        var consecutive = 0
        var overran = false
        while true {
            let deadline = t0 + Double(k) * period
            clock.sleep(until: deadline)
            let start = clock.now()
            // A miss: this tick started late, or the previous one overran whole periods.
            let missed = start - deadline > configuration.lateBound || overran
            consecutive = missed ? consecutive + 1 : 0
            let info = Tick(index: k, deadline: deadline, start: start, missed: missed, consecutiveMisses: consecutive)
            let (keepGoing, timing) = try tick(info)
            let end = clock.now()
            statistics.record(tick: info, end: end, timing: timing)
            if !keepGoing { break }
            // Next deadline; skip the ones already entirely in the past (counted as misses).
            var next = k + 1
            let behind = Int(((end - t0) / period).rounded(.down))
            overran = behind > next
            if overran {
                statistics.skippedDeadlines += behind - next
                next = behind
            }
            k = next
        }
    }
}

/// Per-tick measurements in HDR histograms (nanoseconds), and counters.
public struct LoopStatistics: Sendable {
    /// Ticks run.
    public var ticks = 0
    /// Ticks that started later than the bound.
    public var deadlineMisses = 0
    /// Deadlines skipped entirely because a tick overran by whole periods.
    public var skippedDeadlines = 0
    /// Longest run of consecutive misses.
    public var longestMissRun = 0
    /// Tick start to tick end.
    public var compute = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    /// State read to command write.
    public var readToWrite = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    /// Tick start minus its deadline.
    public var jitter = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private var firstStart: Double?
    private var lastStart: Double?

    public init() {}

    mutating func record(tick: FixedRateLoop.Tick, end: Double, timing: FixedRateLoop.TickTiming) {
        ticks += 1
        if tick.missed { deadlineMisses += 1 }
        longestMissRun = max(longestMissRun, tick.consecutiveMisses)
        _ = compute.record(Self.nanoseconds(end - tick.start))
        _ = jitter.record(Self.nanoseconds(tick.lateness))
        if let r = timing.readAt, let w = timing.wroteAt { _ = readToWrite.record(Self.nanoseconds(w - r)) }
        if firstStart == nil { firstStart = tick.start }
        lastStart = tick.start
    }

    static func nanoseconds(_ seconds: Double) -> UInt64 {
        UInt64(max(0, min(59.0, seconds)) * 1e9)
    }

    /// Achieved tick rate, Hz.
    public var achievedRate: Double {
        guard let a = firstStart, let b = lastStart, b > a, ticks > 1 else { return 0 }
        return Double(ticks - 1) / (b - a)
    }

    /// A printable, encodable summary (microseconds).
    public var summary: LoopSummary {
        func stats(_ h: Histogram<UInt64>) -> LoopSummary.Distribution {
            .init(p50: Double(h.valueAtPercentile(50)) / 1000, p99: Double(h.valueAtPercentile(99)) / 1000,
                  p999: Double(h.valueAtPercentile(99.9)) / 1000, max: Double(h.max) / 1000)
        }
        return LoopSummary(ticks: ticks, achievedRateHz: achievedRate, deadlineMisses: deadlineMisses,
                           skippedDeadlines: skippedDeadlines, longestMissRun: longestMissRun,
                           computeMicroseconds: stats(compute), readToWriteMicroseconds: stats(readToWrite),
                           jitterMicroseconds: stats(jitter))
    }
}

/// Loop measurements for reports and JSON.
public struct LoopSummary: Sendable, Codable, Equatable {
    /// Percentiles of one measurement, µs.
    public struct Distribution: Sendable, Codable, Equatable {
        public var p50: Double
        public var p99: Double
        public var p999: Double
        public var max: Double

        /// A distribution from its percentiles, µs.
        public init(p50: Double, p99: Double, p999: Double, max: Double) {
            self.p50 = p50
            self.p99 = p99
            self.p999 = p999
            self.max = max
        }
    }
    public var ticks: Int
    public var achievedRateHz: Double
    public var deadlineMisses: Int
    public var skippedDeadlines: Int
    public var longestMissRun: Int
    public var computeMicroseconds: Distribution
    public var readToWriteMicroseconds: Distribution
    public var jitterMicroseconds: Distribution
}
