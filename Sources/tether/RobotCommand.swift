import ArgumentParser
import Foundation
import TetherCore
import TetherSim

struct RobotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robot",
        abstract: "Inspect and check robot manifests.",
        subcommands: [Check.self, List.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a manifest against its robot model, reporting every problem at once.",
            discussion: """
            Checks the YAML structure and values, then the model: every joint, actuator and sensor \
            exists, limits lie inside the model's ranges, the physics rate matches the timestep and \
            the control rate divides it. Exits 1 with the list of problems (file:line: field: what).

            Examples:
              tether robot check robots/quadruped/quadruped.yaml
              tether robot check quadruped
              tether robot check my_robot.yaml --json
            """
        )

        @Argument(help: "Manifest path or built-in robot name.")
        var manifest: String

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            let path = try report { try BuiltinRobots.manifestPath(for: manifest) }
            do {
                let robot = try RobotModel.load(manifestPath: path)
                let m = robot.manifest
                if json {
                    try printJSON(CheckResult(ok: true, manifest: path, problems: [], observationSize: m.observationSize, actionSize: m.actionSize))
                    return
                }
                print("ok: \(path)")
                print("  robot \(m.name): \(m.joints.count) joints (\(m.actionSize) actuated), model \(robot.model.source)")
                print("  rates: physics \(fmt(m.rates.physicsHz, 0)) Hz, control \(fmt(m.rates.controlHz, 0)) Hz (decimation \(m.rates.decimation))")
                print("  observation \(m.observationSize) values, action \(m.actionSize) values (\(m.action.mode.rawValue) mode)")
                print("  total mass \(fmt(robot.model.totalMass, 3)) kg")
            } catch let error as ManifestError {
                if json {
                    try printJSON(CheckResult(ok: false, manifest: path, problems: error.problems.map(\.description), observationSize: nil, actionSize: nil))
                } else {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                }
                throw ExitCode.failure
            }
        }

        struct CheckResult: Encodable {
            var ok: Bool
            var manifest: String
            var problems: [String]
            var observationSize: Int?
            var actionSize: Int?
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the built-in robots.",
            discussion: "Example:\n  tether robot list"
        )

        func run() throws {
            for name in BuiltinRobots.names {
                let path = try report { try BuiltinRobots.manifestPath(for: name) }
                let manifest = try report { try Manifest.load(path: path) }
                print("\(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(manifest.description)\n           \(path)")
            }
        }
    }
}
