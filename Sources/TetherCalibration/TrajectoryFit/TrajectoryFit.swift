import Foundation
import TetherNumerics
import TetherCore
import TetherSim

/// Trajectory fitting: chooses parameters of the MuJoCo model (and of the motor drivers and
/// sensors) so that replaying the recorded commands in simulation reproduces the recorded joint
/// trajectories. Method, names and flags: `docs/trajectory-fitting.md`.
///
/// ```swift
/// let fit = try TrajectoryFit(robot: robot, parameters: [
///     FitParameter("joint[FR_calf_joint].damping", bounds: 0...2),
///     FitParameter("driver.lag", bounds: 0...0.05),
/// ])
/// let result = try fit.fit(recordings, heldOut: [check]) { print($0.iteration, $0.cost) }
/// ```
public struct TrajectoryFit: Sendable {
    /// How residuals of different signals are made comparable.
    public enum Normalization: Sendable, Codable, Equatable {
        /// Divide each signal (a joint's position, velocity or effort in one recording) by its
        /// standard deviation over the recording, but by at least a tenth of the largest of its
        /// kind: positions and velocities weigh alike, and a joint that barely moved does not
        /// make its sensor noise count more than the motion of the others.
        case signalSpread
        /// Divide by the sensors' noise standard deviations (rad, rad/s, N·m): maximum likelihood
        /// when the noise is white and the model is right.
        case sensorNoise(position: Double, velocity: Double, effort: Double)
    }

    /// Where each replay starts.
    public enum InitialState: Sendable, Codable, Equatable {
        /// At the first recorded state, as measured (its noise included).
        case firstSample
        /// At rest: the recording begins with the robot still for `window` seconds; positions are
        /// the average over that window and velocities zero. Use it when the experiment starts
        /// from rest, as it should: the first sample's velocity noise otherwise sends a lightly
        /// damped joint drifting for the whole replay.
        case atRest(window: Double)
    }

    /// Settings of the fit.
    public struct Options: Sendable, Codable, Equatable {
        /// Levenberg–Marquardt iterations at most.
        public var maxIterations: Int
        /// Worker threads for the Jacobian's columns and the recordings (results do not depend on it).
        public var threads: Int
        /// Forward-difference step, as a fraction of each parameter's scale. Not too small: dry
        /// friction and contacts make trajectories only piecewise smooth in the parameters, and a
        /// step of 1 % averages over the kinks that a tiny one would fall into.
        public var differenceStep: Double
        /// Stop when an accepted step lowers the cost by less than this fraction of it.
        public var costTolerance: Double
        /// Stop when a step is shorter than this (relative, in scaled units).
        public var stepTolerance: Double
        /// Stop when the projected gradient is below this (relative to the cost).
        public var gradientTolerance: Double
        public var normalization: Normalization
        public var initialState: InitialState
        /// Joints whose signals are compared (nil: every manifest joint).
        public var joints: [String]?
        /// Compare efforts too, for recordings that have them.
        public var includeEfforts: Bool
        /// Driver lag and delay used by every replay when `driver.lag` / `driver.delay` are not
        /// fitted (e.g. measured by torque steps); default the ideal driver.
        public var fixedDriver = DriverDynamics()
        /// A parameter (or direction) whose standard deviation exceeds this many scales is flagged
        /// as not identifiable.
        public var identifiabilityLimit: Double

        public init(maxIterations: Int = 30, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                    differenceStep: Double = 1e-2, costTolerance: Double = 1e-6, stepTolerance: Double = 1e-6,
                    gradientTolerance: Double = 1e-10, normalization: Normalization = .signalSpread,
                    initialState: InitialState = .firstSample, joints: [String]? = nil,
                    includeEfforts: Bool = false, identifiabilityLimit: Double = 1) {
            self.maxIterations = maxIterations
            self.threads = threads
            self.differenceStep = differenceStep
            self.costTolerance = costTolerance
            self.stepTolerance = stepTolerance
            self.gradientTolerance = gradientTolerance
            self.normalization = normalization
            self.initialState = initialState
            self.joints = joints
            self.includeEfforts = includeEfforts
            self.identifiabilityLimit = identifiabilityLimit
        }
    }

    /// The robot whose model is fitted (its model is only read).
    public let robot: RobotModel
    /// The parameters, resolved against the robot, in the order given.
    public let parameters: [ResolvedFitParameter]
    public let options: Options
    let targets: [FitTarget]
    let writer: ParameterWriter
    let comparedJoints: [Int]?

    /// Resolves the parameters against the robot. Throws for an unknown name (listing close
    /// matches), two parameters that set the same value, bounds that are empty or unphysical,
    /// and options out of range.
    public init(robot: RobotModel, parameters: [FitParameter], options: Options = Options()) throws {
        guard !parameters.isEmpty else {
            throw TetherError("no parameters to fit", at: "robot '\(robot.manifest.name)'",
                              hint: "name at least one, e.g. joint[\(robot.manifest.joints.first?.name ?? "NAME")].damping")
        }
        if let twice = Dictionary(grouping: parameters, by: \.name).first(where: { $0.value.count > 1 })?.key {
            throw TetherError("parameter '\(twice)' is listed twice", at: "robot '\(robot.manifest.name)'")
        }
        guard options.maxIterations >= 0, options.threads >= 1, options.differenceStep > 0, options.identifiabilityLimit > 0 else {
            throw TetherError("fit options out of range: maxIterations \(options.maxIterations), threads \(options.threads), differenceStep "
                + "\(options.differenceStep), identifiabilityLimit \(options.identifiabilityLimit)",
                              hint: "iterations ≥ 0, threads ≥ 1, a positive difference step and limit")
        }
        if case .atRest(let window) = options.initialState, !(window >= 0 && window.isFinite) {
            throw TetherError("the rest window must be a non-negative number of seconds, got \(window)")
        }
        if case .sensorNoise(let p, let v, let e) = options.normalization, !(p > 0 && v > 0 && e > 0) {
            throw TetherError("sensor noise levels must be positive, got position \(p), velocity \(v), effort \(e)")
        }
        var resolved: [ResolvedFitParameter] = [], targets: [FitTarget] = []
        for p in parameters {
            let (r, t) = try FitParameterCatalog.resolve(p, robot: robot)
            resolved.append(r)
            targets.append(t)
        }
        self.robot = robot
        self.parameters = resolved
        self.options = options
        self.targets = targets
        var writer = try ParameterWriter(parameters: resolved, targets: targets, model: robot.model)
        guard options.fixedDriver.lagTimeConstant >= 0, options.fixedDriver.actionDelay >= 0 else {
            throw TetherError("the fixed driver lag and delay must not be negative", hint: "seconds, e.g. lag 0.004, delay 0.012")
        }
        writer.fixedLag = options.fixedDriver.lagTimeConstant
        writer.fixedDelay = options.fixedDriver.actionDelay
        self.writer = writer
        if let names = options.joints {
            comparedJoints = try names.map { name in
                guard let i = robot.manifest.joints.firstIndex(where: { $0.name == name }) else {
                    let close = FitParameterCatalog.closeMatches(to: name, in: robot.manifest.joints.map(\.name))
                    throw TetherError("joint '\(name)' to compare is not a joint of robot '\(robot.manifest.name)'",
                                      hint: close.isEmpty ? "its joints: \(robot.manifest.joints.map(\.name).joined(separator: ", "))" : "did you mean "
                                          + "\(close.joined(separator: " or "))?")
                }
                return i
            }
        } else {
            comparedJoints = nil
        }
    }

    /// Every parameter name the robot accepts.
    public static func parameterNames(robot: RobotModel) -> [String] {
        FitParameterCatalog.names(robot: robot)
    }

    /// The value vector for named values; parameters not named keep their nominal value.
    public func values(_ named: [String: Double]) throws -> [Double] {
        if let unknown = named.keys.sorted().first(where: { name in !parameters.contains { $0.name == name } }) {
            throw TetherError("'\(unknown)' is not one of the fitted parameters",
                              hint: "the parameters: \(parameters.map(\.name).joined(separator: ", "))")
        }
        return parameters.map { named[$0.name] ?? $0.nominal }
    }

    /// Replays a recording at the given values (nominal where not named) and returns what the
    /// simulation measures at the recorded state times: every manifest joint's position, velocity
    /// and effort, with the recording's commands and metadata.
    public func simulate(_ recording: ExperimentRecording, values named: [String: Double] = [:]) throws -> ExperimentRecording {
        let x = try values(named)
        let prepared = try PreparedRecording(recording, robot: robot, joints: nil, quantities: JointQuantity.allCases,
                                             normalization: .signalSpread, initialState: options.initialState, skipFirst: false)
        let replayer = TrajectoryReplayer(robot: robot, writer: writer)
        let simulated: [Double]
        do {
            simulated = try replayer.replay(prepared, values: x)
        } catch {
            throw TetherError("the model cannot be simulated at these values: \(error.reason)", at: recording.source)
        }
        let m = prepared.sampleTimes.count, n = robot.manifest.joints.count
        func value(_ q: Int, _ j: Int, _ i: Int) -> Double { simulated[(q * n + j) * m + i] }
        let states = (0..<m).map { i in
            ExperimentRecording.StateSample(time: prepared.sampleTimes[i], positions: (0..<n).map { value(0, $0, i) },
                                            velocities: (0..<n).map { value(1, $0, i) }, efforts: (0..<n).map { value(2, $0, i) })
        }
        return ExperimentRecording(source: "\(recording.source) (simulated)", kind: recording.kind, metadata: recording.metadata,
                                   jointNames: robot.manifest.joints.map(\.name), states: states, commands: recording.commands)
    }

    /// Fits the parameters to `recordings` and reports the estimates, their uncertainty, and the
    /// errors before and after on the recordings and on `heldOut` (not used to fit).
    /// - Parameter progress: called on this thread after every iteration.
    public func fit(_ recordings: [ExperimentRecording], heldOut: [ExperimentRecording] = [],
                    progress: (FitProgress) -> Void = { _ in }) throws -> TrajectoryFitResult {
        let clock = ContinuousClock()
        let started = clock.now
        guard !recordings.isEmpty else {
            throw TetherError("no recordings to fit", hint: "pass at least one experiment recording")
        }
        let training = try recordings.map(prepare)
        let held = try heldOut.map(prepare)
        let evaluator = ResidualEvaluator(robot: robot, writer: writer, recordings: training, threads: options.threads)
        let scales = parameters.map(\.scale)
        func si(_ z: [Double]) -> [Double] { zip(z, scales).map { $0 * $1 } }
        func scaled(_ x: [Double]) -> [Double] { zip(x, scales).map { $0 / $1 } }

        let nominal = parameters.map(\.nominal)
        let startsAtNominal = nominal == parameters.map(\.initial)
        let nominalFirst = startsAtNominal ? nil : evaluator.residuals(at: [nominal])[0].values
        let lm = LevenbergMarquardt(maximumIterations: options.maxIterations, costTolerance: options.costTolerance,
                                    stepTolerance: options.stepTolerance, gradientTolerance: options.gradientTolerance,
                                    differences: .forward(step: options.differenceStep))
        let names = parameters.map(\.name)
        let outcome: LevenbergMarquardt.Solution
        do throws(LevenbergMarquardt.Failure) {
            outcome = try lm.minimize(start: scaled(parameters.map(\.initial)), lower: scaled(parameters.map(\.lower)),
                                      upper: scaled(parameters.map(\.upper)),
                                      batch: { evaluator.residuals(at: $0.map(si)).map { $0.values.map(LevenbergMarquardt.Evaluation.init(values:))
                                          ?? .init(failure: $0.failure ?? "unknown reason") } },
                                      evaluations: { evaluator.evaluations },
                                      progress: progress)
        } catch .startNotEvaluable(let reason) {
            throw TetherError("the model cannot be simulated at the starting values: \(reason)",
                              hint: "check the initial values and bounds of the parameters")
        } catch .tooFewResiduals(let n, let p) {
            throw TetherError("\(n) residuals for \(p) parameters: too few samples to fit", hint: "use longer recordings or fewer parameters")
        } catch .jacobianNotEvaluable(let i, let reason) {
            throw TetherError("the model cannot be simulated on either side of \(names[i]): \(reason)",
                              hint: "narrow the bounds of \(names[i]) to physical values")
        }
        let estimate = si(outcome.z)
        let atNominal = startsAtNominal ? outcome.initialResiduals : nominalFirst
        let statistics = FitStatistics(parameters: parameters, limit: options.identifiabilityLimit, outcome: outcome,
                                       recordings: training, offsets: evaluator.offsets)

        // Errors before and after, training then held out.
        var errors: [TrajectoryFitResult.RecordingError] = []
        for (r, rec) in training.enumerated() {
            let range = evaluator.offsets[r]..<(evaluator.offsets[r] + rec.count)
            errors.append(.init(source: rec.source, heldOut: false, samples: rec.sampleTimes.count,
                                before: atNominal.map { Self.rms(Array($0[range]), rec) },
                                after: Self.rms(Array(outcome.residuals[range]), rec)))
        }
        if !held.isEmpty {
            let heldEvaluator = ResidualEvaluator(robot: robot, writer: writer, recordings: held, threads: options.threads)
            let pair = heldEvaluator.residuals(at: [nominal, estimate])
            guard let after = pair[1].values else {
                throw TetherError("the fitted model cannot be simulated on a held-out recording: \(pair[1].failure ?? "")")
            }
            for (r, rec) in held.enumerated() {
                let range = heldEvaluator.offsets[r]..<(heldEvaluator.offsets[r] + rec.count)
                errors.append(.init(source: rec.source, heldOut: true, samples: rec.sampleTimes.count,
                                    before: pair[0].values.map { Self.rms(Array($0[range]), rec) },
                                    after: Self.rms(Array(after[range]), rec)))
            }
        }

        let estimates = parameters.indices.map { i in
            let p = parameters[i]
            let sd = statistics.standardDeviations[i]
            return TrajectoryFitResult.Estimate(
                name: p.name, unit: p.unit, nominal: p.nominal, initial: p.initial, value: estimate[i],
                lower: p.lower, upper: p.upper, scale: p.scale, standardDeviation: sd,
                interval95: sd.map { .symmetric(estimate[i], standardError: $0, quantile: statistics.tQuantile) },
                bound: statistics.bounds[i], identifiable: statistics.identifiable[i])
        }
        let costNominal = atNominal.map { 0.5 * $0.reduce(0) { $0 + $1 * $1 } }
        return TrajectoryFitResult(
            estimates: estimates, covariance: statistics.covariance, correlation: statistics.correlation,
            singularValues: statistics.singularValues, weakDirections: statistics.weakDirections, recordings: errors,
            costNominal: costNominal, costInitial: outcome.initialCost, costFinal: outcome.cost, residuals: evaluator.count,
            degreesOfFreedom: statistics.degreesOfFreedom,
            residualStandardDeviation: (2 * outcome.cost / Double(max(1, statistics.degreesOfFreedom))).squareRoot(),
            iterations: outcome.iterations, evaluations: evaluator.evaluations, stopReason: outcome.stop, threads: options.threads,
            wallSeconds: (clock.now - started).seconds, history: outcome.history)
    }

    private func prepare(_ r: ExperimentRecording) throws -> PreparedRecording {
        var quantities: [JointQuantity] = [.position, .velocity]
        if options.includeEfforts, !r.states.isEmpty, r.states.allSatisfy({ !$0.efforts.isEmpty }) { quantities.append(.effort) }
        return try PreparedRecording(r, robot: robot, joints: comparedJoints, quantities: quantities,
                                     normalization: options.normalization, initialState: options.initialState, skipFirst: true)
    }

    /// RMS of one recording's normalized residuals, and per quantity in SI units.
    static func rms(_ residuals: [Double], _ rec: PreparedRecording) -> TrajectoryFitResult.RMS {
        let m = rec.sampleTimes.count
        var total = 0.0
        var sums: [JointQuantity: (sum: Double, count: Int)] = [:]
        for (k, s) in rec.signals.enumerated() {
            let w = rec.weights[k]
            var sum = 0.0
            for i in 0..<m {
                let r = residuals[k * m + i]
                total += r * r
                let e = r / w
                sum += e * e
            }
            let old = sums[s.quantity] ?? (0, 0)
            sums[s.quantity] = (old.sum + sum, old.count + m)
        }
        func of(_ q: JointQuantity) -> Double? { sums[q].map { ($0.sum / Double(max(1, $0.count))).squareRoot() } }
        return .init(normalized: (total / Double(max(1, residuals.count))).squareRoot(), position: of(.position) ?? 0,
                     velocity: of(.velocity) ?? 0, effort: of(.effort))
    }
}
