import Foundation
import TetherCore

/// A `PolicyNetwork` evaluated natively (training, fine-tuning).
public struct NativePolicy: PolicyRuntime {
    public var network: PolicyNetwork
    var workspace: MLP.Workspace
    var normalized: [Float]

    /// Wraps a network.
    public init(_ network: PolicyNetwork) {
        self.network = network
        workspace = MLP.Workspace(network.mlp)
        normalized = [Float](repeating: 0, count: network.mlp.inputSize)
    }

    public var observationSize: Int { network.mlp.inputSize }
    public var actionSize: Int { network.mlp.outputSize }

    public mutating func act(_ observation: [Float]) throws -> [Float] {
        for i in normalized.indices { normalized[i] = (observation[i] - network.observationMean[i]) / network.observationStd[i] }
        var action = normalized.withUnsafeBufferPointer { Array(network.mlp.forward($0, workspace: &workspace)) }
        network.generator?.add(to: &action, observation: observation)
        return action
    }
}
