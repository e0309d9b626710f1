import Foundation
import Testing
import TetherCore
@testable import TetherSafety

@Suite struct SafetyWrapperTests {
    // MARK: Commands while running

    @Test func nominalTickPassesThePolicyCommand() throws {
        var wrapper = try makeWrapper()
        let output = wrapper.tick(nominal(0))
        #expect(output.mode == .running)
        #expect(output.events.isEmpty)
        #expect(output.command == Robots.quadruped.defaultPoseCommand)
    }

    @Test func actionClippedToManifestClip() throws {
        var wrapper = try makeWrapper(Robots.cartpole, stage: 1.0)
        let output = wrapper.tick(nominal(0, action: [5], manifest: Robots.cartpole))
        #expect(output.mode == .running)
        #expect(output.command.torques == [20])  // 20 N × clip 1
        #expect(output.events.map(\.reason) == [.actionClip])
        #expect(output.events.first?.joint == "slider")
        #expect(output.events.first?.values["action"] == 5)
    }

    @Test func effortClippedToStageLimit() throws {
        var wrapper = try makeWrapper(Robots.cartpole)  // manifest stage 0.25
        let output = wrapper.tick(nominal(0, action: [-0.75], manifest: Robots.cartpole))
        #expect(output.command.torques == [-5])  // 0.25 × 20 N
        #expect(output.events.map(\.reason) == [.torqueBound])
        #expect(output.events.first?.values["effort"] == -15)
    }

    @Test func positionTargetClampedIntoSoftLimits() throws {
        var wrapper = try makeWrapper(stage: 1.0)
        var state = standing()
        state.jointPositions[0] = 0.8
        var action = zeroAction()
        action[0] = 50  // 0.25 × 50 = 12.5 rad on a ±0.863 rad hip
        let output = wrapper.tick(nominal(0, state: state, action: action))
        #expect(abs(output.command.positions[0] - 0.813) < 1e-12)
        #expect(output.events.map(\.reason) == [.positionClamp])
        #expect(output.events.first?.joint == "FR_hip_joint")
    }

    @Test func pdTorqueBoundedAtStage() throws {
        var wrapper = try makeWrapper()  // stage 0.25: hip bound 5.925 N·m
        var action = zeroAction()
        action[0] = 10  // wants 2.5 rad, clamped to 0.813: 20 N·m at kp 25
        let output = wrapper.tick(nominal(0, action: action))
        let bound = 0.25 * 23.7
        let torque = pdTorque(output.command, 0, config: wrapper.config, state: standing())
        #expect(abs(torque - bound) < 1e-9)
        #expect(abs(output.command.positions[0] - bound / 25) < 1e-12)
        #expect(output.events.map(\.reason) == [.positionClamp, .torqueBound])
        #expect(output.events.last?.values["limit"] == bound)
    }

    @Test func pdTorqueBoundHoldsOutsideSoftLimitsAndAtSpeed() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.jointPositions[0] = 0.95       // beyond the hip's soft (0.813) and hard (0.863) limits, within tolerance
        state.jointVelocities[0] = 25         // fast, under the 30 rad/s limit
        let output = wrapper.tick(nominal(0, state: state))
        let bound = 0.25 * 23.7
        let torque = pdTorque(output.command, 0, config: wrapper.config, state: state)
        #expect(output.mode == .running)
        #expect(abs(torque) <= bound + 1e-9)
        #expect(output.command.positions[0] <= 0.813)
        #expect(output.command.kp[0] < 25)  // no target in the soft limits was enough: gains scaled
        #expect(output.events.contains { $0.reason == .torqueBound && $0.joint == "FR_hip_joint" })
    }

    @Test func feedforwardClippedToStageLimit() throws {
        var manifest = Robots.quadruped
        manifest.joints[2].feedforward = 20  // more than 0.25 × 35.55
        var wrapper = try makeWrapper(manifest)
        let output = wrapper.tick(nominal(0, manifest: manifest))
        #expect(abs(output.command.torques[2] - 0.25 * 35.55) < 1e-12)
        #expect(output.events.contains { $0.reason == .torqueBound && $0.joint == "FR_calf_joint" })
    }

    @Test func clampEventRaisedOnceAndCountedEveryTick() throws {
        var wrapper = try makeWrapper(Robots.cartpole, stage: 1.0)
        var events: [SafetyEvent] = []
        for i in 0..<5 { events += wrapper.tick(nominal(Double(i) * 0.02, action: [3], manifest: Robots.cartpole)).events }
        #expect(events.map(\.reason) == [.actionClip])
        #expect(wrapper.state.count(.actionClip) == 5)
        // It ends, then starts again: a new event.
        _ = wrapper.tick(nominal(0.1, action: [0], manifest: Robots.cartpole))
        let again = wrapper.tick(nominal(0.12, action: [3], manifest: Robots.cartpole))
        #expect(again.events.map(\.reason) == [.actionClip])
        #expect(wrapper.state.count(.actionClip) == 6)
    }

    // MARK: Fail closed

    @Test func nanActionFailsClosed() throws {
        var wrapper = try makeWrapper()
        var action = zeroAction()
        action[4] = .nan
        let output = wrapper.tick(nominal(0, action: action))
        #expect(output.mode == .stopped(reason: .nonFiniteAction, behaviour: .damping))
        #expect(isStopCommand(output.command, .damping))
        #expect(output.command.kd.allSatisfy { $0 == 0.5 })
        #expect(output.events.first?.joint == "FL_thigh_joint")
        #expect(output.command.positions.allSatisfy { $0.isFinite })
    }

    @Test func infiniteActionFailsClosed() throws {
        var wrapper = try makeWrapper(Robots.cartpole)
        let output = wrapper.tick(nominal(0, action: [-.infinity], manifest: Robots.cartpole))
        #expect(output.mode == .stopped(reason: .nonFiniteAction, behaviour: .damping))
    }

    @Test func nanStateFailsClosed() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.jointVelocities[7] = .nan
        let output = wrapper.tick(nominal(0, state: state))
        #expect(output.mode == .stopped(reason: .nonFiniteState, behaviour: .damping))
        #expect(output.command.kd.allSatisfy { $0.isFinite } && output.command.positions.allSatisfy { $0.isFinite })
        #expect(output.events.first?.joint == "RR_thigh_joint")
    }

    @Test func infiniteOrientationFailsClosed() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.baseOrientation = SIMD4(1, .infinity, 0, 0)
        #expect(wrapper.tick(nominal(0, state: state)).mode == .stopped(reason: .nonFiniteState, behaviour: .damping))
    }

    @Test func nonUnitQuaternionStops() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.baseOrientation = .zero  // would read as level if not checked
        #expect(wrapper.tick(nominal(0, state: state)).mode == .stopped(reason: .invalidInput, behaviour: .damping))
    }

    @Test func wrongActionSizeStops() throws {
        var wrapper = try makeWrapper()
        #expect(wrapper.tick(nominal(0, action: [0, 0])).mode == .stopped(reason: .invalidInput, behaviour: .damping))
    }

    // MARK: Watchdog

    @Test func staleStateStops() throws {
        var wrapper = try makeWrapper()
        #expect(wrapper.tick(nominal(0)).mode == .running)
        let input = SafetyInput(time: 0.02, state: standing(), stateReceivedAt: 0.02 - 0.06, action: zeroAction())
        let output = wrapper.tick(input)
        #expect(output.mode == .stopped(reason: .stateTimeout, behaviour: .damping))
        #expect(output.events.first?.values["age"].map { abs($0 - 0.06) < 1e-12 } == true)
    }

    @Test func stateThatStopsArrivingGoesStale() throws {
        var wrapper = try makeWrapper()
        #expect(wrapper.tick(nominal(0)).mode == .running)
        // No new state: the last one is reused and ages.
        let quiet = { (t: Double) in SafetyInput(time: t, state: nil, stateReceivedAt: .nan, action: zeroAction()) }
        #expect(wrapper.tick(quiet(0.02)).mode == .running)
        #expect(wrapper.tick(quiet(0.04)).mode == .running)
        #expect(wrapper.tick(quiet(0.06)).mode == .stopped(reason: .stateTimeout, behaviour: .damping))
    }

    @Test func noStateStops() throws {
        var wrapper = try makeWrapper()
        let output = wrapper.tick(SafetyInput(time: 0, state: nil, stateReceivedAt: 0, action: zeroAction()))
        #expect(output.mode == .stopped(reason: .stateTimeout, behaviour: .damping))
        // No state ever: the stop command holds the default pose's positions, with full damping.
        #expect(output.command.positions == Robots.quadruped.joints.map(\.defaultPosition))
        #expect(output.command.kd.allSatisfy { $0 == 0.5 })
    }

    @Test func missingPolicyOutputStops() throws {
        var wrapper = try makeWrapper()
        let output = wrapper.tick(SafetyInput(time: 0, state: standing(), stateReceivedAt: 0, action: nil))
        #expect(output.mode == .stopped(reason: .missingAction, behaviour: .damping))
    }

    @Test func lateTickStops() throws {
        var wrapper = try makeWrapper()
        #expect(wrapper.tick(SafetyInput(time: 0, state: standing(), stateReceivedAt: 0, action: zeroAction(), lateness: 0.019)).mode == .running)
        let output = wrapper.tick(SafetyInput(time: 0.05, state: standing(), stateReceivedAt: 0.05, action: zeroAction(), lateness: 0.021))
        #expect(output.mode == .stopped(reason: .lateTick, behaviour: .damping))
        #expect(output.events.first?.values["bound"].map { abs($0 - 0.02) < 1e-12 } == true)
    }

    @Test func timeGoingBackwardsStops() throws {
        var wrapper = try makeWrapper()
        _ = wrapper.tick(nominal(1))
        #expect(wrapper.tick(nominal(0.5)).mode == .stopped(reason: .invalidTime, behaviour: .damping))
    }

    @Test func resetRecoversFromABadTickTime() throws {
        var wrapper = try makeWrapper()
        _ = wrapper.tick(nominal(1e300))  // a glitched clock
        #expect(wrapper.tick(nominal(1)).mode == .stopped(reason: .invalidTime, behaviour: .damping))
        try wrapper.reset(time: 1.01, currentState: standing())
        #expect(wrapper.tick(nominal(1.02)).mode == .running)
    }

    @Test func stateReceivedInTheFutureStops() throws {
        var wrapper = try makeWrapper()
        let output = wrapper.tick(SafetyInput(time: 1, state: standing(), stateReceivedAt: 2, action: zeroAction()))
        #expect(output.mode == .stopped(reason: .invalidTime, behaviour: .damping))
    }

    // MARK: Tilt, fall, joint limits

    @Test func tiltBeyondLimitStops() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.baseOrientation = tilted(0.7)
        #expect(wrapper.tick(nominal(0, state: state)).mode == .running)
        state.baseOrientation = tilted(0.8)
        let output = wrapper.tick(nominal(0.02, state: state))
        #expect(output.mode == .stopped(reason: .tiltLimit, behaviour: .damping))
        #expect(output.events.first?.values["tilt"].map { abs($0 - 0.8) < 1e-9 } == true)
    }

    @Test func tiltFromAnyAxisCounts() throws {
        // 0.6 rad about an axis between x and y, with a yaw that must not count.
        let half = 0.3, axis = SIMD3(1.0, 1.0, 0) / 2.0.squareRoot()
        let tiltQ = SIMD4(cos(half), sin(half) * axis.x, sin(half) * axis.y, 0)
        let yaw = SIMD4(cos(0.5), 0, 0, sin(0.5))
        // q = yaw ⊗ tilt
        let (w1, x1, y1, z1) = (yaw[0], yaw[1], yaw[2], yaw[3]), (w2, x2, y2, z2) = (tiltQ[0], tiltQ[1], tiltQ[2], tiltQ[3])
        let q = SIMD4(w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                      w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2)
        #expect(abs(SafetyWrapper.tilt(q) - 0.6) < 1e-12)
        #expect(abs(SafetyWrapper.tilt(q * 1.05) - 0.6) < 1e-12)  // slightly off-unit still reads right
        let state = RobotState(time: 0, jointPositions: [], jointVelocities: [], jointTorques: [], baseOrientation: q)
        #expect(abs(try #require(state.tilt) - 0.6) < 1e-9)  // agrees with TetherCore
    }

    @Test func fallDetectedFromBaseHeight() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.basePosition = SIMD3(0, 0, 0.12)
        let output = wrapper.tick(nominal(0, state: state))
        #expect(output.mode == .stopped(reason: .fall, behaviour: .damping))
        #expect(output.events.first?.values["height"] == 0.12)
    }

    @Test func fallDetectedFromTiltRate() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.baseOrientation = tilted(0.5)          // beyond half the limit, within it
        state.baseAngularVelocity = SIMD3(2.5, 0, 0)
        #expect(wrapper.tick(nominal(0, state: state)).mode == .running)  // not fast enough
        state.baseAngularVelocity = SIMD3(3.5, 0, 9)  // yaw rate does not count
        #expect(wrapper.tick(nominal(0.02, state: state)).mode == .stopped(reason: .fall, behaviour: .damping))
    }

    @Test func fastRotationWhileLevelIsNotAFall() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.baseAngularVelocity = SIMD3(6, 0, 0)
        #expect(wrapper.tick(nominal(0, state: state)).mode == .running)
    }

    @Test func velocityLimitStopsWhenItPersists() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.jointVelocities[2] = 21  // calf limit 20 rad/s
        let first = wrapper.tick(nominal(0, state: state))
        #expect(first.mode == .running)
        #expect(first.events.map(\.reason) == [.velocityLimit])
        // One sample back under the limit restarts the count.
        _ = wrapper.tick(nominal(0.02))
        #expect(wrapper.tick(nominal(0.04, state: state)).mode == .running)
        let stopped = wrapper.tick(nominal(0.06, state: state))
        #expect(stopped.mode == .stopped(reason: .velocityLimit, behaviour: .damping))
        #expect(stopped.events.first?.values["ticks_over"] == 2)
        #expect(stopped.events.first?.message.contains(StopBehaviour.label) == true)
    }

    @Test func velocityLimitCanStopAtOnce() throws {
        var wrapper = try makeWrapper(options: SafetyOptions(velocityLimitTicks: 1))
        var state = standing()
        state.jointVelocities[0] = -31
        #expect(wrapper.tick(nominal(0, state: state)).mode == .stopped(reason: .velocityLimit, behaviour: .damping))
    }

    @Test func measuredPositionBeyondHardLimitStops() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.jointPositions[1] = 4.501 + 0.11
        #expect(wrapper.tick(nominal(0, state: state)).mode == .stopped(reason: .positionLimit, behaviour: .damping))
    }

    // MARK: Latch, e-stop, reset

    @Test func eStopLatchesUntilReset() throws {
        var wrapper = try makeWrapper()
        _ = wrapper.tick(nominal(0))
        let event = wrapper.engageEStop(source: "operator", time: 0.01)
        #expect(event.reason == .eStop)
        #expect(event.message.contains("operator") && event.message.contains(StopBehaviour.label))
        for i in 1...20 {
            let output = wrapper.tick(nominal(Double(i) * 0.02))
            #expect(output.mode == .stopped(reason: .eStop, behaviour: .damping))
            #expect(isStopCommand(output.command, .damping))
            #expect(output.events.map(\.reason) == (i == 1 ? [.eStop] : []))
        }
        let reset = try wrapper.reset(time: 0.5, currentState: standing(time: 0.5))
        #expect(reset?.reason == .reset)
        let output = wrapper.tick(nominal(0.52))
        #expect(output.mode == .running)
        #expect(output.command == Robots.quadruped.defaultPoseCommand)
        #expect(output.events.map(\.reason) == [.reset])
        #expect(wrapper.state.count(.eStop) == 1 && wrapper.state.count(.reset) == 1 && wrapper.state.stopCount == 1)
    }

    @Test func eStopInputRefusesResetWhileActive() throws {
        var wrapper = try makeWrapper()
        let engaged = wrapper.setEStopInput(true, time: 0)
        #expect(engaged?.reason == .eStop)
        #expect(wrapper.setEStopInput(true, time: 0.01) == nil)  // already on
        let output = wrapper.tick(nominal(0.02))
        #expect(output.mode == .stopped(reason: .eStop, behaviour: .damping))
        #expect(output.events.map(\.reason) == [.eStop])  // the call's event, not a second one from the tick
        let text = errorText { try wrapper.reset(time: 0.03, currentState: standing()) }
        #expect(text.contains("e-stop input is still active"))
        #expect(wrapper.state.mode.isStopped)
        wrapper.setEStopInput(false, time: 0.04)
        #expect(wrapper.tick(nominal(0.06)).mode.isStopped)  // releasing the input does not resume
        try wrapper.reset(time: 0.07, currentState: standing())
        #expect(wrapper.tick(nominal(0.08)).mode == .running)
    }

    @Test func eStopInputFlagStopsAtTheNextTick() throws {
        var wrapper = try makeWrapper()
        wrapper.eStopInputActive = true
        let output = wrapper.tick(nominal(0))
        #expect(output.mode == .stopped(reason: .eStop, behaviour: .damping))
        #expect(output.events.first?.message.contains("e-stop input is active") == true)
    }

    @Test func resetRefusedWhileTiltPersists() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.baseOrientation = tilted(1.2)
        _ = wrapper.tick(nominal(0, state: state))
        let text = errorText { try wrapper.reset(time: 0.02, currentState: state) }
        #expect(text.contains("reset refused") && text.contains("tilt"))
        #expect(wrapper.state.mode == .stopped(reason: .tiltLimit, behaviour: .damping))
        let refused = wrapper.tick(nominal(0.04, state: state))
        #expect(refused.events.map(\.reason) == [.resetRefused])
        #expect(wrapper.state.count(.resetRefused) == 1)
        // Level again: accepted.
        try wrapper.reset(time: 0.06, currentState: standing())
        #expect(wrapper.tick(nominal(0.08)).mode == .running)
    }

    @Test func resetRefusedWithStaleOrInvalidState() throws {
        var wrapper = try makeWrapper()
        wrapper.engageEStop(source: "test", time: 0)
        let stale = errorText { try wrapper.reset(time: 1, currentState: standing(), receivedAt: 0.9) }
        #expect(stale.contains("old"))
        var nan = standing()
        nan.jointPositions[3] = .nan
        #expect(errorText { try wrapper.reset(time: 1, currentState: nan) }.contains("FL_hip_joint"))
        var fast = standing()
        fast.jointVelocities[5] = 40
        #expect(errorText { try wrapper.reset(time: 1, currentState: fast) }.contains("velocity limit"))
        var low = standing()
        low.basePosition = SIMD3(0, 0, 0.05)
        #expect(errorText { try wrapper.reset(time: 1, currentState: low) }.contains("fallen"))
        #expect(wrapper.state.mode.isStopped)
        #expect(wrapper.state.count(.resetRefused) == 4)
    }

    @Test func resetAcceptedAfterTransientCauses() throws {
        var wrapper = try makeWrapper()
        _ = wrapper.tick(SafetyInput(time: 0, state: standing(), stateReceivedAt: 0, action: nil))  // missing action
        #expect(wrapper.state.mode == .stopped(reason: .missingAction, behaviour: .damping))
        try wrapper.reset(time: 0.01, currentState: standing())
        #expect(wrapper.state.mode == .running)
    }

    @Test func resetWhileRunningDoesNothing() throws {
        var wrapper = try makeWrapper()
        _ = wrapper.tick(nominal(0))
        #expect(try wrapper.reset(time: 0.01, currentState: standing()) == nil)
        #expect(wrapper.state.count(.reset) == 0)
    }

    @Test func onceStoppedEveryCommandIsTheStopCommand() throws {
        var wrapper = try makeWrapper()
        _ = wrapper.tick(SafetyInput(time: 0, state: standing(), stateReceivedAt: 0, action: zeroAction(), lateness: 1))
        #expect(wrapper.state.mode == .stopped(reason: .lateTick, behaviour: .damping))
        var action = zeroAction()
        action[0] = 3
        for i in 1...10 {
            let output = wrapper.tick(nominal(Double(i) * 0.02, action: action))
            #expect(output.mode == .stopped(reason: .lateTick, behaviour: .damping))
            #expect(output.command == wrapper.stopCommand(.damping))
        }
    }

    // MARK: Stop behaviours

    @Test func stopBehaviourChosenPerReason() throws {
        let options = SafetyOptions(stopBehaviours: [.lateTick: .zeroTorque])
        var late = try makeWrapper(options: options)
        let output = late.tick(SafetyInput(time: 0, state: standing(), stateReceivedAt: 0, action: zeroAction(), lateness: 1))
        #expect(output.mode == .stopped(reason: .lateTick, behaviour: .zeroTorque))
        #expect(isStopCommand(output.command, .zeroTorque))
        #expect(output.events.first?.message.contains("zero-torque stop") == true)
        var eStop = try makeWrapper(options: options)
        eStop.engageEStop(source: "operator", time: 0)
        #expect(eStop.state.mode == .stopped(reason: .eStop, behaviour: .damping))  // e-stop: damping by default
        var limp = try makeWrapper(options: SafetyOptions(defaultStopBehaviour: .zeroTorque))
        limp.engageEStop(source: "operator", time: 0)
        #expect(limp.state.mode == .stopped(reason: .eStop, behaviour: .zeroTorque))
    }

    @Test func stopMessagesCarryTheHonestLabel() throws {
        var wrapper = try makeWrapper()
        let output = wrapper.tick(SafetyInput(time: 0, state: standing(), stateReceivedAt: 0, action: nil))
        let stop = try #require(output.events.first)
        #expect(stop.message.contains("controlled software stop — not a safety-rated function; hardware e-stops remain mandatory"))
        #expect(stop.message.contains("damping stop"))
        #expect(stop.values["stage"] == 0.25)
    }

    @Test func dampingStopBoundedAtStage() throws {
        var wrapper = try makeWrapper()
        var state = standing()
        state.jointVelocities[0] = 28  // kd 0.5 × 28 = 14 N·m > 0.25 × 23.7
        wrapper.engageEStop(source: "test", time: 0)
        let output = wrapper.tick(nominal(0, state: state))
        let torque = pdTorque(output.command, 0, config: wrapper.config, state: state)
        #expect(abs(torque) <= 0.25 * 23.7 + 1e-9)
        #expect(output.command.kd[1] == 0.5)  // joints at rest keep the full damping
    }

    // MARK: Torque stages

    @Test func stageNeverRisesByItself() throws {
        var wrapper = try makeWrapper()
        for i in 0..<50 { _ = wrapper.tick(nominal(Double(i) * 0.02)) }
        wrapper.engageEStop(source: "test", time: 1)
        try wrapper.reset(time: 1.1, currentState: standing())
        for i in 0..<50 { _ = wrapper.tick(nominal(1.2 + Double(i) * 0.02)) }
        #expect(wrapper.state.stage == 0.25)
        #expect(wrapper.state.count(.stageChange) == 0)
    }

    @Test func stageRisesOneStepAtATimeOnlyWhenAsked() throws {
        var wrapper = try makeWrapper()
        #expect(errorText { try wrapper.raiseStage(to: 1.0, time: 0) }.contains("one step at a time"))
        #expect(errorText { try wrapper.raiseStage(to: 0.25, time: 0) }.contains("would not raise"))
        #expect(errorText { try wrapper.raiseStage(to: 0.7, time: 0) }.contains("not one of"))
        #expect(wrapper.state.stage == 0.25)
        let event = try wrapper.raiseStage(to: 0.5, time: 0)
        #expect(event.reason == .stageChange && event.values["from"] == 0.25 && event.values["to"] == 0.5)
        try wrapper.raiseStage(to: 1.0, time: 0)
        #expect(errorText { try wrapper.raiseStage(to: 1.0, time: 0) }.contains("highest"))
        #expect(wrapper.state.stage == 1.0)
        let output = wrapper.tick(nominal(0))
        #expect(output.events.map(\.reason) == [.stageChange, .stageChange])
    }

    @Test func stageLowersAnyTime() throws {
        var wrapper = try makeWrapper(stage: 1.0)
        wrapper.engageEStop(source: "test", time: 0)
        try wrapper.lowerStage(to: 0.25, time: 0.01)
        #expect(wrapper.state.stage == 0.25)
        #expect(errorText { try wrapper.lowerStage(to: 0.5, time: 0.02) }.contains("would not lower"))
        #expect(wrapper.state.count(.stageChange) == 1)
    }

    @Test func raisedStageRaisesTheTorqueBound() throws {
        var wrapper = try makeWrapper()
        var action = zeroAction()
        action[0] = 1.6  // 0.4 rad: 10 N·m at kp 25
        let wanted = 0.25 * Double(action[0])
        #expect(wrapper.tick(nominal(0, action: action)).command.positions[0] < wanted - 0.1)
        try wrapper.raiseStage(to: 0.5, time: 0.01)
        let output = wrapper.tick(nominal(0.02, action: action))
        #expect(abs(output.command.positions[0] - wanted) < 1e-12)  // 10 N·m <= 0.5 × 23.7
        #expect(output.events.map(\.reason) == [.stageChange])
    }

    // MARK: Smoothing and rate limits through the wrapper

    @Test func smoothingApproachesAStepFromTheMeasuredPose() throws {
        let options = SafetyOptions(smoothingCutoffHz: 2)
        var wrapper = try makeWrapper(stage: 1.0, options: options)
        let alpha = try #require(wrapper.config.smoothingAlpha)
        var action = zeroAction()
        action[1] = 1  // thigh: 0.9 → 1.15
        var state = standing()
        var previous = 0.9
        for i in 0..<40 {
            let output = wrapper.tick(nominal(Double(i) * 0.02, state: state, action: action))
            let target = output.command.positions[1]
            #expect(abs(target - (previous + alpha * (1.15 - previous))) < 1e-12)
            #expect(target <= 1.15)
            previous = target
            state.jointPositions[1] = target
        }
        #expect(abs(previous - 1.15) < 1e-3)
        #expect(wrapper.state.count(.smoothing) > 0)
    }

    @Test func rateLimitHoldsTargetSpeed() throws {
        let options = SafetyOptions(maxTargetVelocity: [1.0])
        var wrapper = try makeWrapper(stage: 1.0, options: options)
        var action = zeroAction()
        action[1] = 1  // a 0.25 rad step: 13 ticks at 1 rad/s × 0.02 s
        var state = standing()
        var previous = 0.9
        var events: [SafetyEvent] = []
        for i in 0..<20 {
            let output = wrapper.tick(nominal(Double(i) * 0.02, state: state, action: action))
            let target = output.command.positions[1]
            #expect(target - previous <= 0.02 + 1e-12)
            #expect(target <= 1.15 + 1e-12)
            previous = target
            state.jointPositions[1] = target
            events += output.events
        }
        #expect(abs(previous - 1.15) < 1e-12)
        #expect(events.filter { $0.reason == .rateLimit }.count == 1)
    }
}
