import Foundation
import TetherCalibration
import TetherCore
import TetherHistory

/// The history database as an observer of runs: one row per validation, trial series,
/// deployment, calibration, improvement or detector score, in the local database
/// (`History.defaultPath()`: `TETHER_HISTORY`, or off). Recording never fails a run: a database
/// that cannot be written is a warning through `warn`. The deployment gate reads these rows.
public struct RunHistory: Sendable {
    /// A manifest file and the digest of its bytes.
    public struct ManifestFile: Sendable, Equatable {
        public var path: String
        public var digest: String
        public init(path: String, digest: String) { self.path = path; self.digest = digest }
    }

    /// The command line recorded with each row (how to run it again).
    public var command: String
    /// The manifest the run was given, for a gate result whose identity carries no manifest digest.
    public var invokedManifest: ManifestFile?
    /// Where warnings go (a database that cannot be written).
    public var warn: @Sendable (String) -> Void

    public init(command: String, invokedManifest: ManifestFile? = nil, warn: @escaping @Sendable (String) -> Void) {
        self.command = command
        self.invokedManifest = invokedManifest
        self.warn = warn
    }

    public func validation(_ r: GateResult, artifact: String?) {
        let s = r.summary
        let manifest = invokedManifest
        let manifestDigest = r.identity.manifestDigest ?? manifest?.digest
        _ = History.recordQuietly(History.Entry(
            kind: .validation, robot: r.identity.robot, policy: r.identity.policy,
            backend: r.identity.randomization.map { "randomized sim (\(($0 as NSString).lastPathComponent))" } ?? "nominal sim",
            trials: s.trials, successes: s.successes, rate: s.successRate, lower: s.clopperPearson.lower, upper: s.clopperPearson.upper,
            decision: s.decision.rawValue, summary: "\(r.identity.task); \(s.reason)",
            metrics: ["mean_distance_m": s.meanDistance, "mean_return": s.meanReturn, "wilson_lower": s.wilson.lower, "wilson_upper": s.wilson.upper],
            artifact: artifact, command: command, policyDigest: r.identity.policyDigest,
            manifest: manifestDigest == nil ? nil : manifest?.path, manifestDigest: manifestDigest,
            randomization: r.identity.randomization, randomizationDigest: r.identity.randomizationDigest, threshold: r.identity.threshold), warn: warn)
    }

    /// A trial series; `gate`: how it got through the deployment gate (robot backends).
    public func trials(_ records: [TrialRecord], robot: String, policy: String, backend: RobotBackend, truth: String?, artifact: String,
                       gate: DeploymentClearance? = nil) {
        guard !records.isEmpty else { return }
        let tally = TrialTally(records)
        var metrics: [String: Double] = ["mean_distance_m": tally.meanDistance]
        let tracking = records.compactMap(\.trackingError)
        if !tracking.isEmpty { metrics["mean_tracking_error_m_per_s"] = tracking.reduce(0, +) / Double(tracking.count) }
        let failures = tally.failureModes
        _ = History.recordQuietly(History.Entry(
            kind: .trials, robot: robot, policy: policy, backend: backend.rawValue + (truth.map { " (truth \($0))" } ?? ""),
            trials: tally.trials, successes: tally.successes, rate: tally.rate, lower: tally.wilson.lower, upper: tally.wilson.upper,
            decision: gate?.status.rawValue,
            summary: (failures.isEmpty ? "no failures" : "failures: " + failures.sorted { $0.key < $1.key }.map { "\($0.key) "
                + "\($0.value)" }.joined(separator: ", "))
                + (gate.map { "; \($0.sentence)" } ?? ""),
            metrics: metrics, artifact: artifact, command: command, policyDigest: gate?.policyDigest, manifest: gate?.manifest,
            manifestDigest: gate?.manifestDigest, overrideReason: gate?.overrideReason,
            clearedBy: gate?.status == .cleared ? gate?.validation?.id : nil), warn: warn)
    }

    /// A deployment on a robot, recorded before it starts: how it got through the gate.
    public func deployment(_ gate: DeploymentClearance, artifact: String?) {
        _ = History.recordQuietly(.deployment(gate, artifact: artifact, command: command), warn: warn)
    }

    public func calibration(_ file: CalibrationFile, artifact: String) {
        let patched = file.parameters.filter(\.patched)
        var metrics: [String: Double] = ["parameters_patched": Double(patched.count), "warnings": Double(file.warnings.count)]
        var summary = "\(patched.count) of \(file.parameters.count) parameters patched from \(file.recordings.count) recordings"
        if let h = file.heldOut.first {
            metrics["held_out_error_nominal"] = h.nominal
            metrics["held_out_error_calibrated"] = h.calibrated
            summary += String(format: "; held-out error %.3g → %.3g", h.nominal, h.calibrated)
        }
        for p in patched where p.estimate.count == 1 { metrics[p.name] = p.estimate[0] }
        _ = History.recordQuietly(History.Entry(
            kind: .calibration, robot: file.robot, backend: nil, decision: file.warnings.isEmpty ? "PASS" : "WARN",
            summary: summary, metrics: metrics, artifact: artifact, command: command), warn: warn)
    }

    public func improvement(_ c: ImprovementLoop.Comparison, robot: String, artifact: String) {
        _ = History.recordQuietly(History.Entry(
            kind: .improvement, robot: robot, policy: c.after.policy, backend: "randomized sim",
            trials: c.after.trials, successes: c.after.successes, rate: c.after.rate, lower: c.after.wilson.lower, upper: c.after.wilson.upper,
            decision: c.after.decision.rawValue,
            summary: String(format: "%@ %d/%d (%@) → %d/%d (%@), %+.1f points, Fisher p = %.3g; %d of %d failure scenarios fixed",
                            (c.before.policy as NSString).lastPathComponent, c.before.successes, c.before.trials, c.before.decision.rawValue,
                            c.after.successes, c.after.trials, c.after.decision.rawValue, c.change, c.fisherP, c.scenariosFixed, c.scenariosTotal),
            metrics: ["before_rate": c.before.rate, "after_rate": c.after.rate, "change_points": c.change, "fisher_p": c.fisherP,
                      "scenarios_fixed": Double(c.scenariosFixed), "scenarios_total": Double(c.scenariosTotal)],
            artifact: artifact, command: command), warn: warn)
    }

    /// A detector's score on one test set: rate = mAP@[.5:.95].
    public func detection(robot: String, model: String, set: String, stats: [Double], images: Int, artifact: String?) {
        guard stats.count == 12 else { return }
        _ = History.recordQuietly(History.Entry(
            kind: .detection, robot: robot, policy: model, backend: set, trials: images, rate: max(0, stats[0]),
            summary: String(format: "mAP@[.5:.95] %.3f, AP50 %.3f, AR@100 %.3f on %d images (%@)", stats[0], stats[1], stats[8], images, set),
            metrics: ["mAP": stats[0], "AP50": stats[1], "AP75": stats[2], "AR100": stats[8]], artifact: artifact, command: command), warn: warn)
    }
}
