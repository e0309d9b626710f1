import Foundation
import Testing
import TetherCore
import TetherEmulator
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
