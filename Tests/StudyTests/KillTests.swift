import Foundation
import GRDB
import Logging
@testable import Pipeline
@testable import Study
import Testing

/// A real crash: `repro run` killed with SIGKILL in the middle of training, then run again.
@Suite(.serialized) struct KillTests {
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/repro")

    static let sources = binary.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    /// Fails unless `.build/debug/repro` exists and is newer than every file in Sources/: no test
    /// target depends on the executable, so `swift build --build-tests` followed by edits, or a
    /// `swift test` that built only the test targets, would otherwise test an old binary.
    static func requireFreshBinary() throws {
        let path = binary.path
        let built = try #require(try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date,
                                 "\(path) does not exist: run `swift build` first (make test does)")
        var newest: (date: Date, file: String)?
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: [.contentModificationDateKey, .isRegularFileKey]))
        for case let file as URL in files {
            let values = try file.resourceValues(forKeys: [.contentModificationDateKey, .isRegularFileKey])
            guard values.isRegularFile == true, let date = values.contentModificationDate else { continue }
            if date > newest?.date ?? .distantPast { newest = (date, file.path) }
        }
        let source = try #require(newest, "no source files under \(sources.path)")
        try #require(built >= source.date,
                     "\(path) is older than \(source.file): the binary these tests run is stale; run `swift build` first (make test does)")
    }

    /// Whether the kill ended the process (not the run ending by itself) before the store held the
    /// run as finished (a run file that ended but is not imported yet counts as killed mid-run: the
    /// next `repro run` must import it).
    static func killedMidRun(_ process: Process, workspace: URL, study: String) throws -> Bool {
        guard process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL else { return false }
        return try !storedFinished(workspace, study: study)
    }

    static func expectKilledMidRun(_ process: Process, workspace: URL, study: String) throws {
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL,
                "the run ended by itself (reason \(process.terminationReason.rawValue), status \(process.terminationStatus)), not by the kill")
        #expect(try !storedFinished(workspace, study: study), "the run had finished before the kill")
    }

    /// Whether the workspace's store holds a finished run of `study`.
    static func storedFinished(_ workspace: URL, study: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: workspace.appendingPathComponent("results.sqlite").path) else { return false }
        return try ResultsStore(workspace: workspace).latestRun(study: study)?.status == .finished
    }

    func repro(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = KillTests.binary
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Curve points the workspace's run files hold so far (0 before the first is written); a
    /// trainer writes its run file at every checkpoint and saved state.
    func storedSteps(_ workspace: URL) -> Int {
        let folders = (try? FileManager.default.contentsOfDirectory(at: workspace.appendingPathComponent("runs"), includingPropertiesForKeys: nil)) ?? []
        return folders.reduce(0) { count, folder in count + (((try? RunFile.read(RunFolder(url: folder))) ?? nil)?.curve.count ?? 0) }
    }

    @Test func aRunKilledMidTrainingResumesToTheSameResult() throws {
        try KillTests.requireFreshBinary()
        let study = tinyLanguageStudy.replacingOccurrences(of: "max_steps = 9", with: "max_steps = 40")
            .replacingOccurrences(of: "epochs = 1", with: "epochs = 3")
        let folder = try StudyFolder(["lm.toml": study])
        let killed = FileManager.default.temporaryDirectory.appendingPathComponent("kill-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let whole = killed.appendingPathExtension("whole")
        defer { for url in [killed, whole] { try? FileManager.default.removeItem(at: url) } }

        let first = try repro(["run", "--studies", folder.url.path, "--workspace", killed.path])
        let deadline = Date().addingTimeInterval(120)
        while storedSteps(killed) < 10 && first.isRunning && Date() < deadline { usleep(20_000) }
        try #require(first.isRunning, "the run ended before it could be killed")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        try KillTests.expectKilledMidRun(first, workspace: killed, study: "lm")
        let killedAt = storedSteps(killed)
        #expect(killedAt >= 10 && killedAt < 40)

        let catalog = try folder.load()
        let runner = try Runner(catalog: catalog, workspace: Workspace(killed), logger: .init(label: "test") { _ in SwiftLogNoOpLogHandler() })
        guard case .interrupted(let interrupted) = try runner.state(of: catalog.study(named: "lm")) else {
            Issue.record("a killed run shows as interrupted")
            return
        }
        for workspace in [killed, whole] {
            let process = try repro(["run", "--studies", folder.url.path, "--workspace", workspace.path])
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
        func results(_ workspace: URL) throws -> ([String: Double], [CurvePoint], Data) {
            let store = try ResultsStore(workspace: workspace)
            let run = try #require(try store.latestRun(study: "lm"))
            #expect(run.status == .finished)
            let metrics = Dictionary(uniqueKeysWithValues: try store.metrics(runId: run.id!).map { ("\($0.condition).\($0.name)", $0.value) })
            let weights = try Data(contentsOf: Workspace(workspace).runFolder(study: "lm", hash: run.hash).appendingPathComponent("model/model.safetensors"))
            #expect(try store.integrityCheck() == "ok")
            return (metrics, try store.curve(runId: run.id!).withoutRunId, weights)
        }
        // The same run continued (a fresh start would make a new run, with a key of its own, and the same numbers).
        #expect(try ResultsStore(workspace: killed).latestRun(study: "lm")?.key == interrupted.key)
        let (a, b) = (try results(killed), try results(whole))
        #expect(a.0 == b.0, "killed after \(killedAt) steps")
        // The whole curve: training loss, and the held-out and training-slice points (every 2 steps here).
        #expect(a.1 == b.1 && a.1.count == 40)
        #expect(a.1.filter { $0.evalLoss != nil && $0.trainEvalLoss != nil }.count == 20)
        #expect(a.2 == b.2)
    }

    @Test func twoRunsAtOnceTrainEachStudyOnce() throws {
        try KillTests.requireFreshBinary()
        let second = tinyLanguageStudy.replacingOccurrences(of: "learning_rate = 1e-2", with: "learning_rate = 2e-2")
        let folder = try StudyFolder(["lm.toml": tinyLanguageStudy, "lm2.toml": second])
        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("twice-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let processes = try (0..<2).map { _ in try repro(["run", "--studies", folder.url.path, "--workspace", workspace.path]) }
        for process in processes {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
        let store = try ResultsStore(workspace: workspace)
        for study in ["lm", "lm2"] {
            let queue = try DatabaseQueue(path: workspace.appendingPathComponent("results.sqlite").path)
            let runs = try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs WHERE study = ?", arguments: [study]) ?? 0 }
            #expect(runs == 1, "\(study) trained \(runs) times")
            #expect(try store.latestRun(study: study)?.status == .finished)
        }
        #expect(try store.integrityCheck() == "ok")
    }
}

extension [CurvePoint] {
    /// The points with their run id cleared, to compare the curves of two workspaces' runs.
    var withoutRunId: [CurvePoint] {
        map { point in
            var point = point
            point.runId = 0
            return point
        }
    }
}
