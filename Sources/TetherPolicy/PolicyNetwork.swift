import Foundation
import TetherCore

/// A policy Tether trains and exports: observation normalization followed by an MLP.
///
/// `action = MLP((obs - mean) / std)`. ARS (V2) learns the normalization statistics while it
/// trains, so they are part of the policy and of its ONNX export.
public struct PolicyNetwork: Sendable, Codable, Equatable {
    /// Running mean of observations.
    public var observationMean: [Float]
    /// Running standard deviation of observations (clamped away from zero).
    public var observationStd: [Float]
    /// The network.
    public var mlp: MLP
    /// An open-loop periodic trajectory generator added to the network's output (PMTG-style
    /// locomotion), or nil.
    public var generator: TrajectoryGenerator?

    /// Creates a policy with identity normalization.
    public init(mlp: MLP, generator: TrajectoryGenerator? = nil) {
        self.mlp = mlp
        self.generator = generator
        observationMean = [Float](repeating: 0, count: mlp.inputSize)
        observationStd = [Float](repeating: 1, count: mlp.inputSize)
    }

    /// Computes the action natively (same arithmetic as the exported ONNX graph).
    public func act(_ observation: [Float]) -> [Float] {
        var action = mlp.forward(normalize(observation))
        generator?.add(to: &action, observation: observation)
        return action
    }

    /// Normalizes an observation.
    @inline(__always) public func normalize(_ observation: [Float]) -> [Float] {
        var x = observation
        for i in x.indices { x[i] = (x[i] - observationMean[i]) / observationStd[i] }
        return x
    }
}
