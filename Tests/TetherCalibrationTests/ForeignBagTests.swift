import Foundation
import TetherNumerics
import Testing
import TetherCore
import TetherSim
@testable import TetherCalibration

/// A `ros2 bag record` of a robot standing still, written by rosbags (tests/peers/foreign_bag.py,
/// an independent MCAP writer) with synthetic data of known noise and bias: no commands, no
/// Tether metadata, topics named otherwise than the manifest's.
@Suite(.serialized) struct ForeignBagTests {
    static let robot = try! RobotModel.load(manifestPath: "\(repositoryRoot)/robots/quadruped/quadruped.yaml")

    struct Truth: Decodable {
        var gyro_white_sd: Double
        var gyro_density: Double
        var gyro_mean_realized: [Double]
        var gyro_rrw: Double
        var imu_interval: Double
        var accel_white_sd: Double
        var accel_density: Double
        var accel_bias_z: Double
        var encoder_sd: Double
        var offsets: [String: Double]
    }
    struct Written: Decodable {
        var mcap: String
        var truth: Truth
    }

    /// Writes a bag with rosbags; `options` as foreign_bag.py documents them.
    static func bag(_ options: [String: Any]) throws -> Written {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-foreign-\(UUID().uuidString)").path
        let json = String(decoding: try JSONSerialization.data(withJSONObject: options), as: UTF8.self)
        let out = try TetherPaths.run(try TetherPaths.python(), ["\(repositoryRoot)/tests/peers/foreign_bag.py", dir, json])
        return try JSONDecoder().decode(Written.self, from: Data(out.utf8))
    }

    static func calibrate(_ path: String, imuTopic: String? = nil, base: RandomizationSpec? = nil) throws -> Calibration.Outcome {
        var c = Calibration(robot: robot, baseRandomization: base)
        c.imuTopic = imuTopic
        return try c.run(paths: [path])
    }

    static func parameter(_ outcome: Calibration.Outcome, _ name: String) -> CalibratedParameter? {
        outcome.file.parameters.first { $0.name == name }
    }

    /// Two minutes at rest, IMU at 200 Hz (white noise, bias, rate random walk on the gyro),
    /// encoders at 250 Hz: every figure lands on the truth within its statistical tolerance.
    @Test func aStandingBagFromElsewhereGivesTheSensorNoise() throws {
        let bag = try Self.bag(["seconds": 120])
        defer { try? FileManager.default.removeItem(atPath: (bag.mcap as NSString).deletingLastPathComponent) }
        let truth = bag.truth
        let outcome = try Self.calibrate(bag.mcap)
        let file = outcome.file
        func p(_ name: String) throws -> CalibratedParameter { try #require(Self.parameter(outcome, name), "no \(name)") }
        // Topics found by schema, time base said.
        let notes = file.notes.joined(separator: "\n")
        #expect(notes.contains("joint states from /robot/joint_states, found by its schema"))
        #expect(notes.contains("IMU from /imu/data, found by its schema"))
        #expect(notes.contains("time base: header stamps"))
        #expect(notes.contains("analysed as the robot at rest"))
        #expect(notes.contains("joint not in the manifest, ignored: head_pan"))
        var lines: [String] = []
        for (k, axis) in ["x", "y", "z"].enumerated() {
            let noise = try p("sensor.gyro.\(axis).noise"), density = try p("sensor.gyro.\(axis).noise_density")
            let walk = try p("sensor.gyro.\(axis).random_walk"), bias = try p("sensor.gyro.\(axis).bias")
            lines.append(String(format: "gyro %@: sd %.5f (true %.5f), density %.4e / ARW %.4e (true %.4e), bias %.5f ± %.1e (realized %.5f)", axis,
                                noise.estimate[0], truth.gyro_white_sd, density.estimate[0], walk.estimate[0], truth.gyro_density,
                                bias.estimate[0], bias.standardError[0], truth.gyro_mean_realized[k]))
            // The white noise (the random walk adds < 1 % to the spread over two minutes).
            #expect(relativelyClose(noise.estimate[0], truth.gyro_white_sd, 0.03))
            #expect(relativelyClose(density.estimate[0], truth.gyro_density, 0.03))
            // The −1/2 line of the Allan deviation at τ = 1 s.
            #expect(relativelyClose(walk.estimate[0], truth.gyro_density, 0.1))
            // The mean over the recording: bias plus what the random walk wandered to.
            #expect(abs(bias.estimate[0] - truth.gyro_mean_realized[k]) <= 4 * bias.standardError[0] + 1e-4)
            // The rate random walk makes the curve turn up: a minimum, so a bias instability.
            let instability = try p("sensor.gyro.\(axis).bias_instability")
            lines.append(String(format: "gyro %@: bias instability %.3e rad/s (%@)", axis, instability.estimate[0], instability.flags.first ?? ""))

            let a = try p("sensor.accel.\(axis).noise"), ad = try p("sensor.accel.\(axis).noise_density"), ab = try p("sensor.accel.\(axis).bias")
            lines.append(String(format: "accel %@: sd %.4f (true %.4f), density %.4e (true %.4e), bias %.4f ± %.1e (true %.4f)", axis,
                                a.estimate[0], truth.accel_white_sd, ad.estimate[0], truth.accel_density, ab.estimate[0], ab.standardError[0],
                                axis == "z" ? truth.accel_bias_z : 0))
            #expect(relativelyClose(a.estimate[0], truth.accel_white_sd, 0.03))
            #expect(relativelyClose(ad.estimate[0], truth.accel_density, 0.03))
            #expect(abs(ab.estimate[0] - (axis == "z" ? truth.accel_bias_z : 0)) <= 4 * ab.standardError[0] + 1e-4)
            #expect(ab.flags.contains { $0.contains("only the bias along gravity") })
        }
        let encoder = try p("sensor.joint_position.noise")
        lines.append(String(format: "encoders: sd %.4e (true %.4e)", encoder.estimate[0], truth.encoder_sd))
        #expect(relativelyClose(encoder.estimate[0], truth.encoder_sd, 0.03))
        for joint in Self.robot.manifest.joints.map(\.name) {
            let offset = try p("sensor.joint[\(joint)].offset"), noise = try p("sensor.joint[\(joint)].position_noise")
            let want = truth.offsets[joint] ?? 0
            #expect(abs(offset.estimate[0] - want) <= 4 * offset.standardError[0] + 1e-6, "\(joint): offset \(offset.estimate[0]) against \(want)")
            #expect(relativelyClose(noise.estimate[0], truth.encoder_sd, 0.06))
        }
        print(lines.joined(separator: "\n"))
        // What it could not do, and why.
        let skipped = file.skipped.joined(separator: "\n")
        for family in ["joint friction", "masses and inertias", "driver.lag", "delays"] {
            #expect(skipped.contains(family), "skipped does not mention \(family): \(skipped)")
        }
        #expect(skipped.contains("a recording at rest without commands cannot show it"))
        #expect(!skipped.contains("sensor noise"))
        #expect(outcome.figures.contains { $0.kind == .allan } && outcome.figures.contains { $0.kind == .rest })
        // The gyro's Allan curve follows white noise plus the rate random walk,
        // σ²(τ) = N²/τ + K²τ/3, each point within 4 of its relative errors 1/√(2ν).
        let allan = try #require(outcome.figures.first { $0.kind == .allan })
        let n = 120.0 / truth.imu_interval
        for series in allan.series where series.label.hasPrefix("gyro") {
            #expect(series.x.count >= 10)
            for (tau, sigma) in zip(series.x, series.y) {
                let theory = (truth.gyro_density * truth.gyro_density / tau + truth.gyro_rrw * truth.gyro_rrw * tau / 3).squareRoot()
                let nu = (n / (tau / truth.imu_interval)).rounded(.down) - 1
                #expect(abs(log(sigma / theory)) <= 4 / (2 * nu).squareRoot(), "\(series.label) at τ = \(tau) s: \(sigma) against \(theory)")
            }
            // Past the minimum the random walk lifts the curve above white noise alone.
            let last = series.x.count - 1
            #expect(series.y[last] > 1.5 * truth.gyro_density / series.x[last].squareRoot())
        }
        #expect(outcome.mjcf?.diff.isEmpty == true)   // nothing to patch
        let html = CalibrationReport.html(outcome, robot: Self.robot)
        #expect(html.contains("Skipped: joint friction"))

        // The file round-trips, and the randomization derived from it parses and samples.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-foreign-out-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CalibrationOutput.write(outcome, robot: Self.robot, to: dir)
        let back = try CalibrationFile.load(path: "\(dir)/calibration.json")
        #expect(back.skipped == file.skipped && back.notes == file.notes)
        let spec = try RandomizationSpec.load(path: "\(dir)/randomization.yaml")
        let term = try #require(spec.terms.first { $0.target == .observationNoise })
        // Measured noise well below the trained noise (gyro 0.01 vs 0.2/√3 rad/s): from a
        // fraction of it up to the trained level.
        guard case .uniform(let low, let high) = term.distribution else { Issue.record("not uniform: \(term)"); return }
        #expect(low > 0 && low < 0.1 && high == 1)
        var random = SeededRandom(seed: 7)
        let sample = try spec.sample(for: Self.robot, random: &random)
        #expect(sample.observationNoise >= low && sample.observationNoise <= high)
        // With the robot's own spec as the base, its wider observation_noise term is kept.
        let base = try RandomizationSpec.load(path: "\(repositoryRoot)/robots/quadruped/randomization.yaml")
        let derived = RandomizationDerivation.spec(from: file, base: base, joints: Self.robot.manifest.joints.map(\.name),
                                                   observation: Self.robot.manifest.observation.terms)
        #expect(derived.spec.terms.filter { $0.target == .observationNoise }.count == 1)
        #expect(derived.yaml.contains("covers the measured noise"))
        #expect(try RandomizationSpec.parse(yaml: derived.yaml).terms.count == derived.spec.terms.count)
    }

    /// Noise only, no trained counterpart: `terms: []`, which still reads back.
    @Test func aCalibrationWithNothingToRandomizeStillGivesAReadableSpec() throws {
        let file = CalibrationFile(robot: "quadruped", model: "m.xml", recordings: [], parameters: [
            CalibratedParameter(name: "sensor.accel.x.noise", unit: "m/s²", nominal: nil, estimate: [0.05], standardError: [0.001], method: "test",
                                recordings: [])],
                                   warnings: [], heldOut: [])
        let derived = RandomizationDerivation.spec(from: file, observation: Self.robot.manifest.observation.terms)
        #expect(derived.yaml.contains("terms: []"))
        #expect(try RandomizationSpec.parse(yaml: derived.yaml).terms.isEmpty)
    }

    /// A gyro noisier than training assumed: the multiplier reaches past the base term's range,
    /// which it replaces.
    @Test func noiseAboveTheTrainedNoiseWidensTheObservationNoise() throws {
        // Trained: base_angular_velocity noise 0.2 (half-width) → sd 0.115 rad/s; measured 0.3.
        let file = CalibrationFile(robot: "quadruped", model: "m.xml", recordings: [], parameters: [
            CalibratedParameter(name: "sensor.gyro.y.noise", unit: "rad/s", nominal: nil, estimate: [0.3], standardError: [0.003],
                                interval: [ConfidenceInterval(lower: 0.294, upper: 0.306)], method: "test", recordings: [])],
                                   warnings: [], heldOut: [])
        let base = try RandomizationSpec.load(path: "\(repositoryRoot)/robots/quadruped/randomization.yaml")
        let derived = RandomizationDerivation.spec(from: file, base: base, observation: Self.robot.manifest.observation.terms)
        let terms = derived.spec.terms.filter { $0.target == .observationNoise }
        #expect(terms.count == 1)
        guard case .uniform(let low, let high) = terms.first?.distribution else { Issue.record("no uniform term"); return }
        let upper = 0.306 / (0.2 / 3.0.squareRoot())
        #expect(low == 0.5 && abs(high - 1.5 * upper) < 1e-3)
        #expect(try RandomizationSpec.parse(yaml: derived.yaml).terms.count == derived.spec.terms.count)
    }

    @Test func severalIMUTopicsAreAnErrorThatListsThemAndTheOptionChoosesOne() throws {
        let bag = try Self.bag(["seconds": 3, "imu_topics": ["/imu/data", "/imu/raw"]])
        defer { try? FileManager.default.removeItem(atPath: (bag.mcap as NSString).deletingLastPathComponent) }
        #expect { try Self.calibrate(bag.mcap) } throws: { error in
            let text = "\(error)"
            return text.contains("2 IMU topics") && text.contains("/imu/data") && text.contains("/imu/raw") && text.contains("--imu-topic")
        }
        let outcome = try Self.calibrate(bag.mcap, imuTopic: "/imu/raw")
        #expect(outcome.file.notes.contains { $0.contains("IMU from /imu/raw (chosen with --imu-topic)") })
        #expect(Self.parameter(outcome, "sensor.gyro.x.noise") != nil)
        #expect { try Self.calibrate(bag.mcap, imuTopic: "/imu/none") } throws: { "\($0)".contains("no topic /imu/none") && "\($0)".contains("/imu/raw") }
    }

    /// Too short for an Allan deviation: noise and bias only, and the minimum said. Zero header
    /// stamps: log times, said.
    @Test func aShortBagWithZeroStampsSaysTheAllanMinimumAndTheTimeBase() throws {
        let bag = try Self.bag(["seconds": 4, "zero_stamps": true])
        defer { try? FileManager.default.removeItem(atPath: (bag.mcap as NSString).deletingLastPathComponent) }
        let outcome = try Self.calibrate(bag.mcap)
        #expect(outcome.file.warnings.contains { $0.contains("needs at least 10 s") })
        #expect(outcome.file.notes.contains { $0.contains("time base: log times") && $0.contains("header stamps on /robot/joint_states are zero") })
        #expect(Self.parameter(outcome, "sensor.gyro.x.random_walk") == nil)
        let noise = try #require(Self.parameter(outcome, "sensor.gyro.x.noise"))
        #expect(relativelyClose(noise.estimate[0], bag.truth.gyro_white_sd, 0.1))
    }

    @Test func aBagWithoutIMUGivesJointNoiseOnlyAndSaysSo() throws {
        let bag = try Self.bag(["seconds": 3, "imu_topics": [String]()])
        defer { try? FileManager.default.removeItem(atPath: (bag.mcap as NSString).deletingLastPathComponent) }
        let outcome = try Self.calibrate(bag.mcap)
        #expect(outcome.file.notes.contains { $0.contains("no IMU") && $0.contains("joint noise only") })
        #expect(outcome.file.skipped.contains { $0.contains("the recordings have no IMU") })
        #expect(!outcome.file.parameters.contains { $0.name.hasPrefix("sensor.gyro") })
        let encoder = try #require(Self.parameter(outcome, "sensor.joint_position.noise"))
        #expect(relativelyClose(encoder.estimate[0], bag.truth.encoder_sd, 0.05))
    }

    /// Not in the default pose: no encoder offsets, said; moving: nothing, said; a missing
    /// joint: an error that lists it.
    @Test func whatABagCannotSupportIsSaid() throws {
        let lying = try Self.bag(["seconds": 3, "imu_topics": [String](), "defaults": ["FR_calf_joint": -2.6]])
        defer { try? FileManager.default.removeItem(atPath: (lying.mcap as NSString).deletingLastPathComponent) }
        let a = try Self.calibrate(lying.mcap)
        #expect(a.file.warnings.contains { $0.contains("encoder offsets not measured") && $0.contains("FR_calf_joint") })
        #expect(!a.file.parameters.contains { $0.name.hasSuffix("].offset") })
        #expect(Self.parameter(a, "sensor.joint_position.noise") != nil)

        let moving = try Self.bag(["seconds": 3, "imu_topics": [String](), "move": 0.3])
        defer { try? FileManager.default.removeItem(atPath: (moving.mcap as NSString).deletingLastPathComponent) }
        let b = try Self.calibrate(moving.mcap)
        #expect(b.file.warnings.contains { $0.contains("the robot moves") })
        #expect(b.file.parameters.isEmpty)

        let joints = Self.robot.manifest.joints.map(\.name).filter { $0 != "RL_calf_joint" }
        let missing = try Self.bag(["seconds": 1, "imu_topics": [String](), "joints": joints])
        defer { try? FileManager.default.removeItem(atPath: (missing.mcap as NSString).deletingLastPathComponent) }
        #expect { try Self.calibrate(missing.mcap) } throws: { "\($0)".contains("lacks joint RL_calf_joint") }
        let empty = try Self.bag(["seconds": 1, "imu_topics": [String](), "no_positions": true])
        defer { try? FileManager.default.removeItem(atPath: (empty.mcap as NSString).deletingLastPathComponent) }
        #expect { try Self.calibrate(empty.mcap) } throws: { "\($0)".contains("carry 0 positions for 13 joint names") }
        // The bag directory as ros2 bag writes it loads too.
        let c = try Self.calibrate((lying.mcap as NSString).deletingLastPathComponent)
        #expect(Self.parameter(c, "sensor.joint_position.noise") != nil)
    }
}
