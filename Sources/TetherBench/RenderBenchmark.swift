import CMuJoCo
import Foundation
import TetherCore
import TetherRender
import TetherSim

/// `tether bench render`: frames per second of MuJoCo's renderer driven from Swift
/// (`OffscreenRenderer`: EGL, offscreen, each frame read back as RGB) for the quadruped at 720p,
/// against MuJoCo's Python `Renderer` drawing the same frames (same model, size, tracking camera
/// and joint trajectory) in the same run (`benchmarks/render_peer.py`). Encoding is not timed on
/// either side: it is ffmpeg's work.
public struct RenderBenchmark: Sendable {
    public var width: Int
    public var height: Int
    public var frames: Int
    public var warmup = 10
    public var includePeer: Bool

    /// Also time the virtual camera's ground truth (segmentation + boxes) on the front camera.
    public var segmentation = true

    public init(width: Int = 1280, height: Int = 720, frames: Int = 120, includePeer: Bool = true) {
        self.width = width
        self.height = height
        self.frames = frames
        self.includePeer = includePeer
    }

    /// Frames per second of `draw` over the frames both sides draw: from the keyframe, each joint
    /// swinging about its default at 1 Hz (30 fps); `warmup` untimed frames first (`draw`'s second
    /// argument is false for them).
    private func timeFrames(_ robot: RobotModel, draw: (SimData, Bool) -> Void) -> Double {
        let data = SimData(model: robot.model)
        if let key = robot.keyframeID { mj_resetDataKeyframe(robot.model.raw, data.raw, Int32(key)) }
        let defaults = robot.manifest.joints.map(\.defaultPosition)
        func frame(_ i: Int, timed: Bool) {
            for (j, address) in robot.qposAddress.enumerated() {
                data.qpos[address] = defaults[j] + 0.3 * sin(2 * Double.pi * Double(i) / 30 + Double(j))
            }
            data.forward()
            draw(data, timed)
        }
        for i in 0..<warmup { frame(i, timed: false) }
        let start = ContinuousClock.now
        for i in 0..<frames { frame(i, timed: true) }
        return Double(frames) / (ContinuousClock.now - start).seconds
    }

    /// The Python peer's command line for the same model, size and frames (`benchmarks/render_peer.py`).
    private func peerArguments(_ robot: RobotModel, root: String) -> [String] {
        ["\(root)/benchmarks/render_peer.py", robot.manifest.modelPath, "--width", "\(width)", "--height", "\(height)",
         "--frames", "\(frames)", "--warmup", "\(warmup)", "--qpos-addresses", robot.qposAddress.map(String.init).joined(separator: ","),
         "--defaults", robot.manifest.joints.map { String($0.defaultPosition) }.joined(separator: ","), "--keyframe", "\(robot.keyframeID ?? -1)"]
    }

    /// The ground truth's cost: MuJoCo's segmentation of the front camera's frame read back as
    /// geom ids and the boxes of the `seen_` geoms (`OffscreenRenderer.segment` + `ObjectBox`),
    /// against the Python `Renderer`'s segmentation and numpy's boxes of the same geoms, same
    /// frames (`benchmarks/render_peer.py --segmentation`).
    private func measureSegmentation(_ robot: RobotModel, into report: inout Report, log: (String) -> Void) throws {
        let names = robot.model.names(of: .geom).filter { $0.hasPrefix("seen_") }
        let geoms = names.compactMap { robot.model.id(of: .geom, $0) }
        guard !geoms.isEmpty, robot.model.cameraNames.contains("front") else { return }
        let renderer = try OffscreenRenderer(model: robot.model, width: width, height: height, camera: .named("front"))
        var boxes = 0
        let mine = timeFrames(robot) { data, timed in
            let found = renderer.segment(data) { ObjectBox.boxes(in: $0, width: width, height: height, geoms: geoms).count }
            if timed { boxes += found }
        }
        report.tetherSegmentationFramesPerSecond = mine
        report.boxesPerFrame = Double(boxes) / Double(frames)
        log(String(format: "  ground truth, tether (segment + boxes) %7.1f frames/s  (%.2f boxes per frame, front camera)", mine,
                   Double(boxes) / Double(frames)))
        guard includePeer, let root = TetherPaths.checkoutRoot() else { return }
        let out = try TetherPaths.run(try TetherPaths.python(),
                                      peerArguments(robot, root: root) + ["--segmentation", names.joined(separator: ","), "--camera", "front"])
        struct Peer: Decodable { var fps: Double; var boxesPerFrame: Double }
        let peer = try JSONDecoder().decode(Peer.self, from: Data(out.utf8))
        report.pythonSegmentationFramesPerSecond = peer.fps
        report.segmentationRatio = mine / peer.fps
        log(String(format: "  ground truth, python (Renderer segmentation + numpy) %5.1f frames/s  (%.2f boxes per frame)", peer.fps, peer.boxesPerFrame))
        if abs(peer.boxesPerFrame - Double(boxes) / Double(frames)) > 1e-9 {
            log("  warning: the two sides found different numbers of boxes; the comparison is not of the same work")
        }
    }

    public struct Report: Sendable, Codable {
        public var width: Int
        public var height: Int
        public var frames: Int
        public var renderer: String
        public var tetherFramesPerSecond: Double
        public var pythonFramesPerSecond: Double?
        public var pythonRenderer: String?
        /// Tether fps / Python fps (higher is better).
        public var ratio: Double?
        /// The virtual camera's ground truth (`tether emulate --camera-ground-truth`): segmentation
        /// frames of the front camera with the labelled objects' boxes, per second.
        public var tetherSegmentationFramesPerSecond: Double?
        public var pythonSegmentationFramesPerSecond: Double?
        /// Tether / Python for the ground truth (higher is better).
        public var segmentationRatio: Double?
        /// Boxes found per frame (both sides must agree; a check that the work is the same).
        public var boxesPerFrame: Double?
    }

    public func run(log: (String) -> Void = { _ in }) throws -> Report {
        let robot = try BuiltinRobots.load("quadruped")
        let renderer = try OffscreenRenderer(model: robot.model, width: width, height: height)
        var checksum = 0
        let mine = timeFrames(robot) { data, _ in renderer.render(data) { checksum &+= Int($0[(height / 2 * width + width / 2) * 3]) } }
        log(String(format: "  tether (Swift, mjr_* over EGL)      %7.1f frames/s  (%@)", mine, renderer.glRenderer))
        var report = Report(width: width, height: height, frames: frames, renderer: renderer.glRenderer, tetherFramesPerSecond: mine)
        if includePeer {
            guard let root = TetherPaths.checkoutRoot() else { throw TetherError("cannot find the Tether checkout for benchmarks/render_peer.py") }
            let out = try TetherPaths.run(try TetherPaths.python(), peerArguments(robot, root: root))
            struct Peer: Decodable { var fps: Double; var renderer: String }
            let peer = try JSONDecoder().decode(Peer.self, from: Data(out.utf8))
            report.pythonFramesPerSecond = peer.fps
            report.pythonRenderer = peer.renderer
            report.ratio = mine / peer.fps
            log(String(format: "  python (mujoco.Renderer, EGL)       %7.1f frames/s  (%@)", peer.fps, peer.renderer))
        }
        if segmentation { try measureSegmentation(robot, into: &report, log: log) }
        if checksum == Int.min { log("  (checksum)") }
        return report
    }
}
