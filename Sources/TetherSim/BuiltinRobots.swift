import Foundation
import TetherCore

/// Finds manifests: the built-in robots in `robots/NAME/NAME.yaml`, or a user's manifest path.
public enum BuiltinRobots {
    /// Names of the built-in robots.
    public static let names = ["quadruped", "cartpole"]

    /// The `robots/` directory of the Tether checkout (see `TetherPaths.checkoutRoot`).
    public static func directory() -> String? {
        TetherPaths.checkoutRoot().map { "\($0)/robots" }
    }

    /// Resolves `--robot` (a built-in name or a manifest path) to a manifest path.
    public static func manifestPath(for robot: String) throws -> String {
        if robot.hasSuffix(".yaml") || robot.hasSuffix(".yml") || robot.contains("/") {
            guard FileManager.default.fileExists(atPath: robot) else {
                throw TetherError("manifest not found", at: robot,
                                  hint: "pass a built-in robot (\(names.joined(separator: ", "))) or the path of a manifest YAML")
            }
            return robot
        }
        guard names.contains(robot) else {
            throw TetherError("unknown robot '\(robot)'", hint: "built-in robots: \(names.joined(separator: ", ")); or pass a manifest path")
        }
        guard let dir = directory() else {
            throw TetherError("cannot find the built-in robots directory", hint: "run from the Tether checkout or set TETHER_HOME to the checkout")
        }
        return "\(dir)/\(robot)/\(robot).yaml"
    }

    /// Loads a built-in robot or a manifest path.
    public static func load(_ robot: String) throws -> RobotModel {
        try RobotModel.load(manifestPath: manifestPath(for: robot))
    }
}
