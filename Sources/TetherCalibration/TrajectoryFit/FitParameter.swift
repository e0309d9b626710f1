import Foundation
import TetherCore
import TetherSim

/// One parameter for `TrajectoryFit` to estimate, by name, with what the fit may assume about it.
///
/// Names (`docs/trajectory-fitting.md` has the full list): a model parameter
/// `KIND[NAME].FIELD` — `body[FR_calf].mass`, `body[FR_calf].scale` (mass and inertia together),
/// `body[trunk].com.x`, `body[FR_calf].inertia.scale`, `joint[FR_calf_joint].damping`,
/// `joint[*].frictionloss` (every manifest joint, one value), `actuator[FR_calf].gain`,
/// `geom[FR_foot].friction.sliding` — or a pseudo-parameter of the drivers and sensors:
/// `driver.lag`, `driver.delay`, `sensor.delay` (seconds). Values are SI.
public struct FitParameter: Sendable, Codable, Equatable {
    /// The parameter's name.
    public var name: String
    /// The value the model assumes; nil: the model's own (0 for `driver.*` and `sensor.delay`,
    /// 1 for scale factors). Errors before the fit are measured here.
    public var nominal: Double?
    /// Where the fit starts; nil: the nominal value (for `driver.lag`, at least two physics steps:
    /// a lag much shorter than a step barely changes a simulation, so the fit would not move).
    public var initial: Double?
    /// Lower bound; nil: the physical minimum (0, or a tenth of the nominal for masses, inertias
    /// and scale factors), or nominal − 10 scales for signed quantities.
    public var lower: Double?
    /// Upper bound; nil: nominal + 10 scales.
    public var upper: Double?
    /// Typical size of the value, SI: the optimizer works in units of it, and a parameter whose
    /// standard deviation exceeds it is flagged as not identified. nil: max(|nominal|, a floor
    /// per kind, e.g. 0.1 N·m·s/rad for damping, 0.01 s for delays).
    public var scale: Double?

    /// Describes a parameter to fit; everything but the name has a default.
    public init(_ name: String, nominal: Double? = nil, initial: Double? = nil, bounds: ClosedRange<Double>? = nil,
                scale: Double? = nil) {
        self.name = name
        self.nominal = nominal
        self.initial = initial
        self.lower = bounds?.lowerBound
        self.upper = bounds?.upperBound
        self.scale = scale
    }
}

/// A `FitParameter` resolved against a robot: every number filled in, and its unit.
public struct ResolvedFitParameter: Sendable, Codable, Equatable {
    public var name: String
    /// SI unit of the value ("1" for scale factors).
    public var unit: String
    public var nominal: Double
    public var initial: Double
    public var lower: Double
    public var upper: Double
    public var scale: Double
}

/// What a parameter changes when it takes a value.
enum FitTarget: Sendable, Equatable {
    /// Slots of the MuJoCo model.
    case model([ModelSlot])
    /// `SimRobot.driver.lagTimeConstant`.
    case driverLag
    /// Dead time added to every command's time.
    case driverDelay
    /// The simulated state is compared at t − delay.
    case sensorDelay
}

/// One slot of the model that a fit parameter writes.
struct ModelSlot: Sendable, Hashable {
    var parameter: SimParameter
    /// nil: every component of the parameter.
    var component: Int?
    /// The value multiplies the nominal values instead of replacing them.
    var relative: Bool
}

/// The naming scheme: which fields exist for which kind of object, and how they map to slots.
enum FitParameterCatalog {
    enum Domain { case positive, nonNegative, signed }

    struct Field {
        var kind: SimModel.ObjectKind
        var field: String
        var unit: String
        var floor: Double
        var domain: Domain
        var slots: @Sendable (String) -> [ModelSlot]
    }

    static let fields: [Field] = {
        func slot(_ make: @escaping @Sendable (String) -> SimParameter, _ component: Int? = nil, relative: Bool = false) -> @Sendable (String) -> [ModelSlot] {
            { [ModelSlot(parameter: make($0), component: component, relative: relative)] }
        }
        var f: [Field] = [
            Field(kind: .body, field: "mass", unit: "kg", floor: 0.1, domain: .positive, slots: slot(SimParameter.bodyMass)),
            Field(kind: .body, field: "scale", unit: "1", floor: 1, domain: .positive, slots: {
                [ModelSlot(parameter: .bodyMass($0), component: nil, relative: true),
                 ModelSlot(parameter: .bodyInertia($0), component: nil, relative: true)]
            }),
            Field(kind: .body, field: "inertia.scale", unit: "1", floor: 1, domain: .positive, slots: slot(SimParameter.bodyInertia, relative: true)),
        ]
        for (i, axis) in ["x", "y", "z"].enumerated() {
            f.append(Field(kind: .body, field: "com.\(axis)", unit: "m", floor: 0.01, domain: .signed, slots: slot(SimParameter.bodyCenterOfMass, i)))
            f.append(Field(kind: .body, field: "inertia.\(axis)", unit: "kg·m²", floor: 1e-4, domain: .positive, slots: slot(SimParameter.bodyInertia, i)))
        }
        f += [
            Field(kind: .joint, field: "damping", unit: "N·m·s/rad", floor: 0.1, domain: .nonNegative, slots: slot(SimParameter.jointDamping)),
            Field(kind: .joint, field: "frictionloss", unit: "N·m", floor: 0.1, domain: .nonNegative, slots: slot(SimParameter.jointFrictionLoss)),
            Field(kind: .joint, field: "armature", unit: "kg·m²", floor: 0.01, domain: .nonNegative, slots: slot(SimParameter.jointArmature)),
            Field(kind: .joint, field: "stiffness", unit: "N·m/rad", floor: 1, domain: .nonNegative, slots: slot(SimParameter.jointStiffness)),
            Field(kind: .actuator, field: "gain", unit: "1", floor: 1, domain: .signed, slots: slot(SimParameter.actuatorGain)),
            Field(kind: .geom, field: "friction.scale", unit: "1", floor: 1, domain: .positive, slots: slot(SimParameter.geomFriction, relative: true)),
        ]
        for (i, part) in ["sliding", "torsional", "rolling"].enumerated() {
            f.append(Field(kind: .geom, field: "friction.\(part)", unit: "1", floor: 0.1, domain: .nonNegative, slots: slot(SimParameter.geomFriction, i)))
        }
        return f
    }()

    /// Pseudo-parameters: name, target, unit, floor of the scale.
    static let pseudo: [(name: String, target: FitTarget, floor: Double)] = [
        ("driver.lag", .driverLag, 0.01), ("driver.delay", .driverDelay, 0.01), ("sensor.delay", .sensorDelay, 0.01),
    ]

    /// The objects a wildcard `KIND[*]` stands for: the manifest's joints and actuators, every
    /// body with mass, every named geom.
    static func wildcard(_ kind: SimModel.ObjectKind, robot: RobotModel) -> [String] {
        let model = robot.model
        switch kind {
        case .joint: return robot.manifest.joints.map(\.name)
        case .actuator: return robot.actuatorIDs.compactMap { model.name(of: .actuator, $0) }
        case .body:
            return (1..<model.nbody).compactMap { id in
                guard let name = model.name(of: .body, id), model.raw.pointee.body_mass[id] > 0 else { return nil }
                return name
            }
        default: return model.names(of: kind)
        }
    }

    /// Every name this robot accepts (wildcards included), for messages and `--help`.
    static func names(robot: RobotModel) -> [String] {
        var out: [String] = []
        for field in fields {
            let objects: [String]
            switch field.kind {
            case .body: objects = ["*"] + wildcard(.body, robot: robot)
            case .joint: objects = ["*"] + robot.model.names(of: .joint).filter { robot.model.id(of: .joint,
                                                                                                 $0).map { robot.model.jointType($0) != .free } ?? false }
            case .actuator: objects = ["*"] + robot.model.names(of: .actuator)
            default: objects = ["*"] + robot.model.names(of: field.kind)
            }
            out += objects.map { "\(field.kind)[\($0)].\(field.field)" }
        }
        return out + pseudo.map(\.name)
    }

    /// Resolves a parameter against a robot: its slots, unit and numbers.
    static func resolve(_ p: FitParameter, robot: RobotModel) throws -> (ResolvedFitParameter, FitTarget) {
        let place = robot.manifest.name
        func unknown(_ what: String) -> TetherError {
            let close = closeMatches(to: p.name, in: names(robot: robot))
            let matches = close.isEmpty ? "" : "close matches: \(close.joined(separator: ", ")). "
            return TetherError("\(what)", at: "robot '\(place)'",
                               hint: "\(matches)Names are KIND[NAME].FIELD — body mass, scale, com.x|y|z, inertia.x|y|z, inertia.scale; joint damping, "
                                   + "frictionloss, armature, stiffness; actuator gain; geom friction.sliding|torsional|rolling|scale; NAME may be * — or "
                                       + "driver.lag, driver.delay, sensor.delay")
        }

        let target: FitTarget, unit: String, floor: Double, domain: Domain
        var modelNominal: Double
        if let entry = pseudo.first(where: { $0.name == p.name }) {
            target = entry.target
            unit = "s"
            floor = entry.floor
            domain = .nonNegative
            modelNominal = 0
        } else {
            guard let open = p.name.firstIndex(of: "["), let close = p.name.lastIndex(of: "]"), open < close,
                  p.name[p.name.index(after: close)...].hasPrefix(".") else {
                throw unknown("'\(p.name)' is not a parameter name")
            }
            let kindText = String(p.name[..<open])
            let object = String(p.name[p.name.index(after: open)..<close])
            let fieldText = String(p.name[p.name.index(close, offsetBy: 2)...])
            guard let field = fields.first(where: { "\($0.kind)" == kindText && $0.field == fieldText }) else {
                throw unknown("unknown parameter '\(p.name)'")
            }
            let objects: [String]
            if object == "*" {
                objects = wildcard(field.kind, robot: robot)
                guard !objects.isEmpty else { throw unknown("'\(p.name)': the robot has no \(field.kind) that * could stand for") }
            } else {
                guard robot.model.id(of: field.kind, object) != nil else {
                    throw unknown("unknown parameter '\(p.name)': the model has no \(field.kind) named '\(object)'")
                }
                objects = [object]
            }
            let slots = objects.flatMap(field.slots)
            target = .model(slots)
            unit = field.unit
            floor = field.floor
            domain = field.domain
            if slots.allSatisfy(\.relative) {
                modelNominal = 1
            } else {
                var values: [Double] = []
                for s in slots {
                    let v = try robot.model.get(s.parameter)
                    if let c = s.component { values.append(v[c]) } else { values += v }
                }
                modelNominal = values[0]
                if p.nominal == nil, values.contains(where: { abs($0 - values[0]) > 1e-12 * max(1, abs(values[0])) }) {
                    throw TetherError("'\(p.name)' sets \(objects.count) values that differ in the model (\(values.map { "\($0)" }.joined(separator: ", ")))",
                                      at: "robot '\(place)'", hint: "give its nominal value, or fit each \(field.kind) by its own name")
                }
            }
        }

        let nominal = p.nominal ?? modelNominal
        let scale = p.scale ?? max(abs(nominal), floor)
        let lower: Double, upper: Double
        switch domain {
        case .positive: lower = p.lower ?? (nominal > 0 ? nominal / 10 : scale / 10)
        case .nonNegative: lower = p.lower ?? 0
        case .signed: lower = p.lower ?? nominal - 10 * scale
        }
        upper = p.upper ?? nominal + 10 * scale
        var initial = p.initial ?? nominal
        if p.initial == nil, target == .driverLag { initial = max(initial, 2 * robot.model.timestep) }
        initial = p.initial ?? min(max(initial, lower), upper)

        guard [nominal, scale, lower, upper, initial].allSatisfy(\.isFinite) else {
            throw TetherError("'\(p.name)' has a value that is not finite", at: "robot '\(place)'")
        }
        guard scale > 0 else { throw TetherError("'\(p.name)' has scale \(scale); it must be positive", at: "robot '\(place)'",
                                                 hint: "the typical size of the value, in \(unit)") }
        guard lower < upper else {
            throw TetherError("'\(p.name)' has bounds [\(lower), \(upper)]: the lower bound must be below the upper one", at: "robot '\(place)'")
        }
        if domain != .signed, lower < 0 {
            throw TetherError("'\(p.name)' has lower bound \(lower) \(unit); the value cannot be negative", at: "robot '\(place)'",
                              hint: "use a lower bound of 0 or more")
        }
        if domain == .positive, lower <= 0 {
            throw TetherError("'\(p.name)' has lower bound \(lower) \(unit); the value must stay positive", at: "robot '\(place)'",
                              hint: "use a positive lower bound, e.g. a tenth of the nominal value")
        }
        guard initial >= lower, initial <= upper else {
            throw TetherError("'\(p.name)' starts at \(initial) \(unit), outside its bounds [\(lower), \(upper)]", at: "robot '\(place)'")
        }
        let resolved = ResolvedFitParameter(name: p.name, unit: unit, nominal: nominal, initial: initial, lower: lower, upper: upper, scale: scale)
        return (resolved, target)
    }

    /// Up to three names within a small edit distance, closest first.
    static func closeMatches(to name: String, in candidates: [String]) -> [String] {
        let a = Array(name.lowercased())
        let limit = max(3, a.count / 3)
        let scored = candidates.map { ($0, NameMatching.editDistance(a, Array($0.lowercased()))) }.filter { $0.1 <= limit }
        return scored.sorted { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.prefix(3).map(\.0)
    }
}

/// How the resolved parameters write into a model: one group per `SimParameter`, so that several
/// fit parameters can share a vector (`com.x` and `com.y`), each group written once.
struct ParameterWriter: Sendable {
    struct Group: Sendable {
        var parameter: SimParameter
        var nominal: [Double]
        var writes: [(index: Int, component: Int?, relative: Bool)]
    }
    var groups: [Group] = []
    var lag: Int?
    var delay: Int?
    var sensorDelay: Int?
    /// Driver lag and delay held fixed (measured elsewhere) when they are not fitted, s.
    var fixedLag = 0.0
    var fixedDelay = 0.0

    /// Builds the writer and refuses two parameters that write the same slot.
    init(parameters: [ResolvedFitParameter], targets: [FitTarget], model: SimModel) throws {
        var owner: [String: String] = [:]
        func claim(_ key: String, _ name: String) throws {
            if let other = owner[key] {
                throw TetherError("'\(name)' and '\(other)' both set \(key)", hint: "fit one of them, or name the objects one by one")
            }
            owner[key] = name
        }
        for (index, target) in targets.enumerated() {
            let name = parameters[index].name
            switch target {
            case .driverLag: try claim("the driver lag", name); lag = index
            case .driverDelay: try claim("the driver delay", name); delay = index
            case .sensorDelay: try claim("the sensor delay", name); sensorDelay = index
            case .model(let slots):
                for s in slots {
                    let components = s.component.map { [$0] } ?? Array(0..<s.parameter.count)
                    for c in components { try claim(s.parameter.count == 1 ? "\(s.parameter)" : "\(s.parameter)[\(c)]", name) }
                    if let g = groups.firstIndex(where: { $0.parameter == s.parameter }) {
                        groups[g].writes.append((index, s.component, s.relative))
                    } else {
                        groups.append(Group(parameter: s.parameter, nominal: try model.get(s.parameter), writes: [(index, s.component, s.relative)]))
                    }
                }
            }
        }
    }

    /// Writes `values` (one per parameter) into `model`. Throws when the values are not physical
    /// (a negative mass, principal moments that break the triangle inequality).
    func apply(_ values: [Double], to model: SimModel) throws {
        for g in groups {
            var v = g.nominal
            for w in g.writes {
                let x = values[w.index]
                if let c = w.component {
                    v[c] = w.relative ? g.nominal[c] * x : x
                } else {
                    for c in v.indices { v[c] = w.relative ? g.nominal[c] * x : x }
                }
            }
            try model.set(g.parameter, v)
        }
    }
}
