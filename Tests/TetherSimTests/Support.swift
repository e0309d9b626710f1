import Foundation
import Testing
import TetherCore
@testable import TetherSim

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let quadrupedXML = "\(repositoryRoot)/robots/quadruped/quadruped.xml"
let quadrupedManifest = "\(repositoryRoot)/robots/quadruped/quadruped.yaml"
let cartpoleXML = "\(repositoryRoot)/robots/cartpole/cartpole.xml"
let cartpoleManifest = "\(repositoryRoot)/robots/cartpole/cartpole.yaml"

/// Runs a Python test peer from the project venv and decodes its JSON output.
func runPeer<T: Decodable>(_ script: String, _ request: some Encodable, as type: T.Type) throws -> T {
    let python = "\(repositoryRoot)/.venv/bin/python"
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw TetherError("the project venv is missing; the peer tests need it", at: python, hint: "run scripts/setup.sh")
    }
    let json = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
    let output = try TetherPaths.run(python, ["\(repositoryRoot)/tests/peers/\(script)", json])
    return try JSONDecoder().decode(T.self, from: Data(output.utf8))
}

/// Writes a manifest variant next to the built-in model so its relative `model:` resolves.
func writeManifestVariant(_ original: String, replacing pairs: [(String, String)]) throws -> String {
    var text = try String(contentsOfFile: original, encoding: .utf8)
    for (a, b) in pairs {
        #expect(text.contains(a), "fixture text '\(a)' not found")
        text = text.replacingOccurrences(of: a, with: b)
    }
    let dir = URL(fileURLWithPath: original).deletingLastPathComponent().path
    let path = "\(dir)/.test-\(UUID().uuidString).yaml"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
