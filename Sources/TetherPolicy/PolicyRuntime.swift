import Foundation
import TetherCore

/// Something that maps an observation to an action: a native network, an ONNX model.
public protocol PolicyRuntime: SendableMetatype {
    /// Observation size the policy reads.
    var observationSize: Int { get }
    /// Action size the policy writes.
    var actionSize: Int { get }
    /// Computes the action for one observation (and advances a recurrent policy's state).
    mutating func act(_ observation: [Float]) throws -> [Float]
    /// Computes the action for one observation into `action` (`actionSize` values): the control
    /// loop's form, which allocates nothing where the policy supports it (`OnnxPolicy` does; the
    /// default goes through `act(_:)` and allocates).
    mutating func act(_ observation: UnsafeBufferPointer<Float>, into action: UnsafeMutableBufferPointer<Float>) throws
    /// Sets a recurrent policy's state to zeros, as at the start of an episode (trial start,
    /// stand-up → policy, after a stop and reset). Feed-forward policies: nothing to do.
    mutating func reset()
    /// The recurrent state carried from one call to the next, all state tensors concatenated in
    /// model order (empty for a feed-forward policy).
    var recurrentState: [Float] { get }
    /// Restores a recurrent state (as read from `recurrentState`, e.g. from a flight recording).
    mutating func setRecurrentState(_ values: [Float]) throws
}

extension PolicyRuntime {
    public mutating func act(_ observation: UnsafeBufferPointer<Float>, into action: UnsafeMutableBufferPointer<Float>) throws {
        let values = try act(Array(observation))
        guard values.count == action.count else {
            throw TetherError("the policy returned \(values.count) actions, the action buffer holds \(action.count)")
        }
        _ = action.update(fromContentsOf: values)
    }
    public mutating func reset() {}
    public var recurrentState: [Float] { [] }
    public mutating func setRecurrentState(_ values: [Float]) throws {
        guard values.isEmpty else {
            throw TetherError("the policy is feed-forward: it has no recurrent state to restore (\(values.count) values given)")
        }
    }
    /// Whether the policy carries a state from call to call.
    public var isRecurrent: Bool { !recurrentState.isEmpty }
}
