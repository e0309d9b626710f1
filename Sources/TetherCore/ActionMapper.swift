import Foundation

/// Maps a policy's raw action to a joint command, exactly as the manifest says.
///
/// `a' = clip(a, ±clip)`, `value = offset + scale · a'`. Position mode: PD targets with the
/// manifest's gains and feed-forward. Effort mode: torques (N·m, or N), no gains. The action
/// lists the actuated joints in the policy's order (`policy_joint_order`); the command lists them
/// in the manifest's order, so a policy trained with another joint order drives the right joints.
public struct ActionMapper: Sendable {
    /// The manifest this mapper follows.
    public let manifest: Manifest
    /// Multiplier per actuated joint, in the manifest's order (`actuatedJoints`).
    public let scale: [Double]
    /// Offset per actuated joint, in the manifest's order (`actuatedJoints`).
    public let offset: [Double]
    /// For each element of the action vector (the policy's order), the index of its joint in the
    /// command (`manifest.actuatedJoints`).
    public let commandIndices: [Int]
    /// Feed-forward torque, kp and kd per actuated joint, in the manifest's order: read once here
    /// rather than from `manifest.actuatedJoints` (a filtered copy of the joints) at every tick.
    private let feedforward: [Double], kp: [Double], kd: [Double]

    /// Creates a mapper. `action.scale` and `action.offset` lists are in the policy's order (they
    /// line up with the action vector); the mapper stores them in the manifest's order.
    public init(manifest: Manifest) {
        self.manifest = manifest
        let joints = manifest.actuatedJoints
        let a = manifest.action
        let indices = manifest.policyActionIndices
        commandIndices = indices
        feedforward = joints.map(\.feedforward)
        kp = joints.map { $0.kp ?? 0 }
        kd = joints.map { $0.kd ?? 0 }
        func inManifestOrder(_ values: [Double]) -> [Double] {
            guard values.count != 1 else { return Array(repeating: values[0], count: joints.count) }
            var out = values
            for (k, j) in indices.enumerated() where k < values.count && j < out.count { out[j] = values[k] }
            return out
        }
        scale = inManifestOrder(a.scale)
        if let o = a.offset {
            offset = inManifestOrder(o)
        } else {
            offset = a.mode == .position ? joints.map(\.defaultPosition) : Array(repeating: 0, count: joints.count)
        }
    }

    /// The command for `action`. Throws on a wrong size or a NaN / infinite action (fail closed).
    public func command(for action: [Float]) throws -> JointCommand {
        guard action.count == scale.count else {
            throw TetherError("the policy returned \(action.count) actions, the manifest has \(scale.count) actuated joints")
        }
        guard commandIndices.count == scale.count else {
            throw TetherError("policy_joint_order names \(commandIndices.count) of the manifest's \(scale.count) actuated joints",
                              hint: "list every manifest joint once (Manifest.load checks this; a manifest built in code must too)")
        }
        let clip = Float(manifest.action.clip)
        var values = [Double](repeating: 0, count: action.count)
        for k in action.indices {
            let j = commandIndices[k]
            guard action[k].isFinite else {
                throw TetherError("the policy returned \(action[k]) for \(manifest.actuatedJoints[j].name) (action \(k))", hint: "the action is not applied")
            }
            values[j] = offset[j] + scale[j] * Double(min(clip, max(-clip, action[k])))
        }
        let zero = [Double](repeating: 0, count: values.count)
        switch manifest.action.mode {
        case .position:
            return JointCommand(positions: values, velocities: zero, torques: feedforward, kp: kp, kd: kd)
        case .effort:
            return JointCommand(positions: zero, velocities: zero, torques: values, kp: zero, kd: zero)
        }
    }

    /// ``command(for:)`` written into `command`'s arrays, allocating nothing once they are uniquely
    /// held and of the joints' size (the control loop's form). Same checks, same values.
    public func command(for action: [Float], into command: inout JointCommand) throws {
        let n = scale.count
        guard action.count == n else {
            throw TetherError("the policy returned \(action.count) actions, the manifest has \(n) actuated joints")
        }
        guard commandIndices.count == n else {
            throw TetherError("policy_joint_order names \(commandIndices.count) of the manifest's \(n) actuated joints",
                              hint: "list every manifest joint once (Manifest.load checks this; a manifest built in code must too)")
        }
        for k in 0..<n where !action[k].isFinite {
            throw TetherError("the policy returned \(action[k]) for \(manifest.actuatedJoints[commandIndices[k]].name) (action \(k))",
                              hint: "the action is not applied")
        }
        if command.count != n || command.velocities.count != n || command.torques.count != n || command.kp.count != n || command.kd.count != n {
            command = JointCommand.zeroTorque(count: n)
        }
        let clip = Float(manifest.action.clip)
        let position = manifest.action.mode == .position
        for k in 0..<n {
            let j = commandIndices[k]
            let value = offset[j] + scale[j] * Double(min(clip, max(-clip, action[k])))
            command.positions[j] = position ? value : 0
            command.torques[j] = position ? feedforward[j] : value
        }
        for j in 0..<n {
            command.velocities[j] = 0
            command.kp[j] = position ? kp[j] : 0
            command.kd[j] = position ? kd[j] : 0
        }
    }

    /// The raw action (the policy's order, unclipped) that yields `values` (targets or efforts per
    /// actuated joint, in the manifest's order): the inverse of `command(for:)` inside the clip.
    public func action(for values: [Double]) -> [Double] {
        commandIndices.map { j in (values[j] - offset[j]) / scale[j] }
    }
}
