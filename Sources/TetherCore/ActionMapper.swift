import Foundation

/// Maps a policy's raw action to a joint command, exactly as the manifest says.
///
/// `a' = clip(a, ±clip)`, `value = offset + scale · a'`. Position mode: PD targets with the
/// manifest's gains and feed-forward. Effort mode: torques (N·m, or N), no gains.
public struct ActionMapper: Sendable {
    /// The manifest this mapper follows.
    public let manifest: Manifest
    /// Multiplier per actuated joint.
    public let scale: [Double]
    /// Offset per actuated joint.
    public let offset: [Double]

    /// Creates a mapper.
    public init(manifest: Manifest) {
        self.manifest = manifest
        let joints = manifest.actuatedJoints
        let a = manifest.action
        scale = a.scale.count == 1 ? Array(repeating: a.scale[0], count: joints.count) : a.scale
        if let o = a.offset {
            offset = o.count == 1 ? Array(repeating: o[0], count: joints.count) : o
        } else {
            offset = a.mode == .position ? joints.map(\.defaultPosition) : Array(repeating: 0, count: joints.count)
        }
    }

    /// The command for `action`. Throws on a wrong size or a NaN / infinite action (fail closed).
    public func command(for action: [Float]) throws -> JointCommand {
        guard action.count == scale.count else {
            throw TetherError("the policy returned \(action.count) actions, the manifest has \(scale.count) actuated joints")
        }
        let clip = Float(manifest.action.clip)
        var values = [Double](repeating: 0, count: action.count)
        for k in action.indices {
            guard action[k].isFinite else {
                throw TetherError("the policy returned \(action[k]) for \(manifest.actuatedJoints[k].name)", hint: "the action is not applied")
            }
            values[k] = offset[k] + scale[k] * Double(min(clip, max(-clip, action[k])))
        }
        let joints = manifest.actuatedJoints
        let zero = [Double](repeating: 0, count: joints.count)
        switch manifest.action.mode {
        case .position:
            return JointCommand(positions: values, velocities: zero, torques: joints.map(\.feedforward),
                                kp: joints.map { $0.kp ?? 0 }, kd: joints.map { $0.kd ?? 0 })
        case .effort:
            return JointCommand(positions: zero, velocities: zero, torques: values, kp: zero, kd: zero)
        }
    }
}
