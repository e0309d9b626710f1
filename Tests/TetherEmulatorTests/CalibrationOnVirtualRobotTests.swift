import Foundation
import Testing
import TetherCalibration
import TetherCore
import TetherEmulator
import TetherRuntime
import TetherSafety
import TetherSim

/// Experiments on the virtual robot with a hidden truth, then calibration from the recordings
/// alone: each identified parameter's 95 % interval holds the truth.
@Suite struct CalibrationOnVirtualRobotTests {
    static let truth: Truth = {
        var t = Truth(name: "calibration test", seed: 3)
        t.physics.jointDamping = 0.25
        t.physics.jointFrictionLoss = 0.12
        t.actuators.lagTimeConstant = 0.005
        t.actuators.deadTime = 0.002
        t.link.latency = 0.003
        t.sensors.positionNoise = 0.002
        t.sensors.velocityNoise = 0.02
        t.sensors.gyroNoise = 0.01
        t.sensors.gyroBias = SIMD3(0.004, -0.002, 0.001)
        t.sensors.accelerometerNoise = 0.08
        return t
    }()

    func record(_ kind: ExperimentKind, _ options: ExperimentOptions, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("\(kind.rawValue).mcap").path
        let report = try VirtualExperiments.record(kind, options: options, robot: try RobotModel.load(manifestPath: quadrupedManifest),
                                                   truth: Self.truth, path: path)
        #expect(!report.stopped, "\(kind): \(report.events)")
        return path
    }

    @Test func closedFormAnalysesRecoverTheHiddenTruth() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var sweep = ExperimentOptions()
        sweep.joints = ["FR_thigh_joint", "FR_calf_joint"]
        sweep.speeds = [1, 2, 3]
        var steps = ExperimentOptions()
        steps.joints = ["FR_hip_joint"]
        var still = ExperimentOptions()
        still.seconds = 20
        let paths = [try record(.sweep, sweep, in: dir), try record(.torqueStep, steps, in: dir), try record(.stationary, still, in: dir)]
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let outcome = try Calibration(robot: robot).run(paths: paths)
        func parameter(_ name: String) throws -> CalibratedParameter {
            try #require(outcome.file.parameters.first { $0.name == name }, "\(name) missing; warnings: \(outcome.file.warnings)")
        }
        /// Inside the 95 % interval, or within `slack` of it (a known model difference, named at the call).
        func within(_ name: String, _ truth: Double, slack: Double = 0) throws {
            let p = try parameter(name)
            #expect(p.interval[0].lower - slack <= truth && truth <= p.interval[0].upper + slack,
                    "\(name): truth \(truth), estimate \(p.estimate[0]), 95 % \(p.interval[0])")
        }
        for joint in ["FR_thigh_joint", "FR_calf_joint"] {
            try within("joint[\(joint)].frictionloss", 0.12)
            try within("joint[\(joint)].damping", 0.25)
        }
        try within("sensor.gyro.x.noise", 0.01)
        // The lying robot still settles by a fraction of a milliradian per second: true motion on top of the bias.
        try within("sensor.gyro.x.bias", 0.004, slack: 0.0003)
        try within("sensor.gyro.y.bias", -0.002, slack: 0.0003)
        try within("sensor.accel.z.noise", 0.08)
        // The driver: a 5 ms lag; a dead time that is the round trip (2 × 3 ms), the driver's 2 ms
        // and one physics step (a command takes effect at the next step, a state is measured at
        // the end of one): 10 ms. Discretization blurs lag and dead time by about a step, so
        // these two are checked to ±1.5 ms rather than by their intervals.
        let lag = try parameter("driver.lag"), delay = try parameter("driver.delay")
        #expect(abs(lag.estimate[0] - 0.005) < 0.0015, "lag \(lag.estimate[0])")
        #expect(abs(delay.estimate[0] - 0.010) < 0.0015, "delay \(delay.estimate[0])")
        // The patched model carries the calf's friction and damping, and nothing else changed.
        let diff = try #require(outcome.mjcf).diff
        #expect(diff.count == 4 && diff[3].contains("FR_calf_joint") && diff[3].contains("damping="))
    }
}
