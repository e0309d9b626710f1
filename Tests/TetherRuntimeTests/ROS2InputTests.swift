import Foundation
import Testing
import TetherCore
import TetherROS
import TetherSafety
import TetherSim
@testable import TetherRuntime

/// Every input of a ROS 2 robot checked for age and shape, and the robot side's own guards, on
/// loopback DDS in-process (the Python peer does the same from another process: tests/failsafe.sh).
@Suite(.serialized) struct ROS2InputTests {
    struct Rig {
        let manifest: Manifest
        let participant: DDSParticipant
        let robot: ROS2Robot
        let states: DDSPublisher<SensorMsgs.JointState>
        let imu: DDSPublisher<SensorMsgs.Imu>
        let estop: DDSPublisher<StdMsgs.Bool>
        let clock: MonotonicClock

        init(domain: UInt32, edit: (inout Manifest) -> Void = { _ in }, estopQoS: QoSProfile = .default, publishEStopFirst: Bool? = nil) throws {
            var manifest = try RobotModel.load(manifestPath: quadrupedManifest).manifest
            edit(&manifest)
            self.manifest = manifest
            clock = MonotonicClock()
            participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
            let peer = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
            estop = try DDSPublisher(peer, topic: manifest.ros2.estop, qos: estopQoS)
            if let value = publishEStopFirst { try estop.publish(StdMsgs.Bool(data: value)) }
            robot = try ROS2Robot(manifest: manifest, participant: participant, clock: clock)
            states = try DDSPublisher(peer, topic: manifest.ros2.jointStates, qos: .sensorData)
            imu = try DDSPublisher(peer, topic: manifest.ros2.imu, qos: .sensorData)
            _ = states.waitForSubscribers(timeout: 5)
            _ = imu.waitForSubscribers(timeout: 5)
            _ = estop.waitForSubscribers(2, timeout: 5)
        }

        var names: [String] { manifest.joints.map(\.name) }
        var defaults: [Double] { manifest.joints.map(\.defaultPosition) }

        func publish(names: [String]? = nil, positions: [Double]? = nil, velocities: [Double]? = nil, stampOffset: Double = 0, withIMU: Bool = true) throws {
            let n = names ?? self.names
            let stamp = BuiltinInterfaces.Time(nanoseconds: Int64((Date().timeIntervalSince1970 + stampOffset) * 1e9))
            try states.publish(SensorMsgs.JointState(header: .init(stamp: stamp, frameID: "base"), name: n, position: positions ?? defaults,
                                                     velocity: velocities ?? n.map { _ in 0 }, effort: n.map { _ in 0 }))
            if withIMU {
                try imu.publish(SensorMsgs.Imu(header: .init(stamp: stamp, frameID: "base"), orientation: .init(x: 0, y: 0, z: 0, w: 1),
                                               orientationCovariance: Array(repeating: 0, count: 9), angularVelocity: .init(x: 0, y: 0, z: 0),
                                               angularVelocityCovariance: Array(repeating: 0, count: 9), linearAcceleration: .init(x: 0, y: 0, z: 9.81),
                                               linearAccelerationCovariance: Array(repeating: 0, count: 9)))
            }
        }

        /// Reads until `body` is satisfied by a read or the time runs out; returns the last result.
        func read(timeout: Double = 3, until body: (Result<(state: RobotState, receivedAt: Double)?, Error>) -> Bool) -> Result<(state: RobotState,
            receivedAt: Double)?, Error> {
            let deadline = Date().addingTimeInterval(timeout)
            var last: Result<(state: RobotState, receivedAt: Double)?, Error> = .success(nil)
            repeat {
                last = Result { try robot.latestState() }
                if body(last) { return last }
                usleep(2000)
            } while Date() < deadline
            return last
        }
    }

    static func fault(_ r: Result<(state: RobotState, receivedAt: Double)?, Error>) -> RobotFault? {
        if case .failure(let e) = r { return e as? RobotFault }
        return nil
    }

    @Test func jointStatesAreMatchedByNameOnEveryMessage() throws {
        let rig = try Rig(domain: 81)
        try rig.publish()
        _ = rig.read { (try? $0.get()) != nil }
        // The driver now publishes its joints in reverse order: values must land on the same joints.
        var positions = rig.defaults
        positions[0] = 0.3
        try rig.publish(names: rig.names.reversed(), positions: positions.reversed())
        let r = rig.read { (try? $0.get())??.state.jointPositions[0] == 0.3 }
        let state = try #require(try r.get()?.state)
        #expect(state.jointPositions == positions)
    }

    @Test func jointStatesWithoutVelocitiesAreRefusedNotReadAsZeros() throws {
        let rig = try Rig(domain: 82)
        try rig.publish(velocities: [])
        let r = rig.read { Self.fault($0) != nil }
        let fault = try #require(Self.fault(r))
        #expect(fault.reason == .invalidInput)
        #expect(fault.error.what.contains("no velocities"))
        #expect(fault.error.hint?.contains("missing_velocities: difference") == true)
    }

    @Test func declaredDifferencingComputesVelocitiesFromPositions() throws {
        let rig = try Rig(domain: 83) { $0.ros2.missingVelocities = .difference }
        #expect(!rig.robot.inputNotes.isEmpty)
        var positions = rig.defaults
        try rig.publish(velocities: [])
        _ = rig.read(timeout: 0.05) { _ in false }
        Thread.sleep(forTimeInterval: 0.1)
        positions[0] += 0.01
        try rig.publish(positions: positions, velocities: [])
        let r = rig.read { (try? $0.get())??.state.jointPositions[0] == positions[0] }
        let state = try #require(try r.get()?.state)
        // 0.01 rad over the stamps' 0.15 s or so (at least the 0.1 s sleep): 0.02–0.1 rad/s, never 0.
        #expect(state.jointVelocities[0] > 0.02 && state.jointVelocities[0] <= 0.1 + 1e-9)
        #expect(state.jointVelocities[1] == 0)
    }

    @Test func aSilentIMUStopsTheRobotWhileJointStatesKeepComing() throws {
        let rig = try Rig(domain: 84)
        try rig.publish()
        _ = rig.read { (try? $0.get()) != nil }
        let deadline = Date().addingTimeInterval(3)
        var fault: RobotFault?
        while Date() < deadline, fault == nil {
            try rig.publish(withIMU: false)
            usleep(5000)
            fault = Self.fault(Result { try rig.robot.latestState() })
        }
        let f = try #require(fault)
        #expect(f.reason == .stateTimeout && f.error.what.contains("IMU"))
    }

    @Test func aStampFromTheFutureIsAFault() throws {
        let rig = try Rig(domain: 85)
        try rig.publish(stampOffset: 5)
        let r = rig.read { Self.fault($0) != nil }
        #expect(Self.fault(r)?.reason == .invalidTime)
    }

    @Test func aMalformedJointStateIsAFaultNamingTheShape() throws {
        let rig = try Rig(domain: 86)
        try rig.publish(positions: Array(rig.defaults.prefix(11)))
        let r = rig.read { Self.fault($0) != nil }
        let f = try #require(Self.fault(r))
        #expect(f.reason == .invalidInput && f.error.what.contains("11 positions"))
    }

    @Test func anEStopPulseShorterThanATickStillEngages() throws {
        let rig = try Rig(domain: 87)
        try rig.publish()
        _ = rig.read { (try? $0.get()) != nil }
        try rig.estop.publish(StdMsgs.Bool(data: true))
        try rig.estop.publish(StdMsgs.Bool(data: false))
        Thread.sleep(forTimeInterval: 0.2)
        _ = try rig.robot.latestState()
        #expect(rig.robot.eStopInputActive, "the pulse engages this tick")
        _ = try rig.robot.latestState()
        #expect(!rig.robot.eStopInputActive, "and the input reads released afterwards (the wrapper keeps its latch)")
    }

    @Test func bestEffortAndLatchedEStopPublishersAreHeard() throws {
        let bestEffort = try Rig(domain: 88, estopQoS: .sensorData)
        try bestEffort.estop.publish(StdMsgs.Bool(data: true))
        Thread.sleep(forTimeInterval: 0.2)
        _ = try? bestEffort.robot.latestState()
        #expect(bestEffort.robot.eStopInputActive)
        // A transient-local publisher that engaged the e-stop before the deployment started.
        let latched = try Rig(domain: 89, estopQoS: .latched, publishEStopFirst: true)
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline, !latched.robot.eStopInputActive {
            _ = try? latched.robot.latestState()
            usleep(5000)
        }
        #expect(latched.robot.eStopInputActive)
    }

    @Test func aDeadEStopNodeStopsTheRobotWhenAHeartbeatIsRequired() throws {
        let rig = try Rig(domain: 90) { $0.ros2.estopHeartbeat = 0.2 }
        try rig.publish()
        try rig.estop.publish(StdMsgs.Bool(data: false))
        let alive = rig.read(timeout: 0.1) { _ in false }
        #expect(Self.fault(alive) == nil)
        let r = rig.read { Self.fault($0) != nil }
        let f = try #require(Self.fault(r))
        #expect(f.reason == .eStop && f.error.what.contains("heartbeat"))
    }
}

/// The robot side: `ROS2RobotServer` (what `tether emulate` runs) rejects malformed commands and
/// damps when the commands stop.
@Suite(.serialized) struct RobotServerGuardTests {
    @Test func malformedCommandsAreCountedAndSilenceDamps() throws {
        let domain: UInt32 = 91
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        let clock = MonotonicClock()
        let served = RecordingRobot(inner: SimulatedRobot(sim: sim, start: clock.now()), clock: clock)
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let server = try ROS2RobotServer(robot: served, participant: participant, clock: clock, commandTimeout: 0.1, dampingSeconds: 0.3)
        let events = Locked2<[String]>([])
        server.onEvent = { e in events.mutate { $0.append(e.kind) } }
        let done = DispatchSemaphore(value: 0)
        Thread { try? server.run(seconds: 4); done.signal() }.start()
        let peer = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let commands = try DDSPublisher<TetherMsgs.JointCommand>(peer, topic: robot.manifest.ros2.jointCommands)
        #expect(commands.waitForSubscribers(timeout: 5))
        let names = robot.manifest.actuatedJoints.map(\.name)
        let n = names.count
        let good = TetherMsgs.JointCommand(header: .init(stamp: .now()), name: names, position: robot.manifest.actuatedJoints.map(\.defaultPosition),
                                           velocity: Array(repeating: 0, count: n), effort: Array(repeating: 0, count: n),
                                           kp: Array(repeating: 20, count: n), kd: Array(repeating: 0.5, count: n))
        var bad = good
        bad.kd = Array(repeating: 0.5, count: n - 1)
        try commands.publish(bad)
        for _ in 0..<20 { try commands.publish(good); usleep(10_000) }
        Thread.sleep(forTimeInterval: 0.6)   // silence: damping after 0.1 s, zero torque after 0.4 s
        server.stop()
        done.wait()
        #expect(server.commandsRejected == 1)
        #expect(server.commandTimeouts == 1)
        #expect(server.watchdogMode == .zeroTorque)
        let kinds = events.value
        #expect(kinds.contains("command_rejected") && kinds.contains("command_timeout") && kinds.contains("zero_torque"))
        let lastApplied = try #require(served.sent.last?.command)
        #expect(lastApplied.kp.allSatisfy { $0 == 0 } && lastApplied.kd.allSatisfy { $0 == 0 })
        #expect(served.sent.contains { $0.command.kp.allSatisfy { $0 == 0 } && $0.command.kd.allSatisfy { $0 == 0.5 } }, "a damping stop came first")
    }
}

/// A value shared with a callback on another thread.
final class Locked2<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.lock(); defer { lock.unlock() }; return stored }
    func mutate(_ body: (inout Value) -> Void) { lock.lock(); body(&stored); lock.unlock() }
}
