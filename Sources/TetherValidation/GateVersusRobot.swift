import Foundation
import TetherNumerics
import TetherCore
import TetherReport

/// Does the gate predict the robot? The validation gate's success rate under its randomization
/// (`tether validate --out`) against the success rate of trials on the robot itself (`tether
/// trials`), with the difference gate − robot, Newcombe's 95 % interval on it, and Fisher's
/// exact test. A gate is only worth its threshold when the two agree: an optimistic gate (robot
/// worse) lets through policies that fail on the robot; a pessimistic one (robot better) refuses
/// policies the robot runs well, because its randomization describes a harsher robot than the one
/// measured. See docs/gap-report.md.
public struct GateVersusRobot: Sendable, Codable, Equatable {
    /// The gate's side: one `tether validate` result.
    public struct Gate: Sendable, Codable, Equatable {
        /// The result file.
        public var source: String
        public var policy: String
        public var policyDigest: String
        /// The randomization it ran under (nil: the nominal model).
        public var randomization: String?
        public var trials: Int
        public var successes: Int
        public var successRate: Double
        /// Clopper–Pearson interval (the one the decision uses) and Wilson interval, at its confidence.
        public var clopperPearson: ConfidenceInterval
        public var wilson: ConfidenceInterval
        /// GO or NO-GO, at this threshold.
        public var decision: String
        public var threshold: Double
    }

    /// What the verdict says, in one word.
    public enum Verdict: String, Sendable, Codable {
        /// No evidence of a difference: the 95 % interval of gate − robot contains 0, or Fisher's
        /// exact p is 0.05 or more.
        case agrees
        /// The interval lies above 0 and p < 0.05: the robot does worse than the gate predicts.
        case optimistic
        /// The interval lies below 0 and p < 0.05: the robot does better than the gate predicts.
        case pessimistic
    }

    public var gate: Gate
    /// The robot's trials, summarized as in the gap report (with their gate clearances).
    public var robot: GapReport.TrialSet
    /// Gate minus robot success rate, percentage points.
    public var differencePercentagePoints: Double
    /// Newcombe's hybrid score 95 % interval of that difference, percentage points.
    public var differenceInterval: ConfidenceInterval
    /// Fisher's exact test (two-sided) of the two sets of counts.
    public var fisherP: Double
    public var verdict: Verdict
    /// The verdict in a sentence, and what to do.
    public var sentence: String
    public var advice: String
    /// Why the comparison may not be like for like (another policy, the nominal model, a
    /// simulated "robot").
    public var notes: [String]

    /// Compares a gate result with trial records of the robot. Throws when the trial set is empty,
    /// the gate result is a shard, or the two are of different robots.
    public init(gate result: GateResult, gateSource: String, robot records: [TrialRecord], robotSource: String) throws {
        guard !records.isEmpty else {
            throw TetherError("the robot's set has no trial records", at: robotSource,
                              hint: "run `tether trials --backend emulator|ros2 … --out DIR` and pass DIR/trials.jsonl")
        }
        guard result.shard == nil else {
            throw TetherError("this validation result is one shard; the gate's rate is that of all its trials", at: gateSource,
                              hint: "merge the shards first: tether validate merge shard*.json --out gate.json")
        }
        guard result.identity.robot == records[0].robot else {
            throw TetherError("the validation is of robot \(result.identity.robot) but the trials ran on \(records[0].robot)", at: gateSource,
                              hint: "compare a validation and trials of the same robot")
        }
        let s = result.summary
        gate = Gate(source: gateSource, policy: result.identity.policy, policyDigest: result.identity.policyDigest,
                    randomization: result.identity.randomization, trials: s.trials, successes: s.successes, successRate: s.successRate,
                    clopperPearson: s.clopperPearson, wilson: s.wilson, decision: s.decision.rawValue, threshold: result.identity.threshold)
        robot = GapReport.summarize(records, source: robotSource)
        let r = robot
        differencePercentagePoints = 100 * (s.successRate - r.successRate) + 0  // + 0: no −0
        let difference = ConfidenceInterval.newcombeDifference(successesA: s.successes, trialsA: s.trials, successesB: r.successes, trialsB: r.trials)
        differenceInterval = ConfidenceInterval(lower: 100 * difference.lower + 0, upper: 100 * difference.upper + 0, level: difference.level)
        fisherP = HypothesisTests.fisherExact(s.successes, s.trials - s.successes, r.successes, r.trials - r.successes)
        // A difference needs both the interval (which excludes 0) and the exact test (p < 0.05):
        // with a handful of trials Newcombe's interval can exclude 0 where Fisher's test, exact
        // for any count, finds no evidence, and the verdict should not claim what the counts
        // cannot show.
        let differs = fisherP < 0.05
        verdict = differs && differenceInterval.lower > 0 ? .optimistic : differs && differenceInterval.upper < 0 ? .pessimistic : .agrees

        let counts = String(format: "gate %d/%d (%.0f %%) vs robot %d/%d (%.0f %%): %+.1f points, 95 %% interval %+.1f … %+.1f, Fisher p = %.3g",
                            s.successes, s.trials, 100 * s.successRate, r.successes, r.trials, 100 * r.successRate,
                            differencePercentagePoints, differenceInterval.lower, differenceInterval.upper, fisherP)
        switch verdict {
        case .agrees:
            let lean = abs(differencePercentagePoints) >= 10
                ? String(format: "; it leans %@ by %.0f points, which %d gate and %d robot trials cannot confirm",
                         differencePercentagePoints > 0 ? "optimistic" : "pessimistic", abs(differencePercentagePoints), s.trials, r.trials)
                : ""
            sentence = "The gate agrees with the robot: \(counts)\(lean)."
            advice = lean.isEmpty
                ? "Its GO / NO-GO can be trusted for this robot as far as these trials tell."
                : "Run more trials on the robot to tell whether the gate is \(differencePercentagePoints > 0 ? "optimistic" : "pessimistic"): the interval "
                    + "narrows with the square root of the trials."
        case .optimistic:
            sentence = "The gate is optimistic — the robot does worse than it predicts: \(counts)."
            advice = "The randomization is milder than the robot or misses an effect: measure the robot (tether experiment, tether calibrate), validate "
                + "under the randomization the calibration writes, and do not trust a GO from this gate until the two agree."
        case .pessimistic:
            sentence = "The gate is pessimistic — the robot does better than it predicts: \(counts)."
            advice = "Its randomization describes a harsher robot than the one measured (ranges wider than the measured uncertainty, or uncalibrated "
                + "parameters at the base spec's wide ranges): derive the ranges from a calibration of this robot and validate again; a pessimistic gate "
                    + "refuses policies the robot runs well."
        }
        var notes: [String] = []
        let digests = Set(records.compactMap { $0.gate?.policyDigest })
        if !digests.isEmpty, digests != [result.identity.policyDigest] {
            notes.append("the robot's trials ran a policy with digest \(digests.sorted().joined(separator: ", ")), the validation "
                + "\(result.identity.policyDigest): they are not the same policy")
        } else if digests.isEmpty, Set(records.map(\.policy)) != [result.identity.policy] {
            notes.append("the robot's trials name policy \(Set(records.map(\.policy)).sorted().joined(separator: ", ")), the validation "
                + "\(result.identity.policy) (the trials recorded no digest to tell whether the bytes are the same)")
        }
        if result.identity.randomization == nil {
            notes.append("the validation ran on the nominal model, not under a randomization: it predicts one idealized robot")
        }
        if r.backend == RobotBackend.sim.rawValue {
            notes.append("the trial set ran on the sim backend (simulation), not on a robot")
        }
        let reduced = Set(records.compactMap(\.stage).filter { $0 < 1 })
        if !reduced.isEmpty {
            notes.append("the robot's trials ran at a torque stage of \(reduced.sorted().map { "\(Int(($0 * 100).rounded())) %" }.joined(separator: ", ")), "
                + "the gate at full torque: "
                         + "a reduced stage limits what the policy can do (the chapter gives 25 % slow, safe movements, not the task); run the trials with "
                             + "--stage 100 to compare")
        }
        self.notes = notes
    }

    /// Reads a validation result and a trial-records file and compares them.
    public static func load(gatePath: String, robotPath: String) throws -> GateVersusRobot {
        try GateVersusRobot(gate: GateResult.load(path: gatePath), gateSource: gatePath, robot: TrialRecords.read(path: robotPath), robotSource: robotPath)
    }

    /// The JSON of the comparison alone (sorted keys), for `tether report --validation … --real …` without `--sim`.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    var status: ReportStatus { verdict == .agrees ? .pass : .warn }

    /// The report section "Gate vs robot": the two rates with their intervals, the difference
    /// with its interval, the test and the verdict.
    public var section: ReportSection {
        func pct(_ x: Double) -> String { String(format: "%.1f", 100 * x) }
        var a = ReportSection("Gate vs robot")
        a.paragraph("The validation gate's success rate under its randomization (\(gate.randomization ?? "none: nominal model"); \(gate.source)) against "
            + "the success rate of the trials on the robot (\(robot.source)). The gate's interval is Clopper–Pearson (the one its decision uses), the "
                + "robot's Wilson; the difference gate − robot has Newcombe's hybrid score 95 % interval (from the two Wilson intervals); the test is "
                    + "Fisher's exact test. The two differ when the interval of the difference excludes 0 and Fisher's p is below 0.05; otherwise the gate "
                        + "agrees with the robot as far as these trials tell.")
        a.callout(status, sentence + " " + advice)
        a.figure(SVGPlot.interval(title: "Success rate: gate vs robot (95 % intervals)", axis: PlotAxis("success rate", unit: "%", range: 0...100),
                                  estimates: [IntervalEstimate("gate (Clopper–Pearson)", estimate: 100 * gate.successRate,
                                                               lower: 100 * gate.clopperPearson.lower, upper: 100 * gate.clopperPearson.upper),
                                              IntervalEstimate("robot (Wilson)", estimate: 100 * robot.successRate, lower: 100 * robot.successInterval.lower,
                                                               upper: 100 * robot.successInterval.upper)],
                                  referenceLine: 100 * gate.threshold))
        a.table(ReportTable(header: ["", "success", "rate", "95 % interval", "decision / verdict"], rows: [
            [ReportCell("gate"), ReportCell("\(gate.successes)/\(gate.trials)"), ReportCell("\(pct(gate.successRate)) %"),
             ReportCell("\(pct(gate.clopperPearson.lower))–\(pct(gate.clopperPearson.upper)) % (Clopper–Pearson)"),
             ReportCell("\(gate.decision) at \(pct(gate.threshold)) %", status: gate.decision == "GO" ? .pass : .fail)],
            [ReportCell("robot (\(robot.backend)\(robot.truth.map { ", \($0)" } ?? ""))"), ReportCell("\(robot.successes)/\(robot.trials)"),
             ReportCell("\(pct(robot.successRate)) %"),
             ReportCell("\(pct(robot.successInterval.lower))–\(pct(robot.successInterval.upper)) % (Wilson)"), ReportCell("—")],
            [ReportCell("gate − robot"), ReportCell("—"), ReportCell(String(format: "%+.1f pp", differencePercentagePoints)),
             ReportCell(String(format: "%+.1f … %+.1f pp (Newcombe)", differenceInterval.lower, differenceInterval.upper)),
             ReportCell("\(verdict.rawValue), Fisher p = \(String(format: "%.3g", fisherP))", status: status)],
        ], caption: "The vertical line in the plot is the gate's threshold."))
        for note in notes { a.callout(.info, "Note: \(note).") }
        if let gates = robot.gate { a.paragraph("Deployment gate of the robot's trials: " + gates.joined(separator: "; ") + ".") }
        return a
    }

    /// A report of the comparison alone (no simulation trial set): the verdict, the section, and
    /// the robot set's outcomes.
    public func html(generatedAt: Date? = nil) -> HTMLReport {
        func pct(_ x: Double) -> String { String(format: "%.1f", 100 * x) }
        let cards = [
            SummaryCard("success, gate", value: pct(gate.successRate), unit: "%", status: gate.decision == "GO" ? .pass : .fail,
                        detail: "\(gate.successes)/\(gate.trials), \(gate.decision)"),
            SummaryCard("success, robot", value: pct(robot.successRate), unit: "%", detail: "\(robot.successes)/\(robot.trials)"),
            SummaryCard("gate − robot", value: String(format: "%+.1f", differencePercentagePoints), unit: "pp", status: status,
                        detail: String(format: "95 %% %+.1f … %+.1f", differenceInterval.lower, differenceInterval.upper)),
        ]
        var outcomes = ReportSection("Robot trials")
        outcomes.table(ReportTable(header: ["outcome", "trials"], rows: robot.failureModes.sorted { $0.key < $1.key }.map {
            [ReportCell($0.key), ReportCell(integerLiteral: $0.value)]
        }))
        if !robot.interventions.isEmpty {
            outcomes.table(ReportTable(header: ["intervention", "total"], rows: robot.interventions.sorted { $0.key < $1.key }.map {
                [ReportCell($0.key), ReportCell(integerLiteral: $0.value)]
            }, caption: "Safety wrapper events by reason, summed over the trials."))
        }
        return HTMLReport(title: "Gate vs robot: \(robot.source)",
                          subtitle: "policy \(gate.policy) · gate \(gate.source), \(gate.trials) trials · robot \(robot.backend), \(robot.trials) trials",
                          generatedAt: generatedAt, generatedBy: "tether report", verdict: ReportVerdict(status, sentence), cards: cards,
                          sections: [section, outcomes],
                          footer: "Software stops are controlled stops, not safety-rated functions; hardware e-stops remain mandatory.")
    }
}
