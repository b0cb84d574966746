import Foundation

/// An exclusive lock on one study in one workspace, held by the process that trains it (flock on
/// `locks/STUDY.lock`), so that two `repro run` never train the same study at once. The kernel
/// releases it when the process dies, however it dies.
public final class StudyLock {
    private let descriptor: Int32
    public let path: String

    /// Takes the lock; when another process holds it, calls `waiting` with that process's id once,
    /// then blocks until it is free.
    public init(workspace: URL, study: String, waiting: (Int32) -> Void) throws {
        let folder = workspace.appendingPathComponent("locks")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        path = folder.appendingPathComponent("\(study).lock").path
        descriptor = open(path, O_RDWR | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw StudyError(file: path, key: nil, problem: "cannot be opened (errno \(errno))") }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            waiting(StudyLock.holder(path))
            guard flock(descriptor, LOCK_EX) == 0 else {
                close(descriptor)
                throw StudyError(file: path, key: nil, problem: "cannot be locked (errno \(errno))")
            }
        }
        // Record the holder for anyone who has to wait.
        ftruncate(descriptor, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(descriptor, $0, strlen($0)) }
    }

    /// Whether some process holds the lock now (a probe that takes and releases it).
    public static func isHeld(workspace: URL, study: String) -> Bool {
        let path = workspace.appendingPathComponent("locks").appendingPathComponent("\(study).lock").path
        let descriptor = open(path, O_RDWR)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(descriptor, LOCK_UN)
        return false
    }

    /// The process id written by the holder, or 0.
    static func holder(_ path: String) -> Int32 {
        Int32((try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
