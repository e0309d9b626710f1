import Foundation
import TetherCore
@testable import TetherVision

let visionRepositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Runs tests/peers/vision_peer.py from the project venv with a JSON request and decodes its answer.
func visionPeer<T: Decodable>(_ request: [String: Any], as type: T.Type) throws -> T {
    let data = try JSONSerialization.data(withJSONObject: request)
    let path = try temporaryPath("request.json")
    try data.write(to: URL(fileURLWithPath: path))
    let out = try TetherPaths.run("\(visionRepositoryRoot)/.venv/bin/python", ["\(visionRepositoryRoot)/tests/peers/vision_peer.py", "@\(path)"])
    return try JSONDecoder().decode(T.self, from: Data(out.utf8))
}

/// A fresh path in a per-test temporary directory.
func temporaryPath(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-vision-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// Deterministic pseudo-random numbers (SplitMix64) for test images and tensors.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}

/// A test image with gradients, stripes and noise, so that resampling has something to get wrong.
func testImage(width: Int, height: Int, channels: Int = 3, seed: UInt64 = 1) -> RGBImage {
    var random = TestRandom(seed: seed)
    var image = RGBImage(width: width, height: height, channels: channels)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels {
                let base = (x * (3 + c) + y * (5 - c)) % 256
                let stripe = ((x / 3 + y / 2) % 2) * 40
                let noise = Int(random.next() % 25)
                image[x, y, c] = UInt8(clamping: (base + stripe + noise) % 256)
            }
        }
    }
    return image
}

/// Reads raw little-endian float32s.
func readFloats(_ path: String) throws -> [Float] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

/// Writes raw float32s.
func writeFloats(_ values: [Float], to path: String) throws {
    try values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
}
