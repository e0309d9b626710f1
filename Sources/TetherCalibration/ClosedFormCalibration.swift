import Foundation
import TetherNumerics
import TetherCore
import TetherSim

/// A segment of an experiment, read back from the recording's metadata
/// (`tether.experiment.segments`: `label@start+duration;…`).
public struct RecordedSegment: Sendable, Equatable {
    public var label: String
    public var start: Double
    public var duration: Double
    public var end: Double { start + duration }

    /// The segments of a recording of `tether experiment` (empty for other recordings).
    public static func segments(of recording: ExperimentRecording) -> [RecordedSegment] {
        guard let text = recording.metadata["segments"] else { return [] }
        return text.split(separator: ";").compactMap { part in
            guard let at = part.lastIndex(of: "@"), let plus = part[at...].firstIndex(of: "+"),
                  let start = Double(part[part.index(after: at)..<plus]), let duration = Double(part[part.index(after: plus)...]) else { return nil }
            return RecordedSegment(label: String(part[..<at]), start: start, duration: duration)
        }
    }
}

/// Plot-ready data of one analysis, for the report.
public struct CalibrationFigure: Sendable, Codable {
    public enum Kind: String, Sendable, Codable { case friction, gravity, step, swing, allan, trajectory, latency, rest }
    public struct Series: Sendable, Codable {
        public var label: String
        public var x: [Double]
        public var y: [Double]
        /// Measured points (true) or a model curve (false).
        public var measured: Bool
    }
    public var kind: Kind
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var caption: String
    public var logLog: Bool = false
}

/// The closed-form analyses of `tether calibrate`, one per experiment kind, turned into
/// calibrated parameters (with their method and recording) and report figures. Failures of one
/// analysis become warnings naming the recording and the joint; the others go on.
public struct ClosedFormCalibration {
    public let robot: RobotModel
    public private(set) var parameters: [CalibratedParameter] = []
    public private(set) var figures: [CalibrationFigure] = []
    public private(set) var warnings: [String] = []
    /// Gravity torque amplitude m·g·d per joint from the sweeps (N·m), for the pendulum.
    public private(set) var gravityAmplitude: [String: ParameterEstimate] = [:]

    public init(robot: RobotModel) { self.robot = robot }

    /// Relative systematic uncertainty added to sweep friction estimates (see `sweep`).
    public static let sweepSystematicFloor = 0.02

    /// Runs the analyses that apply to each recording's kind (sweeps first: the pendulum uses
    /// their gravity curves).
    public mutating func analyze(_ recordings: [ExperimentRecording]) {
        let order = ["sweep", "stationary", "torque-step", "pendulum"]
        for kind in order {
            for r in recordings where r.kind == kind {
                switch kind {
                case "sweep": sweep(r)
                case "stationary": stationary(r)
                case "torque-step": torqueSteps(r)
                default: pendulum(r)
                }
            }
        }
    }

    func joints(of r: ExperimentRecording) -> [String] {
        (r.metadata["joints"] ?? "").split(separator: ",").map(String.init).filter { r.jointNames.contains($0) }
    }

    func nominal(_ path: String) -> [Double]? {
        guard let p = try? SimParameter(path: path) else { return nil }
        return try? robot.model.get(p)
    }

    // MARK: friction sweeps

    /// Per joint and speed: the half difference of the up and down torques at the same positions
    /// (gravity and any position-dependent load cancel), then Coulomb + viscous (+ Stribeck); the
    /// half sum gives the gravity curve m·g·d·sin(q − q0) + c.
    mutating func sweep(_ r: ExperimentRecording) {
        let segments = RecordedSegment.segments(of: r)
        for joint in joints(of: r) {
            guard let j = try? r.jointIndex(joint) else { continue }
            var points: [FrictionPoint] = []
            var gravityQ: [Double] = [], gravityTau: [Double] = []
            var upCurves: [CalibrationFigure.Series] = []
            // The joint's inertia at its default pose, hung (joint-space mass matrix, rotor included).
            let inertia = modelInertia(joint: joint, at: robot.manifest.joints[j].defaultPosition) ?? 0
            for up in segments where up.label.hasPrefix("\(joint) up at ") {
                let speedText = up.label.dropFirst("\(joint) up at ".count).prefix { $0 != " " }
                guard let speed = Double(speedText),
                      let down = segments.first(where: { $0.label == "\(joint) down at \(speedText) rad/s" }) else { continue }
                func window(_ s: RecordedSegment) -> [(q: Double, tau: Double)] {
                    // Skip the start (the joint catching up with the ramp) and the end. A heavy
                    // link is still settling onto the ramp after that (its PD tracking rings for
                    // a few tenths of a second): the inertial torque I·q̈ is taken out of each
                    // sample, q̈ from a central difference of the measured velocity over ±10 ms.
                    let head = min(0.25, 0.2 * s.duration), tail = min(0.1, 0.1 * s.duration)
                    let samples = r.states.filter { $0.time > s.start + head - 0.02 && $0.time < s.end - tail + 0.02
                        && j < $0.efforts.count && j < $0.velocities.count }
                    var out: [(q: Double, tau: Double)] = []
                    var lo = 0, hi = 0
                    for (i, x) in samples.enumerated() where x.time > s.start + head && x.time < s.end - tail {
                        while lo < i, samples[lo].time < x.time - 0.01 { lo += 1 }
                        hi = max(hi, i)
                        while hi + 1 < samples.count, samples[hi + 1].time <= x.time + 0.01 { hi += 1 }
                        let dt = samples[hi].time - samples[lo].time
                        let acceleration = dt > 0 ? (samples[hi].velocities[j] - samples[lo].velocities[j]) / dt : 0
                        out.append((x.positions[j], x.efforts[j] - inertia * acceleration))
                    }
                    return out
                }
                let a = window(up), b = window(down)
                guard a.count > 10, b.count > 10 else { continue }
                let lo = max(a.map(\.q).min()!, b.map(\.q).min()!), hi = min(a.map(\.q).max()!, b.map(\.q).max()!)
                guard hi > lo else { continue }
                let bins = 16
                var halfDifferences: [Double] = []
                for k in 0..<bins {
                    let b0 = lo + (hi - lo) * Double(k) / Double(bins), b1 = lo + (hi - lo) * Double(k + 1) / Double(bins)
                    let ua = a.filter { $0.q >= b0 && $0.q < b1 }.map(\.tau), ub = b.filter { $0.q >= b0 && $0.q < b1 }.map(\.tau)
                    guard ua.count >= 2, ub.count >= 2 else { continue }
                    let mu = ua.reduce(0, +) / Double(ua.count), md = ub.reduce(0, +) / Double(ub.count)
                    halfDifferences.append((mu - md) / 2)
                    gravityQ.append((b0 + b1) / 2)
                    gravityTau.append((mu + md) / 2)
                }
                guard halfDifferences.count >= 3 else { continue }
                let f = halfDifferences.reduce(0, +) / Double(halfDifferences.count)
                points.append(FrictionPoint(velocity: speed, torque: f))
                points.append(FrictionPoint(velocity: -speed, torque: -f))
                upCurves.append(.init(label: "up \(speed) rad/s", x: a.map(\.q), y: a.map(\.tau), measured: true))
                upCurves.append(.init(label: "down \(speed) rad/s", x: b.map(\.q), y: b.map(\.tau), measured: true))
            }
            guard points.count >= 4 else {
                warnings.append("\(r.source): friction of '\(joint)': fewer than two speeds swept both ways (needs up and down at ≥ 2 speeds)")
                continue
            }
            do {
                let fit = try FrictionAnalysis.fit(points, joint: joint, source: r.source)
                // The statistical error of a few averaged points understates what the method
                // can promise: a systematic floor of 2 % of the estimate is added in quadrature
                // (MuJoCo's friction loss is a soft constraint, and the inertial correction uses
                // the nominal inertia; on the virtual robot the sweep reads within 3 % of the truth).
                func widened(_ e: ParameterEstimate) -> ParameterEstimate {
                    let floor = Self.sweepSystematicFloor * abs(e.value)
                    let se = (e.standardError * e.standardError + floor * floor).squareRoot()
                    let half = max((e.upper95 - e.lower95) / 2, 1.959964 * se)
                    return ParameterEstimate(value: e.value, standardError: se, lower95: e.value - half, upper95: e.value + half)
                }
                let coulomb = widened(fit.coulomb ?? fit.coulombPositive!)
                let quality = ["rms": fit.linear.quality.rmsResidual, "r2": fit.linear.quality.rSquared ?? .nan]
                parameters.append(CalibratedParameter(name: "joint[\(joint)].frictionloss", unit: "N·m", nominal: nominal("joint[\(joint)].frictionloss"),
                                                      estimate: [coulomb.value], standardError: [coulomb.standardError],
                                                      interval: [coulomb.interval95], method: "sweeps: Coulomb + viscous",
                                                      recordings: [r.source], quality: quality, flags: fit.notes, patched: true))
                let b = widened(fit.viscous)
                parameters.append(CalibratedParameter(name: "joint[\(joint)].damping", unit: "N·m·s/rad", nominal: nominal("joint[\(joint)].damping"),
                                                      estimate: [b.value], standardError: [b.standardError], interval: [b.interval95],
                                                      method: "sweeps: Coulomb + viscous",
                                                      recordings: [r.source], quality: quality, flags: [], patched: true))
                if let s = fit.stribeck {
                    warnings.append("\(r.source): '\(joint)' shows a Stribeck effect (\(fit.stribeckDecision)); MuJoCo models Coulomb + viscous only: "
                        + "static friction \(String(format: "%.3g", s.staticFriction.value)) N·m is in the report, not in the model")
                }
                let vmax = points.map { abs($0.velocity) }.max()!
                let vs = stride(from: -vmax, through: vmax, by: vmax / 50).filter { $0 != 0 }
                figures.append(CalibrationFigure(kind: .friction, title: "Friction of \(joint)", xLabel: "velocity (rad/s)", yLabel: "friction torque (N·m)",
                                                 series: [.init(label: "measured (half difference)", x: points.map(\.velocity), y: points.map(\.torque),
                                                                measured: true),
                                                          .init(label: "Coulomb + viscous", x: vs, y: vs.map { fit.torque(at: $0) }, measured: false)],
                                                 caption: String(format: "Fc = %@ N·m, b = %@ N·m·s/rad; %@", "\(coulomb)", "\(b)", fit.stribeckDecision)))
            } catch {
                warnings.append("\(error)")
            }
            // Gravity curve: τ_g(q) = a sin q + b cos q + c → m g d = √(a² + b²).
            if gravityQ.count >= 6 {
                let design = DenseMatrix(rows: gravityQ.map { [sin($0), cos($0), 1] })
                if let g = try? LeastSquares.linear(design, gravityTau, parameterNames: ["a", "b", "c"], analysis: "gravity curve of '\(joint)'",
                                                    source: r.source) {
                    let a = g.values[0], b = g.values[1]
                    let amplitude = (a * a + b * b).squareRoot()
                    let gradient = [a / amplitude, b / amplitude, 0]
                    let variance = LeastSquares.propagatedVariance(gradient: gradient, covariance: DenseMatrix(rows: g.covariance))
                    gravityAmplitude[joint] = ParameterEstimate(value: amplitude, standardError: variance.squareRoot())
                    let qs = stride(from: gravityQ.min()!, through: gravityQ.max()!, by: (gravityQ.max()! - gravityQ.min()!) / 60)
                    figures.append(CalibrationFigure(kind: .gravity, title: "Gravity load of \(joint) (hung)", xLabel: "position (rad)", yLabel: "torque (N·m)",
                                                     series: upCurves + [.init(label: "half sum (gravity)", x: gravityQ, y: gravityTau, measured: true),
                                                                         .init(label: "m g d sin(q − q0) + c", x: Array(qs),
                                                                               y: qs.map { a * sin($0) + b * cos($0) + g.values[2] }, measured: false)],
                                                     caption: String(format: "m·g·d = %.4g ± %.2g N·m (the pendulum uses it)", amplitude,
                                                                     variance.squareRoot())))
                }
            }
        }
    }

    // MARK: torque steps

    /// The driver's first-order lag and dead time from the torque doublets: in each window (30 ms
    /// of hold before the doublet, then its two 50 ms halves) the command is the torque asked
    /// for (the hold's measured torque before, the pure torque during) against the measured
    /// torque. The dead time includes the link's round trip as the runtime sees it (commands
    /// stamped when sent, states when received).
    mutating func torqueSteps(_ r: ExperimentRecording) {
        var lags: [ParameterEstimate] = [], delays: [ParameterEstimate] = []
        let segments = RecordedSegment.segments(of: r)
        for joint in joints(of: r) {
            guard let j = try? r.jointIndex(joint), let k = robot.manifest.actuatedJoints.firstIndex(where: { $0.name == joint }) else { continue }
            let steps = segments.indices.filter { segments[$0].label.hasPrefix("\(joint) step ") }
            var first = true
            for i in steps where i + 1 < segments.count && segments[i + 1].label.hasPrefix("\(joint) step "
                + "") && (i == 0 || !segments[i - 1].label.hasPrefix("\(joint) step ")) {
                let a = segments[i], b = segments[i + 1]
                let window = r.states.filter { $0.time >= a.start - 0.03 && $0.time <= b.end && j < $0.efforts.count }
                let pre = window.filter { $0.time < a.start - 0.005 }.map { $0.efforts[j] }
                guard pre.count >= 3, window.count > 20 else { continue }
                let level = pre.reduce(0, +) / Double(pre.count)
                // The commands of the doublet as sent (pure torque), after the hold level.
                let sent = r.commands.filter { $0.time >= a.start - 0.001 && $0.time <= b.end }
                let commandTimes = [a.start - 0.03] + sent.map(\.time)
                let commands = [level] + sent.map { $0.command.kp[k] == 0 ? $0.command.torques[k] : level }
                let t = window.map(\.time), y = window.map { $0.efforts[j] }
                do {
                    var options = MotorDynamicsOptions()
                    options.maximumDeadTime = 0.045   // a round trip plus the driver's dead time: tens of ms at most
                    let fit = try MotorDynamicsAnalysis.fitFirstOrderDeadTime(commandTimes: commandTimes, commands: commands, responseTimes: t,
                                                                              responses: y, joint: joint, source: r.source, options: options)
                    lags.append(fit.timeConstant)
                    delays.append(fit.deadTime)
                    if first {
                        first = false
                        let model = FirstOrderSimulation.simulate(commandTimes: commandTimes, commands: commands, times: t,
                                                                  timeConstant: fit.timeConstant.value,
                                                                  deadTime: fit.deadTime.value, gain: fit.gain.value, initial: level)
                        let held = t.map { time in commands[max(0, (commandTimes.lastIndex { $0 <= time } ?? 0))] }
                        figures.append(CalibrationFigure(kind: .step, title: "Torque doublet of \(joint)", xLabel: "time (s)", yLabel: "torque (N·m)",
                                                         series: [.init(label: "commanded", x: t, y: held, measured: true),
                                                                  .init(label: "measured", x: t, y: y, measured: true),
                                                                  .init(label: "first order + dead time", x: t, y: model, measured: false)],
                                                         caption: "T = \(fit.timeConstant) s, d = \(fit.deadTime) s (d includes the link's round trip)"))
                    }
                } catch {
                    warnings.append("\(error)")
                }
            }
        }
        if let lag = Self.pooled(lags) {
            parameters.append(CalibratedParameter(name: "driver.lag", unit: "s", nominal: [0], estimate: [lag.value], standardError: [lag.standardError],
                                                  interval: [lag.interval95], method: "torque doublets: first order + dead time (\(lags.count) doublets "
                                                      + "pooled)",
                                                  recordings: [r.source], quality: ["doublets": Double(lags.count)]))
        }
        if let delay = Self.pooled(delays) {
            parameters.append(CalibratedParameter(name: "driver.delay", unit: "s", nominal: [0], estimate: [delay.value], standardError: [delay.standardError],
                                                  interval: [delay.interval95], method: "torque doublets: dead time incl. the link round trip "
                                                      + "(\(delays.count) doublets pooled)",
                                                  recordings: [r.source], quality: ["doublets": Double(delays.count)]))
        }
    }

    /// Inverse-variance pooled estimate of several joints' estimates of one shared quantity.
    static func pooled(_ estimates: [ParameterEstimate]) -> ParameterEstimate? {
        let usable = estimates.filter { $0.standardError > 0 && $0.standardError.isFinite }
        guard !usable.isEmpty else { return estimates.first }
        let w = usable.map { 1 / ($0.standardError * $0.standardError) }
        let mean = zip(usable, w).map { $0.value * $1 }.reduce(0, +) / w.reduce(0, +)
        var se = (1 / w.reduce(0, +)).squareRoot()
        // The joints' spread, when larger than the formal errors say, widens the interval.
        if usable.count > 1 {
            let spread = usable.map { ($0.value - mean) * ($0.value - mean) }.reduce(0, +) / Double(usable.count - 1)
            se = max(se, (spread / Double(usable.count)).squareRoot())
        }
        return ParameterEstimate(value: mean, standardError: se)
    }

    // MARK: pendulum

    /// The free swing: damped sinusoid, then the inertia about the joint from m·g·d (the sweep's
    /// gravity curve, or the nominal model's when no sweep of that joint was given).
    mutating func pendulum(_ r: ExperimentRecording) {
        let segments = RecordedSegment.segments(of: r)
        for joint in joints(of: r) {
            guard let j = try? r.jointIndex(joint), let release = segments.first(where: { $0.label == "\(joint) released" }) else { continue }
            let swing = r.states.filter { $0.time >= release.start + 0.05 && $0.time < release.end }
            do {
                let fit = try PendulumAnalysis.fitDampedSinusoid(times: swing.map(\.time), angles: swing.map { $0.positions[j] }, joint: joint,
                                                                 source: r.source)
                let mgd: ParameterEstimate
                var flags: [String] = []
                if let g = gravityAmplitude[joint] { mgd = g } else {
                    guard let m = modelGravityAmplitude(joint: joint) else { continue }
                    mgd = ParameterEstimate(value: m, standardError: 0.05 * m)
                    flags.append("m·g·d from the nominal model (±5 %): sweep this joint too to measure it")
                }
                let g = 9.80665
                // compoundPendulum takes m and d; only their product enters I_pivot.
                let inertia = try PendulumAnalysis.compoundPendulum(swing: fit, mass: ParameterEstimate(value: mgd.value / g,
                                                                                                        standardError: mgd.standardError / g),
                                                                    pivotToCenterOfMass: ParameterEstimate(value: 1,
                                                                                                           standardError: 0), gravity: g, source: r.source)
                let i = inertia.inertiaAboutPivot
                let model = modelInertia(joint: joint, at: fit.offset.value)
                parameters.append(CalibratedParameter(name: "inertia_about[\(joint)]", unit: "kg·m²", nominal: model.map { [$0] }, estimate: [i.value],
                                                      standardError: [i.standardError], interval: [i.interval95],
                                                      method: "pendulum swing: damped sinusoid, compound pendulum (incl. rotor "
                                                          + "inertia)", recordings: [r.source],
                                                      quality: ["rms": fit.quality.rmsResidual, "r2": fit.quality.rSquared ?? .nan,
                                                                "damping_ratio": fit.dampingRatio.value],
                                                      flags: flags + ["reported, not patched: one inertia about an axis does not fix a body's mass, centre "
                                                          + "of mass and inertia"]))
                let ts = swing.map(\.time)
                figures.append(CalibrationFigure(kind: .swing, title: "Pendulum swing of \(joint)", xLabel: "time (s)", yLabel: "position (rad)",
                                                 series: [.init(label: "measured", x: ts, y: swing.map { $0.positions[j] }, measured: true),
                                                          .init(label: "damped sinusoid", x: ts, y: ts.map { fit.angle(at: $0) }, measured: false)],
                                                 caption: "period \(fit.period) s, ζ = \(fit.dampingRatio); I = \(i) kg·m² about the joint (model "
                                                     + "\(model.map { String(format: "%.4g", $0) } ?? "?"))"))
            } catch {
                warnings.append("\(error)")
            }
        }
    }

    /// m·g·d of everything the joint carries, from the nominal model: the largest gravity torque
    /// at the joint over a turn with the robot hung.
    func modelGravityAmplitude(joint: String) -> Double? {
        guard let k = robot.manifest.joints.firstIndex(where: { $0.name == joint }) else { return nil }
        let hung = robot.with(model: robot.model.copy())
        let sim = SimRobot(robot: hung)
        sim.hang()
        var peak = 0.0
        for step in 0..<36 {
            sim.data.qpos[hung.qposAddress[k]] = Double(step) * .pi / 18
            for v in 0..<hung.model.nv { sim.data.qvel[v] = 0 }
            sim.data.forward()
            peak = max(peak, abs(sim.data.raw.pointee.qfrc_bias[hung.dofAddress[k]]))
        }
        return peak
    }

    /// The model's inertia about a joint axis at a pose (the diagonal of the joint-space mass
    /// matrix, including armature), robot hung, the joint at `position`, the others at default.
    func modelInertia(joint: String, at position: Double) -> Double? {
        guard let k = robot.manifest.joints.firstIndex(where: { $0.name == joint }) else { return nil }
        let hung = robot.with(model: robot.model.copy())
        let sim = SimRobot(robot: hung)
        sim.hang()
        sim.data.qpos[hung.qposAddress[k]] = position
        sim.data.forward()
        return sim.data.massMatrixDiagonal(dof: hung.dofAddress[k])
    }

    // MARK: stationary

    /// s: the shortest recording whose Allan deviation is read. The random walk is read at
    /// τ = 1 s and a curve needs at least 9 independent clusters at its longest τ, so below 10 s
    /// the −1/2 line is extrapolated and no bias-instability floor can show.
    public static let minimumAllanDuration = 10.0
    /// rad: a joint whose position spans more than this is not at rest.
    public static let restSpan = 0.05
    /// rad: encoder offsets from the default pose are read only when every joint's mean lies
    /// within this of its default (the robot held in its default pose); otherwise the pose,
    /// not the encoder, would be measured.
    public static let defaultPoseTolerance = 0.1

    /// A recording without commands or experiment kind (a `ros2 bag record` of the robot
    /// standing still): analysed as a stationary recording when every joint is at rest;
    /// otherwise nothing in it can be calibrated without the commands, which a warning says.
    /// Returns whether it was analysed.
    @discardableResult
    public mutating func atRest(_ r: ExperimentRecording) -> Bool {
        var moving: [(String, Double)] = []
        for (j, name) in r.jointNames.enumerated() {
            let q = r.states.compactMap { j < $0.positions.count && $0.positions[j].isFinite ? $0.positions[j] : nil }
            guard let lo = q.min(), let hi = q.max() else { continue }
            if hi - lo > Self.restSpan { moving.append((name, hi - lo)) }
        }
        if !moving.isEmpty {
            let list = moving.sorted { $0.1 > $1.1 }.prefix(3).map { "\($0.0) spans \(String(format: "%.3g", $0.1)) rad" }.joined(separator: ", ")
            warnings.append("\(r.source): no commands and the robot moves (\(list); at rest means within \(Self.restSpan) rad): nothing in it can be "
                + "calibrated without what was commanded; record the joint commands too, or a stretch of the robot standing still")
            return false
        }
        stationary(r, atRest: true)
        return true
    }

    /// IMU noise, bias and Allan deviation; encoder noise. Only the "still" segment of a
    /// `tether experiment` recording (the settling before it is not stationary); all of a
    /// recording at rest from elsewhere (`atRest`), which also reads the encoders' offsets from
    /// the default pose when the robot stood in it.
    mutating func stationary(_ recording: ExperimentRecording, atRest: Bool = false) {
        var r = recording
        if let still = RecordedSegment.segments(of: recording).first(where: { $0.label == "still" }) {
            r.states = r.states.filter { $0.time >= still.start && $0.time <= still.end }
            r.imu = r.imu.filter { $0.time >= still.start && $0.time <= still.end }
        }
        if !r.imu.isEmpty {
            imuNoise(r, atRest: atRest)
        }
        encoderNoise(r, atRest: atRest)
    }

    mutating func imuNoise(_ r: ExperimentRecording, atRest: Bool) {
        let names = ["gyro.x", "gyro.y", "gyro.z", "accel.x", "accel.y", "accel.z"]
        let duration = (r.imu.last?.time ?? 0) - (r.imu.first?.time ?? 0)
        let allan = duration >= Self.minimumAllanDuration
        // Mean, standard deviation and (from 10 s on) the Allan deviation of each axis.
        // Tether's own recordings carry receive-time stamps (the link's jitter, not the
        // sensor's): evenly spaced. A bag from elsewhere with header stamps: its times, unless
        // they are not uniform (a dropped sample), then evenly spaced too.
        var analyses: [AllanAnalysis] = []
        do {
            var options = AllanOptions()
            if !allan { options.minimumIndependentClusters = max(2, r.imu.count / 2) }   // m = 1 only: mean and sd
            if atRest, let a = try? SensorNoiseAnalysis.imu(r, evenlySpaced: false, options: options) {
                analyses = a
            } else {
                analyses = try SensorNoiseAnalysis.imu(r, evenlySpaced: true, options: options)
            }
        } catch {
            warnings.append("\(error)")
            return
        }
        if !allan {
            warnings.append(String(format: "%@: the IMU recording is %.3g s; the Allan deviation (random walk, bias instability) needs at least %.0f s at "
                + "rest (a minute or more for the bias instability), so only the noise and bias are given", r.source, duration, Self.minimumAllanDuration))
        }
        // The accelerometer at rest reads gravity: only the component of a bias along the
        // measured gravity is observable from one pose (a perpendicular bias is a tilt).
        let meanAccel = SIMD3(analyses[3].mean.value, analyses[4].mean.value, analyses[5].mean.value)
        let g = 9.80665
        let norm = (meanAccel * meanAccel).sum().squareRoot()
        for (k, (n, a)) in zip(names, analyses).enumerated() {
            let isGyro = n.hasPrefix("gyro")
            let unit = isGyro ? "rad/s" : "m/s²"
            let samples = ["samples": Double(a.sampleCount)]
            parameters.append(CalibratedParameter(name: "sensor.\(n).noise", unit: unit, nominal: nil, estimate: [a.standardDeviation.value],
                                                  standardError: [a.standardDeviation.standardError],
                                                  interval: [a.standardDeviation.interval95],
                                                  method: "stationary recording: standard deviation", recordings: [r.source],
                                                  quality: samples))
            // White-noise density: σ_d = N / √τ0 for white noise sampled every τ0.
            let root = a.sampleInterval.squareRoot()
            parameters.append(CalibratedParameter(name: "sensor.\(n).noise_density", unit: isGyro ? "rad/s/√Hz" : "m/s²/√Hz", nominal: nil,
                                                  estimate: [a.standardDeviation.value * root], standardError: [a.standardDeviation.standardError * root],
                                                  interval: [ConfidenceInterval(lower: a.standardDeviation.lower95 * root,
                                                                                upper: a.standardDeviation.upper95 * root)],
                                                  method: String(format: "standard deviation × √τ0 (τ0 = %.4g s)", a.sampleInterval), recordings: [r.source],
                                                  quality: samples))
            if isGyro {
                parameters.append(CalibratedParameter(name: "sensor.\(n).bias", unit: unit, nominal: [0], estimate: [a.mean.value],
                                                      standardError: [a.mean.standardError],
                                                      interval: [a.mean.interval95], method: "stationary recording: mean", recordings: [r.source]))
            } else if atRest, norm > 0 {
                // Per axis: that axis's share of (|mean| − g) along the measured gravity direction.
                // To first order: SE of |mean| from the axes' SEs along the gravity direction, and
                // the direction's own uncertainty for the share.
                let share = meanAccel[k - 3] / norm
                let bias = (norm - g) * share
                let alongSE = (3..<6).map { i in pow(meanAccel[i - 3] / norm * analyses[i].mean.standardError, 2) }.reduce(0, +).squareRoot()
                let se = (pow(share * alongSE, 2) + pow((norm - g) * a.mean.standardError / norm, 2)).squareRoot()
                parameters.append(CalibratedParameter(name: "sensor.\(n).bias", unit: unit, nominal: [0], estimate: [bias], standardError: [se],
                                                      method: "stationary recording: (|mean| − g) along the measured gravity", recordings: [r.source],
                                                      flags: ["only the bias along gravity is observable from one pose; a bias across it reads as a tilt "
                                                          + "(record several poses to separate them)"]))
            }
            if allan, let rw = a.randomWalk {
                parameters.append(CalibratedParameter(name: "sensor.\(n).random_walk", unit: isGyro ? "rad/s/√Hz" : "m/s²/√Hz", nominal: nil,
                                                      estimate: [rw.value], standardError: [rw.standardError], interval: [rw.interval95],
                                                      method: "Allan deviation: −1/2 slope at τ = 1 s", recordings: [r.source], flags: [a.randomWalkNote]))
            }
            if allan, let bi = a.biasInstability {
                parameters.append(CalibratedParameter(name: "sensor.\(n).bias_instability", unit: unit, nominal: nil, estimate: [bi.value],
                                                      standardError: [bi.standardError], interval: [bi.interval95],
                                                      method: "Allan deviation: minimum / 0.664", recordings: [r.source], flags: [a.biasInstabilityNote]))
            }
        }
        if allan {
            figures.append(CalibrationFigure(kind: .allan, title: "Allan deviation (stationary IMU)", xLabel: "cluster time τ (s)", yLabel: "Allan deviation",
                                             series: zip(names, analyses).map { .init(label: $0, x: $1.points.map(\.clusterTime),
                                                                                      y: $1.points.map(\.deviation.value), measured: true) },
                                             caption: "Gyro in rad/s, accelerometer in m/s². White noise falls at −1/2; the flat bottom is the bias "
                                                 + "instability.", logLog: true))
        }
    }

    /// Encoder white noise from first differences, σ = sd(Δq)/√2: slow drift and the small
    /// motions of a held pose barely change consecutive samples, so they do not inflate it.
    mutating func encoderNoise(_ r: ExperimentRecording, atRest: Bool) {
        var variances: [Double] = [], count = 0
        var perJoint: [(joint: Int, sigma: Double, n: Int, mean: ParameterEstimate)] = []
        for j in r.jointNames.indices {
            let q = r.states.compactMap { j < $0.positions.count ? $0.positions[j] : nil }
            guard q.count > 10 else { continue }
            let d = zip(q.dropFirst(), q).map { $0 - $1 }
            let mean = d.reduce(0, +) / Double(d.count)
            let variance = d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d.count - 1) / 2
            variances.append(variance)
            count += d.count
            perJoint.append((j, variance.squareRoot(), d.count, FrictionAnalysis.batchMean(q)))
        }
        guard !variances.isEmpty else {
            warnings.append("\(r.source): too few joint samples for the encoder noise")
            return
        }
        let sigma = (variances.reduce(0, +) / Double(variances.count)).squareRoot()
        let se = sigma / (2 * Double(max(1, count))).squareRoot()
        parameters.append(CalibratedParameter(name: "sensor.joint_position.noise", unit: "rad", nominal: nil, estimate: [sigma], standardError: [se],
                                              method: "stationary recording: sd of first differences / √2, pooled over \(variances.count) joints",
                                              recordings: [r.source]))
        guard atRest else { return }
        // What the encoders read at rest, about their means (at most 400 points a joint).
        let stride = max(1, r.states.count / 400)
        let picked = Swift.stride(from: 0, to: r.states.count, by: stride).map { r.states[$0] }
        figures.append(CalibrationFigure(kind: .rest, title: "Joint positions at rest, about their means", xLabel: "time (s)", yLabel: "position − mean (rad)",
                                         series: perJoint.map { p in
                                             .init(label: r.jointNames[p.joint], x: picked.map(\.time),
                                                   y: picked.map { p.joint < $0.positions.count ? $0.positions[p.joint] - p.mean.value : 0 }, measured: true)
                                         },
                                         caption: String(format: "Encoder noise %.3g rad (pooled, from first differences); a drift or a step here is "
                                             + "motion, not noise.", sigma)))
        for p in perJoint {
            let name = r.jointNames[p.joint]
            let se = p.sigma / (2 * Double(max(1, p.n))).squareRoot()
            parameters.append(CalibratedParameter(name: "sensor.joint[\(name)].position_noise", unit: "rad", nominal: nil, estimate: [p.sigma],
                                                  standardError: [se],
                                                  method: "stationary recording: sd of first differences / √2", recordings: [r.source]))
        }
        // Offsets from the default pose, when the robot stood in it.
        let defaults = Dictionary(uniqueKeysWithValues: robot.manifest.joints.map { ($0.name, $0.defaultPosition) })
        let away = perJoint.compactMap { p -> (String, Double)? in
            let name = r.jointNames[p.joint]
            guard let d = defaults[name] else { return nil }
            return (name, p.mean.value - d)
        }
        if let worst = away.max(by: { abs($0.1) < abs($1.1) }), abs(worst.1) > Self.defaultPoseTolerance {
            warnings.append(String(format: "%@: encoder offsets not measured: the robot was not in its default pose (%@ is %.3g rad from it; within %.2g "
                + "rad counts as the default pose); hold the robot in its default pose (a jig, or standing) to read "
                    + "them", r.source, worst.0, worst.1, Self.defaultPoseTolerance))
            return
        }
        for p in perJoint {
            let name = r.jointNames[p.joint]
            guard let d = defaults[name] else { continue }
            parameters.append(CalibratedParameter(name: "sensor.joint[\(name)].offset", unit: "rad", nominal: [0], estimate: [p.mean.value - d],
                                                  standardError: [p.mean.standardError],
                                                  interval: [ConfidenceInterval(lower: p.mean.lower95 - d, upper: p.mean.upper95 - d)],
                                                  method: "stationary recording: mean position − manifest default", recordings: [r.source],
                                                  flags: ["an encoder offset only if the robot was held exactly in its default pose; otherwise the pose's "
                                                      + "difference"]))
        }
    }
}

/// Simulates y' = (K u(t − d) − y) / T with u held between its samples, for plots.
enum FirstOrderSimulation {
    static func simulate(commandTimes: [Double], commands: [Double], times: [Double], timeConstant T: Double, deadTime d: Double,
                         gain K: Double, initial: Double) -> [Double] {
        var y = initial
        var out: [Double] = []
        out.reserveCapacity(times.count)
        for (i, t) in times.enumerated() {
            if i > 0 {
                let dt = t - times[i - 1]
                let c = commandTimes.lastIndex { $0 <= t - d } ?? 0
                y += (1 - exp(-dt / max(T, 1e-9))) * (K * commands[c] - y)
            }
            out.append(y)
        }
        return out
    }
}
