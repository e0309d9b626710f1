import ArgumentParser
import Foundation
import TetherCore
import TetherSim
import TetherValidation

struct GapReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Compare sim and real trial records: success rates and metrics with intervals and tests, as HTML and JSON.",
        discussion: """
        Success: Wilson 95 % intervals, Fisher's exact and two-proportion z tests, the gap in \
        percentage points. Continuous metrics: mean ± t interval, Welch's t test. See docs/gap-report.md.

        With --validation GATE.json (a `tether validate --out` result) and --real: a section "Gate \
        vs robot" — the gate's success rate under its randomization against the robot's, the \
        difference with Newcombe's 95 % interval, Fisher's exact test, and whether the gate agrees \
        with the robot, is optimistic (robot worse) or pessimistic (robot better). --sim is then \
        optional: without it the report compares the gate and the robot only.

        With --vision-sim-gt, --vision-sim-dt, --vision-real-gt and --vision-real-dt instead: a \
        detector's gap, COCO mAP / AP50 / AR@100 and AP per class on a synthetic and a real test \
        set (docs/coco.md).

        Examples:
          tether report --sim runs/sim/trials.jsonl --real runs/typical/trials.jsonl --out gap.html --json gap.json
          tether report --validation gate.json --real runs/robot/trials.jsonl --out gate-vs-robot.html --json gate-vs-robot.json
          tether report --vision-sim-gt sim/gt.json --vision-sim-dt sim/dt.json --vision-real-gt real/gt.json --vision-real-dt real/dt.json --out \
        det-gap.html --json det-gap.json
        """
    )

    @Option(help: "Trial records of the sim set (JSON Lines).") var sim: String?
    @Option(help: "Trial records of the real (or emulated) set (JSON Lines).") var real: String?
    @Option(help: "HTML report path.") var out = "gap-report.html"
    @Flag(help: "Render the worst real trial beside its simulated twin (from their flight recordings) into worst-trial.mp4 beside the report.")
    var video = false
    @Option(help: "With --video: the built-in robot or manifest the trials ran on.") var robot = "quadruped"
    @Option(help: "JSON twin path.") var json: String?
    @Option(help: "Validation gate result (tether validate --out) to compare with the real set.") var validation: String?
    @Option(help: ArgumentHelp("Gap attribution to include (attribution.json from `tether trials --attribute`); repeat for several (calibrated parameters, "
        + "virtual "
        + "robot's truth).")) var attribution: [String] = []

    @OptionGroup var vision: DetectionGapOptions

    func validate() throws {
        if vision.isSet { try vision.check(); return }
        if validation != nil {
            guard real != nil else { throw ValidationError("--validation compares the gate with the robot: add --real (the robot's trials.jsonl)") }
            if sim == nil && !attribution.isEmpty { throw ValidationError("--attribution belongs to the sim-vs-real comparison: add --sim") }
            return
        }
        guard sim != nil, real != nil else { throw ValidationError("pass --sim and --real (trial records), --validation and --real (gate vs robot), or the "
            + "four --vision-… options (a detector's COCO sets)") }
    }

    func run() throws {
        if vision.isSet { return try vision.run(out: out, json: json) }
        guard let real else { return }
        let versus = try validation.map { path in try report { try GateVersusRobot.load(gatePath: path, robotPath: real) } }
        guard let sim else {
            guard let versus else { return }
            try report { try versus.html(generatedAt: Date()).write(to: out) }
            if let json { try writeOutput(to: json, what: "the JSON report") { try versus.json() } }
            printGateVersusRobot(versus)
            print("  report \(out)" + (json.map { ", JSON \($0)" } ?? ""))
            return
        }
        var gap = try report { try GapReport.load(simPath: sim, realPath: real) }
        gap.gateVersusRobot = versus
        if video {
            let robotModel = try report { try BuiltinRobots.load(robot) }
            let simRecords = try report { try TrialRecords.read(path: sim) }, realRecords = try report { try TrialRecords.read(path: real) }
            let directory = (out as NSString).deletingLastPathComponent
            attachWorstTrialVideo(&gap, sim: simRecords, real: realRecords, robot: robotModel, directory: directory.isEmpty ? "." : directory)
        }
        if !attribution.isEmpty { gap.attributions = try attribution.map { path in try report { try GapAttribution.read(path: path) } } }
        try report { try gap.html(generatedAt: Date()).write(to: out) }
        if let json {
            try writeOutput(to: json, what: "the JSON report") { try gap.json() }
        }
        print("\(gap.verdict.uppercased()): \(gap.headline)")
        for (name, set) in [("sim ", gap.sim), ("real", gap.real)] {
            print("  \(name) \(set.successes)/\(set.trials) success, 95 % [\(fmt(100 * set.successInterval.lower, 1)), "
                + "\(fmt(100 * set.successInterval.upper, 1))] %; " +
                  set.failureModes.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        }
        for m in gap.metrics {
            let p = m.p.map { fmt($0, 3) } ?? "n/a"
            print("  \(m.name): sim \(m.simMean.map { fmt($0, 3) } ?? "—"), real \(m.realMean.map { fmt($0, 3) } ?? "—") \(m.unit), p "
                + "\(p)\(m.significant ? "  DIFFER" : "")")
        }
        for (name, set) in [("sim ", gap.sim), ("real", gap.real)] {
            for g in set.gate ?? [] { print("  \(name) gate: \(g)") }
        }
        if let versus { printGateVersusRobot(versus) }
        for a in gap.attributions ?? [] {
            let full = a.entries.first.map { "\($0.successes)/\($0.trials)" } ?? "—"
            var line = "  attribution over \(a.isCalibration ? "calibrated parameters" : "the virtual robot's truth"): "
                + "\(a.isCalibration ? "calibrated" : "full truth") \(full)"
            if let v = a.versusReal { line += " vs real \(v.realSuccesses)/\(v.realTrials) (Fisher p \(fmt(v.fisherP, 3)): "
                + "\(v.verdict ?? (v.reproduces ? "consistent" : "differs")))" }
            print(line + "; " + (a.explaining.isEmpty ? "no single group explains the failures" : "explained by \(a.explaining.joined(separator: ", "))"))
        }
        print("  report \(out)" + (json.map { ", JSON \($0)" } ?? ""))
    }
}

/// The terminal lines of a gate-vs-robot comparison.
private func printGateVersusRobot(_ v: GateVersusRobot) {
    print("GATE VS ROBOT: \(v.verdict.rawValue.uppercased()): \(v.sentence)")
    print("  gate  \(v.gate.successes)/\(v.gate.trials) \(v.gate.decision), Clopper–Pearson [\(fmt(100 * v.gate.clopperPearson.lower, 1)), "
        + "\(fmt(100 * v.gate.clopperPearson.upper, 1))] %, randomization \(v.gate.randomization ?? "none (nominal model)")")
    print("  robot \(v.robot.successes)/\(v.robot.trials) (\(v.robot.backend)), Wilson [\(fmt(100 * v.robot.successInterval.lower, 1)), "
        + "\(fmt(100 * v.robot.successInterval.upper, 1))] %")
    for g in v.robot.gate ?? [] { print("  robot gate: \(g)") }
    print("  what to do: \(v.advice)")
    for note in v.notes { print("  note: \(note)") }
}
