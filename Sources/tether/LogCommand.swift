import ArgumentParser
import Foundation
import TetherCore
import TetherROS

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
            let reader = try report {
                do { return try MCAPReader(path: file) } catch let e as TetherError { throw e } catch {
                    throw TetherError("cannot read the recording: \(error)", at: file)
                }
            }
            print(reader.info)
            if !reader.isCleanlyClosed {
                print("hint: the recording was not closed cleanly; `tether log recover \(file) OUT.mcap` writes a valid copy of its complete chunks")
            }
        }
    }

    struct Recover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a valid copy of a truncated recording: every complete chunk, with a new summary.",
            discussion: "The source is never modified.\n\nExample:\n  tether log recover crashed.mcap recovered.mcap"
        )
        @Argument(help: "Truncated MCAP file.") var file: String
        @Argument(help: "Output path.") var output: String

        func run() throws {
            guard file != output else { throw ValidationError("write the recovered copy to another path; the source is kept as it is") }
            let result = try report {
                do { return try MCAPReader.recover(from: file, to: output) } catch let e as TetherError { throw e } catch {
                    throw TetherError("cannot recover the recording: \(error)", at: file)
                }
            }
            print(result)
        }
    }
}
