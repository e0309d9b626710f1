import Foundation
import Testing
import TetherCore
import TetherROS
@testable import TetherRender
import TetherSim

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// `tether render`'s pieces, checked with an independent decoder (ffprobe / ffmpeg), not golden images.
@Suite(.serialized) struct RenderTests {
    /// Writes a recording of the quadruped: `seconds` of joint states at 50 Hz (the default pose,
    /// then from `foldAt` every joint bent far), an upright IMU, and a stop at `stopAt`.
    static func recording(seconds: Double, foldAt: Double, stopAt: Double) throws -> (String, RobotModel) {
        let robot = try BuiltinRobots.load("quadruped")
        let path = NSTemporaryDirectory() + "tether-render-\(UUID().uuidString).mcap"
        let writer = try MCAPWriter(path: path)
        let topics = robot.manifest.ros2
        let joints = try writer.addTopic(topics.jointStates, type: SensorMsgs.JointState.self, metadata: ["torque_stage": "50 %"])
        let imu = try writer.addTopic(topics.imu, type: SensorMsgs.Imu.self)
        let events = try writer.addTopic("/tether/safety_events", type: TetherMsgs.SafetyEvent.self)
        let start: UInt64 = 1_700_000_000_000_000_000
        let names = robot.manifest.joints.map(\.name)
        for k in 0..<Int(seconds * 50) {
            let t = Double(k) / 50
            let stamp = start + UInt64(t * 1e9)
            let q = robot.manifest.joints.enumerated().map { i, j in t >= foldAt ? j.defaultPosition + (i % 3 == 0 ? 0.6 : -1.2) : j.defaultPosition }
            try writer.write(SensorMsgs.JointState(header: .init(stamp: .init(nanoseconds: Int64(stamp)), frameID: "base"), name: names, position: q,
                                                   velocity: [], effort: []), channel: joints, logTime: stamp)
            try writer.write(SensorMsgs.Imu(orientation: .init(x: 0, y: 0, z: 0, w: 1)), channel: imu, logTime: stamp)
        }
        let stopStamp = start + UInt64(stopAt * 1e9)
        try writer.write(TetherMsgs.SafetyEvent(reason: "tilt_limit", message: "the base tilted beyond the limit"), channel: events, logTime: stopStamp)
        try writer.close()
        return (path, robot)
    }

    static func ffprobe(_ video: String) throws -> [String: String] {
        let out = try TetherPaths.run("/usr/bin/env", ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                                       "stream=codec_name,width,height,nb_read_frames,pix_fmt:format=duration,format_name",
                                                       "-of", "default=noprint_wrappers=1", video])
        var fields: [String: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        return fields
    }

    /// Frame `index` decoded by ffmpeg, RGB rows.
    static func frame(_ video: String, index: Int, width: Int, height: Int) throws -> [UInt8] {
        let raw = NSTemporaryDirectory() + "tether-render-frame-\(UUID().uuidString).rgb"
        defer { try? FileManager.default.removeItem(atPath: raw) }
        _ = try TetherPaths.run("/usr/bin/env", ["ffmpeg", "-v", "error", "-y", "-i", video, "-vf", "select=eq(n\\,\(index))", "-vframes", "1",
                                                 "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
        #expect(bytes.count == width * height * 3)
        return bytes
    }

    @Test func aRecordingRendersToAnH264VideoAnIndependentDecoderReads() throws {
        let (path, robot) = try Self.recording(seconds: 2, foldAt: 1, stopAt: 1.5)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let timeline = try RecordingTimeline(path: path, robot: robot)
        #expect(timeline.poses.count == 100)
        #expect(timeline.events.count == 1 && timeline.events[0].stops)
        #expect(timeline.stage == "50 %")
        var render = RecordingRender()
        render.width = 320
        render.height = 240
        render.framesPerSecond = 10
        let video = NSTemporaryDirectory() + "tether-render-\(UUID().uuidString).mp4"
        defer { try? FileManager.default.removeItem(atPath: video) }
        var progress: [Int] = []
        let result = try render.render(timeline, robot: robot, to: video) { frame, _ in progress.append(frame) }
        #expect(progress == Array(1...19))
        #expect(result.frames == 19 && result.stops == 1)
        #expect(!FileManager.default.fileExists(atPath: video + ".partial.mp4"))
        let probe = try Self.ffprobe(video)
        #expect(probe["codec_name"] == "h264")
        #expect(probe["width"] == "320" && probe["height"] == "240")
        #expect(probe["nb_read_frames"] == "19")
        #expect(probe["pix_fmt"] == "yuv420p")
        #expect(abs((Double(probe["duration"] ?? "") ?? 0) - 1.9) < 0.11)

        // The robot is where the camera follows it: folding every joint changes the middle of the
        // frame, not its corners. Frame 5 (0.5 s): default pose; frame 12 (1.2 s): folded, no banner yet.
        let (w, h) = (320, 240)
        let before = try Self.frame(video, index: 5, width: w, height: h), after = try Self.frame(video, index: 12, width: w, height: h)
        var centre = 0, corners = 0
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 3
                let d = (0..<3).map { abs(Int(before[i + $0]) - Int(after[i + $0])) }.max()!
                guard d > 40 else { continue }
                let inCentre = abs(x - w / 2) < w / 4 && abs(y - h / 2) < h / 3
                if inCentre { centre += 1 } else if (x < w / 5 || x > 4 * w / 5) && (y < h / 6 || y > 5 * h / 6) { corners += 1 }
            }
        }
        #expect(centre > 300, "folding the legs changed \(centre) pixels in the middle of the frame")
        #expect(corners < centre / 20, "and \(corners) in the corners")

        // The stop at 1.5 s: a red band across the top from frame 15, none before (measured left and
        // right of the middle, where the banner's text is).
        func redTop(_ f: [UInt8]) -> Double {
            var red = 0, all = 0
            for y in 2..<(h / 14) { for x in stride(from: 0, to: w, by: 2) where x < w / 5 || x > 4 * w / 5 {
                let i = (y * w + x) * 3
                all += 1
                if f[i] > 140 && f[i + 1] < 80 && f[i + 2] < 80 { red += 1 }
            } }
            return Double(red) / Double(all)
        }
        let stopped = try Self.frame(video, index: 16, width: w, height: h)
        #expect(redTop(stopped) > 0.5, "the stop's banner")
        #expect(redTop(after) < 0.05, "no banner before the stop")
    }

    @Test func twoRecordingsSideBySideAreTimeAligned() throws {
        let (folding, robot) = try Self.recording(seconds: 1.5, foldAt: 0.5, stopAt: 1.4)
        let (standing, _) = try Self.recording(seconds: 1.5, foldAt: 10, stopAt: 1.4)
        defer { for p in [folding, standing] { try? FileManager.default.removeItem(atPath: p) } }
        var render = RecordingRender()
        (render.width, render.height, render.framesPerSecond) = (320, 240, 10)
        render.effects = false
        let video = NSTemporaryDirectory() + "tether-render-compare-\(UUID().uuidString).mp4"
        defer { try? FileManager.default.removeItem(atPath: video) }
        let result = try render.renderComparison(left: ("sim", try RecordingTimeline(path: standing, robot: robot)),
                                                 right: ("robot", try RecordingTimeline(path: folding, robot: robot)), robot: robot, to: video)
        #expect(result.frames == 14)
        let probe = try Self.ffprobe(video)
        #expect(probe["width"] == "320" && probe["height"] == "240" && probe["nb_read_frames"] == "14")
        // Frame 2 (0.2 s): both stand, the halves alike; frame 8 (0.8 s): the right one has folded.
        // Compared above the overlays (which differ: "sim", "robot").
        func halvesDiffer(_ f: [UInt8]) -> Int {
            var n = 0
            for y in 30..<140 { for x in 30..<130 {
                let a = (y * 320 + x) * 3, b = (y * 320 + x + 160) * 3
                if (0..<3).map({ abs(Int(f[a + $0]) - Int(f[b + $0])) }).max()! > 40 { n += 1 }
            } }
            return n
        }
        let early = halvesDiffer(try Self.frame(video, index: 2, width: 320, height: 240))
        let late = halvesDiffer(try Self.frame(video, index: 8, width: 320, height: 240))
        #expect(late > 100 && late > 5 * max(early, 1), "halves differ by \(early) pixels while both stand, \(late) once one folded")
    }

    @Test func badInputGetsClearErrors() throws {
        let robot = try BuiltinRobots.load("quadruped")
        // Not a recording.
        let junk = NSTemporaryDirectory() + "tether-render-junk-\(UUID().uuidString).mcap"
        try Data("not an mcap".utf8).write(to: URL(fileURLWithPath: junk))
        defer { try? FileManager.default.removeItem(atPath: junk) }
        #expect(throws: TetherError.self) { try RecordingTimeline(path: junk, robot: robot) }
        // A recording of another robot (no joint names in common).
        let cartpole = try BuiltinRobots.load("cartpole")
        let (path, _) = try Self.recording(seconds: 0.5, foldAt: 1, stopAt: 0.2)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try RecordingTimeline(path: path, robot: cartpole)
            Issue.record("a quadruped's recording rendered as a cartpole")
        } catch let error as TetherError {
            #expect(error.what.contains("joint") && error.hint?.contains("--robot") == true)
        }
        // A camera the model does not have; an odd frame size for H.264.
        #expect(throws: TetherError.self) { try OffscreenRenderer(model: robot.model, width: 64, height: 48, camera: .named("nope")) }
        #expect(throws: TetherError.self) { try VideoEncoder(path: NSTemporaryDirectory() + "x.mp4", width: 321, height: 240, framesPerSecond: 30) }
        // Starting past the end.
        var render = RecordingRender()
        render.start = 5
        #expect(throws: TetherError.self) {
            try render.render(try RecordingTimeline(path: path, robot: robot), robot: robot, to: NSTemporaryDirectory() + "never.mp4")
        }
    }

    /// The overlay's stage follows the recording: its starting stage from the channel metadata,
    /// then each `stage_change` event's new stage from the moment it happened.
    @Test func theOverlaysStageFollowsStageChanges() throws {
        let (path, robot) = try Self.recording(seconds: 3, foldAt: 10, stopAt: 2.9)
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Append a stage change at 1 s to a copy with the same messages.
        let changed = NSTemporaryDirectory() + "tether-render-stage-\(UUID().uuidString).mcap"
        defer { try? FileManager.default.removeItem(atPath: changed) }
        let reader = try MCAPReader(path: path)
        let writer = try MCAPWriter(path: changed)
        let topics = robot.manifest.ros2
        let joints = try writer.addTopic(topics.jointStates, type: SensorMsgs.JointState.self, metadata: ["torque_stage": "25 %"])
        let events = try writer.addTopic("/tether/safety_events", type: TetherMsgs.SafetyEvent.self)
        let states = try reader.messages(SensorMsgs.JointState.self, topic: topics.jointStates)
        for (logTime, m) in states { try writer.write(m, channel: joints, logTime: logTime) }
        let t0 = try #require(states.first?.logTime)
        try writer.write(TetherMsgs.SafetyEvent(reason: "stage_change", message: "torque stage raised from 0.25 to 0.5", keys: ["from", "to"],
                                                values: [0.25, 0.5]), channel: events, logTime: t0 + 1_000_000_000)
        try writer.close()
        let timeline = try RecordingTimeline(path: changed, robot: robot)
        #expect(timeline.stage == "25 %")
        var cursor = TimelineCursor(timeline, label: nil)
        let data = SimData(model: robot.model)
        let before = cursor.pose(data, robot: robot, at: 0.5).lines.first { $0.0 == "stage" }?.1
        let after = cursor.pose(data, robot: robot, at: 1.5).lines.first { $0.0 == "stage" }?.1
        #expect(before == "25 %")
        #expect(after == "50 %")
    }
}
