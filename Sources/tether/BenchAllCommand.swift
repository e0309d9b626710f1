import ArgumentParser
import Foundation
import TetherBench
import TetherCore

extension Bench {
    /// `tether bench all`: every benchmark, each in its own process (`tether bench NAME --json`) so
    /// one cannot warm up or slow down the next and a failure is one note, not the end of the run;
    /// the figures become one table with the machine, the versions of both sides and the date.
    struct All: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "all",
            abstract: "Runs every benchmark against its peer and writes the table the README quotes (JSON + Markdown).",
            discussion: """
            Runs sim, policy, loop, ros2, calibrate, validate, coco and detect one after the other, \
            each as `tether bench NAME --json` in a child process, and writes OUT/bench-all.json \
            (the table, the machine, the versions, the date and every benchmark's full report) and \
            OUT/bench-all.md (the table as Markdown). Build with -c release: a debug build's \
            figures are marked as such. Takes about 10 minutes on 2 cores; --quick runs each with \
            fewer repetitions (to check the set-up, not to quote). Don't build or run anything else \
            meanwhile: the ratios are same-run, but the latencies are not immune to a busy machine.

            Examples:
              tether bench all
              tether bench all --json --out out/bench
              tether bench all --only ros2,loop --quick
            """
        )
        @Option(help: "Directory for bench-all.json and bench-all.md.") var out = "out/bench"
        @Option(help: "Benchmarks to run, comma-separated (default: all of \(BenchAllPlan.names.joined(separator: ","))).") var only: String?
        @Option(help: "Benchmarks to leave out, comma-separated.") var skip: String?
        @Flag(help: "Fewer repetitions: checks that every benchmark runs; not figures to quote.") var quick = false
        @Flag(help: "Print the table as JSON instead of Markdown.") var json = false

        func run() throws {
            let selected = try report { try BenchAllPlan.select(only: only, skip: skip) }
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            try report { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            let started = ContinuousClock.now
            var rows: [BenchmarkRow] = [], notes: [String] = [], reports: [String: Any] = [:]
            for (i, name) in selected.enumerated() {
                let arguments = ["bench", name, "--json"] + BenchAllPlan.arguments(name, quick: quick)
                FileHandle.standardError.write(Data("[\(i + 1)/\(selected.count)] tether \(arguments.joined(separator: " ")) …\n".utf8))
                let t0 = ContinuousClock.now
                do {
                    let output = try runChild(exe, arguments)
                    guard let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else {
                        throw TetherError("`tether \(arguments.joined(separator: " "))` printed no JSON report: \(output.suffix(300))")
                    }
                    reports[name] = object
                    let extracted = BenchAllPlan.rows(name, JSONObject(object))
                    rows += extracted
                    if extracted.isEmpty { notes.append("bench \(name): its report has no peer figure to compare (see bench-all.json)") }
                    FileHandle.standardError.write(Data("      done in \(fmt((ContinuousClock.now - t0).seconds, 0)) s\n".utf8))
                } catch {
                    notes.append("bench \(name) failed: \(error)")
                    FileHandle.standardError.write(Data("      failed: \(error)\n".utf8))
                }
            }
            if quick { notes.append("--quick: fewer repetitions than the defaults; these figures check the set-up and are not to be quoted") }
            let environment = BenchmarkEnvironment.current()
            if environment.build == "debug" { notes.append("debug build: the figures are not meaningful; build with -c release") }
            let table = BenchmarkTable(environment: environment, rows: rows, notes: notes, seconds: (ContinuousClock.now - started).seconds)
            try report { try write(table, reports: reports) }
            if json { try printJSON(table) } else { print(table.markdown(), terminator: "") }
            if notes.contains(where: { $0.contains(" failed: ") }) { throw ExitCode.failure }
        }

        private func write(_ table: BenchmarkTable, reports: [String: Any]) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            guard var object = try JSONSerialization.jsonObject(with: encoder.encode(table)) as? [String: Any] else {
                throw TetherError("cannot encode the benchmark table")
            }
            object["reports"] = reports
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            do {
                try data.write(to: URL(fileURLWithPath: "\(out)/bench-all.json"))
                try table.markdown().write(toFile: "\(out)/bench-all.md", atomically: true, encoding: .utf8)
            } catch {
                throw TetherError("cannot write the benchmark table: \(error.localizedDescription)", at: out, hint: "pass --out to a writable directory")
            }
            FileHandle.standardError.write(Data("wrote \(out)/bench-all.json and \(out)/bench-all.md\n".utf8))
        }

        /// Runs a child with its standard error shown (its own errors and warnings) and returns
        /// its standard output; a non-zero exit throws.
        private func runChild(_ exe: String, _ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: exe)
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw TetherError("`tether \(arguments.joined(separator: " "))` exited with status \(process.terminationStatus)",
                                  hint: "run it by hand to see the whole error")
            }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
