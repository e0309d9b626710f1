import CMuJoCo
import TetherCore

/// The mutable side of a simulation (`mjData`): time, state, controls, sensor readings.
///
/// One `SimData` belongs to one model and is used by one thread at a time.
public final class SimData {
    /// The model this data belongs to.
    public let model: SimModel
    /// The underlying MuJoCo data.
    public let raw: UnsafeMutablePointer<mjData>

    /// Allocates data for `model`, at the model's reference configuration.
    public init(model: SimModel) {
        self.model = model
        guard let d = mj_makeData(model.raw) else {
            // mj_makeData fails only when memory cannot be allocated.
            fatalError("MuJoCo could not allocate mjData for \(model.source): out of memory")
        }
        raw = d
    }

    deinit { mj_deleteData(raw) }

    /// Simulation time, s.
    public var time: Double {
        get { raw.pointee.time }
        set { raw.pointee.time = newValue }
    }

    /// Generalized positions (nq).
    public var qpos: UnsafeMutableBufferPointer<Double> { .init(start: raw.pointee.qpos, count: model.nq) }
    /// Generalized velocities (nv).
    public var qvel: UnsafeMutableBufferPointer<Double> { .init(start: raw.pointee.qvel, count: model.nv) }
    /// Controls (nu).
    public var ctrl: UnsafeMutableBufferPointer<Double> { .init(start: raw.pointee.ctrl, count: model.nu) }
    /// Actuator forces after the last step, N·m or N (nactuator).
    public var actuatorForce: UnsafeMutableBufferPointer<Double> { .init(start: raw.pointee.actuator_force, count: model.nactuator) }
    /// Sensor readings after the last step.
    public var sensordata: UnsafeMutableBufferPointer<Double> { .init(start: raw.pointee.sensordata, count: Int(model.raw.pointee.nsensordata)) }
    /// Applied Cartesian force and torque per body, world frame (nbody x 6), for pushes.
    public var appliedBodyForces: UnsafeMutableBufferPointer<Double> { .init(start: raw.pointee.xfrc_applied, count: 6 * model.nbody) }

    /// Resets to the model's reference configuration (qpos0, zero velocity, time 0).
    public func reset() { mj_resetData(model.raw, raw) }

    /// Resets to a named keyframe.
    public func reset(keyframe name: String) throws {
        let key = try model.requireID(of: .keyframe, name)
        mj_resetDataKeyframe(model.raw, raw, Int32(key))
    }

    /// Recomputes derived quantities (kinematics, sensors) for the current state without stepping.
    public func forward() { mj_forward(model.raw, raw) }

    /// Advances the simulation by one timestep.
    @inline(__always) public func step() { mj_step(model.raw, raw) }

    /// Advances the simulation by `count` timesteps with the controls held.
    public func step(count: Int) {
        let m = model.raw, d = raw
        for _ in 0..<count { mj_step(m, d) }
    }

    /// Advances `count` physics steps, calling `control` before each one (a controller running at
    /// the physics rate inside a slower policy step: the control decimation).
    @inline(__always)
    public func step(count: Int, control: (SimData) -> Void) {
        let m = model.raw, d = raw
        for _ in 0..<count {
            control(self)
            mj_step(m, d)
        }
    }

    /// Values of a sensor (by slot, for hot paths).
    @inline(__always) public func sensor(_ slot: SimModel.SensorSlot) -> UnsafeMutableBufferPointer<Double> {
        .init(start: raw.pointee.sensordata + slot.address, count: slot.dimension)
    }

    /// Values of a named sensor.
    public func sensor(_ name: String) throws -> [Double] {
        Array(sensor(try model.sensor(name)))
    }

    /// Whether MuJoCo flagged a numerical problem (bad qpos / qvel / qacc) since the last reset:
    /// the simulation diverged and its results must not be trusted.
    public var isDiverged: Bool {
        warningCount(mjWARN_BADQPOS) + warningCount(mjWARN_BADQVEL) + warningCount(mjWARN_BADQACC) > 0
    }

    /// How many times MuJoCo raised a given warning since the last reset.
    public func warningCount(_ warning: mjtWarning) -> Int {
        withUnsafeBytes(of: &raw.pointee.warning) { bytes in
            Int(bytes.bindMemory(to: mjWarningStat.self)[Int(warning.rawValue)].number)
        }
    }

    /// Every non-zero warning counter, by MuJoCo's name for it.
    public var warnings: [String: Int] {
        let names: [(mjtWarning, String)] = [
            (mjWARN_INERTIA, "inertia"), (mjWARN_CONTACTFULL, "contact buffer full"),
            (mjWARN_CNSTRFULL, "constraint buffer full"), (mjWARN_BADQPOS, "bad qpos"),
            (mjWARN_BADQVEL, "bad qvel"), (mjWARN_BADQACC, "bad qacc"), (mjWARN_BADCTRL, "bad ctrl"),
        ]
        var result: [String: Int] = [:]
        for (w, name) in names where warningCount(w) > 0 { result[name] = warningCount(w) }
        return result
    }

    // MARK: state

    /// Saves the full integration state (time, positions, velocities, activations, controls,
    /// applied forces, warm start): restoring it makes the next steps bit-identical.
    public func saveState() -> SimState {
        let sig = SimState.signature
        let size = Int(mj_stateSize(model.raw, Int32(sig)))
        var values = [Double](repeating: 0, count: size)
        values.withUnsafeMutableBufferPointer { mj_getState(model.raw, raw, $0.baseAddress, Int32(sig)) }
        return SimState(values: values)
    }

    /// Restores a state saved from data of the same model.
    public func restore(_ state: SimState) throws {
        let size = Int(mj_stateSize(model.raw, Int32(SimState.signature)))
        guard state.values.count == size else {
            throw TetherError("the saved state has \(state.values.count) values but this model needs \(size)",
                              at: model.source, hint: "restore a state saved from the same model")
        }
        state.values.withUnsafeBufferPointer { mj_setState(model.raw, raw, $0.baseAddress, Int32(SimState.signature)) }
        mj_forward(model.raw, raw)
    }
}

/// A saved simulation state (MuJoCo's `mjSTATE_INTEGRATION` layout).
public struct SimState: Sendable, Equatable {
    static let signature = UInt32(mjSTATE_INTEGRATION.rawValue)
    /// The flat state vector.
    public var values: [Double]
}

extension SimData {
    /// The diagonal element of the joint-space mass matrix for a degree of freedom (the inertia
    /// about that joint's axis, armature included), as of the last `forward()` or step.
    public func massMatrixDiagonal(dof: Int) -> Double {
        let nv = Int(model.raw.pointee.nv)
        var full = [Double](repeating: 0, count: nv * nv)
        mj_fullM(model.raw, raw, &full)
        return full[dof * nv + dof]
    }
}
