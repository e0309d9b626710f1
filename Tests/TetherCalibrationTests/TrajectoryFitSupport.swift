import Foundation
import TetherCore
import TetherSim
@testable import TetherCalibration

/// Robots and recordings with a known truth for the trajectory-fit tests.
enum FitFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func cartpole() throws -> RobotModel {
        try RobotModel.load(manifestPath: "\(root)/robots/cartpole/cartpole.yaml")
    }

    static func quadruped() throws -> RobotModel {
        try RobotModel.load(manifestPath: "\(root)/robots/quadruped/quadruped.yaml")
    }

    /// The cart pushed by a force multisine (zero phases: no drift), pole hanging down, states at
    /// the physics rate (200 Hz) with encoder-like noise.
    /// Every experiment starts with the robot still for this long (`TrajectoryFit.InitialState.atRest`).
    static let rest = 0.2

    static func cartpoleRecording(_ robot: RobotModel, truth: [String: Double], frequencies: [Double], seconds: Double = 3,
                                  seed: UInt64, name: String) throws -> ExperimentRecording {
        let commands = try SyntheticExperiment.multisine(robot: robot, joints: ["slider"], amplitude: 4, frequencies: frequencies,
                                                         duration: seconds, rate: 50, torque: true, zeroPhase: true, rest: rest,
                                                         seed: seed)
        return try SyntheticExperiment.record(robot: robot, truth: truth, commands: commands, duration: seconds, sampleRate: 200,
                                              initialPositions: [0, Double.pi], positionNoise: 1e-3, velocityNoise: 1e-2,
                                              seed: seed, source: name)
    }

    /// The quadruped hung at 0.8 m, position multisine on the front-right leg around the default
    /// pose (manifest gains), states at 500 Hz.
    static func legRecording(_ robot: RobotModel, truth: [String: Double], frequencies: [Double], seconds: Double = 1,
                             seed: UInt64, name: String) throws -> ExperimentRecording {
        let commands = try SyntheticExperiment.multisine(robot: robot, joints: ["FR_hip_joint", "FR_thigh_joint", "FR_calf_joint"],
                                                         amplitude: 0.35, frequencies: frequencies, duration: seconds, rate: 50,
                                                         torque: false, rest: rest, seed: seed)
        return try SyntheticExperiment.record(robot: robot, truth: truth, commands: commands, duration: seconds, sampleRate: 500,
                                              hungAt: 0.8, settle: 1, positionNoise: 5e-4, velocityNoise: 2e-2, seed: seed, source: name)
    }
}
