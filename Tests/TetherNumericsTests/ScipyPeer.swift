import Foundation
import Testing

/// The repository root (three levels above this file).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Why the scipy peer could not answer.
struct PeerFailure: Error, CustomStringConvertible {
    var description: String
}

/// One call to tests/peers/numerics_peer.py: a function name and its JSON arguments.
struct PeerCall {
    var function: String
    var arguments: [Any]

    init(_ function: String, _ arguments: Any...) {
        self.function = function
        self.arguments = arguments
    }
}

/// Runs every call through the scipy / numpy peer in one process and returns the results in
/// order. Throws, failing the test, when the venv or the peer is missing or the peer fails:
/// these tests never pass without their oracle.
func scipy(_ calls: [PeerCall]) throws -> [Any] {
    let python = "\(repositoryRoot)/.venv/bin/python"
    let script = "\(repositoryRoot)/tests/peers/numerics_peer.py"
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw PeerFailure(description: "the project venv is missing (\(python)); the numerics tests compare with scipy from it: run scripts/setup.sh")
    }
    guard FileManager.default.fileExists(atPath: script) else {
        throw PeerFailure(description: "the scipy peer \(script) is missing")
    }
    let request: [String: Any] = ["calls": calls.map { ["f": $0.function, "args": $0.arguments] as [String: Any] }]
    let input = try JSONSerialization.data(withJSONObject: request)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [script]
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    // The peer reads its whole request before it writes anything, so writing first cannot block.
    stdin.fileHandleForWriting.write(input)
    try stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    let errors = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw PeerFailure(description: "the scipy peer failed (status \(process.terminationStatus)): \(String(decoding: errors, as: UTF8.self))")
    }
    guard let answer = try JSONSerialization.jsonObject(with: output) as? [String: Any], let results = answer["results"] as? [Any],
          results.count == calls.count else {
        let text = String(decoding: output.prefix(500), as: UTF8.self)
        throw PeerFailure(description: "the scipy peer answered something else than one result per call: \(text)")
    }
    return results
}

/// A number from a peer result.
func number(_ value: Any) -> Double { (value as? NSNumber)?.doubleValue ?? .nan }

/// A vector from a peer result.
func vector(_ value: Any) -> [Double] { (value as? [Any])?.map(number) ?? [] }

/// A matrix (rows) from a peer result.
func matrix(_ value: Any) -> [[Double]] { (value as? [Any])?.map(vector) ?? [] }

/// A field of an object in a peer result.
func field(_ value: Any, _ key: String) -> Any { (value as? [String: Any])?[key] ?? NSNull() }

/// Whether `a` is within `relative` of `b`, or within `absolute` of it.
func close(_ a: Double, _ b: Double, relative: Double = 1e-12, absolute: Double = 0) -> Bool {
    if a == b { return true }
    return abs(a - b) <= max(absolute, relative * abs(b))
}
