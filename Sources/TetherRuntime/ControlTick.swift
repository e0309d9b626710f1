import Foundation
import TetherCore
import TetherPolicy
import TetherSafety

/// The policy phase's control tick in storage allocated once: observation → policy → safety
/// wrapper → flight recorder, as `Deployment` runs it (it calls these same methods each tick).
///
/// After the first tick a tick allocates nothing on the loop's thread: the observation, the
/// action, the previous action, the command and the safety events live in arrays reused from
/// tick to tick (written in place through the buffer-based APIs of `ObservationBuilder`,
/// `PolicyRuntime`, `SafetyWrapper` and `FlightRecorder`), and the recorder copies the tick into a
/// preallocated queue for its writer thread. What still allocates: a tick with safety events
/// (their messages), a recurrent policy's state for the recording, ONNX Runtime inside its own
/// `Run` (outside Tether, if it does), and the robot backend's own I/O. Tests count allocations
/// over 10,000 ticks of ``step(policy:safety:recorder:state:receivedAt:time:policyTime:velocityCommand:lateness:)``.
public struct ControlTick {
    /// The observation builder (its history is the policy phase's).
    public private(set) var builder: ObservationBuilder
    /// The observation of the last ``computeAction(policy:state:velocityCommand:policyTime:)``.
    public private(set) var observation: [Float]
    /// The policy's raw action of the last ``computeAction(policy:state:velocityCommand:policyTime:)``.
    public private(set) var action: [Float]
    /// The action the next observation's `last_action` term reads (set by ``commitAction()``).
    public private(set) var lastAction: [Float]
    /// The command of the last ``applySafety(_:_:)``.
    public private(set) var command: JointCommand
    /// The safety events of the last ``applySafety(_:_:)``.
    public private(set) var safetyEvents: [SafetyEvent]
    /// Deployment never adds observation noise; the builder still needs a stream.
    private var noRandom = SeededRandom(seed: 0)

    /// Storage for `manifest`'s observation, action and command sizes.
    public init(manifest: Manifest) {
        builder = ObservationBuilder(manifest: manifest)
        observation = [Float](repeating: 0, count: builder.size)
        action = [Float](repeating: 0, count: manifest.actionSize)
        lastAction = [Float](repeating: 0, count: manifest.actionSize)
        command = JointCommand.zeroTorque(count: manifest.actionSize)
        // Five separate arrays: `zeroTorque` shares one, and the first in-place write would copy it.
        command.velocities = [Double](repeating: 0, count: manifest.actionSize)
        command.torques = [Double](repeating: 0, count: manifest.actionSize)
        command.kp = [Double](repeating: 0, count: manifest.actionSize)
        command.kd = [Double](repeating: 0, count: manifest.actionSize)
        safetyEvents = []
        safetyEvents.reserveCapacity(16)
    }

    /// Starts a policy phase: an empty observation history and a zero previous action.
    public mutating func startPolicyPhase() {
        builder.reset()
        for k in lastAction.indices { lastAction[k] = 0 }
    }

    /// Builds the observation of `state` and runs the policy on it: fills ``observation`` and ``action``.
    /// - Parameter policyTime: time since the policy phase started, s.
    public mutating func computeAction(policy: inout any PolicyRuntime, state: RobotState, velocityCommand: SIMD3<Double>,
                                       policyTime: Double) throws {
        try observation.withUnsafeMutableBufferPointer { buffer in
            try builder.build(state: state, command: velocityCommand, lastAction: lastAction, policyTime: policyTime, random: &noRandom, into: buffer)
        }
        try Self.act(&policy, observation, &action)
    }

    /// Runs `policy` with the existential opened (a concrete call, no box on the tick's path).
    private static func act<P: PolicyRuntime>(_ policy: inout P, _ observation: [Float], _ action: inout [Float]) throws {
        try observation.withUnsafeBufferPointer { o in
            try action.withUnsafeMutableBufferPointer { a in try policy.act(o, into: a) }
        }
    }

    /// Passes `input` through the safety wrapper: fills ``command`` and ``safetyEvents``; returns the mode.
    public mutating func applySafety(_ safety: inout SafetyWrapper, _ input: SafetyInput) -> SafetyMode {
        safety.tick(input, command: &command, events: &safetyEvents)
    }

    /// Makes `values` the previous action (an action computed on another thread, applied late).
    public mutating func setLastAction(_ values: [Float]) {
        guard values.count == lastAction.count else { return }
        for k in lastAction.indices { lastAction[k] = values[k] }
    }

    /// Makes this tick's action the previous action of the next observation.
    public mutating func commitAction() {
        for k in lastAction.indices { lastAction[k] = action[k] }
    }

    /// Hands the tick to the flight recorder (copied into its queue; written by its thread).
    /// - Parameters:
    ///   - withPolicy: whether this tick's observation and action are part of it (the policy ran).
    ///   - events: the tick's events (an empty array on a quiet tick).
    public func record(to recorder: FlightRecorder, time: Double, state: RobotState?, receivedAt: Double?, withPolicy: Bool, command: JointCommand?,
                       events: [RecordedEvent], policyState: [Float]? = nil) throws {
        try observation.withUnsafeBufferPointer { o in
            try action.withUnsafeBufferPointer { a in
                try recorder.recordTick(time: time, state: state, stateReceivedAt: receivedAt, observation: withPolicy ? o : nil,
                                        action: withPolicy ? a : nil, command: command, events: events, policyState: policyState)
            }
        }
    }

    /// One whole policy-phase tick for a state in hand, as the deployment runs it inline:
    /// observation and policy, safety wrapper, previous action, recording (the robot's I/O is the caller's).
    /// - Returns: the wrapper's mode; the command to send is ``command``.
    @discardableResult
    public mutating func step(policy: inout any PolicyRuntime, safety: inout SafetyWrapper, recorder: FlightRecorder?, state: RobotState,
                              receivedAt: Double, time: Double, policyTime: Double, velocityCommand: SIMD3<Double>, lateness: Double = 0) throws -> SafetyMode {
        try computeAction(policy: &policy, state: state, velocityCommand: velocityCommand, policyTime: policyTime)
        let mode = applySafety(&safety, SafetyInput(time: max(time, receivedAt), state: state, stateReceivedAt: receivedAt, action: action,
                                                    lateness: lateness, expectUpright: true))
        commitAction()
        if let recorder {
            try record(to: recorder, time: time, state: state, receivedAt: receivedAt, withPolicy: true, command: command,
                       events: safetyEvents.isEmpty ? [] : safetyEvents.map(RecordedEvent.init))
        }
        return mode
    }
}

extension RecordedEvent {
    /// The recording's form of a safety event.
    public init(_ e: SafetyEvent) {
        self.init(time: e.time, reason: e.reason.rawValue, message: e.message, joint: e.joint, values: e.values)
    }
}
