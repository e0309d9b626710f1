import Foundation
import TetherCore
import TetherSim

/// The calibration's HTML report (written with the report library once it lands).
public enum CalibrationReport {
    public static func html(_ outcome: Calibration.Outcome, robot: RobotModel) -> String {
        "<html><body><pre>\(CalibrationOutput.table(outcome.file))</pre></body></html>"
    }
}
