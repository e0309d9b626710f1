import Foundation
import TetherCore

/// An open-loop trot for a Go1-class quadruped: foot trajectories in the sagittal plane of each
/// leg, turned into joint targets by two-link inverse kinematics, diagonal legs in phase.
///
/// For leg phase p ∈ [0, 1) (FR and RL at the gait phase, FL and RR half a cycle later), a duty
/// warp w(p) spends the fraction `dutyWarp` of the cycle in the first half of the ellipse; the
/// foot, relative to the thigh joint (x forward, z up), is at
///   x = x0 + (S/2) cos 2πw,   z = −h0 + H max(0, −sin(2πw + ψ)).
/// The lift is phase-advanced by ψ to make up for the lag of the soft PD (kp 25): without it the
/// same ellipse walks backwards. Parameters were found by a cross-entropy search in simulation
/// of the built-in quadruped (2.6 Hz, 0.105 m stride: about 0.5 m/s).
public struct TrotGait: Sendable, Codable, Equatable {
    public var frequency = 2.6
    public var stride = 0.105
    public var lift = 0.085
    public var liftPhase = -1.38
    public var dutyWarp = 0.45
    public var footForward = -0.02
    public var footDepth = 0.247
    /// Thigh and calf lengths, m.
    public var thighLength = 0.213
    public var calfLength = 0.213
    /// Heading feedback: each leg's stride is S (1 + steeringGain · side · heading error), side
    /// +1 for left legs and −1 for right legs, so a robot that turned left lengthens its left
    /// strides and turns back. 0 disables it.
    public var steeringGain = 2.0

    public init() {}

    /// Leg order FR, FL, RR, RL and their phase offsets (a trot).
    public static let legPhaseOffsets = [0.0, 0.5, 0.5, 0.0]

    /// Joint targets (hip, thigh, calf per leg; FR, FL, RR, RL) at gait phase φ (rad).
    public func jointTargets(phase phi: Double, strideScale: [Double] = [1, 1, 1, 1]) -> [Double] {
        var q: [Double] = []
        for (leg, offset) in Self.legPhaseOffsets.enumerated() {
            let stride = self.stride * strideScale[leg]
            var p = (phi / (2 * .pi) + offset).truncatingRemainder(dividingBy: 1)
            if p < 0 { p += 1 }
            let w = p < dutyWarp ? 0.5 * p / dutyWarp : 0.5 + 0.5 * (p - dutyWarp) / (1 - dutyWarp)
            let x = footForward + 0.5 * stride * cos(2 * .pi * w)
            let z = -footDepth + lift * max(0, -sin(2 * .pi * w + liftPhase))
            let (thigh, calf) = inverseKinematics(x: x, z: z)
            _ = leg
            q += [0, thigh, calf]
        }
        return q
    }

    /// Two-link inverse kinematics in the leg's sagittal plane: thigh and calf angles that put the
    /// foot at (x, z) from the thigh joint, knee backwards (calf < 0).
    public func inverseKinematics(x: Double, z: Double) -> (thigh: Double, calf: Double) {
        let l1 = thighLength, l2 = calfLength
        let c = max(-1, min(1, (x * x + z * z - l1 * l1 - l2 * l2) / (2 * l1 * l2)))
        let calf = -acos(c)
        let thigh = atan2(-x, -z) - atan2(l2 * sin(calf), l1 + l2 * cos(calf))
        return (thigh, calf)
    }

    /// The gait as a trajectory generator for `manifest` (actions relative to its default pose and
    /// action scale), with `harmonics` Fourier terms, and the largest fit error in radians.
    public func generator(for manifest: Manifest, harmonics: Int = 8) throws -> (TrajectoryGenerator, maxErrorRadians: Double) {
        guard let phaseTerm = manifest.observation.terms.firstIndex(where: { $0.source == .gaitPhase }) else {
            throw TetherError("the manifest has no gait_phase observation term for the gait's clock", at: manifest.sourcePath)
        }
        let clock = manifest.observation.gaitFrequency ?? manifest.observation.gaitPeriod.map { 1 / $0 }
        guard let f = clock, abs(f - frequency) < 1e-9 else {
            throw TetherError("the manifest's gait clock \(clock ?? 0) Hz differs from the gait's \(frequency) Hz",
                              at: manifest.sourcePath)
        }
        guard manifest.observation.history == 1 || manifest.observation.historyLayout == .frameNewestFirst else {
            throw TetherError("the trot's generator reads the clock from the newest frame first; history_layout "
                + "\(manifest.observation.historyLayout.rawValue) puts it elsewhere",
                              at: manifest.sourcePath, hint: "use the default history_layout (frame_newest_first) for a policy with a trot generator")
        }
        guard manifest.action.mode == .position, manifest.actionSize == 12 else {
            throw TetherError("the trot needs 12 position-controlled joints (hip, thigh, calf per leg)", at: manifest.sourcePath)
        }
        guard manifest.observation.terms[phaseTerm].scale == [1] else {
            throw TetherError("the gait_phase term must not be scaled", at: manifest.sourcePath)
        }
        let phaseIndex = manifest.observation.terms[..<phaseTerm].reduce(0) { $0 + manifest.termSize($1.source) }
        let mapper = ActionMapper(manifest: manifest)
        func actions(_ q: [Double]) -> [Double] { mapper.action(for: q) }
        var (g, error) = TrajectoryGenerator.fit(phaseIndex: phaseIndex, harmonics: harmonics, actions: 12) { actions(jointTargets(phase: $0)) }
        if steeringGain != 0 {
            guard let headingTerm = manifest.observation.terms.firstIndex(where: { $0.source == .headingError }) else {
                throw TetherError("the trot's heading feedback needs a heading_error observation term", at: manifest.sourcePath,
                                  hint: "add {source: heading_error} to observation.terms, or set the steering gain to 0")
            }
            let headingIndex = manifest.observation.terms[..<headingTerm].reduce(0) { $0 + manifest.termSize($1.source) }
            let headingScale = manifest.observation.terms[headingTerm].scale[0]
            // Linearize the stride change around zero heading error: d(action)/dh by a central difference.
            let epsilon = 0.01
            let sides = [-1.0, 1.0, -1.0, 1.0]  // FR, FL, RR, RL
            let (w, o) = TrajectoryGenerator.fourier(harmonics: harmonics, actions: 12) { phi in
                let plus = actions(jointTargets(phase: phi, strideScale: sides.map { 1 + steeringGain * $0 * epsilon }))
                let minus = actions(jointTargets(phase: phi, strideScale: sides.map { 1 - steeringGain * $0 * epsilon }))
                // Per unit of the observed (scaled) heading error.
                return zip(plus, minus).map { ($0 - $1) / (2 * epsilon * headingScale) }
            }
            g.steering = .init(headingIndex: headingIndex, weights: w, offsets: o)
        }
        return (g, error * (mapper.scale.max() ?? 1))
    }
}
