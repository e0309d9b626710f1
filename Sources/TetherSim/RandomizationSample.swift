import TetherCore

/// One draw from a `RandomizationSpec` for one episode: model edits plus the episode-level
/// quantities (gains, latency, noise, pushes) that the episode runner applies.
public struct RandomizationSample: Sendable, Equatable {
    /// Model parameters to write, in order.
    public var modelEdits: [(SimParameter, [Double])]
    /// Multiplier on kp.
    public var kpScale = 1.0
    /// Multiplier on kd.
    public var kdScale = 1.0
    /// Delay from policy output to motors, s.
    public var actionLatency = 0.0
    /// Multiplier on the manifest's observation noise.
    public var observationNoise = 1.0
    /// The drawn value of every term, by term name, for sensitivity analysis and reports.
    public var values: [String: Double] = [:]

    /// No randomization.
    public static let nominal = RandomizationSample(modelEdits: [])

    public static func == (a: RandomizationSample, b: RandomizationSample) -> Bool {
        a.values == b.values && a.kpScale == b.kpScale && a.kdScale == b.kdScale && a.actionLatency == b.actionLatency
            && a.observationNoise == b.observationNoise && a.modelEdits.map { "\($0.0)=\($0.1)" } == b.modelEdits.map { "\($0.0)=\($0.1)" }
    }

    /// Writes the model edits into `model` (a worker's copy, never a shared model), refreshing
    /// MuJoCo's derived constants once at the end (`SimModel.set(_:)` with a list of edits).
    public func apply(to model: SimModel) throws {
        try model.set(modelEdits)
    }
}

extension RandomizationSpec {
    /// Draws a sample for `robot`, reading nominal values from `robot.model`. Deterministic for a
    /// given random stream.
    public func sample(for robot: RobotModel, random: inout SeededRandom) throws -> RandomizationSample {
        var s = RandomizationSample(modelEdits: [])
        let model = robot.model
        for term in terms {
            let shared = term.distribution.sample(&random)
            s.values[term.name] = shared
            func draw() -> Double { term.independent ? term.distribution.sample(&random) : shared }
            func combine(_ nominal: Double, _ v: Double) -> Double {
                switch term.mode {
                case .scale: nominal * v
                case .absolute: v
                case .offset: nominal + v
                }
            }
            func names(_ kind: SimModel.ObjectKind, default all: [String]) throws -> [String] {
                guard !term.items.isEmpty else { return all }
                for name in term.items { _ = try model.requireID(of: kind, name) }
                return term.items
            }
            switch term.target {
            case .geomFriction:
                for g in try names(.geom, default: model.names(of: .geom)) {
                    var f = try model.get(.geomFriction(g))
                    f[0] = max(0, combine(f[0], draw()))
                    s.modelEdits.append((.geomFriction(g), f))
                }
            case .bodyMass:
                let all = (1..<model.nbody).compactMap { model.name(of: .body, $0) }
                for b in try names(.body, default: all) {
                    let mass = try model.get(.bodyMass(b))[0]
                    guard mass > 0 else { continue }
                    let newMass = max(1e-6, combine(mass, draw()))
                    let inertia = try model.get(.bodyInertia(b)).map { $0 * newMass / mass }
                    s.modelEdits.append((.bodyMass(b), [newMass]))
                    s.modelEdits.append((.bodyInertia(b), inertia))
                }
            case .baseCenterOfMass:
                guard let base = robot.manifest.base?.body else {
                    throw TetherError("term '\(term.name)' randomizes the base centre of mass, but the manifest has no floating base")
                }
                var com = try model.get(.bodyCenterOfMass(base))
                for k in 0..<3 { com[k] = combine(com[k], term.distribution.sample(&random)) }
                s.modelEdits.append((.bodyCenterOfMass(base), com))
            case .motorStrength:
                for a in robot.actuatorIDs {
                    let name = model.name(of: .actuator, a)!
                    let gain = try model.get(.actuatorGain(name))[0]
                    s.modelEdits.append((.actuatorGain(name), [combine(gain, draw())]))
                }
            case .kpScale: s.kpScale = shared
            case .kdScale: s.kdScale = shared
            case .jointDamping, .jointArmature, .jointFrictionLoss:
                let all = robot.manifest.joints.map(\.name)
                for j in try names(.joint, default: all) {
                    let p: SimParameter = term.target == .jointDamping ? .jointDamping(j)
                        : term.target == .jointArmature ? .jointArmature(j) : .jointFrictionLoss(j)
                    s.modelEdits.append((p, [max(0, combine(try model.get(p)[0], draw()))]))
                }
            case .actionLatency: s.actionLatency = max(0, shared)
            case .observationNoise: s.observationNoise = max(0, shared)
            case .parameter:
                let p = try SimParameter(path: term.path ?? "")
                var values = try model.get(p)
                values[0] = combine(values[0], shared)
                s.modelEdits.append((p, values))
            }
        }
        return s
    }
}
