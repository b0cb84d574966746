import ArgumentParser
import Engine
import Foundation
import Pipeline
import Study

/// Where `repro run` trains: on this machine, or as one Slurm job per study. A profile's `[slurm]`
/// table sets the partition, time and further arguments; these options take precedence.
struct ExecutorOptions: ParsableArguments {
    enum Executor: String, ExpressibleByArgument, CaseIterable { case local, slurm }

    @Option(help: "local: train on this machine, in worker processes; slurm: submit one sbatch job per study.")
    var executor: Executor = .local
    @Option(help: ArgumentHelp("Slurm: the partition (default: the profile's [slurm] partition, else the cluster's default).", valueName: "name"))
    var partition: String?
    @Option(help: ArgumentHelp("Slurm: each job's time limit, as sbatch takes it (30, 1:00:00, 2-00).", valueName: "limit"))
    var time: String?
    @Option(help: ArgumentHelp("Slurm: further sbatch arguments, separated by spaces (\"--account=lab --qos=short\").", valueName: "arguments"))
    var sbatchArgs: String?
    @Flag(help: "Slurm: submit and return; `repro status` shows the jobs, and any later command imports their results.")
    var detach = false

    func validate() throws {
        if executor == .local, partition != nil || time != nil || sbatchArgs != nil || detach {
            throw ValidationError("--partition, --time, --sbatch-args and --detach go with --executor slurm")
        }
    }

    /// The profile's settings with these options over them.
    func settings(_ profile: ClusterSettings) -> ClusterSettings {
        ClusterSettings(partition: partition ?? profile.partition, time: time ?? profile.time,
                        sbatchArguments: sbatchArgs.map { $0.split(separator: " ").map(String.init) } ?? profile.sbatchArguments)
    }
}

/// `repro run --executor slurm`: every planned study becomes one `sbatch` job running `repro worker`
/// on it, after the jobs of the studies it starts from (`afterok`, cancelled when one of them fails).
/// The jobs write their runs into their run folders; `repro run` follows their logs for progress,
/// imports each run that ends (the one writer of the store) and names the studies that failed.
struct SlurmExecutor {
    let options: StudyOptions
    /// The studies `repro run` named: each job resolves the same catalog (the same --seeds) as it.
    let named: [String]
    let settings: ClusterSettings
    let runner: Runner

    /// One study's job, and where its log goes.
    struct Job {
        let study: ResolvedStudy
        let id: String
        let log: URL
    }

    /// Submits a job for each planned study that is not already queued, in dependency order; returns
    /// the jobs of every planned study (submitted now or before).
    func submit(_ planned: [(study: ResolvedStudy, forced: Bool)]) throws -> [Job] {
        let queued = try Slurm.jobs()
        let cpus = try Slurm.cpusPerNode(partition: settings.partition)
        for (study, _) in planned where study.threads > cpus.count {
            throw SlurmError("\(study.name) trains with \(study.threads) threads (train.threads), but the nodes of partition \(cpus.partition) have at most \(cpus.count) CPUs, so Slurm would keep its job pending forever; choose another --partition or lower train.threads")
        }
        var jobs: [String: Job] = [:]
        var tested = false
        for (study, forced) in planned {
            let folder = runner.folder(of: study)
            if let id = Slurm.submittedJob(folder), let state = queued[id], state.isQueued {
                jobs[study.name] = Job(study: study, id: id, log: folder.jobLog(id))
                Console.shared.line("\(study.name): already queued as job \(id) (\(state.description))")
                continue
            }
            try folder.create()
            let after = study.dependencies.compactMap { jobs[$0]?.id }
            var arguments = ["--parsable", "--job-name=\(study.name)", "--cpus-per-task=\(study.threads)",
                             "--output=\(folder.url.path)/\(RunFolder.jobFilePrefix)%j.log"]
            if let partition = settings.partition { arguments.append("--partition=\(partition)") }
            if let time = settings.time { arguments.append("--time=\(time)") }
            arguments += settings.sbatchArguments
            arguments += ["--wrap", try workerCommand(study, forced: forced)]
            // Slurm checks the partition, time and arguments once before anything is submitted.
            if !tested {
                _ = try Slurm.run("sbatch", ["--test-only"] + arguments)
                tested = true
            }
            if !after.isEmpty { arguments.insert(contentsOf: ["--dependency=afterok:\(after.joined(separator: ":"))", "--kill-on-invalid-dep=yes"], at: 0) }
            let id = String(try Slurm.run("sbatch", arguments).split(separator: ";").first ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard !id.isEmpty, id.allSatisfy(\.isNumber) else { throw SlurmError("sbatch gave no job id for \(study.name)") }
            try writeAtomically(Data("\(id)\n".utf8), to: folder.submittedJob)
            jobs[study.name] = Job(study: study, id: id, log: folder.jobLog(id))
            Console.shared.line("\(study.name): submitted as job \(id)" + (after.isEmpty ? "" : " (after job\(after.count == 1 ? "" : "s") \(after.joined(separator: ", ")))"))
        }
        return planned.compactMap { jobs[$0.study.name] }
    }

    /// The worker's command line (a local worker's, `--submitted`), each argument quoted for the job's shell.
    func workerCommand(_ study: ResolvedStudy, forced: Bool) throws -> String {
        let arguments = [StudyWorkers.program.path]
            + (try StudyWorkers.workerArguments(study.name, options: options, named: named, forced: forced, profileOps: runner.profileOps)) + ["--submitted"]
        return arguments.map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }.joined(separator: " ")
    }

    /// Waits for `jobs`: shows their progress from their logs, imports each run that ends, cancels
    /// the jobs that start from one that failed; returns the studies that failed or were cancelled.
    func watch(_ jobs: [Job]) throws -> [String] {
        var waiting = jobs
        var logs = Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, LogFollower(url: $0.log)) })
        var failures: [String] = []
        while !waiting.isEmpty {
            let states = try Slurm.jobs()
            for job in waiting { logs[job.id]!.follow() }
            for job in waiting where waiting.contains(where: { $0.id == job.id }) {
                // A job Slurm no longer lists has ended (it forgets finished jobs after MinJobAge).
                let state = states[job.id]
                if state?.isQueued == true { continue }
                waiting.removeAll { $0.id == job.id }
                Console.shared.finished(job.study.name)
                let run = try? RunFile.read(runner.folder(of: job.study))
                if run?.run.status == .finished && (state == nil || state!.state == "COMPLETED") {
                    try runner.importRun(of: job.study)
                    continue
                }
                _ = try? runner.importRun(of: job.study)
                let dependents = waiting.filter { Self.startsFrom(job.study.name, $0.study, among: jobs) }
                if !dependents.isEmpty { _ = try? Slurm.run("scancel", dependents.map(\.id)) }
                waiting.removeAll { candidate in dependents.contains { $0.id == candidate.id } }
                failures += [job.study.name] + dependents.map(\.study.name)
                let skipped = dependents.isEmpty ? "" : "; cancelled, as they start from it: \(dependents.map(\.study.name).joined(separator: ", "))"
                Console.shared.line("error: \(job.study.name): job \(job.id) \(Self.failure(state, log: job.log, lastLine: logs[job.id]!.lastLine))\(skipped)")
            }
            if !waiting.isEmpty { usleep(1_000_000) }
        }
        return failures
    }

    /// Whether `study` starts, directly or through others of `jobs`, from the study named `name`.
    static func startsFrom(_ name: String, _ study: ResolvedStudy, among jobs: [Job]) -> Bool {
        study.dependencies.contains { input in
            input == name || (jobs.first { $0.study.name == input }.map { startsFrom(name, $0.study, among: jobs) } ?? false)
        }
    }

    /// How a job ended that did not leave a finished run.
    static func failure(_ state: Slurm.JobState?, log: URL, lastLine: String?) -> String {
        let resumes = "its run resumes from its last saved state when submitted again"
        switch state?.state {
        case "CANCELLED": return "was cancelled; \(resumes)"
        case "TIMEOUT": return "reached its time limit (--time); \(resumes)"
        case "FAILED" where !FileManager.default.fileExists(atPath: log.path):
            return "failed at launch: its log \(log.path) could not be written on the node; every node must see the workspace at the same path"
        default:
            return "ended without a finished run" + (state.map { " (Slurm: \($0.description))" } ?? "")
                + (lastLine.map { ": \($0)" } ?? "") + " (log: \(log.path))"
        }
    }
}

/// Reads a job's log as it grows: progress lines feed the bar, the others are printed.
private struct LogFollower {
    let url: URL
    private var offset: UInt64 = 0
    private var partial = Data()
    /// The last line that was not progress: what a failed job said last.
    private(set) var lastLine: String?

    init(url: URL) { self.url = url }

    mutating func follow() {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd(), !data.isEmpty else { return }
        offset += UInt64(data.count)
        partial.append(data)
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: partial[partial.startIndex..<newline], as: UTF8.self)
            partial.removeSubrange(partial.startIndex...newline)
            if !StudyWorkers.show(line) && !line.isEmpty { lastLine = line }
        }
    }
}

/// Slurm's client commands, run and read.
enum Slurm {
    /// A job as `squeue` lists it.
    struct JobState: Equatable {
        let state: String
        let reason: String

        /// Waiting or running: not ended.
        var isQueued: Bool { ["PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"].contains(state) }
        var description: String { state.lowercased() + (reason.isEmpty || reason == "None" ? "" : ", \(reason)") }
    }

    /// Runs a Slurm command and returns its standard output; one line naming the command and what
    /// it said when it fails.
    static func run(_ command: String, _ arguments: [String]) throws -> String {
        guard let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .map({ "\($0)/\(command)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw SlurmError("\(command) is not on the PATH: --executor slurm needs Slurm's client commands on this machine (Debian: apt-get install slurm-client) and a cluster they reach")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Both pipes are read to their end before waiting, so that neither fills and blocks the command.
        let group = DispatchGroup()
        nonisolated(unsafe) var errorText = Data()
        DispatchQueue.global().async(group: group) { errorText = errors.fileHandleForReading.readDataToEndOfFile() }
        let text = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let said = String(decoding: errorText, as: UTF8.self).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            throw SlurmError("\(command) failed: " + (said.isEmpty ? "exit status \(process.terminationStatus)" : said.joined(separator: "; "))
                             + (said.contains { $0.contains("Unable to contact slurm controller") }
                                ? " (is slurmctld running, and does SLURM_CONF name its slurm.conf?)" : ""))
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// This user's jobs that Slurm still lists, by id (finished ones for a while after they end).
    static func jobs() throws -> [String: JobState] {
        let lines = try run("squeue", ["--noheader", "--states=all", "--user=\(NSUserName())", "--format=%i|%T|%r"]).split(separator: "\n")
        return Dictionary(lines.compactMap { line in
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return fields.count == 3 ? (fields[0], JobState(state: fields[1], reason: fields[2])) : nil
        }) { first, _ in first }
    }

    /// The CPUs of the partition's largest node (its name, and the cluster's default partition when nil).
    static func cpusPerNode(partition: String?) throws -> (partition: String, count: Int) {
        let rows = try run("sinfo", ["--noheader", "--format=%P|%c"]).split(separator: "\n").map { $0.split(separator: "|").map(String.init) }
        let partitions = rows.filter { $0.count == 2 }.map { (name: $0[0], cpus: Int($0[1].filter(\.isNumber)) ?? 0) }
        let chosen = partition.map { name in partitions.filter { $0.name == name || $0.name == name + "*" } } ?? partitions.filter { $0.name.hasSuffix("*") }
        guard let first = chosen.first else {
            let names = Set(partitions.map { $0.name.replacingOccurrences(of: "*", with: "") }).sorted().joined(separator: ", ")
            throw SlurmError(partition.map { "no partition \($0) on this cluster (partitions: \(names)); pass --partition one of them" }
                             ?? "the cluster has no default partition; pass --partition (partitions: \(names))")
        }
        return (first.name.replacingOccurrences(of: "*", with: ""), chosen.map(\.cpus).max() ?? first.cpus)
    }

    /// The id of the job submitted last for a run folder, if any.
    static func submittedJob(_ folder: RunFolder) -> String? {
        (try? String(contentsOf: folder.submittedJob, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A problem with Slurm or a cluster, said in one line.
struct SlurmError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
