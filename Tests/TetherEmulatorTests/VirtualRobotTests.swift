import Foundation
import Testing
import TetherCore
import TetherEmulator
import TetherPolicy
import TetherRuntime
import TetherSafety
import TetherSim

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let quadrupedManifest = "\(repositoryRoot)/robots/quadruped/quadruped.yaml"

/// A virtual quadruped on a manual clock at 0, stepped one physics step at a time.
final class Bench {
    let robot: VirtualRobot
    let clock = ManualClock()
    let dt: Double
    var time = 0.0

    init(_ truth: Truth) throws {
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        dt = model.model.timestep
        // The actuator models are measured on one command held for long: no command timeout here
        // (the timeout has tests of its own).
        robot = try VirtualRobot(robot: model, truth: truth, clock: clock, commandTimeout: 1e6)
    }

    /// Steps one physics step and returns the newest delivered state.
    @discardableResult
    func step() throws -> (state: RobotState, receivedAt: Double)? {
        time += dt
        clock.sleep(until: time)
        try robot.advance(to: time)
        return try robot.latestState()
    }

    func run(seconds: Double) throws {
        for _ in 0..<Int((seconds / dt).rounded()) { try step() }
    }
}

/// A feed-forward torque on the first joint, nothing else.
func torqueCommand(_ torque: Double) -> JointCommand {
    var c = JointCommand.zeroTorque(count: 12)
    c.torques[0] = torque
    return c
}

@Suite struct LinkAndActuatorTests {
    @Test func linkLatencyDelaysTheTorqueResponseAndTheStates() throws {
        var truth = Truth(name: "latency", seed: 3)
        truth.link.latency = 0.020
        let bench = try Bench(truth)
        try bench.run(seconds: 0.1)
        let sentAt = bench.clock.now()
        try bench.robot.send(torqueCommand(5))
        var response: Double?, seenAt: Double?
        var ages: [Double] = []
        for _ in 0..<100 {
            guard let (state, receivedAt) = try bench.step() else { continue }
            ages.append(receivedAt - state.time)
            if response == nil, abs(state.jointTorques[0]) > 1 { response = state.time; seenAt = receivedAt }
        }
        let delay = try #require(response) - sentAt
        print("emulator: 20 ms latency → torque response \(delay * 1000) ms after the command, seen by the runtime "
            + "\((try #require(seenAt) - sentAt) * 1000) ms after it; state age \(ages.min()! * 1000)…\(ages.max()! * 1000) ms")
        #expect(abs(delay - 0.020) <= bench.dt * 1.001)
        #expect(delay >= 0.020 - 1e-9)
        #expect(ages.allSatisfy { abs($0 - 0.020) < 1e-9 })
    }

    @Test func firstOrderLagReaches63PercentAfterTau() throws {
        var truth = Truth(name: "lag", seed: 3)
        truth.actuators.lagTimeConstant = 0.010
        let bench = try Bench(truth)
        try bench.run(seconds: 0.1)
        let sentAt = bench.clock.now()
        try bench.robot.send(torqueCommand(10))
        var reached: Double?, last = 0.0
        for _ in 0..<100 {
            guard let (state, _) = try bench.step() else { continue }
            last = state.jointTorques[0]
            if reached == nil, last >= 0.632 * 10 - 1e-9 { reached = state.time }
        }
        let t63 = try #require(reached) - sentAt
        print("emulator: lag τ = 10 ms → 63 % of a torque step after \(t63 * 1000) ms")
        #expect(abs(t63 - 0.010) <= bench.dt * 1.001)
        #expect(abs(last - 10) < 1e-3)
    }

    @Test func saturationCapsTheTorque() throws {
        var truth = Truth(name: "saturation", seed: 3)
        truth.actuators.saturation = 0.5
        let bench = try Bench(truth)
        try bench.robot.send(torqueCommand(100))
        try bench.run(seconds: 0.02)
        let limit = try #require(bench.robot.manifest.joints[0].torqueLimit)
        #expect(abs(try #require(try bench.robot.latestState()).state.jointTorques[0] - 0.5 * limit) < 1e-9)
    }

    @Test func commandLossKeepsThePreviousCommand() throws {
        var truth = Truth(name: "loss", seed: 3)
        truth.link.commandLoss = 1
        let bench = try Bench(truth)
        try bench.robot.send(torqueCommand(5))
        try bench.run(seconds: 0.05)
        #expect(try #require(try bench.robot.latestState()).state.jointTorques[0] == 0)
    }
}

@Suite struct SensorTests {
    /// Joint readings of a corrupted and a clean robot over the same (identical) physics.
    func paired(_ truth: Truth, seconds: Double) throws -> [(measured: RobotState, clean: RobotState)] {
        let noisy = try Bench(truth), clean = try Bench(Truth(name: "clean", seed: truth.seed))
        var pairs: [(RobotState, RobotState)] = []
        for _ in 0..<Int(seconds / noisy.dt) {
            let a = try #require(try noisy.step()), b = try #require(try clean.step())
            #expect(a.state.time == b.state.time)
            pairs.append((a.state, b.state))
        }
        return pairs
    }

    @Test func biasAndNoiseHaveTheConfiguredMeanAndSpread() throws {
        var truth = Truth(name: "noise", seed: 11)
        truth.sensors.positionBias = 0.01
        truth.sensors.positionNoise = 0.005
        truth.sensors.velocityBias = -0.02
        truth.sensors.velocityNoise = 0.03
        truth.sensors.gyroBias = SIMD3(0.01, 0.02, -0.01)
        truth.sensors.gyroNoise = 0.004
        var q: [Double] = [], qd: [Double] = [], gx: [Double] = []
        for (m, c) in try paired(truth, seconds: 4) {
            for j in m.jointPositions.indices {
                q.append(m.jointPositions[j] - c.jointPositions[j])
                qd.append(m.jointVelocities[j] - c.jointVelocities[j])
            }
            gx.append(m.baseAngularVelocity!.x - c.baseAngularVelocity!.x)
        }
        func check(_ v: [Double], mean: Double, sd: Double, _ label: String) {
            let n = Double(v.count)
            let mu = v.reduce(0, +) / n
            let s = (v.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / (n - 1)).squareRoot()
            print("emulator: \(label): mean \(mu) (configured \(mean)), std \(s) (configured \(sd)) over \(v.count) samples")
            // Four standard errors of the mean and of the standard deviation.
            #expect(abs(mu - mean) < 4 * sd / n.squareRoot())
            #expect(abs(s - sd) < 4 * sd / (2 * n).squareRoot())
        }
        check(q, mean: 0.01, sd: 0.005, "joint position error")
        check(qd, mean: -0.02, sd: 0.03, "joint velocity error")
        check(gx, mean: 0.01, sd: 0.004, "gyro x error")
    }

    @Test func quantizationGivesMultiplesOfTheResolution() throws {
        var truth = Truth(name: "encoder", seed: 5)
        truth.sensors.resolution = 0.001
        var count = 0
        for (m, c) in try paired(truth, seconds: 0.5) {
            for j in m.jointPositions.indices {
                let k = m.jointPositions[j] / 0.001
                #expect(abs(k - k.rounded()) < 1e-6)
                #expect(abs(m.jointPositions[j] - c.jointPositions[j]) <= 0.0005 + 1e-9)
                count += 1
            }
        }
        #expect(count > 1000)
    }

    @Test func aRunIsReproducibleFromTheSeed() throws {
        let truth = try Truth.preset("harsh", seed: 9)
        let a = try Bench(truth), b = try Bench(truth)
        try a.robot.send(torqueCommand(3))
        try b.robot.send(torqueCommand(3))
        for _ in 0..<200 {
            let x = try a.step(), y = try b.step()
            #expect(x?.state == y?.state && x?.receivedAt == y?.receivedAt)
        }
        let c = try Bench(try Truth.preset("harsh", seed: 10))
        try c.run(seconds: 0.4)
        #expect(try c.robot.latestState()?.state != (try a.robot.latestState()?.state))
    }
}

@Suite struct StallTests {
    @Test func aStalledPublisherFreezesTheReceiveTime() throws {
        var truth = Truth(name: "stall", seed: 2)
        truth.link.stall = .init(start: 0.5, duration: 1.0)
        let bench = try Bench(truth)
        var received: [(time: Double, receivedAt: Double)] = []
        for _ in 0..<1000 {
            let r = try #require(try bench.step())
            received.append((bench.time, r.receivedAt))
        }
        func at(_ t: Double) -> Double { received.min { abs($0.time - t) < abs($1.time - t) }!.receivedAt }
        #expect(abs(at(0.4) - 0.4) < 1e-9)
        #expect(at(0.6) == at(1.4))
        #expect(at(1.4) < 0.5)
        #expect(abs(at(1.8) - 1.8) < 1e-9)
    }

    @Test func theSafetyWrapperStopsADeploymentOnAStall() throws {
        var truth = Truth(name: "stall", seed: 2)
        truth.link.stall = .init(start: 1.0, duration: 2.0)
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        let clock = ManualClock()
        let robot = try VirtualRobot(robot: model, truth: truth, clock: clock)
        let deployment = Deployment(robot: robot, policy: nil, safety: SafetyWrapper(config: try SafetyConfig(manifest: model.manifest, stage: 1.0)),
                                    timing: .init(standUpSeconds: 1.5), recorder: nil, clock: clock, loop: .init(rateHz: 50),
                                    velocityCommand: .zero)
        let report = try deployment.run(script: [.init(time: 0.2, command: .standUp)], seconds: 2.5)
        print("emulator: stall at 1.0 s → stopped \(report.stopped), reason \(report.stopReason ?? "none"); \(report.events.first ?? "")")
        #expect(report.stopped)
        #expect(report.stopReason == SafetyReason.stateTimeout.rawValue)
    }
}

@Suite struct TruthTests {
    @Test func presetsLoadAndOrderTheirGaps() throws {
        let presets = try Truth.presetNames.map { try Truth.preset($0) }
        #expect(presets.map(\.name) == ["mild", "typical", "harsh"])
        #expect(presets[0].link.latency < presets[1].link.latency && presets[1].link.latency < presets[2].link.latency)
        #expect(presets[0].actuators.lagTimeConstant < presets[2].actuators.lagTimeConstant)
        #expect(throws: TetherError.self) { try Truth.preset("brutal") }
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        for truth in presets { _ = try VirtualRobot(robot: model, truth: truth, clock: ManualClock()) }
    }

    @Test func physicsEditsChangeTheHiddenModelOnly() throws {
        var truth = Truth(name: "heavy", seed: 1)
        truth.physics.payload = 2
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        let before = model.model.totalMass
        let robot = try VirtualRobot(robot: model, truth: truth, clock: ManualClock())
        #expect(model.model.totalMass == before)  // the caller's model is untouched
        _ = robot
    }

    @Test func aTruthFileParses() throws {
        let yaml = """
        tether_truth: 1
        name: bench
        seed: 42
        physics:
          friction_scale: 0.8
          mass_scale: 1.05
          payload: 0.5
          base_com_offset: [0.01, 0, 0]
          joint_damping: 0.2
          joint_frictionloss: 0.1
        actuators:
          lag: 0.004
          dead_time: 0.002
          saturation: 0.9
          backlash: 0.005
          thermal: {heating: 0.003, cooling_time: 60, loss_per_kelvin: 0.002}
        sensors:
          publish_hz: 250
          position_noise: 0.003
          gyro_bias: [0.01, 0, 0]
          accelerometer_bias: 0.1
          encoder_offsets: [0.01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
          dropout: 0.01
        link:
          latency: 0.005
          jitter: 0.002
          command_loss: 0.01
          state_loss: 0.01
          stall: {start: 3, duration: 0.5}
        """
        let t = try Truth.parse(yaml: yaml)
        #expect(t.seed == 42 && t.name == "bench")
        #expect(t.physics.baseCenterOfMassOffset == SIMD3(0.01, 0, 0))
        #expect(t.actuators.thermal.lossPerKelvin == 0.002)
        #expect(t.sensors.accelerometerBias == SIMD3(repeating: 0.1) && t.sensors.publishHz == 250)
        #expect(t.link.stall == .init(start: 3, duration: 0.5))
    }

    @Test func badTruthListsEveryProblemWithItsLine() throws {
        let yaml = """
        seed: 1
        physics:
          friction_scale: -1
          masss_scale: 1
        actuators:
          saturation: 1.5
        link:
          command_loss: 2
          stall: {start: 1}
        sensors:
          gyro_bias: [1, 2]
        """
        do {
            _ = try Truth.parse(yaml: yaml, sourcePath: "bad.yaml")
            Issue.record("a bad truth parsed")
        } catch let error as ManifestError {
            print("emulator: \(error)")
            let byField = Dictionary(error.problems.map { ($0.field, $0.line) }, uniquingKeysWith: { a, _ in a })
            #expect(byField["physics.friction_scale"] == 3)
            #expect(byField["physics.masss_scale"] == 4)
            #expect(byField["actuators.saturation"] == 6)
            #expect(byField["link.command_loss"] == 8)
            #expect(byField["link.stall.duration"] == 9)
            #expect(byField["sensors.gyro_bias"] == 11)
            #expect(error.problems.count == 6)
        }
    }
}

@Suite struct WalkingTests {
    /// Stand up, walk at 0.5 m/s from 2 s to 8 s, stop: the default policy on the virtual robot.
    func walk(_ truth: Truth) throws -> Deployment.Report {
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        let policy = try OnnxPolicy(path: "\(repositoryRoot)/policies/quadruped.onnx", manifest: model.manifest)
        let clock = ManualClock()
        let robot = try VirtualRobot(robot: model, truth: truth, clock: clock)
        let deployment = Deployment(robot: robot, policy: policy, safety: SafetyWrapper(config: try SafetyConfig(manifest: model.manifest, stage: 1.0)),
                                    timing: .init(standUpSeconds: 1.5), recorder: nil, clock: clock, loop: .init(rateHz: 50),
                                    velocityCommand: SIMD3(0.5, 0, 0))
        let script: [Deployment.ScriptedCommand] = [.init(time: 0.2, command: .standUp), .init(time: 2.0, command: .startPolicy),
                                                    .init(time: 8.0, command: .stop)]
        let report = try deployment.run(script: script, seconds: 9.5)
        print("emulator: \(truth.name): walked \(report.distance ?? .nan) m, stopped \(report.stopped) \(report.stopReason ?? ""), final \(report.finalPhase)")
        return report
    }

    @Test func theDefaultPolicyWalksOnTheMildAndTypicalRobots() throws {
        let nominal = try walk(Truth(name: "nominal", seed: 1))
        let mild = try walk(try Truth.preset("mild"))
        let typical = try walk(try Truth.preset("typical"))
        #expect(!nominal.stopped && nominal.distance! > 1)
        #expect(!mild.stopped && mild.safetyCounters["fall", default: 0] == 0)
        #expect(mild.distance! > 1)
        #expect(typical.distance! > 1)
    }
}

@Suite struct MoreModelTests {
    @Test func deadTimeAddsToTheLinkLatency() throws {
        var truth = Truth(name: "dead time", seed: 3)
        truth.link.latency = 0.004
        truth.actuators.deadTime = 0.010
        let bench = try Bench(truth)
        try bench.run(seconds: 0.1)
        let sentAt = bench.clock.now()
        try bench.robot.send(torqueCommand(5))
        var response: Double?
        for _ in 0..<50 {
            if let (state, _) = try bench.step(), response == nil, abs(state.jointTorques[0]) > 1 { response = state.time }
        }
        let delay = try #require(response) - sentAt
        print("emulator: 4 ms latency + 10 ms dead time → torque response after \(delay * 1000) ms")
        #expect(delay >= 0.014 - 1e-9 && delay <= 0.014 + bench.dt * 1.001)
    }

    @Test func heatingLowersTheTorqueConstant() throws {
        var truth = Truth(name: "thermal", seed: 3)
        truth.actuators.thermal.heating = 0.01      // 10 N·m → about 1 K/s
        truth.actuators.thermal.coolingTime = 60
        truth.actuators.thermal.lossPerKelvin = 0.01
        let bench = try Bench(truth)
        try bench.robot.send(torqueCommand(10))
        try bench.run(seconds: 0.1)
        let early = try #require(try bench.robot.latestState()).state.jointTorques[0]
        try bench.run(seconds: 5)
        let late = try #require(try bench.robot.latestState()).state.jointTorques[0]
        print("emulator: thermal: torque \(early) N·m at 0.1 s, \(late) N·m after 5 s of 10 N·m")
        // About 4.5 K after 5 s (heating ~0.93 K/s, slow cooling): 4–5 % less torque.
        #expect(early > 9.98)
        #expect(late > 9.5 && late < 9.6)
    }

    @Test func backlashIsADeadBandOnTheMeasuredPosition() throws {
        var truth = Truth(name: "backlash", seed: 3)
        truth.actuators.backlash = 0.02
        let noisy = try Bench(truth), clean = try Bench(Truth(name: "clean", seed: 3))
        try noisy.robot.send(torqueCommand(3))
        try clean.robot.send(torqueCommand(3))
        var largest = 0.0
        for _ in 0..<250 {
            let a = try #require(try noisy.step()), b = try #require(try clean.step())
            let d = a.state.jointPositions[0] - b.state.jointPositions[0]
            #expect(abs(d) <= 0.01 + 1e-9)
            largest = max(largest, abs(d))
        }
        print("emulator: backlash 0.02 rad → largest position error \(largest) rad")
        #expect(largest > 0.0099)
    }

    @Test func dropoutsAndStateLossThinTheStream() throws {
        var truth = Truth(name: "dropout", seed: 8)
        truth.sensors.dropout = 0.1
        truth.link.stateLoss = 0.1
        let bench = try Bench(truth)
        var times = Set<Double>()
        for _ in 0..<2000 { if let (s, _) = try bench.step() { times.insert(s.time) } }
        let expected = 2000 * 0.9 * 0.9, sd = (2000 * 0.81 * 0.19).squareRoot()
        print("emulator: 10 % dropout + 10 % loss → \(times.count) of 2000 states delivered (expected \(expected))")
        #expect(abs(Double(times.count) - expected) < 4 * sd)
    }

    @Test func driftWalksAway() throws {
        var truth = Truth(name: "drift", seed: 4)
        truth.sensors.positionDrift = 0.01  // rad/√s
        var errors: [Double] = []
        for (m, c) in try SensorTests().paired(truth, seconds: 4) { errors.append(m.jointPositions[5] - c.jointPositions[5]) }
        print("emulator: drift 0.01 rad/√s → error \(errors.last!) rad after 4 s")
        #expect(abs(errors[0]) < 0.002)
        #expect(errors.allSatisfy { abs($0) < 0.1 })
        #expect(Set(errors).count > 100)
    }
}

@Suite struct PhysicsTests {
    /// Total |torque| holding the default pose for 1 s, from the start pose (not lying down).
    func holdingTorque(_ truth: Truth) throws -> Double {
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        let clock = ManualClock()
        let robot = try VirtualRobot(robot: model, truth: truth, clock: clock, layDown: false)
        try robot.send(model.manifest.defaultPoseCommand)
        clock.sleep(until: 1)
        try robot.advance(to: 1)
        return try #require(try robot.latestState()).state.jointTorques.map { abs($0) }.reduce(0, +)
    }

    @Test func aPayloadIsFeltInTheHoldingTorque() throws {
        var heavy = Truth(name: "payload", seed: 1)
        heavy.physics.payload = 3
        let nominal = try holdingTorque(Truth(name: "nominal", seed: 1)), loaded = try holdingTorque(heavy)
        print("emulator: holding torque \(nominal) N·m nominal, \(loaded) N·m with a 3 kg payload")
        #expect(loaded > nominal * 1.1)
    }
}

/// The virtual robot's own command timeout: a controller that dies never leaves its last targets applied.
@Suite struct VirtualRobotCommandTimeoutTests {
    @Test func silenceDampsThenZeroTorque() throws {
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        let clock = ManualClock()
        var truth = Truth(name: "ideal", seed: 1)
        truth.actuators.lagTimeConstant = 0.002
        let robot = try VirtualRobot(robot: model, truth: truth, clock: clock, layDown: false, commandTimeout: 0.1, dampingSeconds: 0.5)
        let dt = model.model.timestep
        var time = 0.0
        func advance(_ seconds: Double) throws {
            for _ in 0..<Int((seconds / dt).rounded()) { time += dt; clock.sleep(until: time); try robot.advance(to: time) }
        }
        #expect(robot.commandWatchdogMode == .unarmed)
        try advance(0.3)
        #expect(robot.commandWatchdogMode == .unarmed, "never commanded: the power-on behaviour stays")
        // A controller holding the default pose at 50 Hz, then killed.
        for _ in 0..<25 { try robot.send(model.manifest.defaultPoseCommand); try advance(0.02) }
        #expect(robot.commandWatchdogMode == .following)
        let holding = try #require(try robot.latestState()).state.jointTorques
        #expect(holding.map(abs).max()! > 2, "holding the pose takes torque")
        try advance(0.06)   // 0.08 s since the last command
        #expect(robot.commandWatchdogMode == .following)
        try advance(0.04)   // 0.12 s of silence
        #expect(robot.commandWatchdogMode == .damping)
        #expect(robot.commandTimeouts == 1)
        // At the damping level: τ = −kd·q̇ (kd 0.5), after the driver's 2 ms lag has settled.
        try advance(0.02)
        let s = try #require(try robot.latestState()).state
        for k in 0..<12 { #expect(abs(s.jointTorques[k] + 0.5 * s.jointVelocities[k]) < 0.3) }
        try advance(0.5)
        #expect(robot.commandWatchdogMode == .zeroTorque)
        let z = try #require(try robot.latestState()).state
        #expect(z.jointTorques.map(abs).max()! < 0.05)
    }
}

/// The virtual robot drives a position-servo model (fixtures/vendor_robot) with the same torques as
/// the same robot on torque motors: a deployment stands both up the same way.
@Suite struct ServoModelOnTheVirtualRobotTests {
    func standUp(_ manifest: String, lag: Double) throws -> (report: Deployment.Report, joints: [Double]) {
        var truth = Truth(name: "servo", seed: 4)
        truth.actuators.lagTimeConstant = lag
        let model = try RobotModel.load(manifestPath: "\(repositoryRoot)/fixtures/vendor_robot/\(manifest)")
        let clock = ManualClock()
        let robot = try VirtualRobot(robot: model, truth: truth, clock: clock, layDown: false)
        let deployment = Deployment(robot: robot, policy: nil, safety: SafetyWrapper(config: try SafetyConfig(manifest: model.manifest, stage: 0.5)),
                                    timing: .init(standUpSeconds: 1.0), recorder: nil, clock: clock, loop: .init(rateHz: 50),
                                    velocityCommand: .zero)
        let report = try deployment.run(script: [.init(time: 0.2, command: .standUp)], seconds: 2.0)
        let state = try #require(try robot.latestState()).state
        return (report, state.jointPositions)
    }

    @Test func servoAndMotorModelsStandUpAlike() throws {
        for lag in [0.0, 0.01] {
            let servo = try standUp("vendorbot_servo.yaml", lag: lag), motor = try standUp("vendorbot.yaml", lag: lag)
            #expect(!servo.report.stopped && !motor.report.stopped, "\(servo.report.stopReason ?? "") \(motor.report.stopReason ?? "")")
            let worst = zip(servo.joints, motor.joints).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-6, "lag \(lag): largest joint difference servo vs motor \(worst)")
        }
    }
}
