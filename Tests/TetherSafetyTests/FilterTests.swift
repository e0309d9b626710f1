import Foundation
import PropertyBased
import Testing
@testable import TetherSafety

@Suite struct FilterTests {
    @Test func lowPassMatchesTheFirstOrderRecurrence() {
        var filter = LowPassFilter(cutoffHz: 5, period: 0.01, initial: [0, 1])
        let alpha = 0.01 / (0.01 + 1 / (2 * Double.pi * 5))
        #expect(filter.alpha == alpha)
        let out = filter.step([1, 1])
        #expect(abs(out[0] - alpha) < 1e-15)
        #expect(out[1] == 1)
        // Time constant: after 1 / (2π f_c) seconds a step is about 1 - 1/e done.
        var tau = LowPassFilter(cutoffHz: 1, period: 1e-4, initial: [0])
        let steps = Int((1 / (2 * Double.pi)) / 1e-4)
        var y = 0.0
        for _ in 0..<steps { y = tau.step([1])[0] }
        #expect(abs(y - (1 - exp(-1))) < 1e-3)
    }

    @Test func smoothingNeverOvershootsAStep() async {
        await propertyCheck(input: Gen.double(in: 0.01...500), Gen.double(in: 1e-4...0.2),
                            Gen.double(in: -10...10).array(of: 6), Gen.double(in: -10...10).array(of: 6)) { cutoff, period, initial, target in
            checkMonotoneApproach(cutoff: cutoff, period: period, initial: initial, target: target)
        }
    }

    @Test func smoothingNeverOvershootsHugeSteps() async {
        await propertyCheck(input: Gen.double(in: 0.01...1e6), Gen.double(in: 1e-6...1),
                            Gen.double(in: -1e300...1e300).array(of: 4), Gen.double(in: -1e300...1e300).array(of: 4)) { cutoff, period, initial, target in
            checkMonotoneApproach(cutoff: cutoff, period: period, initial: initial, target: target)
        }
    }

    func checkMonotoneApproach(cutoff: Double, period: Double, initial: [Double], target: [Double]) {
        var filter = LowPassFilter(cutoffHz: cutoff, period: period, initial: initial)
        var previous = initial
        for _ in 0..<60 {
            let out = filter.step(target)
            for k in out.indices {
                let up = target[k] >= initial[k]
                // Moves toward the target, never away, and never past it.
                #expect(up ? out[k] >= previous[k] : out[k] <= previous[k])
                #expect(up ? out[k] <= target[k] : out[k] >= target[k])
            }
            previous = out
        }
    }

    @Test func rateLimiterLandsAStepWithoutOvershoot() {
        var limiter = RateLimiter(period: 0.02, maxVelocity: [2], maxAcceleration: [10], maxJerk: nil, initial: [0])
        var previous = 0.0, speed = 0.0, reached = false
        for _ in 0..<100 {
            let p = limiter.step([1])[0]
            let v = (p - previous) / 0.02
            #expect(p >= previous - 1e-12 && p <= 1 + 1e-9)
            #expect(abs(v) <= 2 + 1e-9)
            #expect(abs(v - speed) / 0.02 <= 10 + 1e-6)
            previous = p
            speed = v
            reached = reached || abs(p - 1) < 1e-9
        }
        #expect(reached && abs(previous - 1) < 1e-9)
    }

    @Test func rateLimiterWithJerkConverges() {
        var limiter = RateLimiter(period: 0.01, maxVelocity: [3], maxAcceleration: [20], maxJerk: [400], initial: [0.5])
        var p = 0.5
        for _ in 0..<300 { p = limiter.step([-0.7])[0] }
        #expect(abs(p - (-0.7)) < 1e-6)
        #expect(p >= -0.7 - 1e-3)  // overshoot, if any, stays small
    }

    @Test func rateLimiterHoldsItsLimits() async {
        let gen = Gen.double(in: -3...3).array(of: 1...80)
        await propertyCheck(input: Gen.double(in: 0.05...50), Gen.double(in: 0.5...500), Gen.double(in: 1e-3...0.1), gen) { vmax, amax, period, targets in
            var limiter = RateLimiter(period: period, maxVelocity: [vmax], maxAcceleration: [amax], maxJerk: nil, initial: [0])
            var previous = 0.0, speed = 0.0
            for target in targets {
                // Each target is held for a few periods, as a policy's would be.
                for _ in 0..<3 {
                    let p = limiter.step([target])[0]
                    let v = (p - previous) / period
                    #expect(abs(v) <= vmax * (1 + 1e-9) + 1e-9)
                    #expect(abs(v - speed) <= amax * period * (1 + 1e-6) + 1e-6)
                    previous = p
                    speed = v
                }
            }
        }
    }

    @Test func rateLimiterKeepsJerkOnASmoothRamp() {
        // A target far away: the limiter ramps its acceleration at the jerk limit.
        var limiter = RateLimiter(period: 0.01, maxVelocity: [5], maxAcceleration: [10], maxJerk: [100], initial: [0])
        var accelerations: [Double] = []
        for _ in 0..<30 {
            _ = limiter.step([100])
            accelerations.append(limiter.acceleration[0])
        }
        #expect(abs(accelerations[0] - 1) < 1e-9)  // 100 rad/s³ × 0.01 s
        for k in 1..<accelerations.count {
            #expect(abs(accelerations[k] - accelerations[k - 1]) <= 100 * 0.01 + 1e-9)
            #expect(accelerations[k] <= 10 + 1e-9)
        }
    }
}
