import Foundation
import TetherNumerics
import TetherCore
import TetherReport

extension GateResult {
    /// The HTML report of the gate: verdict badge, success rate with intervals, failure modes,
    /// sensitivity, distances, and the trials table.
    public func htmlReport(generatedAt: Date? = nil) -> HTMLReport {
        let s = summary, id = identity
        let pct = { (x: Double) in String(format: "%.1f", 100 * x) }
        let status: ReportStatus = s.decision == .go ? .pass : s.decision == .noGo ? .fail : .info
        let verdict = ReportVerdict(status, "\(s.decision.rawValue): \(s.reason)")
        let cards = [
            SummaryCard("success rate", value: 100 * s.successRate, unit: "%", status: status,
                        detail: "\(s.successes) of \(s.trials) trials"),
            SummaryCard("95 % Wilson", value: "\(pct(s.wilson.lower))–\(pct(s.wilson.upper))", unit: "%"),
            SummaryCard("95 % Clopper–Pearson", value: "\(pct(s.clopperPearson.lower))–\(pct(s.clopperPearson.upper))", unit: "%"),
            SummaryCard("threshold", value: 100 * id.threshold, unit: "%", detail: "on the lower bound"),
            SummaryCard("mean distance", value: s.meanDistance, unit: "m"),
        ]
        var overview = ReportSection("Gate")
        overview.paragraph("Policy \(id.policy) on \(id.robot), task: \(id.task). \(s.trials) trials"
                           + (id.randomization.map { " under the randomization \($0)" } ?? " on the nominal model")
                           + ", seed \(id.seed); trial i draws everything random from the stream (seed, i).")
        if let seq = sequential {
            overview.callout(.info, "Sequential gate: a look every \(seq.rule.batch) trials, \(seq.rule.looks) planned, \(seq.looksTaken) taken"
                             + (seq.stoppedEarly ? ", stopped early" : "") + String(format: "; each look uses the %.4g %% Clopper–Pearson interval "
                                 + "(Bonferroni over the looks).", 100 * seq.rule.lookConfidence))
        }
        if shard != nil { overview.callout(.warn, "This is one shard; merge all shards for the decision (tether validate merge).") }
        overview.table(ReportTable(header: ["interval", "lower %", "upper %"], rows: [
            ["Wilson 95 %", .fixed(100 * s.wilson.lower, decimals: 1), .fixed(100 * s.wilson.upper, decimals: 1)],
            ["Clopper–Pearson 95 %", .fixed(100 * s.clopperPearson.lower, decimals: 1), .fixed(100 * s.clopperPearson.upper, decimals: 1)],
            [ReportCell("decision interval"), .fixed(100 * s.decisionInterval.lower, decimals: 1, status: status), .fixed(100 * s.decisionInterval.upper,
                decimals: 1)],
        ]))

        var failures = ReportSection("Failure modes")
        let modes = s.outcomes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        failures.figure(SVGPlot.bar(title: "Trials by outcome", categories: modes.map(\.key),
                                    groups: [BarGroup("trials", values: modes.map { Double($0.value) })], y: PlotAxis("trials")))

        var sensitivity = ReportSection("Sensitivity")
        if s.sensitivity.isEmpty {
            sensitivity.paragraph(s.successes == s.trials || s.successes == 0
                                  ? "Every trial \(s.successes == 0 ? "failed" : "succeeded"): nothing to rank."
                                  : "No randomized parameter with one value per trial.")
        } else {
            sensitivity.paragraph("Point-biserial correlation r of failure with each parameter's drawn value: r > 0 when high values go with failure. Terms "
                + "drawn per item or per axis (independent masses, centre of mass) have no single value and are not ranked.")
            sensitivity.figure(SVGPlot.bar(title: "Correlation of failure with parameter", categories: s.sensitivity.map(\.parameter),
                                           groups: [BarGroup("r", values: s.sensitivity.map(\.correlation))], y: PlotAxis("r")))
            for item in s.sensitivity.prefix(3) { sensitivity.paragraph(item.sentence) }
        }

        var distances = ReportSection("Distances")
        let ok = trialRecords.filter(\.success).map(\.distance), bad = trialRecords.filter { !$0.success }.map(\.distance)
        distances.figure(SVGPlot.histogram(title: "Distance per trial", x: PlotAxis("distance", unit: "m"),
                                           data: [HistogramData("success", values: ok), HistogramData("failure", values: bad)]))

        var seeIt: ReportSection?
        if let videos, !videos.isEmpty {
            var section = ReportSection("See it")
            section.paragraph("The first failed trials, replayed from their random streams (seed, i) with a flight recorder and rendered by "
                              + "MuJoCo; each recording (trial-NNN.mcap) is beside the video for tether render, Foxglove or tether safety replay.")
            for v in videos { section.video(v.path, caption: v.title) }
            seeIt = section
        }

        var table = ReportSection("Trials")
        let names = Set(trialRecords.flatMap(\.parameters.keys)).sorted()
        let rows: [[ReportCell]] = trialRecords.filter { !$0.success }.prefix(200).map { r in
            [ReportCell(integerLiteral: r.index), ReportCell(r.failureMode, status: .fail), .fixed(r.distance, decimals: 2), .fixed(r.seconds, decimals: 2)]
                + names.map { r.parameters[$0].map { ReportCell($0, digits: 4) } ?? "" }
        }
        table.details("Failed trials (first 200)", [.table(ReportTable(header: ["trial", "mode", "distance m", "length s"] + names, rows: rows))])
        return HTMLReport(title: "Validation gate: \(id.robot)", subtitle: "policy \(id.policy) · \(s.trials) trials",
                          generatedAt: generatedAt, generatedBy: "tether validate", verdict: verdict, cards: cards,
                          sections: [overview] + (seeIt.map { [$0] } ?? []) + [failures, sensitivity, distances, table],
                          footer: "Simulation only: a GO is a reason to try the real robot, not a safety argument.")
    }
}
