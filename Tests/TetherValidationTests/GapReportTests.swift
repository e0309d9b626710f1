import Foundation
import Testing
import TetherCore
@testable import TetherValidation

/// Synthetic trial records: `successes` of `count` succeed, distances from `distances`.
private func records(backend: RobotBackend, successes: Int, distances: [Double], oscillation: Double? = nil) -> [TrialRecord] {
    distances.enumerated().map { i, d in
        let ok = i < successes
        return TrialRecord(trial: i, robot: "quadruped", policy: "p.onnx", backend: backend, truth: backend == .emulator ? "typical" : nil,
                           seed: UInt64(i + 1), success: ok, failureMode: ok ? "success" : (i % 2 == 0 ? "fall" : "no_progress"),
                           distance: d, requiredDistance: 3, episodeSeconds: 10, score: d / 10, trackingError: 0.1 + d / 100,
                           torqueMargin: 0.5, velocityMargin: 0.4 - d / 100, oscillation: oscillation,
                           interventions: ok ? [:] : ["tilt_limit": 1], stopReason: ok ? nil : "tilt_limit")
    }
}

private func temporaryFile(_ name: String, _ text: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tether-gap-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let path = folder.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite struct TrialRecordTests {
    @Test func recordsRoundTripThroughJSONLines() throws {
        var original = records(backend: .emulator, successes: 2, distances: [3.5, 3.1, 1.2, 0.4], oscillation: 0.02)
        original[1].recording = "runs/x/trial-001.mcap"
        original[2].trackingError = nil  // absent metrics stay absent
        let text = try TrialRecords.encode(original)
        #expect(text.split(separator: "\n").count == 4)
        let path = try temporaryFile("trials.jsonl", text)
        #expect(try TrialRecords.read(path: path) == original)
    }

    @Test func malformedLineIsNamedByNumber() throws {
        let good = try TrialRecords.line(records(backend: .sim, successes: 1, distances: [3])[0])
        let path = try temporaryFile("bad.jsonl", good + "\n\n" + "{\"trial\": 1}\n")
        do {
            _ = try TrialRecords.read(path: path)
            Issue.record("a malformed line must be refused")
        } catch let error as TetherError {
            #expect("\(error)".contains("line 3"))
            #expect("\(error)".contains("\(path):3"))
        }
        #expect(throws: TetherError.self) { try TrialRecords.decode("not json\n") }
    }

    @Test func missingFileSaysHowToMakeIt() {
        do {
            _ = try TrialRecords.read(path: "/nonexistent/trials.jsonl")
            Issue.record("a missing file must be refused")
        } catch let error as TetherError {
            #expect("\(error)".contains("/nonexistent/trials.jsonl"))
            #expect("\(error)".contains("tether trials"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func emptySetsAreRefused() throws {
        let some = records(backend: .sim, successes: 1, distances: [3, 1])
        #expect(throws: TetherError.self) { try GapReport(sim: [], real: some, simSource: "a", realSource: "b") }
        #expect(throws: TetherError.self) { try GapReport(sim: some, real: [], simSource: "a", realSource: "b") }
        let empty = try temporaryFile("empty.jsonl", "\n")
        #expect(throws: TetherError.self) { try GapReport.load(simPath: empty, realPath: empty) }
    }
}

@Suite struct TrialMetricsTests {
    @Test func oscillationShareSeparatesSlowFromFast() throws {
        let hz = 50.0
        let slow = (0..<200).map { t in [Float(sin(2 * Double.pi * 2 * Double(t) / hz))] }
        let fast = (0..<200).map { t in [Float(sin(2 * Double.pi * 20 * Double(t) / hz))] }
        #expect(try #require(TrialMetrics.highFrequencyShare(slow, sampleHz: hz, cutoffHz: 10)) < 0.01)
        #expect(try #require(TrialMetrics.highFrequencyShare(fast, sampleHz: hz, cutoffHz: 10)) > 0.99)
        #expect(TrialMetrics.highFrequencyShare([[1], [1]], sampleHz: hz, cutoffHz: 10) == nil)
    }
}

@Suite struct GapReportNumbersTests {
    @Test func reportNumbersRecomputeFromTheRawRecords() throws {
        let sim = records(backend: .sim, successes: 9, distances: [3.6, 3.5, 3.7, 3.4, 3.6, 3.5, 3.8, 3.6, 3.5, 1.0])
        let real = records(backend: .emulator, successes: 5, distances: [3.2, 3.0, 3.3, 3.1, 3.4, 0.8, 1.1, 0.5, 2.0, 0.9])
        let simPath = try temporaryFile("sim.jsonl", try TrialRecords.encode(sim))
        let realPath = try temporaryFile("real.jsonl", try TrialRecords.encode(real))
        let gap = try GapReport.load(simPath: simPath, realPath: realPath)

        // Success: counts, Wilson interval from its formula, gap in percentage points.
        #expect(gap.sim.successes == 9 && gap.real.successes == 5)
        func wilson(_ k: Double, _ n: Double) -> [Double] {
            let z = 1.959963984540054, p = k / n  // Φ⁻¹(0.975): Wilson uses the exact quantile
            let c = (p + z * z / (2 * n)) / (1 + z * z / n)
            let h = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / (1 + z * z / n)
            return [c - h, c + h]
        }
        for (got, want) in zip([gap.real.successInterval.lower, gap.real.successInterval.upper], wilson(5, 10)) { #expect(abs(got - want) < 1e-12) }
        #expect(abs(gap.success.gapPercentagePoints - 40) < 1e-9)
        // Fisher's p by enumerating the hypergeometric directly.
        func choose(_ n: Int, _ k: Int) -> Double { k < 0 || k > n ? 0 : (0..<k).reduce(1.0) { $0 * Double(n - $1) / Double($1 + 1) } }
        let probability = { (x: Int) in choose(14, x) * choose(6, 10 - x) / choose(20, 10) }
        let observed = probability(9)
        let fisher = (4...10).map(probability).filter { $0 <= observed * (1 + 1e-9) }.reduce(0, +)
        #expect(abs(gap.success.fisherP - fisher) < 1e-12)
        #expect(gap.sim.failureModes == ["success": 9, "no_progress": 1])
        #expect(gap.real.failureModes == ["success": 5, "no_progress": 3, "fall": 2])
        #expect(gap.real.interventions == ["tilt_limit": 5])

        // Distance: means, t intervals (t₀.₉₇₅,₉ = 2.262157), Welch t from its formula.
        let distance = try #require(gap.metrics.first { $0.name == "distance" })
        let a = sim.map(\.distance), b = real.map(\.distance)
        let ma = a.reduce(0, +) / 10, mb = b.reduce(0, +) / 10
        let va = a.map { ($0 - ma) * ($0 - ma) }.reduce(0, +) / 9, vb = b.map { ($0 - mb) * ($0 - mb) }.reduce(0, +) / 9
        #expect(abs(try #require(distance.simMean) - ma) < 1e-12)
        let interval = try #require(distance.realInterval)
        #expect(abs(interval.upper - (mb + 2.262157 * (vb / 10).squareRoot())) < 1e-5)
        #expect(abs(try #require(distance.welchT) - (mb - ma) / (va / 10 + vb / 10).squareRoot()) < 1e-9)
        #expect(abs(try #require(distance.difference) - (mb - ma)) < 1e-12)
        // Oscillation was not measured: no values, no test.
        let oscillation = try #require(gap.metrics.first { $0.name.hasPrefix("oscillation") })
        #expect(oscillation.simValues.isEmpty && oscillation.p == nil)

        // The HTML and the JSON twin are written and agree on the headline figure.
        let html = gap.html().render()
        #expect(html.contains("Gap report: quadruped"))
        let json = try JSONSerialization.jsonObject(with: gap.json()) as? [String: Any]
        let success = json?["success"] as? [String: Any]
        #expect((success?["gapPercentagePoints"] as? Double).map { abs($0 - 40) < 1e-9 } == true)
    }
}
