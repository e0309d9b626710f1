import Foundation
import Testing
import TetherCore
@testable import TetherVision

@Suite struct LetterboxTests {
    @Test func geometryFollowsUltralytics() {
        // 640×480 into 320×320: r = 0.5, 320×240, 40 above and below.
        let g = LetterboxGeometry(sourceWidth: 640, sourceHeight: 480, targetWidth: 320, targetHeight: 320)
        #expect(g.resizedWidth == 320 && g.resizedHeight == 240 && g.top == 40 && g.bottom == 40 && g.left == 0 && g.right == 0)
        // Odd padding: 7 rows split 3 above, 4 below (round(3.5 − 0.1), round(3.5 + 0.1)).
        let odd = LetterboxGeometry(sourceWidth: 100, sourceHeight: 93, targetWidth: 100, targetHeight: 100)
        #expect(odd.top == 3 && odd.bottom == 4)
        // Python rounds half to even: 5 × 0.5 = 2.5 → 2.
        let half = LetterboxGeometry(sourceWidth: 10, sourceHeight: 5, targetWidth: 5, targetHeight: 5)
        #expect(half.resizedWidth == 5 && half.resizedHeight == 2)
        // Boxes map back: the padded centre of the input is the image's centre.
        let box = g.toSource(BoundingBox(x1: 100, y1: 90, x2: 200, y2: 140))
        #expect(box == BoundingBox(x1: 200, y1: 100, x2: 400, y2: 200))
    }

    static let sizes: [(w: Int, h: Int, c: Int, tw: Int, th: Int)] = [
        (640, 480, 3, 320, 320),   // down, exact 2×
        (333, 211, 3, 320, 320),   // slight down, odd sizes
        (97, 61, 3, 320, 320),     // up ×3.3
        (41, 123, 1, 320, 256),    // grey, tall, rectangular input
        (1280, 721, 3, 640, 640),  // down, odd height
        (320, 320, 3, 320, 320),   // no resize
        (5, 3, 3, 64, 64),         // tiny source, large upscale
        (250, 251, 1, 160, 96),
    ]

    @Test func resizeMatchesOpenCVWithinOneLevel() throws {
        var worst = 0, differing = 0, total = 0
        for (k, s) in Self.sizes.enumerated() {
            let image = testImage(width: s.w, height: s.h, channels: s.c, seed: UInt64(k + 10))
            let png = try temporaryPath("img.png")
            try ImageCodecs.write(image.toRGB(), to: png)
            let g = LetterboxGeometry(sourceWidth: s.w, sourceHeight: s.h, targetWidth: s.tw, targetHeight: s.th)
            let out = png + ".raw"
            struct Ack: Decodable { var opencv: String }
            _ = try visionPeer(["op": "resize", "image": png, "width": g.resizedWidth, "height": g.resizedHeight, "out": out], as: Ack.self)
            let theirs = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
            let rgb = image.toRGB()
            var ours = [UInt8](repeating: 0, count: g.resizedWidth * g.resizedHeight * 3)
            rgb.pixels.withUnsafeBufferPointer { src in
                ours.withUnsafeMutableBufferPointer { dst in
                    BilinearResizer().resize(src, width: s.w, height: s.h, channels: 3, into: dst, width: g.resizedWidth, height: g.resizedHeight)
                }
            }
            #expect(theirs.count == ours.count)
            var here = 0, firstAt = -1
            for (i, (a, b)) in zip(theirs, ours).enumerated() where a != b { differing += 1; here += 1; if firstAt < 0 { firstAt = i }; worst = max(worst,
                abs(Int(a) - Int(b))) }
            if here > 0 { print("  \(s) -> \(g.resizedWidth)x\(g.resizedHeight): \(here) differ, first at x \(firstAt / 3 % g.resizedWidth) y "
                + "\(firstAt / 3 / g.resizedWidth)") }
            total += ours.count
        }
        print("resize vs cv2.resize INTER_LINEAR: max difference \(worst), \(differing) of \(total) samples differ")
        #expect(worst <= 1)
    }

    @Test func letterboxTensorMatchesThePythonPipeline() throws {
        var worst: Float = 0
        for (k, s) in Self.sizes.enumerated() {
            let image = testImage(width: s.w, height: s.h, channels: s.c, seed: UInt64(k + 10))
            let png = try temporaryPath("img.png")
            try ImageCodecs.write(image, to: png)
            let decoded = try ImageCodecs.read(path: png)
            #expect(decoded == image)
            let out = png + ".raw"
            struct Geometry: Decodable { var ratio: Double; var left: Int; var top: Int }
            let peer = try visionPeer(["op": "letterbox", "image": png, "width": s.tw, "height": s.th, "out": out], as: Geometry.self)
            let theirs = try readFloats(out)
            let (ours, g) = Letterboxer(width: s.tw, height: s.th).tensor(decoded)
            #expect(g.left == peer.left && g.top == peer.top && g.ratio == peer.ratio, "\(s)")
            #expect(theirs.count == ours.count)
            for (a, b) in zip(theirs, ours) { worst = max(worst, abs(a - b)) }
        }
        print("letterbox tensor vs cv2/numpy: max difference \(worst) (= \(worst * 255) levels)")
        #expect(worst <= 1.0 / 255 + 1e-6)
    }

    @Test func letterboxerReusesItsBuffersAcrossSizes() {
        let lb = Letterboxer(width: 64, height: 48)
        let a = lb.tensor(testImage(width: 200, height: 100, seed: 1))
        _ = lb.tensor(testImage(width: 13, height: 77, channels: 1, seed: 2))
        let again = lb.tensor(testImage(width: 200, height: 100, seed: 1))
        #expect(a.tensor == again.tensor)
        // Padding is 114/255 exactly.
        #expect(a.tensor[0] == Float(114) / 255)
    }
}
