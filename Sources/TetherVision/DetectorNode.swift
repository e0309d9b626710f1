import Foundation
import TetherCore
import TetherROS

/// Conversions between ROS 2 messages and TetherVision's images and detections.
public enum ROSVision {
    /// The encodings `image(from:)` reads.
    public static let supportedEncodings = ["rgb8", "bgr8", "mono8"]

    /// The pixels of a `sensor_msgs/Image` (rgb8, bgr8 or mono8; rows may be padded to `step`).
    public static func image(from message: SensorMsgs.Image, topic: String = "image") throws -> RGBImage {
        let channels: Int
        switch message.encoding {
        case "rgb8", "bgr8": channels = 3
        case "mono8": channels = 1
        default:
            throw TetherError("unsupported image encoding '\(message.encoding)'", at: topic,
                              hint: "Tether reads \(supportedEncodings.joined(separator: ", ")); convert the stream (for example with image_proc) or "
                                  + "publish one of these")
        }
        let width = Int(message.width), height = Int(message.height), step = Int(message.step)
        guard width > 0, height > 0 else { throw TetherError("empty \(width)×\(height) image", at: topic) }
        guard step >= width * channels, message.data.count >= step * (height - 1) + width * channels else {
            throw TetherError("image data too short: \(message.data.count) bytes for \(width)×\(height) \(message.encoding) with step \(step)", at: topic)
        }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let rowBytes = width * channels
        message.data.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let s = src.baseAddress! + y * step, d = dst.baseAddress! + y * rowBytes
                    if message.encoding == "bgr8" {
                        for x in 0..<width { d[3 * x] = s[3 * x + 2]; d[3 * x + 1] = s[3 * x + 1]; d[3 * x + 2] = s[3 * x] }
                    } else {
                        d.update(from: s, count: rowBytes)
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// A `sensor_msgs/Image` (rgb8 or mono8) of an image.
    public static func message(_ image: RGBImage, header: StdMsgs.Header = .init()) -> SensorMsgs.Image {
        SensorMsgs.Image(header: header, height: UInt32(image.height), width: UInt32(image.width),
                         encoding: image.channels == 3 ? "rgb8" : "mono8", isBigEndian: 0,
                         step: UInt32(image.width * image.channels), data: image.pixels)
    }

    /// Detections as a `vision_msgs/Detection2DArray` with the image's header: each with one
    /// hypothesis (class name as `class_id`, score) and its box (centre and size in pixels).
    public static func message(_ detections: [Detection], header: StdMsgs.Header, className: (Int) -> String) -> VisionMsgs.Detection2DArray {
        VisionMsgs.Detection2DArray(header: header, detections: detections.map { d in
            VisionMsgs.Detection2D(
                header: header,
                results: [VisionMsgs.ObjectHypothesisWithPose(hypothesis: VisionMsgs.ObjectHypothesis(classID: className(d.classIndex), score: d.score))],
                bbox: VisionMsgs.BoundingBox2D(center: VisionMsgs.Pose2D(position: VisionMsgs.Point2D(x: d.box.centerX, y: d.box.centerY)),
                                               sizeX: d.box.width, sizeY: d.box.height))
        })
    }
}

/// A ROS 2 detector node: subscribes to `sensor_msgs/Image`, publishes
/// `vision_msgs/Detection2DArray` stamped with each image's header.
///
/// Images arrive with the sensor-data QoS (best effort, which also matches reliable cameras);
/// detections leave reliable. A frame that cannot be read (an unsupported encoding, short data)
/// is reported as an event and skipped; the node keeps running.
public final class DetectorNode {
    /// What happened with one incoming message.
    public enum Event: Sendable {
        /// A frame was processed: its number, detection count, per-stage timings, and the time
        /// from receipt to publication (seconds).
        case frame(index: Int, detections: Int, timings: DetectionTimings, latency: Double)
        /// A frame was skipped, with the reason.
        case skipped(index: Int, error: TetherError)
    }

    public let detector: Detector
    public let inputTopic: String
    public let outputTopic: String
    private let subscriber: DDSSubscriber<SensorMsgs.Image>
    private let publisher: DDSPublisher<VisionMsgs.Detection2DArray>
    /// Timings of the processed frames.
    public private(set) var timings: [DetectionTimings] = []
    /// Receipt-to-publication latency of the processed frames, seconds.
    public private(set) var latencies: [Double] = []
    public private(set) var skipped = 0

    /// Creates the node's subscriber and publisher on `participant`.
    public init(detector: Detector, participant: DDSParticipant, inputTopic: String = "/camera/image_raw",
                outputTopic: String = "/detections") throws {
        self.detector = detector
        self.inputTopic = inputTopic
        self.outputTopic = outputTopic
        subscriber = try DDSSubscriber(participant, topic: inputTopic, qos: .sensorData)
        publisher = try DDSPublisher(participant, topic: outputTopic)
    }

    /// Number of matched publishers of images and subscribers of detections.
    public var matched: (imagePublishers: Int, detectionSubscribers: Int) { (subscriber.matchedPublishers, publisher.matchedSubscriptions) }

    /// Processes images until `shouldStop` returns true (checked at least every `pollInterval`
    /// seconds) or `maxFrames` frames were processed or skipped.
    public func run(maxFrames: Int? = nil, pollInterval: Double = 0.1, shouldStop: () -> Bool = { false }, onEvent: (Event) -> Void = { _ in }) throws {
        var index = 0
        while !shouldStop() {
            if let maxFrames, index >= maxFrames { return }
            guard let message = try subscriber.next(timeout: pollInterval) else { continue }
            let received = DispatchTime.now().uptimeNanoseconds
            defer { index += 1 }
            let image: RGBImage
            do {
                image = try ROSVision.image(from: message, topic: inputTopic)
            } catch let error as TetherError {
                skipped += 1
                onEvent(.skipped(index: index, error: error))
                continue
            }
            let (detections, timing) = try detector.detect(image)
            try publisher.publish(ROSVision.message(detections, header: message.header, className: detector.className))
            let latency = Double(DispatchTime.now().uptimeNanoseconds - received) * 1e-9
            timings.append(timing)
            latencies.append(latency)
            onEvent(.frame(index: index, detections: detections.count, timings: timing, latency: latency))
        }
    }
}
