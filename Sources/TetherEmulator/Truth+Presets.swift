import TetherCore

extension Truth {
    /// Names of the built-in presets, mildest first.
    public static let presetNames = ["mild", "typical", "harsh"]

    /// A preset by name, or else a truth YAML file at that path.
    public static func named(_ nameOrPath: String) throws -> Truth {
        presetNames.contains(nameOrPath) ? try preset(nameOrPath) : try load(path: nameOrPath)
    }

    /// A built-in truth: `mild`, `typical` or `harsh` (numbers in `docs/emulator.md`).
    public static func preset(_ name: String, seed: UInt64 = 1) throws -> Truth {
        var t = Truth(name: name, seed: seed)
        switch name {
        case "mild":
            t.physics.frictionScale = 0.95
            t.physics.massScale = 1.02
            t.physics.baseCenterOfMassOffset = SIMD3(0.005, 0, 0)
            t.physics.jointDamping = 0.12
            t.physics.jointFrictionLoss = 0.06
            t.actuators.lagTimeConstant = 0.002
            t.actuators.deadTime = 0.001
            t.actuators.saturation = 1.0
            t.actuators.backlash = 0.002
            t.actuators.thermal.heating = 0.001
            t.actuators.thermal.coolingTime = 60
            t.actuators.thermal.lossPerKelvin = 0.001
            t.sensors.positionNoise = 0.001
            t.sensors.velocityNoise = 0.02
            t.sensors.positionDrift = 0.0001
            t.sensors.resolution = 0.0001
            t.sensors.gyroNoise = 0.005
            t.sensors.gyroBias = SIMD3(0.002, -0.001, 0.001)
            t.sensors.accelerometerNoise = 0.05
            t.sensors.accelerometerBias = SIMD3(0.05, 0.02, -0.03)
            t.sensors.orientationNoise = 0.002
            t.sensors.dropout = 0.001
            t.link.latency = 0.002
            t.link.jitter = 0.0005
            t.link.commandLoss = 0.001
            t.link.stateLoss = 0.001
        case "typical":
            t.physics.frictionScale = 0.85
            t.physics.massScale = 1.05
            t.physics.payload = 0.5
            t.physics.baseCenterOfMassOffset = SIMD3(0.01, 0.005, 0)
            t.physics.jointDamping = 0.2
            t.physics.jointFrictionLoss = 0.15
            t.actuators.lagTimeConstant = 0.004
            t.actuators.deadTime = 0.002
            t.actuators.saturation = 0.95
            t.actuators.backlash = 0.005
            t.actuators.thermal.heating = 0.003
            t.actuators.thermal.coolingTime = 60
            t.actuators.thermal.lossPerKelvin = 0.002
            t.sensors.positionNoise = 0.003
            t.sensors.velocityNoise = 0.05
            t.sensors.positionBias = 0.002
            t.sensors.positionDrift = 0.0005
            t.sensors.resolution = 0.0004
            t.sensors.encoderOffsets = [0.01, -0.01, 0.005, -0.005, 0.01, -0.01, 0.005, -0.005, 0.01, -0.01, 0.005, -0.005]
            t.sensors.gyroNoise = 0.01
            t.sensors.gyroBias = SIMD3(0.005, -0.003, 0.002)
            t.sensors.accelerometerNoise = 0.1
            t.sensors.accelerometerBias = SIMD3(0.1, -0.05, 0.05)
            t.sensors.orientationNoise = 0.005
            t.sensors.dropout = 0.005
            t.link.latency = 0.005
            t.link.jitter = 0.002
            t.link.commandLoss = 0.01
            t.link.stateLoss = 0.01
        case "harsh":
            t.physics.frictionScale = 0.7
            t.physics.massScale = 1.1
            t.physics.payload = 1.5
            t.physics.baseCenterOfMassOffset = SIMD3(0.02, 0.01, -0.005)
            t.physics.jointDamping = 0.4
            t.physics.jointFrictionLoss = 0.3
            t.actuators.lagTimeConstant = 0.008
            t.actuators.deadTime = 0.004
            t.actuators.saturation = 0.85
            t.actuators.backlash = 0.01
            t.actuators.thermal.heating = 0.006
            t.actuators.thermal.coolingTime = 60
            t.actuators.thermal.lossPerKelvin = 0.004
            t.sensors.positionNoise = 0.006
            t.sensors.velocityNoise = 0.1
            t.sensors.positionBias = 0.005
            t.sensors.positionDrift = 0.001
            t.sensors.resolution = 0.0015
            t.sensors.encoderOffsets = [0.03, -0.02, 0.02, -0.03, 0.02, -0.02, 0.03, -0.03, 0.02, -0.02, 0.02, -0.03]
            t.sensors.gyroNoise = 0.02
            t.sensors.gyroBias = SIMD3(0.01, -0.008, 0.005)
            t.sensors.accelerometerNoise = 0.2
            t.sensors.accelerometerBias = SIMD3(0.2, -0.1, 0.1)
            t.sensors.orientationNoise = 0.01
            t.sensors.dropout = 0.02
            t.link.latency = 0.012
            t.link.jitter = 0.005
            t.link.commandLoss = 0.03
            t.link.stateLoss = 0.03
        default:
            throw TetherError("unknown truth preset '\(name)'", hint: "one of \(presetNames.joined(separator: ", ")), or a truth YAML file (docs/emulator.md)")
        }
        return t
    }
}
