/// TetherValidation: the validation gate (randomized trials, success-rate intervals, a
/// sequential go / no-go, sensitivity, shards), trials on a robot, the sim-vs-real gap report and
/// the improvement loop (DESIGN.md). Imports Core, Sim, Policy, Runtime, Calibration.
public enum TetherValidationModule {
    /// Format version of the files this module writes (validation results, shards, trial records).
    public static let formatVersion = 1
}
