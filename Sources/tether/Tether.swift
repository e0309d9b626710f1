import ArgumentParser
import Foundation
import TetherCore
import TetherSim

@main
struct Tether: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tether",
        abstract: "Take a robot policy from simulation to a real robot, and measure the gap.",
        discussion: """
        Tether runs the sim-to-real loop: calibrate, validate under domain randomization, deploy \
        behind a safety wrapper, measure the gap, improve. All quantities are SI units and radians.

        Built-in robots: \(BuiltinRobots.names.joined(separator: ", ")) (or pass a manifest path).
        """,
        version: "0.1.0",
        subcommands: [Demo.self, Sim.self, Train.self, Deploy.self, Emulate.self, Experiment.self, Calibrate.self, Validate.self, Trials.self,
                      GapReportCommand.self, PolicyCommand.self, SafetyCommand.self, LogCommand.self, RobotCommand.self,
                          FineTune.self, Improve.self, HistoryCommand.self, Detect.self, Eval.self, Render.self, Bench.self]
    )
}

/// Writes an output file atomically (a failed write leaves no half file), or stops with a clear
/// message: what could not be written, where, and why. `data` may throw (an encoding error) too.
func writeOutput(to path: String, what: String, _ data: () throws -> Data) throws {
    try report {
        do { try data().write(to: URL(fileURLWithPath: path), options: .atomic) } catch let error as TetherError { throw error } catch {
            throw TetherError("cannot write \(what): \(error.localizedDescription)", at: path)
        }
    }
}

/// Runs a library call and turns its errors into a clear message and exit code 1.
func report<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ManifestError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    } catch let error as TetherError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// Prints a value as pretty JSON with sorted keys.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func fmt(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }

/// Writes a line to standard output unbuffered, so progress shows even through a pipe.
func emit(_ line: String) {
    fflush(nil)  // what print() buffered comes first (nil: every output stream)
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Routes SIGINT and SIGTERM to `handler` (with the signal's name) instead of ending the process.
/// Keep the returned sources alive for as long as the handler should run.
func onTerminationSignals(_ handler: @escaping @Sendable (String) -> Void) -> [DispatchSourceSignal] {
    [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")].map { sig, name in
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler { handler(name) }
        source.resume()
        return source
    }
}
