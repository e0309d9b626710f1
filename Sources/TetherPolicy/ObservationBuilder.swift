import Foundation
import TetherCore

/// Builds the policy's observation vector from robot state, exactly as the manifest says.
///
/// The same builder serves simulation, training and deployment, so what the policy saw in
/// training is what it sees on the robot. Each term is read, optionally perturbed by uniform
/// noise (training only, in the term's unit), multiplied by its scale, clipped, and appended; the
/// frame is then stacked with the previous frames in the manifest's history layout (by default
/// the previous `history - 1` frames, newest first). Joint terms list the joints in the policy's
/// order (`policy_joint_order`), which may differ from the robot state's.
public struct ObservationBuilder: Sendable {
    /// The manifest this builder follows.
    public let manifest: Manifest
    /// Past frames, newest first; as many as the longest history of any term.
    private var frames: [[Float]]
    /// For each joint in the policy's order, its index in the robot state's arrays.
    private let jointIndices: [Int]
    /// Default positions in the policy's joint order.
    private let policyDefaults: [Double]
    /// Where each term starts in a frame, and how many past values of it the policy reads.
    private let termOffsets: [Int], termHistories: [Int]
    /// `manifest.observationFrameSize` and `manifest.actionSize`, computed once (each filters the
    /// manifest's joints).
    private let frameSize: Int, actionSize: Int

    /// Creates a builder with an empty (zero) history.
    public init(manifest: Manifest) {
        self.manifest = manifest
        jointIndices = manifest.policyJointIndices
        policyDefaults = jointIndices.map { manifest.joints[$0].defaultPosition }
        var offsets: [Int] = [], offset = 0
        for term in manifest.observation.terms {
            offsets.append(offset)
            offset += manifest.termSize(term.source)
        }
        termOffsets = offsets
        frameSize = manifest.observationFrameSize
        actionSize = manifest.actionSize
        let observation = manifest.observation
        termHistories = observation.terms.map { observation.historyLayout.isPerTerm ? observation.history(of: $0) : observation.history }
        let depth = max(1, termHistories.max() ?? observation.history)
        frames = Array(repeating: [Float](repeating: 0, count: manifest.observationFrameSize), count: depth)
    }

    /// Size of the vector `build` returns.
    public var size: Int { manifest.observationSize }

    /// Clears the history (at an episode start) so stale frames never leak into a new episode.
    public mutating func reset() {
        for i in frames.indices { for k in frames[i].indices { frames[i][k] = 0 } }
        primed = false
        initialYaw = nil
    }

    private var primed = false
    /// Yaw when the policy started (the heading reference), set by the first frame.
    private var initialYaw: Double?

    /// Builds the observation for `state`. Throws when the state holds NaN or infinity (a sensor
    /// fault must never reach the policy), naming the term and element.
    /// - Parameters:
    ///   - command: velocity command (vx m/s, vy m/s, yaw rate rad/s).
    ///   - lastAction: the previous raw action (policy output), in the policy's joint order.
    ///   - noiseScale: multiplier on each term's noise (0 in deployment).
    /// - Parameter policyTime: time since the policy started, s (drives the `gait_phase` clock).
    public mutating func build(state: RobotState, command: SIMD3<Double> = .zero, lastAction: [Float], policyTime: Double = 0,
                               noiseScale: Double = 0, random: inout SeededRandom) throws -> [Float] {
        var frame = [Float]()
        frame.reserveCapacity(frameSize)
        if initialYaw == nil { initialYaw = state.yaw }
        for term in manifest.observation.terms {
            let values = try read(term.source, state: state, command: command, lastAction: lastAction, policyTime: policyTime)
            for (k, raw) in values.enumerated() {
                guard raw.isFinite else {
                    throw TetherError("observation \(term.source.rawValue)[\(k)] is \(raw)", at: "robot state at t = \(state.time) s",
                                      hint: "a sensor returned an invalid value; the policy is not run on it")
                }
                var v = raw
                if noiseScale > 0 && term.noise > 0 { v += random.uniform(-1, 1) * term.noise * noiseScale }
                v *= term.scale.count == 1 ? term.scale[0] : term.scale[k]
                if let clip = term.clip { v = min(clip, max(-clip, v)) }
                frame.append(Float(v))
            }
        }
        guard frame.count == frameSize else {
            throw TetherError("the observation frame has \(frame.count) values, the manifest's terms \(frameSize)",
                              at: "robot state at t = \(state.time) s", hint: "the robot state and the manifest disagree (joints or foot contact sensors)")
        }
        if !primed {  // first frame of an episode fills the whole history
            for i in frames.indices { frames[i] = frame }
            primed = true
        } else if frames.count > 1 {
            frames.removeLast()
            frames.insert(frame, at: 0)
        } else {
            frames[0] = frame
        }
        if frames.count == 1 { return frames[0] }
        return stacked()
    }

    /// The history in the manifest's layout (`frames` holds it newest first).
    private func stacked() -> [Float] {
        switch manifest.observation.historyLayout {
        case .frameNewestFirst:
            return frames.flatMap { $0 }
        case .frameOldestFirst:
            return frames.reversed().flatMap { $0 }
        case .termOldestFirst, .termNewestFirst:
            let oldestFirst = manifest.observation.historyLayout == .termOldestFirst
            var out = [Float]()
            out.reserveCapacity(manifest.observationSize)
            for (t, term) in manifest.observation.terms.enumerated() {
                let range = termOffsets[t]..<(termOffsets[t] + manifest.termSize(term.source))
                let depth = termHistories[t]
                for k in 0..<depth {
                    out.append(contentsOf: frames[oldestFirst ? depth - 1 - k : k][range])
                }
            }
            return out
        }
    }

    private func read(_ source: Manifest.Observation.Source, state: RobotState, command: SIMD3<Double>, lastAction: [Float],
                      policyTime: Double) throws -> [Double] {
        func need<T>(_ value: T?, _ what: String) throws -> T {
            guard let value else {
                throw TetherError("observation \(source.rawValue) needs \(what), which the robot state does not have",
                                  hint: "a fixed-base robot or a backend without an IMU cannot serve this term")
            }
            return value
        }
        switch source {
        case .baseLinearVelocity:
            let v = try need(state.baseLinearVelocity, "the base linear velocity")
            return [v.x, v.y, v.z]
        case .baseAngularVelocity:
            let w = try need(state.baseAngularVelocity, "the IMU gyro")
            return [w.x, w.y, w.z]
        case .projectedGravity:
            let g = try need(state.projectedGravity, "the base orientation")
            return [g.x, g.y, g.z]
        case .velocityCommand:
            return [command.x, command.y, command.z]
        case .jointPositions:
            try checkJoints(state.jointPositions, "positions")
            return zip(jointIndices, policyDefaults).map { state.jointPositions[$0] - $1 }
        case .jointPositionsAbsolute:
            try checkJoints(state.jointPositions, "positions")
            return jointIndices.map { state.jointPositions[$0] }
        case .jointVelocities:
            try checkJoints(state.jointVelocities, "velocities")
            return jointIndices.map { state.jointVelocities[$0] }
        case .lastAction:
            guard lastAction.count == actionSize else {
                throw TetherError("last action has \(lastAction.count) values, the manifest \(actionSize)")
            }
            return lastAction.map(Double.init)
        case .footContacts:
            return state.footContacts.map { $0 ? 1 : 0 }
        case .headingError:
            let yaw = try need(state.yaw, "the base orientation")
            return [Rotation.wrap(yaw - (initialYaw ?? yaw) - command.z * policyTime)]
        case .gaitPhase:
            let observation = manifest.observation
            let t = policyTime + observation.gaitClockStart
            let phase: Double
            if let period = observation.gaitPeriod {
                // (t mod T) / T, as unitree_rl_gym computes it; the remainder keeps precision in long runs.
                var r = t.truncatingRemainder(dividingBy: period)
                if r < 0 { r += period }
                phase = 2 * Double.pi * (r / period)
            } else {
                phase = 2 * Double.pi * (observation.gaitFrequency ?? 0) * t
            }
            return [sin(phase), cos(phase)]
        }
    }

    /// Throws when the robot state's joint arrays do not have one value per manifest joint.
    private func checkJoints(_ values: [Double], _ what: String) throws {
        guard jointIndices.count == manifest.joints.count else {
            throw TetherError("policy_joint_order names \(jointIndices.count) of the manifest's \(manifest.joints.count) joints",
                              hint: "list every manifest joint once (Manifest.load checks this; a manifest built in code must too)")
        }
        guard values.count == manifest.joints.count else {
            throw TetherError("the robot state has \(values.count) joint \(what), the manifest \(manifest.joints.count) joints",
                              hint: "the backend and the manifest disagree on the robot's joints")
        }
    }
}

