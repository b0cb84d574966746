import Data
import Engine
import Foundation
import Model
import Study

/// What a study of one kind trains and measures; `Runner` gives it the study, its run folder and data.
protocol Stage {
    /// Trains the study's model, saves it into the run folder, and returns what it measured.
    func run(_ context: StageContext) throws -> [Measured]
}

extension StudyKind {
    /// The stage that trains a study of this kind.
    var stage: any Stage {
        switch self {
        case .vision: VisionStage()
        case .language: LanguageStage()
        case .clip: ClipStage()
        case .align: AlignStage()
        case .instruct: InstructStage()
        case .finetune: FinetuneStage()
        }
    }
}

/// One study's run as its stage sees it.
struct StageContext {
    let study: ResolvedStudy
    let recorder: RunRecorder
    let folder: RunFolder
    let data: DataBundle
    let runner: Runner
    let split: PretrainingSplit
    let encoder: PromptEncoder

    init(study: ResolvedStudy, recorder: RunRecorder, data: DataBundle, runner: Runner) {
        (self.study, self.recorder, self.folder, self.data, self.runner) = (study, recorder, recorder.folder, data, runner)
        split = PretrainingSplit(data.pretraining)
        encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: study.spec.model.numQueryTokens,
                                countPadding: study.spec.train.countPaddingInLoss)
    }

    var spec: StudySpec { study.spec }

    func log(_ message: String) { runner.logger.info("\(study.name): \(message)") }

    /// Trains `objective` by the study's schedule, with checkpoints and resume in its run folder;
    /// with `runner.profileOps`, writes where the training loop's time went to the run folder.
    func train(_ objective: Objective) throws -> TrainingOutcome {
        let trainer = Trainer(spec: spec.train, study: study.name, objective: objective, folder: folder, recorder: recorder,
                              workspace: runner.workspace, progress: runner.progress)
        guard runner.profileOps else { return try trainer.run() }
        let profiler = OpProfiler()
        let start = monotonicSeconds()
        let outcome = try OpProfiler.$current.withValue(profiler) { try trainer.run() }
        let seconds = monotonicSeconds() - start, steps = max(outcome.stepsRun, 1), report = profiler.report
        let summary = String(format: "the training loop: %d steps in %.1f s, %.1f ms per step (held-out checks included); ",
                             outcome.stepsRun, seconds, seconds / Double(steps) * 1e3) + report.gemmSummary(seconds: seconds, steps: steps)
        let tables = "\(report.opTable(steps: steps))\n\n\(report.gemmTable(steps: steps))\n"
        try writeAtomically(Foundation.Data("\(study.name), \(BLAS.threads) threads: \(summary)\n\n\(tables)".utf8), to: folder.profile)
        log("\(summary) (per op and sgemm shape: \(runner.workspace.relative(folder.profile)))")
        return outcome
    }

    /// What every run stores about its training: the best checkpoint and the parameter counts.
    func trainingFigures(_ outcome: TrainingOutcome, parameters: [Tensor], trainable: Int) -> [Measured] {
        var measured = [Measured(condition: MetricName.image, name: MetricName.bestStep, value: Double(outcome.bestStep))]
        if let loss = outcome.bestEvalLoss { measured.append(Measured(condition: MetricName.image, name: MetricName.bestEvalLoss, value: loss)) }
        measured.append(Measured(condition: MetricName.image, name: MetricName.parameters, value: Double(parameters.reduce(0) { $0 + $1.count })))
        measured.append(Measured(condition: MetricName.image, name: MetricName.trainableParameters, value: Double(trainable)))
        return measured
    }
}

/// The ViT, supervised on per-cell scene targets (stand-in for EVA-CLIP).
struct VisionStage: Stage {
    func run(_ context: StageContext) throws -> [Measured] {
        let spec = context.spec, split = context.split
        let model = InstructBlip(config: spec.model, seed: spec.train.seed)
        model.setTrainable(TrainableParts(spec: "vision", layers: spec.model.textConfig.numHiddenLayers)!)
        let probe = VisionProbe(vision: spec.model.visionConfig, heads: VisionObjective.heads, seed: spec.train.seed)
        let objective = VisionObjective(model: model, probe: probe, data: context.data, train: split.trainScenes, heldOut: split.heldOutScenes)
        context.log("training the vision encoder on \(objective.trainCount) scenes")
        var measured = context.trainingFigures(try context.train(objective), parameters: model.parameters.tensors + probe.parameters,
                                               trainable: objective.trainable.reduce(0) { $0 + $1.count })
        measured += Gates.vision(objective)
        try context.runner.save(model, data: context.data, to: context.folder)
        return measured
    }
}

/// The language model answering questions while it reads each scene's code (stand-in for Vicuna).
struct LanguageStage: Stage {
    func run(_ context: StageContext) throws -> [Measured] {
        let spec = context.spec, split = context.split
        let model = InstructBlip(config: spec.model, seed: spec.train.seed)
        model.setTrainable(TrainableParts(spec: "language", layers: spec.model.textConfig.numHiddenLayers)!)
        // Question rows read from the scene's code: the model learns to answer from the vectors the
        // Q-Former will learn to write (reading rows, when the recipe asks for them, add answering
        // from the caption as text; long-form rows, answering in sentences).
        let objective = LanguageObjective(model: model, encoder: context.encoder, recipe: context.data.recipe,
                                          train: split.train(.question, .reading, .longForm).map { $0.example(shortCodeAnswer: spec.train.codeShortAnswer) },
                                          heldOut: split.heldOut(.question).map(\.example), codeNoise: spec.train.codeNoise,
                                          codeAnswer: spec.train.codeAnswer, codeAsked: spec.train.codeAsked)
        context.log("training the language model on \(objective.trainCount) rows, reading each scene's code")
        var measured = context.trainingFigures(try context.train(objective), parameters: model.parameters.tensors,
                                               trainable: model.parameters.trainableCount)
        measured += try Autodiff.withoutGradients {
            try Gates.language(objective, rows: Array(split.heldOut(.question).prefix(240)), tokenizer: context.data.tokenizer)
        }
        try context.runner.save(model, data: context.data, to: context.folder)
        return measured
    }
}

/// The CLIP scorer, trained contrastively on image-caption pairs.
struct ClipStage: Stage {
    func run(_ context: StageContext) throws -> [Measured] {
        let spec = context.spec, split = context.split
        let model = ClipModel(config: context.runner.clipConfig(spec, data: context.data), seed: spec.train.seed)
        let objective = ClipObjective(model: model, encoder: context.encoder, data: context.data, train: split.train(.caption).map(\.example),
                                      heldOut: split.heldOut(.caption).map(\.example))
        context.log("training the CLIP scorer on \(objective.trainCount) image-caption pairs")
        var measured = context.trainingFigures(try context.train(objective), parameters: model.parameters.tensors,
                                               trainable: model.parameters.trainableCount)
        measured += try Gates.clip(objective)
        try FileManager.default.createDirectory(at: context.folder.model, withIntermediateDirectories: true)
        try SafeTensors.write(model.parameters.byName, to: context.folder.model.appendingPathComponent("clip.safetensors"))
        return measured
    }
}

/// Query tokens, Q-Former and projection learn to write the scene code (BLIP-2's first stage).
struct AlignStage: Stage {
    func run(_ context: StageContext) throws -> [Measured] {
        let (rows, heldOut) = try pretrainingRows(context, forms: [.caption, .question])
        let trained = try trainVisionLanguage(context, train: rows, heldOut: heldOut)
        guard context.spec.train.sceneCodeWeight > 0 else { return trained.measured }
        return try trained.measured + Autodiff.withoutGradients {
            try Gates.align(trained.objective, rows: Array(context.split.heldOut(.question).prefix(480)))
        }
    }
}

/// The Q-Former and language model on the instruction mixture: the base model (InstructBLIP).
struct InstructStage: Stage {
    func run(_ context: StageContext) throws -> [Measured] {
        let (rows, heldOut) = try pretrainingRows(context, forms: [.caption, .question, .longForm])
        let trained = try trainVisionLanguage(context, train: rows, heldOut: heldOut)
        return try trained.measured + evaluate(trained.model, context, test: context.data.finetuneRows(.finetune).test)
    }
}

/// Fine-tuning on the VL-RewardBench-shaped set (one of the paper's experiments), or on the rows
/// `train.rows` names.
struct FinetuneStage: Stage {
    func run(_ context: StageContext) throws -> [Measured] {
        // The paper selected its checkpoint on the test split; there is no validation split (repro check says so).
        let rows = context.data.finetuneRows(context.spec.train.rows)
        let trained = try trainVisionLanguage(context, train: rows.train, heldOut: rows.test)
        return try trained.measured + evaluate(trained.model, context, test: rows.test)
    }
}

/// The pretraining corpus's rows of `forms` (questions: of the study's skills), on training and held-out scenes.
private func pretrainingRows(_ context: StageContext, forms: [PretrainingSample.Form]) throws -> (train: [Example], heldOut: [Example]) {
    let spec = context.spec, split = context.split
    let skills = spec.train.skills.compactMap(Skill.init(rawValue:))
    let train = split.train(forms, skills: skills).map { $0.example(shortCodeAnswer: spec.train.codeShortAnswer) }
    guard !train.isEmpty else {
        throw StudyError(file: context.study.file, key: "train.skills",
                         problem: "the corpus has no questions of \(spec.train.skills); give them weight in data.skill_weights")
    }
    return (train, split.heldOut(forms, skills: skills).map { $0.example(shortCodeAnswer: spec.train.codeShortAnswer) })
}

/// Trains the whole InstructBLIP (from the studies it starts from, with LoRA when it has adapters)
/// on image-text rows and saves it.
private func trainVisionLanguage(_ context: StageContext, train: [Example], heldOut: [Example])
    throws -> (model: InstructBlip, objective: VisionLanguageObjective, measured: [Measured]) {
    let spec = context.spec, runner = context.runner
    let (model, loaded, fresh) = try runner.initialModel(context.study)
    if let lora = spec.lora.config { model.addLoRA(lora, seed: spec.train.seed) }
    let counts = model.setTrainable(TrainableParts(spec: spec.train.trainable, layers: spec.model.textConfig.numHiddenLayers)!)
    try context.recorder.recordTensors(loaded: loaded, fresh: fresh)
    let rowsRead = spec.train.totalSteps(trainCount: train.count) * spec.train.samplesPerStep
    let keepVisionOutputs = model.visionIsFrozen && VisionOutputCache.pays(rowsRead: rowsRead, images: train.map(\.image))
    if keepVisionOutputs { context.log("encoding the training images once (the vision encoder is frozen)") }
    let objective = try VisionLanguageObjective(model: model, encoder: context.encoder, data: context.data, train: train, heldOut: heldOut,
                                                sceneCodeWeight: spec.train.sceneCodeWeight, tokenLoss: spec.train.tokenLoss,
                                                codeWordWeight: spec.train.codeWordWeight, codeAnswer: spec.train.codeAnswer,
                                                codeAsked: spec.train.codeAsked, answerWordWeight: spec.train.answerWordWeight,
                                                keepVisionOutputs: keepVisionOutputs)
    context.log("training on \(train.count) examples; \(counts.trainable) of \(counts.total) parameters train; \(loaded.count) tensors loaded, \(fresh.count) new")
    let measured = context.trainingFigures(try context.train(objective), parameters: model.parameters.tensors, trainable: counts.trainable)
    try runner.save(model, data: context.data, to: context.folder)
    return (model, objective, measured)
}

/// The test split's loss and replies, the CLIP score and the MME-style benchmark, each beside the blind control.
private func evaluate(_ model: InstructBlip, _ context: StageContext, test: [Example]) throws -> [Measured] {
    context.log("evaluating (with the blind control)")
    let evaluator = Evaluator(data: context.data, encoder: context.encoder, spec: context.spec.eval, outputs: context.folder.outputs,
                              clip: try context.runner.clipScorer(context.study))
    return try evaluator.evaluate(model, test: test)
}
