import Foundation
import PropertyBased
import Testing
import TetherCore
@testable import TetherSafety

/// Something an operator (or the e-stop input) does between two ticks.
enum Operation: Sendable {
    case eStop
    case eStopInput(Bool)
    case reset(delay: Double)
    case raiseStage(Double)
    case lowerStage(Double)
}

/// One tick of a scenario. Times are offsets; NaN and infinities are deliberate.
struct Step: Sendable {
    var timeOffset: Double
    var state: RobotState?
    var receivedDelay: Double
    var action: [Float]?
    var lateness: Double
    var operation: Operation?
}

/// A run of ticks against one robot, mostly plausible, sometimes hostile.
struct Scenario: Sendable, CustomStringConvertible {
    var stage: Double
    var steps: [Step]
    var description: String { "stage \(stage), \(steps.count) ticks" }

    /// Builds a random scenario. `hostileRate` is the share of ticks that carry hostile values
    /// (NaN, infinities, huge numbers, wrong sizes, time going backwards); `operations` allows
    /// e-stops, resets and stage calls between ticks.
    static func random(_ manifest: Manifest, hostileRate: Double, operations: Bool, resets: Bool,
                       using rng: inout any SeededRandomNumberGenerator) -> Scenario {
        let stage = SafetyConfig.stages[Int.random(in: 0..<3, using: &rng)]
        let count = Int.random(in: 10...120, using: &rng)
        var steps: [Step] = []
        for _ in 0..<count {
            let hostile = Double.random(in: 0..<1, using: &rng) < hostileRate
            let rate = hostile ? 0.15 : 0
            var step = Step(timeOffset: 0, state: nil, receivedDelay: 0, action: nil, lateness: 0, operation: nil)
            step.timeOffset = pick(&rng, 0...0, rate, wide: -0.5...0.5)
            if Double.random(in: 0..<1, using: &rng) > (hostile ? 0.2 : 0.01) {
                step.state = randomState(manifest, rate: rate, using: &rng)
            }
            step.receivedDelay = pick(&rng, 0...0.03, rate, wide: -0.1...0.5)
            if Double.random(in: 0..<1, using: &rng) > (hostile ? 0.2 : 0.01) {
                var size = manifest.actionSize
                if hostile, Double.random(in: 0..<1, using: &rng) < 0.1 { size = Int.random(in: 0...size + 2, using: &rng) }
                let wide = Double.random(in: 0..<1, using: &rng) < 0.1
                step.action = (0..<size).map { _ in
                    Float(pick(&rng, wide ? -300...300 : -4...4, rate, wide: -1e30...1e30))
                }
            }
            step.lateness = pick(&rng, 0...0.015, rate, wide: -0.1...0.2)
            if operations, Double.random(in: 0..<1, using: &rng) < 0.1 {
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: step.operation = .eStop
                case 1: step.operation = .eStopInput(Bool.random(using: &rng))
                case 2, 3: step.operation = resets ? .reset(delay: pick(&rng, 0...0.01, 0.2, wide: -1...1)) : .eStop
                case 4: step.operation = .raiseStage(randomStage(&rng))
                default: step.operation = .lowerStage(randomStage(&rng))
                }
            }
            steps.append(step)
        }
        return Scenario(stage: stage, steps: steps)
    }

    /// A stage, or sometimes something that is not one.
    static func randomStage(_ rng: inout any SeededRandomNumberGenerator) -> Double {
        let choices: [Double] = [0.25, 0.5, 1.0, 0.75, 2.0, -1, .nan, .infinity, 0]
        return Double.random(in: 0..<1, using: &rng) < 0.8
            ? SafetyConfig.stages[Int.random(in: 0..<3, using: &rng)]
            : choices[Int.random(in: 0..<choices.count, using: &rng)]
    }

    /// A value from `typical`, or with probability `rate` a hostile one.
    static func pick(_ rng: inout any SeededRandomNumberGenerator, _ typical: ClosedRange<Double>, _ rate: Double,
                     wide: ClosedRange<Double>) -> Double {
        guard Double.random(in: 0..<1, using: &rng) < rate else { return Double.random(in: typical, using: &rng) }
        let sign: Double = Bool.random(using: &rng) ? 1 : -1
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return .nan
        case 1: return sign * .infinity
        case 2: return sign * 1e300
        case 3: return sign * .greatestFiniteMagnitude
        case 4: return sign * .leastNonzeroMagnitude
        case 5: return sign * 1e6
        default: return Double.random(in: wide, using: &rng)
        }
    }

    /// A state near the default pose, moving, slightly tilted; hostile values at `rate`.
    static func randomState(_ manifest: Manifest, rate: Double, using rng: inout any SeededRandomNumberGenerator) -> RobotState {
        let joints = manifest.joints
        let positions = joints.map { joint in
            let spread = min(0.7, (joint.positionLimits.upperBound - joint.positionLimits.lowerBound) * 0.55)
            return joint.defaultPosition + pick(&rng, -spread...spread, rate, wide: -10...10)
        }
        let velocities = joints.map { joint in pick(&rng, -0.4 * joint.velocityLimit...0.4 * joint.velocityLimit, rate, wide: -100...100) }
        let torques = joints.map { _ in pick(&rng, -30...30, rate, wide: -1e4...1e4) }
        var state = RobotState(time: pick(&rng, 0...100, rate, wide: -1e9...1e9), jointPositions: positions,
                               jointVelocities: velocities, jointTorques: torques)
        if manifest.base != nil {
            let angle = Double.random(in: 0..<1, using: &rng) < 0.03 ? Double.random(in: 0...2, using: &rng) : Double.random(in: 0...0.5, using: &rng)
            let heading = Double.random(in: -Double.pi...Double.pi, using: &rng)
            let yaw = Double.random(in: -Double.pi...Double.pi, using: &rng)
            let tilt = SIMD4(cos(angle / 2), sin(angle / 2) * cos(heading), sin(angle / 2) * sin(heading), 0)
            let z = SIMD4(cos(yaw / 2), 0, 0, sin(yaw / 2))
            var q = SIMD4(z[0] * tilt[0] - z[3] * tilt[3], z[0] * tilt[1] - z[3] * tilt[2],
                          z[0] * tilt[2] + z[3] * tilt[1], z[0] * tilt[3] + z[3] * tilt[0])
            for k in 0..<4 where Double.random(in: 0..<1, using: &rng) < rate { q[k] = pick(&rng, -1...1, 1, wide: -2...2) }
            state.baseOrientation = Double.random(in: 0..<1, using: &rng) < rate ? nil : q
            state.baseAngularVelocity = SIMD3(pick(&rng, -2...2, rate, wide: -50...50), pick(&rng, -2...2, rate, wide: -50...50),
                                              pick(&rng, -2...2, rate, wide: -50...50))
            if Bool.random(using: &rng) {
                state.basePosition = SIMD3(0, 0, pick(&rng, 0.2...0.4, rate, wide: -1...1))
            }
        }
        return state
    }

    /// A generator of scenarios for `manifest`.
    static func generator(_ manifest: Manifest, hostileRate: Double = 0.06, operations: Bool = true, resets: Bool = true)
        -> Generator<Scenario, Shrink.None<Scenario>> {
        Generator(run: { rng in random(manifest, hostileRate: hostileRate, operations: operations, resets: resets, using: &rng) })
    }
}

/// Runs a scenario; `check` sees the wrapper after every tick, with the tick's output.
/// Returns how many ticks ran with the policy's command (running).
@discardableResult
func run(_ scenario: Scenario, _ config: SafetyConfig,
         check: (SafetyWrapper, Operation?, Bool, SafetyOutput) -> Void = { _, _, _, _ in }) -> Int {
    var wrapper = SafetyWrapper(config: SafetyConfig.with(config, stage: scenario.stage))
    var clock = 100.0
    var running = 0
    for step in scenario.steps {
        clock += 0.02
        let time = clock + step.timeOffset
        var succeeded = false
        if let operation = step.operation {
            switch operation {
            case .eStop: wrapper.engageEStop(source: "property", time: time)
            case .eStopInput(let on): wrapper.setEStopInput(on, time: time)
            case .reset(let delay):
                if let state = step.state {
                    succeeded = (try? wrapper.reset(time: time, currentState: state, receivedAt: time - delay)) != nil
                }
            case .raiseStage(let stage): succeeded = (try? wrapper.raiseStage(to: stage, time: time)) != nil
            case .lowerStage(let stage): succeeded = (try? wrapper.lowerStage(to: stage, time: time)) != nil
            }
        }
        let output = wrapper.tick(SafetyInput(time: time, state: step.state, stateReceivedAt: time - step.receivedDelay,
                                              action: step.action, lateness: step.lateness))
        if output.mode == .running { running += 1 }
        check(wrapper, step.operation, succeeded, output)
    }
    return running
}

extension SafetyConfig {
    /// `config`'s manifest and options, rebuilt at another start stage.
    static func with(_ config: SafetyConfig, stage: Double) -> SafetyConfig {
        let options = SafetyOptions(maxTickLateness: config.maxTickLateness, smoothingCutoffHz: config.smoothingCutoffHz,
                                    maxTargetVelocity: config.maxTargetVelocity, maxTargetAcceleration: config.maxTargetAcceleration,
                                    maxTargetJerk: config.maxTargetJerk, dampingKd: config.dampingKd,
                                    stopBehaviours: config.stopBehaviours, defaultStopBehaviour: config.defaultStopBehaviour,
                                    minBaseHeight: config.minBaseHeight ?? -.infinity, maxTiltRate: config.maxTiltRate,
                                    velocityLimitTicks: config.velocityLimitTicks, positionTolerance: config.positionTolerance)
        do {
            return try SafetyConfig(manifest: config.manifest, stage: stage, options: options)
        } catch {
            fatalError("rebuilding a valid configuration failed: \(error)")
        }
    }
}

/// Every command is finite and within the limits at the current stage.
func expectWithinLimits(_ wrapper: SafetyWrapper, _ output: SafetyOutput) {
    let config = wrapper.config, command = output.command
    #expect(command.count == config.count)
    for values in [command.positions, command.velocities, command.torques, command.kp, command.kd] {
        #expect(values.allSatisfy { $0.isFinite }, "non-finite value in \(command)")
    }
    #expect(command.kp.allSatisfy { $0 >= 0 } && command.kd.allSatisfy { $0 >= 0 })
    let stage = wrapper.state.stage
    for k in 0..<config.count {
        let soft = config.softPositionLimits[k]
        #expect(soft.contains(command.positions[k]), "\(config.jointNames[k]) target \(command.positions[k]) outside \(soft)")
        let bound = config.torqueBound(k, stage: stage)
        #expect(abs(command.torques[k]) <= bound, "\(config.jointNames[k]) torque \(command.torques[k]) beyond \(bound)")
        if config.mode == .effort { #expect(command.kp[k] == 0) }
        // The torque the robot's PD law produces at the measured state.
        if let measured = wrapper.state.lastValidState {
            let torque = pdTorque(command, k, config: config, state: measured)
            let slack = torqueSlack(command, k, config: config, state: measured, bound: bound)
            #expect(abs(torque) <= bound + slack, "\(config.jointNames[k]) PD torque \(torque) beyond \(bound) at stage \(stage), mode \(output.mode)")
        }
    }
}

@Suite struct SafetyPropertyTests {
    static let quadrupedConfigs: [SafetyConfig] = {
        do {
            return [
                try SafetyConfig(manifest: Robots.quadruped),
                try SafetyConfig(manifest: Robots.quadruped, options: SafetyOptions(smoothingCutoffHz: 3)),
                try SafetyConfig(manifest: Robots.quadruped, options: SafetyOptions(
                    smoothingCutoffHz: 8, maxTargetVelocity: [4], maxTargetAcceleration: [60], maxTargetJerk: [2000],
                    stopBehaviours: [.lateTick: .zeroTorque, .missingAction: .zeroTorque], velocityLimitTicks: 1)),
            ]
        } catch {
            fatalError("\(error)")
        }
    }()

    @Test(arguments: 0..<3)
    func everyQuadrupedCommandWithinLimitsAtEveryStage(_ variant: Int) async {
        let config = Self.quadrupedConfigs[variant]
        await propertyCheck(count: 150, input: Scenario.generator(Robots.quadruped)) { scenario in
            run(scenario, config) { wrapper, _, _, output in expectWithinLimits(wrapper, output) }
        }
    }

    @Test func everyCartpoleEffortWithinLimitsAtEveryStage() async throws {
        let config = try SafetyConfig(manifest: Robots.cartpole)
        await propertyCheck(count: 200, input: Scenario.generator(Robots.cartpole)) { scenario in
            run(scenario, config) { wrapper, _, _, output in expectWithinLimits(wrapper, output) }
        }
    }

    @Test func noFalseStopsOnPlausibleInputs() async throws {
        // The limits above are not met by stopping: states within every limit, fresh and on time,
        // with finite actions, keep the policy's commands flowing at every stage.
        let config = try SafetyConfig(manifest: Robots.quadruped)
        await propertyCheck(count: 100, input: Scenario.generator(Robots.quadruped, hostileRate: 0, operations: false)) { scenario in
            var plausible = scenario
            for i in plausible.steps.indices {
                var state = plausible.steps[i].state ?? standing()
                if let q = state.baseOrientation, SafetyWrapper.tilt(q) > 0.7 { state.baseOrientation = tilted(0.7) }
                plausible.steps[i].state = state
                if plausible.steps[i].action == nil { plausible.steps[i].action = zeroAction() }
            }
            let running = run(plausible, config) { _, _, _, output in
                #expect(output.mode == .running, "\(output.events.map(\.message))")
            }
            #expect(running == plausible.steps.count)
        }
    }

    @Test func nanNeverPassesIntoACommand() async throws {
        let configs = [try SafetyConfig(manifest: Robots.cartpole)] + Self.quadrupedConfigs
        await propertyCheck(count: 100, input: Scenario.generator(Robots.quadruped, hostileRate: 0.5),
                            Scenario.generator(Robots.cartpole, hostileRate: 0.5)) { quadruped, cartpole in
            for config in configs {
                let scenario = config.manifest.name == "cartpole" ? cartpole : quadruped
                run(scenario, config) { _, _, _, output in
                    let c = output.command
                    #expect((c.positions + c.velocities + c.torques + c.kp + c.kd).allSatisfy { $0.isFinite })
                }
            }
        }
    }

    @Test func nonFiniteActionAlwaysStops() async throws {
        let config = try SafetyConfig(manifest: Robots.quadruped)
        let poison = Gen.int(in: 0...11)
        await propertyCheck(input: poison, Gen.float(in: -4...4).array(of: 12), Gen.int(in: 0...2)) { index, values, kind in
            var wrapper = SafetyWrapper(config: config)
            var action = values
            action[index] = [Float.nan, .infinity, -.infinity][kind]
            let output = wrapper.tick(nominal(0, action: action))
            #expect(output.mode == .stopped(reason: .nonFiniteAction, behaviour: .damping))
            #expect(output.command == wrapper.stopCommand(.damping))
        }
    }

    @Test func onceLatchedNoPolicyCommandUntilReset() async throws {
        let configs = [try SafetyConfig(manifest: Robots.cartpole), Self.quadrupedConfigs[2]]
        await propertyCheck(count: 150, input: Scenario.generator(Robots.quadruped, resets: false),
                            Scenario.generator(Robots.cartpole, resets: false)) { quadruped, cartpole in
            for config in configs {
                var latched: SafetyMode? = nil
                run(config.manifest.name == "cartpole" ? cartpole : quadruped, config) { wrapper, _, _, output in
                    if let latched {
                        #expect(output.mode == latched)
                        if case .stopped(_, let behaviour) = latched {
                            #expect(output.command == wrapper.stopCommand(behaviour))
                            #expect(isStopCommand(output.command, behaviour))
                        }
                    } else if output.mode.isStopped {
                        latched = output.mode
                        if case .stopped(_, let behaviour) = output.mode { #expect(isStopCommand(output.command, behaviour)) }
                    }
                }
            }
        }
    }

    @Test func stageNeverRisesByItself() async throws {
        let config = try SafetyConfig(manifest: Robots.quadruped)
        await propertyCheck(count: 150, input: Scenario.generator(Robots.quadruped)) { scenario in
            var wrapper = SafetyWrapper(config: SafetyConfig.with(config, stage: scenario.stage))
            var stage = wrapper.state.stage
            var clock = 0.0
            for step in scenario.steps {
                clock += 0.02
                if let operation = step.operation {
                    var raised = false
                    switch operation {
                    case .raiseStage(let value): raised = (try? wrapper.raiseStage(to: value, time: clock)) != nil
                    case .lowerStage(let value): _ = try? wrapper.lowerStage(to: value, time: clock)
                    case .eStop: wrapper.engageEStop(source: "property", time: clock)
                    case .eStopInput(let on): wrapper.setEStopInput(on, time: clock)
                    case .reset: if let state = step.state { _ = try? wrapper.reset(time: clock, currentState: state) }
                    }
                    let now = wrapper.state.stage
                    if raised {
                        // Only an explicit raise, by exactly one step.
                        let i = try #require(SafetyConfig.stages.firstIndex(of: stage))
                        #expect(now == SafetyConfig.stages[i + 1])
                    } else {
                        #expect(now <= stage)
                    }
                    stage = now
                }
                _ = wrapper.tick(SafetyInput(time: clock, state: step.state, stateReceivedAt: clock - step.receivedDelay,
                                             action: step.action, lateness: step.lateness))
                #expect(wrapper.state.stage == stage)  // a tick never changes it
                #expect(SafetyConfig.stages.contains(wrapper.state.stage))
            }
        }
    }

    @Test func smoothedTargetsNeverOvershootAStep() async throws {
        await propertyCheck(count: 100, input: Gen.double(in: 0.2...25), Gen.float(in: -6...6).array(of: 12)) { cutoff, action in
            let config = try SafetyConfig(manifest: Robots.quadruped, stage: 1.0, options: SafetyOptions(smoothingCutoffHz: cutoff))
            var wrapper = SafetyWrapper(config: config)
            let goal = try config.mapper.command(for: action).positions.enumerated().map { k, p in
                min(max(p, config.softPositionLimits[k].lowerBound), config.softPositionLimits[k].upperBound)
            }
            var state = standing()
            var previous = config.stateIndices.map { state.jointPositions[$0] }
            let start = previous
            for i in 0..<60 {
                let output = wrapper.tick(nominal(Double(i) * 0.02, state: state, action: action))
                #expect(output.mode == .running)
                for k in 0..<config.count {
                    let target = output.command.positions[k]
                    let up = goal[k] >= start[k]
                    #expect(up ? target >= previous[k] : target <= previous[k], "\(config.jointNames[k]) moved away from \(goal[k])")
                    #expect(up ? target <= goal[k] : target >= goal[k], "\(config.jointNames[k]) passed \(goal[k])")
                    state.jointPositions[config.stateIndices[k]] = target  // the joint tracks its target
                }
                previous = output.command.positions
            }
        }
    }
}
