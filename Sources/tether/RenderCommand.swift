import ArgumentParser
import Foundation
import TetherCore
import TetherRender
import TetherSim

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render a flight recording to an H.264 MP4 video with MuJoCo's renderer (headless, EGL).",
        discussion: """
            Reads the joint states (matched to the manifest by name) and, for a floating base, the IMU's \
            orientation, and renders each frame offscreen with MuJoCo's own renderer: Mesa's software \
            renderer on a machine without a GPU, the GPU's driver where there is one. An overlay shows \
            the time, the phase (policy or not) and the latest safety event; each stop is marked with a \
            red banner for two seconds. Frames go to ffmpeg (libx264, yuv420p), and --poster writes a \
            looping GIF beside the video.

            The base's position comes from the bag's odometry, else from /tf when the recording's backend \
            knew it (simulation, odometry); otherwise the robot is drawn at its starting position, \
            oriented by the IMU, with the camera following it.

            Examples:
              tether render out/deploy.mcap --out out/deploy.mp4
              tether render run.mcap --robot robots/g1/g1.yaml --size 640x360 --fps 25 --seconds 10 --poster
              tether render out/demo-deploy/stage-100/trial-00{0,1,2,3}.mcap --out trials.mp4 --no-effects
              tether render --compare sim/trial-003.mcap robot/trial-003.mcap --out trial-3.mp4
            """
    )

    @Argument(help: "Flight recordings or ROS 2 bags (.mcap), rendered one after the other into one video.") var recordings: [String]
    @Option(help: "Built-in robot or manifest the recording was made with.") var robot = "quadruped"
    @Option(help: "Output video (.mp4).") var out: String?
    @Option(help: "Frame size WIDTHxHEIGHT (even numbers).") var size = "1280x720"
    @Option(help: "Frames per second.") var fps = 30
    @Option(help: "Start this many seconds into the recording.") var from = 0.0
    @Option(help: "Render this many seconds (default: to the end).") var seconds: Double?
    @Option(help: "A camera of the model instead of the one following the base.") var camera: String?
    @Flag(help: "Also write a looping GIF poster (480 px wide) beside the video.") var poster = false
    @Flag(help: "No shadows, reflections or skybox (about four times as fast with a software renderer).") var noEffects = false
    @Flag(help: "Two recordings side by side, time-aligned: SIM.mcap REAL.mcap (the same trial in simulation and on the robot).") var compare = false
    @Option(help: "With --compare: the two panels' labels, comma-separated.") var labels = "simulation,robot"
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        guard parsedSize != nil else { throw ValidationError("--size must be WIDTHxHEIGHT (16…8192 each), e.g. 1280x720, not \(size)") }
        guard fps > 0, fps <= 240 else { throw ValidationError("--fps must be 1…240, got \(fps)") }
        guard from >= 0 else { throw ValidationError("--from must be 0 or more seconds") }
        if let seconds, !(seconds > 0) { throw ValidationError("--seconds must be positive") }
        if compare && recordings.count != 2 { throw ValidationError("--compare takes two recordings (SIM.mcap REAL.mcap), got \(recordings.count)") }
        if compare && labels.split(separator: ",").count != 2 { throw ValidationError("--labels takes two comma-separated labels, e.g. sim,robot") }
    }

    var parsedSize: (width: Int, height: Int)? { parseFrameSize(size) }

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        guard let first = recordings.first else { throw ValidationError("give at least one recording") }
        let output = out ?? ((first as NSString).deletingPathExtension + ".mp4")
        let segments = try recordings.map { path in
            (label: recordings.count > 1 ? (path as NSString).lastPathComponent : nil,
             timeline: try report { try RecordingTimeline(path: path, robot: robotModel) })
        }
        var render = RecordingRender()
        (render.width, render.height) = parsedSize!
        render.framesPerSecond = fps
        render.start = from
        render.seconds = seconds
        render.effects = !noEffects
        if let camera { render.camera = .named(camera) }
        if !json {
            let total = segments.reduce(0) { $0 + $1.timeline.duration }
            let what = recordings.count == 1 ? first : "\(recordings.count) recordings"
            emit("tether render: \(what) (\(String(format: "%.1f", total)) s, \(segments.reduce(0) { $0 + $1.timeline.poses.count }) joint states, "
                + "\(segments.reduce(0) { $0 + $1.timeline.events.count }) safety events"
                + (segments.first?.timeline.stage.map { ", stage \($0)" } ?? "") + ") → \(output), \(render.width)×\(render.height) at \(fps) fps")
        }
        var lastShown = -1
        let result = try report {
            let show: (Int, Int) -> Void = { frame, frames in
                guard !json else { return }
                let percent = frame * 100 / frames
                if percent != lastShown && (percent % 5 == 0 || frame == frames) {
                    lastShown = percent
                    FileHandle.standardError.write(Data("\r  rendering frame \(frame)/\(frames) (\(percent) %)".utf8))
                    if frame == frames { FileHandle.standardError.write(Data("\n".utf8)) }
                }
            }
            if compare {
                let names = labels.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                return try render.renderComparison(left: (names[0], segments[0].timeline), right: (names[1], segments[1].timeline), robot: robotModel,
                                                   to: output, progress: show)
            }
            return try render.render(segments, robot: robotModel, to: output, progress: show)
        }
        var gif: String?
        if poster {
            let path = (output as NSString).deletingPathExtension + ".gif"
            try report { try VideoEncoder.poster(from: output, to: path) }
            gif = path
        }
        if json {
            struct Output: Encodable { var result: RecordingRender.Result; var poster: String? }
            try printJSON(Output(result: result, poster: gif))
        } else {
            print("wrote \(output): \(result.frames) frames, \(String(format: "%.1f", result.seconds)) s, \(result.width)×\(result.height), "
                + "\(result.stops) stop\(result.stops == 1 ? "" : "s") marked; \(String(format: "%.1f", result.framesPerWallSecond)) frames/s "
                + "(\(result.renderer))")
            if let gif { print("wrote \(gif)") }
        }
    }
}
