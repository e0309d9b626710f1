import Foundation
import TetherNumerics
import TetherCore
import TetherReport

/// What `tether improve` writes as improve.json and improve.html: the before / after comparison,
/// every check, why the loop stopped and what it cost.
public struct ImprovementReport: Sendable, Codable {
    public var comparison: ImprovementLoop.Comparison
    /// Clopper–Pearson 95 % intervals of before and after.
    public var beforeInterval: ConfidenceInterval
    public var afterInterval: ConfidenceInterval
    /// Whether after ran on other trials than before (it does: before's failures were trained on).
    public var afterOnFreshTrials: Bool
    public var stopReason: String
    public var budget: ImprovementBudget
    public var iterations: Int
    public var environmentSteps: Int
    public var wallSeconds: Double
    public var trainingSeconds: Double
    /// Validations (before, confirmations) and checks, s.
    public var checkSeconds: Double
    public var checks: [ImprovementRun.Check]
    /// The gate's success threshold and the successes of `trials` a check needs for GO.
    public var threshold: Double
    public var successesForGo: Int?
    public var gateRandomization: String
    public var trainingRandomization: String

    public init(outcome o: ImprovementRun.Outcome, budget: ImprovementBudget, gateRandomization: String, trainingRandomization: String) {
        let b = o.before.summary, a = o.after?.summary ?? o.before.summary
        func side(_ s: GateSummary, _ policy: String) -> ImprovementLoop.Comparison.Side {
            .init(policy: policy, trials: s.trials, successes: s.successes, rate: s.successRate, wilson: s.wilson, decision: s.decision)
        }
        comparison = ImprovementLoop.Comparison(
            before: side(b, o.before.identity.policy), after: side(a, o.policy), change: 100 * (a.successRate - b.successRate),
            fisherP: HypothesisTests.fisherExact(b.successes, b.trials - b.successes, a.successes, a.trials - a.successes),
            scenariosFixed: o.scenariosFixed, scenariosTotal: o.scenariosTotal)
        beforeInterval = b.clopperPearson
        afterInterval = a.clopperPearson
        afterOnFreshTrials = o.after.map { $0.identity.seed != o.before.identity.seed } ?? false
        stopReason = o.stopReason.rawValue
        self.budget = budget
        iterations = o.iterations
        environmentSteps = o.environmentSteps
        wallSeconds = o.wallSeconds
        trainingSeconds = o.trainingSeconds
        checkSeconds = o.checkSeconds
        checks = o.checks
        threshold = o.before.identity.threshold
        successesForGo = ImprovementRun.successesForGo(trials: o.before.identity.trials, threshold: threshold, confidence: o.before.identity.confidence)
        self.gateRandomization = gateRandomization
        self.trainingRandomization = trainingRandomization
    }

    /// The page: verdict, before / after with intervals, the checks over training, the cost.
    public func html(generatedAt: Date? = nil) -> HTMLReport {
        let b = comparison.before, a = comparison.after
        func pct(_ x: Double) -> String { String(format: "%.1f", 100 * x) }
        let passed = stopReason == ImprovementRun.StopReason.gatePasses.rawValue || stopReason == ImprovementRun.StopReason.alreadyPasses.rawValue
        let headline: String
        switch stopReason {
        case ImprovementRun.StopReason.alreadyPasses.rawValue:
            headline = "the policy already passed the gate (\(b.successes)/\(b.trials)); nothing was trained"
        case ImprovementRun.StopReason.gatePasses.rawValue:
            headline = "the gate passes: \(b.successes)/\(b.trials) → \(a.successes)/\(a.trials) on fresh trials after \(iterations) iterations "
                + "(\(Int(wallSeconds.rounded())) s)"
        default:
            headline = "the budget (\(budget)) was spent before the gate passed: the best checked policy scores \(a.successes)/\(a.trials) (\(a.decision)) "
                + "on fresh trials"
        }
        let cards = [
            SummaryCard("success, before", value: pct(b.rate), unit: "%", status: b.decision == .go ? .pass : .fail,
                        detail: "\(b.successes)/\(b.trials), CP \(pct(beforeInterval.lower))–\(pct(beforeInterval.upper)) %"),
            SummaryCard("success, after (fresh trials)", value: pct(a.rate), unit: "%", status: a.decision == .go ? .pass : .fail,
                        detail: "\(a.successes)/\(a.trials), CP \(pct(afterInterval.lower))–\(pct(afterInterval.upper)) %"),
            SummaryCard("training", value: "\(iterations)", unit: "iterations", detail: "\(environmentSteps) env steps"),
            SummaryCard("wall time", value: String(format: "%.0f", wallSeconds), unit: "s",
                        detail: String(format: "%.0f s training, %.0f s validations and checks", trainingSeconds, checkSeconds)),
        ]
        var result = ReportSection("Before and after")
        result.paragraph("The gate: \(b.trials) trials under \(gateRandomization), GO when the 95 % Clopper–Pearson lower bound reaches \(pct(threshold)) %"
                         + (successesForGo.map { " (\($0) of \(b.trials) successes)" } ?? "") + ". Before ran on the trials whose failures training replayed; "
                         + "after ran on trials that neither training nor any check used.")
        result.figure(SVGPlot.interval(title: "Success rate under the gate's randomization (95 % Clopper–Pearson)", axis: PlotAxis("success rate", unit: "%"),
                                       estimates: [IntervalEstimate("before", estimate: 100 * b.rate, lower: 100 * beforeInterval.lower,
                                                                    upper: 100 * beforeInterval.upper),
                                                   IntervalEstimate("after", estimate: 100 * a.rate, lower: 100 * afterInterval.lower,
                                                                    upper: 100 * afterInterval.upper)],
                                       referenceLine: 100 * threshold))
        result.table(ReportTable(header: ["", "policy", "successes", "rate", "95 % CP", "decision"], rows: [
            [ReportCell("before"), ReportCell(b.policy), ReportCell("\(b.successes)/\(b.trials)"), ReportCell(pct(b.rate) + " %"),
             ReportCell("\(pct(beforeInterval.lower))–\(pct(beforeInterval.upper)) %"), ReportCell(b.decision.rawValue,
                                                                                                   status: b.decision == .go ? .pass : .fail)],
            [ReportCell("after"), ReportCell(a.policy), ReportCell("\(a.successes)/\(a.trials)"), ReportCell(pct(a.rate) + " %"),
             ReportCell("\(pct(afterInterval.lower))–\(pct(afterInterval.upper)) %"), ReportCell(a.decision.rawValue,
                                                                                                 status: a.decision == .go ? .pass : .fail)],
        ], caption: String(format: "Change %+.1f points, Fisher's exact p = %.3g. %d of %d failures of the before gate pass when run again (they were "
            + "trained on).",
                           comparison.change, comparison.fisherP, comparison.scenariosFixed, comparison.scenariosTotal)))
        var sections = [result]
        if !checks.isEmpty {
            var progress = ReportSection("Checks during training")
            progress.paragraph("After every chunk of training the candidate ran the gate's trials on a seed of its own; a check stops early once too many "
                               + "failures make the GO impossible. A passing check is confirmed on other fresh trials; the confirmation decides.")
            let held = checks.filter { !$0.confirmation }, confirmed = checks.filter(\.confirmation)
            var series = [PlotSeries("checks (fresh trials)", x: held.map { Double($0.iteration) }, y: held.map { 100 * Double($0.successes) / Double(max(1,
                $0.trials)) }, markers: true)]
            if !confirmed.isEmpty {
                series.append(PlotSeries("confirmations (other fresh trials)", x: confirmed.map { Double($0.iteration) },
                                         y: confirmed.map { 100 * Double($0.successes) / Double(max(1, $0.trials)) }, dashed: true, markers: true))
            }
            var references = [PlotReference.horizontal(100 * Double(comparison.before.successes) / Double(max(1, comparison.before.trials)), label: "before")]
            if let needed = successesForGo { references.append(.horizontal(100 * Double(needed) / Double(max(1, b.trials)), label: "needed for GO")) }
            progress.figure(SVGPlot.line(title: "Success rate of each check", x: PlotAxis("training iterations"), y: PlotAxis("success rate", unit: "%"),
                                         series: series, references: references))
            progress.table(ReportTable(header: ["iterations", "kind", "seed", "successes", "decision", "why", "s"], rows: checks.map { c in
                [ReportCell(integerLiteral: c.iteration), ReportCell(c.confirmation ? "confirmation" : "check"), ReportCell("\(c.seed)"),
                 ReportCell("\(c.successes)/\(c.trials)"), ReportCell(c.decision.rawValue, status: c.decision == .go ? .pass : .fail), ReportCell(c.reason),
                 ReportCell(c.seconds, digits: 3)]
            }))
            sections.append(progress)
        }
        var cost = ReportSection("Cost and settings")
        cost.table(ReportTable(header: ["", ""], rows: [
            [ReportCell("budget"), ReportCell(budget.description)],
            [ReportCell("stopped because"), ReportCell(stopReason)],
            [ReportCell("wall time"), ReportCell(String(format: "%.0f s", wallSeconds))],
            [ReportCell("training"), ReportCell(String(format: "%.0f s, %d iterations, %d env steps (%.0f env steps/s)", trainingSeconds, iterations,
                                                       environmentSteps,
                                                       Double(environmentSteps) / max(trainingSeconds, 1e-9)))],
            [ReportCell("validations and checks"), ReportCell(String(format: "%.0f s", checkSeconds))],
            [ReportCell("gate's randomization"), ReportCell(gateRandomization)],
            [ReportCell("training randomization"), ReportCell(trainingRandomization)],
        ]))
        sections.append(cost)
        return HTMLReport(title: "Improvement: \((b.policy as NSString).lastPathComponent) → \((a.policy as NSString).lastPathComponent)",
                          subtitle: "tether improve · gate \(gateRandomization)", generatedAt: generatedAt, generatedBy: "tether improve",
                          verdict: ReportVerdict(passed ? .pass : .fail, headline), cards: cards, sections: sections,
                          footer: "The gate predicts the robot only as well as its randomization describes it: compare with trials on the robot (tether "
                              + "report --validation).")
    }
}
