import ArgumentParser
import Foundation
import TetherCore
import TetherEmulator
import TetherROS
import TetherRuntime
import TetherSim

struct Emulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the virtual robot: MuJoCo with hidden imperfections, served over ROS 2 (or Unitree's protocol) in real time.",
        discussion: """
        The robot's true parameters (physics, actuator lag and dead time, saturation, backlash, \
        thermal torque loss, sensor noise / bias / drift / quantization / offsets / dropouts, link \
        latency, jitter, loss and stalls) come from a preset (mild, typical, harsh) or a truth \
        file (docs/emulator.md); they stay hidden from calibration. It publishes joint states and \
        the IMU at --rate and applies joint commands from the manifest's topics; the e-stop \
        topic holds a damping stop. Run `tether deploy --backend ros2` in another terminal.

        Like a real driver, the virtual robot guards itself: when no valid command has arrived \
        for --command-timeout (default 0.1 s) it applies a damping stop, then zero torque after \
        --damping-seconds; a malformed command is rejected and counted. Each such event prints a \
        line with its time on the monotonic clock (CLOCK_MONOTONIC, for measuring reactions).

        Examples:
          tether emulate --robot quadruped --truth typical
          tether emulate --robot quadruped --truth my_truth.yaml --seconds 60 --loopback
          tether emulate --robot quadruped --protocol unitree_go --loopback   (then deploy --backend unitree)

        With --protocol unitree_go or unitree_hg the virtual robot speaks Unitree's low-level \
        protocol instead of ROS 2, as a Go2 / B2 or a G1 / H1-2 does: LowState on rt/lowstate \
        (CRC sealed), LowCmd from rt/lowcmd (CRC checked), motor slots from the manifest's \
        unitree: section (docs/unitree.md).
        """
    )

    @Option(help: "Built-in robot name or manifest path.") var robot = "quadruped"
    @Option(help: "Truth preset (mild, typical, harsh) or truth YAML file.") var truth = "typical"
    @Option(help: "State publishing rate, Hz.") var rate = 500.0
    @Option(help: "Run for this many seconds (default: until Ctrl-C).") var seconds: Double?
    @Flag(help: "Keep all DDS traffic on 127.0.0.1 (no multicast).") var loopback = false
    @Option(help: "Hang the robot on a gantry at this base height, m (for `tether experiment`).") var hung: Double?
    @Option(help: ArgumentHelp("Robot-side command timeout, s: no valid command for this long → damping stop (default 0.1 s, or three control periods below 30 "
        + "Hz).")) var commandTimeout: Double?
    @Option(help: "Damping stop after a command timeout before zero torque, s.") var dampingSeconds = 2.0
    @Option(help: "Speak ros2 (default), or Unitree's low-level protocol: unitree_go (Go2, B2) or unitree_hg (G1, H1-2).")
    var `protocol` = "ros2"
    @Option(help: "Publish this model camera's images (sensor_msgs/Image, rgb8), degraded as the truth's camera (e.g. front).") var camera: String?
    @Option(help: "With --camera: frames per second.") var cameraRate = 10.0
    @Option(help: "With --camera: frame size WIDTHxHEIGHT.") var cameraSize = "640x480"
    @Option(help: "With --camera: the image topic.") var cameraTopic = "/camera/image_raw"
    @Flag(help: "With --camera: publish the rendered frames without the truth's degradations.") var cameraClean = false
    @Flag(help: ArgumentHelp("With --camera: also publish each frame as rendered (--camera-rendered-topic) and the exact boxes of the labelled objects "
        + "(vision_msgs/Detection2DArray on --camera-truth-topic), stamped like the degraded frame (for tether detect --ros2 --live-gap)."))
    var cameraGroundTruth = false
    @Option(help: "With --camera-ground-truth: labelled geoms, GEOM=CLASS,… (default: every geom named seen_<class>).") var cameraLabels: String?
    @Option(help: "With --camera-ground-truth: the rendered (undegraded) image topic (default: <camera-topic>/rendered).") var cameraRenderedTopic: String?
    @Option(help: "With --camera-ground-truth: the ground-truth boxes topic.") var cameraTruthTopic = "/camera/ground_truth"

    func validate() throws {
        if let commandTimeout, !(commandTimeout > 0 && commandTimeout.isFinite) { throw ValidationError("--command-timeout must be a positive number of "
            + "seconds") }
        guard dampingSeconds >= 0, dampingSeconds.isFinite else { throw ValidationError("--damping-seconds must be a non-negative number of seconds") }
        guard rate > 0, rate.isFinite else { throw ValidationError("--rate must be a positive number of Hz") }
        guard `protocol` == "ros2" || UnitreeProtocol(rawValue: `protocol`) != nil else {
            throw ValidationError("--protocol '\(`protocol`)' is not one of ros2, \(UnitreeProtocol.choices)")
        }
        if camera != nil {
            guard `protocol` == "ros2" else { throw ValidationError("--camera serves with --protocol ros2 (the camera's images are ROS 2 topics)") }
            guard cameraRate > 0, cameraRate <= 120 else { throw ValidationError("--camera-rate must be 1…120 Hz") }
            guard parsedCameraSize != nil else { throw ValidationError("--camera-size must be WIDTHxHEIGHT (16…4096 each), e.g. 640x480, not \(cameraSize)") }
        } else if cameraGroundTruth {
            throw ValidationError("--camera-ground-truth needs --camera NAME (the model camera whose frames it labels)")
        }
        if cameraLabels != nil || cameraRenderedTopic != nil, !cameraGroundTruth {
            throw ValidationError("--camera-labels and --camera-rendered-topic apply with --camera-ground-truth")
        }
    }

    var parsedCameraSize: (width: Int, height: Int)? { parseFrameSize(cameraSize, limits: 16...4096) }

    func run() throws {
        let robotModel = try report { try BuiltinRobots.load(robot) }
        let truthValue = try report { try Truth.named(truth) }
        let clock = MonotonicClock()
        // The robot and its server share one command timeout (the server's is the one that fires
        // first; the robot's own would otherwise damp a slow controller between its commands).
        let virtual = try report {
            try VirtualRobot(robot: robotModel, truth: truthValue, clock: clock, hungAt: hung, commandTimeout: commandTimeout, dampingSeconds: dampingSeconds)
        }
        let participant = try report { try DDSParticipant(configuration: loopback ? DDSParticipant.loopbackConfiguration : nil) }
        let place = "DDS domain \(participant.domain)\(loopback ? " on loopback" : "")"
        let line: (ROS2RobotServer.Event) -> Void = { event in
            emit(String(format: "[robot] t %.3f s (monotonic %.6f) %@: %@", event.time, clock.now(), event.kind, event.message))
        }
        if let unitree = UnitreeProtocol(rawValue: `protocol`) {
            guard let section = robotModel.manifest.unitree, section.messages == unitree else {
                try report { () throws -> Void in throw TetherError("the manifest of \(robotModel.manifest.name) has no unitree: section for \(unitree)",
                                         at: robotModel.manifest.sourcePath ?? robot,
                                         hint: "add `unitree: {protocol: \(unitree), motors: {joint: slot, ...}}` (docs/unitree.md)") }
                return
            }
            let served: (run: (Double) throws -> Void, stop: @Sendable () -> Void, summary: () -> String)
            switch unitree {
            case .go: served = try serveUnitree(UnitreeGoDialect.self, virtual, participant, clock, line)
            case .hg: served = try serveUnitree(UnitreeHGDialect.self, virtual, participant, clock, line)
            }
            let stop = served.stop
            let sources = onTerminationSignals { _ in stop() }
            emit("tether emulate: virtual \(robotModel.manifest.name) (truth '\(truthValue.name)', hidden), Unitree \(unitree) on \(place), "
                + "LowState at \(fmt(rate, 0)) Hz on rt/lowstate, LowCmd from rt/lowcmd; Ctrl-C to stop")
            try report { try served.run(seconds ?? .infinity) }
            sources.forEach { $0.cancel() }
            emit(served.summary())
            return
        }
        let server = try report {
            try ROS2RobotServer(robot: virtual, participant: participant, clock: clock, stateRateHz: rate,
                                commandTimeout: commandTimeout, dampingSeconds: dampingSeconds)
        }
        server.onEvent = line
        var virtualCamera: VirtualCamera?
        if let camera {
            let (w, h) = parsedCameraSize!
            let degradation = cameraClean ? CameraDegradation.none : CameraDegradation.forTruth(truthValue.name)
            let groundTruth = try report { () throws -> CameraGroundTruth? in
                guard cameraGroundTruth else { return nil }
                return CameraGroundTruth(labels: try cameraLabels.map { try CameraLabels.parse($0) } ?? .byName,
                                         renderedTopic: cameraRenderedTopic ?? cameraTopic + "/rendered", truthTopic: cameraTruthTopic)
            }
            let c = try report {
                try VirtualCamera(model: virtual.renderModel, camera: camera, participant: participant, topic: cameraTopic, width: w, height: h,
                                  rateHz: cameraRate, degradation: degradation, groundTruth: groundTruth)
            }
            server.afterAdvance = { t in c.offer(virtual, at: t) }
            c.start()
            virtualCamera = c
            emit("  camera '\(camera)': \(w)×\(h) rgb8 at \(fmt(cameraRate, 0)) Hz on \(cameraTopic)"
                + (cameraClean ? ", as rendered" : String(format: ", degraded (noise %.0f, blur %d px, exposure %.2f)", degradation.noise, degradation.blur,
                                                         degradation.exposure)))
            if let groundTruth {
                emit("  ground truth: frames as rendered on \(groundTruth.renderedTopic), boxes of "
                    + c.labelled.map { "\($0.name) (\($0.className))" }.joined(separator: ", ") + " on \(groundTruth.truthTopic), stamped alike")
            }
        }
        let sources = onTerminationSignals { _ in server.stop() }
        emit("tether emulate: virtual \(robotModel.manifest.name) (truth '\(truthValue.name)', hidden), ROS 2 on \(place), states at "
            + "\(fmt(rate, 0)) Hz on \(robotModel.manifest.ros2.jointStates) and \(robotModel.manifest.ros2.imu); Ctrl-C to stop")
        try report { try server.run(seconds: seconds ?? .infinity) }
        sources.forEach { $0.cancel() }
        if let c = virtualCamera {
            try report { try c.stop() }
            emit("camera: \(c.framesPublished) frames published, \(c.framesDropped) dropped (still rendering when the next was due)"
                + (c.renderer.map { "; rendered with \($0)" } ?? ""))
        }
        emit("stopped after applying \(server.commandsApplied) commands (\(server.commandsRejected) rejected, \(server.commandTimeouts) command timeouts)")
    }

    /// A Unitree server of the virtual robot, as closures the command runs.
    private func serveUnitree<D: UnitreeDialect>(_ dialect: D.Type, _ robot: Robot, _ participant: DDSParticipant, _ clock: ControlClock,
                                                 _ line: @escaping (ROS2RobotServer.Event) -> Void)
        throws -> (run: (Double) throws -> Void, stop: @Sendable () -> Void, summary: () -> String) {
        let server = try report {
            try UnitreeRobotServer<D>(robot: robot, participant: participant, clock: clock, stateRateHz: rate,
                                      commandTimeout: commandTimeout, dampingSeconds: dampingSeconds)
        }
        server.onEvent = line
        return ({ try server.run(seconds: $0) }, { server.stop() },
                { "stopped after applying \(server.commandsApplied) commands (\(server.commandsRejected) rejected, "
                    + "\(server.commandTimeouts) command timeouts)" })
    }
}
