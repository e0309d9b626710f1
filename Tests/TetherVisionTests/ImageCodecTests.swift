import Foundation
import Testing
import TetherCore
@testable import TetherVision

@Suite struct ImageCodecTests {
    @Test func pngRoundTripIsLossless() throws {
        for channels in [3, 1] {
            let image = testImage(width: 37, height: 23, channels: channels, seed: 7)
            let decoded = try ImageCodecs.decode(try ImageCodecs.encodePNG(image), name: "mem.png")
            #expect(decoded == image)
        }
    }

    @Test func jpegRoundTripIsClose() throws {
        // A smooth image: JPEG keeps it within a few levels at quality 95.
        var image = RGBImage(width: 64, height: 48)
        for y in 0..<48 { for x in 0..<64 { image[x, y, 0] = UInt8(x * 4); image[x, y, 1] = UInt8(y * 5); image[x, y, 2] = 128 } }
        let bytes = try ImageCodecs.encodeJPEG(image, quality: 95)
        #expect(ImageCodecs.sniff(bytes) == .jpeg)
        let decoded = try ImageCodecs.decode(bytes)
        #expect(decoded.width == 64 && decoded.height == 48 && decoded.channels == 3)
        let worst = zip(decoded.pixels, image.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= 12, "max difference \(worst)")
        let grey = try ImageCodecs.decode(try ImageCodecs.encodeJPEG(testImage(width: 16, height: 9, channels: 1), quality: 90))
        #expect(grey.channels == 1 && grey.width == 16 && grey.height == 9)
    }

    @Test func truncatedAndCorruptFilesAreErrorsNamingTheFile() throws {
        let png = try ImageCodecs.encodePNG(testImage(width: 40, height: 30))
        let jpeg = try ImageCodecs.encodeJPEG(testImage(width: 40, height: 30))
        let cases: [(String, [UInt8])] = [
            ("truncated.png", Array(png.prefix(png.count / 2))),
            ("truncated.jpg", Array(jpeg.prefix(40))),
            ("garbage.jpg", [0xFF, 0xD8, 0xFF] + [UInt8](repeating: 0x17, count: 100)),
            ("header-only.png", Array(png.prefix(8))),
            ("text.png", Array("hello, not an image".utf8)),
            ("empty.png", []),
        ]
        for (name, bytes) in cases {
            let path = try temporaryPath(name)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                _ = try ImageCodecs.read(path: path)
                Issue.record("\(name) decoded")
            } catch let error as TetherError {
                #expect(error.location == path, "\(error)")
                #expect(error.hint != nil)
            }
        }
        #expect(throws: TetherError.self) { try ImageCodecs.read(path: "/nonexistent/image.png") }
    }

    @Test func pngWithAlphaAnd16BitSamplesDecodesAsOpenCVImreadDoes() throws {
        struct Ack: Decodable { var ok: Bool }
        struct Size: Decodable { var width: Int; var height: Int }
        for kind in ["rgba", "rgb16", "gray16"] {
            let path = try temporaryPath("\(kind).png")
            _ = try visionPeer(["op": "write_png", "path": path, "kind": kind, "width": 23, "height": 17], as: Ack.self)
            let ours = try ImageCodecs.read(path: path)
            #expect(ours.channels == (kind == "gray16" ? 1 : 3))
            _ = try visionPeer(["op": "imread", "image": path, "out": path + ".raw"], as: Size.self)
            let theirs = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".raw")))
            let rgb = ours.toRGB()
            #expect(theirs.count == rgb.pixels.count)
            let worst = zip(theirs, rgb.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            print("\(kind) PNG vs cv2.imread: max difference \(worst)")
            #expect(worst <= 1, "\(kind)")
        }
    }

    @Test func decodingMatchesOpenCVImread() throws {
        // JPEG, grey JPEG, PNG: our libjpeg-turbo / libpng decode against cv2.imread's.
        let dir = try temporaryPath("x")
        let base = (dir as NSString).deletingLastPathComponent
        let files: [(String, RGBImage)] = [("a.jpg", testImage(width: 61, height: 47, seed: 3)), ("b.png", testImage(width: 33, height: 20, seed: 4)),
                                           ("c.jpg", testImage(width: 30, height: 31, channels: 1, seed: 5))]
        var worst = 0
        for (name, image) in files {
            let path = "\(base)/\(name)"
            try ImageCodecs.write(image, to: path, quality: 90)
            let ours = try ImageCodecs.read(path: path).toRGB()
            struct Size: Decodable { var width: Int; var height: Int }
            let out = "\(base)/\(name).raw"
            let size = try visionPeer(["op": "imread", "image": path, "out": out], as: Size.self)
            #expect(size.width == ours.width && size.height == ours.height)
            let theirs = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
            #expect(theirs.count == ours.pixels.count)
            worst = max(worst, zip(theirs, ours.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0)
        }
        print("decode vs cv2.imread: max difference \(worst)")
        #expect(worst <= 1)
    }
}
