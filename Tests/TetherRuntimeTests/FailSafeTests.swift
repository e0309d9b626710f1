import Foundation
import Testing
import TetherCore
import TetherPolicy
import TetherROS
import TetherSafety
import TetherSim
@testable import TetherRuntime

/// A robot that records every command it is sent, with the clock's time, and can fail on cue.
final class RecordingRobot: Robot {
    let inner: SimulatedRobot
    let clock: ControlClock
    var sent: [(time: Double, command: JointCommand)] = []
    var reads = 0
    /// Throw from `latestState` from this read on (nil: never).
    var failReadsFrom: Int?
    var failure: Error = TetherError("the link dropped", at: "test robot")
    /// Called at each read (to inject requests from "another thread" at a chosen tick).
    var onRead: (Int) -> Void = { _ in }
    init(inner: SimulatedRobot, clock: ControlClock) {
        self.inner = inner
        self.clock = clock
    }
    var manifest: Manifest { inner.manifest }
    func latestState() throws -> (state: RobotState, receivedAt: Double)? {
        reads += 1
        onRead(reads)
        if let from = failReadsFrom, reads >= from { throw failure }
        return try inner.latestState()
    }
    func send(_ command: JointCommand) throws {
        sent.append((clock.now(), command))
        try inner.send(command)
    }
    func advance(to time: Double) throws { try inner.advance(to: time) }
}

/// A policy that throws, or sleeps once, on cue (test doubles of a broken or hanging model).
final class MisbehavingPolicy: PolicyRuntime, @unchecked Sendable {
    let observationSize: Int, actionSize: Int
    var calls = 0
    var throwAt: Int?
    var sleepAt: Int?
    var sleepSeconds = 1.0
    let clock: ControlClock
    /// When the sleeping call began and ended, on `clock`.
    var hang: (start: Double, end: Double)?
    init(observationSize: Int, actionSize: Int, clock: ControlClock) {
        self.observationSize = observationSize
        self.actionSize = actionSize
        self.clock = clock
    }
    func act(_ observation: [Float]) throws -> [Float] {
        calls += 1
        if calls == throwAt { throw TetherError("the model returned a tensor of the wrong shape", at: "test policy") }
        if calls == sleepAt {
            let start = clock.now()
            Thread.sleep(forTimeInterval: sleepSeconds)
            hang = (start, clock.now())
        }
        return [Float](repeating: 0, count: actionSize)
    }
}

@Suite struct CommandWatchdogTests {
    let config = CommandWatchdog.Configuration(timeout: 0.1, dampingSeconds: 1, dampingKd: [0.5, 2])

    @Test func unarmedUntilTheFirstCommand() {
        var w = CommandWatchdog(configuration: config)
        #expect(w.check(at: 100, positions: [0, 0]) == nil)
        #expect(w.mode == .unarmed)
    }

    @Test func dampsAfterTheTimeoutThenZeroTorqueThenFollowsAgain() throws {
        var w = CommandWatchdog(configuration: config)
        w.commandArrived(at: 0)
        #expect(w.check(at: 0.09, positions: [1, 2]) == nil)
        let dampingCommand = w.check(at: 0.11, positions: [1, 2])
        let damping = try #require(dampingCommand)
        #expect(damping.kp == [0, 0] && damping.kd == [0.5, 2] && damping.torques == [0, 0] && damping.positions == [1, 2])
        #expect(w.mode == .damping && w.timeouts == 1)
        #expect(w.check(at: 0.5, positions: [1, 2])?.kd == [0.5, 2])
        #expect(w.timeouts == 1, "one timeout, however long it lasts")
        let zeroCommand = w.check(at: 1.2, positions: [1, 2])
        let zero = try #require(zeroCommand)
        #expect(zero.kp == [0, 0] && zero.kd == [0, 0] && w.mode == .zeroTorque)
        w.commandArrived(at: 2)
        #expect(w.check(at: 2.05, positions: [1, 2]) == nil && w.mode == .following)
        _ = w.check(at: 2.2, positions: [1, 2])
        #expect(w.timeouts == 2)
    }

    @Test func theDefaultTimeoutCoversSlowControllers() throws {
        let manifest = try RobotModel.load(manifestPath: quadrupedManifest).manifest
        #expect(CommandWatchdog.Configuration(manifest: manifest).timeout == 0.1)
        var slow = manifest
        slow.rates.controlHz = 10
        #expect(abs(CommandWatchdog.Configuration(manifest: slow).timeout - 0.3) < 1e-12)
        #expect(CommandWatchdog.Configuration(manifest: manifest).dampingKd.allSatisfy { $0 == 0.5 })
    }

    @Test func malformedCommandsAreRejectedNotTrapped() {
        #expect(throws: TetherError.self) {
            try JointCommand.validated(positions: [0, 0], velocities: [0], torques: [0, 0], kp: [1, 1], kd: [0, 0], source: "/joint_commands")
        }
        #expect(throws: TetherError.self) {
            try JointCommand.validated(positions: [0, .nan], velocities: [0, 0], torques: [0, 0], kp: [1, 1], kd: [0, 0], source: "/joint_commands")
        }
        #expect(throws: TetherError.self) {
            try JointCommand.validated(positions: [0, 0], velocities: [0, 0], torques: [0, 0], kp: [1, -1], kd: [0, 0], source: "/joint_commands")
        }
        #expect(throws: Never.self) {
            try JointCommand.validated(positions: [0, 0], velocities: [0, 0], torques: [0, 0], kp: [1, 1], kd: [0, 0], source: "/joint_commands")
        }
    }
}

@Suite struct DeploymentFailSafeTests {
    func make(policy: (any PolicyRuntime)?, clock: ControlClock, recordTo path: String? = nil) throws -> (Deployment, RecordingRobot) {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let sim = SimRobot(robot: robot)
        sim.layDown()
        let backend = RecordingRobot(inner: SimulatedRobot(sim: sim, start: clock.now()), clock: clock)
        let recorder = path.map { FlightRecorder(manifest: robot.manifest, path: $0, windowSeconds: 5, clockStart: clock.now()) }
        var options = SafetyOptions()
        options.maxTickLateness = 0.25  // real-time tests beside loaded cores: lateness is not what is tested
        let deployment = Deployment(robot: backend, policy: policy, safety: SafetyWrapper(config: try SafetyConfig(manifest: robot.manifest, stage: 1.0,
                                                                                                                   options: options)),
                                    timing: .init(standUpSeconds: 1), recorder: recorder, clock: clock, loop: .init(rateHz: 50, maxConsecutiveMisses: 50),
                                    velocityCommand: SIMD3(0.5, 0, 0))
        return (deployment, backend)
    }

    static let script: [Deployment.ScriptedCommand] = [.init(time: 0.2, command: .standUp), .init(time: 1.4, command: .startPolicy)]

    static func isDamping(_ c: JointCommand) -> Bool { c.kp.allSatisfy { $0 == 0 } && c.kd.contains { $0 > 0 } && c.torques.allSatisfy { $0 == 0 } }

    @Test func anErrorInATickStopsTheRobotForTheStopsDurationThenEnds() throws {
        let path = NSTemporaryDirectory() + "tether-failsafe-\(UUID().uuidString).mcap"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        let (deployment, robot) = try make(policy: ScriptedPolicy(observationSize: 48, actionSize: 12), clock: clock, recordTo: path)
        robot.failReadsFrom = 100  // 2 s in: the policy phase
        #expect(throws: TetherError.self) { try deployment.run(script: Self.script, seconds: 10) }
        let report = try #require(deployment.lastReport)
        #expect(report.stopReason == "invalid_input")
        #expect(report.error?.contains("the link dropped") == true)
        // Every command from the fault's tick on is a damping stop, for the stop's duration (1 s).
        let faultTime = robot.sent[99].time
        let after = robot.sent.filter { $0.time >= faultTime }
        #expect(after.allSatisfy { Self.isDamping($0.command) })
        #expect(after.last!.time - faultTime >= 1 - 1e-9 && after.last!.time - faultTime <= 1.1)
        // The recording was written with the stop's reason.
        let reader = try MCAPReader(path: path)
        #expect(reader.isCleanlyClosed)
        let events = try reader.messages(TetherMsgs.SafetyEvent.self, topic: "/tether/safety_events")
        #expect(events.contains { $0.message.reason == "invalid_input" && $0.message.message.contains("the link dropped") })
    }

    @Test func aPolicyErrorStopsTheRobotWithItsReason() throws {
        let clock = ManualClock()
        let policy = MisbehavingPolicy(observationSize: 48, actionSize: 12, clock: clock)
        policy.throwAt = 10
        let (deployment, robot) = try make(policy: policy, clock: clock)
        #expect(throws: TetherError.self) { try deployment.run(script: Self.script, seconds: 10) }
        #expect(deployment.lastReport?.stopReason == "policy_error")
        #expect(Self.isDamping(robot.sent.last!.command))
    }

    @Test func theFirstSignalStopsFinishesTheStopAndEnds() throws {
        let clock = ManualClock()
        let (deployment, robot) = try make(policy: ScriptedPolicy(observationSize: 48, actionSize: 12), clock: clock)
        robot.onRead = { n in if n == 150 { deployment.requestEnd(source: "SIGINT") } }  // 3 s in
        let report = try deployment.run(script: Self.script, seconds: 60)
        #expect(report.interruptedBy == "SIGINT")
        #expect(report.stopReason == "estop")
        #expect(report.seconds < 4.2, "ended after the stop (1 s), not after the 60 s")
        #expect(robot.sent.suffix(40).allSatisfy { Self.isDamping($0.command) })
    }

    @Test func aNormalEndStopsARobotThatIsStillRunning() throws {
        let clock = ManualClock()
        let (deployment, robot) = try make(policy: ScriptedPolicy(observationSize: 48, actionSize: 12), clock: clock)
        let report = try deployment.run(script: Self.script, seconds: 4)  // no stop in the script
        #expect(report.finalPhase == "passive")
        #expect(report.seconds >= 5 - 1e-9, "the damping stop ran its second after the end")
        let last = robot.sent.last!.command
        #expect(Self.isDamping(last), "the last command is a damping stop")
        #expect(report.stopped == false, "an orderly end is not a safety stop")
    }

    @Test func aHungPolicyIsStoppedWhileItsCallStillHangs() throws {
        let clock = MonotonicClock()
        let policy = MisbehavingPolicy(observationSize: 48, actionSize: 12, clock: clock)
        policy.sleepAt = 20
        let (deployment, robot) = try make(policy: policy, clock: clock)
        #expect(deployment.policyOnWorker)
        #expect(throws: TetherError.self) { try deployment.run(script: Self.script, seconds: 6) }
        let report = try #require(deployment.lastReport)
        #expect(report.stopReason == "policy_timeout")
        #expect((report.policyLate ?? 0) >= 1)
        // The first damping command after the hang began: within the budget (two periods) plus the
        // tick that notices, and before the hanging call returned.
        let hangStart = policy.hang?.start ?? robot.sent.last!.time
        let firstStop = try #require(robot.sent.first { $0.time > hangStart && Self.isDamping($0.command) })
        let period = 1.0 / 50
        print(String(format: "failsafe: a policy call hanging %.1f s → first damping command %.3f s after it began (budget %.3f s), while it still hung: %@",
                     policy.sleepSeconds, firstStop.time - hangStart, deployment.policyBudget,
                         policy.hang.map { firstStop.time < $0.end ? "yes" : "no" } ?? "yes"))
        #expect(firstStop.time - hangStart <= deployment.policyBudget + 2 * period + 0.05)
        #expect(policy.hang == nil || firstStop.time < policy.hang!.end)
    }

    @Test func aSignalDuringAHungPolicyCallStopsTheRobotWithinAPeriod() throws {
        let clock = MonotonicClock()
        let policy = MisbehavingPolicy(observationSize: 48, actionSize: 12, clock: clock)
        policy.sleepAt = 20          // the policy starts at 1.4 s: call 20 hangs from about 1.8 s to 2.8 s
        let (deployment, robot) = try make(policy: policy, clock: clock)
        deployment.policyBudget = 5  // longer than the hang: only the signal can stop it
        let requested = Locked2<Double?>(nil)
        let start = clock.now()
        let end = deployment.endRequest   // what a signal handler holds
        DispatchQueue.global().asyncAfter(deadline: .now() + 2.2) {
            requested.mutate { $0 = clock.now() }
            end.set("SIGINT")
        }
        let report = try deployment.run(script: Self.script, seconds: 8)
        #expect(report.interruptedBy == "SIGINT" && report.stopReason == "estop")
        let at = try #require(requested.value)
        let hang = try #require(policy.hang)
        #expect(at > hang.start && at < hang.end, "the signal came while the call hung (\(hang.start - start)…\(hang.end - start) s, signal \(at - start) s)")
        let firstStop = try #require(robot.sent.first { $0.time >= at && Self.isDamping($0.command) })
        print(String(format: "failsafe: SIGINT during a hung policy call → first damping command %.3f s later", firstStop.time - at))
        #expect(firstStop.time - at <= 1.0 / 50 + 0.05)
    }

    @Test func theEventLogIsBounded() throws {
        let clock = ManualClock()
        let (deployment, _) = try make(policy: ScriptedPolicy(observationSize: 48, actionSize: 12, nanAfter: 5), clock: clock)
        deployment.maxEventLog = 3
        let report = try deployment.run(script: Self.script, seconds: 5)
        #expect(report.events.count == 3)
        #expect((report.eventsDropped ?? 0) > 0)
    }
}

@Suite struct SmallHolesTests {
    @Test func standUpWithNoStateIsRefusedNotATrap() throws {
        let manifest = try RobotModel.load(manifestPath: quadrupedManifest).manifest
        var machine = DeploymentStateMachine(manifest: manifest)
        #expect(throws: TetherError.self) { try machine.handle(.standUp, time: 0, jointPositions: []) }
        #expect(machine.phase == .passive)
    }

    @Test func theStageCannotBeRaisedWhileStopped() throws {
        let manifest = try RobotModel.load(manifestPath: quadrupedManifest).manifest
        var wrapper = SafetyWrapper(config: try SafetyConfig(manifest: manifest, stage: 0.25))
        wrapper.engageEStop(source: "test", time: 0)
        #expect(throws: TetherError.self) { try wrapper.raiseStage(to: 0.5, time: 0.1) }
        #expect(wrapper.state.stage == 0.25)
    }

    @Test func aResetIsRefusedUnlessUpright() throws {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        var wrapper = SafetyWrapper(config: try SafetyConfig(manifest: robot.manifest, stage: 0.25))
        wrapper.engageEStop(source: "test", time: 0)
        let lying = RobotState(time: 1, jointPositions: robot.manifest.joints.map(\.defaultPosition), jointVelocities: robot.manifest.joints.map { _ in 0 },
                               jointTorques: robot.manifest.joints.map { _ in 0 },
                               baseOrientation: SIMD4(cos(0.7), sin(0.7), 0, 0))  // rolled 80°
        #expect(throws: TetherError.self) { try wrapper.reset(time: 1, currentState: lying, receivedAt: 1) }
        var upright = lying
        upright.baseOrientation = SIMD4(1, 0, 0, 0)
        #expect(throws: Never.self) { try wrapper.reset(time: 1, currentState: upright, receivedAt: 1) }
    }
}
