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
    /// Past frames in a ring of `depth` slots of `frameSize` values (as many frames as the
    /// longest history of any term); the newest frame is in slot `newest`, the k-th newest in
    /// slot `(newest + k) % depth`. A ring, so that a tick moves no frame and allocates nothing.
    private var history: [Float]
    private var newest = 0
    private let depth: Int
    /// Values in one frame, and in the vector `build` returns (cached: the manifest computes them
    /// with temporary arrays).
    private let frameSize: Int
    /// Size of the vector `build` returns.
    public let size: Int
    /// The frame being built, reused from tick to tick.
    private var scratch: [Float]
    /// For each joint in the policy's order, its index in the robot state's arrays.
    private let jointIndices: [Int]
    /// Default positions in the policy's joint order.
    private let policyDefaults: [Double]
    /// Where each term starts in a frame, how many values it has, and how many past values of it the policy reads.
    private let termOffsets: [Int], termSizes: [Int], termHistories: [Int]
    private let actionSize: Int

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
        termSizes = manifest.observation.terms.map { manifest.termSize($0.source) }
        let observation = manifest.observation
        termHistories = observation.terms.map { observation.historyLayout.isPerTerm ? observation.history(of: $0) : observation.history }
        depth = max(1, termHistories.max() ?? observation.history)
        frameSize = manifest.observationFrameSize
        size = manifest.observationSize
        actionSize = manifest.actionSize
        history = [Float](repeating: 0, count: depth * frameSize)
        scratch = [Float](repeating: 0, count: frameSize)
    }

    /// Clears the history (at an episode start) so stale frames never leak into a new episode.
    public mutating func reset() {
        for k in history.indices { history[k] = 0 }
        newest = 0
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
        var out = [Float](repeating: 0, count: size)
        try out.withUnsafeMutableBufferPointer { buffer in
            try build(state: state, command: command, lastAction: lastAction, policyTime: policyTime, noiseScale: noiseScale, random: &random,
                      into: buffer)
        }
        return out
    }

    /// Builds the observation for `state` into `output` (`size` values), allocating nothing: the
    /// control loop's form of ``build(state:command:lastAction:policyTime:noiseScale:random:)``,
    /// with the same checks and the same result. On a throw the history is left as it was.
    public mutating func build(state: RobotState, command: SIMD3<Double> = .zero, lastAction: [Float], policyTime: Double = 0,
                               noiseScale: Double = 0, random: inout SeededRandom, into output: UnsafeMutableBufferPointer<Float>) throws {
        guard output.count == size else {
            throw TetherError("the observation buffer holds \(output.count) values, the manifest's observation \(size)", at: "ObservationBuilder.build",
                              hint: "size the buffer with ObservationBuilder.size")
        }
        if initialYaw == nil { initialYaw = state.yaw }
        // The frame is built in the scratch buffer, taken out of `self` while it is written.
        var frame = scratch
        scratch = []
        defer { scratch = frame }
        var index = 0
        let terms = manifest.observation.terms
        for t in 0..<terms.count {
            try write(terms[t], size: termSizes[t], state: state, command: command, lastAction: lastAction, policyTime: policyTime,
                      noiseScale: noiseScale, random: &random, frame: &frame, index: &index)
        }
        guard index == frameSize else {
            throw TetherError("the observation frame has \(index) values, the manifest's terms \(frameSize)",
                              at: "robot state at t = \(state.time) s", hint: "the robot state and the manifest disagree (joints or foot contact sensors)")
        }
        var ring = history
        history = []
        defer { history = ring }
        if !primed {  // first frame of an episode fills the whole history
            for slot in 0..<depth { for k in 0..<frameSize { ring[slot * frameSize + k] = frame[k] } }
            newest = 0
            primed = true
        } else {
            newest = (newest + depth - 1) % depth   // the oldest slot becomes the newest
            for k in 0..<frameSize { ring[newest * frameSize + k] = frame[k] }
        }
        // The history in the manifest's layout; slot (newest + k) % depth holds the k-th newest frame.
        let newest = newest, depth = depth, frameSize = frameSize
        var o = 0
        switch manifest.observation.historyLayout {
        case .frameNewestFirst, .frameOldestFirst:
            let oldestFirst = manifest.observation.historyLayout == .frameOldestFirst
            for j in 0..<depth {
                let start = ((newest + (oldestFirst ? depth - 1 - j : j)) % depth) * frameSize
                for k in 0..<frameSize { output[o + k] = ring[start + k] }
                o += frameSize
            }
        case .termOldestFirst, .termNewestFirst:
            let oldestFirst = manifest.observation.historyLayout == .termOldestFirst
            for t in termOffsets.indices {
                let h = termHistories[t]
                for j in 0..<h {
                    let start = ((newest + (oldestFirst ? h - 1 - j : j)) % depth) * frameSize + termOffsets[t]
                    for k in 0..<termSizes[t] { output[o + k] = ring[start + k] }
                    o += termSizes[t]
                }
            }
        }
    }

    /// Appends one value of a term to the frame: checked finite, noise (training only), scale, clip.
    @inline(__always)
    private func put(_ raw: Double, _ k: Int, _ term: Manifest.Observation.Term, state: RobotState, noiseScale: Double,
                     random: inout SeededRandom, frame: inout [Float], index: inout Int) throws {
        guard raw.isFinite else {
            throw TetherError("observation \(term.source.rawValue)[\(k)] is \(raw)", at: "robot state at t = \(state.time) s",
                              hint: "a sensor returned an invalid value; the policy is not run on it")
        }
        guard index < frame.count else { index += 1; return }   // too many values: counted, reported by the caller
        var v = raw
        if noiseScale > 0 && term.noise > 0 { v += random.uniform(-1, 1) * term.noise * noiseScale }
        v *= term.scale.count == 1 ? term.scale[0] : term.scale[k]
        if let clip = term.clip { v = min(clip, max(-clip, v)) }
        frame[index] = Float(v)
        index += 1
    }

    /// Writes one term's values into the frame at `index`, reading the state as `read` does.
    private func write(_ term: Manifest.Observation.Term, size: Int, state: RobotState, command: SIMD3<Double>, lastAction: [Float],
                       policyTime: Double, noiseScale: Double, random: inout SeededRandom, frame: inout [Float], index: inout Int) throws {
        switch term.source {
        case .jointPositions, .jointPositionsAbsolute, .jointVelocities:
            let velocities = term.source == .jointVelocities
            try checkJoints(velocities ? state.jointVelocities : state.jointPositions, velocities ? "velocities" : "positions")
            let values = velocities ? state.jointVelocities : state.jointPositions
            let relative = term.source == .jointPositions
            for k in 0..<jointIndices.count {
                let v = values[jointIndices[k]] - (relative ? policyDefaults[k] : 0)
                try put(v, k, term, state: state, noiseScale: noiseScale, random: &random, frame: &frame, index: &index)
            }
        case .lastAction:
            guard lastAction.count == actionSize else {
                throw TetherError("last action has \(lastAction.count) values, the manifest \(actionSize)")
            }
            for k in 0..<lastAction.count {
                try put(Double(lastAction[k]), k, term, state: state, noiseScale: noiseScale, random: &random, frame: &frame, index: &index)
            }
        case .footContacts:
            for k in 0..<state.footContacts.count {
                try put(state.footContacts[k] ? 1 : 0, k, term, state: state, noiseScale: noiseScale, random: &random, frame: &frame, index: &index)
            }
        default:
            let v = try read3(term.source, state: state, command: command, policyTime: policyTime)
            for k in 0..<Int(v.count) {
                try put(v.values[k], k, term, state: state, noiseScale: noiseScale, random: &random, frame: &frame, index: &index)
            }
        }
    }

    /// The terms of at most three values, without an array.
    private func read3(_ source: Manifest.Observation.Source, state: RobotState, command: SIMD3<Double>,
                       policyTime: Double) throws -> (values: SIMD3<Double>, count: Int) {
        switch source {
        case .jointPositions, .jointPositionsAbsolute, .jointVelocities, .lastAction, .footContacts:
            preconditionFailure("\(source.rawValue) is written by write(_:), not read3")
        case .gaitPhase:
            let phase = gaitPhase(policyTime: policyTime)
            return (SIMD3(sin(phase), cos(phase), 0), 2)
        case .headingError:
            let yaw = try need(state.yaw, source, "the base orientation")
            return (SIMD3(Rotation.wrap(yaw - (initialYaw ?? yaw) - command.z * policyTime), 0, 0), 1)
        case .baseLinearVelocity:
            return (try need(state.baseLinearVelocity, source, "the base linear velocity"), 3)
        case .baseAngularVelocity:
            return (try need(state.baseAngularVelocity, source, "the IMU gyro"), 3)
        case .projectedGravity:
            return (try need(state.projectedGravity, source, "the base orientation"), 3)
        case .velocityCommand:
            return (command, 3)
        }
    }

    private func need<T>(_ value: T?, _ source: Manifest.Observation.Source, _ what: String) throws -> T {
        guard let value else {
            throw TetherError("observation \(source.rawValue) needs \(what), which the robot state does not have",
                              hint: "a fixed-base robot or a backend without an IMU cannot serve this term")
        }
        return value
    }

    /// The gait clock's phase, rad, at `policyTime`.
    private func gaitPhase(policyTime: Double) -> Double {
        let observation = manifest.observation
        let t = policyTime + observation.gaitClockStart
        if let period = observation.gaitPeriod {
            // (t mod T) / T, as unitree_rl_gym computes it; the remainder keeps precision in long runs.
            var r = t.truncatingRemainder(dividingBy: period)
            if r < 0 { r += period }
            return 2 * Double.pi * (r / period)
        }
        return 2 * Double.pi * (observation.gaitFrequency ?? 0) * t
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

