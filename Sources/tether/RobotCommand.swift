import ArgumentParser
import Foundation
import TetherCore
import TetherSim

struct RobotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robot",
        abstract: "Inspect and check robot manifests.",
        subcommands: [Check.self, List.self, Import.self]
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

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Draft a manifest from a MuJoCo model and a trainer's deployment configuration.",
            discussion: """
            Reads the MJCF (joints, ranges, actuators and their torque ranges, IMU sensors) and the \
            trainer's configuration: unitree_rl_gym's deploy YAML (kps, kds, default_angles, scales, \
            simulation_dt, control_decimation, num_obs) or Isaac Lab's params/env.yaml (sim.dt, \
            decimation, init_state, actuators, observations.policy, actions). Writes the draft with \
            what a person must check as comments, prints that list, and runs the robot check on it.

            Examples:
              tether robot import g1_12dof.xml --config deploy/deploy_mujoco/configs/g1.yaml --output robots/g1/g1.yaml
              tether robot import go2.xml --config logs/rsl_rl/go2/run/params/env.yaml --output go2.yaml
            """
        )

        @Argument(help: "The robot's MJCF model (the one the policy was deployed with).")
        var model: String

        @Option(help: "The trainer's configuration: unitree_rl_gym deploy YAML or Isaac Lab env.yaml.")
        var config: String

        @Option(name: .shortAndLong, help: "Where to write the manifest draft.")
        var output: String

        @Option(help: "Robot name in the manifest (default: the model's file name).")
        var name: String?

        @Flag(help: "Overwrite the output file if it exists.")
        var force = false

        func run() throws {
            if FileManager.default.fileExists(atPath: output) && !force {
                throw ValidationError("\(output) exists; pass --force to overwrite it")
            }
            let outline = try report { try ModelOutline(path: model) }
            let draft = try report { try ManifestDraft.draft(model: outline, configPath: config, manifestPath: output, name: name) }
            do {
                try draft.yaml.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("cannot write \(output): \(error.localizedDescription)")
            }
            print("wrote \(output) (from \(draft.trainer.rawValue)'s \(URL(fileURLWithPath: config).lastPathComponent))")
            print("a person must check (also written as comments in the draft):")
            for check in draft.checks { print("  - \(check)") }
            do {
                let robot = try RobotModel.load(manifestPath: output)
                print("check: ok, observation \(robot.manifest.observationSize) values, action \(robot.manifest.actionSize) values")
            } catch let error as ManifestError {
                print("check: the draft does not pass tether robot check yet:")
                for problem in error.problems { print("  - \(problem)") }
            }
        }
    }
}
