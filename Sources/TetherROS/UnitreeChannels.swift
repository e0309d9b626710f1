import Foundation
import TetherCore

/// The two ends of Unitree's low-level protocol over DDS: commands out on `rt/lowcmd`, each
/// sealed with its CRC, and states in from `rt/lowstate`, each checked against its CRC.
public enum UnitreeTopics {
    /// The command topic (`rt/lowcmd` on the wire).
    public static let lowCmd = "lowcmd"
    /// The state topic (`rt/lowstate` on the wire).
    public static let lowState = "lowstate"
}

/// Publishes low-level commands: every command leaves with its CRC computed from its fields, so a
/// caller cannot send a stale one.
///
/// QoS: reliable, keep last 1. A reliable writer matches the vendor's readers whichever
/// reliability they ask for, and keep-last 1 never blocks on a slow reader: only the newest
/// command matters.
public final class UnitreeCommandPublisher<Command: UnitreeCheckedMessage>: @unchecked Sendable {
    /// The DDS publisher underneath.
    public let publisher: DDSPublisher<Command>

    /// A publisher on `topic` (default `rt/lowcmd`).
    public init(_ participant: DDSParticipant, topic: String = UnitreeTopics.lowCmd) throws {
        publisher = try DDSPublisher<Command>(participant, topic: topic, qos: .reliableLatest)
    }

    /// Seals the command's CRC and publishes it.
    public func publish(_ command: Command) throws {
        var command = command
        command.sealCRC()
        try publisher.publish(command)
    }
}

/// Receives low-level states and drops every one whose CRC does not match its fields (counted in
/// `rejectedCount`): a corrupted state never reaches a controller.
///
/// QoS: best effort, keep last 5 (ROS 2's sensor-data profile): a best-effort reader matches any
/// writer, and a control loop wants the newest state, not a retransmitted old one.
public final class UnitreeStateSubscriber<State: UnitreeCheckedMessage>: @unchecked Sendable {
    /// The DDS subscriber underneath.
    public let subscriber: DDSSubscriber<State>
    private let tally = Locked(Counts())

    /// How many states arrived, and how many were dropped for a wrong CRC.
    public struct Counts: Sendable, Equatable {
        /// States whose CRC matched.
        public var accepted = 0
        /// States dropped because their CRC did not match their fields.
        public var rejected = 0
        /// Counts of states.
        public init(accepted: Int = 0, rejected: Int = 0) {
            self.accepted = accepted
            self.rejected = rejected
        }
    }

    /// A subscriber on `topic` (default `rt/lowstate`).
    public init(_ participant: DDSParticipant, topic: String = UnitreeTopics.lowState) throws {
        subscriber = try DDSSubscriber<State>(participant, topic: topic, qos: .sensorData)
    }

    /// States accepted and rejected so far.
    public var counts: Counts { tally.withLock { $0 } }
    /// States dropped for a wrong CRC so far.
    public var rejectedCount: Int { counts.rejected }

    /// Counts a state; whether it passed its CRC check.
    private func admit(_ state: State) -> Bool {
        let valid = state.hasValidCRC
        tally.withLock { counts in
            if valid { counts.accepted += 1 } else { counts.rejected += 1 }
        }
        return valid
    }

    /// Takes the next waiting state with a valid CRC, if any (those with a wrong CRC before it are
    /// counted and dropped), with its writer's timestamp.
    public func take() throws -> DDSSample<State>? {
        while let sample = try subscriber.take() {
            if admit(sample.message) { return DDSSample(message: sample.message, sourceTime: sample.sourceTime) }
        }
        return nil
    }

    /// Waits up to `timeout` seconds for the next state with a valid CRC.
    public func next(timeout: Double) throws -> State? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard let state = try subscriber.next(timeout: max(0, left)) else { return nil }
            if admit(state) { return state }
            if left <= 0 { return nil }
        }
    }

    /// Calls `handler` with each state whose CRC matches, on DDS's receive thread (see
    /// `DDSSubscriber.setHandler`); states with a wrong CRC are counted and dropped, undecodable
    /// samples reach the handler as failures.
    public func setHandler(_ handler: @escaping @Sendable (Result<DDSSample<State>, any Error>) -> Void) throws {
        try subscriber.setHandler { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let sample): if self.admit(sample.message) { handler(result) }
            case .failure: handler(result)
            }
        }
    }

    /// Removes the handler of `setHandler`.
    public func removeHandler() { subscriber.removeHandler() }
}
