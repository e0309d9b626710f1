import Foundation
import Testing
import TetherCore
@testable import TetherCalibration

let calibrationRepositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Runs tests/peers/calibration_peer.py from the project venv with a request (through a file:
/// the sample arrays exceed the argument size limit) and decodes its JSON answer.
func calibrationPeer<T: Decodable>(_ request: some Encodable, as type: T.Type) throws -> T {
    let python = try TetherPaths.python()
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tether-calibration-\(UUID().uuidString).json").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try JSONEncoder().encode(request).write(to: URL(fileURLWithPath: path))
    let output = try TetherPaths.run(python, ["\(calibrationRepositoryRoot)/tests/peers/calibration_peer.py", "@\(path)"])
    return try JSONDecoder().decode(T.self, from: Data(output.utf8))
}

/// Expects `body` to throw a `TetherError` located at `source` whose message mentions every one
/// of `fragments`.
func expectAnalysisError(source: String, mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error mentioning \(fragments)", sourceLocation: sourceLocation)
    } catch let error as TetherError {
        #expect(error.location == source, "error located at \(error.location ?? "nowhere"): \(error)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error.what.contains(fragment), "'\(error.what)' does not mention '\(fragment)'", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a TetherError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// |a − b| ≤ tolerance · max(|a|, |b|, floor).
func relativelyClose(_ a: Double, _ b: Double, _ tolerance: Double, floor: Double = 1e-300) -> Bool {
    abs(a - b) <= tolerance * max(abs(a), abs(b), floor)
}

/// Sample times at `rate` Hz over `duration` s with a uniform jitter of ± `jitter` s (still increasing).
func jitteredTimes(rate: Double, duration: Double, jitter: Double, random: inout SeededRandom) -> [Double] {
    let count = Int(duration * rate)
    return (0..<count).map { Double($0) / rate + (jitter > 0 ? random.uniform(-jitter, jitter) : 0) }
}
