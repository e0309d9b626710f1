import ArgumentParser
import TetherCore

/// Typed options: the command line reads the library's vocabulary, and a wrong value is a usage
/// error (exit 64) naming the choices.
extension TorqueStage {
    /// `--stage 25|50|100` (percent of the torque limits).
    static func argument(_ text: String) throws -> TorqueStage {
        guard let percent = Int(text), let stage = TorqueStage(rawValue: percent) else {
            throw ValidationError("--stage must be \(choices) (percent of the torque limits), not \(text)")
        }
        return stage
    }
}

extension RobotBackend {
    /// `--backend sim|emulator|ros2`.
    static func argument(_ text: String) throws -> RobotBackend {
        guard let backend = RobotBackend(rawValue: text) else { throw ValidationError("--backend must be \(choices), not \(text)") }
        return backend
    }
}
