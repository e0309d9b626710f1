import COnnxRuntime
import Foundation
import TetherCore

/// ONNX Runtime, loaded at run time from the project venv's `onnxruntime` wheel.
///
/// The library is found without any environment variable: `$TETHER_ONNXRUNTIME` (a path to
/// `libonnxruntime.so*`, to use another copy) if set, else the venv of the Tether checkout
/// (`.venv/lib/python3.*/site-packages/onnxruntime/capi/libonnxruntime.so.*`), else the system's
/// `libonnxruntime.so`. One library per process.
public enum OnnxRuntime {
    /// Loads the library once; later calls return the same result.
    public static func load() throws {
        try loaded.get()
    }

    /// The loaded library's version string, e.g. "1.32.0".
    public static var version: String? { tort_version().map { String(cString: $0) } }

    /// The path the library was loaded from.
    public static var libraryPath: String? { tort_loaded_path().map { String(cString: $0) } }

    private static let loaded: Result<Void, TetherError> = {
        let candidates = libraryCandidates()
        var tried: [String] = []
        for path in candidates {
            var error = [CChar](repeating: 0, count: 1024)
            if tort_load(path, &error, error.count) == 0 { return .success(()) }
            tried.append("\(path): \(stringFromCBuffer(error))")
        }
        return .failure(TetherError(
            "cannot load ONNX Runtime" + (tried.isEmpty ? ": no libonnxruntime.so found" : "; tried:\n    " + tried.joined(separator: "\n    ")),
            hint: "run scripts/setup.sh (it installs onnxruntime==1.32.0 in .venv), or set TETHER_ONNXRUNTIME=/path/to/libonnxruntime.so.1.x"))
    }()

    /// Where Tether looks for the library, in order.
    public static func libraryCandidates() -> [String] {
        var paths: [String] = []
        if let env = ProcessInfo.processInfo.environment["TETHER_ONNXRUNTIME"], !env.isEmpty { return [env] }
        let fm = FileManager.default
        if let root = TetherPaths.checkoutRoot() {
            let lib = "\(root)/.venv/lib"
            for python in ((try? fm.contentsOfDirectory(atPath: lib)) ?? []).sorted() where python.hasPrefix("python") {
                let capi = "\(lib)/\(python)/site-packages/onnxruntime/capi"
                for file in ((try? fm.contentsOfDirectory(atPath: capi)) ?? []).sorted() where file.hasPrefix("libonnxruntime.so") {
                    paths.append("\(capi)/\(file)")
                }
            }
        }
        paths.append("libonnxruntime.so")
        return paths
    }
}
