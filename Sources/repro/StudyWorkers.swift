import Foundation
import Pipeline
import Study

/// Trains studies side by side, each in a child process of this program (`repro worker STUDY`):
/// OpenBLAS's thread count is one per process, and a study's numbers depend on it, so each study
/// gets the threads its file sets whatever else is training.
struct StudyWorkers {
    let options: StudyOptions
    /// The studies `repro run` named: each worker resolves the same catalog (the same --seeds) as it.
    let named: [String]
    let jobs: Int
    /// Whether each worker writes its training loop's profile (`repro run --profile-ops`).
    let profileOps: Bool

    /// Trains `planned`, each after the studies it starts from, the longest by `estimate` first among
    /// those ready, and calls `ended` on each study whose worker ended (to import its run); returns
    /// the studies that failed (the others still ran).
    func run(_ planned: [(study: ResolvedStudy, forced: Bool)], estimate: @escaping (ResolvedStudy) -> Double,
             ended imported: (ResolvedStudy) throws -> Void) throws -> [String] {
        var schedule = StudySchedule(planned.map(\.study), cores: Provenance.cores, jobs: jobs, estimate: estimate)
        let forced = Set(planned.filter(\.forced).map(\.study.name))
        let ended = EndedQueue()
        var failures: [String] = []
        while !schedule.isDone {
            while let study = schedule.start() {
                try launch(study.name, forced: forced.contains(study.name), threads: schedule.running[study.name]!, ended: ended)
            }
            var (name, problem) = ended.next()
            Console.shared.finished(name)
            if let study = planned.first(where: { $0.study.name == name })?.study {
                do { try imported(study) } catch { problem = problem ?? "ended, but its run could not be imported: \(error)" }
            }
            let dropped = schedule.finish(name, succeeded: problem == nil)
            if let problem {
                failures.append(name)
                let skipped = dropped.isEmpty ? "" : "; not run, as they start from it: \(dropped.joined(separator: ", "))"
                Console.shared.line("error: \(name): its worker \(problem)\(skipped)")
            }
        }
        return failures
    }

    /// Starts one worker; its progress (JSON lines) feeds the bar, its log lines are printed above
    /// it, and its exit status goes to `ended` once its output is read to the end.
    private func launch(_ study: String, forced: Bool, threads: Int, ended: EndedQueue) throws {
        let process = Process()
        process.executableURL = StudyWorkers.program
        process.arguments = try Self.workerArguments(study, options: options, named: named, forced: forced, profileOps: profileOps)
        // One pipe for both streams keeps the worker's log lines and progress in the order written.
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let read = DispatchGroup()
        read.enter()
        DispatchQueue.global().async {
            var buffer = Data()
            while case let chunk = output.fileHandleForReading.availableData, !chunk.isEmpty {
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    Self.show(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
            }
            if !buffer.isEmpty { Self.show(String(decoding: buffer, as: UTF8.self)) }
            read.leave()
        }
        // Not waitUntilExit on a worker thread: corelibs Foundation polls a run loop there, a core's worth of spinning.
        process.terminationHandler = { process in
            let problem = process.terminationReason == .uncaughtSignal ? "was killed by signal \(process.terminationStatus)"
                : process.terminationStatus == 0 ? nil : "exited with status \(process.terminationStatus)"
            DispatchQueue.global().async {
                read.wait()
                ended.post(study, problem)
            }
        }
        try process.run()
        Console.shared.line("\(study): started in a worker (\(threads) thread\(threads == 1 ? "" : "s"))")
    }
}

extension StudyWorkers {
    /// This program, which each worker runs.
    static var program: URL { Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]) }

    /// The arguments of `repro worker` for `study`: the same studies, profile, seeds and workspace as
    /// the `repro run` that starts it, so that it resolves the same catalog.
    static func workerArguments(_ study: String, options: StudyOptions, named: [String], forced: Bool, profileOps: Bool) throws -> [String] {
        var arguments = ["worker", study, "--studies", try options.project.studiesFolder.path, "--workspace", try options.workspaceFolder.path]
        if let profile = options.profile { arguments += ["--profile", profile] }
        if let seeds = options.project.seeds { arguments += ["--seeds", seeds] }
        arguments += named.flatMap { ["--named", $0] }
        if forced { arguments.append("--force") }
        if profileOps { arguments.append("--profile-ops") }
        return arguments
    }

    /// A worker's line: progress for the bar (then true), anything else printed as it is.
    @discardableResult
    static func show(_ line: String) -> Bool {
        if line.hasPrefix("{"), let progress = try? JSONDecoder().decode(TrainingProgress.self, from: Data(line.utf8)) {
            Console.shared.progress(progress)
            return true
        }
        Console.shared.line(line)
        return false
    }
}

/// Workers' exits, in the order they happen, for the scheduler to wait on.
private final class EndedQueue: @unchecked Sendable {
    /// Each worker's study and, when it failed, how.
    private var ended: [(String, String?)] = []
    private let lock = NSLock()
    private let available = DispatchSemaphore(value: 0)

    func post(_ study: String, _ problem: String?) {
        lock.withLock { ended.append((study, problem)) }
        available.signal()
    }

    func next() -> (String, String?) {
        available.wait()
        return lock.withLock { ended.removeFirst() }
    }
}
