import Engine
import Foundation
import Logging
@testable import Pipeline
@testable import Study
import Testing

/// A study small enough to train in a debug build within a second or two.
let tinyLanguageStudy = """
    kind = "language"
    [model.vision_config]
    hidden_size = 16
    intermediate_size = 16
    num_hidden_layers = 1
    num_attention_heads = 1
    patch_size = 16
    [model.qformer_config]
    hidden_size = 16
    intermediate_size = 16
    num_hidden_layers = 1
    num_attention_heads = 1
    [model.text_config]
    hidden_size = 16
    intermediate_size = 32
    num_hidden_layers = 1
    num_attention_heads = 1
    [model]
    num_query_tokens = 2
    [train]
    epochs = 1
    max_steps = 9
    micro_batch = 2
    accumulation = 2
    learning_rate = 1e-2
    checkpoint_every = 4
    eval_samples = 4
    [data]
    pretraining_scenes = 40
    finetune_samples = 20
    benchmark_images_per_subtask = 1
    vocabulary_size = 300
    """

struct Interruption: Error {}

@Suite(.serialized) struct RunnerTests {
    func workspace() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ws-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    func runner(_ folder: StudyFolder, _ workspace: URL, stopAt: Int? = nil) throws -> Runner {
        var stopped = false
        return try Runner(catalog: folder.load(), workspace: Workspace(workspace), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }) { p in
            if p.step == stopAt && !stopped {
                stopped = true
                throw Interruption()
            }
        }
    }

    /// Metrics and the final weights of a workspace's run of `lm`.
    func results(_ runner: Runner) throws -> (metrics: [String: Double], weights: Data, curve: [CurvePoint]) {
        let run = try #require(try runner.store!.latestRun(study: "lm"))
        #expect(run.status == .finished)
        let metrics = Dictionary(uniqueKeysWithValues: try runner.store!.metrics(runId: run.id!).map { ("\($0.condition).\($0.name)", $0.value) })
        let weights = try Data(contentsOf: runner.workspace.runFolder(study: "lm", hash: run.hash).appendingPathComponent("model/model.safetensors"))
        return (metrics, weights, try runner.store!.curve(runId: run.id!).withoutRunId)
    }

    @Test(arguments: [4, 6])
    func anInterruptedRunResumesToTheSameNumbers(stopAt: Int) throws {
        let folder = try StudyFolder(["lm.toml": tinyLanguageStudy])
        let whole = workspace(), interrupted = workspace()
        defer { for url in [whole, interrupted] { try? FileManager.default.removeItem(at: url) } }
        try runner(folder, whole).run([])

        let first = try runner(folder, interrupted, stopAt: stopAt)
        #expect(throws: Interruption.self) { try first.run([]) }
        guard case .failed = try first.state(of: first.catalog.study(named: "lm")) else {
            Issue.record("an interrupted run is recorded as failed")
            return
        }
        let second = try runner(folder, interrupted)
        try second.run([])
        let (a, b) = (try results(runner(folder, whole)), try results(second))
        #expect(a.metrics == b.metrics, "stopped at step \(stopAt)")
        #expect(a.weights == b.weights)
        #expect(a.curve == b.curve && a.curve.count == 9)
    }

    /// A loss that overflows stops the run, naming the study, the step and the last good state (here
    /// none: it overflows before the first is saved); no metric is written and the run is recorded as failed.
    @Test func aDivergingLossStopsTheRunAndSaysWhere() throws {
        let folder = try StudyFolder(["lm.toml": tinyLanguageStudy.replacingOccurrences(of: "learning_rate = 1e-2", with: "learning_rate = 1e30")
])
        let url = workspace()
        defer { try? FileManager.default.removeItem(at: url); try? FileManager.default.removeItem(at: folder.url) }
        let runner = try runner(folder, url)
        do {
            try runner.run([])
            Issue.record("a run whose loss overflows must stop")
        } catch let error as StudyError {
            #expect(error.file == "lm")
            #expect(error.problem.hasPrefix("the training loss became ") && error.problem.contains(" at step "))
            #expect(error.problem.contains("no state was saved before it"), "\(error.problem)")
        }
        let run = try #require(try runner.store!.latestRun(study: "lm"))
        #expect(run.status == .failed)
        #expect(try runner.store!.metrics(runId: run.id!).isEmpty)
    }

    /// A study's saved model that no longer matches its recorded sha256 is named, not trained on.
    @Test func aDamagedModelIsFoundBeforeUse() throws {
        let folder = try StudyFolder(["lm.toml": tinyLanguageStudy, "it.toml": "init = \"lm\"\n" + tinyInstructStudy])
        let url = workspace()
        defer { try? FileManager.default.removeItem(at: url); try? FileManager.default.removeItem(at: folder.url) }
        try runner(folder, url).run(["lm"])
        let run = try #require(try runner(folder, url).store!.latestRun(study: "lm"))
        let model = Workspace(url).runFolder(study: "lm", hash: run.hash).appendingPathComponent("model/model.safetensors")
        var bytes = try Data(contentsOf: model)
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: model)
        #expect(throws: StudyError(file: model.path, key: nil, problem: "does not match the sha256 recorded when lm finished: the file was damaged; run `repro run lm --force`")) {
            try runner(folder, url).run(["it"])
        }
        #expect(FileManager.default.fileExists(atPath: model.path), "nothing is deleted")
    }

    @Test func aSecondRunTrainsNothingAndAnEditMakesTheStudyStale() throws {
        let folder = try StudyFolder(["lm.toml": tinyLanguageStudy])
        let url = workspace()
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try runner(folder, url).run([]).count == 1)
        let store = try ResultsStore(workspace: url)
        let kinds = try store.artifacts(runId: try #require(try store.latestRun(study: "lm")?.id)).map(\.kind)
        #expect(kinds.contains("model/model.safetensors") && kinds.contains("model/config.json") && kinds.contains("model/tokenizer.json"))
        #expect(try runner(folder, url).run([]).isEmpty)
        let edited = try StudyFolder(["lm.toml": tinyLanguageStudy.replacingOccurrences(of: "learning_rate = 1e-2", with: "learning_rate = 2e-2")])
        let stale = try runner(edited, url)
        guard case .stale(let reasons) = try stale.state(of: stale.catalog.study(named: "lm")) else {
            Issue.record("an edited study is stale")
            return
        }
        #expect(reasons == ["train.learning_rate: 0.01 -> 0.02"])
    }
}
