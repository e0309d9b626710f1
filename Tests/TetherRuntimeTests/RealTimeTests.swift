import Foundation
import Testing
import TetherCore
@testable import TetherRuntime

@Suite struct RealTimeTests {
    /// Runs `body` on a thread of its own (so the test runner's threads keep their scheduling).
    private func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.value = body()
            done.signal()
        }
        thread.start()
        done.wait()
        return box.value!
    }

    @Test func whatIsReportedIsWhatTheKernelDoes() throws {
        // Granted or not depends on the machine's privileges; either way the status must say what the
        // kernel really applied to the thread, and release must put it back.
        struct Seen: Sendable { var status: RealTimeStatus?; var error: String?; var policy: Int32; var onlyCore0: Bool; var policyAfter: Int32 }
        let seen = onOwnThread { () -> Seen in
            var s = Seen(status: nil, error: nil, policy: -1, onlyCore0: false, policyAfter: -1)
            do {
                let status = try RealTime.apply(RealTimeRequest(priority: 10, cpu: 0, lockMemory: false))
                s.status = status
                var param = sched_param(), policy: Int32 = 0
                pthread_getschedparam(pthread_self(), &policy, &param)
                s.policy = policy
                let mask = RealTime.affinity() ?? []
                s.onlyCore0 = mask.first == 1 && mask.dropFirst().allSatisfy { $0 == 0 }
                RealTime.release(status)
                pthread_getschedparam(pthread_self(), &policy, &param)
                s.policyAfter = policy
            } catch {
                s.error = "\(error)"
            }
            return s
        }
        let status = try #require(seen.status, "apply threw: \(seen.error ?? "")")
        #expect(status.fifo == (seen.policy == SCHED_FIFO))
        #expect((status.pinnedCPU == 0) == seen.onlyCore0)
        #expect(status.granted == status.notes.isEmpty)
        if !status.fifo { #expect(status.notes.contains { $0.contains("SCHED_FIFO") && $0.contains("CAP_SYS_NICE") }) }
        #expect(seen.policyAfter == SCHED_OTHER)
    }

    @Test func badRequestsAreRefusedWithWhere() {
        #expect(throws: TetherError.self) { try RealTime.apply(RealTimeRequest(priority: 0)) }
        #expect(throws: TetherError.self) { try RealTime.apply(RealTimeRequest(priority: 80, cpu: 4096)) }
        do {
            _ = try RealTime.apply(RealTimeRequest(priority: 120))
        } catch let error as TetherError {
            #expect(error.location == "--realtime-priority")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
