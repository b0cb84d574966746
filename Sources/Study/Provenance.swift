import Engine
import Foundation

/// Where and with what a run was made: stored with every run, printed in the report.
public enum Provenance {
    /// The machine's cores, which a study with `threads = 0` takes all of.
    public static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// The git commit of the working tree (with "+dirty" when it has uncommitted changes), or "unknown".
    static let commit: String = {
        func git(_ arguments: [String]) -> String? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git"] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { return nil }
            return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let head = git(["rev-parse", "--short=12", "HEAD"]) else { return "unknown" }
        let dirty = !(git(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty
        return head + (dirty ? "+dirty" : "")
    }()

    static var machine: String { "\(BLASKernel.cpuModel()), \(cores) cores" }
    static var blas: String { "OpenBLAS \(BLASKernel.selection.coreName), \(BLAS.threads) thread\(BLAS.threads == 1 ? "" : "s")" }

    /// A run record for a study about to start.
    public static func newRun(study: ResolvedStudy, profile: String?) -> RunRecord {
        RunRecord(id: nil, study: study.name, hash: study.hash, profile: profile ?? "full", canonical: study.canonical,
                  status: .running, startedAt: Date(), finishedAt: nil, seconds: nil, commit: commit, engine: numericsVersion,
                  blas: blas, machine: machine, pid: getpid(), error: nil, loadedTensors: "[]", freshTensors: "[]")
    }
}
