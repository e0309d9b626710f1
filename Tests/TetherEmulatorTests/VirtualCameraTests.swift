import Foundation
import Testing
import TetherCore
import TetherEmulator
import TetherPolicy
import TetherROS
import TetherRuntime
import TetherSim

/// `tether emulate --camera`: the model camera's frames over DDS, clean and degraded.
@Suite(.serialized) struct VirtualCameraTests {
    /// Publishes `count` frames of the virtual quadruped's front camera and receives them.
    static func frames(_ degradation: CameraDegradation, domain: UInt32, count: Int = 3) throws -> [SensorMsgs.Image] {
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        let clock = ManualClock()
        let virtual = try VirtualRobot(robot: model, truth: Truth(), clock: clock, commandTimeout: 1e6)
        let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
        let subscriber = try DDSSubscriber<SensorMsgs.Image>(participant, topic: "/camera/image_raw", qos: .sensorData)
        let camera = try VirtualCamera(model: virtual.renderModel, camera: "front", participant: participant, width: 160, height: 120, rateHz: 10,
                                       degradation: degradation)
        camera.start()
        var received: [SensorMsgs.Image] = []
        for k in 0..<count {
            camera.offer(virtual, at: Double(k) * 0.1)
            if let image = try subscriber.next(timeout: 10) { received.append(image) }
        }
        try camera.stop()
        #expect(camera.framesPublished == count)
        return received
    }

    @Test func framesArriveAsRGBImagesAndTheTruthsCameraSpoilsThem() throws {
        let clean = try Self.frames(.none, domain: 181)
        #expect(clean.count == 3)
        for image in clean {
            #expect(image.width == 160 && image.height == 120 && image.encoding == "rgb8" && image.step == 480 && image.data.count == 160 * 120 * 3)
            #expect(image.header.frameID == "front")
        }
        // Something is in view (not a flat colour): the floor's checker, the robot, the objects.
        let first = clean[0].data
        let mean = Double(first.reduce(0) { $0 + Int($1) }) / Double(first.count)
        let spread = first.reduce(0.0) { $0 + abs(Double($1) - mean) } / Double(first.count)
        #expect(spread > 5, "the frame has structure (mean absolute deviation \(spread))")
        // The same scene through a dark, blue-starved, noisy camera: darker, less blue, not identical.
        let harsh = CameraDegradation(noise: 8, blur: 1, exposure: 0.6, colourCast: SIMD3(1, 1, 0.5))
        let spoilt = try Self.frames(harsh, domain: 182)
        func channelMean(_ d: [UInt8], _ c: Int) -> Double {
            var s = 0
            for i in stride(from: c, to: d.count, by: 3) { s += Int(d[i]) }
            return Double(s) / Double(d.count / 3)
        }
        let (r0, b0) = (channelMean(first, 0), channelMean(first, 2))
        let (r1, b1) = (channelMean(spoilt[0].data, 0), channelMean(spoilt[0].data, 2))
        #expect(abs(r1 / r0 - 0.6) < 0.08, "exposure: red \(r0) → \(r1)")
        #expect(abs(b1 / b0 - 0.3) < 0.08, "exposure × blue cast: blue \(b0) → \(b1)")
    }

    /// A virtual robot filmed in-process on a simulated clock (the demo's live detector gap): with
    /// `everyFrame`, every frame due at the camera's rate of robot time is rendered and published,
    /// none dropped, however much faster than real time the robot runs; the robot is the virtual
    /// robot (same manifest, same states).
    @Test func aFilmedRobotGivesEveryDueFrameOnASimulatedClock() throws {
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        let clock = ManualClock()
        let virtual = try VirtualRobot(robot: model, truth: Truth(), clock: clock, commandTimeout: 1e6)
        let participant = try DDSParticipant(domain: 184, configuration: DDSParticipant.loopbackConfiguration)
        let camera = try VirtualCamera(model: virtual.renderModel, camera: "front", participant: participant, width: 96, height: 64, rateHz: 20,
                                       degradation: .none)
        camera.start()
        let filmed = FilmedRobot(virtual, camera: camera, everyFrame: true)
        #expect(filmed.manifest.name == virtual.manifest.name)
        for k in 0...500 {  // 1 s of robot time in 2 ms steps, as fast as the machine goes
            clock.sleep(until: Double(k) * 0.002)
            try filmed.advance(to: Double(k) * 0.002)
        }
        try camera.stop()
        #expect(camera.framesPublished == 21, "due at 0, 0.05, …, 1.0 s")
        #expect(camera.framesDropped == 0)
        #expect(try filmed.latestState()?.state.time == virtual.latestState()?.state.time)
    }

    /// Filming changes nothing the deployment sees: on a simulated clock the filmed virtual robot
    /// walks exactly as the unfilmed one (the demo's live detector gap walks this way).
    @Test func aFilmedRobotWalksAsTheUnfilmedOne() throws {
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        func walk(filmed: Bool) throws -> Deployment.Report {
            let clock = ManualClock()
            let virtual = try VirtualRobot(robot: model, truth: try Truth.named("harsh"), clock: clock)
            var robot: Robot = virtual
            var camera: VirtualCamera?
            if filmed {
                let participant = try DDSParticipant(domain: 185, configuration: DDSParticipant.loopbackConfiguration)
                let c = try VirtualCamera(model: virtual.renderModel, camera: "front", participant: participant, width: 96, height: 64, rateHz: 5,
                                          degradation: .forTruth("harsh"))
                c.start()
                robot = FilmedRobot(virtual, camera: c, everyFrame: true)
                camera = c
            }
            let schedule = DeploymentSchedule(seconds: 9)  // stands up from 0.5 s to 2.5 s, walks from 3 s to 7.5 s
            let policy = try OnnxPolicy(path: "\(repositoryRoot)/policies/quadruped.onnx", manifest: model.manifest)
            let report = try Deployment(robot: robot, policy: policy, stage: .full, schedule: schedule, clock: clock).run(schedule)
            try camera?.stop()
            if let camera { #expect(camera.framesPublished >= 40 && camera.framesDropped == 0) }
            return report
        }
        let plain = try walk(filmed: false), filmed = try walk(filmed: true)
        #expect(!plain.stopped && (plain.distance ?? 0) > 1, "the unfilmed robot walks: \(plain.distance ?? .nan) m, \(plain.stopReason ?? "no stop")")
        #expect(filmed.distance == plain.distance, "filmed \(filmed.distance ?? .nan) m (\(filmed.stopReason ?? "no stop")) vs \(plain.distance ?? .nan) m")
        #expect(filmed.stopped == plain.stopped)
    }

    @Test func aCameraTheModelLacksIsNamed() throws {
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        let participant = try DDSParticipant(domain: 183, configuration: DDSParticipant.loopbackConfiguration)
        do {
            _ = try VirtualCamera(model: model.model, camera: "rear", participant: participant, degradation: .none)
            Issue.record("a missing camera was accepted")
        } catch let error as TetherError {
            #expect(error.what.contains("rear") && error.hint?.contains("front") == true)
        }
        #expect(throws: TetherError.self) { try VirtualCamera(model: model.model, camera: "front", participant: participant, rateHz: 0, degradation: .none) }
    }
}

/// `tether emulate --camera-ground-truth`: the degraded frame, the rendered frame and the truth
/// boxes of the same instant over DDS.
@Suite(.serialized) struct CameraGroundTruthTests {
    @Test func theThreeTopicsArriveWithEqualStampsAndDecodableContent() throws {
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        let virtual = try VirtualRobot(robot: model, truth: Truth(), clock: ManualClock(), commandTimeout: 1e6)
        let participant = try DDSParticipant(domain: 187, configuration: DDSParticipant.loopbackConfiguration)
        let degradedIn = try DDSSubscriber<SensorMsgs.Image>(participant, topic: "/camera/image_raw", qos: .sensorData)
        let renderedIn = try DDSSubscriber<SensorMsgs.Image>(participant, topic: "/camera/image_raw/rendered", qos: .sensorData)
        let truthIn = try DDSSubscriber<VisionMsgs.Detection2DArray>(participant, topic: "/camera/ground_truth")
        let spoil = CameraDegradation(noise: 6, blur: 1, exposure: 0.7, colourCast: SIMD3(1, 1, 0.8))
        let camera = try VirtualCamera(model: virtual.renderModel, camera: "front", participant: participant, width: 160, height: 120, rateHz: 10,
                                       degradation: spoil, groundTruth: CameraGroundTruth())
        #expect(camera.labelled.map(\.className) == ["cube", "ball", "cylinder"])
        camera.start()
        for k in 0..<3 {
            camera.offer(virtual, at: Double(k) * 0.1)
            let degraded = try #require(try degradedIn.next(timeout: 10))
            let rendered = try #require(try renderedIn.next(timeout: 10))
            let truth = try #require(try truthIn.next(timeout: 10))
            #expect(degraded.header.stamp == rendered.header.stamp && rendered.header.stamp == truth.header.stamp)
            #expect(degraded.header.stamp.nanoseconds > 0 && truth.header.frameID == "front")
            #expect(rendered.width == 160 && rendered.height == 120 && rendered.encoding == "rgb8" && rendered.data.count == 160 * 120 * 3)
            // The same frame: the degraded one is darker (exposure 0.7), yet the two are alike pixel by pixel.
            let meanRendered = Double(rendered.data.reduce(0) { $0 + Int($1) }) / Double(rendered.data.count)
            let meanDegraded = Double(degraded.data.reduce(0) { $0 + Int($1) }) / Double(degraded.data.count)
            #expect(meanDegraded < 0.85 * meanRendered, "degraded mean \(meanDegraded), rendered \(meanRendered)")
            // Truth: the three objects, class names, score 1, boxes inside the frame and on pixels of the objects' colours.
            #expect(truth.detections.map(\.id).sorted() == ["seen_ball", "seen_cube", "seen_cylinder"])
            for d in truth.detections {
                #expect(d.results.count == 1 && d.results[0].hypothesis.score == 1 && "seen_" + d.results[0].hypothesis.classID == d.id)
                let x0 = d.bbox.center.position.x - d.bbox.sizeX / 2, y0 = d.bbox.center.position.y - d.bbox.sizeY / 2
                #expect(x0 >= 0 && y0 >= 0 && x0 + d.bbox.sizeX <= 160 && y0 + d.bbox.sizeY <= 120 && d.bbox.sizeX >= 2 && d.bbox.sizeY >= 2)
                #expect(x0 == x0.rounded() && y0 == y0.rounded(), "pixel edges: \(x0), \(y0)")
                // The object's own colour (model rgba) dominates its box's centre pixel in the rendered frame.
                let (cx, cy) = (Int(d.bbox.center.position.x), Int(d.bbox.center.position.y))
                let p = Array(rendered.data[(cy * 160 + cx) * 3..<(cy * 160 + cx) * 3 + 3])
                let dominant = p.firstIndex(of: p.max()!)!
                let expected = ["seen_cube": 0, "seen_ball": 2, "seen_cylinder": 0][d.id]!  // red cube, blue ball, yellow (red ≥ green) cylinder
                #expect(dominant == expected, "\(d.id): centre pixel \(p)")
            }
        }
        try camera.stop()
    }

    @Test func labelsNameGeomsTheModelHasAndParseAsPairs() throws {
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        let labels = try CameraLabels.parse("seen_cube=cube, seen_ball=ball")
        #expect(try labels.resolve(in: model.model).map(\.className) == ["cube", "ball"])
        do {
            _ = try CameraLabels.parse("seen_cub=cube").resolve(in: model.model)
            Issue.record("an unknown geom was accepted")
        } catch let error as TetherError {
            #expect(error.what.contains("seen_cub") && error.what.contains("seen_cube") && error.location == "--camera-labels")
        }
        #expect(throws: TetherError.self) { try CameraLabels.parse("seen_cube") }
        #expect(throws: TetherError.self) { try CameraLabels.parse("seen_cube=cube,seen_cube=ball") }
        let participant = try DDSParticipant(domain: 187, configuration: DDSParticipant.loopbackConfiguration)
        #expect(throws: TetherError.self) {
            try VirtualCamera(model: model.model, camera: "front", participant: participant, degradation: .none,
                              groundTruth: CameraGroundTruth(truthTopic: "/camera/image_raw"))
        }
    }
}
