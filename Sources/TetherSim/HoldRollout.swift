import Foundation
import TetherCore

/// A rollout that holds the default-pose command (the stand controller, or a policy later) and
/// summarizes what happened: the first command `tether sim` runs.
public struct HoldRollout: Sendable {
    /// Simulated duration, s.
    public var seconds: Double
    /// Horizontal pushes on the base: (time s, force N in world x/y, duration s).
    public var pushes: [Push]

    /// A horizontal push on the base body.
    public struct Push: Sendable, Equatable, Codable {
        /// Start time, s.
        public var time: Double
        /// Force in the world x and y directions, N.
        public var force: SIMD2<Double>
        /// Duration, s.
        public var duration: Double
        /// Creates a push.
        public init(time: Double, force: SIMD2<Double>, duration: Double) {
            self.time = time
            self.force = force
            self.duration = duration
        }
    }

    /// Creates a rollout description.
    public init(seconds: Double, pushes: [Push] = []) {
        self.seconds = seconds
        self.pushes = pushes
    }

    /// What a rollout did.
    public struct Summary: Sendable, Codable, Equatable {
        public var robot: String
        public var simulatedSeconds: Double
        public var wallSeconds: Double
        public var physicsSteps: Int
        public var controlSteps: Int
        public var realTimeFactor: Double
        /// Largest |q - q_default| over the run after the first second, rad.
        public var maxJointDeviation: Double
        /// The joint with that deviation.
        public var worstJoint: String
        /// Largest |torque| over the run, N·m.
        public var maxTorque: Double
        /// Base height at the end, min and max after the first second, m (floating base only).
        public var finalBaseHeight: Double?
        public var minBaseHeight: Double?
        public var maxBaseHeight: Double?
        /// Largest tilt after the first second, rad.
        public var maxTilt: Double?
        /// Feet in contact at the end.
        public var feetInContact: Int?
        /// Whether the robot held its pose: no divergence, tilt below the manifest's limit, base
        /// above half its initial height (floating base), joint deviation under 0.3 rad.
        public var held: Bool
        /// MuJoCo warnings raised.
        public var warnings: [String: Int]
        /// Final joint positions, manifest order.
        public var finalJointPositions: [Double]
    }

    /// Runs the rollout on `sim` from its current state.
    public func run(_ sim: SimRobot) -> Summary {
        let manifest = sim.robot.manifest
        let controlSteps = Int((seconds * manifest.rates.controlHz).rounded())
        let settle = Int(manifest.rates.controlHz)  // judge after the first second
        let initialHeight = sim.state().basePosition?.z
        var maxDev = 0.0, worst = 0, maxTorque = 0.0, maxTilt: Double?, minZ: Double?, maxZ: Double?
        let baseBody = sim.robot.baseSensors?.bodyID
        let clock = ContinuousClock()
        let start = clock.now
        for step in 0..<controlSteps {
            let t = sim.data.time
            if let baseBody {
                var fx = 0.0, fy = 0.0
                for p in pushes where t >= p.time && t < p.time + p.duration { fx += p.force.x; fy += p.force.y }
                sim.data.appliedBodyForces[6 * baseBody] = fx
                sim.data.appliedBodyForces[6 * baseBody + 1] = fy
            }
            sim.stepControl()
            let s = sim.state()
            for tau in s.jointTorques { maxTorque = max(maxTorque, abs(tau)) }
            guard step >= settle else { continue }
            for (i, joint) in manifest.joints.enumerated() where joint.actuator != nil {
                let dev = abs(s.jointPositions[i] - joint.defaultPosition)
                if dev > maxDev { maxDev = dev; worst = i }
            }
            if let tilt = s.tilt { maxTilt = max(maxTilt ?? 0, tilt) }
            if let z = s.basePosition?.z { minZ = min(minZ ?? z, z); maxZ = max(maxZ ?? z, z) }
        }
        let wallSeconds = (clock.now - start).seconds
        let final = sim.state()
        var held = !sim.data.isDiverged && maxDev < 0.3
        if let maxTilt { held = held && maxTilt < manifest.safety.tiltLimit }
        if let minZ, let initialHeight { held = held && minZ > 0.5 * initialHeight }
        return Summary(robot: manifest.name, simulatedSeconds: sim.data.time, wallSeconds: wallSeconds,
                       physicsSteps: controlSteps * sim.decimation, controlSteps: controlSteps,
                       realTimeFactor: sim.data.time / max(wallSeconds, 1e-12),
                       maxJointDeviation: maxDev, worstJoint: manifest.joints[worst].name, maxTorque: maxTorque,
                       finalBaseHeight: final.basePosition?.z, minBaseHeight: minZ, maxBaseHeight: maxZ,
                       maxTilt: maxTilt, feetInContact: sim.robot.baseSensors == nil ? nil : final.footContacts.filter { $0 }.count,
                       held: held, warnings: sim.data.warnings, finalJointPositions: final.jointPositions)
    }
}
