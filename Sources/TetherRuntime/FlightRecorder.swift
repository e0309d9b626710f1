import Foundation
import TetherCore
import TetherROS
import TetherSim

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
    /// A recurrent policy's state after computing this tick's action (the state its next call
    /// starts from), all state tensors concatenated; nil for a feed-forward policy.
    public var policyState: [Float]?
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

/// The flight recorder: the last `windowSeconds` of ticks, written to a ROS 2 bag (MCAP, CDR,
/// ros2msg schemas) at `path` when something goes wrong (e-stop, fall, safety stop, error) or at
/// a normal exit; or everything, continuously, when asked.
///
/// States are written once each (a tick that saw no new state writes none), stamped with the
/// time the runtime received them: the clock commands are stamped with too, so that the delay
/// from a command to its response reads directly off the recording. Commands, observations,
/// actions and events are stamped with their tick's time.
///
/// Topics (names from the manifest's `ros2` section): joint states (sensor_msgs/JointState), IMU
/// (sensor_msgs/Imu), commands (std_msgs/Float64MultiArray, dimensions fields × joints with
/// fields position, velocity, effort, kp, kd), `/tether/observation` and `/tether/action`
/// (Float64MultiArray) and `/tether/safety_events` (tether_msgs/SafetyEvent); for a recurrent
/// policy also `/tether/policy_state` (Float64MultiArray: the state after each tick's call) and a
/// `policy_reset` event where the state was set to zeros, so that `tether policy replay` can
/// re-run the policy's decisions.
///
/// Crash safety. The window is not only in memory: in window mode every tick also goes at once
/// to a spool segment beside the output (`PATH.spool-0.mcap`, `PATH.spool-1.mcap`, see
/// ``spoolPaths(for:)``). When the current segment spans more than the window, it is closed and
/// the other slot is started afresh, so the disk holds at least the last window and at most about
/// two. In both modes chunks span at most ``chunkDuration`` (0.5 s) of log time and go to the
/// file whole as they fill, and the file is `fsync`ed every ``syncInterval`` (1 s) of record time
/// and at every flush. A `kill -9` or a trap therefore loses at most the chunk being filled
/// (≤ 0.5 s: what was written is in the page cache and survives the process); a power loss can
/// lose up to 1 s more that was not yet synced. `tether log recover PATH OUT.mcap`
/// (``recover(recording:to:)``) merges what a crashed run left. After a flush at a stop the
/// window is at `path` and the spool starts again empty; after a normal close the segments are
/// deleted.
///
/// Errors writing the spool are thrown from ``record(_:)``, as errors writing a continuous
/// recording are. Used from the control loop's thread only.
///
/// The control loop's path, ``recordTick(time:state:stateReceivedAt:observation:action:command:events:policyState:)``,
/// allocates nothing and does no I/O on the loop's thread: it copies the tick into a preallocated
/// slot of a queue (``queueCapacity`` ticks), and a writer thread of the recorder's own encodes
/// and writes it as ``record(_:)`` would (ring buffer, spool, chunks, syncs). A write error is
/// thrown from the next call; a queue that is full (a disk that stalls for a second) drops the
/// tick and counts it (``recordsDropped``) rather than block the loop. A crash can lose the
/// ticks still queued (normally well under a millisecond's) besides the chunk being filled.
public final class FlightRecorder {
    /// The topic of a recurrent policy's state.
    public static let policyStateTopic = "/tether/policy_state"
    /// Log time a chunk spans at most before it is written, ns: what a crash can lose.
    public static let chunkDuration: UInt64 = 500_000_000
    /// Record time between two `fsync`s of the file being written, s.
    public static let syncInterval: Double = 1

    /// The two spool segments of a window-mode recording at `path`, slot 0 then slot 1.
    public static func spoolPaths(for path: String) -> [String] {
        ["\(path).spool-0.mcap", "\(path).spool-1.mcap"]
    }

    /// The spool segments of a recording at `path` that exist: a run that has not ended (it is
    /// still running, or it was killed) left them.
    public static func existingSpools(for path: String) -> [String] {
        spoolPaths(for: path).filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Writes a valid recording at `destination` from what a run recording to `path` left: the
    /// complete chunks of `path` (when present) and of its spool segments, merged in log-time
    /// order; without spool segments, `path` is recovered as any truncated MCAP file.
    @discardableResult
    public static func recover(recording path: String, to destination: String) throws -> MCAPRecovery {
        let spools = existingSpools(for: path)
        if spools.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else {
                throw TetherError("no recording here, and no flight-recorder spool segments beside it (\(spoolPaths(for: path)[0]))", at: path,
                                  hint: "check the path: it is the --record path of the run")
            }
            return try MCAPReader.recover(from: path, to: destination)
        }
        let sources = (FileManager.default.fileExists(atPath: path) ? [path] : []) + spools
        return try MCAPReader.recover(merging: sources, to: destination)
    }

    /// The robot's manifest: joint names and topic names.
    public let manifest: Manifest
    /// The recording's path (the spool segments are beside it).
    public let path: String
    /// Seconds of ticks the ring buffer (and each spool segment) keeps, in window mode.
    public let windowSeconds: Double
    /// Whether every tick is written to `path` as it comes, instead of the window at a flush.
    public let continuous: Bool
    /// Metadata on the joint-commands channel (the deployment adds `torque_stage`, which
    /// `tether render` shows); set before the first record opens a file.
    public private(set) var metadata: [String: String]

    /// Adds a metadata entry; it reaches the files opened after the call (call it before the first record).
    public func setMetadata(_ key: String, _ value: String) { metadata[key] = value }
    private var buffer: [FlightRecord] = []
    /// The output file at `path`.
    private var output: Sink?
    /// The spool segment being written (window mode), its slot and the record time it starts at.
    private var spool: Sink?
    private var spoolSlot = 0
    private var spoolStart = 0.0
    /// Record time of the last `fsync` of the file written as records come (spool or continuous output).
    private var lastSync: Double?
    /// Wall time (s since the epoch) at `clockStart`: log time = epochOffset + (t − clockStart).
    let epochOffset: Double
    private let jointNames: [String]
    private let clockStart: Double
    /// The queue to the writer thread, once ``recordTick`` has been called.
    private var queue: TickQueue?
    /// Ticks ``recordTick`` dropped because the writer thread was a whole queue behind.
    public var recordsDropped: Int { queue?.dropped ?? droppedBefore }
    private var droppedBefore = 0
    /// Ticks the writer thread's queue holds.
    public static let queueCapacity = 1024
    /// Records written to the file so far.
    public private(set) var recordsWritten = 0
    /// Why the buffer was last flushed.
    public private(set) var flushReasons: [String] = []

    /// One open MCAP file with the recorder's channels.
    private struct Sink {
        var writer: MCAPWriter
        var channels: (joints: UInt16, imu: UInt16, command: UInt16, observation: UInt16, action: UInt16, events: UInt16)
        /// `/tf`, when the robot's model could be read.
        var tf: UInt16?
        /// `/tether/policy_state`, added with the first recurrent state written.
        var policyState: UInt16?
        /// The measurement time of the last state written here (a state is written once per file).
        var lastStateTime: Double?
    }

    /// Creates a recorder; nothing is written until a flush (or the first record, which opens the
    /// continuous output or the first spool segment).
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
        // For /tf and /robot_description (Foxglove, RViz): the model's link tree, read once here,
        // before the loop runs. A model that cannot be read leaves them out, nothing else.
        kinematics = try? KinematicTree.load(manifest)
        if let kinematics {
            let addresses = kinematics.qposAddresses(of: jointNames)
            jointOfAddress = Dictionary(addresses.enumerated().compactMap { i, a in a.map { ($0, i) } }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// The robot's links (nil: its model could not be read), and for each qpos address the
    /// manifest joint whose position it is.
    let kinematics: KinematicTree?
    private var jointOfAddress: [Int: Int] = [:]

    /// Adds a tick. Continuous: written at once (into chunks of at most ``chunkDuration``).
    /// Otherwise kept in the ring buffer, from which records older than the window fall out, and
    /// written at once to the spool segment.
    public func record(_ r: FlightRecord) throws {
        if let queue {
            try queue.check()
            queue.drain()
            queue.work.lock()
            defer { queue.work.unlock() }
            try store(r)
        } else {
            try store(r)
        }
    }

    /// The work of ``record(_:)`` (on the writer thread for queued ticks).
    fileprivate func store(_ r: FlightRecord) throws {
        if continuous {
            var sink = try openOutput()
            try write(r, to: &sink)
            output = sink
            recordsWritten += 1
            try syncIfDue(sink.writer, time: r.time)
            return
        }
        buffer.append(r)
        if let first = buffer.first, r.time - first.time > windowSeconds {
            let cut = buffer.firstIndex { r.time - $0.time <= windowSeconds } ?? 0
            buffer.removeFirst(cut)
        }
        var sink = try spoolSink(at: r.time)
        try write(r, to: &sink)
        spool = sink
        try syncIfDue(sink.writer, time: r.time)
    }

    /// Writes the buffered window to the file and syncs it to disk; returns the path. In window
    /// mode the spool then starts again empty: what it held is at `path`.
    @discardableResult
    public func flush(reason: String) throws -> String {
        if let queue {
            try queue.check()
            queue.drain()
            queue.work.lock()
            defer { queue.work.unlock() }
            return try flushNow(reason: reason)
        }
        return try flushNow(reason: reason)
    }

    private func flushNow(reason: String) throws -> String {
        flushReasons.append(reason)
        var sink = try openOutput()
        for r in buffer {
            try write(r, to: &sink)
            recordsWritten += 1
        }
        output = sink
        buffer.removeAll(keepingCapacity: true)
        try sink.writer.flush()
        try sink.writer.sync()
        if !continuous { discardSpool() }
        return path
    }

    /// Flushes and closes the file (summary section, footer), then deletes the spool segments.
    public func close(reason: String = "exit") throws {
        if let queue {
            queue.stop()
            self.queue = nil
            try queue.check()
        }
        if !buffer.isEmpty || output == nil { try flush(reason: reason) }
        if let writer = output?.writer, !writer.isClosed {
            try writer.flush()
            try writer.sync()
            try writer.close()
        }
        discardSpool()
    }

    // MARK: files

    private func openOutput() throws -> Sink {
        if let output { return output }
        let sink = try open(path: path, what: "the flight recording")
        output = sink
        return sink
    }

    /// The spool segment for a record at `time`: the current one, or the other slot when the
    /// current one spans more than the window (the first record also clears stale segments).
    private func spoolSink(at time: Double) throws -> Sink {
        if let spool, time - spoolStart <= windowSeconds { return spool }
        if let current = spool?.writer {
            try current.flush()
            try current.sync()
            try current.close()
            spoolSlot = 1 - spoolSlot
        } else {
            spoolSlot = 0
            for stale in Self.spoolPaths(for: path) { try? FileManager.default.removeItem(atPath: stale) }
        }
        spool = nil
        let sink = try open(path: Self.spoolPaths(for: path)[spoolSlot], what: "the flight recorder's spool segment")
        spool = sink
        spoolStart = time
        lastSync = time
        return sink
    }

    /// Closes and deletes the spool segments (their content is in the output file).
    private func discardSpool() {
        if let writer = spool?.writer { try? writer.close() }
        spool = nil
        lastSync = nil
        for segment in Self.spoolPaths(for: path) { try? FileManager.default.removeItem(atPath: segment) }
    }

    private func syncIfDue(_ writer: MCAPWriter, time: Double) throws {
        guard let last = lastSync else {
            lastSync = time
            return
        }
        if time - last >= Self.syncInterval {
            try writer.sync()
            lastSync = time
        }
    }

    private func open(path: String, what: String) throws -> Sink {
        let w: MCAPWriter
        do {
            w = try MCAPWriter(path: path, options: .init(chunkSize: 256 << 10, chunkDuration: Self.chunkDuration))
        } catch let error as TetherError {
            throw TetherError("cannot open \(what): \(error.what)", at: path, hint: "check that the directory exists and is writable")
        }
        let topics = manifest.ros2
        let channels = (joints: try w.addTopic(topics.jointStates, type: SensorMsgs.JointState.self),
                        imu: try w.addTopic(topics.imu, type: SensorMsgs.Imu.self),
                        command: try w.addTopic(topics.jointCommands, type: StdMsgs.Float64MultiArray.self, metadata: metadata),
                        observation: try w.addTopic("/tether/observation", type: StdMsgs.Float64MultiArray.self),
                        action: try w.addTopic("/tether/action", type: StdMsgs.Float64MultiArray.self),
                        events: try w.addTopic("/tether/safety_events", type: TetherMsgs.SafetyEvent.self))
        var tf: UInt16?
        if let kinematics {
            tf = try w.addTopic("/tf", type: Tf2Msgs.TFMessage.self)
            // Once, at the start of each file (Foxglove and RViz take the latest description at or
            // before the playhead). No latched-QoS channel metadata: rosbags' reader skips a channel
            // whose offered_qos_profiles it cannot match, and a file has no late joiners anyway.
            let description = try w.addTopic("/robot_description", type: StdMsgs.Text.self)
            try w.write(StdMsgs.Text(data: kinematics.urdf()), channel: description, logTime: UInt64(max(0, epochOffset) * 1e9))
        }
        return Sink(writer: w, channels: channels, tf: tf)
    }

    private func write(_ r: FlightRecord, to sink: inout Sink) throws {
        let w = sink.writer
        let c = sink.channels
        func stampOf(_ t: Double) -> UInt64 { UInt64(max(0, epochOffset + (t - clockStart)) * 1e9) }
        let stamp = stampOf(r.time)
        let header = StdMsgs.Header(stamp: .init(nanoseconds: Int64(stamp)), frameID: "base")
        if let s = r.state, s.time != sink.lastStateTime {
            sink.lastStateTime = s.time
            let received = stampOf(r.stateReceivedAt ?? r.time)
            let stateHeader = StdMsgs.Header(stamp: .init(nanoseconds: Int64(received)), frameID: "base")
            try w.write(SensorMsgs.JointState(state: s, names: jointNames, header: stateHeader), channel: c.joints, logTime: received)
            if let imu = SensorMsgs.Imu(state: s, header: stateHeader) { try w.write(imu, channel: c.imu, logTime: received) }
            if let tf = sink.tf, let kinematics {
                let positions = s.jointPositions
                let transforms = kinematics.transforms(qpos: { address in self.jointOfAddress[address].flatMap { $0 < positions.count ? positions[$0] : nil } },
                                                       basePosition: s.basePosition, baseOrientation: s.baseOrientation)
                let message = Tf2Msgs.TFMessage(transforms: transforms.map { t in
                    GeometryMsgs.TransformStamped(header: .init(stamp: stateHeader.stamp, frameID: t.parent), childFrameID: t.child,
                                                  transform: .init(translation: .init(t.translation),
                                                                   rotation: .init(x: t.rotation.y, y: t.rotation.z, z: t.rotation.w, w: t.rotation.x)))
                })
                try w.write(message, channel: tf, logTime: received)
            }
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
        if let s = r.policyState {
            let channel = try sink.policyState ?? w.addTopic(Self.policyStateTopic, type: StdMsgs.Float64MultiArray.self)
            sink.policyState = channel
            try w.write(StdMsgs.Float64MultiArray(vector: s.map(Double.init), label: "policy_state"), channel: channel, logTime: stamp)
        }
        for e in r.events {
            let keys = e.values.keys.sorted()
            try w.write(TetherMsgs.SafetyEvent(header: header, reason: e.reason, message: e.message, joint: e.joint ?? "",
                                               keys: keys, values: keys.map { e.values[$0]! }), channel: c.events, logTime: stamp)
        }
    }
}

// MARK: - The control loop's path

extension FlightRecorder {
    /// Adds a tick from the control loop, allocating nothing once the recorder's queue exists (the
    /// first call creates it and starts the writer thread): the vectors are copied into a
    /// preallocated slot; the state and the events are kept by reference (a tick without events
    /// passes an empty array). The writer thread records it as ``record(_:)`` does.
    /// - Parameters:
    ///   - time: the tick's time on the runtime's clock, s.
    ///   - observation, action: the policy's input and raw output (nil outside the policy phase).
    ///   - command: the command sent, after the safety wrapper.
    ///   - policyState: a recurrent policy's state after the call (nil for a feed-forward policy).
    /// - Throws: the writer thread's first error (a full disk), at the call after it happened.
    public func recordTick(time: Double, state: RobotState?, stateReceivedAt: Double?, observation: UnsafeBufferPointer<Float>?,
                           action: UnsafeBufferPointer<Float>?, command: JointCommand?, events: [RecordedEvent], policyState: [Float]? = nil) throws {
        let queue = try startQueue()
        try queue.check()
        guard let i = queue.reserve() else { return }
        queue.fill(i, time: time, state: state, stateReceivedAt: stateReceivedAt, observation: observation, action: action, command: command,
                   events: events, policyState: policyState)
        queue.publish()
    }

    private func startQueue() throws -> TickQueue {
        if let queue { return queue }
        let q = TickQueue(capacity: Self.queueCapacity, observationSize: manifest.observationSize, actionSize: manifest.actionSize)
        q.start(WeakRecorder(recorder: self))
        queue = q
        return q
    }
}

/// The recorder seen from its writer thread, which must not keep it alive.
private struct WeakRecorder: @unchecked Sendable {
    weak var recorder: FlightRecorder?
}

/// A single-producer single-consumer queue of ticks in storage allocated once: the control loop
/// fills slot `head`, the writer thread empties slots `tail ..< head`. Only the indices are shared
/// under `lock`, for nanoseconds; the slots in between belong to one side at a time. `work` is
/// held while the writer records, so that a flush or a close on the loop's thread sees a whole tick.
private final class TickQueue: @unchecked Sendable {
    struct Meta {
        var time = 0.0
        var stateReceivedAt = 0.0
        var hasReceivedAt = false
        var observationCount = -1   // -1: none
        var actionCount = -1
        var commandCount = -1
    }
    struct References {
        var state: RobotState?
        var events: [RecordedEvent] = []
        var policyState: [Float]?
    }

    let capacity: Int, observationSize: Int, actionSize: Int
    /// Joints a command holds at most (a command of another size is recorded with the first this many).
    let jointCapacity: Int
    let observations: UnsafeMutablePointer<Float>
    let actions: UnsafeMutablePointer<Float>
    /// Per slot five blocks of `jointCapacity`: positions, velocities, torques, kp, kd.
    let commands: UnsafeMutablePointer<Double>
    let meta: UnsafeMutablePointer<Meta>
    let references: UnsafeMutablePointer<References>

    private let lock = NSLock()
    let work = NSLock()
    private var head = 0, tail = 0
    private var stopping = false, finished = false
    private var error: Error?
    private(set) var dropped = 0

    init(capacity: Int, observationSize: Int, actionSize: Int) {
        self.capacity = capacity
        self.observationSize = observationSize
        self.actionSize = actionSize
        jointCapacity = max(1, actionSize)
        observations = .allocate(capacity: capacity * max(1, observationSize))
        observations.initialize(repeating: 0, count: capacity * max(1, observationSize))
        actions = .allocate(capacity: capacity * max(1, actionSize))
        actions.initialize(repeating: 0, count: capacity * max(1, actionSize))
        commands = .allocate(capacity: capacity * 5 * jointCapacity)
        commands.initialize(repeating: 0, count: capacity * 5 * jointCapacity)
        meta = .allocate(capacity: capacity)
        meta.initialize(repeating: Meta(), count: capacity)
        references = .allocate(capacity: capacity)
        references.initialize(repeating: References(), count: capacity)
    }

    deinit {
        observations.deallocate()
        actions.deallocate()
        commands.deallocate()
        meta.deallocate()
        references.deinitialize(count: capacity)
        references.deallocate()
    }

    /// Throws the writer's error, if it had one.
    func check() throws {
        lock.lock()
        let e = error
        lock.unlock()
        if let e { throw e }
    }

    /// The slot to fill, or nil (counted as dropped) when the writer is a whole queue behind.
    func reserve() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard head - tail < capacity else {
            dropped += 1
            return nil
        }
        return head % capacity
    }

    func fill(_ i: Int, time: Double, state: RobotState?, stateReceivedAt: Double?, observation: UnsafeBufferPointer<Float>?,
              action: UnsafeBufferPointer<Float>?, command: JointCommand?, events: [RecordedEvent], policyState: [Float]?) {
        var m = Meta()
        m.time = time
        m.stateReceivedAt = stateReceivedAt ?? 0
        m.hasReceivedAt = stateReceivedAt != nil
        if let observation {
            let n = min(observation.count, observationSize)
            let base = observations + i * observationSize
            for k in 0..<n { base[k] = observation[k] }
            m.observationCount = n
        }
        if let action {
            let n = min(action.count, actionSize)
            let base = actions + i * actionSize
            for k in 0..<n { base[k] = action[k] }
            m.actionCount = n
        }
        if let command {
            let n = min(command.count, jointCapacity)
            let base = commands + i * 5 * jointCapacity
            for k in 0..<n {
                base[k] = command.positions[k]
                base[jointCapacity + k] = command.velocities[k]
                base[2 * jointCapacity + k] = command.torques[k]
                base[3 * jointCapacity + k] = command.kp[k]
                base[4 * jointCapacity + k] = command.kd[k]
            }
            m.commandCount = n
        }
        meta[i] = m
        references[i].state = state
        references[i].events = events
        references[i].policyState = policyState
    }

    func publish() {
        lock.lock()
        head += 1
        lock.unlock()
    }

    /// The tick in slot `i` as a record (fresh arrays: the slot is reused).
    func record(_ i: Int) -> FlightRecord {
        let m = meta[i]
        func floats(_ base: UnsafeMutablePointer<Float>, _ n: Int) -> [Float]? { n < 0 ? nil : Array(UnsafeBufferPointer(start: base, count: n)) }
        var command: JointCommand?
        if m.commandCount >= 0 {
            let base = commands + i * 5 * jointCapacity
            func block(_ b: Int) -> [Double] { Array(UnsafeBufferPointer(start: base + b * jointCapacity, count: m.commandCount)) }
            command = JointCommand(positions: block(0), velocities: block(1), torques: block(2), kp: block(3), kd: block(4))
        }
        var r = FlightRecord(time: m.time, state: references[i].state, stateReceivedAt: m.hasReceivedAt ? m.stateReceivedAt : nil,
                             observation: floats(observations + i * observationSize, m.observationCount),
                             action: floats(actions + i * actionSize, m.actionCount), command: command, events: references[i].events)
        r.policyState = references[i].policyState
        return r
    }

    /// Starts the writer thread.
    func start(_ owner: WeakRecorder) {
        let thread = Thread { [self] in self.writerLoop(owner) }
        thread.name = "tether-flight-recorder"
        thread.start()
    }

    private func writerLoop(_ owner: WeakRecorder) {
        while true {
            lock.lock()
            let from = tail, to = head, stop = stopping, failed = error != nil
            lock.unlock()
            if from == to {
                if stop || owner.recorder == nil { break }
                usleep(500)
                continue
            }
            work.lock()
            for n in from..<to {
                let i = n % capacity
                if !failed, let recorder = owner.recorder {
                    do {
                        try recorder.store(record(i))
                    } catch {
                        lock.lock()
                        if self.error == nil { self.error = error }
                        lock.unlock()
                    }
                }
                // The writer lets go of the tick's references, so that the loop never frees them.
                references[i] = References()
            }
            work.unlock()
            lock.lock()
            tail = to
            lock.unlock()
        }
        lock.lock()
        finished = true
        lock.unlock()
    }

    /// Waits until the writer has recorded every tick queued so far.
    func drain() {
        while true {
            lock.lock()
            let done = tail == head || finished
            lock.unlock()
            if done { return }
            usleep(100)
        }
    }

    /// Records what is queued, then ends the writer thread.
    func stop() {
        drain()
        lock.lock()
        stopping = true
        lock.unlock()
        while true {
            lock.lock()
            let done = finished
            lock.unlock()
            if done { return }
            usleep(100)
        }
    }
}
