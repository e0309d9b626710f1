import Foundation
import TetherNumerics
import TetherCore
import TetherSim

/// Writes what `tether calibrate` produces into a directory, and formats it for a terminal.
public enum CalibrationOutput {
    /// calibration.yaml/.json, the patched MJCF (and URDF), model.diff, randomization.yaml, report.html.
    public static func write(_ outcome: Calibration.Outcome, robot: RobotModel, to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw TetherError("cannot create the output directory: \(error.localizedDescription)", at: directory, hint: "choose a writable --out")
        }
        func save(_ text: String, _ name: String) throws {
            let path = "\(directory)/\(name)"
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw TetherError("cannot write \(name): \(error.localizedDescription)", at: path, hint: "check the output directory")
            }
        }
        try outcome.file.write(base: "\(directory)/calibration")
        var diff = ""
        if let mjcf = outcome.mjcf {
            let name = URL(fileURLWithPath: robot.model.source).lastPathComponent
            try save(mjcf.text, name)
            diff += "--- \(robot.model.source)\n+++ \(directory)/\(name)\n" + mjcf.diff.joined(separator: "\n") + "\n"
            if !mjcf.notWritten.isEmpty { diff += "# not written to the MJCF: " + mjcf.notWritten.joined(separator: ", ") + "\n" }
        }
        if let urdf = outcome.urdf, let source = outcome.urdfPath {
            let name = URL(fileURLWithPath: source).lastPathComponent
            try save(urdf.text, name)
            diff += "--- \(source)\n+++ \(directory)/\(name)\n" + urdf.diff.joined(separator: "\n") + "\n"
            if !urdf.notWritten.isEmpty { diff += "# not written to the URDF: " + urdf.notWritten.joined(separator: ", ") + "\n" }
        }
        try save(diff, "model.diff")
        try save(outcome.randomizationYAML, "randomization.yaml")
        if !outcome.trainingRandomizationYAML.isEmpty { try save(outcome.trainingRandomizationYAML, "training-randomization.yaml") }
        try save(CalibrationReport.html(outcome, robot: robot), "report.html")
    }

    /// A fixed-width table of the parameters.
    public static func table(_ file: CalibrationFile) -> String {
        func n(_ v: Double) -> String { String(format: "%.4g", v) }
        var lines = [String(format: "  %-38@ %-10@ %-22@ %-24@ %@", "parameter", "nominal", "estimate ± SE", "95 % interval", "method")]
        for p in file.parameters {
            let nominal = p.nominal.map { $0.map(n).joined(separator: " ") } ?? "—"
            let estimate = zip(p.estimate, p.standardError).map { "\(n($0)) ± \(String(format: "%.2g", $1))" }.joined(separator: ", ")
            let interval = p.interval.map { "[\(n($0.lower)), \(n($0.upper))]" }.joined(separator: " ")
            let mark = p.patched ? "" : " (not patched)"
            lines.append(String(format: "  %-38@ %-10@ %-22@ %-24@ %@", p.name + " (\(p.unit))", nominal, estimate, interval, p.method + mark))
            for f in p.flags { lines.append("      ⚑ \(f)") }
        }
        return lines.joined(separator: "\n")
    }
}
