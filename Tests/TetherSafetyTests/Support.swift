import Foundation
import Testing
import TetherCore
@testable import TetherSafety

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The built-in manifests, loaded once.
enum Robots {
    static let quadruped = load("quadruped")
    static let cartpole = load("cartpole")

    private static func load(_ name: String) -> Manifest {
        do {
            return try Manifest.load(path: "\(repositoryRoot)/robots/\(name)/\(name).yaml")
        } catch {
            fatalError("cannot load the built-in \(name) manifest: \(error)")
        }
    }
}

/// A wrapper for `manifest` (test manifests are valid, so a failure is a test bug). The
/// manifest's deployment filters (on by default) are off unless asked for, so each check is
/// tested on its own; `defaultFiltersAreOnForDeployment` tests them.
func makeWrapper(_ manifest: Manifest = Robots.quadruped, stage: Double? = nil,
                 options: SafetyOptions = SafetyOptions(), manifestFilters: Bool = false) throws -> SafetyWrapper {
    var options = options
    options.manifestFilters = manifestFilters
    return SafetyWrapper(config: try SafetyConfig(manifest: manifest, stage: stage, options: options))
}

/// A level quaternion tilted by `angle` rad about the base's x axis.
func tilted(_ angle: Double) -> SIMD4<Double> {
    SIMD4(cos(angle / 2), sin(angle / 2), 0, 0)
}

/// The robot standing still at its default pose, level, base at 0.3 m.
func standing(_ manifest: Manifest = Robots.quadruped, time: Double = 0) -> RobotState {
    let n = manifest.joints.count
    let floating = manifest.base != nil
    return RobotState(time: time, jointPositions: manifest.joints.map(\.defaultPosition),
                      jointVelocities: Array(repeating: 0, count: n), jointTorques: Array(repeating: 0, count: n),
                      baseOrientation: floating ? SIMD4(1, 0, 0, 0) : nil,
                      baseAngularVelocity: floating ? .zero : nil,
                      basePosition: floating ? SIMD3(0, 0, 0.3) : nil)
}

/// A zero action for `manifest`.
func zeroAction(_ manifest: Manifest = Robots.quadruped) -> [Float] {
    Array(repeating: 0, count: manifest.actionSize)
}

/// An on-time tick at `time` with a state received just now.
func nominal(_ time: Double, state: RobotState? = nil, action: [Float]? = nil, manifest: Manifest = Robots.quadruped) -> SafetyInput {
    SafetyInput(time: time, state: state ?? standing(manifest, time: time), stateReceivedAt: time,
                action: action ?? zeroAction(manifest), lateness: 0)
}

/// The torque the robot's PD law produces for joint `k` of `command` at `state`:
/// kp (q* - q) + kd (qd* - qd) + ff.
func pdTorque(_ command: JointCommand, _ k: Int, config: SafetyConfig, state: RobotState) -> Double {
    let index = config.stateIndices[k]
    return command.kp[k] * (command.positions[k] - state.jointPositions[index])
        + command.kd[k] * (command.velocities[k] - state.jointVelocities[index]) + command.torques[k]
}

/// Allowed rounding on a torque bound: relative to the bound and to the terms that were summed.
func torqueSlack(_ command: JointCommand, _ k: Int, config: SafetyConfig, state: RobotState, bound: Double) -> Double {
    let index = config.stateIndices[k]
    let terms = abs(command.kp[k] * (command.positions[k] - state.jointPositions[index]))
        + abs(command.kd[k] * state.jointVelocities[index]) + abs(command.torques[k])
    return 1e-9 * (1 + bound + terms)
}

/// Whether `command` is the stop command for `behaviour`: no stiffness, no feed-forward, and
/// no damping for a zero-torque stop.
func isStopCommand(_ command: JointCommand, _ behaviour: StopBehaviour) -> Bool {
    command.kp.allSatisfy { $0 == 0 } && command.torques.allSatisfy { $0 == 0 }
        && command.velocities.allSatisfy { $0 == 0 }
        && (behaviour == .damping ? command.kd.allSatisfy { $0 >= 0 } : command.kd.allSatisfy { $0 == 0 })
}
