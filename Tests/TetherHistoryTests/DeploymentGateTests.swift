import Foundation
import Testing
import TetherCore
@testable import TetherHistory

@Suite struct DeploymentGateTests {
    let subject = DeploymentGate.Subject(robot: "quadruped", policy: "policies/walk.onnx", policyDigest: "fnv1a64:aaaa",
                                         manifest: "robots/quadruped/quadruped.yaml", manifestDigest: "fnv1a64:mmmm", backend: .emulator,
                                         robotArgument: "quadruped", suggestedRandomization: "robots/quadruped/randomization.yaml")
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A validation row of the subject's policy and manifest (override fields to vary it).
    func validation(_ successes: Int, of trials: Int, decision: String, lower: Double, minutes: Double = 0, policyDigest: String? = "fnv1a64:aaaa",
                    manifestDigest: String? = "fnv1a64:mmmm", randomization: String? = "cal/randomization.yaml",
                        policy: String = "policies/walk.onnx") -> History.Entry {
        History.Entry(createdAt: t0.addingTimeInterval(60 * minutes), kind: .validation, robot: "quadruped", policy: policy,
                      trials: trials, successes: successes, rate: Double(successes) / Double(trials), lower: lower, decision: decision,
                      summary: "walk 10 m", policyDigest: policyDigest, manifest: "robots/quadruped/quadruped.yaml", manifestDigest: manifestDigest,
                      randomization: randomization, randomizationDigest: randomization.map { _ in "fnv1a64:rrrr" }, threshold: 0.9)
    }

    func temporaryDatabase() -> String {
        NSTemporaryDirectory() + "tether-gate-\(UUID().uuidString)/history.sqlite"
    }

    func refusal(_ body: () throws -> DeploymentClearance) -> TetherError? {
        do { _ = try body(); return nil } catch let error as TetherError { return error } catch { return TetherError("\(error)") }
    }

    @Test func onlySimulationIsUngated() {
        #expect(!DeploymentGate.isGated(backend: .sim))
        #expect(DeploymentGate.isGated(backend: .emulator))
        #expect(DeploymentGate.isGated(backend: .ros2))
        #expect(DeploymentGate.isGated(backend: .unitree))
        // Every backend but simulation is a robot: each is gated.
        #expect(RobotBackend.allCases.filter { DeploymentGate.isGated(backend: $0) } == [.emulator, .ros2, .unitree])
    }

    @Test func aPolicyNeverValidatedIsRefusedWithTheCommandThatValidatesIt() throws {
        let error = try #require(refusal { try DeploymentGate.decide(subject, validations: [], override: nil) })
        #expect(error.what.contains("policy policies/walk.onnx (fnv1a64:aaaa) has no GO validation for robot quadruped with manifest "
            + "robots/quadruped/quadruped.yaml"))
        #expect(error.what.contains("never validated"))
        #expect(error.hint?.contains("tether validate --robot quadruped --policy policies/walk.onnx --randomize robots/quadruped/randomization.yaml") == true)
        #expect(error.hint?.contains("--override \"reason\"") == true)
    }

    @Test func aNoGoIsRefusedWithItsNumbers() throws {
        let error = try #require(refusal {
            try DeploymentGate.decide(subject, validations: [validation(83, of: 100, decision: "NO-GO", lower: 0.7612)], override: nil)
        })
        #expect(error.what.contains("its last validation (of 2027-01-15 08:00 UTC: 83/100, lower bound 76.1 % < 90.0 %, NO-GO, randomization "
            + "cal/randomization.yaml) says NO-GO"))
        #expect(error.hint?.contains("--randomize cal/randomization.yaml") == true)
    }

    @Test func aGoUnderARandomizationClearsAndNamesTheValidation() throws {
        var go = validation(97, of: 100, decision: "GO", lower: 0.915)
        go.id = 12
        let clearance = try DeploymentGate.decide(subject, validations: [go], override: nil)
        #expect(clearance.status == .cleared)
        #expect(clearance.validation?.id == 12)
        #expect(clearance.sentence == "cleared by validation #12 of 2027-01-15 08:00 UTC: 97/100, lower bound 91.5 % ≥ 90.0 %, GO, randomization "
            + "cal/randomization.yaml")
        #expect(clearance.metadata["gate"] == "GO" && clearance.metadata["gate.validation_id"] == "12")
    }

    @Test func theNewestValidationDecides() throws {
        let goThenNoGo = [validation(97, of: 100, decision: "GO", lower: 0.915), validation(80, of: 100, decision: "NO-GO", lower: 0.71, minutes: 5)]
        #expect(refusal { try DeploymentGate.decide(subject, validations: goThenNoGo, override: nil) }?.what.contains("says NO-GO") == true)
        let noGoThenGo = [validation(97, of: 100, decision: "GO", lower: 0.915, minutes: 5), validation(80, of: 100, decision: "NO-GO", lower: 0.71)]
        #expect(try DeploymentGate.decide(subject, validations: noGoThenGo, override: nil).status == .cleared)
    }

    @Test func aGoForOtherBytesDoesNotCountEvenUnderTheSamePath() throws {
        let other = validation(97, of: 100, decision: "GO", lower: 0.915, policyDigest: "fnv1a64:bbbb")
        let error = try #require(refusal { try DeploymentGate.decide(subject, validations: [other], override: nil) })
        #expect(error.what.contains("never validated"))
        #expect(error.what.contains("were of other bytes (fnv1a64:bbbb): the file changed since"))
    }

    @Test func aGoUnderAnotherManifestDoesNotCount() throws {
        let other = validation(97, of: 100, decision: "GO", lower: 0.915, manifestDigest: "fnv1a64:nnnn")
        let error = try #require(refusal { try DeploymentGate.decide(subject, validations: [other], override: nil) })
        #expect(error.what.contains("ran under another manifest"))
        var same = subject
        same.manifestDigest = "fnv1a64:nnnn"
        #expect(try DeploymentGate.decide(same, validations: [other], override: nil).status == .cleared)
    }

    @Test func aShardDoesNotCountButMergedShardsDo() throws {
        let noGo = validation(80, of: 100, decision: "NO-GO", lower: 0.71)
        let shard = validation(50, of: 50, decision: "PARTIAL", lower: 0.93, minutes: 5)
        #expect(refusal { try DeploymentGate.decide(subject, validations: [noGo, shard], override: nil) }?.what.contains("says NO-GO") == true)
        let merged = validation(99, of: 100, decision: "GO", lower: 0.945, minutes: 10)
        #expect(try DeploymentGate.decide(subject, validations: [noGo, shard, merged], override: nil).status == .cleared)
    }

    @Test func aGoOnTheNominalModelDoesNotClear() throws {
        let nominal = validation(100, of: 100, decision: "GO", lower: 0.964, randomization: nil)
        let error = try #require(refusal { try DeploymentGate.decide(subject, validations: [nominal], override: nil) })
        #expect(error.what.contains("nominal model only"))
        #expect(error.hint?.contains("--randomize robots/quadruped/randomization.yaml") == true)
    }

    @Test func anOverrideNeedsAReasonAndCarriesIt() throws {
        #expect(refusal { try DeploymentGate.decide(subject, validations: [], override: "  \n") }?.what.contains("needs a reason") == true)
        let noGo = validation(83, of: 100, decision: "NO-GO", lower: 0.7612)
        let c = try DeploymentGate.decide(subject, validations: [noGo], override: " bench test on the gantry ")
        #expect(c.status == .overridden)
        #expect(c.overrideReason == "bench test on the gantry")
        #expect(c.refusal?.contains("says NO-GO") == true)
        #expect(c.validation?.successes == 83)
        #expect(c.metadata["gate"] == "OVERRIDE" && c.metadata["gate.override_reason"] == "bench test on the gantry")
    }

    @Test func theOverrideIsRecordedInTheHistory() throws {
        let path = temporaryDatabase()
        let history = try History(path: path)
        try history.record(validation(83, of: 100, decision: "NO-GO", lower: 0.7612))
        let c = try DeploymentGate.clear(subject, source: .database(path), override: "first steps on the real floor")
        try history.record(.deployment(c, artifact: "walk.mcap", command: "tether deploy …"))
        let rows = try History(path: path).entries(.init(kinds: [.deployment]))
        #expect(rows.count == 1)
        #expect(rows[0].decision == "OVERRIDE" && rows[0].overrideReason == "first steps on the real floor")
        #expect(rows[0].policyDigest == "fnv1a64:aaaa" && rows[0].manifestDigest == "fnv1a64:mmmm" && rows[0].clearedBy == nil)
        #expect(rows[0].summary.contains("gate OVERRIDDEN (\"first steps on the real floor\")"))
    }

    @Test func theGateReadsTheDatabaseAndFailsClosed() throws {
        let path = temporaryDatabase()
        // No database file: nothing was validated here (and the lookup creates no file).
        #expect(refusal { try DeploymentGate.clear(subject, source: .database(path), override: nil) }?.what.contains("never validated") == true)
        #expect(!FileManager.default.fileExists(atPath: path))
        let history = try History(path: path)
        let go = try history.record(validation(97, of: 100, decision: "GO", lower: 0.915))
        let c = try DeploymentGate.clear(subject, source: .database(path), override: nil)
        #expect(c.status == .cleared && c.validation?.id == go.id)
        // Recording off: refused, and said why.
        let off = try #require(refusal { try DeploymentGate.clear(subject, source: .default(environment: ["TETHER_HISTORY": "off"]), override: nil) })
        #expect(off.what.contains("history recording is off (TETHER_HISTORY=off)"))
        #expect(off.hint?.contains("--override") == true)
        #expect(try DeploymentGate.clear(subject, source: .off(reason: "off"), override: "no history on this laptop").status == .overridden)
        // A file that is not a database: refused.
        let garbage = temporaryDatabase()
        try FileManager.default.createDirectory(atPath: (garbage as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(String(repeating: "not a database ", count: 20).utf8).write(to: URL(fileURLWithPath: garbage))
        #expect(refusal { try DeploymentGate.clear(subject, source: .database(garbage), override: nil) }?.what.contains("cannot be read") == true)
    }

    /// A database written by the first schema (v1: no digests) migrates to v2; its validations
    /// keep their numbers but never clear the gate, and the refusal says why.
    @Test func aVersion1DatabaseMigratesAndItsValidationsDoNotClear() throws {
        let path = temporaryDatabase()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let script = """
        import sqlite3, sys
        c = sqlite3.connect(sys.argv[1])
        c.execute('CREATE TABLE "grdb_migrations" ("identifier" TEXT NOT NULL PRIMARY KEY)')
        c.execute("INSERT INTO grdb_migrations VALUES ('v1')")
        c.execute('CREATE TABLE "run" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "createdAt" DATETIME NOT NULL, "kind" TEXT NOT NULL, '
                  '"robot" TEXT NOT NULL, "policy" TEXT, "backend" TEXT, "trials" INTEGER, "successes" INTEGER, "rate" DOUBLE, '
                  '"lower" DOUBLE, "upper" DOUBLE, "decision" TEXT, "summary" TEXT NOT NULL, "metrics" TEXT NOT NULL, "artifact" TEXT, "command" TEXT)')
        c.execute("INSERT INTO run (createdAt, kind, robot, policy, trials, successes, rate, lower, decision, summary, metrics) VALUES "
                  "('2026-11-01 10:00:00.000', 'validation', 'quadruped', 'policies/walk.onnx', 100, 97, 0.97, 0.915, 'GO', 'old', '{}')")
        c.commit()
        """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script, path]
        try python.run(); python.waitUntilExit()
        #expect(python.terminationStatus == 0)

        let rows = try History(path: path).entries()
        #expect(rows.count == 1 && rows[0].successes == 97 && rows[0].decision == "GO")
        #expect(rows[0].policyDigest == nil && rows[0].manifestDigest == nil)
        let error = try #require(refusal { try DeploymentGate.clear(subject, source: .database(path), override: nil) })
        #expect(error.what.contains("recorded before Tether kept policy digests"))
        // The migrated database takes new rows with the new columns.
        try History(path: path).record(validation(97, of: 100, decision: "GO", lower: 0.915))
        #expect(try DeploymentGate.clear(subject, source: .database(path), override: nil).status == .cleared)
    }

    @Test func aClearanceRoundTripsThroughJSON() throws {
        let c = try DeploymentGate.decide(subject, validations: [], override: "bench")
        let data = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(DeploymentClearance.self, from: data) == c)
    }
}
