import Foundation
import TetherNumerics
import TetherCore
import TetherReport
import TetherSim

/// The calibration's HTML report: the verdict and key figures at the top, the parameters as a
/// forest plot (estimate and 95 % interval against nominal) and a table, every fit over its data,
/// the held-out error before and after, the model diff and the warnings.
public enum CalibrationReport {
    public static func html(_ outcome: Calibration.Outcome, robot: RobotModel, generatedAt: Date = Date()) -> String {
        document(outcome, robot: robot, generatedAt: generatedAt).render()
    }

    static func document(_ outcome: Calibration.Outcome, robot: RobotModel, generatedAt: Date) -> HTMLReport {
        let file = outcome.file
        let patched = file.parameters.filter(\.patched)
        let flagged = file.parameters.filter { p in p.flags.contains { $0.hasPrefix("not identifiable") || $0.contains("bound") } }
        let improved = file.heldOut.filter { $0.calibrated < $0.nominal }
        let status: ReportStatus
        let headline: String
        if file.parameters.isEmpty {
            status = .fail
            headline = "no parameter could be identified"
        } else if !flagged.isEmpty || (!file.heldOut.isEmpty && improved.count < file.heldOut.count) {
            status = .warn
            headline = "\(file.parameters.count) parameters, \(flagged.count) flagged" + (file.heldOut.isEmpty ? "" : ", held-out error lower in "
                + "\(improved.count)/\(file.heldOut.count)")
        } else {
            status = .pass
            headline = "\(file.parameters.count) parameters identified" + (file.heldOut.isEmpty ? "" : ", held-out error lower in every recording")
        }
        var cards = [SummaryCard("parameters", value: "\(file.parameters.count)", status: .info, detail: "\(patched.count) written into the model"),
                     SummaryCard("recordings", value: "\(file.recordings.count)", status: .info,
                                 detail: Set(outcome.recordingKinds.values).sorted().joined(separator: ", "))]
        if let h = file.heldOut.first {
            let change = h.nominal > 0 ? 100 * (h.calibrated - h.nominal) / h.nominal : 0
            cards.append(SummaryCard("held-out error", value: String(format: "%+.0f", change), unit: "%",
                                     status: h.calibrated < h.nominal ? .pass : .fail,
                                     detail: String(format: "%.3g → %.3g (normalized RMS)", h.nominal, h.calibrated)))
        }
        cards.append(SummaryCard("warnings", value: "\(file.warnings.count)", status: file.warnings.isEmpty ? .pass : .warn))

        var overview = ReportSection("Parameters")
        overview.paragraph("Each estimate with its 95 % interval. Parameters written into the patched model are marked; the others (sensor noise, driver "
            + "dynamics, inertia about a joint) live in the calibration file and the randomization spec.")
        let scalar = file.parameters.filter { $0.estimate.count == 1 && $0.nominal?.first.map { $0 != 0 } == true }
        if !scalar.isEmpty {
            overview.figure(SVGPlot.interval(title: "Estimates relative to nominal (95 % intervals)", axis: PlotAxis("estimate / nominal"),
                                             estimates: scalar.map { p in
                                                 let n = p.nominal![0]
                                                 return IntervalEstimate(p.name, estimate: p.estimate[0] / n, lower: p.interval[0].lower / n,
                                                                         upper: p.interval[0].upper / n, nominal: 1)
                                             }, referenceLine: 1),
                            caption: "1 is the nominal model. An interval that misses 1 is a measured difference between the robot and its model.")
        }
        func number(_ v: Double) -> String { String(format: "%.4g", v) }
        overview.table(ReportTable(header: ["parameter", "unit", "nominal", "estimate", "SE", "95 % interval", "method", "model"],
                                   rows: file.parameters.map { p in
                                       [ReportCell(p.name), ReportCell(p.unit), ReportCell(p.nominal.map { $0.map(number).joined(separator: " ") } ?? "—"),
                                        ReportCell(p.estimate.map(number).joined(separator: " ")), ReportCell(p.standardError.map { String(format: "%.2g",
                                            $0) }.joined(separator: " ")),
                                        ReportCell(p.interval.map { "[\(number($0.lower)), \(number($0.upper))]" }.joined(separator: " ")),
                                        ReportCell(p.method),
                                        ReportCell(p.patched ? "patched" : "file only", status: p.flags.isEmpty ? (p.patched ? .pass : .info) : .warn)]
                                   }, caption: "SE: standard error. Flags: " + (flagged.isEmpty ? "none." : flagged.map(\.name).joined(separator: ", "))))
        let flaggedNotes = file.parameters.flatMap { p in p.flags.map { "\(p.name): \($0)" } }
        if !flaggedNotes.isEmpty {
            overview.details("Notes on individual parameters (\(flaggedNotes.count))", [.paragraph(flaggedNotes.joined(separator: "\n\n"))])
        }

        var fits = ReportSection("Fits over their data")
        for f in outcome.figures {
            let plot: SVGPlot
            let colors = PlotColor.palette
            let series = f.series.enumerated().map { i, s in
                PlotSeries(s.label, x: s.x, y: s.y, color: colors[i % colors.count], dashed: !s.measured, markers: s.measured && s.x.count < 60)
            }
            switch f.kind {
            case .friction:
                plot = SVGPlot.scatter(title: f.title, x: PlotAxis(f.xLabel), y: PlotAxis(f.yLabel), series: series)
            default:
                if f.logLog {
                    plot = SVGPlot.line(title: f.title, x: PlotAxis.log(f.xLabel), y: PlotAxis.log(f.yLabel), series: series)
                } else {
                    plot = SVGPlot.line(title: f.title, x: PlotAxis(f.xLabel), y: PlotAxis(f.yLabel), series: series)
                }
            }
            fits.figure(plot, caption: f.caption)
        }
        if outcome.figures.isEmpty { fits.paragraph("No analysis produced a fit.") }

        var sections = [overview, fits]
        if !file.heldOut.isEmpty {
            var held = ReportSection("Held-out recordings")
            held.paragraph("Recordings kept out of every fit, replayed on the nominal and on the calibrated model: the error (RMS of the residuals, each "
                + "signal normalized by its noise) should drop.")
            held.figure(SVGPlot.bar(title: "Error on held-out recordings",
                                    categories: file.heldOut.map { URL(fileURLWithPath: $0.recording).lastPathComponent },
                                    groups: [BarGroup("nominal model", values: file.heldOut.map(\.nominal)),
                                             BarGroup("calibrated model", values: file.heldOut.map(\.calibrated))],
                                    y: PlotAxis("normalized RMS error")))
            sections.append(held)
        }
        var model = ReportSection("The patched model")
        let diff = (outcome.mjcf?.diff ?? []) + (outcome.urdf.map { ["", "URDF (\(outcome.urdfPath ?? "")):"] + $0.diff } ?? [])
        model.paragraph("Only the calibrated attributes were touched; every other byte of the description is as it was.")
        model.code(diff.isEmpty ? "(no change)" : diff.joined(separator: "\n"))
        sections.append(model)
        sections.append(randomizationSection(outcome))
        if !file.notes.isEmpty || !file.skipped.isEmpty {
            var n = ReportSection("What was read, and what was not")
            for line in file.notes { n.callout(.info, line) }
            if !file.skipped.isEmpty {
                n.paragraph("Not calibrated by these recordings, and what would calibrate it:")
                for line in file.skipped { n.callout(.warn, "Skipped: " + line) }
            }
            sections.append(n)
        }
        if !file.warnings.isEmpty {
            var w = ReportSection("Warnings")
            for line in file.warnings { w.callout(.warn, line) }
            sections.append(w)
        }
        return HTMLReport(title: "Calibration: \(file.robot)",
                          subtitle: "model \(URL(fileURLWithPath: file.model).lastPathComponent) · \(file.recordings.count) recordings",
                          generatedAt: generatedAt, generatedBy: "tether calibrate", verdict: ReportVerdict(status, headline), cards: cards,
                          sections: sections, footer: "Tether calibration report. Intervals are 95 %; SI units and radians.")
    }

    /// The two derived specs side by side: each term's range for the gate (the robot as
    /// measured) and for training (widened), and why.
    static func randomizationSection(_ outcome: Calibration.Outcome) -> ReportSection {
        var section = ReportSection("Randomization derived from the calibration")
        section.paragraph("randomization.yaml describes the robot as measured: each calibrated parameter over its 95 % interval "
                          + "(at least ±\(Int(RandomizationDerivation.measuredFloor * 100)) % of the estimate), the measured delay as action latency over "
                              + "its interval, "
                          + "the base spec's ranges for what was not calibrated, and no pushes. It is what `tether validate` should test, so that "
                          + "the gate's success rate predicts trials on this robot. training-randomization.yaml widens each measured range by its "
                          + "half-width and at least ±\(Int(RandomizationDerivation.trainingFloor * 100)) % of the estimate on each side and keeps the base "
                              + "spec's pushes: "
                          + "a margin for what changes between days and units, for training from scratch. `tether improve` trains under the first by default "
                          + "(measured: it passed the gate sooner than under the wider one, and was as robust).")
        if let specs = outcome.derivedSpecs {
            func key(_ t: RandomizationSpec.Term) -> String { t.path ?? t.target.rawValue + (t.items.isEmpty ? "" : " (\(t.items.count) joints)") }
            func text(_ t: RandomizationSpec.Term?) -> String {
                guard let t else { return "—" }
                switch t.distribution {
                case .uniform(let lo, let hi): return "[\(ModelPatcher.number(lo)), \(ModelPatcher.number(hi))]\(t.mode == .scale ? " ×" : "")"
                case .logUniform(let lo, let hi): return "log [\(ModelPatcher.number(lo)), \(ModelPatcher.number(hi))]\(t.mode == .scale ? " ×" : "")"
                case .normal(let m, let sd, _, _): return "N(\(ModelPatcher.number(m)), \(ModelPatcher.number(sd)))"
                case .constant(let v): return ModelPatcher.number(v)
                }
            }
            var names: [String] = []
            for t in specs.asMeasured.terms + specs.training.terms where !names.contains(key(t)) { names.append(key(t)) }
            let rows: [[ReportCell]] = names.map { name in
                let m = specs.asMeasured.terms.first { key($0) == name }, t = specs.training.terms.first { key($0) == name }
                let measured = m.map { term in term.path.map { p in outcome.file.parameters.contains { $0.name == p } }
                    ?? (term.target == .actionLatency) } ?? false
                return [ReportCell(name), ReportCell(text(m)), ReportCell(text(t)), ReportCell(measured ? "measured" : "base spec (not calibrated)")]
            }
            let pushes = specs.training.pushes.map { "pushes in training: every "
                + "\(ModelPatcher.number($0.interval.lowerBound))–\(ModelPatcher.number($0.interval.upperBound)) s, up to "
                    + "\(ModelPatcher.number($0.force.upperBound)) N; none in the gate's spec" }
            section.table(ReportTable(header: ["term", "gate (as measured)", "training", "source"], rows: rows, caption: pushes))
        }
        section.details("randomization.yaml (the robot as measured)", [.code(outcome.randomizationYAML)])
        if !outcome.trainingRandomizationYAML.isEmpty {
            section.details("training-randomization.yaml", [.code(outcome.trainingRandomizationYAML)])
        }
        return section
    }
}
