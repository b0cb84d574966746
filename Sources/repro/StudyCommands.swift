import ArgumentParser
import Data
import Foundation
import Pipeline
import Study

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Lists the studies, in the order they run, with what each starts from.")

    @OptionGroup var options: StudyOptions

    func run() throws {
        let catalog = try options.catalog()
        let width = catalog.studies.map(\.name.count).max() ?? 0
        let sources = catalog.studies.map { $0.spec.startsFrom.map { "from \($0)" } ?? "fresh weights" }
        let sourceWidth = sources.map(\.count).max() ?? 0
        for (study, from) in zip(catalog.studies, sources) {
            print("\(study.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(study.spec.kind.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(from.padding(toLength: sourceWidth, withPad: " ", startingAt: 0))  \(study.spec.description)")
        }
    }
}

extension StudyOptions {
    func runner(named: [String] = [], progress: Bool = true) throws -> Runner {
        try Runner(catalog: try catalog(named: named), workspace: Workspace(try workspaceFolder), logger: ConsoleLogHandler.logger(),
                   progress: progress ? { Console.shared.progress($0) } : { _ in })
    }

    /// The state of each study, once the runs that ended are imported.
    func states(_ studies: [ResolvedStudy]) throws -> [StudyState] {
        let workspace = Workspace(try workspaceFolder)
        let store = try importedStore()
        return try studies.map { try StudyState.of($0, workspace: workspace, store: store) }
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Trains and evaluates studies that are not fresh, with what they start from first.",
        discussion: """
            A study is named by its file name or a unique prefix (exp03); no name means every \
            study. A study whose stored result matches its current configuration is skipped; an \
            interrupted run resumes from its last saved state. Results go to the workspace's database.

            A study computes with the threads its file sets (train.threads; 0: every core), so \
            that its numbers are the same however it is run. Studies that take fewer threads than \
            the machine has cores (the paper's experiments take one) train side by side, each in \
            a process of its own, once the studies they start from are done.
            """)

    @OptionGroup var options: StudyOptions
    @OptionGroup(title: "Executor") var execution: ExecutorOptions
    @Argument(help: "Studies to run (file name or unique prefix); all when none.") var studies: [String] = []
    @Flag(help: "Recompute the named studies (all, with no name) even when fresh.") var force = false
    @Flag(help: "Say what would run and why, without training.") var dryRun = false
    @Option(help: "Studies training at once, at most (default: the machine's cores; 1: one after another).")
    var jobs = Provenance.cores
    @Flag(help: "Also write where each run's training loop spends its time, per op and sgemm shape, to profile.txt in its run folder (the numbers stay the same).")
    var profileOps = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs \(jobs) must be at least 1") }
    }

    func run() throws {
        if dryRun {
            let catalog = try options.catalog(named: studies)
            let targets = studies.isEmpty ? catalog.studies : try catalog.closure(of: studies)
            for (study, state) in zip(targets, try options.states(targets)) {
                if case .fresh = state, !force { print("\(study.name): fresh, would skip") } else { print("\(study.name): would train (\(describe(state)))") }
            }
            return
        }
        let runner = try options.runner(named: studies)
        runner.profileOps = profileOps
        let planned = try runner.plan(studies, force: force)
        if planned.isEmpty { return print("Nothing to train: every study is fresh.") }
        if execution.executor == .slurm {
            let executor = SlurmExecutor(options: options, named: studies, settings: execution.settings(runner.catalog.cluster), runner: runner)
            let jobs = try executor.submit(planned)
            if execution.detach {
                return print("\(jobs.count) job\(jobs.count == 1 ? "" : "s") on Slurm; `repro status` shows them, and any later repro command imports the runs they finish.")
            }
            let failures = try executor.watch(jobs)
            if !failures.isEmpty { throw StudiesFailed(failed: failures, of: planned.count) }
            return
        }
        // Side by side only pays when some study leaves a core free.
        guard jobs > 1, planned.count > 1, planned.contains(where: { $0.study.threads < Provenance.cores }) else {
            for (study, forced) in planned {
                try runner.train(study, forced: forced)
                Console.shared.finished(study.name)
            }
            return
        }
        // How long each took last time (any configuration), so that the longest start first.
        let failures = try StudyWorkers(options: options, named: studies, jobs: jobs, profileOps: profileOps).run(planned) { study in
            (try? runner.store?.latestRun(study: study.name)?.seconds) ?? 0
        } ended: { study in
            try runner.importRun(of: study)
        }
        if !failures.isEmpty { throw StudiesFailed(failed: failures, of: planned.count) }
    }

}

/// One study whose inputs are fresh, trained in a process of its own for `repro run` (`StudyWorkers`
/// starts it): its progress goes to standard output as JSON lines among its log lines.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Trains one study for `repro run` (started by it, not by hand).", shouldDisplay: false)

    @OptionGroup var options: StudyOptions
    @Argument(help: "The study to train.") var study: String
    @Flag(help: "Recompute it even when fresh.") var force = false
    @Option(help: "The studies `repro run` named, to which its --seeds applied (the same catalog as it had).") var named: [String] = []
    @Flag(help: "Submitted as a cluster job, whose run folder the submitting machine made.") var submitted = false
    @Flag(help: "Write where the training loop spends its time to profile.txt in the run folder.") var profileOps = false

    func run() throws {
        let catalog = try options.catalog(named: named)
        let workspace = Workspace(try options.workspaceFolder)
        if submitted {
            let trained = try catalog.study(named: study)
            let folder = workspace.runFolder(study: trained.name, hash: trained.hash)
            guard FileManager.default.fileExists(atPath: folder.path) else {
                throw SlurmError("\(folder.path) does not exist on \(ProcessInfo.processInfo.hostName), though repro run made it before submitting the job: every node must see the workspace at the same path")
            }
        }
        let encoder = JSONEncoder()
        // A worker never writes the store: `repro run` imports its run when it ends.
        let runner = try Runner(catalog: catalog, workspace: workspace, logger: ConsoleLogHandler.logger(), imports: false) { progress in
            FileHandle.standardOutput.write(try encoder.encode(progress) + Data("\n".utf8))
        }
        runner.profileOps = profileOps
        try runner.trainAlone(study, force: force)
    }
}

/// The end of a `repro run` some of whose workers failed (a runtime failure: no usage text).
struct StudiesFailed: Error, CustomStringConvertible {
    let failed: [String]
    let of: Int

    var description: String { "\(failed.count) of \(of) studies failed: \(failed.joined(separator: ", ")) (their errors are above)" }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Shows each study: fresh, stale (and why), missing, running, interrupted or failed.")

    @OptionGroup var options: StudyOptions
    @Flag(help: "Say what changed for each stale study.") var why = false

    func run() throws {
        let catalog = try options.catalog()
        let width = catalog.studies.map(\.name.count).max() ?? 0
        let workspace = Workspace(try options.workspaceFolder)
        let folders = catalog.studies.map { RunFolder(url: workspace.runFolder(study: $0.name, hash: $0.hash)) }
        // Slurm is asked only when some study was submitted to it.
        let jobs = folders.contains { Slurm.submittedJob($0) != nil } ? try Slurm.jobs() : [:]
        for (study, (state, folder)) in zip(catalog.studies, zip(try options.states(catalog.studies), folders)) {
            var job = ""
            if case .fresh = state {} else if let id = Slurm.submittedJob(folder), let listed = jobs[id] { job = "; Slurm job \(id): \(listed.description)" }
            print("\(study.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(describe(state))\(job)")
            if why, case .stale(let reasons) = state {
                for reason in reasons.prefix(12) { print("    \(reason)") }
                if reasons.count > 12 { print("    ... and \(reasons.count - 12) more") }
            }
        }
    }
}

/// At most about `limit` of a curve's held-out points, evenly spaced, always with the lowest held-out
/// loss, the last point and the steps in `keeping` (the checkpoints).
func condensed(_ points: [CurvePoint], keeping: Set<Int>, limit: Int = 20) -> [CurvePoint] {
    guard points.count > limit + limit / 4 else { return points }
    let every = (points.count + limit - 1) / limit
    let lowest = points.filter { $0.evalLoss != nil }.min { $0.evalLoss! < $1.evalLoss! }?.step
    return points.enumerated().filter { index, point in
        (index + 1) % every == 0 || index == points.count - 1 || point.step == lowest || keeping.contains(point.step)
    }.map(\.element)
}

/// One line for a study's state.
func describe(_ state: StudyState) -> String {
    switch state {
    case .fresh(let run): return String(format: "fresh (%.0f s, %@)", run.seconds ?? 0, run.commit)
    case .stale(let reasons): return "stale: \(reasons.count) change\(reasons.count == 1 ? "" : "s") since the last run" + (reasons.first.map { " (\($0))" } ?? "")
    case .missing: return "missing"
    case .running(let run): return "running (process \(run.pid))"
    case .interrupted: return "interrupted (resumes on the next run)"
    case .failed(let run): return "failed: \(run.error ?? "unknown error")"
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Shows a study: its resolved configuration, its run, metrics and loss curve.")

    @OptionGroup var options: StudyOptions
    @Argument(help: "The study (file name or unique prefix).") var study: String
    @OptionGroup(title: "JSON: the stored results exactly as stored (every metric's Double to the last bit, the loss curve, the sha256 of each checkpoint and of each file the run made); two runs that stored the same bits print the same JSON")
    var output: OutputOptions

    func run() throws {
        let catalog = try options.catalog(named: [study])
        let resolved = try catalog.study(named: study)
        if output.json { return try printJSON(resolved, state: try options.states([resolved])[0]) }
        print("\(resolved.name) (\(resolved.file))")
        print("  \(resolved.spec.description)")
        print("  kind \(resolved.spec.kind.rawValue), size \(resolved.spec.size), seed \(resolved.seed), starts from \(resolved.spec.startsFrom ?? "fresh weights")")
        print("  hash \(resolved.hash.prefix(16))\(resolved.dependencies.isEmpty ? "" : ", inputs \(resolved.dependencies.joined(separator: ", "))")")
        let state = try options.states([resolved])[0]
        print("  state: \(describe(state))")
        // The other seeds, each a run of its own (`repro show NAME@SEED` shows one).
        let others = try catalog.replicates(of: resolved.base).filter { $0.name != resolved.name }
        for (other, otherState) in zip(others, try options.states(others)) { print("  seed \(other.seed) (\(other.name)): \(describe(otherState))") }
        guard case .fresh(let run) = state, run.id != nil else { return }
        guard let store = try ResultsStore.existing(workspace: try options.workspaceFolder) else { return }
        let metrics = try store.metrics(runId: run.id!)
        if !metrics.isEmpty {
            print("\nmetrics")
            let image = metrics.filter { $0.condition == MetricName.image }
            let blind = metrics.values(MetricName.blind)
            for metric in image {
                let control = blind[metric.name].map { String(format: "   blind control %.4g", $0) } ?? ""
                print("  \(metric.name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%.4g", metric.value))\(control)")
            }
            for shortfall in GateFigures.shortfalls(resolved, metrics: metrics) { print("  warning: \(shortfall)") }
        }
        let curve = try store.curve(runId: run.id!)
        if let first = curve.first, let last = curve.last {
            print(String(format: "\nloss curve: %d steps, train loss %.3f -> %.3f", curve.count, first.trainLoss, last.trainLoss))
            let checkpoints = Dictionary(try store.checkpoints(runId: run.id!).map { ($0.step, $0) }) { first, _ in first }
            let measured = curve.filter { $0.evalLoss != nil || checkpoints[$0.step] != nil }
            let shown = condensed(measured, keeping: Set(checkpoints.keys))
            if shown.count < measured.count {
                print("  \(shown.count) of its \(measured.count) held-out points: evenly spaced, the lowest, the last and the checkpoints")
            }
            for point in shown {
                var line = String(format: "  step %5d", point.step)
                if let loss = point.evalLoss { line += String(format: "  held-out %.4f", loss) }
                if let loss = point.trainEvalLoss { line += String(format: "  training slice %.4f", loss) }
                if let checkpoint = checkpoints[point.step] {
                    line += "  checkpoint" + (checkpoint.evalLoss.map { String(format: " %.4f", $0) } ?? "") + (checkpoint.best ? " (kept)" : "")
                }
                print(line)
            }
        }
        print("\nprovenance: commit \(run.commit), \(run.engine), \(run.blas), \(run.machine)")
    }

    /// The stored results of the study's fresh run, and nothing that differs between two runs that
    /// stored the same bits (no run id, times, process or provenance).
    struct StoredBits: Encodable {
        struct Point: Encodable {
            let step: Int
            let epoch, trainLoss, learningRate: Double
            let evalLoss: Double?
            enum CodingKeys: String, CodingKey {
                case step, epoch, trainLoss = "train_loss", learningRate = "learning_rate", evalLoss = "eval_loss"
            }
        }
        struct Checkpoint: Encodable {
            let step: Int
            let sha256: String
            let evalLoss: Double?
            let best: Bool
            enum CodingKeys: String, CodingKey { case step, sha256, evalLoss = "eval_loss", best }
        }
        let study, hash, state: String
        /// Condition (image, blind) -> metric name -> value.
        var metrics: [String: [String: Double]]?
        var curve: [Point]?
        var checkpoints: [Checkpoint]?
        /// The file's path within the run folder -> its sha256.
        var artifacts: [String: String]?
    }

    func printJSON(_ resolved: ResolvedStudy, state: StudyState) throws {
        let name = switch state {
        case .fresh: "fresh"
        case .stale: "stale"
        case .missing: "missing"
        case .running: "running"
        case .interrupted: "interrupted"
        case .failed: "failed"
        }
        var bits = StoredBits(study: resolved.name, hash: resolved.hash, state: name)
        if case .fresh(let run) = state, let store = try ResultsStore.existing(workspace: try options.workspaceFolder) {
            let id = run.id!
            bits.metrics = Dictionary(grouping: try store.metrics(runId: id), by: \.condition).mapValues { records in
                Dictionary(records.map { ($0.name, $0.value) }) { first, _ in first }
            }
            bits.curve = try store.curve(runId: id).map {
                .init(step: $0.step, epoch: $0.epoch, trainLoss: $0.trainLoss, learningRate: $0.learningRate, evalLoss: $0.evalLoss)
            }
            bits.checkpoints = try store.checkpoints(runId: id).map { .init(step: $0.step, sha256: $0.sha256, evalLoss: $0.evalLoss, best: $0.best) }
            bits.artifacts = Dictionary(try store.artifacts(runId: id).map { ($0.kind, $0.sha256) }) { first, _ in first }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // A NaN or infinite metric is stored as such; JSON has no number for it.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        print(String(decoding: try encoder.encode(bits), as: UTF8.self))
    }
}

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Shows what a trained model sees: held-out questions answered with the image and with a blank one.",
        discussion: """
            Takes questions of every skill from scenes no stage trained on, answers each twice (with its \
            image, and with the blank image of the blind control), prints them side by side and writes a \
            contact sheet of the images with both answers. Answers that do not change with the image did \
            not come from it.
            """)

    @OptionGroup var options: StudyOptions
    @Argument(help: "The study whose trained model answers (align, instruct or an experiment).") var study: String
    @Option(help: "Questions per skill.") var perSkill = 2
    @Option(help: "Where to write the contact sheet (PNG; a long one continues in NAME-2.png, ...).") var output = "probe.png"

    func validate() throws {
        guard perSkill > 0 else { throw ValidationError("--per-skill must be at least 1, got \(perSkill)") }
    }

    func run() throws {
        let (recipe, answers) = try options.runner(progress: false).probe(study, perSkill: perSkill)
        var entries: [ContactSheet.Entry] = []
        var changed = 0, rightSeen = 0, rightBlind = 0
        for answer in answers {
            let seenRight = answer.rightWithImage, blindRight = answer.rightWithBlank
            changed += answer.withImage == answer.withBlank ? 0 : 1
            rightSeen += seenRight ? 1 : 0
            rightBlind += blindRight ? 1 : 0
            print("\(answer.skill.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(answer.question)")
            print("             expected \(answer.expected) | image: \(answer.withImage)\(seenRight ? " ✓" : "") | blank: \(answer.withBlank)\(blindRight ? " ✓" : "")")
            entries.append(ContactSheet.Entry(image: recipe.image(of: answer.scene), title: answer.skill.rawValue,
                                              lines: ["Q: " + answer.question, "expected: " + answer.expected,
                                                      "with the image: " + answer.withImage, "blank image: " + answer.withBlank]))
        }
        print("\n\(rightSeen) of \(answers.count) right with the image, \(rightBlind) with the blank image; \(changed) answers changed with the image")
        let written = try ContactSheet.write(ContactSheet.render(entries), to: URL(fileURLWithPath: output))
        print("wrote \(written.map(\.path).joined(separator: ", "))")
    }
}

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Prints every key a study file may set, with its value in defaults.toml and its meaning (Markdown).",
        discussion: "README.md's study-file reference is this command's output; `make test` checks that the two agree.")

    @OptionGroup var options: ProjectOptions

    func run() throws {
        print(try StudyKeys.reference(directory: try options.studiesFolder), terminator: "")
    }
}
