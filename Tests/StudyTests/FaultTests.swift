import Foundation
@testable import Pipeline
@testable import Study
import Testing

/// A tiny instruct study: it trains, writes checkpoints, evaluates (test generations, the MME-style
/// benchmark and its blind control) and writes its results, so that kills land in every phase.
let tinyInstructStudy = tinyLanguageStudy.replacingOccurrences(of: "kind = \"language\"", with: "kind = \"instruct\"")
    .replacingOccurrences(of: "checkpoint_every = 4", with: "checkpoint_every = 3") + """

    [eval]
    max_new_tokens = 4
    test_samples = 4
    clip_study = ""
    """

/// SIGKILL at many moments of one run, each followed by a rerun: every rerun must end with the
/// numbers, weights, outputs and artifacts of a run never interrupted, and a sound database.
@Suite(.serialized) struct FaultTests {
    /// What a finished run left: metrics, training curve, the model's bytes, and every artifact's sha256.
    struct Outcome: Equatable {
        let metrics: [String: Double]
        let curve: [Double]
        let weights: Data
        let artifacts: [String: String]
    }

    static func outcome(_ workspace: URL) throws -> Outcome {
        let store = try ResultsStore(workspace: workspace)
        let run = try #require(try store.latestRun(study: "it"))
        #expect(run.status == .finished)
        #expect(try store.integrityCheck() == "ok")
        let artifacts = try store.artifacts(runId: run.id!).map { ($0.kind, $0.sha256) }
        return Outcome(
            metrics: Dictionary(uniqueKeysWithValues: try store.metrics(runId: run.id!).map { ("\($0.condition).\($0.name)", $0.value) }),
            curve: try store.curve(runId: run.id!).map(\.trainLoss),
            weights: try Data(contentsOf: Workspace(workspace).runFolder(study: "it", hash: run.hash).appendingPathComponent("model/model.safetensors")),
            artifacts: Dictionary(uniqueKeysWithValues: artifacts))
    }

    /// Where a killed run stood: curve points stored, and whether evaluation had begun.
    static func phase(_ workspace: URL, hash: String) -> String {
        let steps = KillTests().storedSteps(workspace)
        let outputs = Workspace(workspace).runFolder(study: "it", hash: hash).appendingPathComponent("outputs")
        if !((try? FileManager.default.contentsOfDirectory(atPath: outputs.path)) ?? []).isEmpty { return "evaluation (outputs being written)" }
        return steps == 0 ? "setup" : steps < 40 ? "training (\(steps) of 40 steps stored)" : "after training: the best checkpoint, the model, evaluation"
    }

    /// The uninterrupted run's outcome, and how long it went on after its last training step was
    /// stored (the best checkpoint, the saved model, evaluation), computed once.
    nonisolated(unsafe) static var reference: (folder: StudyFolder, outcome: Outcome, afterTraining: Double)?

    func referenceRun() throws -> (folder: StudyFolder, outcome: Outcome, afterTraining: Double) {
        if let reference = FaultTests.reference { return reference }
        // Longer than the runner tests' study, so that kills land in training and its checkpoint writes too.
        let folder = try StudyFolder(["it.toml": tinyInstructStudy.replacingOccurrences(of: "max_steps = 9", with: "max_steps = 40")
            .replacingOccurrences(of: "epochs = 1", with: "epochs = 2")])
        let whole = FileManager.default.temporaryDirectory.appendingPathComponent("whole-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: whole) }
        let process = try KillTests().repro(["run", "--studies", folder.url.path, "--workspace", whole.path])
        var trained: Date?
        while process.isRunning {
            if trained == nil && KillTests().storedSteps(whole) >= 40 { trained = Date() }
            usleep(2_000)
        }
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        let reference = (folder, try FaultTests.outcome(whole), Date().timeIntervalSince(trained ?? Date()))
        FaultTests.reference = reference
        return reference
    }

    /// Kill points by event: right after start (setup: data, tokenizer, store), after k training
    /// steps are stored (checkpoints are written every 3 steps, so some kills land in a checkpoint
    /// or state write), and some milliseconds after the last step (the best checkpoint, the saved
    /// model, evaluation, the final database write). Each case prints where it landed.
    @Test(arguments: ["setup:20", "steps:1", "steps:8", "steps:16", "steps:24", "steps:33", "steps:39",
                      "evaluation:0", "evaluation:40", "evaluation:120", "evaluation:300"])
    func aRunKilledAtAnyMomentResumesToTheSameResult(point: String) throws {
        try KillTests.requireFreshBinary()
        let (folder, expected, afterTraining) = try referenceRun()
        let killed = FileManager.default.temporaryDirectory.appendingPathComponent("killed-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: killed) }
        let hash = try folder.load().study(named: "it").hash
        let parts = point.split(separator: ":"), value = Int(parts[1])!

        // After training, at most half the time the reference run took from there, so that a faster
        // machine's run does not end before its kill; a kill that still lands after the run's last
        // database write (the process was exiting) tests nothing, so it is tried again, sooner.
        var delay = parts[0] == "steps" ? 0 : parts[0] == "evaluation" ? min(Double(value) / 1000, 0.5 * afterTraining) : Double(value) / 1000
        var first: Process
        var attempt = 0
        while true {
            first = try KillTests().repro(["run", "--studies", folder.url.path, "--workspace", killed.path])
            let deadline = Date().addingTimeInterval(120)
            func waitFor(_ condition: () -> Bool) { while first.isRunning && !condition() && Date() < deadline { usleep(2_000) } }
            switch parts[0] {
            case "steps": waitFor { KillTests().storedSteps(killed) >= value }
            case "evaluation": waitFor { KillTests().storedSteps(killed) >= 40 }
            default: break
            }
            usleep(UInt32(delay * 1_000_000))
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            attempt += 1
            if try KillTests.killedMidRun(first, workspace: killed, study: "it") || attempt == 3 { break }
            try? FileManager.default.removeItem(at: killed)
            delay /= 2
        }
        try KillTests.expectKilledMidRun(first, workspace: killed, study: "it")
        print("kill point \(point) (\(Int(delay * 1000)) ms): \(FaultTests.phase(killed, hash: hash))")

        let rerun = try KillTests().repro(["run", "--studies", folder.url.path, "--workspace", killed.path])
        rerun.waitUntilExit()
        #expect(rerun.terminationStatus == 0)
        let outcome = try FaultTests.outcome(killed)
        #expect(outcome.metrics == expected.metrics, "killed at \(point)")
        #expect(outcome.curve == expected.curve)
        #expect(outcome.weights == expected.weights)
        #expect(outcome.artifacts == expected.artifacts)
    }
}
