import Engine
import Foundation

/// A run as its trainer keeps it in its run folder (`run.json`): the record, the loss curve, the
/// checkpoints, the files it made and, once it ends, its metrics.
///
/// Trainers never write the store. A run that ended reaches it one way, `ResultsStore.importRun`,
/// called by the process that started the trainers (or any later `repro` command), which checks
/// every file's sha256 on the way; so one process writes `results.sqlite` however many train, and
/// trainers on other machines never lock a database over a network filesystem, where SQLite's
/// locking is not safe.
public struct RunFile: Codable, Sendable, Equatable {
    /// The run; its `key` names it across resumes, and its id is the store's to give (nil here).
    public var run: RunRecord
    /// The records below carry run id 0 here; the store gives them the run's id.
    public var curve: [CurvePoint] = []
    public var checkpoints: [CheckpointRecord] = []
    public var artifacts: [ArtifactRecord] = []
    public var metrics: [MetricRecord] = []

    public init(run: RunRecord) { self.run = run }

    /// The run file of `folder`, or nil when it has none (a run stored before run files, or none yet).
    public static func read(_ folder: RunFolder) throws -> RunFile? {
        guard FileManager.default.fileExists(atPath: folder.runFile.path) else { return nil }
        return try decode(try Data(contentsOf: folder.runFile), path: folder.runFile.path)
    }

    /// A run file from its bytes; `path` names it in the error.
    public static func decode(_ bytes: Data, path: String) throws -> RunFile {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return try decoder.decode(RunFile.self, from: bytes)
        } catch let error as DecodingError {
            throw StudyError(file: path, key: nil, problem: "does not read as a run file (\(error)); delete its run folder and run the study again")
        }
    }

    /// Writes the file atomically: a crash leaves the previous version or this one.
    public func write(to folder: RunFolder) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // A NaN loss is recorded as such (the run fails on it); JSON has no number for it.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try writeAtomically(try encoder.encode(self), to: folder.runFile)
    }

    /// Names the first checkpoint or artifact whose bytes no longer match the sha256 recorded when it
    /// was written (a checkpoint file since deleted is not a result and is passed over).
    public func verifyFiles(workspace: Workspace) throws {
        for checkpoint in checkpoints where FileManager.default.fileExists(atPath: workspace.absolute(checkpoint.path).path) {
            try verifyRecorded(workspace.absolute(checkpoint.path), sha256: checkpoint.sha256, study: run.study)
        }
        for artifact in artifacts { try verifyRecorded(workspace.absolute(artifact.path), sha256: artifact.sha256, study: run.study) }
    }
}

/// Names the file and what to do unless `url` exists and its bytes match the sha256 recorded when
/// `study`'s run wrote it: a damaged result is never imported or trained on.
public func verifyRecorded(_ url: URL, sha256 expected: String, study: String) throws {
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw StudyError(file: url.path, key: nil, problem: "is missing although \(study) recorded it; run `repro run \(study) --force`")
    }
    guard try sha256(of: url) == expected else {
        throw StudyError(file: url.path, key: nil, problem: "does not match the sha256 recorded when \(study) finished: the file was damaged; run `repro run \(study) --force`")
    }
}

/// The run file of the run a trainer is making, kept in memory and written to its run folder
/// whenever the trainer saves its resume state (before it, so that a resumed run finds every
/// point up to its state) and when the run ends.
public final class RunRecorder: @unchecked Sendable {
    public let folder: RunFolder
    public private(set) var file: RunFile

    /// A new run, written at once so that its folder shows it started.
    public init(starting run: RunRecord, folder: RunFolder) throws {
        self.folder = folder
        var run = run
        run.key = run.key ?? UUID().uuidString
        file = RunFile(run: run)
        try save()
    }

    /// The run the folder's run file holds, continued by this process.
    public init(resuming folder: RunFolder) throws {
        guard let file = try RunFile.read(folder) else {
            throw StudyError(file: folder.runFile.path, key: nil,
                             problem: "is missing, so the run cannot resume; delete its run folder and run the study again")
        }
        self.folder = folder
        self.file = file
        self.file.run.status = .running
        self.file.run.pid = getpid()
        self.file.run.error = nil
        self.file.run.finishedAt = nil
        try save()
    }

    public var run: RunRecord { file.run }

    public func save() throws { try file.write(to: folder) }

    public func append(_ point: CurvePoint) { file.curve.append(point) }

    /// Drops the points after `step`: a resumed run makes them again.
    public func truncateCurve(after step: Int) {
        file.curve.removeAll { $0.step > step }
        file.checkpoints.removeAll { $0.step > step }
    }

    public func record(_ checkpoint: CheckpointRecord) {
        file.checkpoints.removeAll { $0.step == checkpoint.step }
        file.checkpoints.append(checkpoint)
    }

    /// Marks `step` as the kept checkpoint and the others not.
    public func markBest(step: Int) {
        for index in file.checkpoints.indices { file.checkpoints[index].best = file.checkpoints[index].step == step }
    }

    public func record(_ artifact: ArtifactRecord) {
        file.artifacts.removeAll { $0.kind == artifact.kind }
        file.artifacts.append(artifact)
    }

    /// Which tensors the run loaded from the studies it starts from and which started fresh.
    public func recordTensors(loaded: [String], fresh: [String]) throws {
        let encode = { (names: [String]) in String(decoding: try JSONEncoder().encode(names), as: UTF8.self) }
        file.run.loadedTensors = try encode(loaded)
        file.run.freshTensors = try encode(fresh)
    }

    /// Ends the run with its metrics and writes the file.
    public func finish(metrics: [MetricRecord], seconds: Double) throws {
        file.metrics = metrics
        file.run.status = .finished
        file.run.finishedAt = Date()
        file.run.seconds = seconds
        file.run.pid = 0
        try save()
    }

    /// Ends the run as failed, with why, and writes the file.
    public func fail(error: String) throws {
        file.run.status = .failed
        file.run.finishedAt = Date()
        file.run.error = error
        file.run.pid = 0
        try save()
    }
}
