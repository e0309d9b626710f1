import Foundation
import Testing
import TetherCore
import TetherROS
import TetherSafety
import TetherSim
@testable import TetherRuntime

/// The Unitree backend against a robot played in-process on loopback DDS: states in (slots, IMU,
/// feet, CRC, tick, motor faults, the remote's e-stop), commands out, and the robot-side server.
@Suite(.serialized) struct UnitreeRobotTests {
    struct Rig<D: UnitreeDialect> {
        let manifest: Manifest
        let robot: UnitreeRobot<D>
        let states: DDSPublisher<D.State>
        let commands: DDSSubscriber<D.Command>
        let peer: DDSParticipant

        init(_ dialect: D.Type, domain: UInt32) throws {
            var manifest = try RobotModel.load(manifestPath: quadrupedManifest).manifest
            manifest.unitree?.messages = D.kind
            manifest.unitree?.maxMotorTemperature = 80
            self.manifest = manifest
            let participant = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
            peer = try DDSParticipant(domain: domain, configuration: DDSParticipant.loopbackConfiguration)
            robot = try UnitreeRobot<D>(manifest: manifest, participant: participant, clock: MonotonicClock())
            states = try DDSPublisher<D.State>(peer, topic: UnitreeTopics.lowState, qos: .reliableKeepAll)
            commands = try DDSSubscriber<D.Command>(peer, topic: UnitreeTopics.lowCmd, qos: .reliableKeepAll)
            _ = states.waitForSubscribers(timeout: 5)
            _ = robot.commands.publisher.waitForSubscribers(2, timeout: 5)
        }

        /// A reading with slot i at 0.1·i rad, tick `tick`.
        func reading(tick: UInt32) -> UnitreeReading {
            var r = UnitreeReading(slots: D.kind.motorSlots)
            r.tick = tick
            for i in 0..<r.motors.count { r.motors[i] = .init(q: 0.1 * Double(i), dq: -Double(i), tau: 0.5, temperature: 40) }
            r.quaternion = SIMD4(0.5, 0.5, 0.5, 0.5)
            r.gyroscope = SIMD3(0.25, 0, -0.25)
            r.accelerometer = SIMD3(0, 0, 9.75)
            r.footForce = D.kind == .go ? [100, 0, 100, 0] : []
            return r
        }

        func publish(_ reading: UnitreeReading, corrupt: Bool = false) throws {
            var state = D.state(reading)
            if corrupt { state.crc ^= 0x8000_0000 }
            try states.publish(state)
        }

        /// Reads until `body` holds or the time runs out; the last result.
        func read(timeout: Double = 3, until body: (Result<(state: RobotState, receivedAt: Double)?, Error>) -> Bool)
            -> Result<(state: RobotState, receivedAt: Double)?, Error> {
            let deadline = Date().addingTimeInterval(timeout)
            var last: Result<(state: RobotState, receivedAt: Double)?, Error> = .success(nil)
            repeat {
                last = Result { try robot.latestState() }
                if body(last) { return last }
                usleep(2000)
            } while Date() < deadline
            return last
        }
    }

    static func fault(_ r: Result<(state: RobotState, receivedAt: Double)?, Error>) -> RobotFault? {
        if case .failure(let e) = r { return e as? RobotFault }
        return nil
    }

    @Test func unitreeStateMapsMotorSlotsIMUAndFeet() throws {
        let rig = try Rig(UnitreeGoDialect.self, domain: 194)
        try rig.publish(rig.reading(tick: 1000))
        let state = try #require(try rig.read { (try? $0.get()) != nil }.get()?.state)
        let slots = rig.manifest.joints.map { rig.manifest.unitree!.motors[$0.name]! }
        #expect(state.jointPositions == slots.map { Double(Float(0.1 * Double($0))) })
        #expect(state.jointVelocities == slots.map { -Double($0) })
        #expect(state.time == 1.0)
        #expect(state.baseOrientation == SIMD4(0.5, 0.5, 0.5, 0.5))
        #expect(state.baseAcceleration == SIMD3(0, 0, 9.75))
        #expect(state.footContacts == [true, false, true, false])
    }

    @Test func unitreeBadCRCStateIsDroppedAndCounted() throws {
        let rig = try Rig(UnitreeGoDialect.self, domain: 195)
        var bad = rig.reading(tick: 10)
        bad.motors[0].q = 3   // would be FR_hip at 3 rad
        try rig.publish(bad, corrupt: true)
        try rig.publish(rig.reading(tick: 12))
        let state = try #require(try rig.read { (try? $0.get()) != nil }.get()?.state)
        #expect(state.jointPositions[0] == 0)
        #expect(rig.robot.stateCounts == .init(accepted: 1, rejected: 1))
        #expect(rig.robot.inputNotes.first?.contains("1 state(s) dropped for a wrong CRC") == true)
    }

    /// A controller repeating a frozen state: its tick does not move, so the state's age grows and
    /// the safety wrapper's state timeout fires as for silence.
    @Test func unitreeFrozenTickDoesNotRefreshTheState() throws {
        let rig = try Rig(UnitreeGoDialect.self, domain: 196)
        try rig.publish(rig.reading(tick: 7))
        let first = try #require(try rig.read { (try? $0.get()) != nil }.get())
        usleep(50_000)
        var repeated = rig.reading(tick: 7)
        repeated.motors[0].q = 1
        try rig.publish(repeated)
        usleep(50_000)
        let again = try #require(try rig.robot.latestState())
        #expect(again.receivedAt == first.receivedAt)
        #expect(again.state.jointPositions == first.state.jointPositions)
        try rig.publish(rig.reading(tick: 9))
        let moved = try #require(try rig.read { (try? $0.get())??.receivedAt != first.receivedAt }.get())
        #expect(moved.receivedAt > first.receivedAt)
    }

    @Test func unitreeMotorOverTemperatureIsAMotorFault() throws {
        let rig = try Rig(UnitreeGoDialect.self, domain: 197)
        var hot = rig.reading(tick: 3)
        hot.motors[4].temperature = 85
        try rig.publish(hot)
        let f = try #require(Self.fault(rig.read { Self.fault($0) != nil }))
        #expect(f.reason == .motorFault)
        #expect(f.error.what.contains("motor 4 (FL_thigh_joint) is at 85 °C (limit 80 °C)"))
        // Before the start, the same is a plain error that refuses to start.
        hot.tick = 4
        try rig.publish(hot)
        #expect {
            try rig.robot.waitForRobot(timeout: 1)
        } throws: { error in
            error is TetherError && "\(error)".contains("not fit to start (motor_fault)")
        }
    }

    @Test func unitreeMotorErrorBitsAreAMotorFault() throws {
        let rig = try Rig(UnitreeHGDialect.self, domain: 198)
        var broken = rig.reading(tick: 3)
        broken.motors[11].error = 0x20
        try rig.publish(broken)
        let f = try #require(Self.fault(rig.read { Self.fault($0) != nil }))
        #expect(f.reason == .motorFault && f.error.what.contains("motor 11 (RL_calf_joint) reports error bits 0x20"))
    }

    @Test func unitreeRemoteButtonsEngageTheEStop() throws {
        let rig = try Rig(UnitreeGoDialect.self, domain: 199)
        var r = rig.reading(tick: 1)
        r.wirelessRemote[2] = 0b0010_0000   // L2 alone: not the combination
        try rig.publish(r)
        _ = rig.read { (try? $0.get()) != nil }
        #expect(!rig.robot.eStopInputActive)
        r.tick = 2
        r.wirelessRemote[3] = 0b0000_0010   // and B
        try rig.publish(r)
        _ = rig.read { _ in rig.robot.eStopInputActive }
        #expect(rig.robot.eStopInputActive)
    }

    @Test func unitreeCommandsCarryTheJointCommandInTheirSlots() throws {
        let rig = try Rig(UnitreeGoDialect.self, domain: 200)
        let n = rig.manifest.actuatedJoints.count
        let command = JointCommand(positions: (0..<n).map { 0.1 * Double($0) }, velocities: Array(repeating: 0.5, count: n),
                                   torques: Array(repeating: 1.5, count: n), kp: Array(repeating: 25, count: n), kd: Array(repeating: 0.5, count: n))
        try rig.robot.send(command)
        let sent = try #require(try rig.commands.next(timeout: 3))
        #expect(sent.hasValidCRC)
        #expect(sent.head == [0xFE, 0xEF] && sent.levelFlag == 0xFF)
        for (k, joint) in rig.manifest.actuatedJoints.enumerated() {
            let m = sent.motorCmd[rig.manifest.unitree!.motors[joint.name]!]
            #expect(m.mode == 1 && m.q == Float(0.1 * Double(k)) && m.dq == 0.5 && m.tau == 1.5 && m.kp == 25 && m.kd == 0.5)
        }
        #expect(sent.motorCmd[12...].allSatisfy { $0 == UnitreeGoMsgs.MotorCmd() })
        // The emergency stop damps (kp 0, kd > 0, no feed-forward) and seals: nothing after it.
        rig.robot.emergencyStop()
        let stop = try #require(try rig.commands.next(timeout: 3))
        #expect(stop.hasValidCRC && stop.motorCmd[..<12].allSatisfy { $0.mode == 1 && $0.kp == 0 && $0.kd > 0 && $0.tau == 0 })
        try rig.robot.send(command)
        #expect(try rig.commands.next(timeout: 0.3) == nil)
    }

    @Test func unitreeRobotRefusesToStartWhileAnotherProgramCommands() throws {
        let rig = try Rig(UnitreeGoDialect.self, domain: 201)
        let other = try DDSPublisher<UnitreeGoMsgs.LowCmd>(rig.peer, topic: UnitreeTopics.lowCmd)
        _ = other.waitForSubscribers(timeout: 5)
        try rig.publish(rig.reading(tick: 1))
        #expect {
            try rig.robot.waitForRobot(timeout: 3)
        } throws: { error in
            "\(error)".contains("other program(s) publish on rt/lowcmd") && "\(error)".contains("release the vendor's motion service")
        }
    }

    @Test func unitreeManifestWithoutSectionIsAClearError() throws {
        var manifest = try RobotModel.load(manifestPath: quadrupedManifest).manifest
        manifest.unitree = nil
        #expect {
            _ = try UnitreeBackend.connect(manifest: manifest, loopback: true, clock: MonotonicClock(), waitSeconds: 0.1)
        } throws: { error in
            "\(error)".contains("no unitree: section")
        }
    }

    /// The robot side: commands with a wrong CRC are rejected and counted, valid ones applied, and
    /// silence after them brings the damping stop.
    @Test func unitreeServerChecksCommandCRCsAndTimesOut() throws {
        let model = try RobotModel.load(manifestPath: quadrupedManifest)
        let clock = MonotonicClock()
        let sim = SimRobot(robot: model)
        sim.hang(height: 0.8)
        let participant = try DDSParticipant(domain: 202, configuration: DDSParticipant.loopbackConfiguration)
        let server = try UnitreeRobotServer<UnitreeGoDialect>(robot: SimulatedRobot(sim: sim, start: clock.now()), participant: participant,
                                                              clock: clock, stateRateHz: 200, commandTimeout: 0.1)
        let events = Locked<[String]>([])
        server.onEvent = { event in events.withLock { $0.append(event.kind) } }
        let peer = try DDSParticipant(domain: 202, configuration: DDSParticipant.loopbackConfiguration)
        let publisher = try DDSPublisher<UnitreeGoMsgs.LowCmd>(peer, topic: UnitreeTopics.lowCmd, qos: .reliableKeepAll)
        let states = try UnitreeStateSubscriber<UnitreeGoMsgs.LowState>(peer)
        let done = Locked(false)
        let thread = Thread {
            try? server.run(seconds: 3)
            done.withLock { $0 = true }
        }
        thread.start()
        #expect(publisher.waitForSubscribers(timeout: 5))
        #expect(try states.next(timeout: 3)?.hasValidCRC == true)
        var command = UnitreeGoDialect.command(model.manifest.actuatedJoints.map {
            UnitreeMotorCommand(mode: 1, q: $0.defaultPosition, kp: 20, kd: 0.5)
        }, modeMachine: 0)
        command.crc ^= 1
        try publisher.publish(command)
        try publisher.publish(command.sealed())
        var nonFinite = command
        nonFinite.motorCmd[0].q = .nan
        try publisher.publish(nonFinite.sealed())
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline, !events.withLock({ $0.contains("command_timeout") }) { usleep(5000) }
        server.stop()
        while !done.withLock({ $0 }) { usleep(5000) }
        #expect(server.commandsApplied == 1)
        #expect(server.commandsRejected == 2)
        #expect(events.withLock { $0 }.filter { $0 == "command_rejected" }.count == 2)
        #expect(events.withLock { $0 }.contains("command_timeout"))
    }
}
