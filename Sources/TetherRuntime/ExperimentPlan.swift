import Foundation
import TetherCore

/// The chapter's system-identification experiments, planned from a manifest.
///
/// A plan is a list of timed segments known before the start (so the duration is known and said
/// before anything moves); `ExperimentRunner` runs it in a fixed-rate loop behind the safety
/// wrapper and records everything as MCAP. What each kind records, and what calibration gets
/// from it:
///
/// | kind | robot | segments | calibration |
/// |---|---|---|---|
/// | `stationary` | as it is (a floating base lying; the pose it lies in held) | 2 s settle, then
/// still for `seconds` | IMU and encoder noise, bias, Allan deviation |
/// | `sweep` | hung | per joint, per speed: constant-velocity sweeps over the same range up and down | Coulomb + viscous (+ Stribeck) friction |
/// | `torque-step` | hung | per joint: four doublets of pure torque ±Δ (50 ms each, gains off), PD hold between | motor time constant and dead time |
/// | `pendulum` | hung | per joint: settle with the joint free (damped), hold at equilibrium +
/// amplitude, release | link inertia about the joint (damped sinusoid) and damping |
/// | `chirp` | hung | multisine position targets on the joints around the default pose | trajectory fitting, latency |
///
/// "Hung": a floating-base robot's experiments other than `stationary` need its legs in the air
/// (a gantry or a stand). The simulated and virtual robots hang themselves
/// (`SimRobot.hang(height:)`); a real robot must be hung by its operator.
public enum ExperimentKind: String, CaseIterable, Sendable, Codable {
    case stationary, sweep
    case torqueStep = "torque-step"
    case pendulum, chirp

    /// Whether a floating-base robot must be hung for this experiment.
    public var needsHanging: Bool { self != .stationary }
}

/// Choices for an experiment; every field has a default suited to a Go1-class robot.
public struct ExperimentOptions: Sendable, Equatable {
    /// Joints to excite (names); empty: the kind's default (see `ExperimentPlan`).
    public var joints: [String] = []
    /// Duration of a stationary recording or a chirp, s (nil: 60 s stationary, 12 s chirp).
    public var seconds: Double?
    /// Sweep speeds, rad/s (each run up and down).
    public var speeds: [Double] = [0.5, 1.0, 2.0]
    /// Half-width of the swept range around the default position, rad (clipped to the soft limits).
    public var sweepRange: Double = 0.6
    /// Size of a torque step, N·m.
    public var stepTorque: Double = 2.0
    /// Pendulum release offset from the hanging equilibrium, rad.
    public var pendulumAmplitude: Double = 0.6
    /// Free swing after the release, s.
    public var swingSeconds: Double = 5
    /// Chirp amplitude per joint, rad, and its frequency band, Hz.
    public var chirpAmplitude: Double = 0.15
    public var chirpBand: ClosedRange<Double> = 0.3...4.0
    /// Seed of the multisine phases.
    public var seed: UInt64 = 1
    /// Base height of a hung robot, m (recorded as `hung_at`; the sim and emulator hang it there).
    public var hangHeight: Double = 0.8
    public init() {}
}

/// A timed experiment: segments with their durations, the joints they move, and the command of
/// each tick. Stateful only where the experiment must react to the robot (the pendulum's
/// equilibrium is measured, not assumed).
public struct ExperimentPlan: Sendable {
    public let kind: ExperimentKind
    public let manifest: Manifest
    public let options: ExperimentOptions
    /// Joints excited (actuated-joint indices) and their names.
    public let joints: [Int]
    public let jointNames: [String]
    /// The segments in order.
    public let segments: [Segment]
    /// Whether the robot must be hung.
    public let hung: Bool

    /// One part of the experiment.
    public struct Segment: Sendable, Equatable {
        public enum Action: Sendable, Equatable {
            /// Zero torque on every joint (the robot as it lies).
            case passive
            /// PD hold of the default pose.
            case hold
            /// PD hold of the pose measured when the first such segment began (a robot lying or
            /// standing still with its motors on).
            case holdCurrent
            /// Cosine move of one joint from where it was to a target, the others held.
            case move(joint: Int, to: Target)
            /// Constant-velocity sweep of one joint, `from` → `to` (rad) at `speed` rad/s.
            case sweep(joint: Int, from: Double, to: Double, speed: Double)
            /// A pure torque on one joint (its gains off), the others held.
            case torque(joint: Int, torque: Double)
            /// One joint free with a damping gain only (the others held); the end of it measures
            /// the joint's hanging equilibrium.
            case settle(joint: Int, kd: Double)
            /// One joint with zero gains (free swing), the others held.
            case release(joint: Int)
            /// Multisine position targets around the default pose.
            case multisine(joints: [Int], amplitude: Double, frequencies: [Double], phases: [[Double]])
        }
        /// Where a move goes.
        public enum Target: Sendable, Equatable {
            case absolute(Double)
            /// The equilibrium the last settle measured, plus an offset.
            case settled(offset: Double)
        }
        public var label: String
        public var start: Double
        public var duration: Double
        public var action: Action
    }

    /// Total duration, s.
    public var duration: Double { segments.last.map { $0.start + $0.duration } ?? 0 }

    /// Plans an experiment; bad joint names or options get a clear error.
    public init(kind: ExperimentKind, manifest: Manifest, options: ExperimentOptions = ExperimentOptions()) throws {
        self.kind = kind
        self.manifest = manifest
        self.options = options
        let actuated = manifest.actuatedJoints
        let floating = manifest.base != nil
        hung = floating && kind.needsHanging
        let names = actuated.map(\.name)
        var chosen: [Int] = []
        for name in options.joints {
            guard let i = names.firstIndex(of: name) else {
                let near = names.filter { $0.lowercased().contains(name.lowercased()) || name.lowercased().contains($0.lowercased()) }
                throw TetherError("joint '\(name)' is not an actuated joint of \(manifest.name)", at: "--joints",
                                  hint: near.isEmpty ? "actuated joints: \(names.joined(separator: ", "))" : "did you mean \(near.joined(separator: ", "))?")
            }
            chosen.append(i)
        }
        if chosen.isEmpty {
            // Defaults: one leg (the first three actuated joints) for a legged robot, every
            // actuated joint otherwise; one joint for the pendulum (the second: a thigh).
            switch kind {
            case .stationary: chosen = Array(actuated.indices)
            case .pendulum: chosen = [floating && actuated.count > 1 ? 1 : 0]
            default: chosen = floating ? Array(actuated.indices.prefix(3)) : Array(actuated.indices)
            }
        }
        for v in options.speeds where !(v.isFinite && v > 0) {
            throw TetherError("sweep speed \(v) is not a positive number", at: "--speeds", hint: "speeds in rad/s, e.g. 0.5,1,2")
        }
        guard options.stepTorque.isFinite, options.stepTorque > 0 else {
            throw TetherError("torque step \(options.stepTorque) is not a positive number", at: "--step-torque", hint: "N·m, e.g. 2")
        }
        if let s = options.seconds, !(s.isFinite && s > 0) {
            throw TetherError("duration \(s) is not a positive number", at: "--seconds", hint: "seconds, e.g. 60")
        }
        joints = chosen
        jointNames = chosen.map { names[$0] }

        var segments: [Segment] = []
        var t = 0.0
        func add(_ label: String, _ duration: Double, _ action: Segment.Action) {
            segments.append(Segment(label: label, start: t, duration: duration, action: action))
            t += duration
        }
        let margin = manifest.safety.positionMargin + 0.05
        func range(_ j: Int) -> (Double, Double) {
            let joint = actuated[j]
            let lo = max(joint.positionLimits.lowerBound + margin, joint.defaultPosition - options.sweepRange)
            let hi = min(joint.positionLimits.upperBound - margin, joint.defaultPosition + options.sweepRange)
            return (lo, hi)
        }
        switch kind {
        case .stationary:
            let seconds = options.seconds ?? 60
            if floating {
                // Powered off, a lying quadruped slowly rolls on its hips: hold the pose it lies in.
                add("settle, holding the pose it lies in", 2, .holdCurrent)
                add("still", seconds, .holdCurrent)
            } else {
                add("settle", 2, .hold)
                add("still", seconds, .hold)
            }
        case .sweep:
            add("hold", 1, .hold)
            for j in chosen {
                let (lo, hi) = range(j)
                guard hi - lo > 0.1 else {
                    throw TetherError("joint '\(names[j])' has no room to sweep between its soft limits", at: manifest.sourcePath ?? manifest.name,
                                      hint: "check its limits and default position")
                }
                add("\(names[j]) to start", 1, .move(joint: j, to: .absolute(lo)))
                for v in options.speeds.sorted() {
                    let d = (hi - lo) / v
                    add("\(names[j]) up at \(v) rad/s", d, .sweep(joint: j, from: lo, to: hi, speed: v))
                    add("pause", 0.3, .move(joint: j, to: .absolute(hi)))
                    add("\(names[j]) down at \(v) rad/s", d, .sweep(joint: j, from: hi, to: lo, speed: v))
                    add("pause", 0.3, .move(joint: j, to: .absolute(lo)))
                }
                add("\(names[j]) back", 1, .move(joint: j, to: .absolute(actuated[j].defaultPosition)))
            }
        case .torqueStep:
            add("hold", 1, .hold)
            for j in chosen {
                // Doublets of pure torque (the joint's gains off): +Δ then −Δ, 50 ms each, so the
                // joint moves a few hundredths of a radian and ends nearly at rest; the measured
                // torque is then the driver's response to a known command, with no PD in the way.
                for sign in [1.0, -1.0, 1.0, -1.0] {
                    let first = sign * options.stepTorque
                    add("\(names[j]) step \(first > 0 ? "+" : "−")\(options.stepTorque) N·m", 0.05, .torque(joint: j, torque: first))
                    add("\(names[j]) step \(first > 0 ? "−" : "+")\(options.stepTorque) N·m", 0.05, .torque(joint: j, torque: -first))
                    add("\(names[j]) hold", 0.6, .hold)
                }
            }
        case .pendulum:
            add("hold", 1, .hold)
            for j in chosen {
                add("\(names[j]) settles free (damped)", 3, .settle(joint: j, kd: 0.15))
                add("\(names[j]) to equilibrium + \(options.pendulumAmplitude) rad", 1, .move(joint: j, to: .settled(offset: options.pendulumAmplitude)))
                add("hold (static torque)", 1, .move(joint: j, to: .settled(offset: options.pendulumAmplitude)))
                add("\(names[j]) released", options.swingSeconds, .release(joint: j))
                add("\(names[j]) damped", 1, .settle(joint: j, kd: 0.5))
                add("\(names[j]) back", 1.5, .move(joint: j, to: .absolute(actuated[j].defaultPosition)))
            }
        case .chirp:
            let seconds = options.seconds ?? 12
            let band = options.chirpBand
            guard band.lowerBound > 0, band.upperBound.isFinite else {
                throw TetherError("chirp band \(band) is not a positive range", at: "--band", hint: "Hz, e.g. 0.3...4")
            }
            // Log-spaced frequencies, Schroeder-like random phases per joint (low crest factor,
            // joints decorrelated so that their effects can be told apart).
            let count = 12
            let f = (0..<count).map { band.lowerBound * pow(band.upperBound / band.lowerBound, Double($0) / Double(count - 1)) }
            var random = SeededRandom(seed: options.seed, stream: 7)
            let phases = chosen.map { _ in f.map { _ in random.uniform(0, 2 * .pi) } }
            add("hold", 1, .hold)
            add("multisine \(jointNames.joined(separator: ", "))", seconds,
                .multisine(joints: chosen, amplitude: options.chirpAmplitude, frequencies: f, phases: phases))
            add("hold", 1, .hold)
        }
        if kind != .stationary { add("hold", 0.5, .hold) }
        self.segments = segments
    }

    /// Metadata recorded with the experiment (calibration reads it back).
    public var metadata: [String: String] {
        var m = ["tether.experiment.kind": kind.rawValue,
                 "tether.experiment.joints": jointNames.joined(separator: ","),
                 "tether.experiment.hung": hung ? "true" : "false",
                 "tether.experiment.robot": manifest.name]
        if hung { m["tether.experiment.hung_at"] = "\(options.hangHeight)" }
        switch kind {
        case .sweep: m["tether.experiment.speeds"] = options.speeds.map { "\($0)" }.joined(separator: ",")
        case .torqueStep: m["tether.experiment.step_torque"] = "\(options.stepTorque)"
        case .pendulum: m["tether.experiment.amplitude"] = "\(options.pendulumAmplitude)"
        case .chirp:
            m["tether.experiment.amplitude"] = "\(options.chirpAmplitude)"
            m["tether.experiment.band"] = "\(options.chirpBand.lowerBound),\(options.chirpBand.upperBound)"
        case .stationary: break
        }
        // Segment boundaries, for analyses that need them: "label@start+duration;…".
        m["tether.experiment.segments"] = segments.map { String(format: "%@@%.4f+%.4f", $0.label, $0.start, $0.duration) }
            .joined(separator: ";")
        return m
    }

    /// Human-readable lines: what will happen and how long it takes.
    public var summary: [String] {
        var lines = ["\(kind.rawValue) on \(manifest.name): \(jointNames.joined(separator: ", "))",
                     String(format: "duration %.1f s (%d segments)%@", duration, segments.count,
                            hung ? "; the robot must be HUNG (legs free in the air)" : "")]
        for s in segments.prefix(12) { lines.append(String(format: "  %7.2f s  %5.2f s  %@", s.start, s.duration, s.label)) }
        if segments.count > 12 { lines.append("  … \(segments.count - 12) more") }
        return lines
    }

    /// The segment at time `t` (the last one after the end).
    public func segment(at t: Double) -> Int? {
        guard !segments.isEmpty else { return nil }
        return segments.lastIndex { $0.start <= t + 1e-9 } ?? 0
    }
}

/// Runs a plan tick by tick: turns the plan's segments into commands, reacting to the measured
/// state where the plan says so (the pendulum's equilibrium, the start of a move).
public struct ExperimentController: Sendable {
    public let plan: ExperimentPlan
    private var current: Int?
    /// Position of each actuated joint when the current segment began (moves start there).
    private var segmentStart: [Double] = []
    /// The equilibrium measured at the end of the last settle, per joint.
    private var settled: [Int: Double] = [:]
    /// Positions seen during the end of the current settle.
    private var settleSamples: [Double] = []
    /// The last command (held between segments).
    private var holdPositions: [Double]
    /// The pose `holdCurrent` holds.
    private var captured: [Double]?
    /// The actuated joints, and their indices among all joints (state order), computed once.
    private let actuated: [Manifest.Joint]
    private let actuatedIndex: [Int]

    public init(plan: ExperimentPlan) {
        self.plan = plan
        let hold = plan.manifest.defaultPoseCommand
        holdPositions = hold.positions
        actuated = plan.manifest.actuatedJoints
        actuatedIndex = plan.manifest.joints.indices.filter { plan.manifest.joints[$0].actuator != nil }
    }

    /// The equilibrium measured for a joint by its settle segment, if any.
    public func equilibrium(joint: Int) -> Double? { settled[joint] }

    /// The command at `t` (seconds from the start), given the latest state (actuated order is
    /// derived from the manifest). Past the end: the final hold.
    public mutating func command(at t: Double, state: RobotState?) -> JointCommand {
        let manifest = plan.manifest
        let measured: [Double]? = state.map { s in actuatedIndex.map { $0 < s.jointPositions.count ? s.jointPositions[$0] : .nan } }
        guard let index = plan.segment(at: t) else { return .zeroTorque(count: actuated.count) }
        let segment = plan.segments[index]
        if current != index {
            // Leaving a settle: its equilibrium is the mean of its last samples.
            // The first settle of a joint defines its equilibrium (later ones only damp it).
            if let c = current, case .settle(let j, _) = plan.segments[c].action, !settleSamples.isEmpty, settled[j] == nil {
                settled[j] = settleSamples.reduce(0, +) / Double(settleSamples.count)
            }
            settleSamples.removeAll()
            current = index
            segmentStart = measured ?? holdPositions
        }
        let local = t - segment.start
        var c = manifest.defaultPoseCommand
        // Hung or fixed: no standing load, so no feed-forward.
        if plan.hung { c.torques = .init(repeating: 0, count: c.count) }
        for (k, p) in holdPositions.enumerated() { c.positions[k] = p }
        switch segment.action {
        case .passive:
            return .zeroTorque(count: actuated.count)
        case .hold:
            break
        case .holdCurrent:
            if captured == nil, let m = measured, m.allSatisfy(\.isFinite) { captured = m }
            guard let pose = captured else { return .zeroTorque(count: actuated.count) }
            c.positions = pose
        case .move(let j, let target):
            let goal: Double
            switch target {
            case .absolute(let v): goal = v
            case .settled(let offset): goal = (settled[j] ?? actuated[j].defaultPosition) + offset
            }
            let from = segmentStart.indices.contains(j) && segmentStart[j].isFinite ? segmentStart[j] : goal
            let s = min(1, max(0, local / segment.duration))
            let shape = (1 - cos(.pi * s)) / 2
            c.positions[j] = from + (goal - from) * shape
            c.velocities[j] = (goal - from) * .pi / 2 * sin(.pi * s) / segment.duration
            holdPositions[j] = goal
        case .sweep(let j, let from, let to, let speed):
            let direction: Double = to >= from ? 1 : -1
            let travelled = min(abs(to - from), speed * local)
            c.positions[j] = from + direction * travelled
            c.velocities[j] = travelled < abs(to - from) ? direction * speed : 0
            holdPositions[j] = to
        case .torque(let j, let torque):
            c.kp[j] = 0
            c.kd[j] = 0
            c.velocities[j] = 0
            c.torques[j] = torque
        case .settle(let j, let kd):
            c.kp[j] = 0
            c.kd[j] = kd
            c.velocities[j] = 0
            c.torques[j] = 0
            if local > segment.duration - 0.4, let m = measured, m[j].isFinite { settleSamples.append(m[j]) }
            if let m = measured, m[j].isFinite { holdPositions[j] = m[j] }
        case .release(let j):
            c.kp[j] = 0
            c.kd[j] = 0
            c.torques[j] = 0
            if let m = measured, m[j].isFinite { holdPositions[j] = m[j] }
        case .multisine(let joints, let amplitude, let frequencies, let phases):
            // Cosine fade in and out over 1 s keeps the start and end smooth.
            let fade = min(1, local, max(0, segment.duration - local))
            let envelope = (1 - cos(.pi * fade)) / 2
            let dEnvelope = (local < 1 || segment.duration - local < 1) ? .pi / 2 * sin(.pi * fade) * (local < 1 ? 1 : -1) : 0
            let norm = amplitude / Double(frequencies.count).squareRoot()
            for (n, j) in joints.enumerated() {
                var x = 0.0, v = 0.0
                for (i, f) in frequencies.enumerated() {
                    let w = 2 * .pi * f
                    x += norm * sin(w * local + phases[n][i])
                    v += norm * w * cos(w * local + phases[n][i])
                }
                c.positions[j] = actuated[j].defaultPosition + envelope * x
                c.velocities[j] = envelope * v + dEnvelope * x
            }
        }
        return c
    }
}
