import Foundation
import Testing
import TetherCore
import TetherEmulator
import TetherSim
@testable import TetherCalibration

/// Trajectory fitting against the virtual robot: recordings made the way `tether experiment`
/// makes them (send commands, read states), with a hidden truth the fit must find.
@Suite struct VirtualRobotFitTests {
    static func truth() -> Truth {
        var t = Truth(name: "fit-test", seed: 7)
        t.physics.jointDamping = 0.3
        t.physics.jointFrictionLoss = 0.15
        t.physics.massScale = 1.2
        t.actuators.lagTimeConstant = 0.01
        t.sensors.positionNoise = 5e-4
        t.sensors.velocityNoise = 0.02
        return t
    }

    /// Hangs the quadruped at 0.8 m, lets it settle for 1 s holding the default pose, then records
    /// `seconds` of a position multisine on the front-right leg (states at 500 Hz, commands at 50 Hz).
    static func record(_ robot: RobotModel, frequencies: [Double], seconds: Double, seed: UInt64, name: String) throws -> ExperimentRecording {
        let clock = ManualClock()
        let virtual = try VirtualRobot(robot: robot, truth: truth(), clock: clock, layDown: false, hungAt: 0.8)
        let settle = 1.0, rest = 0.2
        let plan = try SyntheticExperiment.multisine(robot: robot, joints: ["FR_hip_joint", "FR_thigh_joint", "FR_calf_joint"],
                                                     amplitude: 0.35, frequencies: frequencies, duration: seconds, rate: 50,
                                                     torque: false, rest: rest, seed: seed)
        var states: [ExperimentRecording.StateSample] = [], commands: [ExperimentRecording.CommandSample] = []
        var next = 0, lastState = -1.0
        let hold = robot.manifest.defaultPoseCommand
        let dt = 0.002
        for step in 0...Int(((settle + seconds) / dt).rounded()) {
            let t = Double(step) * dt
            try virtual.advance(to: t)
            clock.sleep(until: t)
            if let (state, _) = try virtual.latestState(), state.time > lastState, t >= settle - 1e-9 {
                lastState = state.time
                states.append(.init(time: state.time - settle, positions: state.jointPositions, velocities: state.jointVelocities,
                                    efforts: state.jointTorques))
            }
            if t < settle - 1e-9 {
                // Held at 50 Hz like a real controller (the virtual robot's command timeout damps after 0.1 s of silence).
                if step % 10 == 0 { try virtual.send(hold) }
            } else if next < plan.count, plan[next].time <= t - settle + 1e-9 {
                try virtual.send(plan[next].command)
                commands.append(.init(time: t - settle, command: plan[next].command))
                next += 1
            }
        }
        return ExperimentRecording(source: name, kind: "chirp", metadata: [PreparedRecording.hangKey: "0.8"],
                                   jointNames: robot.manifest.joints.map(\.name), states: states, commands: commands)
    }

    @Test func recoversTheVirtualRobotsHiddenTruth() throws {
        let robot = try FitFixtures.quadruped()
        let training = try [
            Self.record(robot, frequencies: [0.9, 2.1, 3.7, 5.3], seconds: 1, seed: 4, name: "virtual-1"),
            Self.record(robot, frequencies: [1.3, 2.9, 4.4], seconds: 1, seed: 5, name: "virtual-2"),
        ]
        let check = try Self.record(robot, frequencies: [1.1, 2.5, 4.9], seconds: 1, seed: 6, name: "virtual-held-out")
        let fit = try TrajectoryFit(robot: robot, parameters: [
            FitParameter("joint[*].damping", bounds: 0...2),
            FitParameter("joint[*].frictionloss", bounds: 0...1),
            FitParameter("body[*].scale", bounds: 0.5...2),
            FitParameter("driver.lag", bounds: 0...0.05),
        ], options: .init(initialState: .atRest(window: 0.2), joints: ["FR_hip_joint", "FR_thigh_joint", "FR_calf_joint"]))
        let result = try fit.fit(training, heldOut: [check])
        let truth: [String: Double] = ["joint[*].damping": 0.3, "joint[*].frictionloss": 0.15, "body[*].scale": 1.2, "driver.lag": 0.01]
        for e in result.estimates {
            let interval = try #require(e.interval95)
            #expect(interval.lower <= truth[e.name]! && truth[e.name]! <= interval.upper, "\(e.name) = \(e.value), interval \(interval)")
        }
        let held = try #require(result.recordings.first { $0.heldOut })
        #expect(held.after.normalized < 0.5 * (held.before?.normalized ?? 0))
    }
}
