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
        // Second estimates (a trajectory fit beside the closed form), not patched: the first ones count.
        p("joint[FR_calf_joint].damping", "N·m·s/rad", [calf], calf * 3, flags: ["closed-form estimate is the one patched"]),
        p("driver.delay", "s", [0], 0.5),
    ], warnings: [], heldOut: [])
}

@Suite struct CalibratedSimulationTests {
    @Test func groupsWhatTrialsCanSimulateAndSaysWhatTheyCannot() throws {
        let robot = try BuiltinRobots.load("quadruped")
        let sim = try CalibratedSimulation(calibration: try calibration(delay: 0.03, robot: robot), source: "cal.yaml", robot: robot)
        #expect(sim.groups.map(\.name) == ["joint.damping", "driver.lag", "driver.delay", "sensors"])
        #expect(sim.groups[0].members.map(\.name) == ["joint[FR_calf_joint].damping", "joint[FL_thigh_joint].damping"])
        #expect(sim.groups[0].summary == "2 parameters, change -20 … +30 %")
        #expect(sim.groups[2].summary == "0 → 30 ms")
        #expect(sim.groups[2].members.count == 1, "the second estimate of driver.delay is not a member")
        #expect(sim.skipped.filter { $0.contains("a second estimate") }.count == 2)
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
        #expect(full.driver == DriverDynamics(lagTimeConstant: 0.002, actionDelay: 0.03), "the first estimate of the delay, not the second")
        #expect(full.sensors.gyroNoise == SIMD3(0.01, 0.02, 0.03) && full.sensors.gyroBias == SIMD3(0, 0, 0.05) && full.sensors.positionNoise == 0.001)

        let damping = try sim.configuration(robot: robot, nominal: ["joint.damping"])
        #expect(try damping.robot.model.get(.jointDamping("FR_calf_joint"))[0] == nominalCalf)
        #expect(damping.driver == full.driver && damping.sensors == full.sensors)
        let delay = try sim.configuration(robot: robot, nominal: ["driver.delay", "sensors"])
        #expect(delay.driver == DriverDynamics(lagTimeConstant: 0.002, actionDelay: 0) && delay.sensors.isExact)
        #expect(try delay.robot.model.get(.jointDamping("FR_calf_joint"))[0] == file.parameters[0].estimate[0])

        #expect(throws: TetherError.self) { try sim.configuration(robot: robot, nominal: ["link"]) }
        var other = file
        other.robot = "cartpole"
        #expect(throws: TetherError.self) { try CalibratedSimulation(calibration: other, source: "cal.yaml", robot: robot) }
        // A trajectory fit that split the latency into command and sensor sides: their sum is the dead time.
        var split = file
        for i in split.parameters.indices where ["driver.delay", "sensor.delay"].contains(split.parameters[i].name) {
            split.parameters[i].method = "trajectory fit (LM)"
        }
        let splitSim = try CalibratedSimulation(calibration: split, source: "cal.yaml", robot: robot)
        #expect(abs(try splitSim.configuration(robot: robot).driver.actionDelay - 0.034) < 1e-12)
        #expect(splitSim.groups.first { $0.name == "driver.delay" }?.members.map(\.name) == ["driver.delay", "sensor.delay"])
        #expect(try splitSim.configuration(robot: robot, nominal: ["driver.delay"]).driver.actionDelay == 0)
        var empty = file
        empty.parameters = [file.parameters[3]]
        #expect(throws: TetherError.self) { try CalibratedSimulation(calibration: empty, source: "cal.yaml", robot: robot) }
    }

    /// The calibrated sensors (`SensorModel` in `SimulatedRobot`): the measured noise and bias,
    /// drawn once per new state.
    @Test func calibratedSensorsReadWithTheirNoiseOncePerState() throws {
        let robot = try BuiltinRobots.load("quadruped")
        let sim = SimRobot(robot: robot)
        sim.layDown()
        let clock = ManualClock()
        var errors = SensorModel()
        errors.gyroNoise = SIMD3(0.01, 0.02, 0.05)
        errors.gyroBias = SIMD3(0, 0, 0.1)
        let noisy = SimulatedRobot(sim: sim, start: clock.now(), sensors: errors, sensorRandom: SeededRandom(seed: 5, stream: 23))
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
        var plan = try TrialPlan(backend: .sim, count: 8, seconds: 8, seed: 3, stage: .full)
        plan.calibrated = try CalibratedSimulation(calibration: try calibration(delay: 0.045, robot: robot), source: "cal.yaml", robot: robot)
        var attribution = try GapAttribution.run(plan: plan, robot: robot, policyName: policyPath,
                                                 makePolicy: { try OnnxPolicy(path: policyPath, manifest: robot.manifest) })
        #expect(attribution.isCalibration && attribution.truth == "cal.yaml")
        #expect(attribution.entries.map(\.nominal) == ["none", "joint.damping", "driver.lag", "driver.delay", "sensors", "all"])
        let rate = Dictionary(uniqueKeysWithValues: attribution.entries.map { ($0.nominal, $0.successes) })
        #expect(rate["none"]! <= 2, "the calibrated delay makes the policy fail: \(rate)")
        #expect(rate["driver.delay"]! >= 6 && rate["all"]! >= 6, "without it the policy walks: \(rate)")
        #expect(attribution.explaining.contains("driver.delay") && !attribution.explaining.contains("joint.damping"), "\(attribution.explaining)")
        #expect(attribution.calibratedGroups?.count == 4 && attribution.skipped?.isEmpty == false)
        // The trial records say which simulation they ran in.
        var one = plan
        one.nominalGroups = ["sensors"]
        let record = try one.runOne(trial: 0, robot: robot, policyName: policyPath, policy: try OnnxPolicy(path: policyPath, manifest: robot.manifest))
        #expect(record.truth == "calibrated (cal.yaml) with sensors nominal")

        // Against real trials that failed alike the calibrated simulation reproduces them; against
        // real trials that all succeeded it does not.
        let calibratedSuccesses = rate["none"]!
        attribution.compare(realSuccesses: calibratedSuccesses, realTrials: 8)
        #expect(attribution.versusReal?.reproduces == true && attribution.versusReal?.verdict == "consistent")
        #expect(attribution.versusReal?.fisherP == 1 && attribution.versusReal?.differencePercentagePoints == 0)
        let interval = try #require(attribution.versusReal?.differenceInterval)
        #expect(interval.lower < 0 && interval.upper > 0)
        attribution.compare(realSuccesses: 8, realTrials: 8)
        #expect(attribution.versusReal?.reproduces == false && attribution.versusReal?.verdict == "differs")
        // One real trial cannot tell anything apart, whatever it did.
        attribution.compare(realSuccesses: 1, realTrials: 1)
        #expect(attribution.versusReal?.verdict == "too few trials" && attribution.versusReal?.reproduces == false)
        // In the gap report, beside the real trials.
        let real = TrialRecord(trial: 0, robot: "quadruped", policy: "p", backend: .emulator, seed: 1, success: false, failureMode: "fall",
                               distance: 0.2, requiredDistance: 1, episodeSeconds: 1.5, score: 0.1)
        var gap = try GapReport(sim: [real], real: [real], simSource: "a", realSource: "b")
        gap.attributions = [attribution]
        #expect(gap.attributions?.first?.versusReal?.realTrials == 1)
        #expect(!gap.missing.contains { $0.contains("calibrated parameters") })
        let html = gap.html().render()
        #expect(html.contains("Gap attribution (calibrated parameters)") && html.contains("joint[FR_calf_joint].damping") && html.contains("Not simulated: "
            + "these stay") && html.contains("sensor.delay"))
        #expect(html.contains("too few trials to tell"), "one real trial against eight cannot show a difference")
        let back = try JSONDecoder().decode(GapReport.self, from: gap.json())
        // A report without attributions (as older ones were written) reads back with none.
        let plain = try GapReport(sim: [real], real: [real], simSource: "a", realSource: "b")
        #expect(try JSONDecoder().decode(GapReport.self, from: plain.json()).attributions == nil)
        #expect(back.attributions?.first?.calibratedGroups?.map(\.name) == ["joint.damping", "driver.lag", "driver.delay", "sensors"])
    }

    @Test func membersSetBackOneAtATime() throws {
        let robot = try BuiltinRobots.load("quadruped")
        let file = try calibration(delay: 0.03, robot: robot)
        let sim = try CalibratedSimulation(calibration: file, source: "cal.yaml", robot: robot)
        let nominalCalf = try robot.model.get(.jointDamping("FR_calf_joint"))[0]
        let calf = try sim.configuration(robot: robot, members: ["joint[FR_calf_joint].damping"])
        #expect(try calf.robot.model.get(.jointDamping("FR_calf_joint"))[0] == nominalCalf)
        #expect(try calf.robot.model.get(.jointDamping("FL_thigh_joint"))[0] == file.parameters[1].estimate[0], "the other member keeps its calibrated value")
        #expect(calf.driver == DriverDynamics(lagTimeConstant: 0.002, actionDelay: 0.03))
        let gyro = try sim.configuration(robot: robot, members: ["sensor.gyro.x.noise", "driver.lag"])
        #expect(gyro.sensors.gyroNoise == SIMD3(0, 0.02, 0.03) && gyro.sensors.gyroBias == SIMD3(0, 0, 0.05))
        #expect(gyro.driver == DriverDynamics(lagTimeConstant: 0, actionDelay: 0.03))
        #expect(throws: TetherError.self) { try sim.configuration(robot: robot, members: ["joint[RR_calf_joint].frictionloss"]) }
        #expect(throws: TetherError.self) { try sim.configuration(robot: robot, members: ["sensor.delay"]) }
        var split = file
        for i in split.parameters.indices where ["driver.delay", "sensor.delay"].contains(split.parameters[i].name) {
            split.parameters[i].method = "trajectory fit (LM)"
        }
        let splitSim = try CalibratedSimulation(calibration: split, source: "cal.yaml", robot: robot)
        #expect(try splitSim.configuration(robot: robot, members: ["sensor.delay"]).driver.actionDelay == 0.03)
        #expect(abs(try splitSim.configuration(robot: robot, members: ["driver.delay"]).driver.actionDelay - 0.004) < 1e-12)
    }

    /// A latency a trajectory fit split into a long command side and a short sensor side: the
    /// group explains the failures, and the drill-down names the command side alone.
    @Test func drillDownNamesTheMemberThatExplains() throws {
        let robot = try BuiltinRobots.load("quadruped")
        let policyPath = "\(root)/policies/quadruped.onnx"
        var file = try calibration(delay: 0.041, robot: robot)
        for i in file.parameters.indices where ["driver.delay", "sensor.delay"].contains(file.parameters[i].name) {
            file.parameters[i].method = "trajectory fit (LM)"
        }
        var plan = try TrialPlan(backend: .sim, count: 8, seconds: 8, seed: 3, stage: .full)
        plan.calibrated = try CalibratedSimulation(calibration: file, source: "cal.yaml", robot: robot)
        var progress: [String] = []
        let attribution = try GapAttribution.run(plan: plan, robot: robot, policyName: policyPath,
                                                 makePolicy: { try OnnxPolicy(path: policyPath, manifest: robot.manifest) }) { name,
                                                     _ in progress.append(name) }
        let rate = Dictionary(attribution.entries.map { ("\($0.within ?? "")/\($0.nominal)", $0.successes) }, uniquingKeysWith: { a, _ in a })
        #expect(attribution.explaining.contains("driver.delay"), "\(rate)")
        #expect(attribution.drilled == ["driver.delay"], "only the explaining group with more than one member: \(rate)")
        #expect(progress.suffix(2) == ["driver.delay › driver.delay", "driver.delay › sensor.delay"])
        #expect(attribution.entries.filter { $0.within != nil }.map(\.nominal) == ["driver.delay", "sensor.delay"])
        #expect(rate["driver.delay/driver.delay"]! >= 6 && rate["driver.delay/sensor.delay"]! <= 2, "\(rate)")
        #expect(attribution.explainingMembers == ["driver.delay"])
        #expect(attribution.explanation == "explained by driver.delay, within it driver.delay")
        let back = try JSONDecoder().decode(GapAttribution.self, from: attribution.json())
        #expect(back.entries.last?.within == "driver.delay" && back.explainingMembers == ["driver.delay"])
        let real = TrialRecord(trial: 0, robot: "quadruped", policy: "p", backend: .emulator, seed: 1, success: false, failureMode: "fall",
                               distance: 0.2, requiredDistance: 1, episodeSeconds: 1.5, score: 0.1)
        var gap = try GapReport(sim: [real], real: [real], simSource: "a", realSource: "b")
        gap.attributions = [attribution]
        #expect(!gap.missing.contains { $0.contains("single parameter") }, "the drill-down ran")
        let html = gap.html().render()
        #expect(html.contains("↳ sensor.delay") && html.contains("Drill-down: driver.delay explained"))
    }
}
