import CMuJoCo
import Foundation
import TetherCore
import TetherROS
import TetherSafety
import TetherSim

/// A flight recording (or any ROS 2 bag with joint states, and an IMU for a floating base) as a
/// timeline of robot poses, safety events and phases, ready to render.
public struct RecordingTimeline: Sendable {
    /// One pose: joint positions in the manifest's joint order (nil: not in this message), base
    /// orientation (w, x, y, z), base position in the world (nil: not recorded).
    public struct Pose: Sendable {
        public var time: Double
        public var joints: [Double?]
        public var orientation: SIMD4<Double>?
        public var position: SIMD3<Double>? = nil
    }

    public struct Event: Sendable {
        public var time: Double
        public var reason: String
        public var message: String
        public var stops: Bool
        /// For a `stage_change`: the stage it changed to, as a fraction (0.25, 0.5, 1).
        public var stageTo: Double? = nil
    }

    public var path: String
    /// The torque stage the run started at ("25 %"), from the recording's channel metadata (nil:
    /// not recorded); stage changes during the run come as `stage_change` events, which the
    /// overlay follows.
    public var stage: String?
    public var poses: [Pose]
    public var events: [Event]
    /// Times of the policy's actions (`/tether/action`): the policy phase.
    public var actionTimes: [Double]
    /// Seconds from the first to the last pose.
    public var duration: Double { (poses.last?.time ?? 0) - (poses.first?.time ?? 0) }

    /// Reads `path` for `robot`: joint states on the manifest's topic (matched by joint name), the
    /// IMU's orientation, `/tether/safety_events` and `/tether/action`. Times are seconds from the
    /// first joint state.
    public init(path: String, robot: RobotModel) throws {
        self.path = path
        let reader: MCAPReader
        do { reader = try MCAPReader(path: path) } catch let error as TetherError {
            let unfinished = error.what.contains("not an MCAP file") ? nil : "an unfinished recording can be recovered first: tether log recover \(path)"
            throw TetherError("cannot read the recording: \(error.what)", at: path, hint: error.hint ?? unfinished)
        }
        let manifest = robot.manifest
        let topics = manifest.ros2
        stage = reader.channels.values.compactMap { $0.metadata["torque_stage"] }.first
        let joints: [(logTime: UInt64, message: SensorMsgs.JointState)]
        do {
            joints = try reader.messages(SensorMsgs.JointState.self, topic: topics.jointStates)
        } catch let error as TetherError {
            throw TetherError("\(error.what) (the joint states of the manifest \(manifest.name))", at: path,
                              hint: "pass the manifest of the robot that recorded it with --robot; \(error.hint ?? "")")
        }
        guard let first = joints.first else {
            throw TetherError("the recording has no joint states on \(topics.jointStates)", at: path,
                              hint: "render needs sensor_msgs/JointState on the manifest's ros2.joint_states topic: pass the recording robot's "
                                  + "manifest with --robot (set ros2.joint_states in it for another robot's bag)")
        }
        let t0 = first.logTime
        func seconds(_ t: UInt64) -> Double { t >= t0 ? Double(t - t0) / 1e9 : -Double(t0 - t) / 1e9 }
        let names = manifest.joints.map(\.name)
        var lastNames: [String] = []
        var index: [Int?] = []
        var poses: [Pose] = []
        poses.reserveCapacity(joints.count)
        var matchedAny = false
        for (logTime, m) in joints {
            if m.name != lastNames {
                lastNames = m.name
                let lookup = Dictionary(m.name.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
                index = names.map { lookup[$0] }
            }
            let q = index.map { i -> Double? in i.flatMap { $0 < m.position.count ? m.position[$0] : nil } }
            if q.contains(where: { $0 != nil }) { matchedAny = true }
            poses.append(Pose(time: seconds(logTime), joints: q, orientation: nil))
        }
        guard matchedAny else {
            throw TetherError("no joint in \(topics.jointStates) has a name of the manifest \(manifest.name) (the bag's: "
                + "\(lastNames.prefix(6).joined(separator: ", "))…)", at: path,
                              hint: "render the bag with the manifest of the robot that recorded it (--robot path/to/manifest.yaml)")
        }
        // Orientation from the IMU, attached to the nearest earlier pose onwards.
        if robot.baseSensors != nil {
            let imu = (try? reader.messages(SensorMsgs.Imu.self, topic: topics.imu)) ?? []
            var k = 0
            var current: SIMD4<Double>?
            for i in poses.indices {
                while k < imu.count, seconds(imu[k].logTime) <= poses[i].time {
                    let o = imu[k].message.orientation
                    let n = (o.w * o.w + o.x * o.x + o.y * o.y + o.z * o.z).squareRoot()
                    if n > 0.5, n.isFinite { current = SIMD4(o.w, o.x, o.y, o.z) / n }
                    k += 1
                }
                poses[i].orientation = current
            }
        }
        // Position of a floating base: odometry where the bag has it (a robot's estimate), else the
        // world → base transform of /tf (a flight recording whose backend knew the base position).
        // The recorder writes the model's root pose to /tf when the position is unknown, so /tf
        // counts only when it moves (more than 1 mm over the recording); otherwise the robot is
        // drawn where its model starts.
        if robot.baseSensors != nil {
            var samples: [(time: Double, position: SIMD3<Double>)] = ((try? reader.messages(NavMsgs.Odometry.self, topic: topics.odometry)) ?? [])
                .map { (seconds($0.logTime), SIMD3($0.message.pose.pose.position.x, $0.message.pose.pose.position.y, $0.message.pose.pose.position.z)) }
            if samples.isEmpty {
                samples = ((try? reader.messages(Tf2Msgs.TFMessage.self, topic: "/tf")) ?? []).compactMap { logTime, m in
                    m.transforms.first { $0.header.frameID == "world" }.map { t in
                        (seconds(logTime), SIMD3(t.transform.translation.x, t.transform.translation.y, t.transform.translation.z))
                    }
                }
                if let first = samples.first, !samples.contains(where: { (($0.position - first.position) * ($0.position - first.position)).sum() > 1e-6 }) {
                    samples = []
                }
            }
            samples = samples.filter { $0.position.x.isFinite && $0.position.y.isFinite && $0.position.z.isFinite }
            var k = 0
            var current: SIMD3<Double>?
            for i in poses.indices where !samples.isEmpty {
                while k < samples.count, samples[k].time <= poses[i].time {
                    current = samples[k].position
                    k += 1
                }
                poses[i].position = current ?? samples[0].position
            }
        }
        self.poses = poses
        events = ((try? reader.messages(TetherMsgs.SafetyEvent.self, topic: "/tether/safety_events")) ?? []).map { logTime, e in
            Event(time: seconds(logTime), reason: e.reason, message: e.message, stops: SafetyReason(rawValue: e.reason)?.stops ?? false,
                  stageTo: e.reason == SafetyReason.stageChange.rawValue ? zip(e.keys, e.values).first { $0.0 == "to" }?.1 : nil)
        }
        actionTimes = ((try? reader.messages(StdMsgs.Float64MultiArray.self, topic: "/tether/action")) ?? []).map { seconds($0.logTime) }
    }
}

/// Renders a recording to an H.264 MP4: a camera following the base (or a model camera), an
/// overlay with the time, the phase and the latest safety event, and a red banner for two seconds
/// from each stop.
public struct RecordingRender: Sendable {
    public var width = 1280
    public var height = 720
    public var framesPerSecond = 30
    public var camera = RenderCamera.followBase
    /// Render from this many seconds into the recording, for this long (nil: to the end).
    public var start = 0.0
    public var seconds: Double?
    /// Shadows, reflections, skybox (see `OffscreenRenderer.effects`).
    public var effects = true

    public init() {}

    public struct Result: Sendable, Codable {
        public var video: String
        public var frames: Int
        public var seconds: Double
        public var width: Int
        public var height: Int
        public var framesPerSecond: Int
        public var renderer: String
        public var stops: Int
        public var wallSeconds: Double
        public var framesPerWallSecond: Double { Double(frames) / max(wallSeconds, 1e-9) }
    }

    /// Renders `timeline` of `robot` to `output`; `progress(frame, frames)` after each frame.
    public func render(_ timeline: RecordingTimeline, robot: RobotModel, to output: String,
                       progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        try render([(nil, timeline)], robot: robot, to: output, progress: progress)
    }

    /// Renders several recordings one after the other into one video (`--start` / `--seconds`
    /// apply to each), each labelled in the overlay (e.g. "trial 3").
    public func render(_ segments: [(label: String?, timeline: RecordingTimeline)], robot: RobotModel, to output: String,
                       progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        let began = ContinuousClock.now
        let counts = segments.map { segment -> Int in
            let available = max(0, segment.timeline.duration - start)
            return Int((min(seconds ?? available, available) * Double(framesPerSecond)).rounded(.down))
        }
        let frames = counts.reduce(0, +)
        guard frames > 0 else {
            let longest = segments.map(\.timeline.duration).max() ?? 0
            throw TetherError("nothing to render: the recording\(segments.count == 1 ? " is" : "s are at most") \(String(format: "%.2f", longest)) s long "
                + "and the render starts at \(String(format: "%.2f", start)) s", at: segments.first?.timeline.path ?? "recording",
                              hint: "check --from / --seconds")
        }
        let data = SimData(model: robot.model)
        let stops = zip(segments, counts).filter { $0.1 > 0 }.reduce(0) { $0 + $1.0.timeline.events.filter(\.stops).count }
        var done = 0
        return try encode(frames: frames, robot: robot, to: output, stops: stops, began: began) { renderer, append in
            for (segment, count) in zip(segments, counts) where count > 0 {
                if let key = robot.keyframeID { mj_resetDataKeyframe(robot.model.raw, data.raw, Int32(key)) } else { data.reset() }
                var cursor = TimelineCursor(segment.timeline, label: segment.label)
                for frame in 0..<count {
                    let overlay = cursor.pose(data, robot: robot, at: start + Double(frame) / Double(framesPerSecond))
                    try renderer.render(data, overlay: overlay, append)
                    done += 1
                    progress(done, frames)
                }
            }
        }
    }

    /// The part every render shares: a renderer and an encoder of this size, `draw` rendering
    /// `frames` frames through them (each frame's pixels to `append`), the encoder finished, or
    /// cancelled (no partial file left) when anything throws.
    private func encode(frames: Int, robot: RobotModel, to output: String, stops: Int, began: ContinuousClock.Instant,
                        draw: (OffscreenRenderer, (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Void) throws -> Result {
        let renderer = try OffscreenRenderer(model: robot.model, width: width, height: height, camera: camera)
        renderer.effects = effects
        let encoder = try VideoEncoder(path: output, width: width, height: height, framesPerSecond: framesPerSecond)
        var completed = false
        defer { if !completed { encoder.cancel() } }
        try draw(renderer) { try encoder.append($0) }
        try encoder.finish()
        completed = true
        return Result(video: output, frames: frames, seconds: Double(frames) / Double(framesPerSecond), width: width, height: height,
                      framesPerSecond: framesPerSecond, renderer: renderer.glRenderer, stops: stops, wallSeconds: (ContinuousClock.now - began).seconds)
    }
}

extension RecordingRender {
    /// Renders two recordings side by side, time-aligned from their first joint states (the same
    /// trial in simulation and on the robot): each half follows its own robot; the shorter one
    /// holds its last pose. The width is split between the two.
    public func renderComparison(left: (label: String, timeline: RecordingTimeline), right: (label: String, timeline: RecordingTimeline),
                                 robot: RobotModel, to output: String, progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        let began = ContinuousClock.now
        let available = max(0, max(left.timeline.duration, right.timeline.duration) - start)
        let frames = Int((min(seconds ?? available, available) * Double(framesPerSecond)).rounded(.down))
        guard frames > 0 else {
            throw TetherError("nothing to render: the recordings end before \(String(format: "%.2f", start)) s", at: left.timeline.path,
                              hint: "check --from / --seconds")
        }
        let datas = [SimData(model: robot.model), SimData(model: robot.model)]
        for data in datas { if let key = robot.keyframeID { mj_resetDataKeyframe(robot.model.raw, data.raw, Int32(key)) } }
        var cursors = [TimelineCursor(left.timeline, label: left.label), TimelineCursor(right.timeline, label: right.label)]
        let stops = left.timeline.events.filter(\.stops).count + right.timeline.events.filter(\.stops).count
        return try encode(frames: frames, robot: robot, to: output, stops: stops, began: began) { renderer, append in
            for frame in 0..<frames {
                let t = start + Double(frame) / Double(framesPerSecond)
                let overlays = (0..<2).map { cursors[$0].pose(datas[$0], robot: robot, at: t) }
                try renderer.render(panels: [(datas[0], overlays[0]), (datas[1], overlays[1])], append)
                progress(frame + 1, frames)
            }
        }
    }
}

/// Walks a timeline forward: the pose at a time (the latest joint state and orientation at or
/// before it), the phase, the latest event and a stop's banner for two seconds.
struct TimelineCursor {
    let timeline: RecordingTimeline
    let label: String?
    var poseIndex = 0, eventIndex = 0, actionIndex = 0
    var lastEvent: RecordingTimeline.Event?, lastStop: RecordingTimeline.Event?
    /// The torque stage now: the recording's starting stage, then each `stage_change`'s.
    var stage: String?

    init(_ timeline: RecordingTimeline, label: String?) {
        self.timeline = timeline
        self.label = label
        stage = timeline.stage
    }

    /// Sets `data` to the pose `offset` seconds after the timeline's start and computes positions;
    /// returns the overlay for that moment.
    mutating func pose(_ data: SimData, robot: RobotModel, at offset: Double) -> OffscreenRenderer.Overlay {
        let t0 = timeline.poses[0].time, t = t0 + offset
        while poseIndex + 1 < timeline.poses.count, timeline.poses[poseIndex + 1].time <= t { poseIndex += 1 }
        let pose = timeline.poses[poseIndex]
        for (j, q) in pose.joints.enumerated() { if let q { data.qpos[robot.qposAddress[j]] = q } }
        if let base = robot.baseSensors, let o = pose.orientation {
            for k in 0..<4 { data.qpos[base.freeJointQposAddress + 3 + k] = o[k] }
        }
        if let base = robot.baseSensors, let p = pose.position {
            for k in 0..<3 { data.qpos[base.freeJointQposAddress + k] = p[k] }
        }
        data.forward()
        while eventIndex < timeline.events.count, timeline.events[eventIndex].time <= t {
            lastEvent = timeline.events[eventIndex]
            if lastEvent!.stops { lastStop = lastEvent }
            if let to = lastEvent!.stageTo, to.isFinite { stage = "\(Int((to * 100).rounded())) %" }
            eventIndex += 1
        }
        while actionIndex < timeline.actionTimes.count, timeline.actionTimes[actionIndex] <= t { actionIndex += 1 }
        let inPolicy = actionIndex > 0 && t - timeline.actionTimes[actionIndex - 1] < 0.25
        var lines: [(String, String)] = []
        if let label { lines.append(("run", label)) }
        lines += [("time", String(format: "%.2f s", min(t, timeline.poses.last!.time) - t0)), ("phase", inPolicy ? "policy" : "no policy")]
        if let stage { lines.append(("stage", stage)) }
        if let e = lastEvent { lines.append(("event", "\(e.reason) at \(String(format: "%.2f", e.time - t0)) s")) }
        var banner: String?
        if let s = lastStop, t - s.time < 2 { banner = "STOP: \(s.reason) at \(String(format: "%.2f", s.time - t0)) s" }
        return .init(lines: lines, banner: banner)
    }
}
