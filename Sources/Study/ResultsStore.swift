import Engine
import Foundation
import GRDB

/// One training (and evaluation) of one study.
public struct RunRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    public static let databaseTableName = "runs"
    public var id: Int64?
    public var study: String
    /// The resolved study's hash: the run is fresh while the study still hashes to it.
    public var hash: String
    public var profile: String
    /// The resolved study, data recipe and inputs as hashed (what `status --why` compares).
    public var canonical: String
    public var status: RunStatus
    public var startedAt: Date
    public var finishedAt: Date?
    public var seconds: Double?
    /// Provenance: the git commit, the engine, the BLAS kernel, the machine.
    public var commit: String
    public var engine: String
    public var blas: String
    public var machine: String
    /// The process training it, while it runs.
    public var pid: Int32
    public var error: String?
    /// JSON lists of the parameters loaded from the starting study and of those that started fresh.
    public var loadedTensors: String
    public var freshTensors: String
    /// Names the run across its resumes (its run file's), so that the store imports it once; nil
    /// for runs stored before run files.
    public var key: String? = nil

    /// Whether `other` ended as this run did (the store keeps dates to the millisecond, so not by date).
    func endsAs(_ other: RunRecord) -> Bool {
        status == other.status && seconds == other.seconds && error == other.error
    }

    mutating public func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The names in `loadedTensors` and `freshTensors` (empty for a list that does not read).
    public var tensors: (loaded: [String], fresh: [String]) {
        func names(_ json: String) -> [String] { (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? [] }
        return (names(loadedTensors), names(freshTensors))
    }
}

public enum RunStatus: String, Codable, Sendable, DatabaseValueConvertible {
    case running, finished, failed
}

/// One point of a loss curve.
public struct CurvePoint: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    public static let databaseTableName = "curve"
    public var runId: Int64
    /// Optimizer step.
    public var step: Int
    public var epoch: Double
    public var trainLoss: Double
    public var learningRate: Double
    /// The held-out loss at the curve's points (every `train.eval_every` steps, at checkpoints and
    /// at the last step), on the same held-out rows at every point; nil between them. (A checkpoint's
    /// own held-out loss, on `train.eval_samples` rows, is its `CheckpointRecord`'s.)
    public var evalLoss: Double?
    /// The loss of a fixed slice of the training rows (as many as `evalLoss` reads), in evaluation
    /// mode, at the same points; nil between them and in stores written before it was measured.
    public var trainEvalLoss: Double?

    public init(runId: Int64, step: Int, epoch: Double, trainLoss: Double, learningRate: Double, evalLoss: Double? = nil,
                trainEvalLoss: Double? = nil) {
        self.runId = runId
        self.step = step
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.learningRate = learningRate
        self.evalLoss = evalLoss
        self.trainEvalLoss = trainEvalLoss
    }
}

/// One number a run produced, under a condition (`image`, or `blind` for the blank-image control).
public struct MetricRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    public static let databaseTableName = "metrics"
    public var runId: Int64
    public var condition: String
    public var name: String
    public var value: Double

    public init(runId: Int64, condition: String, name: String, value: Double) {
        self.runId = runId
        self.condition = condition
        self.name = name
        self.value = value
    }
}

extension [MetricRecord] {
    /// The values measured under one condition (image or blind control), by metric name.
    public func values(_ condition: String) -> [String: Double] {
        Dictionary(filter { $0.condition == condition }.map { ($0.name, $0.value) }) { first, _ in first }
    }
}

/// A checkpoint file of a run.
public struct CheckpointRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    public static let databaseTableName = "checkpoints"
    public var runId: Int64
    public var step: Int
    /// Relative to the workspace.
    public var path: String
    public var sha256: String
    public var evalLoss: Double?
    public var best: Bool

    public init(runId: Int64, step: Int, path: String, sha256: String, evalLoss: Double?, best: Bool) {
        self.runId = runId
        self.step = step
        self.path = path
        self.sha256 = sha256
        self.evalLoss = evalLoss
        self.best = best
    }
}

/// A file made from a run (generations, MME result files, the final model).
public struct ArtifactRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    public static let databaseTableName = "artifacts"
    public var runId: Int64
    public var kind: String
    /// Relative to the workspace.
    public var path: String
    public var sha256: String

    public init(runId: Int64, kind: String, path: String, sha256: String) {
        self.runId = runId
        self.kind = kind
        self.path = path
        self.sha256 = sha256
    }
}

/// The results of every run, in SQLite (`results.sqlite` in the workspace). Every write is one
/// transaction: a crash leaves the store as it was before the write or after it.
public final class ResultsStore: Sendable {
    public let workspace: URL
    let database: DatabaseQueue

    /// The layout version of the store, the count of its migrations; a store with migrations this
    /// repro does not know is refused, not misread.
    public static let schemaVersion = 3

    /// Opens (and, unless `readOnly`, creates and migrates) the store of `workspace`. Read-only, it
    /// writes nothing, not even a new file: what only reads results (the report) opens it so.
    public init(workspace: URL, readOnly: Bool = false) throws {
        self.workspace = workspace
        let path = workspace.appendingPathComponent("results.sqlite").path
        if readOnly {
            guard FileManager.default.fileExists(atPath: path) else {
                throw StudyError(file: path, key: nil, problem: "does not exist; `repro run` makes it")
            }
        } else {
            // Not `existing`: opened read-only, a store an older repro wrote would be refused, not migrated.
            try Self.checkIsFolder(workspace)
            do {
                try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
            } catch {
                throw StudyError(file: workspace.path, key: nil, problem: "cannot be made as the workspace folder (\(FileProblem(error))); pass --workspace a folder you can write")
            }
        }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw StudyError(file: path, key: nil, problem: "is a folder, not the results store; move it aside (nothing was deleted) or pass --workspace another folder")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.readonly = readOnly
        let damaged = "is damaged; move it aside (nothing was deleted) and run again to recompute its results, or restore it from a copy"
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
            // A damaged file is found before anything is read from it or written to it.
            let check = try database.read { try String.fetchOne($0, sql: "PRAGMA quick_check") }
            guard check == "ok" else { throw StudyError(file: path, key: nil, problem: "\(damaged) (SQLite's check: \(check ?? "no answer"))") }
        } catch let error as DatabaseError where [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
            throw StudyError(file: path, key: nil, problem: "\(damaged) (SQLite: \(error.message ?? "\(error.resultCode)"))")
        } catch let error as DatabaseError where readOnly && error.resultCode == .SQLITE_READONLY {
            // A hot journal: a writer was stopped mid-transaction, and only a writer can roll it back.
            throw StudyError(file: path, key: nil, problem: "holds an unfinished write of a process that was stopped; `repro run` completes its rollback (nothing stored is lost), then this command reads it")
        } catch let error as DatabaseError {
            throw StudyError(file: path, key: nil, problem: "cannot be opened (SQLite: \(error.message ?? "\(error.resultCode)")); check that the workspace is readable\(readOnly ? "" : " and writable")")
        }
        let newer = "was written by a newer repro (its store has migrations this one does not know); use that version, or another workspace"
        if readOnly {
            guard try database.read({ try Self.migrator.hasCompletedMigrations($0) }) else {
                throw StudyError(file: path, key: nil, problem: "was written by an older repro or is incomplete; run `repro run` once to bring it up to date")
            }
            if try database.read({ try Self.migrator.hasBeenSuperseded($0) }) { throw StudyError(file: path, key: nil, problem: newer) }
            return
        }
        // Two processes opening a new workspace at once would both create the tables: one migrates at a time.
        let lock = open(workspace.appendingPathComponent("results.lock").path, O_RDWR | O_CREAT, 0o644)
        guard lock >= 0, flock(lock, LOCK_EX) == 0 else {
            throw StudyError(file: workspace.path, key: nil, problem: "cannot lock results.lock (errno \(errno))")
        }
        defer {
            flock(lock, LOCK_UN)
            close(lock)
        }
        if try database.read({ try Self.migrator.hasBeenSuperseded($0) }) {
            throw StudyError(file: path, key: nil, problem: newer)
        }
        try Self.migrator.migrate(database)
    }

    /// The store of `workspace` opened read-only, or nil when the workspace has none yet (nothing
    /// has run there); a workspace that is a file is named.
    public static func existing(workspace: URL) throws -> ResultsStore? {
        guard FileManager.default.fileExists(atPath: workspace.path) else { return nil }
        try checkIsFolder(workspace)
        guard FileManager.default.fileExists(atPath: workspace.appendingPathComponent("results.sqlite").path) else { return nil }
        return try ResultsStore(workspace: workspace, readOnly: true)
    }

    /// Names a workspace that is a file; one that does not exist yet is fine.
    private static func checkIsFolder(_ workspace: URL) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: workspace.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw StudyError(file: workspace.path, key: nil, problem: "is a file, not a workspace folder; pass --workspace a folder")
        }
    }

    /// The store's layout, one migration per change; a migration once released is never edited, so
    /// that every older store comes up to date.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("study", .text).notNull().indexed()
                t.column("hash", .text).notNull().indexed()
                t.column("profile", .text).notNull()
                t.column("canonical", .text).notNull()
                t.column("status", .text).notNull()
                t.column("startedAt", .datetime).notNull()
                t.column("finishedAt", .datetime)
                t.column("seconds", .double)
                t.column("commit", .text).notNull()
                t.column("engine", .text).notNull()
                t.column("blas", .text).notNull()
                t.column("machine", .text).notNull()
                t.column("pid", .integer).notNull()
                t.column("error", .text)
                t.column("loadedTensors", .text).notNull()
                t.column("freshTensors", .text).notNull()
            }
            try db.create(table: "curve") { t in
                t.column("runId", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("step", .integer).notNull()
                t.column("epoch", .double).notNull()
                t.column("trainLoss", .double).notNull()
                t.column("learningRate", .double).notNull()
                t.column("evalLoss", .double)
                t.primaryKey(["runId", "step"], onConflict: .replace)
            }
            try db.create(table: "metrics") { t in
                t.column("runId", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("condition", .text).notNull()
                t.column("name", .text).notNull()
                t.column("value", .double).notNull()
                t.primaryKey(["runId", "condition", "name"], onConflict: .replace)
            }
            try db.create(table: "checkpoints") { t in
                t.column("runId", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("step", .integer).notNull()
                t.column("path", .text).notNull()
                t.column("sha256", .text).notNull()
                t.column("evalLoss", .double)
                t.column("best", .boolean).notNull()
                t.primaryKey(["runId", "step"], onConflict: .replace)
            }
            try db.create(table: "artifacts") { t in
                t.column("runId", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("kind", .text).notNull()
                t.column("path", .text).notNull()
                t.column("sha256", .text).notNull()
                t.primaryKey(["runId", "kind"], onConflict: .replace)
            }
            try db.create(table: "store") { t in
                t.column("schemaVersion", .integer).notNull()
            }
            try db.execute(sql: "INSERT INTO store (schemaVersion) VALUES (?)", arguments: [ResultsStore.schemaVersion])
        }
        // The curve's training-slice loss; older runs keep NULL there.
        migrator.registerMigration("v2") { db in
            try db.alter(table: "curve") { t in t.add(column: "trainEvalLoss", .double) }
            try db.execute(sql: "UPDATE store SET schemaVersion = 2")
        }
        // The run file's key, by which a run is imported once; older runs keep NULL there.
        migrator.registerMigration("v3") { db in
            try db.alter(table: "runs") { t in t.add(column: "key", .text) }
            try db.create(index: "runs_key", on: "runs", columns: ["key"], unique: true)
            try db.execute(sql: "UPDATE store SET schemaVersion = 3")
        }
        return migrator
    }

    // MARK: Writing

    /// Copies a run that ended (finished or failed) from its run file into the store, in one
    /// transaction: the run, its curve, checkpoints, files and metrics. A run already stored with the
    /// same key and end is left as it is; one stored in an earlier state (failed, then resumed) is
    /// replaced under its id. Returns the stored record. The caller checks the files first
    /// (`RunFile.verifyFiles`).
    @discardableResult
    public func importRun(_ file: RunFile) throws -> RunRecord {
        precondition(file.run.status != .running && file.run.key != nil, "only a run that ended, with a key, is imported")
        return try database.write { db in
            var run = file.run
            if let stored = try RunRecord.filter(Column("key") == run.key).fetchOne(db) {
                if stored.endsAs(run) { return stored }
                run.id = stored.id
                for table in [CurvePoint.databaseTableName, CheckpointRecord.databaseTableName,
                              ArtifactRecord.databaseTableName, MetricRecord.databaseTableName] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE runId = ?", arguments: [stored.id])
                }
                try run.update(db)
            } else {
                run.id = nil
                run = try run.inserted(db)
            }
            let id = run.id!
            for var point in file.curve { point.runId = id; try point.insert(db) }
            for var checkpoint in file.checkpoints { checkpoint.runId = id; try checkpoint.insert(db) }
            for var artifact in file.artifacts { artifact.runId = id; try artifact.insert(db) }
            for var metric in file.metrics { metric.runId = id; try metric.insert(db) }
            return run
        }
    }

    /// Imports every run of the workspace's run folders that ended and that the store does not hold
    /// as it ended. Returns a line for each run that could not be imported (a damaged file); the
    /// others are imported all the same.
    public func importEndedRuns() throws -> [String] {
        let runs = workspace.appendingPathComponent("runs")
        guard let folders = try? FileManager.default.contentsOfDirectory(at: runs, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles])
        else { return [] }
        var problems: [String] = []
        for url in folders.sorted(by: { $0.path < $1.path }) {
            do {
                try importRun(in: RunFolder(url: url))
            } catch let error as StudyError {
                problems.append("\(error)")
            }
        }
        return problems
    }

    /// Imports the run of one run folder if it ended and the store does not hold it as it ended,
    /// after checking every file it recorded; returns the stored run, or nil when there was nothing
    /// to import. A marker beside the run file (the file's sha256) spares reading it again.
    @discardableResult
    public func importRun(in folder: RunFolder) throws -> RunRecord? {
        guard let bytes = try? Data(contentsOf: folder.runFile) else { return nil }
        let marker = folder.url.appendingPathComponent(".imported")
        let digest = sha256Hex(bytes)
        if (try? String(contentsOf: marker, encoding: .utf8)) == digest { return nil }
        let file = try RunFile.decode(bytes, path: folder.runFile.path)
        guard file.run.status != .running else { return nil }
        var stored: RunRecord?
        if try !hasImported(file.run) {
            try file.verifyFiles(workspace: Workspace(workspace))
            stored = try importRun(file)
        }
        try writeAtomically(Data(digest.utf8), to: marker)
        return stored
    }

    /// Whether the store holds `run` as it ended (by its key).
    public func hasImported(_ run: RunRecord) throws -> Bool {
        try database.read { db in try RunRecord.filter(Column("key") == run.key).fetchOne(db)?.endsAs(run) ?? false }
    }

    // MARK: Reading

    /// The newest run of a study with a given hash, finished or not.
    public func latestRun(study: String, hash: String? = nil) throws -> RunRecord? {
        try database.read { db in
            var request = RunRecord.filter(Column("study") == study)
            if let hash { request = request.filter(Column("hash") == hash) }
            return try request.order(Column("id").desc).fetchOne(db)
        }
    }

    public func run(id: Int64) throws -> RunRecord? {
        try database.read { db in try RunRecord.fetchOne(db, key: id) }
    }

    public func curve(runId: Int64) throws -> [CurvePoint] {
        try database.read { db in try CurvePoint.filter(Column("runId") == runId).order(Column("step")).fetchAll(db) }
    }

    public func metrics(runId: Int64) throws -> [MetricRecord] {
        try database.read { db in
            try MetricRecord.filter(Column("runId") == runId).order(Column("condition"), Column("name")).fetchAll(db)
        }
    }

    public func checkpoints(runId: Int64) throws -> [CheckpointRecord] {
        try database.read { db in try CheckpointRecord.filter(Column("runId") == runId).order(Column("step")).fetchAll(db) }
    }

    public func artifacts(runId: Int64) throws -> [ArtifactRecord] {
        try database.read { db in try ArtifactRecord.filter(Column("runId") == runId).order(Column("kind")).fetchAll(db) }
    }

    /// SQLite's own check of the file.
    public func integrityCheck() throws -> String {
        try database.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }
}
