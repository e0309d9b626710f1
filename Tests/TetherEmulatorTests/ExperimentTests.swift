import Foundation
import Testing
import TetherCore
import TetherEmulator
import TetherROS
import TetherRuntime
import TetherSafety
import TetherSim

/// The system-identification experiments, run on the virtual robot on a manual clock.
@Suite struct ExperimentTests {
    func run(_ kind: ExperimentKind, _ options: ExperimentOptions, truth: Truth = Truth(name: "nominal"))
        throws -> (ExperimentRunner.Report, ExperimentPlan, String) {
        let robot = try RobotModel.load(manifestPath: quadrupedManifest)
        let plan = try ExperimentPlan(kind: kind, manifest: robot.manifest, options: options)
        let clock = ManualClock()
        let virtual = try VirtualRobot(robot: robot, truth: truth, clock: clock, hungAt: plan.hung ? 0.8 : nil)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tether-exp-\(kind.rawValue)-\(UUID().uuidString).mcap").path
        let recorder = FlightRecorder(manifest: robot.manifest, path: path, continuous: true, clockStart: clock.now(), metadata: plan.metadata)
        let safety = SafetyWrapper(config: try SafetyConfig(manifest: robot.manifest, stage: 0.5, options: SafetyOptions(manifestFilters: false)))
        let report = try ExperimentRunner.run(plan: plan, robot: virtual, safety: safety, clock: clock, recorder: recorder)
        return (report, plan, path)
    }

    func jointStates(_ path: String) throws -> [SensorMsgs.JointState] {
        try MCAPReader(path: path).messages(SensorMsgs.JointState.self, topic: "/joint_states").map(\.message)
    }

    @Test func thePlanSaysItsDurationAndRefusesUnknownJoints() throws {
        let manifest = try RobotModel.load(manifestPath: quadrupedManifest).manifest
        var o = ExperimentOptions()
        o.joints = ["FR_thigh_joint"]
        o.speeds = [1]
        let plan = try ExperimentPlan(kind: .sweep, manifest: manifest, options: o)
        #expect(plan.hung)
        let sweep = plan.segments.filter { if case .sweep = $0.action { return true } else { return false } }
        #expect(sweep.count == 2)
        #expect(abs(plan.duration - plan.segments.map(\.duration).reduce(0, +)) < 1e-9)
        #expect(plan.summary[1].contains("HUNG"))
        #expect(plan.metadata["tether.experiment.kind"] == "sweep")
        o.joints = ["FR_thigh"]
        #expect { try ExperimentPlan(kind: .sweep, manifest: manifest, options: o) } throws: { error in
            "\(error)".contains("did you mean FR_thigh_joint")
        }
        o.joints = []
        o.speeds = [-1]
        #expect(throws: TetherError.self) { try ExperimentPlan(kind: .sweep, manifest: manifest, options: o) }
        let still = try ExperimentPlan(kind: .stationary, manifest: manifest)
        #expect(!still.hung && still.duration == 62)
    }

    @Test func aSweepMovesTheJointAtTheCommandedSpeedBothWays() throws {
        var o = ExperimentOptions()
        o.joints = ["FR_calf_joint"]
        o.speeds = [1.0]
        let (report, plan, path) = try run(.sweep, o)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(!report.stopped)
        let states = try jointStates(path)
        #expect(states.count == report.ticks)
        let t0 = Double(states[0].header.stamp.nanoseconds) * 1e-9
        for segment in plan.segments {
            guard case .sweep(_, let from, let to, let speed) = segment.action else { continue }
            let mid = states.filter {
                let t = Double($0.header.stamp.nanoseconds) * 1e-9 - t0
                return t > segment.start + 0.3 && t < segment.start + segment.duration - 0.1
            }
            let v = mid.map { $0.velocity[2] }.reduce(0, +) / Double(mid.count)
            #expect(abs(v - (to > from ? speed : -speed)) < 0.1, "\(segment.label): mean velocity \(v)")
        }
        // The recording says what it was.
        let reader = try MCAPReader(path: path)
        let meta = reader.channels.values.first { $0.topic == "/joint_commands" }?.metadata
        #expect(meta?["tether.experiment.kind"] == "sweep")
        #expect(meta?["tether.experiment.joints"] == "FR_calf_joint")
    }

    @Test func thePendulumMeasuresItsEquilibriumAndSwingsFree() throws {
        var o = ExperimentOptions()
        o.swingSeconds = 3
        let (report, plan, path) = try run(.pendulum, o)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(!report.stopped)
        let eq = try #require(report.equilibria["FR_thigh_joint"])
        let states = try jointStates(path)
        let t0 = Double(states[0].header.stamp.nanoseconds) * 1e-9
        let release = try #require(plan.segments.first { if case .release = $0.action { return true } else { return false } })
        let swing = states.filter {
            let t = Double($0.header.stamp.nanoseconds) * 1e-9 - t0
            return t > release.start && t < release.start + release.duration
        }.map { $0.position[1] }
        // Released from equilibrium + amplitude; it swings back through the equilibrium.
        #expect(abs(swing.first! - (eq + o.pendulumAmplitude)) < 0.05)
        #expect(swing.min()! < eq)
        // The released joint had no torque but the truth's (nominal) friction: efforts near zero.
    }

    @Test func torqueStepsShowTheDriverLagInTheMeasuredTorque() throws {
        var truth = Truth(name: "lag")
        truth.actuators.lagTimeConstant = 0.02
        var o = ExperimentOptions()
        o.joints = ["FR_hip_joint"]
        let (report, plan, path) = try run(.torqueStep, o, truth: truth)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(!report.stopped)
        let states = try jointStates(path)
        let t0 = Double(states[0].header.stamp.nanoseconds) * 1e-9
        let step = try #require(plan.segments.first { if case .torque = $0.action { return true } else { return false } })
        func effort(at t: Double) -> Double {
            states.min { abs(Double($0.header.stamp.nanoseconds) * 1e-9 - t0 - t) < abs(Double($1.header.stamp.nanoseconds) * 1e-9 - t0 - t) }!.effort[0]
        }
        let before = effort(at: step.start - 0.01)
        let change = o.stepTorque - before
        // A 20 ms lag: 6 ms in, about a quarter of the change; 45 ms in, about 90 %.
        #expect(effort(at: step.start + 0.006) - before < 0.5 * change)
        #expect(effort(at: step.start + 0.045) - before > 0.75 * change)
        // The doublet moves the joint a little and brings it nearly to rest (more with this slow 20 ms driver).
        func position(at t: Double) -> Double {
            states.min { abs(Double($0.header.stamp.nanoseconds) * 1e-9 - t0 - t) < abs(Double($1.header.stamp.nanoseconds) * 1e-9 - t0 - t) }!.position[0]
        }
        #expect(abs(position(at: step.start + 0.1) - position(at: step.start)) < 0.3)
    }

    @Test func aStationaryRecordingHoldsStillWithTheIMU() throws {
        var o = ExperimentOptions()
        o.seconds = 2
        var truth = Truth(name: "noisy")
        truth.sensors.gyroNoise = 0.01
        let (report, _, path) = try run(.stationary, o, truth: truth)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(!report.stopped && report.ticks == 2001)
        let imu = try MCAPReader(path: path).messages(SensorMsgs.Imu.self, topic: "/imu").map(\.message)
        #expect(imu.count == report.ticks)
        let gx = imu.map(\.angularVelocity.x)
        let mean = gx.reduce(0, +) / Double(gx.count)
        let sd = (gx.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gx.count - 1)).squareRoot()
        #expect(abs(sd - 0.01) < 0.002)
    }

    @Test func aChirpStaysInsideTheLimitsWithoutAStop() throws {
        var o = ExperimentOptions()
        o.seconds = 4
        let (report, _, path) = try run(.chirp, o, truth: try Truth.preset("typical"))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(!report.stopped, "\(report.events)")
        let states = try jointStates(path)
        let thigh = states.map { $0.position[1] }
        #expect(thigh.max()! - thigh.min()! > 0.1)
    }
}
