import Foundation
import Testing
import TetherCore
import TetherSim
@testable import TetherCalibration

@Suite struct TrajectoryFitTests {
    static let cartTruth: [String: Double] = [
        "joint[slider].damping": 0.3, "joint[slider].frictionloss": 0.15, "body[pole].mass": 0.13, "driver.lag": 0.01,
    ]

    @Test func recoversCartpoleParametersWithinTheirIntervals() throws {
        let robot = try FitFixtures.cartpole()
        let training = try [
            FitFixtures.cartpoleRecording(robot, truth: Self.cartTruth, frequencies: [0.4, 0.9, 1.7, 3.1], seed: 1, name: "train-1"),
            FitFixtures.cartpoleRecording(robot, truth: Self.cartTruth, frequencies: [0.5, 1.2, 2.3, 4.1], seed: 2, name: "train-2"),
        ]
        let check = try FitFixtures.cartpoleRecording(robot, truth: Self.cartTruth, frequencies: [0.6, 1.4, 2.7], seed: 3, name: "held-out")
        let fit = try TrajectoryFit(robot: robot, parameters: [
            FitParameter("joint[slider].damping", bounds: 0...2),
            FitParameter("joint[slider].frictionloss", bounds: 0...1),
            FitParameter("body[pole].mass", bounds: 0.02...0.5),
            FitParameter("driver.lag", bounds: 0...0.05),
        ], options: .init(initialState: .atRest(window: FitFixtures.rest)))
        var iterations: [FitProgress] = []
        let result = try fit.fit(training, heldOut: [check]) { iterations.append($0) }
        for e in result.estimates {
            let truth = try #require(Self.cartTruth[e.name])
            let interval = try #require(e.interval95, "\(e.name) has no interval")
            #expect(interval.lower <= truth && truth <= interval.upper, "\(e.name): truth \(truth) outside [\(interval.lower), \(interval.upper)]")
            #expect(e.identifiable == true && e.bound == nil, "\(e.name) flagged")
        }
        #expect(result.weakDirections.isEmpty)
        #expect(iterations == result.history && !iterations.isEmpty)
        let held = try #require(result.recordings.first { $0.heldOut })
        let before = try #require(held.before)
        #expect(held.after.position < 0.3 * before.position && held.after.velocity < 0.3 * before.velocity)
        #expect(result.costFinal < result.costInitial)
    }
}

extension TrajectoryFitTests {
    static let legTruth: [String: Double] = [
        "joint[FR_thigh_joint].damping": 0.3, "joint[FR_calf_joint].frictionloss": 0.2, "body[FR_calf].scale": 1.4,
    ]

    @Test func recoversHungLegParameters() throws {
        let robot = try FitFixtures.quadruped()
        let training = try [
            FitFixtures.legRecording(robot, truth: Self.legTruth, frequencies: [0.9, 2.1, 3.7, 5.3], seed: 4, name: "leg-1"),
            FitFixtures.legRecording(robot, truth: Self.legTruth, frequencies: [1.3, 2.9, 4.4], seed: 5, name: "leg-2"),
        ]
        let check = try FitFixtures.legRecording(robot, truth: Self.legTruth, frequencies: [1.1, 2.5, 4.9], seed: 6, name: "leg-held-out")
        let fit = try TrajectoryFit(robot: robot, parameters: [
            FitParameter("joint[FR_thigh_joint].damping", bounds: 0...2),
            FitParameter("joint[FR_calf_joint].frictionloss", bounds: 0...1),
            FitParameter("body[FR_calf].scale", bounds: 0.5...3),
        ], options: .init(initialState: .atRest(window: FitFixtures.rest),
                          joints: ["FR_hip_joint", "FR_thigh_joint", "FR_calf_joint"]))
        let result = try fit.fit(training, heldOut: [check])
        for e in result.estimates {
            let truth = try #require(Self.legTruth[e.name])
            let interval = try #require(e.interval95, "\(e.name) has no interval")
            #expect(interval.lower <= truth && truth <= interval.upper, "\(e.name): truth \(truth) outside [\(interval.lower), \(interval.upper)]")
            #expect(e.identifiable == true)
        }
        let held = try #require(result.recordings.first { $0.heldOut })
        let before = try #require(held.before)
        #expect(held.after.normalized < 0.5 * before.normalized)
    }

    @Test func delaysAreRecovered() throws {
        let robot = try FitFixtures.cartpole()
        let frequencies = [0.4, 0.9, 1.7, 3.1]
        // A driver dead time (not a whole number of physics steps) and a sensor latency.
        let driver = try FitFixtures.cartpoleRecording(robot, truth: ["driver.delay": 0.012, "joint[slider].damping": 0.3],
                                                       frequencies: frequencies, seed: 1, name: "driver-delay")
        let sensor = try Self.sensorDelayed(robot, by: 0.007, truth: ["joint[slider].damping": 0.3], frequencies: frequencies)
        let options = TrajectoryFit.Options(initialState: .atRest(window: FitFixtures.rest))
        for (delay, truth, recording) in [("driver.delay", 0.012, driver), ("sensor.delay", 0.007, sensor)] {
            let fit = try TrajectoryFit(robot: robot, parameters: [
                FitParameter(delay, initial: 0.002, bounds: 0...0.05), FitParameter("joint[slider].damping", bounds: 0...2),
            ], options: options)
            let result = try fit.fit([recording])
            let interval = try #require(result.estimate(delay)?.interval95)
            #expect(interval.lower <= truth && truth <= interval.upper, "\(delay): truth \(truth) outside \(interval)")
        }
        // From replays of open-loop commands only the sum of the two delays shows, and the fit
        // says so: correlation −1, and with a strict limit the direction is named.
        var strict = options
        strict.identifiabilityLimit = 0.1
        let both = try TrajectoryFit(robot: robot, parameters: [
            FitParameter("driver.delay", initial: 0.002, bounds: 0...0.05), FitParameter("sensor.delay", initial: 0.002, bounds: 0...0.05),
            FitParameter("joint[slider].damping", bounds: 0...2),
        ], options: strict)
        let result = try both.fit([try Self.sensorDelayed(robot, by: 0.007, truth: ["driver.delay": 0.012, "joint[slider].damping": 0.3],
                                                          frequencies: frequencies)])
        #expect(result.correlation[0][1] < -0.99)
        #expect(abs(result.estimates[0].value + result.estimates[1].value - 0.019) < 0.001)
        let weak = try #require(result.weakDirections.first)
        #expect(Set(weak.components.map(\.name)) == ["driver.delay", "sensor.delay"])
        #expect(weak.components[0].weight * weak.components[1].weight < 0)
        #expect(result.estimate("joint[slider].damping")?.identifiable == true)
    }

    /// A cart-pole recording whose sensors report each state `delay` late: simulated without noise,
    /// shifted (linear interpolation), then measured with the usual noise.
    static func sensorDelayed(_ robot: RobotModel, by delay: Double, truth: [String: Double], frequencies: [Double]) throws -> ExperimentRecording {
        let commands = try SyntheticExperiment.multisine(robot: robot, joints: ["slider"], amplitude: 4, frequencies: frequencies,
                                                         duration: 3, rate: 50, torque: true, zeroPhase: true, rest: FitFixtures.rest, seed: 1)
        let exact = try SyntheticExperiment.record(robot: robot, truth: truth, commands: commands, duration: 3, sampleRate: 200,
                                                   initialPositions: [0, Double.pi], positionNoise: 0, velocityNoise: 0, seed: 1,
                                                   source: "sensor-delay")
        var out = exact
        var random = SeededRandom(seed: 9)
        let s = exact.states
        for k in s.indices {
            let t = s[k].time - delay
            let j = max(0, min(s.count - 2, s.lastIndex { $0.time <= t } ?? 0))
            let w = max(0, (t - s[j].time) / (s[j + 1].time - s[j].time))
            out.states[k].positions = zip(s[j].positions, s[j + 1].positions).map { $0 + w * ($1 - $0) + random.gaussian(standardDeviation: 1e-3) }
            out.states[k].velocities = zip(s[j].velocities, s[j + 1].velocities).map { $0 + w * ($1 - $0) + random.gaussian(standardDeviation: 1e-2) }
        }
        return out
    }

    @Test func resultsDoNotDependOnTheThreadCount() throws {
        let robot = try FitFixtures.cartpole()
        let recordings = try [
            FitFixtures.cartpoleRecording(robot, truth: Self.cartTruth, frequencies: [0.4, 0.9, 1.7], seconds: 1.5, seed: 1, name: "a"),
            FitFixtures.cartpoleRecording(robot, truth: Self.cartTruth, frequencies: [0.5, 1.2, 2.3], seconds: 1.5, seed: 2, name: "b"),
        ]
        func run(_ threads: Int) throws -> TrajectoryFitResult {
            let fit = try TrajectoryFit(robot: robot, parameters: [
                FitParameter("joint[slider].damping", bounds: 0...2), FitParameter("body[pole].mass", bounds: 0.02...0.5),
                FitParameter("driver.lag", bounds: 0...0.05),
            ], options: .init(maxIterations: 4, threads: threads, initialState: .atRest(window: FitFixtures.rest)))
            return try fit.fit(recordings)
        }
        let one = try run(1), three = try run(3)
        #expect(one.estimates == three.estimates)
        #expect(one.covariance == three.covariance)
        #expect(one.history == three.history)
    }

    @Test func unidentifiableAndBoundParametersAreFlagged() throws {
        let robot = try FitFixtures.cartpole()
        let recording = try FitFixtures.cartpoleRecording(robot, truth: Self.cartTruth, frequencies: [0.4, 0.9, 1.7], seconds: 1.5,
                                                          seed: 1, name: "flags")
        let fit = try TrajectoryFit(robot: robot, parameters: [
            // The truth (0.3) lies above this bound.
            FitParameter("joint[slider].damping", bounds: 0...0.2),
            FitParameter("body[pole].mass", bounds: 0.02...0.5),
            // The cart has no contacts: its friction changes nothing.
            FitParameter("geom[cart_geom].friction.sliding", bounds: 0...2),
        ], options: .init(maxIterations: 10, initialState: .atRest(window: FitFixtures.rest)))
        let result = try fit.fit([recording])
        let damping = try #require(result.estimate("joint[slider].damping"))
        #expect(damping.bound == .upper && damping.interval95 == nil && damping.value == 0.2)
        let friction = try #require(result.estimate("geom[cart_geom].friction.sliding"))
        #expect(friction.identifiable == false)
        #expect(result.estimate("body[pole].mass")?.identifiable == true)
        let weak = try #require(result.weakDirections.first)
        #expect(weak.components.first?.name == "geom[cart_geom].friction.sliding")
        #expect(weak.text.contains("geom[cart_geom].friction.sliding"))
        // Codable, and finite numbers only (JSON has no infinity).
        let data = try JSONEncoder().encode(result)
        #expect(try JSONDecoder().decode(TrajectoryFitResult.self, from: data) == result)
    }

    @Test func parameterNamesResolve() throws {
        let robot = try FitFixtures.quadruped()
        let fit = try TrajectoryFit(robot: robot, parameters: [
            FitParameter("body[FR_calf].mass"), FitParameter("body[trunk].com.x"), FitParameter("body[FR_thigh].inertia.scale"),
            FitParameter("joint[*].damping"), FitParameter("actuator[FR_calf].gain"), FitParameter("driver.lag"),
            FitParameter("sensor.delay"), FitParameter("geom[*].friction.scale"),
        ])
        let p = Dictionary(uniqueKeysWithValues: fit.parameters.map { ($0.name, $0) })
        #expect(p["body[FR_calf].mass"]?.nominal == 0.2 && p["body[FR_calf].mass"]?.unit == "kg")
        #expect(p["body[trunk].com.x"]?.nominal == 0.03 && p["body[trunk].com.x"]?.unit == "m")
        #expect(p["body[FR_thigh].inertia.scale"]?.nominal == 1)
        #expect(p["joint[*].damping"]?.nominal == 0.1 && p["joint[*].damping"]?.lower == 0)
        #expect(p["driver.lag"]?.nominal == 0 && p["driver.lag"]!.initial >= 2 * robot.model.timestep)
        #expect(TrajectoryFit.parameterNames(robot: robot).contains("joint[FR_calf_joint].frictionloss"))
        // Written values reach the model; the scale keeps the inertia consistent with the mass.
        let values = try fit.values(["body[FR_thigh].inertia.scale": 2, "joint[*].damping": 0.4])
        let model = robot.model.copy()
        try fit.writer.apply(values, to: model)
        #expect(try model.get(.jointDamping("RL_hip_joint")) == [0.4])
        #expect(try model.get(.bodyInertia("FR_thigh")) == (try robot.model.get(.bodyInertia("FR_thigh"))).map { $0 * 2 })
    }

    @Test func unknownParameterNamesListCloseMatches() throws {
        let robot = try FitFixtures.quadruped()
        let error = try #require(throws: TetherError.self) {
            try TrajectoryFit(robot: robot, parameters: [FitParameter("joint[FR_calf_joint].dampin")])
        }
        #expect(error.what.contains("joint[FR_calf_joint].dampin"))
        #expect(error.hint?.contains("joint[FR_calf_joint].damping") == true)
        let object = try #require(throws: TetherError.self) {
            try TrajectoryFit(robot: robot, parameters: [FitParameter("body[FR_clf].mass")])
        }
        #expect(object.hint?.contains("body[FR_calf].mass") == true)
        #expect(throws: TetherError.self) { try TrajectoryFit(robot: robot, parameters: [FitParameter("driver.lagg")]) }
        #expect(throws: TetherError.self) { try TrajectoryFit(robot: robot, parameters: []) }
        // Twice the same slot, empty bounds, a negative bound on a mass.
        #expect(throws: TetherError.self) {
            try TrajectoryFit(robot: robot, parameters: [FitParameter("body[FR_calf].scale"), FitParameter("body[FR_calf].mass")])
        }
        #expect(throws: TetherError.self) { try TrajectoryFit(robot: robot, parameters: [FitParameter("joint[*].damping", bounds: 1...1)]) }
        #expect(throws: TetherError.self) { try TrajectoryFit(robot: robot, parameters: [FitParameter("body[FR_calf].mass", bounds: -1...1)]) }
    }

    @Test func badRecordingsGetClearErrors() throws {
        let robot = try FitFixtures.cartpole()
        let fit = try TrajectoryFit(robot: robot, parameters: [FitParameter("joint[slider].damping")])
        let good = try FitFixtures.cartpoleRecording(robot, truth: [:], frequencies: [1], seconds: 0.5, seed: 1, name: "good.mcap")

        var empty = good
        empty.source = "empty.mcap"
        empty.states = []
        let noStates = try #require(throws: TetherError.self) { try fit.fit([empty]) }
        #expect(noStates.location == "empty.mcap" && noStates.what.contains("no joint states"))

        var missing = good
        missing.source = "missing.mcap"
        missing.jointNames = ["slider"]
        missing.states = missing.states.map { .init(time: $0.time, positions: [$0.positions[0]], velocities: [$0.velocities[0]], efforts: []) }
        let noJoint = try #require(throws: TetherError.self) { try fit.fit([missing]) }
        #expect(noJoint.location == "missing.mcap" && noJoint.what.contains("'hinge'"))

        var noCommands = good
        noCommands.commands = []
        #expect(throws: TetherError.self) { try fit.fit([noCommands]) }
        #expect(throws: TetherError.self) { try fit.fit([]) }
        // A bad held-out recording is refused before any work.
        #expect(throws: TetherError.self) { try fit.fit([good], heldOut: [empty]) }
    }
}
