import Foundation
import TetherCore
import TetherSim
import TetherNumerics

/// The trajectory-fitting step of `tether calibrate`: which parameters to fit on the chirp (and
/// other) recordings, starting where the closed-form analyses ended, and what goes into the
/// calibration file and the report.
public enum TrajectoryCalibration {
    /// Default parameters: for each excited joint (the recordings' `joints` metadata, else every
    /// actuated joint) its damping, friction loss and armature, then the driver's lag and delay
    /// unless torque steps measured them (then they are held at those values: a trajectory of a
    /// PD-tracked joint cannot tell a delay from extra inertia, and fitting both trades one for
    /// the other). Closed-form estimates are the starting values.
    public static func defaultParameters(robot: RobotModel, recordings: [ExperimentRecording], closedForm: [CalibratedParameter]) -> [FitParameter] {
        var joints: [String] = []
        for r in recordings {
            for j in (r.metadata["joints"] ?? "").split(separator: ",").map(String.init) where !joints.contains(j) { joints.append(j) }
        }
        if joints.isEmpty { joints = robot.manifest.actuatedJoints.map(\.name) }
        func initial(_ name: String) -> Double? { closedForm.first { $0.name == name }?.estimate.first }
        var parameters: [FitParameter] = []
        for j in joints {
            for field in ["damping", "frictionloss", "armature"] {
                let name = "joint[\(j)].\(field)"
                parameters.append(FitParameter(name, initial: initial(name)))
            }
        }
        if initial("driver.lag") == nil { parameters.append(FitParameter("driver.lag")) }
        if initial("driver.delay") == nil { parameters.append(FitParameter("driver.delay")) }
        return parameters
    }

    /// A `Calibration.trajectoryFit` closure: fits `names` (nil: the defaults) on the recordings.
    public static func step(names: [String]? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> Calibration.TrajectoryStep {
        { robot, recordings, heldOut, closedForm, progress in
            let parameters = names.map { $0.map { name in FitParameter(name, initial: closedForm.first { $0.name == name }?.estimate.first) } }
                ?? defaultParameters(robot: robot, recordings: recordings, closedForm: closedForm)
            var options = TrajectoryFit.Options(threads: threads)
            options.initialState = .atRest(window: 0.2)
            // Compare the joints the experiments moved: a joint held still has a spread of pure
            // noise, and its normalized residuals would swamp the ones that carry information.
            var excited: [String] = []
            for r in recordings + heldOut {
                for j in (r.metadata["joints"] ?? "").split(separator: ",").map(String.init)
                    where !excited.contains(j) && robot.manifest.joints.contains(where: { $0.name == j }) {
                    excited.append(j)
                }
            }
            if !excited.isEmpty { options.joints = excited }
            let fitted = Set(parameters.map(\.name))
            let measured = { (name: String) in fitted.contains(name) ? nil : closedForm.first { $0.name == name }?.estimate.first }
            options.fixedDriver = DriverDynamics(lagTimeConstant: measured("driver.lag") ?? 0, actionDelay: measured("driver.delay") ?? 0)
            if options.fixedDriver != DriverDynamics() {
                progress(String(format: "  driver held at the torque steps' lag %.1f ms and delay %.1f ms", 1000 * options.fixedDriver.lagTimeConstant,
                                1000 * options.fixedDriver.actionDelay))
            }
            let fit = try TrajectoryFit(robot: robot, parameters: parameters, options: options)
            let result = try fit.fit(recordings, heldOut: heldOut) { p in
                progress(String(format: "  LM iteration %d: cost %.4g, λ %.2g%@", p.iteration, p.cost, p.lambda, p.accepted ? "" : " (rejected)"))
            }
            var out: [CalibratedParameter] = []
            var warnings: [String] = []
            let sources = recordings.map(\.source)
            for e in result.estimates {
                var flags: [String] = []
                if let b = e.bound { flags.append("ended on its \(b.rawValue) bound (\(ModelPatcher.number(b == .lower ? e.lower : e.upper)) \(e.unit)): "
                    + "the bound, not the data, decided it") }
                if e.identifiable == false {
                    let direction = result.weakDirections.first { $0.components.contains { $0.name == e.name } }
                    flags.append("not identifiable from these recordings" + (direction.map { ": weak direction \($0.text)" } ?? ""))
                }
                let sd = e.standardDeviation ?? 0
                let interval = e.interval95 ?? ConfidenceInterval(lower: e.value, upper: e.value)
                let patched = (try? SimParameter(path: e.name)) != nil && e.identifiable != false && e.bound == nil
                out.append(CalibratedParameter(name: e.name, unit: e.unit, nominal: [e.nominal], estimate: [e.value], standardError: [sd],
                                               interval: [interval], method: "trajectory fit (bounded LM, \(result.iterations) iterations)",
                                               recordings: sources, quality: ["residual_sd": result.residualStandardDeviation],
                                               flags: flags, patched: patched))
            }
            for w in result.weakDirections { warnings.append("trajectory fit: the data barely determine \(w.text)") }
            // "Nominal" on the held-out recordings is the whole nominal model, ideal driver
            // included (the fit's own "before" keeps the measured driver).
            var nominalOptions = options
            nominalOptions.fixedDriver = DriverDynamics()
            nominalOptions.maxIterations = 0
            let nominalErrors = heldOut.isEmpty ? nil : try? TrajectoryFit(robot: robot, parameters: parameters, options: nominalOptions).fit(heldOut)
            let held = result.recordings.filter(\.heldOut).map { r in
                let before = nominalErrors?.recordings.first { $0.source == r.source }?.before ?? r.before
                return CalibrationFile.HeldOutError(recording: r.source, nominal: before?.normalized ?? .nan, calibrated: r.after.normalized,
                                                    positionRMS: [before?.position ?? .nan, r.after.position],
                                                    velocityRMS: [before?.velocity ?? .nan, r.after.velocity])
            }
            // Figure: a held-out recording (else the first) replayed on the nominal and the
            // calibrated model, first excited joint.
            var figures: [CalibrationFigure] = []
            if let shown = heldOut.first ?? recordings.first {
                let joint = (shown.metadata["joints"] ?? "").split(separator: ",").first.map(String.init) ?? shown.jointNames[0]
                if let j = shown.jointNames.firstIndex(of: joint),
                   let nominal = try? fit.simulate(shown), let calibrated = try? fit.simulate(shown, values: result.values) {
                    let measured = shown.series(joint: j, \.positions)
                    let a = nominal.series(joint: j, \.positions), b = calibrated.series(joint: j, \.positions)
                    figures.append(CalibrationFigure(kind: .trajectory, title: "\(joint): recorded and replayed\(heldOut.isEmpty ? "" : " (held out)")",
                                                     xLabel: "time (s)", yLabel: "position (rad)",
                                                     series: [.init(label: "recorded", x: measured.times, y: measured.values, measured: true),
                                                              .init(label: "nominal model", x: a.times, y: a.values, measured: false),
                                                              .init(label: "calibrated model", x: b.times, y: b.values, measured: false)],
                                                     caption: String(format: "%@: normalized RMS error %.3g (nominal) → %.3g (calibrated)",
                                                                     URL(fileURLWithPath: shown.source).lastPathComponent,
                                                                     result.recordings.first { $0.source == shown.source }?.before?.normalized ?? .nan,
                                                                     result.recordings.first { $0.source == shown.source }?.after.normalized ?? .nan)))
                }
            }
            return (out, figures, held, warnings)
        }
    }
}
