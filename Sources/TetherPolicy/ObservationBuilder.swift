import Foundation
import TetherCore

/// Builds the policy's observation vector from robot state, exactly as the manifest says.
///
/// The same builder serves simulation, training and deployment, so what the policy saw in
/// training is what it sees on the robot. Each term is read, optionally perturbed by uniform
/// noise (training only, in the term's unit), multiplied by its scale, clipped, and appended; the
/// frame is then stacked with the previous `history - 1` frames, newest first.
public struct ObservationBuilder: Sendable {
    /// The manifest this builder follows.
    public let manifest: Manifest
    private var frames: [[Float]]

    /// Creates a builder with an empty (zero) history.
    public init(manifest: Manifest) {
        self.manifest = manifest
        frames = Array(repeating: [Float](repeating: 0, count: manifest.observationFrameSize), count: manifest.observation.history)
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
    ///   - lastAction: the previous raw action (policy output), actuated-joint order.
    ///   - noiseScale: multiplier on each term's noise (0 in deployment).
    /// - Parameter policyTime: time since the policy started, s (drives the `gait_phase` clock).
    public mutating func build(state: RobotState, command: SIMD3<Double> = .zero, lastAction: [Float], policyTime: Double = 0,
                               noiseScale: Double = 0, random: inout SeededRandom) throws -> [Float] {
        var frame = [Float]()
        frame.reserveCapacity(manifest.observationFrameSize)
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
        if !primed {  // first frame of an episode fills the whole history
            for i in frames.indices { frames[i] = frame }
            primed = true
        } else if frames.count > 1 {
            frames.removeLast()
            frames.insert(frame, at: 0)
        } else {
            frames[0] = frame
        }
        return frames.count == 1 ? frames[0] : frames.flatMap { $0 }
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
            return zip(state.jointPositions, manifest.joints).map { $0 - $1.defaultPosition }
        case .jointPositionsAbsolute:
            return state.jointPositions
        case .jointVelocities:
            return state.jointVelocities
        case .lastAction:
            guard lastAction.count == manifest.actionSize else {
                throw TetherError("last action has \(lastAction.count) values, the manifest \(manifest.actionSize)")
            }
            return lastAction.map(Double.init)
        case .footContacts:
            return state.footContacts.map { $0 ? 1 : 0 }
        case .headingError:
            let yaw = try need(state.yaw, "the base orientation")
            return [Rotation.wrap(yaw - (initialYaw ?? yaw) - command.z * policyTime)]
        case .gaitPhase:
            let phase = 2 * Double.pi * (manifest.observation.gaitFrequency ?? 0) * policyTime
            return [sin(phase), cos(phase)]
        }
    }
}

