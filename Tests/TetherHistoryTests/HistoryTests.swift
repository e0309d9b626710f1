import Foundation
import Testing
import TetherCore
@testable import TetherHistory

@Suite struct HistoryTests {
    func temporaryPath() -> String {
        NSTemporaryDirectory() + "tether-history-\(UUID().uuidString)/history.sqlite"
    }

    @Test func recordsAndQueriesRunsInTimeOrder() throws {
        let path = temporaryPath()
        let history = try History(path: path)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let a = try history.record(.init(createdAt: t0, kind: .validation, robot: "quadruped", policy: "policies/quadruped.onnx",
                                         trials: 60, successes: 55, rate: 55.0 / 60, lower: 0.82, upper: 0.97, decision: "NO-GO",
                                         summary: "before", metrics: ["mean_distance_m": 9.5]))
        try history.record(.init(createdAt: t0.addingTimeInterval(60), kind: .calibration, robot: "quadruped", summary: "calibrated"))
        try history.record(.init(createdAt: t0.addingTimeInterval(120), kind: .validation, robot: "quadruped", policy: "improve/improved.onnx",
                                 trials: 60, successes: 59, rate: 59.0 / 60, decision: "GO", summary: "after"))
        try history.record(.init(createdAt: t0.addingTimeInterval(30), kind: .trials, robot: "cartpole", trials: 5, successes: 5, rate: 1, summary: "cart"))
        #expect(a.id != nil)

        // A second connection sees everything (the file is the record).
        let reopened = try History(path: path)
        let all = try reopened.entries()
        #expect(all.map(\.summary) == ["before", "cart", "calibrated", "after"])
        #expect(all[0].metrics == ["mean_distance_m": 9.5])
        #expect(all[0].createdAt == t0)
        let validations = try reopened.entries(.init(robot: "quadruped", kinds: [.validation]))
        #expect(validations.map(\.successes) == [55, 59])
        #expect(try reopened.entries(.init(policy: "improved")).map(\.decision) == ["GO"])
        #expect(try reopened.entries(.init(limit: 2)).map(\.summary) == ["calibrated", "after"])
    }

    @Test func reportsRenderEveryRun() throws {
        let entries = [History.Entry(id: 1, kind: .validation, robot: "quadruped", policy: "a.onnx", trials: 10, successes: 9, rate: 0.9,
                                     lower: 0.6, upper: 0.99, decision: "NO-GO", summary: "first"),
                       History.Entry(id: 2, kind: .validation, robot: "quadruped", policy: "b.onnx", trials: 10, successes: 10, rate: 1,
                                     lower: 0.7, upper: 1, decision: "GO", summary: "second")]
        let table = HistoryReport.table(entries)
        #expect(table.contains("9/10  90.0 % [60.0, 99.0]  NO-GO"))
        #expect(table.contains("second"))
        let html = HistoryReport.html(entries, database: "db").render()
        #expect(html.contains("<svg") && html.contains("success rate by run"))
        let json = try JSONSerialization.jsonObject(with: HistoryReport.json(entries, database: "db")) as? [String: Any]
        #expect((json?["entries"] as? [Any])?.count == 2)
    }

    @Test func defaultPathFollowsTheEnvironment() {
        #expect(History.defaultPath(environment: [:], currentDirectory: "/p") == "/p/.tether/history.sqlite")
        #expect(History.defaultPath(environment: ["TETHER_HISTORY": "/x/h.sqlite"], currentDirectory: "/p") == "/x/h.sqlite")
        #expect(History.defaultPath(environment: ["TETHER_HISTORY": "off"], currentDirectory: "/p") == nil)
    }

    @Test func aFileThatIsNotADatabaseIsAClearError() throws {
        let path = temporaryPath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("this is not sqlite, just text that is long enough to be read as a header".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try History(path: path) } throws: { error in
            "\(error)".contains("cannot open the history database") && "\(error)".contains(path)
        }
    }

    @Test func aDatabaseFromANewerTetherIsRefused() throws {
        let path = temporaryPath()
        _ = try History(path: path)
        // Simulate a newer schema by adding a migration id this version does not know.
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["python3", "-c",
                            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"insert into grdb_migrations values ('v99')\"); c.commit()", path]
        try sqlite.run(); sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        #expect { try History(path: path) } throws: { error in "\(error)".contains("newer Tether") }
    }
}
