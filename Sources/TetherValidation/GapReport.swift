import Foundation
import TetherNumerics
import TetherCore
import TetherReport

/// The sim-vs-real gap: two sets of trial records compared metric by metric, with intervals and
/// tests (TetherNumerics' `ConfidenceInterval` and `HypothesisTests`; docs/gap-report.md). "Real" is whichever set is the target:
/// the real robot, or the virtual robot standing in for it.
public struct GapReport: Sendable, Codable {
    /// One set of trials, summarized.
    public struct TrialSet: Sendable, Codable, Equatable {
        /// Where the records came from.
        public var source: String
        public var backend: String
        public var truth: String?
        public var trials: Int
        public var successes: Int
        public var successRate: Double
        /// Wilson score 95 % interval of the success rate, [lower, upper].
        public var successInterval: ConfidenceInterval
        /// Trials by failure mode (`success` included).
        public var failureModes: [String: Int]
        /// Safety interventions by reason, summed over the trials.
        public var interventions: [String: Int]
        /// How the trials got through the deployment gate: each distinct clearance sentence
        /// ("cleared by validation #12 …", "gate OVERRIDDEN (\"reason\") …"); nil when no
        /// record carries one (simulation, or records from before the gate).
        public var gate: [String]?
    }

    /// The success rates compared.
    public struct SuccessComparison: Sendable, Codable {
        /// Sim minus real success rate, percentage points (the chapter's 95 % → 75 % is 20).
        public var gapPercentagePoints: Double
        /// Two-proportion z test (pooled): z and two-sided p.
        public var z: Double?
        public var twoProportionP: Double?
        /// Fisher's exact test, two-sided p.
        public var fisherP: Double
        /// Whether Fisher's p is below 0.05.
        public var significant: Bool
    }

    /// One continuous metric compared.
    public struct MetricComparison: Sendable, Codable {
        public var name: String
        public var unit: String
        /// Values per set (trials that measured the metric).
        public var simValues: [Double]
        public var realValues: [Double]
        public var simMean: Double?
        /// Mean ± Student t 95 % interval, [lower, upper] (nil: fewer than 2 values).
        public var simInterval: ConfidenceInterval?
        public var realMean: Double?
        public var realInterval: ConfidenceInterval?
        /// Real minus sim mean.
        public var difference: Double?
        /// Welch's t test: t, degrees of freedom, two-sided p (nil: too few values or no variance).
        public var welchT: Double?
        public var welchDF: Double?
        public var p: Double?
        /// Whether p is below 0.05.
        public var significant: Bool
        /// Mann–Whitney U of the real set and its two-sided p (a rank test: robust to outliers and skew).
        public var mannWhitneyU: Double?
        public var mannWhitneyP: Double?
    }

    public var format: Int
    public var robot: String
    public var policy: String
    public var sim: TrialSet
    public var real: TrialSet
    public var success: SuccessComparison
    public var metrics: [MetricComparison]
    /// pass (no significant difference), warn (a metric differs or the success gap is large but
    /// not significant) or fail (the success rates differ significantly).
    public var verdict: String
    public var headline: String
    /// What this report does not do yet.
    public var missing: [String]
    /// The validation gate compared with the real set (`tether report --validation`), if given.
    public var gateVersusRobot: GateVersusRobot?
    /// Videos shown in the report (the worst real trial beside its simulated twin), paths relative
    /// to the report; optional in the JSON.
    public var videos: [ReportVideo]?
    /// Gap attributions, when given (see `GapAttribution`): over calibrated parameters (compared
    /// here with the real trials) and / or over the virtual robot's truth. Optional in the JSON:
    /// reports written before there were several read back with none.
    public var attributions: [GapAttribution]? {
        didSet {
            // (An assignment inside its own didSet does not call didSet again.)
            let real = self.real
            attributions = attributions?.map { a in
                var a = a
                a.compare(realSuccesses: real.successes, realTrials: real.trials)
                return a
            }
            missing = Self.missing(attributions ?? [])
        }
    }

    static func missing(_ attributions: [GapAttribution]) -> [String] {
        var notes: [String] = []
        if !attributions.contains(where: \.isCalibration) {
            notes.append("gap attribution over calibrated parameters (which of them, set back to nominal, give back the lost success): not given; `tether "
                + "trials --backend sim --calibration CAL --attribute` makes one")
        }
        if attributions.contains(where: { $0.drilled == nil }) {
            notes.append("attribution by single parameter: groups of parameters are attributed (tens of trials cannot tell dozens of single-parameter runs "
                + "apart); the drill-down into an explaining group's members was not run")
        }
        return notes
    }

    /// The continuous metrics compared: name, unit, how to read it from a record.
    public static let metricDefinitions: [(name: String, unit: String, value: @Sendable (TrialRecord) -> Double?)] = [
        ("distance", "m", { $0.distance }),
        ("episode length", "s", { $0.episodeSeconds }),
        ("score", "m/s", { $0.score }),
        ("tracking error", "m/s", { $0.trackingError }),
        ("torque margin", "", { $0.torqueMargin }),
        ("velocity margin", "", { $0.velocityMargin }),
        ("oscillation", "", { $0.oscillation }),
    ]

    /// Compares two sets of records; errors if either is empty.
    public init(sim: [TrialRecord], real: [TrialRecord], simSource: String, realSource: String) throws {
        guard !sim.isEmpty else { throw TetherError("the sim set has no trial records", at: simSource,
                                                    hint: "run `tether trials --backend sim … --out DIR` and pass DIR/trials.jsonl") }
        guard !real.isEmpty else { throw TetherError("the real set has no trial records", at: realSource,
                                                     hint: "run `tether trials --backend emulator … --out DIR` (or record real trials) and pass "
                                                         + "DIR/trials.jsonl") }
        format = TetherValidationModule.formatVersion
        robot = sim[0].robot
        policy = sim[0].policy
        self.sim = Self.summarize(sim, source: simSource)
        self.real = Self.summarize(real, source: realSource)
        let s = self.sim, r = self.real
        let test = HypothesisTests.twoProportion(successesA: s.successes, trialsA: s.trials, successesB: r.successes, trialsB: r.trials)
        let fisher = HypothesisTests.fisherExact(s.successes, s.trials - s.successes, r.successes, r.trials - r.successes)
        success = SuccessComparison(gapPercentagePoints: 100 * (s.successRate - r.successRate), z: test?.z, twoProportionP: test?.p,
                                    fisherP: fisher, significant: fisher < 0.05)
        metrics = Self.metricDefinitions.map { definition in
            let a = sim.compactMap(definition.value).filter(\.isFinite)
            let b = real.compactMap(definition.value).filter(\.isFinite)
            let ma = SampleStatistics.mean(a), mb = SampleStatistics.mean(b)
            let welch = HypothesisTests.welch(b, a)
            let ranks = HypothesisTests.mannWhitney(b, a)
            return MetricComparison(name: definition.name, unit: definition.unit, simValues: a, realValues: b,
                                    simMean: a.isEmpty ? nil : ma, simInterval: ConfidenceInterval.studentT(mean: a),
                                    realMean: b.isEmpty ? nil : mb, realInterval: ConfidenceInterval.studentT(mean: b),
                                    difference: a.isEmpty || b.isEmpty ? nil : mb - ma,
                                    welchT: welch?.t, welchDF: welch?.df, p: welch?.p, significant: (welch?.p ?? 1) < 0.05,
                                    mannWhitneyU: ranks?.u, mannWhitneyP: ranks?.p)
        }
        let differing = metrics.filter(\.significant).map(\.name)
        let change = 100 * (r.successRate - s.successRate) + 0  // + 0 turns −0 into 0
        let gap = String(format: "%.0f %% → %.0f %% success (%+.0f pp, Fisher p = %.3g)", 100 * s.successRate, 100 * r.successRate, change, fisher)
        if success.significant {
            verdict = "fail"
            headline = "The success rates differ: \(gap)"
        } else if !differing.isEmpty || abs(success.gapPercentagePoints) >= 10 {
            verdict = "warn"
            headline = differing.isEmpty ? "A large success gap that these trials cannot confirm: \(gap); run more trials"
                : "\(gap); differing metrics: \(differing.joined(separator: ", "))"
        } else {
            verdict = "pass"
            headline = "No significant difference: \(gap)"
        }
        missing = Self.missing([])
    }

    static func summarize(_ records: [TrialRecord], source: String) -> TrialSet {
        let t = TrialTally(records)
        var gates: [String] = []
        for r in records { if let g = r.gate?.sentence, !gates.contains(g) { gates.append(g) } }
        return TrialSet(source: source, backend: records[0].backend.rawValue, truth: records[0].truth, trials: t.trials, successes: t.successes,
                        successRate: t.rate, successInterval: t.wilson, failureModes: t.outcomes, interventions: t.interventions,
                        gate: gates.isEmpty ? nil : gates)
    }

    /// Reads both files and compares them.
    public static func load(simPath: String, realPath: String) throws -> GapReport {
        try GapReport(sim: TrialRecords.read(path: simPath), real: TrialRecords.read(path: realPath), simSource: simPath, realSource: realPath)
    }

    /// The JSON twin of the HTML report (sorted keys).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// The HTML report: verdict, cards, success rates with intervals, metric table and distributions, failure modes.
    public func html(generatedAt: Date? = nil) -> HTMLReport {
        let status: ReportStatus = verdict == "fail" ? .fail : verdict == "warn" ? .warn : .pass
        func label(_ set: TrialSet) -> String { set.backend + (set.truth.map { " (\($0))" } ?? "") }
        func pct(_ x: Double) -> String { String(format: "%.1f", 100 * x) }
        let cards = [
            SummaryCard("success, sim", value: pct(sim.successRate), unit: "%",
                        detail: "\(sim.successes)/\(sim.trials), 95 % \(pct(sim.successInterval.lower))–\(pct(sim.successInterval.upper)) %"),
            SummaryCard("success, real", value: pct(real.successRate), unit: "%",
                        detail: "\(real.successes)/\(real.trials), 95 % \(pct(real.successInterval.lower))–\(pct(real.successInterval.upper)) %"),
            SummaryCard("gap", value: String(format: "%.1f", success.gapPercentagePoints), unit: "pp", status: status,
                        detail: String(format: "Fisher p = %.3g", success.fisherP)),
            SummaryCard("metrics differing", value: "\(metrics.filter(\.significant).count) of \(metrics.count)", detail: "Welch p < 0.05"),
        ]
        var successSection = ReportSection("Success rate")
        successSection.paragraph("Success: the base walks the required distance with no fall and no safety stop. Intervals are Wilson score 95 % intervals; "
            + "the tests are Fisher's exact test and the pooled two-proportion z test (two-sided).")
        successSection.figure(SVGPlot.interval(title: "Success rate (95 % Wilson intervals)", axis: PlotAxis("success rate", unit: "%", range: 0...100),
                                               estimates: [IntervalEstimate("sim: \(label(sim))", estimate: 100 * sim.successRate,
                                                                            lower: 100 * sim.successInterval.lower, upper: 100 * sim.successInterval.upper),
                                                           IntervalEstimate("real: \(label(real))", estimate: 100 * real.successRate,
                                                                            lower: 100 * real.successInterval.lower, upper: 100 * real.successInterval.upper)]))
        successSection.table(ReportTable(header: ["test", "statistic", "p", "verdict"], rows: [
            ["Fisher exact (two-sided)", "—", ReportCell(success.fisherP, digits: 3), ReportCell(success.significant ? "differ" : "no evidence",
                                                                                                 status: success.significant ? .fail : .pass)],
            ["two-proportion z (pooled)", success.z.map { ReportCell($0, digits: 3) } ?? "—", success.twoProportionP.map { ReportCell($0, digits: 3) } ?? "—",
             ReportCell((success.twoProportionP ?? 1) < 0.05 ? "differ" : "no evidence", status: (success.twoProportionP ?? 1) < 0.05 ? .fail : .pass)],
        ]))
        var metricSection = ReportSection("Metrics")
        metricSection.paragraph("Mean [Student t 95 % interval] per set; Welch's unequal-variance t test (two-sided) for the difference real − sim. Score: "
            + "distance per second of policy time. Tracking error: mean |achieved − commanded| forward velocity. Margins: minimum over the run of 1 − "
                + "|value|/limit. Oscillation: share of the actions' spectral power above the cutoff frequency.")
        func interval(_ mean: Double?, _ i: ConfidenceInterval?) -> ReportCell {
            guard let mean else { return "—" }
            guard let i else { return ReportCell(mean, digits: 4) }
            return ReportCell(String(format: "%.3g [%.3g, %.3g]", mean, i.lower, i.upper))
        }
        metricSection.table(ReportTable(header: ["metric", "sim", "real", "real − sim", "Welch t", "df", "p", "Mann–Whitney p", "verdict"],
                                        rows: metrics.map { m in
            [ReportCell(m.unit.isEmpty ? m.name : "\(m.name), \(m.unit)"), interval(m.simMean, m.simInterval), interval(m.realMean, m.realInterval),
             m.difference.map { ReportCell($0, digits: 4) } ?? "—", m.welchT.map { ReportCell($0, digits: 3) } ?? "—",
             m.welchDF.map { ReportCell($0, digits: 3) } ?? "—", m.p.map { ReportCell($0, digits: 3) } ?? "—",
             m.mannWhitneyP.map { ReportCell($0, digits: 3) } ?? "—",
             ReportCell(m.p == nil ? "n/a" : m.significant ? "differ" : "no evidence", status: m.p == nil ? .info : m.significant ? .warn : .pass)]
        }))
        for m in metrics where !m.simValues.isEmpty || !m.realValues.isEmpty {
            metricSection.figure(SVGPlot.histogram(title: m.name, x: PlotAxis(m.name, unit: m.unit.isEmpty ? nil : m.unit),
                                                   data: [HistogramData("sim", values: m.simValues), HistogramData("real", values: m.realValues)],
                                                   density: sim.trials != real.trials))
        }
        var failures = ReportSection("Failure modes and safety interventions")
        let modes = Set(sim.failureModes.keys).union(real.failureModes.keys).sorted()
        failures.table(ReportTable(header: ["outcome", "sim", "real"], rows: modes.map { [ReportCell($0),
                ReportCell(integerLiteral: sim.failureModes[$0] ?? 0), ReportCell(integerLiteral: real.failureModes[$0] ?? 0)] }))
        let reasons = Set(sim.interventions.keys).union(real.interventions.keys).sorted()
        if reasons.isEmpty {
            failures.paragraph("No safety interventions in either set.")
        } else {
            failures.table(ReportTable(header: ["intervention", "sim (total)", "real (total)"], rows: reasons.map { [ReportCell($0),
                    ReportCell(integerLiteral: sim.interventions[$0] ?? 0), ReportCell(integerLiteral: real.interventions[$0] ?? 0)] },
                                       caption: "Safety wrapper events by reason, summed over the trials."))
        }
        let gates = [("sim", sim), ("real", real)].compactMap { name, set in set.gate.map { "\(name): " + $0.joined(separator: "; ") } }
        if !gates.isEmpty { successSection.paragraph("Deployment gate: " + gates.joined(separator: " · ") + ".") }
        var sections = [successSection, metricSection, failures]
        if let gateVersusRobot { sections.insert(gateVersusRobot.section, at: 1) }
        if let videos, !videos.isEmpty {
            var section = ReportSection("See it")
            for v in videos { section.video(v.path, caption: v.title) }
            sections.insert(section, at: 1)
        }
        for attribution in attributions ?? [] { sections.append(Self.section(attribution)) }
        var notes = ReportSection("Not covered")
        for m in missing { notes.callout(.info, m) }
        return HTMLReport(title: "Gap report: \(robot)",
                          subtitle: "policy \(policy) · sim \(label(sim)), \(sim.trials) trials · real \(label(real)), \(real.trials) trials",
                          generatedAt: generatedAt, generatedBy: "tether report", verdict: ReportVerdict(status, headline), cards: cards,
                          sections: sections + [notes],
                          footer: "Software stops are controlled stops, not safety-rated functions; hardware e-stops remain mandatory.")
    }
}

extension GapReport {
    /// The report section of one attribution.
    static func section(_ attribution: GapAttribution) -> ReportSection {
        let calibration = attribution.isCalibration
        var a = ReportSection(calibration ? "Gap attribution (calibrated parameters)" : "Gap attribution (virtual robot's truth)")
        if calibration {
            a.paragraph("The same trials in the calibrated simulation (\(attribution.truth): the patched model, the measured driver lag and dead time, the "
                + "measured sensor noise), then with one group of calibrated parameters set back to nominal, then with all of them (the nominal "
                    + "simulation). A group whose reset gives back success explains the failures (Fisher's exact test against the calibrated simulation).")
            if let v = attribution.versusReal, let full = attribution.entries.first, v.realSuccesses == v.realTrials, full.successes == full.trials {
                a.callout(.pass,
                          "The calibrated simulation (\(full.successes)/\(full.trials)) and the real robot (\(v.realSuccesses)/\(v.realTrials)) succeeded "
                              + "in every trial: there is no failure to attribute; the runs below show how much margin each group leaves (mean distance).")
            } else if let v = attribution.versusReal, let full = attribution.entries.first {
                let interval = v.differenceInterval
                    .map { String(format: ", 95 %% interval of the difference %+.0f … %+.0f points", $0.lower, $0.upper) } ?? ""
                let counts = String(format: "The calibrated simulation succeeded in %d/%d trials, the real robot in %d/%d (%+.0f points%@, Fisher p = %.3g): ",
                                    full.successes, full.trials, v.realSuccesses, v.realTrials, v.differencePercentagePoints, interval, v.fisherP)
                switch v.verdict ?? (v.reproduces ? "consistent" : "differs") {
                case "consistent":
                    a.callout(.pass, counts + "consistent, so the groups below account for the real failures as far as these trial counts can tell.")
                case "too few trials":
                    a.callout(.warn,
                              counts + "too few trials to tell: even the largest possible difference would not be significant (smallest possible p = "
                                  + "\(String(format: "%.2g", v.smallestPossibleP ?? 1))). Run more trials on both sides.")
                default:
                    a.callout(.warn,
                              counts + "the calibrated simulation does not reproduce the real rate; what it misses is outside the calibrated parameters "
                                  + "(unmodelled effects, or parameters not measured).")
                }
            }
        } else {
            a.paragraph("The same trials with one group of the emulator truth (\(attribution.truth)) set back to nominal. A group whose reset gives back "
                + "success explains the failures (Fisher's exact test against the full truth).")
        }
        var summaries = Dictionary((attribution.calibratedGroups ?? []).map { ($0.name, $0.summary) }, uniquingKeysWith: { a, _ in a })
        for g in attribution.calibratedGroups ?? [] where g.members.count > 1 {
            for m in g.members where summaries[m.name] == nil { summaries[m.name] = CalibratedSimulation.summary([m]) }
        }
        func label(_ entry: GapAttribution.Entry) -> String {
            if entry.within != nil { return "↳ \(entry.nominal)" }
            switch entry.nominal {
            case "none": return calibration ? "none (calibrated)" : "none (full truth)"
            case GapAttribution.allNominal: return "all (nominal simulation)"
            default: return entry.nominal
            }
        }
        if let drilled = attribution.drilled, !drilled.isEmpty {
            a.paragraph("Drill-down: \(drilled.joined(separator: ", ")) explained the failures, so the same trials ran again with each of "
                + "\(drilled.count == 1 ? "its" : "their") members alone set back to nominal (rows marked ↳). A member whose reset alone gives back success "
                    + "explains them by itself; when none does, the members act together.")
        }
        var header = ["set to nominal", "success", "95 % interval", "change", "Fisher p", "mean distance"]
        if calibration { header.insert("calibrated", at: 1) }
        a.table(ReportTable(header: header, rows: attribution.entries.map { e in
            let explains = e.within == nil ? attribution.explaining.contains(e.nominal) : attribution.explainingMembers?.contains(e.nominal) == true
            var row = [ReportCell(label(e)), ReportCell("\(e.successes)/\(e.trials)"), ReportCell(String(format: "%.0f–%.0f %%",
                    100 * e.successInterval.lower, 100 * e.successInterval.upper)),
                       ReportCell(String(format: "%+.0f pp", e.changePercentagePoints), status: explains ? .warn : nil),
                       ReportCell(e.fisherP, digits: 3), ReportCell(e.meanDistance, digits: 3, unit: "m")]
            if calibration { row.insert(ReportCell(summaries[e.nominal] ?? ""), at: 1) }
            return row
        }))
        var estimates = attribution.entries.map { e in
            IntervalEstimate(label(e), estimate: 100 * Double(e.successes) / Double(max(1, e.trials)),
                             lower: 100 * e.successInterval.lower, upper: 100 * e.successInterval.upper)
        }
        if let v = attribution.versusReal {
            let w = ConfidenceInterval.wilson(successes: v.realSuccesses, trials: v.realTrials)
            estimates.append(IntervalEstimate("real trials", estimate: 100 * Double(v.realSuccesses) / Double(v.realTrials), lower: 100 * w.lower,
                                              upper: 100 * w.upper))
        }
        a.figure(SVGPlot.interval(title: "Success with each group set back to nominal (95 % Wilson intervals)",
                                  axis: PlotAxis("success rate", unit: "%", range: 0...100), estimates: estimates))
        let explanation = attribution.explanation
        a.callout(attribution.explaining.isEmpty ? .info : .warn, explanation.prefix(1).uppercased() + explanation.dropFirst() + ".")
        if let groups = attribution.calibratedGroups, !groups.isEmpty {
            func values(_ v: [Double]) -> String { v.map { String(format: "%.4g", $0) }.joined(separator: ", ") }
            a.table(ReportTable(header: ["group", "parameter", "nominal", "calibrated", "unit"],
                                rows: groups.flatMap { g in g.members.map { m in
                                    [ReportCell(g.name), ReportCell(m.name), ReportCell(values(m.nominal)), ReportCell(values(m.calibrated)),
                                     ReportCell(m.unit)]
                                } }, caption: "What each group sets back."))
        }
        if let skipped = attribution.skipped, !skipped.isEmpty {
            a.table(ReportTable(header: ["calibrated parameter", "why the trials do not simulate it"], rows: skipped.map { line in
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                return [ReportCell(parts[0]), ReportCell(parts.count > 1 ? parts[1] : "")]
            }, caption: "Not simulated: these stay at their nominal values in every run."))
        }
        return a
    }
}

/// A video a report shows: what it is and where (relative to the report).
public struct ReportVideo: Sendable, Codable, Equatable {
    public var title: String
    public var path: String
    public init(title: String, path: String) {
        self.title = title
        self.path = path
    }
}
