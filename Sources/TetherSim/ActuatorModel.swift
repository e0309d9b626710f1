import Foundation
import TetherCore

/// The motor drivers of a simulated robot: what happens, at the physics rate, between a joint
/// command and the torque on the joint. Every simulated robot composes this one model
/// (`SimRobot`, the virtual robot, the calibrated simulation), so they differ only in its values.
///
/// The stages, in the order the torque passes them:
/// 1. dead time: a command takes effect `deadTime` after it reaches the driver (`schedule`);
/// 2. backlash: the driver reads the motor side, which follows the joint within a dead band of
///    `backlash` (full width, `followBacklash`);
/// 3. the PD law `kp (q* − q) + kd (qd* − qd) + τ_ff`, clipped to the torque limit (NaN gives 0);
/// 4. a first-order lag of the torque, time constant `lagTimeConstant`, discretized exactly for
///    the physics step (`lagGain = 1 − exp(−dt / T)`);
/// 5. saturation at `saturation` × the torque limit;
/// 6. thermal derating: `× max(0, 1 − lossPerKelvin · ΔT)`, with the winding temperature above
///    ambient `ΔT` integrated as `dΔT/dt = heating · τ² − ΔT / coolingTime`.
///
/// An effect at its neutral value (0, or a saturation of 1) is the identity, so the ideal driver
/// (`ActuatorModel(timestep:)`) gives exactly the clipped PD torque. The model is immutable,
/// validated at construction; what changes while stepping is in `ActuatorState`.
public struct ActuatorModel: Sendable, Equatable {
    /// The physics step the lag is discretized for, s.
    public let timestep: Double
    /// Dead time from a command reaching the driver to its use, s.
    public let deadTime: Double
    /// First-order time constant of the torque, s (0: none).
    public let lagTimeConstant: Double
    /// Torque the motor can give, as a fraction of the torque limit, in (0, 1].
    public let saturation: Double
    /// Dead band between motor and joint position, rad (full width; 0: none).
    public let backlash: Double
    /// Heating of the windings and the loss of torque constant with temperature.
    public let thermal: Truth.Thermal
    /// Fraction of the step from the lagged torque to the new torque taken per physics step
    /// (1: no lag).
    public let lagGain: Double

    /// Creates a driver model for physics steps of `timestep` seconds; the defaults are the ideal
    /// driver.
    public init(timestep: Double, deadTime: Double = 0, lagTimeConstant: Double = 0, saturation: Double = 1,
                backlash: Double = 0, thermal: Truth.Thermal = .init()) {
        precondition(timestep > 0 && timestep.isFinite, "the physics step must be a positive duration")
        precondition(deadTime >= 0 && deadTime.isFinite, "the dead time must be a non-negative duration")
        precondition(lagTimeConstant >= 0 && lagTimeConstant.isFinite, "the lag time constant must be a non-negative duration")
        precondition(saturation > 0 && saturation <= 1, "the saturation must be a fraction of the torque limit in (0, 1]")
        precondition(backlash >= 0 && backlash.isFinite, "the backlash must be a non-negative angle")
        precondition(thermal.heating >= 0 && thermal.coolingTime > 0 && thermal.lossPerKelvin >= 0,
                     "thermal heating and loss must be non-negative, the cooling time positive")
        self.timestep = timestep
        self.deadTime = deadTime
        self.lagTimeConstant = lagTimeConstant
        self.saturation = saturation
        self.backlash = backlash
        self.thermal = thermal
        lagGain = lagTimeConstant > 0 ? 1 - exp(-timestep / lagTimeConstant) : 1
    }

    /// The virtual robot's hidden motor drivers.
    public init(_ actuators: Truth.Actuators, timestep: Double) {
        self.init(timestep: timestep, deadTime: actuators.deadTime, lagTimeConstant: actuators.lagTimeConstant,
                  saturation: actuators.saturation, backlash: actuators.backlash, thermal: actuators.thermal)
    }

    /// The driver calibration measures: dead time and lag, the rest ideal.
    public init(_ driver: DriverDynamics, timestep: Double) {
        self.init(timestep: timestep, deadTime: driver.actionDelay, lagTimeConstant: driver.lagTimeConstant)
    }

    /// The dead time and lag (what calibration fits).
    public var driver: DriverDynamics { DriverDynamics(lagTimeConstant: lagTimeConstant, actionDelay: deadTime) }

    /// This model with the dead time and lag of `driver`, the other effects kept.
    public func with(driver: DriverDynamics) -> ActuatorModel {
        ActuatorModel(timestep: timestep, deadTime: driver.actionDelay, lagTimeConstant: driver.lagTimeConstant,
                      saturation: saturation, backlash: backlash, thermal: thermal)
    }

    /// Whether the torque out equals the clipped PD torque (no lag, saturation or derating), so a
    /// caller may compute it by other means (a position servo's own target).
    public var passesTorqueThrough: Bool { lagGain == 1 && saturation == 1 && thermal.lossPerKelvin == 0 && thermal.heating == 0 }

    /// Queues `command`, which reaches the driver at `arrival` (s, simulation time), to take
    /// effect after the dead time. Commands take effect in the order of their effective times
    /// (equal times: the order they arrived).
    public func schedule(_ command: JointCommand, arrivingAt arrival: Double, in state: inout ActuatorState) {
        let effective = arrival + deadTime
        let index = state.pending.firstIndex { $0.effective > effective } ?? state.pending.endIndex
        state.pending.insert(.init(effective: effective, command: command), at: index)
    }

    /// Moves joint `joint`'s motor-side position to within half the backlash of the joint's
    /// position `position` (rad), and returns it: the position the driver's encoder reads.
    @inline(__always)
    public func followBacklash(joint: Int, position: Double, in state: inout ActuatorState) -> Double {
        guard backlash > 0 else {
            state.motorPositions[joint] = position
            return position
        }
        let half = backlash / 2
        let m = state.motorPositions[joint]
        if position - m > half { state.motorPositions[joint] = position - half } else if position - m < -half { state.motorPositions[joint] = position + half }
        return state.motorPositions[joint]
    }

    /// The torque actuated joint `actuated` gives for one physics step, N·m: the PD law of
    /// `command` at the driver's reading `position` (rad) and `velocity` (rad/s), clipped to
    /// `limit`, then lagged, saturated and derated; advances the lag and the temperature.
    @inline(__always)
    public func torque(actuated k: Int, command c: JointCommand, position q: Double, velocity qd: Double, limit: Double,
                       in state: inout ActuatorState) -> Double {
        var tau = c.kp[k] * (c.positions[k] - q) + c.kd[k] * (c.velocities[k] - qd) + c.torques[k]
        tau = tau.isNaN ? 0 : min(limit, max(-limit, tau))
        if lagGain < 1 {
            state.torques[k] += lagGain * (tau - state.torques[k])
        } else {
            state.torques[k] = tau
        }
        let peak = limit * saturation
        var out = min(peak, max(-peak, state.torques[k]))
        if thermal.lossPerKelvin > 0 { out *= max(0, 1 - thermal.lossPerKelvin * state.temperatures[k]) }
        if thermal.heating > 0 || state.temperatures[k] != 0 {
            state.temperatures[k] += timestep * (thermal.heating * out * out - state.temperatures[k] / thermal.coolingTime)
        }
        return out
    }
}

/// What a motor driver adds between a command and the joint torque: a dead time before a command
/// takes effect and a first-order lag of the torque. Calibration fits both; the ideal driver
/// (both zero) is what training used unless told otherwise. The rest of the driver model
/// (saturation, backlash, derating) is in `ActuatorModel`.
public struct DriverDynamics: Sendable, Equatable, Codable {
    /// First-order time constant of the torque, s.
    public var lagTimeConstant: Double
    /// Dead time from a command's arrival to its use, s.
    public var actionDelay: Double
    /// Creates driver dynamics; both zero is the ideal driver.
    public init(lagTimeConstant: Double = 0, actionDelay: Double = 0) {
        self.lagTimeConstant = lagTimeConstant
        self.actionDelay = actionDelay
    }
}
