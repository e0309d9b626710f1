/// Reproducible random numbers: xoshiro256** seeded through SplitMix64.
///
/// Each trial of a batch draws from its own stream derived from `(seed, stream)`, so what trial
/// `i` sees depends only on the seed and `i`, never on which thread ran it or in what order.
/// Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2018).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// Creates the generator for `stream` (for example a trial index) under `seed`.
    public init(seed: UInt64, stream: UInt64 = 0) {
        // Mix the stream into the seed with a second SplitMix64 step so nearby (seed, stream)
        // pairs give unrelated states.
        var sm = SplitMix64(state: seed)
        let base = sm.next()
        var mixer = SplitMix64(state: base ^ (stream &* 0x9E37_79B9_7F4A_7C15 &+ 0xD1B5_4A32_D192_ED03))
        s0 = mixer.next(); s1 = mixer.next(); s2 = mixer.next(); s3 = mixer.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }  // the all-zero state is a fixed point
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform double in [`low`, `high`).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * uniform()
    }

    /// A standard normal sample (Box–Muller; one of the pair is discarded to keep streams simple).
    public mutating func gaussian(mean: Double = 0, standardDeviation: Double = 1) -> Double {
        var u1 = uniform()
        while u1 <= .leastNormalMagnitude { u1 = uniform() }
        let u2 = uniform()
        return mean + standardDeviation * (-2 * _log(u1)).squareRoot() * _cos(2 * .pi * u2)
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): seeds other generators from one 64-bit value.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator state.
    public var state: UInt64
    /// Creates the generator from a state.
    public init(state: UInt64) { self.state = state }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
