import Foundation
import TetherCore
import TetherROS

/// `tether bench ros2`: round-trip latency and throughput of sensor_msgs/JointState (12 joints)
/// between two processes on loopback through Tether's DDS layer; the CLI runs Cyclone's own
/// `ddsperf` ping/pong in the same run as the peer.
public enum RoundTripBenchmark {
    static let pingTopic = "/tether_bench/ping", pongTopic = "/tether_bench/pong"

    /// The echo side: returns every ping on the pong topic until `seconds` pass.
    public static func pong(domain: UInt32, seconds: Double) throws {
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let input = try DDSSubscriber<SensorMsgs.JointState>(participant, topic: pingTopic)
        let output = try DDSPublisher<SensorMsgs.JointState>(participant, topic: pongTopic)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let m = try input.next(timeout: 0.1) { try output.publish(m) }
        }
    }

    /// Results, µs and messages per second.
    public struct Result: Sendable, Codable {
        public var roundTrips: Int
        public var medianMicroseconds: Double
        public var p99Microseconds: Double
        public var messageBytes: Int
    }

    /// The pinging side: `count` round trips after a warm-up, one message in flight at a time.
    public static func ping(domain: UInt32, count: Int, timeout: Double = 20) throws -> Result {
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let output = try DDSPublisher<SensorMsgs.JointState>(participant, topic: pingTopic)
        let input = try DDSSubscriber<SensorMsgs.JointState>(participant, topic: pongTopic)
        guard output.waitForSubscribers(timeout: timeout) else {
            throw TetherError("the pong side never subscribed", hint: "is the pong process running on the same ROS_DOMAIN_ID?")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while input.matchedPublishers == 0 {
            guard Date() < deadline else { throw TetherError("the pong side never published") }
            usleep(1000)
        }
        let names = (0..<12).map { "joint_\($0)" }
        var message = SensorMsgs.JointState(name: names, position: .init(repeating: 0.5, count: 12),
                                            velocity: .init(repeating: 0.1, count: 12), effort: .init(repeating: 1, count: 12))
        let clock = MonotonicClock()
        var samples: [Double] = []
        let warmup = max(100, count / 10)
        for i in 0..<(count + warmup) {
            message.header.stamp = .init(sec: Int32(i), nanosec: 0)
            let start = clock.now()
            try output.publish(message)
            var reply: SensorMsgs.JointState?
            while reply == nil || reply!.header.stamp.sec != Int32(i) {
                guard let r = try input.next(timeout: 2) else { throw TetherError("round trip \(i) timed out after 2 s") }
                reply = r
            }
            if i >= warmup { samples.append((clock.now() - start) * 1e6) }
        }
        samples.sort()
        return Result(roundTrips: count, medianMicroseconds: samples[samples.count / 2],
                      p99Microseconds: samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))],
                      messageBytes: message.cdrBytes().count)
    }
}
