import Foundation
import TetherCore
import TetherRender
import TetherROS
import TetherRuntime
import TetherSim

/// How a real camera spoils an image: sensor noise, defocus blur, exposure and a colour cast.
/// Applied to rendered frames by the virtual camera (the vision gap between rendered and real).
public struct CameraDegradation: Sendable, Equatable {
    /// Gaussian noise, standard deviation in 0–255 units.
    public var noise: Double
    /// Box blur radius, pixels (0: none).
    public var blur: Int
    /// Exposure gain (1: as rendered; < 1 darker).
    public var exposure: Double
    /// Per-channel gains (red, green, blue): a white-balance error.
    public var colourCast: SIMD3<Double>

    public init(noise: Double = 0, blur: Int = 0, exposure: Double = 1, colourCast: SIMD3<Double> = .one) {
        self.noise = noise
        self.blur = blur
        self.exposure = exposure
        self.colourCast = colourCast
    }

    /// None: the rendered image as is.
    public static let none = CameraDegradation()

    /// The camera of a truth preset (a truth file gets `typical`'s): mild, typical, harsh.
    public static func forTruth(_ name: String) -> CameraDegradation {
        switch name {
        case "nominal": return .none
        case "mild": return CameraDegradation(noise: 2, blur: 0, exposure: 0.95, colourCast: SIMD3(1.02, 1, 0.98))
        case "harsh": return CameraDegradation(noise: 10, blur: 2, exposure: 0.7, colourCast: SIMD3(1.12, 0.95, 0.82))
        default: return CameraDegradation(noise: 5, blur: 1, exposure: 0.85, colourCast: SIMD3(1.06, 1, 0.9))
        }
    }

    /// Degrades an RGB image in place (`width × height × 3`); `random` drives the noise.
    public func apply(to rgb: inout [UInt8], width: Int, height: Int, random: inout SeededRandom) {
        if blur > 0 { Self.boxBlur(&rgb, width: width, height: height, radius: blur) }
        let gains = colourCast * exposure
        for i in stride(from: 0, to: rgb.count, by: 3) {
            for c in 0..<3 {
                var v = Double(rgb[i + c]) * gains[c]
                if noise > 0 { v += noise * random.gaussian() }
                rgb[i + c] = UInt8(max(0, min(255, v.rounded())))
            }
        }
    }

    /// A separable box blur (horizontal then vertical), edges clamped.
    static func boxBlur(_ rgb: inout [UInt8], width: Int, height: Int, radius: Int) {
        var tmp = rgb
        let n = Double(2 * radius + 1)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    var sum = 0
                    for dx in -radius...radius { sum += Int(rgb[(y * width + min(width - 1, max(0, x + dx))) * 3 + c]) }
                    tmp[(y * width + x) * 3 + c] = UInt8((Double(sum) / n).rounded())
                }
            }
        }
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    var sum = 0
                    for dy in -radius...radius { sum += Int(tmp[(min(height - 1, max(0, y + dy)) * width + x) * 3 + c]) }
                    rgb[(y * width + x) * 3 + c] = UInt8((Double(sum) / n).rounded())
                }
            }
        }
    }
}

/// A camera of the virtual robot's model, published over ROS 2 as `sensor_msgs/Image` (rgb8) at a
/// set rate: the true pose of the simulated robot is copied on the server's thread (`offer`),
/// rendered with MuJoCo's renderer on the camera's own thread (it holds the GL context), spoilt
/// by the truth's camera degradations, and published. A frame still rendering when the next is
/// due is skipped, not queued (a real camera drops frames too); `framesDropped` counts them.
///
/// With a `CameraGroundTruth`, each frame also goes out as rendered (before the degradations) and
/// with the exact boxes of the labelled objects, all three messages stamped alike, so a detector
/// can be scored on both images of the same instant (`tether detect --ros2 --live-gap`).
public final class VirtualCamera: @unchecked Sendable {
    public let camera: String
    public let topic: String
    public let width: Int
    public let height: Int
    public let rateHz: Double
    public let degradation: CameraDegradation
    private let model: SimModel
    private let publisher: DDSPublisher<SensorMsgs.Image>
    public let groundTruth: CameraGroundTruth?
    /// The labelled geoms (id, name, class), with a ground truth.
    public let labelled: [(geom: Int, name: String, className: String)]
    private let renderedPublisher: DDSPublisher<SensorMsgs.Image>?
    private let truthPublisher: DDSPublisher<VisionMsgs.Detection2DArray>?
    private let lock = NSCondition()
    private var pending: (qpos: [Double], time: Double)?
    private var nextDue = -Double.infinity
    private var stopped = false
    private var thread: Thread?
    private var failure: Error?
    public private(set) var framesPublished = 0
    public private(set) var framesDropped = 0
    /// The GL renderer's name, once the camera's thread has started.
    public private(set) var renderer: String?

    /// Checks the camera (and the labelled geoms) exist in `model` and starts the publishers;
    /// frames flow after `start()`.
    public init(model: SimModel, camera: String, participant: DDSParticipant, topic: String = "/camera/image_raw", width: Int = 640,
                height: Int = 480, rateHz: Double = 10, degradation: CameraDegradation, groundTruth: CameraGroundTruth? = nil) throws {
        guard rateHz > 0, rateHz <= 120 else { throw TetherError("a camera rate of \(rateHz) Hz is out of range", at: "--camera-rate", hint: "use 1-120 Hz") }
        let cameras = model.cameraNames
        guard cameras.contains(camera) else {
            throw TetherError("the model has no camera '\(camera)'", at: "--camera",
                              hint: cameras.isEmpty ? "add a <camera name=…> to the model" : "cameras: \(cameras.joined(separator: ", "))")
        }
        self.model = model
        self.camera = camera
        self.topic = topic
        self.width = width
        self.height = height
        self.rateHz = rateHz
        self.degradation = degradation
        self.groundTruth = groundTruth
        if let groundTruth {
            let topics = [topic, groundTruth.renderedTopic, groundTruth.truthTopic]
            guard Set(topics).count == 3 else {
                throw TetherError("the camera's topics are not distinct: \(topics.joined(separator: ", "))",
                                  at: "--camera-rendered-topic / --camera-truth-topic",
                                  hint: "give the degraded image, the rendered image and the ground truth a topic each")
            }
            labelled = try groundTruth.labels.resolve(in: model)
            renderedPublisher = try DDSPublisher(participant, topic: groundTruth.renderedTopic, qos: .sensorData)
            truthPublisher = try DDSPublisher(participant, topic: groundTruth.truthTopic)
        } else {
            labelled = []
            renderedPublisher = nil
            truthPublisher = nil
        }
        publisher = try DDSPublisher(participant, topic: topic, qos: .sensorData)
    }

    /// Starts the rendering thread.
    public func start() {
        let t = Thread { [weak self] in self?.renderLoop() }
        t.name = "tether-virtual-camera"
        thread = t
        t.start()
    }

    /// Offers the robot's state at `time` (runtime clock): taken when a frame is due.
    public func offer(_ robot: VirtualRobot, at time: Double) {
        lock.lock()
        defer { lock.unlock() }
        guard time >= nextDue else { return }
        nextDue = max(nextDue + 1 / rateHz, time)
        if pending != nil { framesDropped += 1 }
        var q = pending?.qpos ?? []
        let t = robot.copyConfiguration(into: &q)
        pending = (q, t)
        lock.broadcast()
    }

    /// Blocks until the rendering thread has taken the frame offered last (it may still be
    /// rendering it), or has stopped: for a robot on a simulated clock, faster than real time, that
    /// wants every due frame rather than the latest one (`FilmedRobot.everyFrame`).
    public func waitForPendingFrame() {
        lock.lock()
        defer { lock.unlock() }
        while pending != nil && !stopped && failure == nil && thread.map({ !$0.isFinished }) == true { _ = lock.wait(until: Date(timeIntervalSinceNow: 0.1)) }
    }

    /// Stops the thread (after the frame in progress) and reports a rendering failure, if any.
    public func stop() throws {
        lock.lock()
        stopped = true
        lock.signal()
        lock.unlock()
        while thread?.isExecuting == true { usleep(2000) }
        if let failure { throw failure }
    }

    private func renderLoop() {
        do {
            let renderer = try OffscreenRenderer(model: model, width: width, height: height, camera: .named(camera))
            lock.lock(); self.renderer = renderer.glRenderer; lock.unlock()
            let data = SimData(model: model)
            let classes = Dictionary(labelled.map { ($0.geom, (name: $0.name, className: $0.className)) }, uniquingKeysWith: { a, _ in a })
            var random = SeededRandom(seed: 0xCA3E_7A)
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            let epoch = Date().timeIntervalSince1970 - ProcessInfo.processInfo.systemUptime
            while true {
                lock.lock()
                while pending == nil && !stopped { lock.wait() }
                if stopped { lock.unlock(); return }
                let (qpos, time) = pending!
                pending = nil
                lock.broadcast()
                lock.unlock()
                for i in 0..<min(qpos.count, data.qpos.count) { data.qpos[i] = qpos[i] }
                data.forward()
                renderer.render(data) { frame in _ = rgb.withUnsafeMutableBufferPointer { $0.update(fromContentsOf: frame) } }
                let header = StdMsgs.Header(stamp: .init(nanoseconds: Int64((epoch + time) * 1e9)), frameID: camera)
                func image(_ pixels: [UInt8]) -> SensorMsgs.Image {
                    SensorMsgs.Image(header: header, height: UInt32(height), width: UInt32(width), encoding: "rgb8", step: UInt32(width * 3), data: pixels)
                }
                var truth: VisionMsgs.Detection2DArray?
                if let groundTruth, let renderedPublisher {
                    let boxes = renderer.segment(data) { ids in
                        ObjectBox.boxes(in: ids, width: width, height: height, geoms: labelled.map(\.geom), minimumPixels: groundTruth.minimumPixels)
                    }
                    truth = CameraGroundTruth.message(boxes, classes: classes, header: header)
                    try renderedPublisher.publish(image(rgb))
                }
                degradation.apply(to: &rgb, width: width, height: height, random: &random)
                try publisher.publish(image(rgb))
                if let truth, let truthPublisher { try truthPublisher.publish(truth) }
                lock.lock(); framesPublished += 1; lock.unlock()
            }
        } catch {
            lock.lock(); failure = error; lock.broadcast(); lock.unlock()
        }
    }
}

/// A virtual robot filmed by its camera, in one process: every `advance` offers the new state to the
/// camera, which renders (and publishes) a frame whenever one is due at its rate on the robot's
/// clock. What `tether emulate --camera` does over ROS 2, for a deployment that drives the virtual
/// robot in-process (the demo's live detector gap). Everything else is the virtual robot's.
public final class FilmedRobot: Robot {
    public let robot: VirtualRobot
    public let camera: VirtualCamera
    /// Wait at each due frame until the camera has taken it: every frame of the robot's clock
    /// instead of the latest one whenever the camera is free (a simulated clock runs faster than
    /// the renderer; on a real-time clock, leave it off).
    public let everyFrame: Bool

    /// Films `robot` with `camera` (start the camera first).
    public init(_ robot: VirtualRobot, camera: VirtualCamera, everyFrame: Bool = false) {
        self.robot = robot
        self.camera = camera
        self.everyFrame = everyFrame
    }

    public var manifest: Manifest { robot.manifest }
    public func latestState() throws -> (state: RobotState, receivedAt: Double)? { try robot.latestState() }
    public func send(_ command: JointCommand) throws { try robot.send(command) }
    public func advance(to time: Double) throws {
        try robot.advance(to: time)
        camera.offer(robot, at: time)
        if everyFrame { camera.waitForPendingFrame() }
    }
    public var eStopInputActive: Bool { robot.eStopInputActive }
    public func publishStatus(level: UInt8, message: String, values: [String: String]) throws {
        try robot.publishStatus(level: level, message: message, values: values)
    }
    public func emergencyStop() { robot.emergencyStop() }
    public var inputNotes: [String] { robot.inputNotes }
}
