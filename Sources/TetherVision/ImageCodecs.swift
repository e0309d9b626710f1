import CImageCodecs
import Foundation
import TetherCore

/// JPEG and PNG files through Debian's libjpeg-turbo and libpng (no hand-written decoders).
///
/// Decoding matches what OpenCV's `imread` gives a YOLO pipeline as closely as these libraries
/// allow: JPEG with the library's default (islow) DCT and fancy upsampling; PNG palette images
/// expanded to RGB, alpha dropped (not composited), 16-bit samples reduced to their high byte.
/// Errors name the file and never crash the process.
public enum ImageCodecs {
    /// The formats Tether reads and writes.
    public enum Format: String, Sendable, CaseIterable {
        case jpeg, png
    }

    /// File name extensions read as images (lowercase, without the dot).
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    /// The format of encoded bytes, from their signature; nil when neither.
    public static func sniff(_ bytes: [UInt8]) -> Format? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.count >= 8, bytes.prefix(8).elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        return nil
    }

    /// Reads and decodes an image file (JPEG or PNG, recognised by content, not by name).
    public static func read(path: String) throws -> RGBImage {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TetherError("cannot read the image file", at: path, hint: "check that the file exists and is readable")
        }
        return try decode([UInt8](data), name: path)
    }

    /// Decodes JPEG or PNG bytes; `name` (a path) appears in errors.
    public static func decode(_ bytes: [UInt8], name: String = "<memory>") throws -> RGBImage {
        guard let format = sniff(bytes) else {
            throw TetherError(bytes.isEmpty ? "the image file is empty" : "not a JPEG or PNG image (unrecognised signature)", at: name,
                              hint: "Tether reads JPEG and PNG images; convert others (for example with ImageMagick's `convert`)")
        }
        var width: Int32 = 0, height: Int32 = 0, channels: Int32 = 0
        var pixels: UnsafeMutablePointer<UInt8>?
        var error = [CChar](repeating: 0, count: 512)
        let status = bytes.withUnsafeBufferPointer { b in
            switch format {
            case .jpeg: timg_jpeg_decode(b.baseAddress, b.count, &width, &height, &channels, &pixels, &error, error.count)
            case .png: timg_png_decode(b.baseAddress, b.count, &width, &height, &channels, &pixels, &error, error.count)
            }
        }
        guard status == 0, let pixels else {
            throw TetherError("cannot decode the \(format == .jpeg ? "JPEG" : "PNG") image: \(stringFromCBuffer(error))", at: name,
                              hint: "the file may be truncated or corrupt; re-export it")
        }
        defer { timg_free(pixels) }
        let count = Int(width) * Int(height) * Int(channels)
        return RGBImage(width: Int(width), height: Int(height), channels: Int(channels),
                        pixels: Array(UnsafeBufferPointer(start: pixels, count: count)))
    }

    /// Encodes an image as PNG (lossless).
    public static func encodePNG(_ image: RGBImage) throws -> [UInt8] {
        try encode(image, name: "PNG") { p, out, size, error in
            timg_png_encode(p, Int32(image.width), Int32(image.height), Int32(image.channels), out, size, error, 512)
        }
    }

    /// Encodes an image as baseline JPEG of `quality` 1–100.
    public static func encodeJPEG(_ image: RGBImage, quality: Int = 95) throws -> [UInt8] {
        try encode(image, name: "JPEG") { p, out, size, error in
            timg_jpeg_encode(p, Int32(image.width), Int32(image.height), Int32(image.channels), Int32(quality), out, size, error, 512)
        }
    }

    /// Encodes an image in the format its path's extension names (.png, .jpg / .jpeg) and writes it.
    public static func write(_ image: RGBImage, to path: String, quality: Int = 95) throws {
        let ext = (path as NSString).pathExtension.lowercased()
        let bytes: [UInt8]
        switch ext {
        case "png": bytes = try encodePNG(image)
        case "jpg", "jpeg": bytes = try encodeJPEG(image, quality: quality)
        default: throw TetherError("cannot tell the image format from the extension '.\(ext)'", at: path, hint: "use .png, .jpg or .jpeg")
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw TetherError("cannot write the image file", at: path, hint: "check that the directory exists and is writable")
        }
    }

    private static func encode(_ image: RGBImage, name: String,
                               _ body: (UnsafePointer<UInt8>?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>,
                                        UnsafeMutablePointer<CChar>) -> Int32) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var error = [CChar](repeating: 0, count: 512)
        let status = image.pixels.withUnsafeBufferPointer { p in
            error.withUnsafeMutableBufferPointer { e in body(p.baseAddress, &out, &size, e.baseAddress!) }
        }
        guard status == 0, let out else {
            throw TetherError("cannot encode a \(image.width)×\(image.height) image as \(name): \(stringFromCBuffer(error))")
        }
        defer { timg_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }

    /// The image files of a directory (by extension, sorted by name), or the file itself.
    public static func imageFiles(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TetherError("no such file or directory", at: path, hint: "pass a directory of JPEG / PNG images or image files")
        }
        guard isDirectory.boolValue else { return [path] }
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
        return names.filter { imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted().map { (path as NSString).appendingPathComponent($0) }
    }
}
