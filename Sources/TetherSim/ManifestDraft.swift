import Foundation
import TetherCore
import Yams

/// A manifest drafted from a robot model and a trainer's deployment configuration, with the list
/// of what could not be inferred and a person must check before the robot moves.
public struct ManifestDraft: Sendable {
    /// The manifest's YAML text, with the things to check as comments.
    public var yaml: String
    /// What a person must check, one sentence each (also at the top of `yaml`).
    public var checks: [String]
    /// The trainer whose configuration was read.
    public var trainer: Trainer

    /// Trainers whose deployment configurations `ManifestDraft` reads.
    public enum Trainer: String, Sendable {
        /// unitree_rl_gym's deploy YAML (deploy/deploy_mujoco/configs/*.yaml): kps, kds, default_angles, scales.
        case unitreeRLGym = "unitree_rl_gym"
        /// Isaac Lab's env.yaml dumped next to a run (params/env.yaml): sim, decimation, scene, observations, actions.
        case isaacLab = "isaac_lab"
    }

    /// Drafts a manifest for `model` from the configuration file at `configPath`, to be written
    /// at `manifestPath` (the model path is written relative to it). Throws a `TetherError` naming
    /// the file and key when the configuration cannot be read or does not fit the model.
    public static func draft(model: ModelOutline, configPath: String, manifestPath: String, name: String? = nil) throws -> ManifestDraft {
        let text: String
        do { text = try String(contentsOfFile: configPath, encoding: .utf8) } catch {
            throw TetherError("cannot read the trainer's configuration: \(error.localizedDescription)", at: configPath)
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw TetherError("the configuration is empty", at: configPath) }
            root = node
        } catch let error as TetherError { throw error } catch {
            throw TetherError("YAML syntax error: \(error)", at: configPath)
        }
        guard let top = root.mapping else {
            throw TetherError("the configuration is not a YAML mapping", at: configPath,
                              hint: "give unitree_rl_gym's deploy YAML or Isaac Lab's params/env.yaml")
        }
        let config = ConfigReader(file: configPath, top: top)
        var writer = DraftWriter(model: model, manifestPath: manifestPath,
                                 name: name ?? URL(fileURLWithPath: model.path).deletingPathExtension().lastPathComponent)
        if top["kps"] != nil || top["default_angles"] != nil {
            try writer.unitree(config)
            return ManifestDraft(yaml: writer.render(), checks: writer.allChecks, trainer: .unitreeRLGym)
        }
        if top["scene"] != nil && (top["observations"] != nil || top["actions"] != nil) {
            try writer.isaacLab(config)
            return ManifestDraft(yaml: writer.render(), checks: writer.allChecks, trainer: .isaacLab)
        }
        throw TetherError("cannot tell which trainer wrote this configuration", at: configPath,
                          hint: "expected unitree_rl_gym's deploy YAML (kps, kds, default_angles, ...) or Isaac Lab's env.yaml (scene, observations, actions)")
    }
}

/// Typed reads from a configuration mapping, with errors that name the file and key.
struct ConfigReader {
    let file: String
    let top: Node.Mapping

    func node(_ path: String) -> Node? {
        var current: Node? = .mapping(top)
        for part in path.split(separator: ".") {
            guard let map = current?.mapping else { return nil }
            current = map[String(part)]
        }
        guard let current, current.null == nil else { return nil }
        return current
    }

    func number(_ node: Node, _ key: String) throws -> Double {
        if let s = node.scalar?.string, let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite { return v }
        throw TetherError("'\(key)' holds '\(node.scalar?.string ?? "(not a number)")', not a number", at: location(node))
    }

    func number(_ key: String) throws -> Double? {
        try node(key).map { try number($0, key) }
    }

    func requiredNumber(_ key: String) throws -> Double {
        guard let v = try number(key) else { throw TetherError("required key '\(key)' is missing", at: file) }
        return v
    }

    func numbers(_ key: String) throws -> [Double]? {
        guard let n = node(key) else { return nil }
        guard let items = n.sequence else { return [try number(n, key)] }
        return try items.enumerated().map { try number($1, "\(key)[\($0)]") }
    }

    func location(_ node: Node) -> String {
        node.mark.map { "\(file):\($0.line)" } ?? file
    }
}

/// Builds the draft's YAML text and the list of things to check.
struct DraftWriter {
    let model: ModelOutline
    let manifestPath: String
    let name: String
    var checks: [String] = []
    var description = ""
    var physicsHz = 0.0, controlHz = 0.0
    var defaults: [Double] = []
    var kp: [Double] = [], kd: [Double] = []
    var policyJointOrder: [String]?
    var terms: [String] = []
    var observationExtras: [String] = []
    var actionLines: [String] = []
    var safetyLines: [String] = []
    var taskLines: [String] = []

    init(model: ModelOutline, manifestPath: String, name: String) {
        self.model = model
        self.manifestPath = manifestPath
        self.name = name
    }

    mutating func check(_ text: String) { checks.append(text) }

    // MARK: unitree_rl_gym

    mutating func unitree(_ c: ConfigReader) throws {
        description = "drafted by tether robot import from unitree_rl_gym's \(URL(fileURLWithPath: c.file).lastPathComponent)"
        let n = model.joints.count
        let numActions = try c.number("num_actions").map { Int($0) }
        guard let angles = try c.numbers("default_angles"), let kps = try c.numbers("kps"), let kds = try c.numbers("kds") else {
            throw TetherError("kps, kds and default_angles are required", at: c.file)
        }
        // The deploy script reads qpos[7:] and writes every ctrl: one value per model joint, in model order.
        for (key, list) in [("kps", kps), ("kds", kds), ("default_angles", angles)] where list.count != n {
            throw TetherError("'\(key)' has \(list.count) values but \(URL(fileURLWithPath: model.path).lastPathComponent) has \(n) hinge/slide joints",
                              at: c.file, hint: "unitree_rl_gym lists one value per model joint, in the model's joint order; give the model the policy was "
                                  + "deployed with")
        }
        if let numActions, numActions != n {
            throw TetherError("num_actions is \(numActions) but the model has \(n) joints", at: c.file,
                              hint: "unitree_rl_gym's deploy script drives every model joint; give the model the policy was deployed with")
        }
        defaults = angles
        kp = kps
        kd = kds
        try rates(c, dtKey: "simulation_dt", decimationKey: "control_decimation") {
            "the deploy script overrides the model's timestep \($0) s with simulation_dt \($1) s"
        }
        let angVel = try c.number("ang_vel_scale") ?? 1, dofPos = try c.number("dof_pos_scale") ?? 1, dofVel = try c.number("dof_vel_scale") ?? 1
        let cmd = try c.numbers("cmd_scale") ?? [1, 1, 1]
        guard cmd.count == 3 || cmd.count == 1 else { throw TetherError("cmd_scale has \(cmd.count) values", at: c.file, hint: "[vx, vy, yaw rate] scales") }
        let actionScale = try c.requiredNumber("action_scale")
        let numObs = try c.number("num_obs").map { Int($0) }
        terms = [
            "{source: base_angular_velocity, scale: \(fmt(angVel))}",
            "{source: projected_gravity}",
            "{source: velocity_command, scale: \(list(cmd))}",
            "{source: joint_positions, scale: \(fmt(dofPos))}",
            "{source: joint_velocities, scale: \(fmt(dofVel))}",
            "{source: last_action}",
        ]
        let base = 9 + 3 * n
        let period = 1 / controlHz
        switch numObs {
        case .some(base + 2):
            terms.append("{source: gait_phase}")
            observationExtras = ["gait_period: 0.8  # TODO(check): unitree_rl_gym's deploy script hard-codes 0.8 s; not in the YAML",
                                 "gait_clock_start: \(fmt(period))  # the script's clock reads one control period at the first policy step"]
            check("num_obs \(base + 2) = 9 + 3 × \(n) + 2 was read as unitree_rl_gym's layout: angular velocity, gravity, command, joint positions, joint "
                + "velocities, last action, then sin/cos of the gait phase with a 0.8 s period (hard-coded in the deploy script, not in the YAML); compare "
                    + "with the script the policy was trained and deployed with")
        case .some(base):
            check("num_obs \(base) = 9 + 3 × \(n) was read as unitree_rl_gym's layout without a gait clock: angular velocity, gravity, command, joint "
                + "positions, joint velocities, last action; compare with the deploy script")
        default:
            check("num_obs \(numObs.map(String.init) ?? "(missing)") is not unitree_rl_gym's 9 + 3 × \(n) (+ 2 for the gait clock); the observation terms "
                + "below are a guess: write them in the order of the deploy script's obs[...] assignments")
        }
        if !model.gyroSensors.isEmpty && !model.orientationSensors.isEmpty {
            check("the angular velocity term reads the IMU gyro sensor; unitree_rl_gym's MuJoCo script reads the free joint's body-frame velocity "
                + "(qvel[3:6]), the real robot's script the IMU: check that the sensor sits on the base body and is not rotated")
        }
        actionLines = ["mode: position", "scale: \(fmt(actionScale))", "offset: default  # default_angles", "clip: 100  # legged_gym's clip_actions"]
        // unitree_rl_gym's PD: targets never clamped, torque clipped by the motor, no filters.
        safetyLines = ["clamp_targets: false  # unitree_rl_gym's PD pushes joints against their limits (docs/conventions.md)",
                       "torque_bound: saturate  # at 100 % the driver clips the PD torque at torque_limit, as in training",
                       "smoothing_cutoff_hz: 0  # the deploy script has no low-pass",
                       "max_target_velocity: 0  # nor a target speed limit"]
        check("the safety section declares unitree_rl_gym's actuator (targets past the range, torque saturated by the driver at 100 %, no deployment "
            + "filters): the measured-position, velocity, tilt and fall checks still stop the robot; deploy at 25 % and 50 % first (docs/conventions.md)")
        if let command = try c.numbers("cmd_init"), command.count == 3, command.allSatisfy(\.isFinite) {
            let speed = (command[0] * command[0] + command[1] * command[1]).squareRoot()
            taskLines = ["kind: walk", "command: \(list(command))  # cmd_init",
                         "episode_seconds: 20", "success_distance: \(fmt(max(0.5, 0.5 * speed * 20)))  # TODO(check): half the commanded distance",
                         "initial_noise: 0"]
            check("task: a 20 s walk at cmd_init, success at half the commanded distance; set what success means for this robot")
        }
        check("action clip 100 and no observation clip follow legged_gym's defaults (clip_actions, clip_observations = 100); check the policy's training "
            + "config")
    }

    /// The physics and control rates from the trainer's step (`dtKey`, s) and decimation; a model
    /// whose timestep differs gets a check line (`mismatch(model timestep, dt)`).
    private mutating func rates(_ c: ConfigReader, dtKey: String, decimationKey: String, mismatch: (Double, Double) -> String) throws {
        let dt = try c.requiredNumber(dtKey)
        let decimation = try c.requiredNumber(decimationKey)
        guard dt > 0, decimation >= 1, decimation == decimation.rounded() else {
            throw TetherError("\(dtKey) \(dt) s and \(decimationKey) \(decimation) must be positive, the decimation whole", at: c.file)
        }
        physicsHz = 1 / dt
        controlHz = physicsHz / decimation
        if abs(model.timestep - dt) > 1e-12 {
            check(mismatch(model.timestep, dt) + "; set <option timestep=\"\(dt)\"/> in the model (Tether requires physics_hz = 1 / timestep)")
        }
    }

    // MARK: Isaac Lab

    mutating func isaacLab(_ c: ConfigReader) throws {
        description = "drafted by tether robot import from Isaac Lab's \(URL(fileURLWithPath: c.file).lastPathComponent)"
        try rates(c, dtKey: "sim.dt", decimationKey: "decimation") { "Isaac Lab stepped physics at sim.dt \($1) s but the model's timestep is \($0) s" }
        let names = model.joints.map(\.name)
        // Default pose: scene.robot.init_state.joint_pos, a mapping of name patterns to values.
        defaults = try patternValues(c, "scene.robot.init_state.joint_pos", names: names, fallback: 0)
        // Gains: each actuator group's stiffness / damping over its joint_names_expr.
        kp = Array(repeating: .nan, count: names.count)
        kd = Array(repeating: .nan, count: names.count)
        if let actuators = c.node("scene.robot.actuators")?.mapping {
            for (key, group) in actuators {
                let groupName = key.string ?? "?"
                guard let g = group.mapping, let exprs = g["joint_names_expr"] else { continue }
                let patterns = (exprs.sequence ?? [exprs]).compactMap { $0.string }
                let members = names.indices.filter { i in patterns.contains { Self.fullMatch($0, names[i]) } }
                for (field, target) in [("stiffness", 0), ("damping", 1)] {
                    guard let node = g[field], node.null == nil else { continue }
                    let values = try valuesFor(node, c, "scene.robot.actuators.\(groupName).\(field)", names: members.map { names[$0] })
                    for (k, i) in members.enumerated() {
                        if let v = values[k] { if target == 0 { kp[i] = v } else { kd[i] = v } }
                    }
                }
            }
        }
        for (i, joint) in model.joints.enumerated() where kp[i].isNaN || kd[i].isNaN {
            check("no stiffness/damping for \(joint.name) in scene.robot.actuators; kp/kd are left at 0")
            if kp[i].isNaN { kp[i] = 0 }
            if kd[i].isNaN { kd[i] = 0 }
        }
        // Isaac Lab orders joints breadth-first through the kinematic tree; the model's depths give a guess.
        let order = model.joints.indices.sorted { (model.joints[$0].depth, $0) < (model.joints[$1].depth, $1) }.map { names[$0] }
        if order != names {
            policyJointOrder = order
            check("policy_joint_order is a guess of Isaac Lab's breadth-first joint order from the model's tree (by depth, then model order); copy the "
                + "exact order from the policy's joint_names metadata or from env.scene[\"robot\"].joint_names")
        } else {
            check("the policy's joint order was taken to be the model's; Isaac Lab orders joints breadth-first: compare with env.scene[\"robot\"].joint_names")
        }
        // Observations: the policy group's terms in order.
        guard let policy = c.node("observations.policy")?.mapping else {
            throw TetherError("no observations.policy group", at: c.file, hint: "the policy's observation group of Isaac Lab's env.yaml")
        }
        let groupHistory = try policy["history_length"].flatMap { $0.null == nil ? try c.number($0, "observations.policy.history_length") : nil }
        var anyTermHistory = false
        let known: [String: String] = [
            "base_lin_vel": "base_linear_velocity", "base_ang_vel": "base_angular_velocity", "projected_gravity": "projected_gravity",
            "generated_commands": "velocity_command", "joint_pos_rel": "joint_positions", "joint_pos": "joint_positions_absolute",
            "joint_vel_rel": "joint_velocities", "joint_vel": "joint_velocities", "last_action": "last_action",
        ]
        for (key, value) in policy {
            guard let termName = key.string, let term = value.mapping, let function = term["func"]?.string else { continue }
            let functionName = function.split(separator: ":").last.map(String.init) ?? function
            guard let source = known[functionName] else {
                check("observation term '\(termName)' (\(function)) has no Tether source; it is left out, so the sizes will not match until it is handled")
                continue
            }
            var parts = ["source: \(source)"]
            if let v = try c.numbers("observations.policy.\(termName).scale"), !v.isEmpty {
                parts.append("scale: \(v.count == 1 ? fmt(v[0]) : list(v))")
            }
            if let clip = term["clip"], clip.null == nil, let items = clip.sequence, items.count == 2,
               let hi = Double(items[1].string ?? ""), let lo = Double(items[0].string ?? "") {
                if abs(hi + lo) < 1e-12 { parts.append("clip: \(fmt(hi))") } else { check("term \(termName) clips to [\(lo), \(hi)], not symmetric; "
                    + "Tether's clip is symmetric") }
            }
            if groupHistory == nil, let h = term["history_length"], h.null == nil, let v = Double(h.string ?? ""), v > 0 {
                parts.append("history: \(Int(v))")
                anyTermHistory = true
            }
            if functionName == "generated_commands" { check("observation term '\(termName)' reads a command; Tether's velocity_command is (vx, vy, yaw "
                + "rate): check the command's size and order") }
            if functionName == "joint_vel" { check("term '\(termName)' is Isaac Lab's absolute joint velocity; Tether's joint_velocities is the same when "
                + "the default velocity is 0") }
            terms.append("{\(parts.joined(separator: ", "))}")
        }
        if let h = groupHistory, h > 1 {
            observationExtras.append("history: \(Int(h))")
            observationExtras.append("history_layout: term_oldest_first  # Isaac Lab's flattened history")
        } else if anyTermHistory {
            observationExtras.append("history_layout: term_oldest_first  # Isaac Lab's flattened history")
        }
        check("the observation terms follow the order of observations.policy in env.yaml; terms Isaac Lab adds noise or modifiers to are not reproduced")
        // Actions: actions.joint_pos (JointPositionAction).
        guard let action = c.node("actions")?.mapping?.first?.value.mapping else {
            throw TetherError("no action term under actions", at: c.file)
        }
        let actionName = c.node("actions")?.mapping?.first?.key.string ?? "joint_pos"
        var lines = ["mode: position"]
        if let s = action["scale"], s.null == nil {
            if s.mapping != nil {
                let perJoint = try valuesFor(s, c, "actions.\(actionName).scale", names: policyJointOrder ?? names)
                lines.append("scale: \(list(perJoint.map { $0 ?? 1 }))  # policy order")
            } else {
                lines.append("scale: \(fmt(try c.number(s, "actions.\(actionName).scale")))")
            }
        }
        if let offset = action["use_default_offset"]?.string, offset.lowercased() == "false" {
            lines.append("offset: 0")
        } else {
            lines.append("offset: default")
        }
        if let clip = action["clip"], clip.null == nil {
            check("actions.\(actionName).clip is set; Tether's action clip is one symmetric value: check action.clip")
        }
        actionLines = lines
        check("the angular velocity term reads the IMU gyro; Isaac Lab's base_ang_vel is the root body's angular velocity in its own frame: check that the "
            + "IMU sits on the base body, not rotated")
    }

    /// Values for `names` from a mapping of regular expressions (Isaac Lab's `{".*_hip_joint": 0.1}`)
    /// or a single number.
    func valuesFor(_ node: Node, _ c: ConfigReader, _ key: String, names: [String]) throws -> [Double?] {
        if let map = node.mapping {
            var out = [Double?](repeating: nil, count: names.count)
            for (pattern, value) in map {
                guard let p = pattern.string else { continue }
                let v = try c.number(value, "\(key).\(p)")
                for (i, name) in names.enumerated() where Self.fullMatch(p, name) { out[i] = v }
            }
            return out
        }
        let v = try c.number(node, key)
        return Array(repeating: v, count: names.count)
    }

    func patternValues(_ c: ConfigReader, _ key: String, names: [String], fallback: Double) throws -> [Double] {
        guard let node = c.node(key) else { return Array(repeating: fallback, count: names.count) }
        return try valuesFor(node, c, key, names: names).map { $0 ?? fallback }
    }

    /// Whether the regular expression matches the whole name (Isaac Lab's `re.fullmatch`).
    static func fullMatch(_ pattern: String, _ name: String) -> Bool {
        guard let re = try? NSRegularExpression(pattern: "^(?:\(pattern))$") else { return pattern == name }
        return re.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }

    // MARK: output

    func render() -> String {
        var out: [String] = []
        out.append("# Robot manifest drafted by `tether robot import` (format: docs/manifest.md, conventions: docs/conventions.md).")
        out.append("# A person must check every line marked TODO(check) and the list below before the robot moves.")
        out.append("# Then run: tether robot check \(URL(fileURLWithPath: manifestPath).lastPathComponent)")
        out.append("#")
        out.append("# To check:")
        for c in allChecks { out.append("#  - \(c)") }
        out.append("tether_manifest: 1")
        out.append("name: \(quoted(name))")
        out.append("description: \(quoted(description))")
        out.append("model: \(quoted(relativeModelPath))")
        out.append("rates:")
        out.append("  physics_hz: \(fmt(physicsHz))")
        out.append("  control_hz: \(fmt(controlHz))")
        if let body = model.floatingBody {
            out.append("base:")
            out.append("  body: \(quoted(body))")
            if let q = model.orientationSensors.first, let g = model.gyroSensors.first {
                out.append("  imu:")
                out.append("    orientation: \(quoted(q))")
                out.append("    gyro: \(quoted(g))")
                if let a = model.accelerometerSensors.first { out.append("    accelerometer: \(quoted(a))") }
            } else {
                // No IMU sensors (vendor and Menagerie models): the free joint's orientation and
                // body-frame rate, what unitree_rl_gym's MuJoCo script reads (qpos[3:7], qvel[3:6]).
                out.append("  imu: floating_base  # TODO(check): no framequat + gyro sensors in the model: orientation and angular velocity of the free "
                    + "joint (docs/manifest.md)")
            }
        }
        out.append("joints:")
        for (i, joint) in model.joints.enumerated() {
            out.append("  - name: \(quoted(joint.name))")
            if let a = joint.actuator { out.append("    actuator: \(quoted(a))") }
            out.append("    default: \(fmt(defaults[i]))")
            out.append("    limits: \(list(limits(i)))\(joint.range == nil ? "  # TODO(check): the model joint is not limited" : "")")
            out.append("    velocity_limit: \(joint.isSlide ? "2.0" : "30.0")  # TODO(check): not in the model; the motor's rated speed")
            if joint.actuator != nil {
                if let t = joint.torqueLimit {
                    out.append("    torque_limit: \(fmt(t))  # the \(joint.isSlide ? "force" : "torque") range in the model (actuator range, joint "
                        + "actuatorfrcrange)")
                } else {
                    out.append("    torque_limit: 1.0  # TODO(check): no force or control range, no actuatorfrcrange; the motor's peak torque")
                }
                out.append("    kp: \(fmt(kp[i]))")
                out.append("    kd: \(fmt(kd[i]))")
            }
        }
        if let order = policyJointOrder {
            out.append("policy_joint_order:  # TODO(check): the policy's joint order")
            for name in order { out.append("  - \(quoted(name))") }
        }
        out.append("observation:")
        for extra in observationExtras { out.append("  \(extra)") }
        out.append("  terms:")
        for term in terms { out.append("    - \(term)") }
        out.append("action:")
        for line in actionLines { out.append("  \(line)") }
        if !safetyLines.isEmpty {
            out.append("safety:")
            for line in safetyLines { out.append("  \(line)") }
        }
        if !taskLines.isEmpty {
            out.append("task:")
            for line in taskLines { out.append("  \(line)") }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The checks, with the model-derived ones added.
    var allChecks: [String] {
        var all = checks
        if model.floatingBody != nil && (model.orientationSensors.isEmpty || model.gyroSensors.isEmpty) {
            all.append("the model has no framequat and gyro sensors: base.imu is floating_base (the free joint's orientation and body-frame angular "
                + "velocity, as unitree_rl_gym's MuJoCo script reads them); a real robot's IMU may sit elsewhere on the base")
        }
        let unlimited = model.joints.filter { $0.range == nil }.map(\.name)
        if !unlimited.isEmpty { all.append("joints without a range in the model get ±π limits: \(unlimited.joined(separator: ", "))") }
        all.append("velocity_limit is not in the model: every joint has a placeholder (30 rad/s); set each motor's rated speed")
        let noTorque = model.joints.filter { $0.actuator != nil && $0.torqueLimit == nil }.map(\.name)
        if !noTorque.isEmpty { all.append("no torque limit in the model (actuator ranges, joint actuatorfrcrange) for \(noTorque.joined(separator: ", ")): "
            + "a 1 N·m placeholder is written") }
        let notPlain = model.joints.filter { $0.actuator != nil && !$0.actuatorIsPlainMotor }.map(\.name)
        if !notPlain.isEmpty { all.append("the actuators of \(notPlain.joined(separator: ", ")) are not plain motors (gear 1, gain 1, no bias); Tether "
            + "computes the PD torque itself and needs <motor>") }
        let passive = model.joints.filter { $0.actuator == nil }.map(\.name)
        if !passive.isEmpty { all.append("no actuator drives \(passive.joined(separator: ", ")): they are written as passive joints") }
        if model.floatingBody != nil && !model.keyframes.isEmpty {
            all.append("the model has keyframes (\(model.keyframes.joined(separator: ", "))); set base.keyframe to reset to one of them")
        }
        if !model.otherActuators.isEmpty { all.append("actuators that do not drive one joint are left out: \(model.otherActuators.joined(separator: ", "))") }
        all.append("torque limits come from the model's actuator ranges; check them against the motors' peak torques")
        if model.floatingBody != nil && !model.touchSensors.isEmpty {
            all.append("the model has touch sensors (\(model.touchSensors.joined(separator: ", "))); list them under base.foot_contacts if the policy "
                + "observes contacts")
        }
        return all
    }

    func limits(_ i: Int) -> [Double] {
        guard let r = model.joints[i].range else { return [-Double.pi, Double.pi] }
        return [r.lowerBound, r.upperBound]
    }

    var relativeModelPath: String {
        let dir = URL(fileURLWithPath: manifestPath).absoluteURL.deletingLastPathComponent().standardized.path
        let modelPath = URL(fileURLWithPath: model.path).absoluteURL.standardized.path
        let from = dir.split(separator: "/"), to = modelPath.split(separator: "/")
        var common = 0
        while common < from.count, common < to.count - 1, from[common] == to[common] { common += 1 }
        guard common > 0 else { return modelPath }
        let ups = Array(repeating: "..", count: from.count - common)
        return (ups + to[common...].map(String.init)).joined(separator: "/")
    }

    func fmt(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e12 { return String(Int(v)) }
        return String(v)  // the shortest text that reads back as the same Double
    }

    func list(_ v: [Double]) -> String { "[" + v.map(fmt).joined(separator: ", ") + "]" }

    func quoted(_ s: String) -> String {
        let reserved = ["true", "false", "yes", "no", "on", "off", "null", "y", "n"]
        let plain = s.allSatisfy { $0.isLetter || $0.isNumber || "_-./".contains($0) } && !s.isEmpty && !(s.first?.isNumber ?? false)
            && !"-.".contains(s.first!) && !reserved.contains(s.lowercased())
        return plain ? s : "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
