import Foundation
import TetherCore

/// What a control loop asks of the operating system's scheduler for the thread that runs it.
///
/// On a stock Linux kernel a loop thread at normal priority shares its core with everything
/// else, and a busy moment delays a tick by hundreds of microseconds. `SCHED_FIFO` puts the
/// thread ahead of every normal thread; pinning it to a core keeps the cache warm and the
/// migrations away (isolate that core with `isolcpus=` / `nohz_full=` for the best result); locking
/// memory keeps page faults out of the tick. Each needs a privilege (root, `CAP_SYS_NICE` /
/// `CAP_IPC_LOCK`, or `rtprio` / `memlock` in /etc/security/limits.conf): without it the request
/// is reported as not granted and the loop runs at normal priority, unless `required`.
public struct RealTimeRequest: Sendable, Codable, Equatable {
    /// SCHED_FIFO priority, 1…99 (the kernel's threaded interrupts run at 50; 80 is above them, below the watchdogs at 99).
    public var priority: Int32
    /// The core to pin the loop thread to (nil: leave the affinity as it is).
    public var cpu: Int?
    /// Lock the process's memory (current and future pages) so ticks take no page faults.
    public var lockMemory: Bool
    /// Fail instead of running at normal priority when a part is not granted.
    public var required: Bool

    public init(priority: Int32 = 80, cpu: Int? = nil, lockMemory: Bool = true, required: Bool = false) {
        self.priority = priority; self.cpu = cpu; self.lockMemory = lockMemory; self.required = required
    }
}

/// What the scheduler granted.
public struct RealTimeStatus: Sendable, Codable, Equatable {
    /// The loop thread runs under SCHED_FIFO at `priority`.
    public var fifo: Bool
    public var priority: Int32?
    /// The core the thread is pinned to, if it is.
    public var pinnedCPU: Int?
    /// Memory is locked.
    public var memoryLocked: Bool
    /// Each part that was not granted, with why and what to do.
    public var notes: [String]

    /// Whether everything asked for was granted.
    public var granted: Bool { notes.isEmpty }

    /// One line of what was granted: "SCHED_FIFO priority 80, pinned to core 3, memory locked".
    public var summary: String {
        (fifo ? "SCHED_FIFO priority \(priority ?? 0)" : "normal priority") + (pinnedCPU.map { ", pinned to core \($0)" } ?? "")
            + (memoryLocked ? ", memory locked" : "")
    }
}

public enum RealTime {
    /// Applies `request` to the calling thread (the loop's thread: call it on that thread, before
    /// the loop starts). Parts that are refused are reported in `notes`.
    /// - Throws: when `request.required` and a part was refused, or the request is invalid.
    public static func apply(_ request: RealTimeRequest) throws -> RealTimeStatus {
        guard (1...99).contains(request.priority) else {
            throw TetherError("SCHED_FIFO priority \(request.priority) is outside 1…99", at: "--realtime-priority", hint: "80 is a usual choice for a control loop")
        }
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        if let cpu = request.cpu, cpu < 0 || cpu >= cores {
            throw TetherError("core \(cpu) does not exist: this machine has cores 0…\(cores - 1)", at: "--realtime-cpu")
        }
        var status = RealTimeStatus(fifo: false, priority: nil, pinnedCPU: nil, memoryLocked: false, notes: [])
        func refused(_ what: String, _ code: Int32, fix: String) {
            status.notes.append("\(what) not granted (\(String(cString: strerror(code)))): \(fix)")
        }
        var param = sched_param()
        param.sched_priority = request.priority
        let rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param)
        if rc == 0 {
            status.fifo = true
            status.priority = request.priority
        } else {
            refused("SCHED_FIFO priority \(request.priority)", rc, fix: rc == EPERM
                ? "run as root, give the binary CAP_SYS_NICE (sudo setcap cap_sys_nice+ep $(which tether)), or allow your user an rtprio of "
                    + "\(request.priority) in /etc/security/limits.conf and log in again"
                : "check the priority")
        }
        if let cpu = request.cpu {
            var set = [UInt8](repeating: 0, count: cpuSetBytes)
            set[cpu / 8] |= UInt8(1 << (cpu % 8))
            if setAffinity(set) == 0 {
                status.pinnedCPU = cpu
            } else {
                let code = errno
                refused("pinning to core \(cpu)", code, fix: "the core may be outside this process's cpuset (see taskset -p \(getpid()))")
            }
        }
        if request.lockMemory {
            if mlockall(Int32(MCL_CURRENT | MCL_FUTURE)) == 0 {
                status.memoryLocked = true
            } else {
                let code = errno
                refused("locking memory", code, fix: "run as root, give the binary CAP_IPC_LOCK, or raise memlock in /etc/security/limits.conf "
                    + "(ulimit -l shows the limit)")
            }
        }
        if request.required, !status.granted {
            throw TetherError("real-time scheduling was required but not granted: \(status.notes.joined(separator: "; "))",
                              hint: "grant the privileges above, or drop --realtime-required to run at normal priority")
        }
        return status
    }

    /// glibc's cpu_set_t size (1024 CPUs).
    static let cpuSetBytes = 128

    private typealias AffinityCall = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32

    /// `sched_setaffinity(0, …)` for the calling thread. glibc declares it only under _GNU_SOURCE,
    /// which Swift's Glibc module does not define, so it is looked up by name.
    static func setAffinity(_ bytes: [UInt8]) -> Int32 {
        affinityCall("sched_setaffinity", bytes).rc
    }

    /// `sched_getaffinity(0, …)` for the calling thread: the mask's bytes, nil on failure.
    static func affinity() -> [UInt8]? {
        let (rc, bytes) = affinityCall("sched_getaffinity", [UInt8](repeating: 0, count: cpuSetBytes))
        return rc == 0 ? bytes : nil
    }

    private static func affinityCall(_ name: String, _ mask: [UInt8]) -> (rc: Int32, mask: [UInt8]) {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {  // RTLD_DEFAULT
            errno = ENOSYS
            return (-1, mask)
        }
        let call = unsafeBitCast(symbol, to: AffinityCall.self)
        var bytes = mask
        let rc = bytes.withUnsafeMutableBytes { call(0, cpuSetBytes, $0.baseAddress) }
        return (rc, bytes)
    }

    /// Puts the calling thread back to normal scheduling and unlocks memory (after a loop that
    /// ran real-time, so the thread's later work does not keep its priority).
    public static func release(_ status: RealTimeStatus) {
        if status.fifo {
            var param = sched_param()
            param.sched_priority = 0
            _ = pthread_setschedparam(pthread_self(), SCHED_OTHER, &param)
        }
        if status.memoryLocked { _ = munlockall() }
    }
}
