import Foundation
import Testing
import TetherCalibration
import TetherCore
import TetherPolicy
import TetherRuntime
import TetherSim
@testable import TetherValidation

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A calibration as `tether calibrate` writes it: two patched joint dampings, one parameter it
/// could not patch, the driver's lag and dead time, and sensor figures.
private func calibration(delay: Double, robot: RobotModel) throws -> CalibrationFile {
    let calf = try robot.model.get(.jointDamping("FR_calf_joint"))[0]
    let thigh = try robot.model.get(.jointDamping("FL_thigh_joint"))[0]
    func p(_ name: String, _ unit: String, _ nominal: [Double]?, _ estimate: Double, patched: Bool = false, flags: [String] = []) -> CalibratedParameter {
        CalibratedParameter(name: name, unit: unit, nominal: nominal, estimate: [estimate], standardError: [abs(estimate) * 0.05 + 1e-6],
                            method: "test", recordings: ["r.mcap"], flags: flags, patched: patched)
    }
    return CalibrationFile(robot: "quadruped", model: "quadruped.xml", recordings: ["r.mcap"], parameters: [
        p("joint[FR_calf_joint].damping", "N·m·s/rad", [calf], calf * 1.3, patched: true),
        p("joint[FL_thigh_joint].damping", "N·m·s/rad", [thigh], thigh * 0.8, patched: true),
        p("joint[RR_calf_joint].frictionloss", "N·m", [0], 0.9, flags: ["not identifiable: one speed"]),
        p("inertia_about[FR_hip_joint]", "kg·m²", nil, 0.02),
        p("driver.lag", "s", [0], 0.002),
        p("driver.delay", "s", [0], delay),
        p("sensor.gyro.x.noise", "rad/s", nil, 0.01), p("sensor.gyro.y.noise", "rad/s", nil, 0.02), p("sensor.gyro.z.noise", "rad/s", nil, 0.03),
        p("sensor.gyro.z.bias", "rad/s", nil, 0.05), p("sensor.accel.z.bias", "m/s²", nil, 0.3),
        p("sensor.joint_position.noise", "rad", nil, 0.001), p("sensor.delay", "s", nil, 0.004), p("sensor.gyro.x.random_walk", "rad/s/√s", nil, 1e-4),
    ], warnings: [], heldOut: [])
}

@Suite struct CalibratedSimulationTests {
    @Test func groupsWhatTrialsCanSimulateAndSaysWhatTheyCannot() throws {
        let robot = try BuiltinRobots.load("quadruped")
        let sim = try CalibratedSimulation(calibration: try calibration(delay: 0.03, robot: robot), source: "cal.yaml", robot: robot)
        #expect(sim.groups.map(\.name) == ["joint.damping", "driver.lag", "driver.delay", "sensors"])
        #expect(sim.groups[0].members.map(\.name) == ["joint[FR_calf_joint].damping", "joint[FL_thigh_joint].damping"])
        #expect(sim.groups[0].summary.hasPrefix("2 parameters, mean change +5 %"))
        #expect(sim.groups[2].summary == "0 → 30 ms")
        #expect(sim.groups[3].members.count == 5)
        for name in ["joint[RR_calf_joint].frictionloss", "inertia_about[FR_hip_joint]", "sensor.accel.z.bias", "sensor.delay", "sensor.gyro.x.random_walk"] {
            #expect(sim.skipped.contains { $0.hasPrefix(name + ":") }, "\(name) is listed as not simulated")
        }
    }

    @Test func configurationsWriteTheCalibratedValuesIntoACopy() throws {
        let robot = try BuiltinRobots.load("quadruped")
        let file = try calibration(delay: 0.03, robot: robot)
        let sim = try CalibratedSimulation(calibration: file, source: "cal.yaml", robot: robot)
        let nominalCalf = try robot.model.get(.jointDamping("FR_calf_joint"))[0]
        let full = try sim.configuration(robot: robot)
        #expect(try full.robot.model.get(.jointDamping("FR_calf_joint"))[0] == file.parameters[0].estimate[0])
        #expect(try full.robot.model.get(.jointDamping("FL_thigh_joint"))[0] == file.parameters[1].estimate[0])
        #expect(try robot.model.get(.jointDamping("FR_calf_joint"))[0] == nominalCalf, "the shared model is untouched")
        #expect(try full.robot.model.get(.jointFrictionLoss("RR_calf_joint"))[0] == robot.model.get(.jointFrictionLoss("RR_calf_joint"))[0])
        #expect(full.driver == DriverDynamics(lagTimeConstant: 0.002, actionDelay: 0.03))
        #expect(full.sensors.gyroNoise == SIMD3(0.01, 0.02, 0.03) && full.sensors.gyroBias == SIMD3(0, 0, 0.05) && full.sensors.jointPositionNoise == 0.001)

        let damping = try sim.configuration(robot: robot, nominal: ["joint.damping"])
        #expect(try damping.robot.model.get(.jointDamping("FR_calf_joint"))[0] == nominalCalf)
        #expect(damping.driver == full.driver && damping.sensors == full.sensors)
        let delay = try sim.configuration(robot: robot, nominal: ["driver.delay", "sensors"])
        #expect(delay.driver == DriverDynamics(lagTimeConstant: 0.002, actionDelay: 0) && delay.sensors.isZero)
        #expect(try delay.robot.model.get(.jointDamping("FR_calf_joint"))[0] == file.parameters[0].estimate[0])

        #expect(throws: TetherError.self) { try sim.configuration(robot: robot, nominal: ["link"]) }
        var other = file
        other.robot = "cartpole"
        #expect(throws: TetherError.self) { try CalibratedSimulation(calibration: other, source: "cal.yaml", robot: robot) }
        var empty = file
        empty.parameters = [file.parameters[3]]
        #expect(throws: TetherError.self) { try CalibratedSimulation(calibration: empty, source: "cal.yaml", robot: robot) }
    }

    @Test func calibratedSensorsReadWithTheirNoiseOncePerState() throws {
        let robot = try BuiltinRobots.load("quadruped")
        let sim = SimRobot(robot: robot)
        sim.layDown()
        let clock = ManualClock()
        var errors = CalibratedSimulation.SensorErrors()
        errors.gyroNoise = SIMD3(0.01, 0.02, 0.05)
        errors.gyroBias = SIMD3(0, 0, 0.1)
        let noisy = NoisySensorsRobot(inner: SimulatedRobot(sim: sim, start: clock.now()), errors: errors, seed: 5)
        var z: [Double] = [], x: [Double] = []
        for k in 1...2000 {
            try noisy.advance(to: Double(k) * 0.002)
            let truth = sim.state().baseAngularVelocity!
            let a = try #require(try noisy.latestState()).state.baseAngularVelocity!
            let b = try #require(try noisy.latestState()).state.baseAngularVelocity!
            #expect(a == b, "a state read twice reads the same")
            x.append(a.x - truth.x)
            z.append(a.z - truth.z)
        }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
        func sd(_ v: [Double]) -> Double { let m = mean(v); return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot() }
        #expect(abs(sd(x) - 0.01) < 0.001 && abs(mean(x)) < 0.001)
        #expect(abs(sd(z) - 0.05) < 0.004 && abs(mean(z) - 0.1) < 0.004)
    }

    /// A measured dead time longer than the policy was trained for makes it fail in the calibrated
    /// simulation; setting the delay back to nominal gives the success back, the damping does not.
    @Test func attributionFindsTheCalibratedDelay() throws {
        let robot = try BuiltinRobots.load("quadruped")
        let policyPath = "\(root)/policies/quadruped.onnx"
        var plan = try TrialPlan(backend: "sim", count: 6, seconds: 8, seed: 3, stage: 1)
        plan.calibrated = try CalibratedSimulation(calibration: try calibration(delay: 0.045, robot: robot), source: "cal.yaml", robot: robot)
        var attribution = try GapAttribution.run(plan: plan, robot: robot, policyName: policyPath,
                                                 makePolicy: { try OnnxPolicy(path: policyPath, manifest: robot.manifest) })
        #expect(attribution.isCalibration && attribution.truth == "cal.yaml")
        #expect(attribution.entries.map(\.nominal) == ["none", "joint.damping", "driver.lag", "driver.delay", "sensors", "all"])
        let rate = Dictionary(uniqueKeysWithValues: attribution.entries.map { ($0.nominal, $0.successes) })
        #expect(rate["none"]! <= 1, "the calibrated delay makes the policy fail")
        #expect(rate["driver.delay"]! >= 5 && rate["all"]! >= 5, "without it the policy walks")
        #expect(attribution.explaining == ["driver.delay"])
        #expect(attribution.groups?.count == 4 && attribution.skipped?.isEmpty == false)
        // The trial records say which simulation they ran in.
        var one = plan
        one.nominalGroups = ["sensors"]
        let record = try one.runOne(trial: 0, robot: robot, policyName: policyPath, policy: try OnnxPolicy(path: policyPath, manifest: robot.manifest))
        #expect(record.truth == "calibrated (cal.yaml) with sensors nominal")

        // Against real trials that failed alike the calibrated simulation reproduces them; against
        // real trials that all succeeded it does not.
        attribution.compare(realSuccesses: 1, realTrials: 6)
        #expect(attribution.versusReal?.reproduces == true)
        attribution.compare(realSuccesses: 6, realTrials: 6)
        #expect(attribution.versusReal?.reproduces == false)
        // In the gap report, beside the real trials.
        let real = TrialRecord(trial: 0, robot: "quadruped", policy: "p", backend: "emulator", seed: 1, success: false, failureMode: "fall",
                               distance: 0.2, requiredDistance: 1, episodeSeconds: 1.5, score: 0.1)
        var gap = try GapReport(sim: [real], real: [real, real], simSource: "a", realSource: "b")
        gap.attributions = [attribution]
        #expect(gap.attributions[0].versusReal?.realTrials == 2)
        #expect(!gap.missing.contains { $0.contains("calibrated parameters") })
        let html = gap.html().render()
        #expect(html.contains("Gap attribution (calibrated parameters)") && html.contains("joint[FR_calf_joint].damping") && html.contains("Not simulated: these stay") && html.contains("sensor.delay"))
        let back = try JSONDecoder().decode(GapReport.self, from: gap.json())
        #expect(back.attributions.first?.groups?.map(\.name) == ["joint.damping", "driver.lag", "driver.delay", "sensors"])
    }
}
