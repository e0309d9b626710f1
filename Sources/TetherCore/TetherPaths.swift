import Foundation

/// Where Tether's own files are: the checkout (built-in robots, benchmark peers) and the venv.
public enum TetherPaths {
    /// The Tether checkout: `$TETHER_HOME`, else the nearest directory above the current directory
    /// or the executable that holds `robots/quadruped/quadruped.yaml`, else the source tree this
    /// binary was built from.
    public static func checkoutRoot() -> String? {
        let fm = FileManager.default
        func isRoot(_ dir: String) -> Bool { fm.fileExists(atPath: "\(dir)/robots/quadruped/quadruped.yaml") }
        if let env = ProcessInfo.processInfo.environment["TETHER_HOME"], isRoot(env) { return env }
        var starts = [fm.currentDirectoryPath]
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") { starts.append((exe as NSString).deletingLastPathComponent) }
        // Sources/TetherCore/TetherPaths.swift → the package root.
        starts.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path)
        for start in starts {
            var dir = URL(fileURLWithPath: start).standardized
            for _ in 0..<10 {
                if isRoot(dir.path) { return dir.path }
                if dir.path == "/" { break }
                dir.deleteLastPathComponent()
            }
        }
        return nil
    }

    /// The Python interpreter of the project venv (`$TETHER_PYTHON` overrides), used only for
    /// benchmarks and test peers, never by the product itself.
    public static func python() throws -> String {
        if let env = ProcessInfo.processInfo.environment["TETHER_PYTHON"] { return env }
        guard let root = checkoutRoot() else {
            throw TetherError("cannot find the Tether checkout (for its .venv)", hint: "run from the checkout, or set TETHER_HOME")
        }
        let path = "\(root)/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TetherError("the project venv is missing", at: path, hint: "run scripts/setup.sh (or make test) first")
        }
        return path
    }

    /// Runs a program and returns its standard output; throws with its standard error on failure.
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting so a chatty child cannot block on a full pipe.
        let errData = SendableBox<Data>()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errData.value = err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errData.value ?? Data(), as: UTF8.self)
            throw TetherError("\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.first ?? "") failed (exit \(process.terminationStatus)): "
                + "\(message.suffix(2000))")
        }
        return String(decoding: outData, as: UTF8.self)
    }
}

/// A mutable box handed to one other thread and read after it has finished (a join).
final class SendableBox<Value>: @unchecked Sendable {
    var value: Value?
}
