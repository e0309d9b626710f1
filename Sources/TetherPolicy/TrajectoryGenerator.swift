import Foundation
import TetherCore

/// A periodic trajectory generator in action units, driven by the `gait_phase` observation.
///
/// With sin φ and cos φ read from the raw observation at `phaseIndex`, the features are the
/// Fourier harmonics f(φ) = [sin φ, cos φ, sin 2φ, cos 2φ, …, sin Kφ, cos Kφ] (computed from
/// sin φ and cos φ by the angle-addition recursion), and the generator adds `W f(φ) + b` to the
/// network's action. The policy's network then learns residuals around an open-loop gait, the
/// idea of Iscen et al., "Policies Modulating Trajectory Generators" (CoRL 2018). The ONNX export
/// computes exactly this, so the deployed model holds the whole gait.
public struct TrajectoryGenerator: Sendable, Codable, Equatable {
    /// Index of sin φ in the observation; cos φ is the next element.
    public var phaseIndex: Int
    /// Number of harmonics K.
    public var harmonics: Int
    /// Weights, row-major actions × 2K.
    public var weights: [Float]
    /// Constant offsets per action.
    public var offsets: [Float]
    /// Steering: with h the raw observation at `headingIndex` (a heading error), the generator
    /// also adds `h (S f(φ) + s)`, a heading-proportional change of the gait (nil: none).
    public var steering: Steering?

    /// The heading-feedback part of a generator.
    public struct Steering: Sendable, Codable, Equatable {
        /// Index of the heading error in the observation.
        public var headingIndex: Int
        /// Weights, row-major actions × 2K.
        public var weights: [Float]
        /// Offsets per action.
        public var offsets: [Float]
        public init(headingIndex: Int, weights: [Float], offsets: [Float]) {
            self.headingIndex = headingIndex
            self.weights = weights
            self.offsets = offsets
        }
    }

    /// Creates a generator.
    public init(phaseIndex: Int, harmonics: Int, weights: [Float], offsets: [Float], steering: Steering? = nil) {
        precondition(harmonics >= 1 && weights.count == offsets.count * 2 * harmonics, "weights must be actions × 2K")
        precondition(steering.map { $0.weights.count == weights.count && $0.offsets.count == offsets.count } ?? true,
                     "steering must have the generator's shape")
        self.phaseIndex = phaseIndex
        self.harmonics = harmonics
        self.weights = weights
        self.offsets = offsets
        self.steering = steering
    }

    /// Number of features, 2K.
    public var featureCount: Int { 2 * harmonics }

    /// The harmonics of φ from sin φ and cos φ, by the same recursion as the ONNX graph.
    @inline(__always) public func features(sin s1: Float, cos c1: Float) -> [Float] {
        var f = [Float](repeating: 0, count: featureCount)
        var s = s1, c = c1
        for k in 0..<harmonics {
            f[2 * k] = s
            f[2 * k + 1] = c
            let next = s * c1 + c * s1
            c = c * c1 - s * s1
            s = next
        }
        return f
    }

    /// Adds the generator's output for `observation` to `action`.
    @inline(__always) public func add(to action: inout [Float], observation: [Float]) {
        let f = features(sin: observation[phaseIndex], cos: observation[phaseIndex + 1])
        let n = featureCount
        for a in action.indices {
            var sum = offsets[a]
            for k in 0..<n { sum += weights[a * n + k] * f[k] }
            action[a] += sum
        }
        if let steering {
            let h = observation[steering.headingIndex]
            for a in action.indices {
                var sum = steering.offsets[a]
                for k in 0..<n { sum += steering.weights[a * n + k] * f[k] }
                action[a] += h * sum
            }
        }
    }

    /// Fits K harmonics to a periodic function of the phase (one value per action), by the
    /// discrete Fourier transform on `samples` uniformly spaced phases (exact least squares for
    /// this basis). Returns the generator and the largest fit error.
    public static func fit(phaseIndex: Int, harmonics: Int, actions: Int, samples: Int = 720,
                           _ function: (Double) -> [Double]) -> (TrajectoryGenerator, maxError: Double) {
        let (weights, offsets) = fourier(harmonics: harmonics, actions: actions, samples: samples, function)
        let generator = TrajectoryGenerator(phaseIndex: phaseIndex, harmonics: harmonics, weights: weights, offsets: offsets)
        var worst = 0.0
        for j in 0..<samples {
            let phi = 2 * Double.pi * Double(j) / Double(samples)
            let v = function(phi)
            var observation = [Float](repeating: 0, count: phaseIndex + 2)
            observation[phaseIndex] = Float(Foundation.sin(phi))
            observation[phaseIndex + 1] = Float(Foundation.cos(phi))
            var out = [Float](repeating: 0, count: actions)
            generator.add(to: &out, observation: observation)
            for a in 0..<actions { worst = max(worst, abs(Double(out[a]) - v[a])) }
        }
        return (generator, worst)
    }

    /// Fourier coefficients (weights actions × 2K, offsets) of a periodic vector function.
    public static func fourier(harmonics: Int, actions: Int, samples: Int = 720,
                               _ function: (Double) -> [Double]) -> (weights: [Float], offsets: [Float]) {
        let values = (0..<samples).map { function(2 * Double.pi * Double($0) / Double(samples)) }
        var weights = [Float](repeating: 0, count: actions * 2 * harmonics), offsets = [Float](repeating: 0, count: actions)
        for a in 0..<actions {
            offsets[a] = Float(values.reduce(0) { $0 + $1[a] } / Double(samples))
            for k in 1...harmonics {
                var sk = 0.0, ck = 0.0
                for (j, v) in values.enumerated() {
                    let phi = 2 * Double.pi * Double(j) / Double(samples)
                    sk += v[a] * Foundation.sin(Double(k) * phi)
                    ck += v[a] * Foundation.cos(Double(k) * phi)
                }
                weights[a * 2 * harmonics + 2 * (k - 1)] = Float(2 * sk / Double(samples))
                weights[a * 2 * harmonics + 2 * (k - 1) + 1] = Float(2 * ck / Double(samples))
            }
        }
        return (weights, offsets)
    }
}
