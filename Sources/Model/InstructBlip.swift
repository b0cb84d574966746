import Engine

/// One batch as `InstructBlipForConditionalGeneration.forward` takes it.
public struct ModelInputs {
    /// `[B, 3, H, W]`, normalised as the processor does.
    public var pixelValues: Tensor
    /// `[B, T]`: each row holds `num_query_tokens` image placeholders (usually first), then text.
    public var inputIds: [Int32]
    /// `[B, T]`: 1 for tokens, 0 for padding.
    public var attentionMask: [Int32]
    /// `[B, Tq]`: the instruction as the Q-Former reads it, and its mask.
    public var qformerInputIds: [Int32]
    public var qformerAttentionMask: [Int32]
    /// `[B, T]`, labelled as `transformers` does: position t is trained to predict labels[t + 1];
    /// -100 where there is no loss.
    public var labels: [Int32]?

    public init(pixelValues: Tensor, inputIds: [Int32], attentionMask: [Int32], qformerInputIds: [Int32],
                qformerAttentionMask: [Int32], labels: [Int32]? = nil) {
        self.pixelValues = pixelValues
        self.inputIds = inputIds
        self.attentionMask = attentionMask
        self.qformerInputIds = qformerInputIds
        self.qformerAttentionMask = qformerAttentionMask
        self.labels = labels
    }

    public var batchSize: Int { pixelValues.shape[0] }
    public var length: Int { inputIds.count / max(batchSize, 1) }
    public var qformerLength: Int { qformerInputIds.count / max(batchSize, 1) }

    /// One line per inconsistency between the fields.
    func check(_ config: InstructBlipConfig) throws {
        let b = batchSize, v = config.visionConfig
        var problems: [String] = []
        if pixelValues.shape != [b, 3, v.imageSize, v.imageSize] {
            problems.append("pixel_values has shape \(pixelValues.shape), expected [B, 3, \(v.imageSize), \(v.imageSize)]")
        }
        if inputIds.count % max(b, 1) != 0 { problems.append("input_ids has \(inputIds.count) entries for a batch of \(b)") }
        if attentionMask.count != inputIds.count { problems.append("attention_mask has \(attentionMask.count) entries, input_ids \(inputIds.count)") }
        if qformerInputIds.count % max(b, 1) != 0 { problems.append("qformer_input_ids has \(qformerInputIds.count) entries for a batch of \(b)") }
        if qformerAttentionMask.count != qformerInputIds.count {
            problems.append("qformer_attention_mask has \(qformerAttentionMask.count) entries, qformer_input_ids \(qformerInputIds.count)")
        }
        if let labels, labels.count != inputIds.count { problems.append("labels has \(labels.count) entries, input_ids \(inputIds.count)") }
        if let bad = inputIds.first(where: { $0 < 0 || Int($0) >= config.textConfig.vocabSize }) {
            problems.append("input_ids holds \(bad), outside the vocabulary of \(config.textConfig.vocabSize)")
        }
        if let bad = qformerInputIds.first(where: { $0 < 0 || Int($0) >= config.qformerConfig.vocabSize }) {
            problems.append("qformer_input_ids holds \(bad), outside the Q-Former vocabulary of \(config.qformerConfig.vocabSize)")
        }
        if !problems.isEmpty { throw ModelError.badInputs(problems.joined(separator: "; ")) }
    }
}

/// InstructBLIP with a LLaMA language model, parameter for parameter as
/// `InstructBlipForConditionalGeneration` names them.
public final class InstructBlip {
    public let config: InstructBlipConfig
    let vision: VisionEncoder
    /// `[1, Q, Dq]`. Started small and random: zeros with LayerNorm eps 1e-12 blew up the gradients (see docs/findings.md, initialisation).
    let queryTokens: Tensor
    let qformer: QFormer
    let languageProjection: Linear
    let languageModel: LanguageModel
    let baseParameters: [Tensor]
    /// Every linear layer, for LoRA targeting by module path.
    public let linears: [Linear]
    /// The adapters' configuration, once `addLoRA` has attached them.
    public private(set) var loraConfig: LoRAConfig?

    /// A model with fresh weights drawn from `seed`. The config must have no `problems()`.
    public init(config: InstructBlipConfig, seed: UInt64 = 0) {
        precondition(config.problems().isEmpty, "invalid model config: \(config.problems().map(\.description).joined(separator: "; "))")
        self.config = config
        let builder = ParameterBuilder(seed: seed)
        vision = VisionEncoder(config.visionConfig, builder.scope("vision_model"))
        queryTokens = builder.scope("").parameter("query_tokens", [1, config.numQueryTokens, config.qformerConfig.hiddenSize],
                                                   .normal(config.qformerConfig.initializerRange))
        qformer = QFormer(config.qformerConfig, builder.scope("qformer"))
        languageProjection = builder.scope("").linear("language_projection", config.qformerConfig.hiddenSize,
                                                       config.textConfig.hiddenSize, std: config.textConfig.initializerRange)
        languageModel = LanguageModel(config.textConfig, builder.scope("language_model"))
        baseParameters = builder.created
        linears = builder.linears
    }

    /// Every parameter (base weights, then LoRA tensors), by name.
    public var parameters: ParameterSet {
        ParameterSet(baseParameters + linears.compactMap(\.lora).flatMap { [$0.a, $0.b] })
    }

    /// Whether no parameter of the vision encoder trains (LoRA adapters on it included): then its
    /// output for an image stays the same through training (the encoder has no dropout).
    public var visionIsFrozen: Bool {
        !parameters.tensors.contains { $0.requiresGrad && $0.name!.hasPrefix("vision_model.") }
    }

    /// Sets which parameters train. Returns the counts of trainable and all parameters.
    @discardableResult
    public func setTrainable(_ parts: TrainableParts) -> (trainable: Int, total: Int) {
        let all = parameters
        all.setTrainable(parts.trains)
        return (all.trainableCount, all.count)
    }

    // MARK: LoRA

    /// Attaches LoRA to every linear layer `config` targets; returns their module paths.
    @discardableResult
    public func addLoRA(_ config: LoRAConfig, seed: UInt64 = 0) -> [String] {
        precondition(loraConfig == nil, "the model already has LoRA adapters")
        loraConfig = config
        let rng = SeededGenerator(seed: seed)
        var attached: [String] = []
        for linear in linears where config.targets(linear.name) {
            precondition(config.r <= min(linear.inFeatures, linear.outFeatures),
                         "LoRA rank \(config.r) exceeds the layer \(linear.name) [\(linear.outFeatures), \(linear.inFeatures)]")
            var stream = rng.fork(linear.name)
            linear.attachLoRA(config, rng: &stream)
            attached.append(linear.name)
        }
        return attached
    }

    /// Adds every adapter's update into its base weight (inference without the extra products).
    public func mergeLoRA() {
        for linear in linears { if let lora = linear.lora, !lora.isMerged { linear.applyLoRADelta(sign: 1); lora.isMerged = true } }
    }

    /// Takes the updates back out of the base weights.
    public func unmergeLoRA() {
        for linear in linears { if let lora = linear.lora, lora.isMerged { linear.applyLoRADelta(sign: -1); lora.isMerged = false } }
    }

    // MARK: Forward

    /// The Q-Former's query outputs projected into the language model: `[B, Q, D_text]`.
    public func imageFeatures(pixelValues: Tensor, qformerInputIds: [Int32], qformerAttentionMask: [Int32],
                              _ context: ForwardContext) -> Tensor {
        imageFeatures(visionOutput: visionOutput(pixelValues, context), qformerInputIds: qformerInputIds,
                      qformerAttentionMask: qformerAttentionMask, context)
    }

    /// The vision encoder's output `[B, 1 + patches, D_vision]` (after `post_layernorm`).
    public func visionOutput(_ pixelValues: Tensor, _ context: ForwardContext) -> Tensor {
        vision(pixelValues, context)
    }

    /// `imageFeatures` from the vision encoder's output, for a caller that keeps it (a frozen encoder's).
    public func imageFeatures(visionOutput image: Tensor, qformerInputIds: [Int32], qformerAttentionMask: [Int32],
                              _ context: ForwardContext) -> Tensor {
        let b = image.shape[0]
        let queries = Tensor(zeros: [b, config.numQueryTokens, config.qformerConfig.hiddenSize]) + queryTokens
        let queryOutput = qformer(queries: queries, instruction: qformerInputIds, instructionMask: qformerAttentionMask,
                                  image: image, context)
        return languageProjection(queryOutput, context)
    }

    /// The language model's input embeddings with the image placeholders replaced by `features`.
    func inputEmbeddings(ids: [Int32], batch b: Int, features: Tensor) throws -> Tensor {
        let t = ids.count / max(b, 1), q = config.numQueryTokens
        let embedded = embedding(languageModel.embedTokens, ids: ids, shape: [b, t])
        var rows: [Int] = []
        for bi in 0..<b {
            let placeholders = (0..<t).filter { ids[bi * t + $0] == Int32(config.imageTokenIndex) }.map { bi * t + $0 }
            guard placeholders.count == q else {
                throw ModelError.badInputs("input_ids row \(bi) has \(placeholders.count) image placeholders (id \(config.imageTokenIndex)); the model has \(q) query tokens")
            }
            rows += placeholders
        }
        return scatterRows(embedded, reshape(features, [b * q, features.shape[2]]), at: rows)
    }

    /// Logits `[B, T, V]` and, when labels are given, the token cross-entropy of the shifted labels:
    /// their mean as `transformers`' causal LM loss, or their sum (for averaging over many batches).
    /// `targetWeights` (one per position, aligned with the shifted targets) makes the loss their
    /// weighted sum instead, as `crossEntropy(weights:)`. With `allLogits` false (training), only the
    /// positions that have a target are projected to the vocabulary: logits are `[counted, V]`.
    /// `features`: the inputs' `imageFeatures`, when the caller has already computed them.
    public func forward(_ inputs: ModelInputs, _ context: ForwardContext, reduction: Reduction = .mean,
                        targetWeights: [Float]? = nil, allLogits: Bool = true, features: Tensor? = nil) throws -> (logits: Tensor, loss: Tensor?) {
        try inputs.check(config)
        let features = features ?? imageFeatures(pixelValues: inputs.pixelValues, qformerInputIds: inputs.qformerInputIds,
                                                 qformerAttentionMask: inputs.qformerAttentionMask, context)
        return try languageModelForward(inputIds: inputs.inputIds, attentionMask: inputs.attentionMask, labels: inputs.labels,
                                        batch: inputs.batchSize, prefix: features, context, reduction: reduction,
                                        targetWeights: targetWeights, allLogits: allLogits)
    }

    /// The logits, or (when only the loss is wanted) just the loss computed on the positions that
    /// have a target: the vocabulary projection of every other position would be thrown away.
    func head(_ hidden: Tensor, labels: [Int32]?, batch b: Int, _ context: ForwardContext, reduction: Reduction,
              targetWeights: [Float]?, allLogits: Bool) -> (logits: Tensor, loss: Tensor?) {
        guard let labels else { return (languageModel.lmHead(hidden, context), nil) }
        let targets = shiftedTargets(labels, batch: b)
        if allLogits {
            let logits = languageModel.lmHead(hidden, context)
            return (logits, crossEntropy(reshape(logits, [targets.count, config.textConfig.vocabSize]), targets: targets,
                                         weights: targetWeights, reduction: reduction))
        }
        let counted = targets.indices.filter { targets[$0] != ignoreIndex }
        let logits = languageModel.lmHead(gatherRows(hidden, at: counted), context)
        return (logits, crossEntropy(logits, targets: counted.map { targets[$0] }, weights: targetWeights.map { w in counted.map { w[$0] } },
                                     reduction: reduction))
    }

    /// The language model's token embedding table, `[V, D_text]`.
    public var wordEmbeddings: Tensor { languageModel.embedTokens }

    /// Mixtures of the language model's token embeddings at the query positions: `weights`
    /// `[B * Q, V]` (each row a distribution over tokens) times the embedding table, `[B, Q, D_text]`.
    /// A scene written this way is what the language model reads before it has a Q-Former.
    public func tokenMixture(_ weights: Tensor) -> Tensor {
        let q = config.numQueryTokens
        return reshape(matmul(weights, languageModel.embedTokens), [weights.shape[0] / q, q, config.textConfig.hiddenSize])
    }

    /// The language model alone: logits `[B, T, V]` and the shifted-label loss when labels are
    /// given. Without `prefix` it reads text only (language pretraining on text); with `prefix`
    /// `[B, Q, D_text]`, the rows' image placeholders read those vectors in place of the image's.
    public func languageModelForward(inputIds: [Int32], attentionMask: [Int32], labels: [Int32]?, batch b: Int,
                                     prefix: Tensor? = nil, _ context: ForwardContext, reduction: Reduction = .mean,
                                     targetWeights: [Float]? = nil, allLogits: Bool = true) throws -> (logits: Tensor, loss: Tensor?) {
        let t = inputIds.count / max(b, 1)
        let embedded = try prefix.map { try inputEmbeddings(ids: inputIds, batch: b, features: $0) }
            ?? embedding(languageModel.embedTokens, ids: inputIds, shape: [b, t])
        let hidden = languageModel(embedded, keyMask: attentionMask, positions: (0..<t).map(Int32.init), cache: nil, context)
        return head(hidden, labels: labels, batch: b, context, reduction: reduction, targetWeights: targetWeights, allLogits: allLogits)
    }

    /// Loss weights that turn one batch of several micro-batches into the mean of their mean
    /// losses: each counted target of micro-batch m weighs 1 / (micro-batches x its counted targets).
    /// - targets: the shifted targets, row by row; rows: the number of rows of each micro-batch;
    ///   microBatches: the step's micro-batches when this batch holds only some of them (default: all).
    public static func microBatchWeights(_ targets: [Int32], rows: [Int], ofStep microBatches: Int? = nil) -> [Float] {
        let stepMicroBatches = microBatches ?? rows.count
        let length = targets.count / max(rows.reduce(0, +), 1)
        var weights = [Float](repeating: 0, count: targets.count)
        var start = 0
        for count in rows {
            let range = (start * length)..<((start + count) * length)
            let counted = targets[range].reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }
            for i in range where targets[i] != ignoreIndex { weights[i] = 1 / Float(stepMicroBatches * max(counted, 1)) }
            start += count
        }
        return weights
    }

    /// The target of each position: the next position's label, -100 at the end of each row.
    public func shiftedTargets(_ labels: [Int32], batch b: Int) -> [Int32] {
        let t = labels.count / max(b, 1)
        var targets = [Int32](repeating: ignoreIndex, count: labels.count)
        for bi in 0..<b {
            for i in 0..<max(t - 1, 0) { targets[bi * t + i] = labels[bi * t + i + 1] }
        }
        return targets
    }
}
