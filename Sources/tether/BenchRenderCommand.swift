import ArgumentParser
import Foundation
import TetherBench
import TetherCore

extension Bench {
    struct RenderBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "render",
            abstract: "Offscreen rendering frames/s (quadruped, 720p) vs MuJoCo's Python Renderer.",
            discussion: """
            Renders the quadruped swinging its joints with a camera following the base, each frame \
            read back as RGB, through Tether's OffscreenRenderer (MuJoCo's mjr_* over EGL) and, in the \
            same run, through MuJoCo's Python Renderer (benchmarks/render_peer.py) on the same frames; \
            prints frames per second and the ratio. On a machine without a GPU both draw with Mesa's \
            llvmpipe. Video encoding (ffmpeg) is not timed. Build with -c release.

            Examples:
              tether bench render
              tether bench render --size 640x360 --frames 300 --json
            """
        )
        @Option(help: "Frame size WIDTHxHEIGHT.") var size = "1280x720"
        @Option(help: "Timed frames per side.") var frames = 120
        @Flag(help: "Skip the Python renderer.") var noPython = false
        @Flag(help: "Print the report as JSON.") var json = false

        func run() throws {
            guard let (width, height) = parseFrameSize(size) else { throw ValidationError("--size must be WIDTHxHEIGHT (16…8192 each), e.g. 1280x720") }
            guard frames > 0 else { throw ValidationError("--frames must be positive, got \(frames)") }
            if !json { print("tether bench render: quadruped, \(width)×\(height), \(frames) frames per side") }
            let bench = RenderBenchmark(width: width, height: height, frames: frames, includePeer: !noPython)
            let result = try report { try bench.run(log: json ? { _ in } : { print($0) }) }
            if json { try printJSON(result); return }
            if let r = result.ratio { print("ratio: Tether frames/s / Python frames/s = \(fmt(r, 2))x") }
            if let r = result.segmentationRatio { print("ground truth ratio: Tether frames/s / Python frames/s = \(fmt(r, 2))x") }
        }
    }
}
