import Foundation
import TetherCore
import TetherSim

/// `tether calibrate` as a library call: recordings in, a calibration out (file, patched model
/// texts, randomization, figures for the report).
public struct Calibration {
    /// What it produced.
    public struct Outcome: Sendable {
        public var file: CalibrationFile
        public var figures: [CalibrationFigure]
        /// Patched MJCF, and its changed lines.
        public var mjcf: ModelPatcher.Result?
        /// Patched URDF (when the robot has one next to its MJCF), and its changed lines.
        public var urdf: ModelPatcher.Result?
        public var urdfPath: String?
        /// The derived randomization: the robot as measured, for the validation gate (YAML text).
        public var randomizationYAML: String
        /// The derived randomization for training: the measured ranges widened, with pushes (YAML text).
        public var trainingRandomizationYAML: String = ""
        /// The two derived specs, for the report's table of ranges.
        public var derivedSpecs: (asMeasured: RandomizationSpec, training: RandomizationSpec)?
        /// The recordings by kind, for the report's overview.
        public var recordingKinds: [String: String]
    }

    public let robot: RobotModel
    /// Randomization spec whose uncalibrated terms are kept (nil: none).
    public var baseRandomization: RandomizationSpec?
    /// Runs the trajectory fit on chirp recordings (when the fitter is available).
    public var trajectoryFit: TrajectoryStep?
    /// Topics to read instead of the manifest's (`--joint-states-topic`, `--imu-topic`); nil:
    /// the manifest's, or the only one of its type in a bag recorded elsewhere.
    public var jointStatesTopic: String?
    public var imuTopic: String?

    /// A trajectory-fitting step: (robot, recordings to fit, held-out recordings, closed-form
    /// estimates, progress) → its parameters, figures, held-out errors and warnings.
    public typealias TrajectoryStep = (RobotModel, [ExperimentRecording], [ExperimentRecording], [CalibratedParameter], (String) -> Void) throws
        -> (parameters: [CalibratedParameter], figures: [CalibrationFigure], heldOut: [CalibrationFile.HeldOutError], warnings: [String])

    public init(robot: RobotModel, baseRandomization: RandomizationSpec? = nil) {
        self.robot = robot
        self.baseRandomization = baseRandomization
    }

    /// Loads the recordings, runs every analysis that applies, and patches the model.
    /// - Parameters:
    ///   - paths: recordings (MCAP or CSV); each one's kind comes from its metadata.
    ///   - heldOut: recordings kept out of every fit, to compare nominal and calibrated models.
    ///   - progress: one line per step.
    public func run(paths: [String], heldOut: [String] = [], progress: (String) -> Void = { _ in }) throws -> Outcome {
        guard !paths.isEmpty else {
            throw TetherError("no recordings given", at: "tether calibrate", hint: "record them with `tether experiment KIND --out FILE.mcap`")
        }
        var loader = RecordingLoader(manifest: robot.manifest)
        loader.chosenJointStatesTopic = jointStatesTopic
        loader.chosenIMUTopic = imuTopic
        var recordings: [ExperimentRecording] = []
        var kinds: [String: String] = [:]
        for path in paths {
            progress("reading \(path)")
            let r = try loader.load(path)
            recordings.append(r)
            kinds[path] = r.kind ?? "unknown"
        }
        var held: [ExperimentRecording] = []
        for path in heldOut {
            progress("reading \(path) (held out)")
            held.append(try loader.load(path))
            kinds[path] = "held out"
        }
        var warnings = loader.warnings
        var notes = loader.notes
        // A recording from elsewhere without commands (a `ros2 bag record` of the robot
        // standing still) supports only what needs no input: the sensors' noise at rest.
        let foreign = recordings.filter { $0.kind == nil }
        let atRest = foreign.filter { $0.commands.isEmpty }
        for r in foreign where !r.commands.isEmpty {
            warnings.append("\(r.source): no experiment kind in its metadata (not a `tether experiment` recording); used only for trajectory fitting")
        }
        progress("closed-form analyses")
        var closed = ClosedFormCalibration(robot: robot)
        closed.analyze(recordings)
        var analysedAtRest: [String] = []
        for r in atRest {
            guard closed.atRest(r) else { continue }
            analysedAtRest.append(r.source)
            notes.append("\(r.source): no commands and no experiment kind: analysed as the robot at rest (sensor noise, bias, Allan deviation; encoder "
                + "offsets when it stood in its default pose)")
        }
        var parameters = closed.parameters
        var figures = closed.figures
        warnings += closed.warnings
        var heldOutErrors: [CalibrationFile.HeldOutError] = []
        let trajectories = recordings.filter { $0.kind == "chirp" || ($0.kind == nil && !$0.commands.isEmpty) }
        if let fit = trajectoryFit, !trajectories.isEmpty {
            progress("trajectory fitting on \(trajectories.count) recording\(trajectories.count == 1 ? "" : "s")")
            let result = try fit(robot, trajectories, held, parameters, progress)
            // A trajectory estimate replaces a closed-form one of the same name only when the
            // closed-form analysis had none; both are kept in the file otherwise (the closed
            // form, measured directly, is the one patched).
            for p in result.parameters {
                if let i = parameters.firstIndex(where: { $0.name == p.name }) {
                    var q = p
                    q.patched = false
                    q.flags.append("closed-form estimate \(ModelPatcher.number(parameters[i].estimate[0])) \(p.unit) (\(parameters[i].method)) is the one "
                        + "patched")
                    parameters.append(q)
                } else {
                    parameters.append(p)
                }
            }
            figures += result.figures
            heldOutErrors = result.heldOut
            warnings += result.warnings
        } else if !trajectories.isEmpty {
            warnings.append("trajectory fitting is not available in this build; chirp recordings were not used")
        }
        var file = CalibrationFile(robot: robot.manifest.name, model: robot.model.source, recordings: paths + heldOut, parameters: parameters,
                                   warnings: warnings, heldOut: heldOutErrors)
        file.notes = notes
        file.skipped = Self.skipped(kinds: Set(recordings.compactMap(\.kind)), trajectoryFitted: trajectoryFit != nil && !trajectories.isEmpty,
                                    atRest: !analysedAtRest.isEmpty, parameters: parameters)
        // Patch what maps onto the model.
        var changes: [ModelPatcher.Change] = []
        for p in parameters where p.patched {
            if let sp = try? SimParameter(path: p.name) { changes.append(.init(parameter: sp, values: p.estimate)) }
        }
        progress("patching the model (\(changes.count) values)")
        let patcher = ModelPatcher()
        let mjcfText = try String(contentsOfFile: robot.model.source, encoding: .utf8)
        let mjcf = try patcher.patch(mjcfText, format: .mjcf, changes: changes, source: robot.model.source)
        let urdfPath = (robot.model.source as NSString).deletingPathExtension + ".urdf"
        var urdf: ModelPatcher.Result?
        if FileManager.default.fileExists(atPath: urdfPath), let text = try? String(contentsOfFile: urdfPath, encoding: .utf8) {
            urdf = try patcher.patch(text, format: .urdf, changes: changes, source: urdfPath)
        }
        let measured = RandomizationDerivation.spec(from: file, purpose: .asMeasured, base: baseRandomization, joints: robot.manifest.joints.map(\.name),
                                                     observation: robot.manifest.observation.terms)
        let training = RandomizationDerivation.spec(from: file, purpose: .training, base: baseRandomization, joints: robot.manifest.joints.map(\.name),
                                                     observation: robot.manifest.observation.terms)
        var outcome = Outcome(file: file, figures: figures, mjcf: mjcf, urdf: urdf, urdfPath: urdf == nil ? nil : urdfPath,
                              randomizationYAML: measured.yaml, recordingKinds: kinds)
        outcome.trainingRandomizationYAML = training.yaml
        outcome.derivedSpecs = (measured.spec, training.spec)
        return outcome
    }

    /// What the recordings could not calibrate, and the experiment that would: one line per
    /// family of parameters that no analysis produced.
    static func skipped(kinds: Set<String>, trajectoryFitted: Bool, atRest: Bool, parameters: [CalibratedParameter]) -> [String] {
        let names = parameters.map(\.name)
        func has(_ test: (String) -> Bool) -> Bool { names.contains(where: test) }
        var out: [String] = []
        let why = atRest && !trajectoryFitted && !kinds.contains(where: { $0 != "stationary" })
            ? "a recording at rest without commands cannot show it; " : ""
        if !has({ $0.hasSuffix("].frictionloss") || $0.hasSuffix("].damping") }) {
            out.append("joint friction and damping: \(why)needs the joints driven at several speeds (`tether experiment sweep`) or a commanded trajectory "
                + "(`tether experiment chirp`)")
        }
        if !has({ $0.hasPrefix("inertia_about[") || $0.hasSuffix("].mass") || $0.hasSuffix("].armature") }) {
            out.append("masses and inertias: \(why)needs a free swing (`tether experiment pendulum`) or a commanded trajectory (`tether experiment chirp`)")
        }
        if !has({ $0 == "driver.lag" }) {
            out.append("motor time constant (driver.lag): \(why)needs commanded torque steps (`tether experiment torque-step`)")
        }
        if !has({ $0 == "driver.delay" || $0 == "sensor.delay" }) {
            out.append("delays (driver.delay): \(why)needs commands to time the response against (`tether experiment torque-step` or `chirp`)")
        }
        if !has({ $0.hasPrefix("sensor.") && $0.hasSuffix(".noise") }) {
            out.append("sensor noise: needs a recording of the robot at rest (`tether experiment stationary`, or a bag of it standing still)")
        } else if !has({ $0.hasPrefix("sensor.gyro") }) {
            out.append("IMU noise and bias: the recordings have no IMU")
        }
        return out
    }
}
