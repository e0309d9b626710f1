import Foundation
import TetherNumerics

/// What a trajectory fit found: estimates with their uncertainty, what the data could not
/// determine, and how well the model matches the recordings before and after.
///
/// Uncertainties are in SI units of each parameter. They assume the model structure is right and
/// the noise of each signal is independent from sample to sample; with unmodelled effects they
/// are optimistic (see `docs/trajectory-fitting.md`).
public struct TrajectoryFitResult: Sendable, Codable, Equatable {
    /// One fitted parameter.
    public struct Estimate: Sendable, Codable, Equatable {
        public var name: String
        /// SI unit ("1" for scale factors).
        public var unit: String
        public var nominal: Double
        public var initial: Double
        /// The estimate.
        public var value: Double
        public var lower: Double
        public var upper: Double
        public var scale: Double
        /// Standard deviation; nil when the estimate ended on a bound.
        public var standardDeviation: Double?
        /// 95 % confidence interval (Student t; in JSON [low, high]); nil when on a bound.
        public var interval95: ConfidenceInterval?
        /// Set when the estimate ended on a bound: the data pushed it there, so the bound, not the
        /// data, decided the value (widen the bound if it is not a physical limit).
        public var bound: Bound?
        /// False when the data cannot determine the parameter: its standard deviation exceeds
        /// `Options.identifiabilityLimit` scales (it is in a weak direction); nil when on a bound.
        public var identifiable: Bool?
    }

    /// Which bound an estimate ended on.
    public enum Bound: String, Sendable, Codable { case lower, upper }

    /// A combination of parameters that the data barely determine: moving along it changes the
    /// simulated trajectories less than the noise does.
    public struct WeakDirection: Sendable, Codable, Equatable {
        /// Singular value of the scaled, noise-weighted Jacobian along it, relative to the largest.
        public var relativeSingularValue: Double
        /// Standard deviation along the direction, in scale units.
        public var standardDeviation: Double
        /// Unit vector in scaled coordinates (parameter / scale): name and weight, largest first,
        /// weights below 0.1 left out.
        public var components: [Component]
        /// Readable form, e.g. "0.71 joint[a].damping − 0.70 body[b].mass".
        public var text: String

        public struct Component: Sendable, Codable, Equatable {
            public var name: String
            public var weight: Double
        }
    }

    /// Root-mean-square differences between simulation and recording.
    public struct RMS: Sendable, Codable, Equatable {
        /// Over all normalized residuals (1 ≈ the spread or noise the residuals were divided by).
        public var normalized: Double
        /// Joint positions, rad (m for slide joints).
        public var position: Double
        /// Joint velocities, rad/s (m/s).
        public var velocity: Double
        /// Joint efforts, N·m (N), when compared.
        public var effort: Double?
    }

    /// The fit's errors on one recording.
    public struct RecordingError: Sendable, Codable, Equatable {
        public var source: String
        /// Passed as held out: not used to fit.
        public var heldOut: Bool
        /// Compared samples (per signal).
        public var samples: Int
        /// At the nominal values; nil when the model could not be simulated there.
        public var before: RMS?
        /// At the estimates.
        public var after: RMS
    }

    /// Why the optimizer stopped (TetherNumerics' Levenberg–Marquardt stop reasons).
    public typealias StopReason = LevenbergMarquardt.StopReason

    /// One per parameter, in the order given.
    public var estimates: [Estimate]
    /// Covariance, SI (row and column per parameter; zero for parameters on a bound).
    public var covariance: [[Double]]
    /// Correlation coefficients (zero rows for parameters on a bound).
    public var correlation: [[Double]]
    /// Singular values of the scaled, noise-weighted Jacobian of the free parameters, largest first.
    public var singularValues: [Double]
    /// Combinations of parameters the data cannot determine (empty when all are identified).
    public var weakDirections: [WeakDirection]
    /// Training recordings first, then the held-out ones.
    public var recordings: [RecordingError]
    /// ½‖r‖² of the normalized residuals at the nominal values (nil when not simulable there),
    /// at the initial values, and at the estimates.
    public var costNominal: Double?
    public var costInitial: Double
    public var costFinal: Double
    /// Residuals and degrees of freedom (residuals − free parameters).
    public var residuals: Int
    public var degreesOfFreedom: Int
    /// √(2·cost / dof): about 1 when the residuals are at the level they were normalized by.
    public var residualStandardDeviation: Double
    public var iterations: Int
    /// Parameter points simulated (each over every training recording).
    public var evaluations: Int
    public var stopReason: StopReason
    public var threads: Int
    /// Wall time of the whole fit, s.
    public var wallSeconds: Double
    /// Every iteration as reported to the progress callback.
    public var history: [FitProgress]

    /// The estimate of a parameter by name.
    public func estimate(_ name: String) -> Estimate? { estimates.first { $0.name == name } }

    /// Estimated values by name.
    public var values: [String: Double] {
        Dictionary(uniqueKeysWithValues: estimates.map { ($0.name, $0.value) })
    }
}

/// One Levenberg–Marquardt iteration of a trajectory fit, as reported to a progress callback
/// (cost of the normalized residuals, step in scaled units, parameter points simulated so far).
public typealias FitProgress = LevenbergMarquardt.Iteration
