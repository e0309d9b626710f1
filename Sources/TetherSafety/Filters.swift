import Foundation

/// A first-order low-pass on a vector of position targets: `y += alpha (x - y)`.
///
/// `alpha = T / (T + 1 / (2π f_c))` for sample period T and cutoff f_c, the discretization
/// libfranka's `lowpassFilter` uses. Since 0 < alpha ≤ 1, each output lies between the previous
/// output and the input, so a step is approached monotonically and never overshot; the result is
/// also clamped to that interval so rounding cannot overshoot either.
public struct LowPassFilter: Sendable, Equatable {
    /// Weight of the new sample, in (0, 1].
    public let alpha: Double
    /// The last output (the filter's state).
    public private(set) var output: [Double]

    /// The weight of the new sample for a cutoff (Hz) and a sample period (s).
    public static func alpha(cutoffHz: Double, period: Double) -> Double {
        period / (period + 1 / (2 * .pi * cutoffHz))
    }

    /// Creates a filter whose state starts at `initial`.
    public init(alpha: Double, initial: [Double]) {
        precondition(alpha > 0 && alpha <= 1, "LowPassFilter alpha must be in (0, 1]")
        self.alpha = alpha
        self.output = initial
    }

    /// Creates a filter from a cutoff (Hz) and a sample period (s).
    public init(cutoffHz: Double, period: Double, initial: [Double]) {
        self.init(alpha: Self.alpha(cutoffHz: cutoffHz, period: period), initial: initial)
    }

    /// Filters one sample (same size as `output`) and returns the new output.
    public mutating func step(_ input: [Double]) -> [Double] {
        advance(input)
        return output
    }

    /// Filters one sample in place: `values` becomes the new output (no allocation once `values`
    /// is uniquely held, for the control loop).
    public mutating func step(_ values: inout [Double]) {
        advance(values)
        for k in values.indices { values[k] = output[k] }
    }

    private mutating func advance(_ input: [Double]) {
        precondition(input.count == output.count, "LowPassFilter input size changed")
        for k in input.indices {
            let y = output[k], x = input[k]
            let next = y + alpha * (x - y)
            output[k] = min(max(next, min(x, y)), max(x, y))
        }
    }
}

/// Limits the velocity, acceleration and jerk of a vector of position targets, per joint.
///
/// Each step moves the output toward the target as fast as the limits allow (finite
/// differences over the control period). Priorities when they conflict: the velocity limit and
/// the acceleration limit always hold; the output never approaches the target faster than it
/// can brake at the acceleration limit (so an acceleration-limited step lands without
/// overshoot); the jerk limit holds unless it would break one of those (it yields near the
/// target and when a target reverses). Like libfranka's `limitRate`, it shapes the commanded
/// trajectory; it does not know the robot's real motion.
public struct RateLimiter: Sendable, Equatable {
    /// Sample period, s.
    public let period: Double
    /// Largest speed per joint, rad/s (nil: off).
    public let maxVelocity: [Double]?
    /// Largest acceleration per joint, rad/s² (nil: off).
    public let maxAcceleration: [Double]?
    /// Largest jerk per joint, rad/s³ (nil: off; needs `maxAcceleration`).
    public let maxJerk: [Double]?
    /// Last output, rad.
    public private(set) var position: [Double]
    /// Velocity of the last output, rad/s.
    public private(set) var velocity: [Double]
    /// Acceleration of the last output, rad/s².
    public private(set) var acceleration: [Double]

    /// Creates a limiter at rest at `initial`.
    public init(period: Double, maxVelocity: [Double]?, maxAcceleration: [Double]?, maxJerk: [Double]?, initial: [Double]) {
        precondition(period > 0, "RateLimiter period must be positive")
        precondition(maxJerk == nil || maxAcceleration != nil, "a jerk limit needs an acceleration limit")
        self.period = period
        self.maxVelocity = maxVelocity
        self.maxAcceleration = maxAcceleration
        self.maxJerk = maxJerk
        self.position = initial
        self.velocity = Array(repeating: 0, count: initial.count)
        self.acceleration = Array(repeating: 0, count: initial.count)
    }

    /// Moves each output one period toward `target` within the limits; returns the new outputs.
    public mutating func step(_ target: [Double]) -> [Double] {
        advance(target)
        return position
    }

    /// Moves one period toward `values` in place: `values` becomes the new outputs (no allocation
    /// once `values` is uniquely held, for the control loop).
    public mutating func step(_ values: inout [Double]) {
        advance(values)
        for k in values.indices { values[k] = position[k] }
    }

    private mutating func advance(_ target: [Double]) {
        precondition(target.count == position.count, "RateLimiter target size changed")
        let dt = period
        for k in target.indices {
            let p = position[k], v = velocity[k], a = acceleration[k]
            let error = target[k] - p
            var desired = error / dt
            var aLow = -Double.infinity, aHigh = Double.infinity
            var brake = Double.infinity
            if let vmax = maxVelocity?[k] {
                desired = clamp(desired, -vmax, vmax)
                aLow = (-vmax - v) / dt
                aHigh = (vmax - v) / dt
            }
            if let amax = maxAcceleration?[k] {
                // Fastest approach that still stops on the target decelerating at amax: after n
                // steps of dv = amax dt the distance covered is amax dt² n (n + 1) / 2.
                let steps = -0.5 + (0.25 + 2 * abs(error) / (amax * dt * dt)).squareRoot()
                brake = amax * dt * steps
                desired = clamp(desired, -brake, brake)
                aLow = max(aLow, -amax)
                aHigh = min(aHigh, amax)
            }
            var accel = clamp((desired - v) / dt, aLow, aHigh)
            if let jmax = maxJerk?[k] {
                let jerkLimited = clamp(accel, a - jmax * dt, a + jmax * dt)
                let vNext = v + jerkLimited * dt
                let approaching = vNext * error > 0
                if jerkLimited >= aLow, jerkLimited <= aHigh, !(approaching && abs(vNext) > brake) {
                    accel = jerkLimited
                }
            }
            let vNew = v + accel * dt
            position[k] = p + vNew * dt
            velocity[k] = vNew
            acceleration[k] = accel
        }
    }
}

/// `value` limited to [low, high] (high wins when low > high).
@inline(__always) func clamp(_ value: Double, _ low: Double, _ high: Double) -> Double {
    min(max(value, low), high)
}
