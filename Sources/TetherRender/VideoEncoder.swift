import Foundation
import TetherCore

/// H.264 MP4 through a real encoder: Debian's `ffmpeg` (libx264), fed raw RGB frames on its
/// standard input. The file is written to `path + ".partial"` and renamed when ffmpeg finishes,
/// so an interrupted render never leaves a truncated video under the asked-for name.
public final class VideoEncoder {
    public let path: String
    public let width: Int
    public let height: Int
    public let framesPerSecond: Int
    public private(set) var frames = 0
    private let process: Process
    private let input: FileHandle
    private let errors: Pipe
    private let partial: String

    /// The ffmpeg to run: $TETHER_FFMPEG, else `ffmpeg` on PATH.
    public static func executable() throws -> String {
        if let e = ProcessInfo.processInfo.environment["TETHER_FFMPEG"], !e.isEmpty { return e }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/ffmpeg"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TetherError("ffmpeg is not installed: it encodes the video", at: "PATH",
                          hint: "Debian: apt-get install ffmpeg (scripts/setup.sh installs it), or set TETHER_FFMPEG to an ffmpeg binary")
    }

    /// Starts ffmpeg for `width × height` RGB frames at `framesPerSecond`.
    public init(path: String, width: Int, height: Int, framesPerSecond: Int) throws {
        guard width % 2 == 0, height % 2 == 0 else {
            throw TetherError("H.264 (yuv420p) needs an even width and height, got \(width)×\(height)", at: "--size", hint: "e.g. 1280x720")
        }
        guard (1...240).contains(framesPerSecond) else { throw TetherError("\(framesPerSecond) frames per second is out of range", at: "--fps") }
        self.path = path
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        partial = path + ".partial.mp4"
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.executable())
        process.arguments = ["-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)",
                             "-r", "\(framesPerSecond)", "-i", "-", "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                             "-pix_fmt", "yuv420p", "-movflags", "+faststart", partial]
        let stdin = Pipe()
        errors = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        do { try process.run() } catch {
            throw TetherError("cannot start ffmpeg: \(error)", at: process.executableURL?.path ?? "ffmpeg", hint: "check the ffmpeg installation")
        }
        input = stdin.fileHandleForWriting
    }

    /// Appends one RGB frame (`width × height × 3` bytes, top row first).
    public func append(_ frame: UnsafeBufferPointer<UInt8>) throws {
        guard frame.count == width * height * 3 else {
            throw TetherError("a frame of \(frame.count) bytes does not fit \(width)×\(height) RGB")
        }
        do {
            try input.write(contentsOf: UnsafeRawBufferPointer(frame))
        } catch {
            process.waitUntilExit()
            throw TetherError("ffmpeg stopped taking frames after \(frames): \(stderrText())", at: path)
        }
        frames += 1
    }

    /// Closes the stream, waits for ffmpeg and renames the finished file to `path`.
    public func finish() throws {
        try? input.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: partial)
            throw TetherError("ffmpeg failed (exit \(process.terminationStatus)): \(stderrText())", at: path)
        }
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: partial, toPath: path)
    }

    /// Stops ffmpeg and removes the unfinished file (an interrupted or failed render).
    public func cancel() {
        try? input.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: partial)
    }

    private func stderrText() -> String {
        let text = String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "no message" : String(text.suffix(400))
    }

    /// A looping animated GIF poster of a video (for pages that cannot play MP4): `fps` frames per
    /// second, `width` pixels wide, with a palette computed from the video.
    public static func poster(from video: String, to gif: String, fps: Int = 10, width: Int = 480) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try executable())
        p.arguments = ["-y", "-loglevel", "error", "-i", video, "-vf",
                       "fps=\(fps),scale=\(width):-1:flags=lanczos,split[a][b];[a]palettegen=max_colors=128[p];[b][p]paletteuse", "-loop", "0", gif]
        let errors = Pipe()
        p.standardError = errors
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw TetherError("ffmpeg could not make the poster: \(String(decoding: message, as: UTF8.self).suffix(300))", at: gif)
        }
    }
}
