import Foundation
import Testing
import TetherCore
@testable import TetherCalibration

/// The analyses read straight from an `ExperimentRecording`.
@Suite struct RecordingAnalysisTests {
    static func command(position: Double = 0, velocity: Double = 0, torque: Double = 0) -> JointCommand {
        JointCommand(positions: [position, 0], velocities: [velocity, 0], torques: [torque, 0], kp: [0, 0], kd: [1, 0])
    }

    @Test func sweepRecordingGivesSteadySegments() throws {
        let s = FrictionTests.sweep(seed: 71)
        let recording = ExperimentRecording(
            source: "sweep.mcap", kind: "sweep", jointNames: ["hip", "knee"],
            states: s.times.indices.map { .init(time: s.times[$0], positions: [0, 0], velocities: [s.velocity[$0], 0], efforts: [s.effort[$0], 0]) },
            commands: s.commandTimes.indices.map { .init(time: s.commandTimes[$0], command: Self.command(velocity: s.commands[$0])) })
        let extraction = try FrictionAnalysis.steadySegments(recording, joint: "hip")
        #expect(extraction.segments.count == 5 && extraction.segments.allSatisfy { $0.commandedVelocity != nil })
        expectAnalysisError(source: "sweep.mcap", mentioning: ["'ankle'"]) {
            _ = try FrictionAnalysis.steadySegments(recording, joint: "ankle")
        }
        let noEffort = ExperimentRecording(source: "sweep.mcap", jointNames: ["hip"],
                                           states: [.init(time: 0, positions: [0], velocities: [0], efforts: [])], commands: [])
        expectAnalysisError(source: "sweep.mcap", mentioning: ["no effort"]) {
            _ = try FrictionAnalysis.steadySegments(noEffort, joint: "hip")
        }
    }

    @Test func torqueStepRecordingGivesMotorDynamicsAndLatency() throws {
        let data = MotorDynamicsTests.torqueSteps(seed: 72)
        let recording = ExperimentRecording(
            source: "steps.mcap", kind: "torque-step", jointNames: ["hip", "knee"],
            states: data.times.indices.map { .init(time: data.times[$0], positions: [0, 0], velocities: [0, 0], efforts: [data.responses[$0], 0]) },
            commands: data.commandTimes.indices.map { .init(time: data.commandTimes[$0], command: Self.command(torque: data.commands[$0])) })
        let fit = try MotorDynamicsAnalysis.fitFirstOrderDeadTime(recording, joint: "hip")
        #expect(abs(fit.timeConstant.value - 0.015) < 0.001 && abs(fit.deadTime.value - 0.004) < 0.0005, "\(fit.timeConstant) \(fit.deadTime)")
        // The lag of a first-order system behind steps is about d + T by cross-correlation.
        var options = LatencyOptions()
        options.minimumLag = -0.01
        options.maximumLag = 0.06
        let latency = try LatencyAnalysis.crossCorrelation(recording, joint: "hip", quantity: .torque, options: options)
        #expect(latency.delay.value > 0.004 && latency.delay.value < 0.004 + 0.03)
        #expect(latency.signal == "hip torque")
    }

    @Test func swingRecordingGivesADampedSinusoid() throws {
        let swing = PendulumTests.linearSwing(seed: 73)
        let recording = ExperimentRecording(
            source: "swing.mcap", kind: "pendulum", jointNames: ["knee"],
            states: swing.times.indices.map { .init(time: swing.times[$0], positions: [swing.angles[$0]], velocities: [0], efforts: []) },
            commands: [])
        let fit = try PendulumAnalysis.fitDampedSinusoid(recording, joint: "knee")
        #expect(fit.naturalFrequency.contains(swing.omegaN))
    }
}
