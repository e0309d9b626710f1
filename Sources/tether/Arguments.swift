import Foundation
import ArgumentParser
import TetherCore
import TetherPolicy
import TetherRuntime

/// Typed options: the command line reads the library's vocabulary, and a wrong value is a usage
/// error (exit 64) naming the choices.
extension TorqueStage {
    /// `--stage 25|50|100` (percent of the torque limits).
    static func argument(_ text: String) throws -> TorqueStage {
        guard let percent = Int(text), let stage = TorqueStage(rawValue: percent) else {
            throw ValidationError("--stage must be \(choices) (percent of the torque limits), not \(text)")
        }
        return stage
    }
}

extension RobotBackend {
    /// `--backend sim|emulator|ros2`.
    static func argument(_ text: String) throws -> RobotBackend {
        guard let backend = RobotBackend(rawValue: text) else { throw ValidationError("--backend must be \(choices), not \(text)") }
        return backend
    }
}

/// `--realtime` and its settings: SCHED_FIFO, a pinned core and locked memory for the loop's thread.
extension PolicyEngine: ExpressibleByArgument {}

/// `--policy-engine`: which engine computes the policy's actions (see `PolicyEngine`). It sets
/// TETHER_POLICY_ENGINE for this process (and the processes it starts), so every policy the command
/// loads (one per worker thread in a gate) uses it.
struct PolicyEngineArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Policy engine: auto (Tether's compiled graph when the model compiles and agrees with ONNX Runtime on probe inputs, "
        + "else ONNX Runtime), onnxruntime, or native (the compiled graph or an error). Default: $TETHER_POLICY_ENGINE, else auto.",
                               valueName: "engine")) var policyEngine: PolicyEngine?

    func validate() throws {
        if let policyEngine { setenv("TETHER_POLICY_ENGINE", policyEngine.rawValue, 1) }
    }
}

struct RealTimeArguments: ParsableArguments {
    @Flag(help: ArgumentHelp("Run the control loop's thread under SCHED_FIFO with locked memory (needs root, CAP_SYS_NICE or rtprio; "
        + "says so and runs at normal priority when not granted).")) var realtime = false
    @Option(help: "With --realtime: the SCHED_FIFO priority, 1-99.") var realtimePriority: Int32 = 80
    @Option(help: "With --realtime: pin the loop's thread to this core (isolate it with isolcpus= for the best result).") var realtimeCpu: Int?
    @Flag(help: "With --realtime: refuse to run instead of running at normal priority when it is not granted.") var realtimeRequired = false

    func validate() throws {
        guard (1...99).contains(realtimePriority) else {
            throw ValidationError("--realtime-priority must be 1…99 (SCHED_FIFO's range), got \(realtimePriority); 80 is a usual choice")
        }
        if let realtimeCpu, realtimeCpu < 0 { throw ValidationError("--realtime-cpu must be a core number, 0 or more, got \(realtimeCpu)") }
    }

    /// The request, if --realtime was given.
    var request: RealTimeRequest? {
        guard realtime || realtimeRequired else { return nil }
        return RealTimeRequest(priority: realtimePriority, cpu: realtimeCpu, required: realtimeRequired)
    }
}

/// A frame size given as WIDTHxHEIGHT (`render --size`, `emulate --camera-size`, `bench render
/// --size`): two integers, each within `limits`; nil otherwise, for the command to say what it
/// expects.
func parseFrameSize(_ text: String, limits: ClosedRange<Int> = 16...8192) -> (width: Int, height: Int)? {
    let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
    guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), limits.contains(width), limits.contains(height) else { return nil }
    return (width, height)
}
