import Foundation

/// A monotonic time source that can wait until an absolute time, in seconds.
///
/// Injected everywhere time matters (the control loop, watchdogs, the virtual robot) so that tests
/// run deterministically and fast: `ManualClock` jumps instead of sleeping.
public protocol ControlClock: AnyObject, Sendable {
    /// Current time, s (arbitrary origin, monotonic).
    func now() -> Double
    /// Blocks until `deadline` (absolute, same origin as `now()`); returns at once if it has passed.
    func sleep(until deadline: Double)
}

/// The operating system's monotonic clock, with absolute-deadline sleeps (no drift).
public final class MonotonicClock: ControlClock {
    public init() {}

    public func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    public func sleep(until deadline: Double) {
        var t = timespec()
        t.tv_sec = Int(deadline.rounded(.down))
        t.tv_nsec = Int((deadline - deadline.rounded(.down)) * 1e9)
        // TIMER_ABSTIME: sleep to an absolute time, so errors never accumulate; EINTR restarts.
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nil) == EINTR {}
    }
}

/// A clock that only moves when told to (or when something sleeps on it): for tests and for
/// running a control loop against a simulation faster than real time.
public final class ManualClock: ControlClock, @unchecked Sendable {
    private let lock = NSLock()
    private var time: Double

    /// Creates a clock at `start` seconds.
    public init(start: Double = 0) { time = start }

    public func now() -> Double {
        lock.lock()
        defer { lock.unlock() }
        return time
    }

    /// Jumps to `deadline` if it is in the future.
    public func sleep(until deadline: Double) {
        lock.lock()
        time = max(time, deadline)
        lock.unlock()
    }

    /// Moves the clock forward by `seconds` (to simulate work that takes time).
    public func advance(by seconds: Double) {
        lock.lock()
        time += max(0, seconds)
        lock.unlock()
    }
}
