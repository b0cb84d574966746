import Data
import Engine
import Foundation
import Study
import Logging
import Model

/// Trains and evaluates studies, each exactly once per configuration, in dependency order.
///
/// Every run keeps its results in its run folder (`RunFile`); a runner that `imports` copies each
/// run that ended into the store (the one writer), and one that does not (a worker of `repro run`,
/// a job on a cluster) never writes the store, only reads it.
public final class Runner {
    public let catalog: StudyCatalog
    public let workspace: Workspace
    /// The workspace's store: opened for writing when the runner imports, else read-only (nil while
    /// the workspace has none).
    public let store: ResultsStore?
    /// Whether each run writes where its training loop's time went (`profile.txt` in its run folder).
    public var profileOps = false
    /// Whether this runner writes the store (imports runs that ended).
    public let imports: Bool
    let logger: Logger
    let progress: (TrainingProgress) throws -> Void
    private var bundles: [DataRecipe: DataBundle] = [:]

    /// `progress` is called after every optimizer step; throwing from it stops the run, as a crash
    /// would. With `imports`, runs that ended and are not in the store yet are imported first.
    public init(catalog: StudyCatalog, workspace: Workspace, logger: Logger, imports: Bool = true,
                progress: @escaping (TrainingProgress) throws -> Void = { _ in }) throws {
        self.catalog = catalog
        self.workspace = workspace
        self.logger = logger
        self.progress = progress
        self.imports = imports
        if imports {
            let store = try ResultsStore(workspace: workspace.root)
            for problem in try store.importEndedRuns() { logger.warning("\(problem)") }
            self.store = store
        } else {
            store = try ResultsStore.existing(workspace: workspace.root)
        }
    }

    public func state(of study: ResolvedStudy) throws -> StudyState { try StudyState.of(study, workspace: workspace, store: store) }

    /// The metrics of a run that finished: the store's, or its run file's while it is not imported.
    func metrics(of run: RunRecord, study: ResolvedStudy) throws -> [MetricRecord] {
        if let id = run.id, let store { return try store.metrics(runId: id) }
        return try RunFile.read(folder(of: study))?.metrics ?? []
    }

    /// The study's run folder for its current configuration.
    public func folder(of study: ResolvedStudy) -> RunFolder { RunFolder(url: workspace.runFolder(study: study.name, hash: study.hash)) }

    /// Copies the study's run into the store if it ended and is not there as it ended (a writing
    /// runner only); returns the stored record, or nil.
    @discardableResult
    public func importRun(of study: ResolvedStudy) throws -> RunRecord? {
        guard imports, let store else { return nil }
        return try store.importRun(in: folder(of: study))
    }

    // MARK: Running

    /// Trains and evaluates `names` (all studies when empty) and what they need, skipping fresh
    /// ones; `force` recomputes the named studies even when fresh. Returns the runs it finished.
    @discardableResult
    public func run(_ names: [String], force: Bool = false) throws -> [RunRecord] {
        try plan(names, force: force).map { try train($0.study, forced: $0.forced) }
    }

    /// What `run` trains, in dependency order, and whether each is forced; says so for each fresh
    /// study it passes over.
    public func plan(_ names: [String], force: Bool) throws -> [(study: ResolvedStudy, forced: Bool)] {
        let targets = names.isEmpty ? catalog.studies : try catalog.closure(of: names)
        let named = Set(try names.flatMap { try catalog.replicates(of: $0).map(\.name) })
        var planned: [(study: ResolvedStudy, forced: Bool)] = []
        for study in targets {
            let forced = force && (names.isEmpty || named.contains(study.name))
            if !forced, case .fresh(let run) = try state(of: study) {
                logger.info("\(study.name): fresh, nothing to do")
                // Minimums are not hashed, so a raised one must still be heard without retraining.
                try warnAboutGates(study, metrics: try metrics(of: run, study: study))
                continue
            }
            planned.append((study, forced))
        }
        return planned
    }

    /// Trains one study whose inputs are all fresh, as a worker of `repro run` does beside others.
    @discardableResult
    public func trainAlone(_ name: String, force: Bool) throws -> RunRecord {
        let study = try catalog.study(named: name)
        for input in study.dependencies {
            guard case .fresh = try state(of: try catalog.study(named: input)) else {
                throw RunnerError.inputNotFresh(study: study.name, input: input)
            }
        }
        return try train(study, forced: force)
    }

    /// Trains and evaluates one study under its lock, resuming an interrupted run when it can. Its
    /// results go to its run folder, and into the store when this runner imports.
    @discardableResult
    public func train(_ study: ResolvedStudy, forced: Bool) throws -> RunRecord {
        let lock = try StudyLock(workspace: workspace.root, study: study.name) { pid in
            logger.info("\(study.name): process \(pid) is training it; waiting for it to finish")
        }
        defer { withExtendedLifetime(lock) {} }
        BLAS.useThreads(study.threads)
        let state = try self.state(of: study)
        if !forced, case .fresh(let run) = state {
            logger.info("\(study.name): finished by another process meanwhile")
            return run
        }
        let folder = folder(of: study)
        let resumable: Bool
        switch state {
        // Holding the lock, a "running" record can only be a dead process's.
        case .interrupted, .failed, .running: resumable = !forced
        default: resumable = false
        }
        let recorder: RunRecorder
        if resumable, FileManager.default.fileExists(atPath: folder.state.path), FileManager.default.fileExists(atPath: folder.runFile.path) {
            recorder = try RunRecorder(resuming: folder)
            logger.info("\(study.name): resuming the interrupted run from its last saved state")
        } else {
            try folder.clear()
            try folder.create()
            recorder = try RunRecorder(starting: Provenance.newRun(study: study, profile: catalog.profile), folder: folder)
        }
        let start = monotonicSeconds()
        do {
            let measured = try execute(study, recorder: recorder)
            try recordArtifacts(folder, into: recorder)
            try recorder.finish(metrics: measured.map { MetricRecord(runId: 0, condition: $0.condition, name: $0.name, value: $0.value) },
                                seconds: monotonicSeconds() - start)
        } catch {
            try? recorder.fail(error: "\(error)")
            _ = try? importRun(of: study)
            throw error
        }
        let record = try importRun(of: study) ?? recorder.run
        logger.info("\(study.name): done in \(String(format: "%.0f", record.seconds ?? 0)) s")
        try warnAboutGates(study, metrics: recorder.file.metrics)
        return record
    }

    /// A warning line for each of the run's gate figures below the study's minimum.
    func warnAboutGates(_ study: ResolvedStudy, metrics: [MetricRecord]) throws {
        for shortfall in GateFigures.shortfalls(study, metrics: metrics) { logger.warning("\(shortfall)") }
    }

    /// Records every file the run made (the model, its outputs) with its sha256; the kind is the
    /// file's path within the run folder. Hidden files are skipped: `writeAtomically`'s temporaries,
    /// which a process killed mid-write leaves behind, are not results.
    func recordArtifacts(_ folder: RunFolder, into recorder: RunRecorder) throws {
        for directory in [folder.model, folder.outputs] {
            guard let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey],
                                                             options: [.skipsHiddenFiles]) else { continue }
            for case let file as URL in files where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                let kind = String(file.standardizedFileURL.path.dropFirst(folder.url.standardizedFileURL.path.count + 1))
                recorder.record(ArtifactRecord(runId: 0, kind: kind, path: workspace.relative(file), sha256: try sha256(of: file)))
            }
        }
    }

    func bundle(_ recipe: DataRecipe) throws -> DataBundle {
        if let bundle = bundles[recipe] { return bundle }
        let bundle = try DataBundle(recipe: recipe, workspace: workspace)
        bundles[recipe] = bundle
        return bundle
    }

    /// The pipeline of one study: its kind's stage trains, keeps the best checkpoint, saves and measures.
    func execute(_ study: ResolvedStudy, recorder: RunRecorder) throws -> [Measured] {
        let data = try bundle(study.data)
        let context = StageContext(study: study, recorder: recorder, data: data, runner: self)
        return try study.spec.kind.stage.run(context)
    }

    // MARK: Models

    /// A fresh model of the study's configuration with the tensors of the studies it starts from:
    /// everything `init` holds with the same name and shape, then single components from
    /// `init_vision`, `init_qformer`, `init_language`. Returns which tensors were loaded and which are new.
    func initialModel(_ study: ResolvedStudy) throws -> (InstructBlip, loaded: [String], fresh: [String]) {
        let spec = study.spec
        let model = InstructBlip(config: spec.model, seed: spec.train.seed)
        let base = ParameterSet(model.parameters.tensors)
        var loaded = Set<String>()
        let sources: [(String, (String) -> Bool)] = [
            (spec.`init`, { _ in true }),
            (spec.initVision, { $0.hasPrefix("vision_model.") }),
            (spec.initQformer, { $0 == "query_tokens" || $0.hasPrefix("qformer.") || $0.hasPrefix("language_projection.") }),
            (spec.initLanguage, { $0.hasPrefix("language_model.") }),
        ]
        for (source, include) in sources where !source.isEmpty {
            let file = try verifiedModel(of: study.input(source), file: "model.safetensors")
            let result = try base.load(from: file, where: include)
            loaded.formUnion(result.loaded)
        }
        let names = base.names
        return (model, names.filter(loaded.contains), names.filter { !loaded.contains($0) })
    }

    /// The model folder of a study's fresh run.
    func modelFile(of name: String) throws -> URL {
        let study = try catalog.study(named: name)
        guard case .fresh = try state(of: study) else {
            throw StudyError(file: study.file, key: nil, problem: "has no finished run for its current configuration; run `repro run \(study.name)` first")
        }
        let folder = folder(of: study).model
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw StudyError(file: folder.path, key: nil, problem: "is missing although its run finished; run `repro run \(study.name) --force`")
        }
        return folder
    }

    /// A file of a study's saved model, read only when its bytes still match the sha256 recorded when
    /// the run finished (in its run file, or the store for runs stored before run files): a damaged
    /// model is named, never trained on.
    func verifiedModel(of name: String, file: String) throws -> SafeTensors.File {
        let url = try modelFile(of: name).appendingPathComponent(file)
        let study = try catalog.study(named: name)
        var recorded = try RunFile.read(folder(of: study))?.artifacts
        if recorded == nil, let store, let run = try store.latestRun(study: study.name, hash: study.hash) {
            recorded = try store.artifacts(runId: run.id!)
        }
        if let artifact = recorded?.first(where: { $0.kind == "model/\(file)" }) { try verifyRecorded(url, sha256: artifact.sha256, study: study.name) }
        return try SafeTensors.read(url)
    }

    /// Saves a trained model in the Hugging Face layout, with its adapters and tokenizer.
    func save(_ model: InstructBlip, data: DataBundle, to folder: RunFolder) throws {
        try model.save(huggingFace: folder.model)
        if model.loraConfig != nil { try model.saveAdapter(folder.model.appendingPathComponent("adapter")) }
        try data.tokenizer.save(to: folder.model.appendingPathComponent("tokenizer.json"))
    }

    /// The CLIP scorer's sizes: its image tower is the study's vision encoder, its text tower takes
    /// the Q-Former's sizes, and both project to the Q-Former's width.
    func clipConfig(_ spec: StudySpec, data: DataBundle) -> ClipConfig {
        var config = ClipConfig()
        config.vision = spec.model.visionConfig
        config.textHiddenSize = spec.model.qformerConfig.hiddenSize
        config.textIntermediateSize = spec.model.qformerConfig.intermediateSize
        config.textLayers = spec.model.qformerConfig.numHiddenLayers
        config.textHeads = spec.model.qformerConfig.numAttentionHeads
        config.vocabSize = data.recipe.vocabularySize
        config.maxPositions = spec.model.qformerConfig.maxPositionEmbeddings
        config.projectionSize = spec.model.qformerConfig.hiddenSize
        return config
    }

    /// The trained CLIP scorer named by `eval.clip_study` (the replicate the study starts from), or
    /// nil when the study has none.
    func clipScorer(_ study: ResolvedStudy) throws -> ClipModel? {
        let spec = study.spec
        guard !spec.eval.clipStudy.isEmpty else { return nil }
        let clipStudy = try catalog.study(named: study.input(spec.eval.clipStudy))
        let model = ClipModel(config: clipConfig(clipStudy.spec, data: try bundle(clipStudy.data)), seed: 0)
        let file = try verifiedModel(of: clipStudy.name, file: "clip.safetensors")
        let result = try model.parameters.load(from: file)
        guard result.fresh.isEmpty else {
            throw StudyError(file: file.path, key: nil, problem: "lacks \(result.fresh.count) tensors of the CLIP scorer; run `repro run \(clipStudy.name) --force`")
        }
        return model
    }
}

/// The pretraining corpus split by scene: the last 5% of its scenes are held out (gates and the
/// held-out loss), so no held-out scene is ever trained on.
struct PretrainingSplit {
    let samples: [PretrainingSample]
    let heldOutScenes: [SceneKey]
    let trainScenes: [SceneKey]
    private let heldOutSet: Set<SceneKey>

    init(_ corpus: PretrainingCorpus) {
        samples = corpus.samples
        var seen = Set<SceneKey>(), scenes: [SceneKey] = []
        for sample in samples where seen.insert(sample.scene).inserted { scenes.append(sample.scene) }
        let cut = scenes.count - max(1, scenes.count / 20)
        trainScenes = Array(scenes[..<cut])
        heldOutScenes = Array(scenes[cut...])
        heldOutSet = Set(heldOutScenes)
    }

    /// The rows of `forms` on training scenes; with `skills` (`train.skills`), only the questions
    /// of those skills (captions, which have no skill, drop out), each as many times as its skill is
    /// listed, so that a check learned slowly gets more of the same steps.
    func train(_ forms: PretrainingSample.Form..., skills: [Skill] = []) -> [PretrainingSample] {
        train(forms, skills: skills)
    }

    func train(_ forms: [PretrainingSample.Form], skills: [Skill] = []) -> [PretrainingSample] {
        let copies = Dictionary(skills.map { ($0, 1) }, uniquingKeysWith: +)
        return rows(forms, skills: Set(skills)) { !heldOutSet.contains($0) }
            .flatMap { row in repeatElement(row, count: row.skill.flatMap { copies[$0] } ?? 1) }
    }

    /// The rows of `forms` on held-out scenes, as `train` but each once: they measure, not train.
    func heldOut(_ forms: PretrainingSample.Form..., skills: [Skill] = []) -> [PretrainingSample] {
        heldOut(forms, skills: skills)
    }

    func heldOut(_ forms: [PretrainingSample.Form], skills: [Skill] = []) -> [PretrainingSample] {
        rows(forms, skills: Set(skills)) { heldOutSet.contains($0) }
    }

    private func rows(_ forms: [PretrainingSample.Form], skills: Set<Skill>, scene: (SceneKey) -> Bool) -> [PretrainingSample] {
        samples.filter { forms.contains($0.form) && scene($0.scene) && (skills.isEmpty || $0.skill.map(skills.contains) == true) }
    }
}

extension PretrainingSample {
    var example: Example { example(shortCodeAnswer: false) }

    /// The row as an example whose scene code holds, with `shortCodeAnswer`, a long-form row's short answer instead of its sentence.
    func example(shortCodeAnswer: Bool) -> Example {
        Example(image: .scene(scene), query: query, response: response, codeAnswer: shortCodeAnswer ? shortAnswer : nil)
    }
}

extension Example {
    init(_ sample: RewardSample) { self.init(image: sample.image, query: sample.query, response: sample.response) }
}

/// Why a study could not be trained on its own.
public enum RunnerError: Error, CustomStringConvertible {
    case inputNotFresh(study: String, input: String)

    public var description: String {
        switch self {
        case .inputNotFresh(let study, let input):
            "\(study) starts from \(input), which has no finished run of its current configuration; `repro run \(study)` trains both"
        }
    }
}
