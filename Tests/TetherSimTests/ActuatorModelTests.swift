import Foundation
import Testing
import TetherCore
@testable import TetherSim

/// Each effect of the motor-driver model alone, on one joint, without a simulation.
@Suite struct ActuatorModelTests {
    let dt = 0.002

    /// A one-joint command: target `position`, feed-forward `torque`, gains `kp`, `kd`.
    func command(position: Double = 0, velocity: Double = 0, torque: Double = 0, kp: Double = 0, kd: Double = 0) -> JointCommand {
        JointCommand(positions: [position], velocities: [velocity], torques: [torque], kp: [kp], kd: [kd])
    }

    func state() -> ActuatorState { ActuatorState(actuatedJoints: 1, jointPositions: [0]) }

    /// A command takes effect exactly `deadTime / dt` physics steps after it arrives: not one step
    /// sooner, and at that step.
    @Test func deadTimeDelaysByExactlyItsStepCount() {
        for steps in [1, 5, 12] {
            let model = ActuatorModel(timestep: dt, deadTime: Double(steps) * dt)
            var s = state()
            let arrival = 0.7
            model.schedule(command(torque: 1), arrivingAt: arrival, in: &s)
            for n in 0..<steps { #expect(s.takeDue(at: arrival + Double(n) * dt) == nil, "step \(n) of \(steps): too soon") }
            #expect(s.takeDue(at: arrival + Double(steps) * dt)?.command == command(torque: 1), "\(steps) steps")
            #expect(s.pending.isEmpty)
        }
    }

    /// Commands queued with the same dead time take effect in the order they arrived, and an
    /// older command never replaces a newer one.
    @Test func queuedCommandsKeepTheirOrder() {
        let model = ActuatorModel(timestep: dt, deadTime: 0.01)
        var s = state()
        model.schedule(command(torque: 1), arrivingAt: 0, in: &s)
        model.schedule(command(torque: 2), arrivingAt: 0.001, in: &s)
        model.schedule(command(torque: 3), arrivingAt: 0.001, in: &s)
        var seen: [Double] = []
        while let due = s.takeDue(at: 1) { seen.append(due.command.torques[0]) }
        #expect(seen == [1, 2, 3])
    }

    /// The ideal driver gives kp (q* − q) + kd (qd* − qd) + τ_ff, clipped to ±limit; NaN gives 0.
    @Test func pdLawIsClippedToTheLimit() {
        let model = ActuatorModel(timestep: dt)
        var s = state()
        let c = command(position: 1, velocity: 0, torque: 0.3, kp: 10, kd: 1)
        #expect(abs(model.torque(actuated: 0, command: c, position: 0.5, velocity: 0.2, limit: 100, in: &s) - 5.1) < 1e-12)
        #expect(model.torque(actuated: 0, command: c, position: 0.5, velocity: 0.2, limit: 2, in: &s) == 2)
        #expect(model.torque(actuated: 0, command: c, position: 1.5, velocity: 0.2, limit: 2, in: &s) == -2)
        #expect(model.torque(actuated: 0, command: command(torque: .nan), position: 0, velocity: 0, limit: 2, in: &s) == 0)
        #expect(model.passesTorqueThrough)
    }

    /// After a torque step, the lagged torque is 1 − e^(−t/T) of the step at every step (the lag is
    /// discretized exactly), so one time constant reaches 63.2 %.
    @Test func lagFollowsAFirstOrderStepResponse() {
        let lag = 0.02
        let model = ActuatorModel(timestep: dt, lagTimeConstant: lag)
        var s = state()
        var out = 0.0
        for n in 1...30 {
            out = model.torque(actuated: 0, command: command(torque: 1), position: 0, velocity: 0, limit: 10, in: &s)
            #expect(abs(out - (1 - exp(-Double(n) * dt / lag))) < 1e-12, "step \(n)")
        }
        #expect(out > 0.9 && out < 0.96)
        #expect(!model.passesTorqueThrough)
    }

    /// The motor gives at most `saturation` × the limit, even when the PD torque is within the limit.
    @Test func saturationCapsTheTorque() {
        let model = ActuatorModel(timestep: dt, saturation: 0.6)
        var s = state()
        #expect(model.torque(actuated: 0, command: command(torque: 8), position: 0, velocity: 0, limit: 10, in: &s) == 6)
        #expect(model.torque(actuated: 0, command: command(torque: -100), position: 0, velocity: 0, limit: 10, in: &s) == -6)
        #expect(model.torque(actuated: 0, command: command(torque: 5), position: 0, velocity: 0, limit: 10, in: &s) == 5)
    }

    /// A hot winding gives (1 − loss · ΔT) of the torque; torque heats it by heating · τ² per
    /// second, and it cools with its time constant.
    @Test func thermalDeratingAndHeating() {
        var thermal = Truth.Thermal()
        thermal.lossPerKelvin = 0.01
        thermal.coolingTime = 50
        let derating = ActuatorModel(timestep: dt, thermal: thermal)
        var s = state()
        s.temperatures[0] = 10
        let out = derating.torque(actuated: 0, command: command(torque: 4), position: 0, velocity: 0, limit: 10, in: &s)
        #expect(abs(out - 4 * 0.9) < 1e-12)
        #expect(abs(s.temperatures[0] - (10 - dt * 10 / 50)) < 1e-12, "no heating: it only cools")

        var heating = Truth.Thermal()
        heating.heating = 0.5
        let heated = ActuatorModel(timestep: dt, thermal: heating)
        var h = state()
        #expect(heated.torque(actuated: 0, command: command(torque: 4), position: 0, velocity: 0, limit: 10, in: &h) == 4, "no loss: full torque")
        #expect(abs(h.temperatures[0] - dt * 0.5 * 16) < 1e-12)
        // Held long, the temperature settles where heating equals cooling: heating · τ² · coolingTime.
        for _ in 0..<Int(600 / dt) { _ = heated.torque(actuated: 0, command: command(torque: 4), position: 0, velocity: 0, limit: 10, in: &h) }
        #expect(abs(h.temperatures[0] - 0.5 * 16 * 60) < 0.01 * 0.5 * 16 * 60)
    }

    /// The motor side stays put while the joint moves within the dead band, then is dragged at
    /// half the backlash behind it, in either direction.
    @Test func backlashIsADeadBand() {
        let model = ActuatorModel(timestep: dt, backlash: 0.02)
        var s = state()
        #expect(model.followBacklash(joint: 0, position: 0.009, in: &s) == 0)
        #expect(model.followBacklash(joint: 0, position: -0.009, in: &s) == 0)
        #expect(abs(model.followBacklash(joint: 0, position: 0.03, in: &s) - 0.02) < 1e-15)
        #expect(abs(model.followBacklash(joint: 0, position: 0.015, in: &s) - 0.02) < 1e-15, "reversing inside the band")
        #expect(abs(model.followBacklash(joint: 0, position: -0.1, in: &s) + 0.09) < 1e-15)
        let ideal = ActuatorModel(timestep: dt)
        #expect(ideal.followBacklash(joint: 0, position: 0.0123, in: &s) == 0.0123)
    }

    /// Whatever the command and state, the ideal driver's torque is exactly the clipped PD torque
    /// (what `SimRobot` gave before the driver model existed), and a driver's torque never exceeds
    /// the saturated limit.
    @Test func idealDriverIsExactlyThePDLaw() {
        var random = SeededRandom(seed: 9)
        let ideal = ActuatorModel(timestep: dt)
        let real = ActuatorModel(timestep: dt, lagTimeConstant: 0.004, saturation: 0.8)
        var a = state(), b = state()
        for _ in 0..<2000 {
            let c = command(position: random.uniform(-2, 2), velocity: random.uniform(-5, 5), torque: random.uniform(-20, 20),
                            kp: random.uniform(0, 100), kd: random.uniform(0, 5))
            let q = random.uniform(-2, 2), qd = random.uniform(-10, 10), limit = random.uniform(1, 30)
            var pd = c.kp[0] * (c.positions[0] - q) + c.kd[0] * (c.velocities[0] - qd) + c.torques[0]
            pd = min(limit, max(-limit, pd))
            #expect(ideal.torque(actuated: 0, command: c, position: q, velocity: qd, limit: limit, in: &a) == pd)
            #expect(abs(real.torque(actuated: 0, command: c, position: q, velocity: qd, limit: limit, in: &b)) <= 0.8 * limit)
        }
    }

    /// Setting the calibrated dead time and lag keeps the truth's other effects.
    @Test func driverDynamicsRoundTrip() {
        var truth = Truth.Actuators()
        truth.saturation = 0.9
        truth.backlash = 0.01
        let model = ActuatorModel(truth, timestep: dt).with(driver: DriverDynamics(lagTimeConstant: 0.01, actionDelay: 0.004))
        #expect(model.driver == DriverDynamics(lagTimeConstant: 0.01, actionDelay: 0.004))
        #expect(model.saturation == 0.9 && model.backlash == 0.01)
        #expect(abs(model.lagGain - (1 - exp(-dt / 0.01))) < 1e-15)
    }
}
