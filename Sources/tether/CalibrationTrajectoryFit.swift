import TetherCalibration
import TetherCore
import TetherSim

enum CalibrationTrajectoryFit {
    static func make() -> ((RobotModel, [ExperimentRecording], [ExperimentRecording], [CalibratedParameter], (String) -> Void) throws
                           -> (parameters: [CalibratedParameter], figures: [CalibrationFigure], heldOut: [CalibrationFile.HeldOutError], warnings: [String]))? {
        nil
    }
}
