import Foundation
import GRDB
@testable import Pipeline
@testable import Study
import Testing

@Suite struct ResultsStoreTests {
    /// A damaged store and one written by a newer repro are refused at open, with what to do; the file stays.
    @Test func aDamagedOrNewerStoreIsFoundBeforeUse() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("results.sqlite").path
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        let damaged = "is damaged; move it aside (nothing was deleted) and run again to recompute its results, or restore it from a copy"
        #expect {
            _ = try ResultsStore(workspace: folder)
        } throws: { error in
            let problem = (error as? StudyError)?.problem ?? "\(error)"
            return (error as? StudyError)?.file == path && problem.hasPrefix(damaged + " (SQLite: ")
        }
        #expect(FileManager.default.fileExists(atPath: path))

        try FileManager.default.removeItem(atPath: path)
        _ = try ResultsStore(workspace: folder)
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')") }
        #expect(throws: StudyError(file: path, key: nil, problem: "was written by a newer repro (its store has migrations this one does not know); use that version, or another workspace")) {
            _ = try ResultsStore(workspace: folder)
        }
    }

    /// A store written before the curve had its training-slice column (migration v1 only) opens,
    /// migrates, and keeps its runs: their curve points read with no training-slice loss. Opened
    /// read-only before that (by the report), it asks for a run to bring it up to date.
    @Test func aVersionOneStoreMigrates() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("results.sqlite").path
        do {
            let old = try DatabaseQueue(path: path)
            try ResultsStore.migrator.migrate(old, upTo: "v1")
            try old.write { db in
                // As the older repro wrote them: layout 1, a run, a curve without the new column.
                try db.execute(sql: "UPDATE store SET schemaVersion = 1")
                try db.execute(sql: """
                    INSERT INTO runs (study, hash, profile, canonical, status, startedAt, "commit", engine, blas, machine, pid, loadedTensors, freshTensors)
                    VALUES ('exp09', 'abc', '', '{}', 'finished', '2026-01-01 00:00:00.000', 'c0ffee', 'engine-1', 'OpenBLAS', 'test', 0, '[]', '[]')
                    """)
                try db.execute(sql: "INSERT INTO curve (runId, step, epoch, trainLoss, learningRate, evalLoss) VALUES (1, 1, 0.1, 2.5, 0.0001, NULL), (1, 2, 0.2, 2.0, 0.0001, 2.2)")
            }
            #expect(try old.read { db in try db.columns(in: "curve").map(\.name) }.contains("trainEvalLoss") == false)
        }
        #expect(throws: StudyError(file: path, key: nil, problem: "was written by an older repro or is incomplete; run `repro run` once to bring it up to date")) {
            _ = try ResultsStore(workspace: folder, readOnly: true)
        }

        let store = try ResultsStore(workspace: folder)
        #expect(try store.curve(runId: 1) == [CurvePoint(runId: 1, step: 1, epoch: 0.1, trainLoss: 2.5, learningRate: 1e-4),
                                              CurvePoint(runId: 1, step: 2, epoch: 0.2, trainLoss: 2.0, learningRate: 1e-4, evalLoss: 2.2)])
        #expect(try store.latestRun(study: "exp09")?.commit == "c0ffee" && store.latestRun(study: "exp09")?.key == nil)
        var file = RunFile(run: Self.run(status: .finished))
        file.curve = [CurvePoint(runId: 0, step: 3, epoch: 0.3, trainLoss: 1.5, learningRate: 1e-4, evalLoss: 2.1, trainEvalLoss: 1.4)]
        let imported = try store.importRun(file)
        #expect(imported.id == 2)
        #expect(try store.curve(runId: 2).last?.trainEvalLoss == 1.4)
        let queue = try DatabaseQueue(path: path)
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT schemaVersion FROM store") } == ResultsStore.schemaVersion)
        #expect(try queue.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") } == ["v1", "v2", "v3"])
        // Read-only, the migrated store opens.
        _ = try ResultsStore(workspace: folder, readOnly: true)
    }

    /// The digest that names checkpoints and artifacts is SHA-256 (FIPS 180-2's test vectors).
    @Test func sha256MatchesTheStandardsVectors() {
        #expect(sha256Hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    static func run(status: RunStatus, key: String = "run-key", error: String? = nil) -> RunRecord {
        RunRecord(id: nil, study: "exp03", hash: "abc", profile: "full", canonical: "{}", status: status,
                  startedAt: Date(timeIntervalSince1970: 1_000_000), finishedAt: Date(timeIntervalSince1970: 1_000_100),
                  seconds: status == .finished ? 12.5 : nil, commit: "c0ffee", engine: "engine-1", blas: "OpenBLAS Zen",
                  machine: "test", pid: 0, error: error, loadedTensors: #"["a"]"#, freshTensors: #"["b","c"]"#, key: key)
    }

    /// A run file imported into the store reads back record by record, with the store's run id.
    @Test func everyRecordRoundTrips() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try ResultsStore(workspace: folder)
        var file = RunFile(run: Self.run(status: .finished))
        file.curve = [CurvePoint(runId: 0, step: 1, epoch: 0.1, trainLoss: 2.5, learningRate: 1e-4),
                      CurvePoint(runId: 0, step: 2, epoch: 0.2, trainLoss: 2.0, learningRate: 1e-4, evalLoss: 2.2, trainEvalLoss: 1.9)]
        file.checkpoints = [CheckpointRecord(runId: 0, step: 2, path: "runs/x/step-2", sha256: "ff", evalLoss: 2.2, best: true)]
        file.artifacts = [ArtifactRecord(runId: 0, kind: "model", path: "runs/x/model", sha256: "ee")]
        file.metrics = [MetricRecord(runId: 0, condition: "image", name: "rouge1", value: 0.25),
                        MetricRecord(runId: 0, condition: "blind", name: "rouge1", value: 0.125)]
        let id = try #require(try store.importRun(file).id)

        let reopened = try ResultsStore(workspace: folder)
        let stored = try #require(try reopened.latestRun(study: "exp03", hash: "abc"))
        #expect(stored.status == .finished && stored.seconds == 12.5 && stored.pid == 0 && stored.commit == "c0ffee" && stored.key == "run-key")
        #expect(stored.loadedTensors == #"["a"]"# && stored.freshTensors == #"["b","c"]"#)
        func withId<T>(_ records: [T], _ set: (inout T) -> Void) -> [T] { records.map { var record = $0; set(&record); return record } }
        #expect(try reopened.curve(runId: id) == withId(file.curve) { $0.runId = id })
        #expect(try reopened.metrics(runId: id).sorted { $0.condition < $1.condition } == withId(file.metrics) { $0.runId = id }.sorted { $0.condition < $1.condition })
        #expect(try reopened.checkpoints(runId: id) == withId(file.checkpoints) { $0.runId = id })
        #expect(try reopened.artifacts(runId: id).map(\.kind) == ["model"])
        #expect(try reopened.latestRun(study: "exp03", hash: "other") == nil)
        #expect(try reopened.integrityCheck() == "ok")
    }

    /// The same run is imported once; a run that failed, was resumed and finished replaces its
    /// failed record under the same id, without the failed attempt's rows.
    @Test func aRunIsImportedOnceAndItsLaterEndReplacesAnEarlierOne() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try ResultsStore(workspace: folder)
        var failed = RunFile(run: Self.run(status: .failed, error: "out of memory"))
        failed.curve = [CurvePoint(runId: 0, step: 1, epoch: 0.1, trainLoss: 2.5, learningRate: 1e-4)]
        let first = try store.importRun(failed)
        #expect(try store.importRun(failed) == first)
        #expect(try store.hasImported(failed.run))
        var finished = RunFile(run: Self.run(status: .finished))
        finished.curve = [CurvePoint(runId: 0, step: 2, epoch: 0.2, trainLoss: 2.0, learningRate: 1e-4)]
        #expect(try !store.hasImported(finished.run))
        let second = try store.importRun(finished)
        #expect(second.id == first.id && second.status == .finished && second.error == nil)
        #expect(try store.curve(runId: second.id!).map(\.step) == [2])
        let queue = try DatabaseQueue(path: folder.appendingPathComponent("results.sqlite").path)
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs") } == 1)
    }
}
