import Foundation
import TetherCore
import TetherROS

/// One event the runtime recorded (a safety intervention, a phase change, an error).
public struct RecordedEvent: Sendable, Equatable {
    public var time: Double
    public var reason: String
    public var message: String
    public var joint: String?
    public var values: [String: Double]
    public init(time: Double, reason: String, message: String, joint: String? = nil, values: [String: Double] = [:]) {
        self.time = time
        self.reason = reason
        self.message = message
        self.joint = joint
        self.values = values
    }
}

/// Everything about one control tick worth keeping.
public struct FlightRecord: Sendable {
    /// Tick time on the runtime's clock, s.
    public var time: Double
    public var state: RobotState?
    /// When the state was received, on the runtime's clock (nil: at `time`). The recorder writes
    /// a state once, stamped with its receive time, and skips the ticks that saw no new state.
    public var stateReceivedAt: Double?
    public var observation: [Float]?
    /// The policy's raw action.
    public var action: [Float]?
    /// The command sent, after the safety wrapper.
    public var command: JointCommand?
    public var events: [RecordedEvent]
    public init(time: Double, state: RobotState?, stateReceivedAt: Double? = nil, observation: [Float]?, action: [Float]?,
                command: JointCommand?, events: [RecordedEvent]) {
        self.time = time
        self.state = state
        self.stateReceivedAt = stateReceivedAt
        self.observation = observation
        self.action = action
        self.command = command
        self.events = events
    }
}

/// States are written once each (a tick that saw no new state writes none), stamped with the
/// time the runtime received them: the clock commands are stamped with too, so that the delay
/// from a command to its response reads directly off the recording.
///
/// The flight recorder: a bounded ring buffer of the last `windowSeconds` of ticks, written to a
/// ROS 2 bag (MCAP, CDR, ros2msg schemas) when something goes wrong (e-stop, fall, safety stop,
/// error) or at a normal exit, or continuously when asked.
///
/// Topics (names from the manifest's `ros2` section): joint states (sensor_msgs/JointState), IMU
/// (sensor_msgs/Imu), commands (std_msgs/Float64MultiArray, dimensions fields × joints with
/// fields position, velocity, effort, kp, kd), `/tether/observation` and `/tether/action`
/// (Float64MultiArray) and `/tether/safety_events` (tether_msgs/SafetyEvent). Chunks are written
/// whole, so a crash loses at most the chunk being filled (`tether log recover` repairs the rest).
/// Used from the control loop's thread only.
public final class FlightRecorder {
    public let manifest: Manifest
    public let path: String
    public let windowSeconds: Double
    public let continuous: Bool
    public let metadata: [String: String]
    private var buffer: [FlightRecord] = []
    private var writer: MCAPWriter?
    private var channels: (joints: UInt16, imu: UInt16, command: UInt16, observation: UInt16, action: UInt16, events: UInt16)?
    private let epochOffset: Double
    private let jointNames: [String]
    private let clockStart: Double
    /// The measurement time of the last state written (a state is written once).
    private var lastStateTime: Double?
    /// Records written to the file so far.
    public private(set) var recordsWritten = 0
    /// Why the buffer was last flushed.
    public private(set) var flushReasons: [String] = []

    /// Creates a recorder; nothing is written until a flush (or the first record when continuous).
    /// - Parameter clockStart: the runtime clock's reading that corresponds to now, to stamp
    ///   messages with wall time.
    /// - Parameter metadata: written on the joint-commands channel (MCAP channel metadata), e.g.
    ///   the experiment's kind and parameters.
    public init(manifest: Manifest, path: String, windowSeconds: Double = 10, continuous: Bool = false, clockStart: Double,
                metadata: [String: String] = [:]) {
        self.metadata = metadata
        self.manifest = manifest
        self.path = path
        self.windowSeconds = windowSeconds
        self.continuous = continuous
        self.clockStart = clockStart
        epochOffset = Date().timeIntervalSince1970
        jointNames = manifest.joints.map(\.name)
    }

    /// Adds a tick. Continuous: written at once (buffered into chunks). Otherwise kept in the ring
    /// buffer, from which records older than the window fall out.
    public func record(_ r: FlightRecord) throws {
        if continuous {
            try write(r)
            return
        }
        buffer.append(r)
        if let first = buffer.first, r.time - first.time > windowSeconds {
            let cut = buffer.firstIndex { r.time - $0.time <= windowSeconds } ?? 0
            buffer.removeFirst(cut)
        }
    }

    /// Writes the buffered window to the file and flushes it to disk; returns the path.
    @discardableResult
    public func flush(reason: String) throws -> String {
        flushReasons.append(reason)
        for r in buffer { try write(r) }
        buffer.removeAll(keepingCapacity: true)
        try openIfNeeded().flush()
        return path
    }

    /// Flushes and closes the file (summary section, footer).
    public func close(reason: String = "exit") throws {
        if !buffer.isEmpty || writer == nil { try flush(reason: reason) }
        try writer?.close()
    }

    private func openIfNeeded() throws -> MCAPWriter {
        if let writer { return writer }
        let w: MCAPWriter
        do {
            w = try MCAPWriter(path: path, options: .init(chunkSize: 256 << 10, chunkDuration: 1_000_000_000))
        } catch {
            throw TetherError("cannot open the flight recording: \(error)", at: path, hint: "check that the directory exists and is writable")
        }
        let topics = manifest.ros2
        channels = (joints: try w.addTopic(topics.jointStates, type: SensorMsgs.JointState.self),
                    imu: try w.addTopic(topics.imu, type: SensorMsgs.Imu.self),
                    command: try w.addTopic(topics.jointCommands, type: StdMsgs.Float64MultiArray.self, metadata: metadata),
                    observation: try w.addTopic("/tether/observation", type: StdMsgs.Float64MultiArray.self),
                    action: try w.addTopic("/tether/action", type: StdMsgs.Float64MultiArray.self),
                    events: try w.addTopic("/tether/safety_events", type: TetherMsgs.SafetyEvent.self))
        writer = w
        return w
    }

    private func write(_ r: FlightRecord) throws {
        let w = try openIfNeeded()
        guard let c = channels else { return }
        func stampOf(_ t: Double) -> UInt64 { UInt64(max(0, epochOffset + (t - clockStart)) * 1e9) }
        let stamp = stampOf(r.time)
        let header = StdMsgs.Header(stamp: .init(nanoseconds: Int64(stamp)), frameID: "base")
        if let s = r.state, s.time != lastStateTime {
            lastStateTime = s.time
            let received = stampOf(r.stateReceivedAt ?? r.time)
            let stateHeader = StdMsgs.Header(stamp: .init(nanoseconds: Int64(received)), frameID: "base")
            try w.write(SensorMsgs.JointState(state: s, names: jointNames, header: stateHeader), channel: c.joints, logTime: received)
            if let imu = SensorMsgs.Imu(state: s, header: stateHeader) { try w.write(imu, channel: c.imu, logTime: received) }
        }
        if let cmd = r.command {
            try w.write(StdMsgs.Float64MultiArray(jointCommand: cmd), channel: c.command, logTime: stamp)
        }
        if let o = r.observation {
            try w.write(StdMsgs.Float64MultiArray(vector: o.map(Double.init), label: "observation"), channel: c.observation, logTime: stamp)
        }
        if let a = r.action {
            try w.write(StdMsgs.Float64MultiArray(vector: a.map(Double.init), label: "action"), channel: c.action, logTime: stamp)
        }
        for e in r.events {
            let keys = e.values.keys.sorted()
            try w.write(TetherMsgs.SafetyEvent(header: header, reason: e.reason, message: e.message, joint: e.joint ?? "",
                                               keys: keys, values: keys.map { e.values[$0]! }), channel: c.events, logTime: stamp)
        }
        recordsWritten += 1
    }
}
