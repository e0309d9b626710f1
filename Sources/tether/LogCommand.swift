import ArgumentParser
import Foundation
import TetherCore
import TetherROS
import TetherRuntime

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Inspect and repair flight recordings (ROS 2 bags in MCAP).",
        subcommands: [Info.self, Recover.self]
    )

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Topics, message counts, time range, and whether the file was closed cleanly.",
            discussion: "Examples:\n  tether log info flight.mcap\n  tether log info rosbag2_2026_11_26/rosbag2.mcap"
        )
        @Argument(help: "MCAP file.") var file: String

        func run() throws {
            let spools = FlightRecorder.existingSpools(for: file)
            if !spools.isEmpty && !FileManager.default.fileExists(atPath: file) {
                try report { () throws -> Void in throw TetherError(
                    "no recording here yet: the run recording to this path did not end (it was killed or crashed, or it is still running); its "
                        + "flight-recorder spool is beside it: \(spools.joined(separator: ", "))",
                    at: file,
                    hint: "once the run is over, `tether log recover \(file) OUT.mcap` merges the spool into a valid recording (a crash loses at most the "
                        + "last 0.5 s)") }
            }
            let reader = try report {
                do { return try MCAPReader(path: file) } catch let e as TetherError { throw e } catch {
                    throw TetherError("cannot read the recording: \(error)", at: file)
                }
            }
            print(reader.info)
            // How the recorded policy got through the deployment gate (docs/deployment-gate.md).
            if let gate = reader.channels.values.compactMap({ $0.metadata["gate.sentence"] }).first {
                print("gate:     \(gate)")
            }
            if !spools.isEmpty {
                print("hint: the run that recorded this did not end cleanly and left a flight-recorder spool (\(spools.joined(separator: ", "))); `tether "
                    + "log recover \(file) OUT.mcap` merges both into a valid recording")
            } else if !reader.isCleanlyClosed {
                print("hint: the recording was not closed cleanly; `tether log recover \(file) OUT.mcap` writes a valid copy of its complete chunks")
            }
        }
    }

    struct Recover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a valid copy of a truncated recording: every complete chunk, with a new summary.",
            discussion: """
            The source is never modified. When FILE is the --record path of a run that did not end \
            (killed, crashed), FILE (if present) and the flight recorder's spool segments beside it \
            (FILE.spool-0.mcap, FILE.spool-1.mcap) are merged in log-time order.

            Examples:
              tether log recover crashed.mcap recovered.mcap
              tether log recover run.mcap run-recovered.mcap   # run.mcap missing, run.mcap.spool-*.mcap present
            """
        )
        @Argument(help: "Truncated MCAP file, or the recording path of a run that did not end.") var file: String
        @Argument(help: "Output path.") var output: String

        func run() throws {
            guard file != output else { throw ValidationError("write the recovered copy to another path; the source is kept as it is") }
            let result = try report {
                do { return try FlightRecorder.recover(recording: file, to: output) } catch let e as TetherError { throw e } catch {
                    throw TetherError("cannot recover the recording: \(error)", at: file)
                }
            }
            print(result)
        }
    }
}
