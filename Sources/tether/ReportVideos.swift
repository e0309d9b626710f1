import Foundation
import TetherCore
import TetherRender
import TetherSim
import TetherValidation

/// The worst real trial beside its simulated twin (the same trial index: the same seed, start and
/// command), rendered into `directory/worst-trial.mp4` and added to the gap report's "See it"
/// section. The worst trial: a failed one that ended earliest, else the lowest score. Says why
/// when there is nothing to render (no recordings: trials run with --no-record); never fails the
/// report.
func attachWorstTrialVideo(_ gap: inout GapReport, sim: [TrialRecord], real: [TrialRecord], robot: RobotModel, directory: String,
                           log: (String) -> Void = { print($0) }) {
    let recorded = real.filter { $0.recording.map { FileManager.default.fileExists(atPath: $0) } ?? false }
    guard let worst = recorded.min(by: { a, b in
        if a.success != b.success { return !a.success }
        if !a.success { return a.episodeSeconds < b.episodeSeconds }
        return a.score < b.score
    }), let realPath = worst.recording else {
        log("   (no video: the real trials have no flight recordings)")
        return
    }
    let twin = sim.first { $0.trial == worst.trial && $0.recording.map { FileManager.default.fileExists(atPath: $0) } ?? false }
    let output = "\(directory)/worst-trial.mp4"
    var render = RecordingRender()
    (render.width, render.height) = twin == nil ? (640, 360) : (1280, 360)
    render.effects = false
    do {
        let realTimeline = try RecordingTimeline(path: realPath, robot: robot)
        let outcome = worst.success ? "succeeded, lowest score" : "failed: \(worst.failureMode), \(String(format: "%.1f", worst.episodeSeconds)) s"
        let title: String
        if let twin, let simPath = twin.recording {
            let simTimeline = try RecordingTimeline(path: simPath, robot: robot)
            _ = try render.renderComparison(left: ("sim trial \(twin.trial) (\(twin.success ? "ok" : twin.failureMode))", simTimeline),
                                            right: ("real trial \(worst.trial) (\(worst.success ? "ok" : worst.failureMode))", realTimeline),
                                            robot: robot, to: output)
            title = "The worst real trial (\(worst.trial), \(outcome)) beside the same trial in simulation"
        } else {
            _ = try render.render(realTimeline, robot: robot, to: output)
            title = "The worst real trial (\(worst.trial), \(outcome)); its simulated twin has no recording"
        }
        gap.videos = [ReportVideo(title: title, path: (output as NSString).lastPathComponent)]
        log("   video of the worst real trial beside its simulated twin: \(output)")
    } catch {
        log("   (no video of the worst trial: \(error))")
    }
}

/// Videos of the first `count` failed trials of a gate result, for its report: each trial is run
/// again exactly as the gate ran it (its random stream (seed, i)) with a flight recorder, into
/// `<report name>-trials/trial-NNN.mcap` beside the report, and rendered to `trial-NNN.mp4`
/// (640×360, no effects: a few seconds each in software). Sets `result.videos`. Never fails the
/// gate: says why when a video cannot be made. A replay that ends differently from the gate's
/// record (another policy engine, a changed model) is said in the video's title.
func attachFailedTrialVideos(_ result: inout GateResult, run: ValidationRun, reportPath: String, count: Int,
                             log: (String) -> Void = { print($0) }) {
    let failed = Array(result.trialRecords.filter { !$0.success }.prefix(count))
    guard count > 0, !failed.isEmpty else { return }
    let name = ((reportPath as NSString).lastPathComponent as NSString).deletingPathExtension + "-trials"
    let folder = ((reportPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
    log("  videos           " + (failed.count == 1 ? "the first failed trial" : "the first \(failed.count) failed trials")
        + " replayed with a recorder → \(folder)/")
    var videos: [ReportVideo] = []
    do {
        let replays = try run.recordTrials(failed.map(\.index), in: folder)
        var render = RecordingRender()
        (render.width, render.height) = (640, 360)
        render.effects = false
        for ((replay, recording), original) in zip(replays, failed) {
            let output = (recording as NSString).deletingPathExtension + ".mp4"
            let timeline = try RecordingTimeline(path: recording, robot: run.robot)
            let rendered = try render.render([("trial \(original.index)", timeline)], robot: run.robot, to: output)
            let same = replay.success == original.success && replay.failureMode == original.failureMode && abs(replay.seconds - original.seconds) < 1e-6
            var title = String(format: "Trial %d: %@ at %.2f s after %.2f m", original.index, original.failureMode, original.seconds, original.distance)
            // The parameters that go most with failure (the report's sensitivity ranking) first.
            let ranked = result.summary.sensitivity.map(\.parameter).filter { original.parameters[$0] != nil }
            let names = ranked + original.parameters.keys.sorted().filter { !ranked.contains($0) }
            let drawn = names.prefix(3).map { "\($0) \(String(format: "%.3g", original.parameters[$0]!))" }
            if !drawn.isEmpty { title += " (drawn: " + drawn.joined(separator: ", ") + (names.count > 3 ? ", …" : "") + ")" }
            if !same {
                title += String(format: "; the replay ended differently (%@ at %.2f s): the policy's engine or the model changed since the gate ran",
                                replay.failureMode, replay.seconds)
            }
            videos.append(ReportVideo(title: title, path: "\(name)/\((output as NSString).lastPathComponent)"))
            log("   trial \(original.index): \(output) (\(rendered.frames) frames; the replay \(same ? "ends as the gate's trial did" : "ends differently"))")
        }
    } catch {
        log("  (no video of the failed trials: \(error))")
    }
    if !videos.isEmpty { result.videos = videos }
}
