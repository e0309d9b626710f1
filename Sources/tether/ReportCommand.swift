import ArgumentParser
import Foundation
import TetherCore
import TetherValidation

struct GapReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Compare sim and real trial records: success rates and metrics with intervals and tests, as HTML and JSON.",
        discussion: """
        Success: Wilson 95 % intervals, Fisher's exact and two-proportion z tests, the gap in \
        percentage points. Continuous metrics: mean ± t interval, Welch's t test. See docs/gap-report.md.

        With --vision-sim-gt, --vision-sim-dt, --vision-real-gt and --vision-real-dt instead: a \
        detector's gap, COCO mAP / AP50 / AR@100 and AP per class on a synthetic and a real test \
        set (docs/coco.md).

        Examples:
          tether report --sim runs/sim/trials.jsonl --real runs/typical/trials.jsonl --out gap.html --json gap.json
          tether report --vision-sim-gt sim/gt.json --vision-sim-dt sim/dt.json --vision-real-gt real/gt.json --vision-real-dt real/dt.json --out det-gap.html --json det-gap.json
        """
    )

    @Option(help: "Trial records of the sim set (JSON Lines).") var sim: String?
    @Option(help: "Trial records of the real (or emulated) set (JSON Lines).") var real: String?
    @Option(help: "HTML report path.") var out = "gap-report.html"
    @Option(help: "JSON twin path.") var json: String?
    @Option(help: "Gap attribution to include (attribution.json from `tether trials --attribute`); repeat for several (calibrated parameters, virtual robot's truth).") var attribution: [String] = []

    @OptionGroup var vision: DetectionGapOptions

    func validate() throws {
        if vision.isSet { try vision.check(); return }
        guard sim != nil, real != nil else { throw ValidationError("pass --sim and --real (trial records), or the four --vision-… options (a detector's COCO sets)") }
    }

    func run() throws {
        if vision.isSet { return try vision.run(out: out, json: json) }
        guard let sim, let real else { return }
        var gap = try report { try GapReport.load(simPath: sim, realPath: real) }
        if !attribution.isEmpty { gap.attributions = try attribution.map { path in try report { try GapAttribution.read(path: path) } } }
        try report { try gap.html(generatedAt: Date()).write(to: out) }
        if let json {
            try writeOutput(to: json, what: "the JSON report") { try gap.json() }
        }
        print("\(gap.verdict.uppercased()): \(gap.headline)")
        for (name, set) in [("sim ", gap.sim), ("real", gap.real)] {
            print("  \(name) \(set.successes)/\(set.trials) success, 95 % [\(fmt(100 * set.successInterval[0], 1)), \(fmt(100 * set.successInterval[1], 1))] %; " +
                  set.failureModes.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        }
        for m in gap.metrics {
            let p = m.p.map { fmt($0, 3) } ?? "n/a"
            print("  \(m.name): sim \(m.simMean.map { fmt($0, 3) } ?? "—"), real \(m.realMean.map { fmt($0, 3) } ?? "—") \(m.unit), p \(p)\(m.significant ? "  DIFFER" : "")")
        }
        for a in gap.attributions ?? [] {
            let full = a.entries.first.map { "\($0.successes)/\($0.trials)" } ?? "—"
            var line = "  attribution over \(a.isCalibration ? "calibrated parameters" : "the virtual robot's truth"): \(a.isCalibration ? "calibrated" : "full truth") \(full)"
            if let v = a.versusReal { line += " vs real \(v.realSuccesses)/\(v.realTrials) (Fisher p \(fmt(v.fisherP, 3)): \(v.verdict ?? (v.reproduces ? "consistent" : "differs")))" }
            print(line + "; " + (a.explaining.isEmpty ? "no single group explains the failures" : "explained by \(a.explaining.joined(separator: ", "))"))
        }
        print("  report \(out)" + (json.map { ", JSON \($0)" } ?? ""))
    }
}
