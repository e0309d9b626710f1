import ArgumentParser
import Foundation
import TetherCore
import TetherHistory
import TetherSim

/// The deployment gate as `tether deploy` and `tether trials` apply it (docs/deployment-gate.md):
/// nil for a simulation backend (not gated); the clearance, with one line saying which validation
/// cleared the policy or a warning for an override; or the refusal (exit 1) before anything moves.
func deploymentGate(robot: RobotModel, robotOption: String, policy: String, backend: RobotBackend, override: String?,
                    say: (String) -> Void) throws -> DeploymentClearance? {
    guard DeploymentGate.isGated(backend: backend) else {
        if override != nil { say("note: the \(backend) backend is simulation and is not gated: --override ignored") }
        return nil
    }
    let manifestPath = try report { try robot.manifest.sourcePath ?? BuiltinRobots.manifestPath(for: robotOption) }
    // The randomization a refusal suggests validating under: the one beside the manifest, if any.
    let beside = ((manifestPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("randomization.yaml")
    let suggested = FileManager.default.fileExists(atPath: beside)
        ? (robotOption.contains("/") || robotOption.hasSuffix(".yaml") || robotOption.hasSuffix(".yml") ? beside : "robots/\(robotOption)/randomization.yaml")
        : nil
    let subject = try report {
        try DeploymentGate.Subject(robot: robot.manifest.name, policy: policy, manifest: manifestPath, backend: backend,
                                   robotArgument: robotOption, suggestedRandomization: suggested)
    }
    let clearance = try report { try DeploymentGate.clear(subject, source: .default(), override: override) }
    switch clearance.status {
    case .cleared:
        say("gate: GO, \(clearance.sentence)" + (override != nil ? " (--override not needed, ignored)" : ""))
    case .overridden:
        FileHandle.standardError.write(Data(("warning: deployment gate overridden: \(clearance.refusal ?? "no GO validation"); reason "
            + "\"\(clearance.overrideReason ?? "")\" (recorded in the history, the trial records and the flight recording)\n").utf8))
    }
    return clearance
}

/// `--override` as `validate()` checks it: a reason, not blank.
func checkOverride(_ override: String?) throws {
    if let override, override.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        throw ValidationError("--override needs a reason (it is recorded with the run), e.g. --override \"bench test on the gantry\"")
    }
}
