import Study
import Data
import Engine
import Model

/// An objective over two lists of examples; the trainer counts them.
protocol SplitObjective: Objective {
    associatedtype Item
    var train: [Item] { get }
    var heldOut: [Item] { get }
}

extension SplitObjective {
    var trainCount: Int { train.count }
    var heldOutCount: Int { heldOut.count }

    /// The examples of one split, in their fixed order.
    func rows(_ split: EvaluationSplit) -> [Item] {
        switch split {
        case .heldOut: heldOut
        case .train: train
        }
    }
}

/// Align, instruct and fine-tune: InstructBLIP's token loss on (image, query, response) examples.
/// With `sceneCodeWeight` above zero (alignment and instruction tuning on rendered scenes), each
/// query output also learns to equal its part of the scene's code (`SceneCode`), the vectors the
/// language model learned to read in the language stage: a target per query, where the token loss
/// alone gives the Q-Former only what trickles back through a frozen language model.
final class VisionLanguageObjective: SplitObjective {
    let model: InstructBlip
    let encoder: PromptEncoder
    let data: DataBundle
    let train: [Example], heldOut: [Example]
    let sceneCodeWeight: Float
    /// Whether the language model's token loss trains too; without it (the Q-Former's first stage,
    /// as BLIP-2's) only the code loss does, and the language model is not run at all.
    let tokenLoss: Bool
    /// Weight of the code positions' word cross-entropy (`codeWordLoss`), beside the code loss.
    let codeWordWeight: Float
    /// Whether the code carries the answer (`train.code_answer`) and the asked words (`train.code_asked`).
    let codeAnswer: Bool, codeAsked: Bool
    /// Weight of the answer's and the asked words' code-word loss again on its own (`train.answer_word_weight`).
    let answerWordWeight: Float

    init(model: InstructBlip, encoder: PromptEncoder, data: DataBundle, train: [Example], heldOut: [Example],
         sceneCodeWeight: Float = 0, tokenLoss: Bool = true, codeWordWeight: Float = 0, codeAnswer: Bool = true,
         codeAsked: Bool = true, answerWordWeight: Float = 0, keepVisionOutputs: Bool = false) throws {
        self.model = model
        self.encoder = encoder
        self.data = data
        self.train = train
        self.heldOut = heldOut
        self.sceneCodeWeight = sceneCodeWeight
        self.tokenLoss = tokenLoss
        self.codeWordWeight = codeWordWeight
        self.codeAnswer = codeAnswer
        self.codeAsked = codeAsked
        self.answerWordWeight = answerWordWeight
        visionCache = keepVisionOutputs ? try VisionOutputCache(model: model, data: data, images: train.map(\.image)) : nil
    }

    var trainable: [Tensor] { model.parameters.trainable }

    /// The vision encoder's outputs for the training images, when they are kept (`keepVisionOutputs`).
    private(set) var visionCache: VisionOutputCache?

    /// The training batch's inputs and image features: from the kept vision outputs where there
    /// are some (the pixels are then not rendered: the inputs carry zeros of their shape, which only
    /// the batch size and the shape check read).
    private func inputsAndFeatures(_ examples: [Example], _ context: ForwardContext) throws -> (ModelInputs, Tensor) {
        let inputs = try encoder.batch(examples, data: data, blank: visionCache != nil)
        let features = visionCache.map {
            model.imageFeatures(visionOutput: $0.outputs(examples.map(\.image)), qformerInputIds: inputs.qformerInputIds,
                                qformerAttentionMask: inputs.qformerAttentionMask, context)
        } ?? model.imageFeatures(pixelValues: inputs.pixelValues, qformerInputIds: inputs.qformerInputIds,
                                 qformerAttentionMask: inputs.qformerAttentionMask, context)
        return (inputs, features)
    }

    /// Each training example's token count, tokenized once rather than again every step.
    private lazy var trainLengths = train.map { encoder.sequence($0, image: true).ids.count }

    /// Groups a fine-tuning step's micro-batches run in, each padded to its own longest row. In
    /// experiment 3's first 53 steps padding was 18.0% of the positions as one batch, 13.2% in two
    /// groups (7.2% had each micro-batch of 2 been padded alone, which would make the products small).
    static let lengthGroups = 2

    func trainLoss(_ microBatches: [[Int]], _ context: ForwardContext) throws -> Tensor {
        // One batch of all rows pads every row to the step's longest (transformers pads each
        // micro-batch to its own); micro-batches sorted by length and run in groups pad less, and
        // their weights keep the step's loss the mean of the micro-batches' means. Scene-code
        // stages keep one batch; so does counting padding, whose amount is what it measures.
        guard sceneCodeWeight == 0, tokenLoss, !encoder.countPadding, microBatches.count >= Self.lengthGroups else {
            return try jointLoss(microBatches, context)
        }
        let longest = microBatches.map { $0.map { trainLengths[$0] }.max() ?? 0 }
        let byLength = microBatches.indices.sorted { (longest[$0], $0) < (longest[$1], $1) }
        var total: Tensor?
        for group in 0..<Self.lengthGroups {
            let members = byLength[(group * byLength.count / Self.lengthGroups)..<((group + 1) * byLength.count / Self.lengthGroups)]
            let (inputs, features) = try inputsAndFeatures(members.flatMap { microBatches[$0] }.map { train[$0] }, context)
            let weights = InstructBlip.microBatchWeights(model.shiftedTargets(inputs.labels!, batch: inputs.batchSize),
                                                          rows: members.map { microBatches[$0].count }, ofStep: microBatches.count)
            let loss = try model.forward(inputs, context, targetWeights: weights, allLogits: false, features: features).loss!
            total = total.map { $0 + loss } ?? loss
        }
        return total!
    }

    /// The step's rows as one batch: the token loss, the code loss, or both.
    private func jointLoss(_ microBatches: [[Int]], _ context: ForwardContext) throws -> Tensor {
        let examples = microBatches.joined().map { train[$0] }
        let (inputs, features) = try inputsAndFeatures(examples, context)
        var tokens: Tensor?
        if tokenLoss {
            let weights = InstructBlip.microBatchWeights(model.shiftedTargets(inputs.labels!, batch: inputs.batchSize),
                                                          rows: microBatches.map(\.count))
            tokens = try model.forward(inputs, context, targetWeights: weights, allLogits: false, features: features).loss!
        }
        guard sceneCodeWeight > 0 else { return tokens! }
        let codeWeights = encoder.sceneCodeWeights(examples, recipe: data.recipe, vocabulary: model.config.textConfig.vocabSize,
                                                   answer: codeAnswer, asked: codeAsked)  // [B * Q, V]
        let target = Autodiff.withoutGradients { model.tokenMixture(codeWeights) }
        // Relative to the code's own mean square, so that the weight does not depend on the embeddings' scale.
        let meanSquare = max(mean(target * target).scalar, 1e-12)
        let difference = features - target
        var code = scale(mean(difference * difference), sceneCodeWeight / meanSquare)
        if codeWordWeight > 0 { code = code + scale(codeWordLoss(features, codeWeights), codeWordWeight) }
        if answerWordWeight > 0 {
            let positions: Set = codeAsked ? [encoder.answerPosition, encoder.askedPosition] : [encoder.answerPosition]
            code = code + scale(codeWordLoss(features, codeWeights, positions: positions), answerWordWeight)
        }
        return tokens.map { $0 + code } ?? code
    }

    /// Scale of the cosines that make a code position's logits (as CLIP's inverse temperature):
    /// raw products of vectors as short as word embeddings leave the softmax flat.
    static let codeWordSharpness: Float = 20

    /// Each code position read as logits over the word embeddings (sharpened cosines), and the
    /// cross-entropy of the words it stands for, weighted by their shares in it; the mean over
    /// positions that stand for words (of `positions` only, when given: query indices). A target
    /// per attribute word, where the code's mean squared error barely tells one colour (or "yes"
    /// from "no") from another.
    private func codeWordLoss(_ features: Tensor, _ codeWeights: Tensor, positions: Set<Int>? = nil) -> Tensor {
        let (rows, width) = (features.shape[0] * features.shape[1], features.shape[2])
        let vocabulary = codeWeights.shape[1]
        // Only the rows that stand for words get logits: with `positions`, 2 of every 16.
        var used: [Int] = [], picked: [Int] = [], targets: [Int32] = [], weights: [Float] = []
        for row in 0..<rows where positions?.contains(row % features.shape[1]) ?? true {
            let shares = UnsafeBufferPointer(start: codeWeights.data + row * vocabulary, count: vocabulary)
            for (id, share) in shares.enumerated() where share > 0 {
                if used.last != row { used.append(row) }
                picked.append(used.count - 1)
                targets.append(Int32(id))
                weights.append(share)
            }
        }
        // The words are the target: they stay put even where the language model trains.
        let words = Autodiff.withoutGradients { l2Normalize(model.wordEmbeddings) }  // [V, D]
        let rowsUsed = gatherRows(reshape(features, [rows, width]), at: used)  // [used, D]
        let logits = scale(matmul(l2Normalize(rowsUsed), words, transposeB: true), Self.codeWordSharpness)  // [used, V]
        return crossEntropy(logits, targets: targets, rows: picked, weights: weights.map { $0 / Float(used.count) })
    }

    func evaluationLoss(_ indices: [Int], of split: EvaluationSplit) throws -> (total: Double, count: Int) {
        // Pixels even where training reads kept vision outputs: the held-out rows have none kept.
        let inputs = try encoder.batch(indices.map { rows(split)[$0] }, data: data)
        let loss = try model.forward(inputs, .evaluation(), reduction: .sum, allLogits: false).loss!
        return (Double(loss.scalar), PromptEncoder.countedTokens(inputs.labels!))
    }
}

/// The language stage: the language model alone, reading each scene's code (`SceneCode`, written
/// with its own token embeddings) at the image positions, and answering about the scene as it will
/// later answer from the Q-Former's outputs. No pixels are involved.
final class LanguageObjective: SplitObjective {
    let model: InstructBlip
    let encoder: PromptEncoder
    let recipe: DataRecipe
    let train: [Example], heldOut: [Example]
    /// Noise on the code while training (`train.code_noise`).
    let codeNoise: Float
    /// Whether the code carries the answer (`train.code_answer`) and the asked words (`train.code_asked`).
    let codeAnswer: Bool, codeAsked: Bool

    init(model: InstructBlip, encoder: PromptEncoder, recipe: DataRecipe, train: [Example], heldOut: [Example],
         codeNoise: Float = 0, codeAnswer: Bool = true, codeAsked: Bool = true) {
        self.model = model
        self.encoder = encoder
        self.recipe = recipe
        self.train = train
        self.heldOut = heldOut
        self.codeNoise = codeNoise
        self.codeAnswer = codeAnswer
        self.codeAsked = codeAsked
    }

    var trainable: [Tensor] { model.parameters.trainable }

    /// The scenes' codes as the language model reads them, `[B, Q, D_text]`.
    func prefix(_ examples: [Example]) -> Tensor {
        model.tokenMixture(encoder.sceneCodeWeights(examples, recipe: recipe, vocabulary: model.config.textConfig.vocabSize,
                                                    answer: codeAnswer, asked: codeAsked))
    }

    /// The loss of `examples` read from their codes, and the tokens it covers; with `microBatches`
    /// (row counts), the mean of each micro-batch's mean loss.
    func loss(_ examples: [Example], _ context: ForwardContext, reduction: Reduction = .mean,
              microBatches: [Int]? = nil) throws -> (loss: Tensor, counted: Int) {
        let (ids, mask, labels, _) = encoder.sequences(examples, image: true)
        let weights = microBatches.map { InstructBlip.microBatchWeights(model.shiftedTargets(labels, batch: examples.count), rows: $0) }
        let loss = try model.languageModelForward(inputIds: ids, attentionMask: mask, labels: labels, batch: examples.count,
                                                  prefix: context.rowNoise(prefix(examples), relative: codeNoise), context,
                                                  reduction: reduction, targetWeights: weights,
                                                  allLogits: false).loss!
        return (loss, PromptEncoder.countedTokens(labels))
    }

    /// The step's loss, the mean of its micro-batches' mean token losses, computed in two groups of
    /// rows sorted by length, each padded to its own longest: a step of short answers with a few
    /// long-form rows is otherwise padded to the longest sentence.
    /// Each row reads the code with the noise the whole step would have given it.
    func trainLoss(_ microBatches: [[Int]], _ context: ForwardContext) throws -> Tensor {
        let examples = microBatches.joined().map { train[$0] }
        let sequences = examples.map { encoder.sequence($0, image: true) }
        let lengths = sequences.map(\.ids.count)
        // Each row's token weight: 1 / (its micro-batch's counted tokens x the step's micro-batches).
        var rowWeight: [Float] = []
        var start = 0
        for batch in microBatches {
            let counted = sequences[start..<(start + batch.count)].reduce(0) { $0 + PromptEncoder.countedTokens($1.labels) }
            rowWeight += [Float](repeating: 1 / Float(microBatches.count * max(counted, 1)), count: batch.count)
            start += batch.count
        }
        let noisy = context.rowNoise(prefix(examples), relative: codeNoise)  // [B, Q, D]
        let byLength = examples.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        let split = Self.bestSplit(byLength.map { lengths[$0] })
        var total: Tensor?
        for group in [Array(byLength[..<split]), Array(byLength[split...])] where !group.isEmpty {
            let (ids, mask, labels, _) = encoder.padded(group.map { sequences[$0] })
            let targets = model.shiftedTargets(labels, batch: group.count)
            let length = targets.count / group.count
            let weights = targets.indices.map { targets[$0] == ignoreIndex ? 0 : rowWeight[group[$0 / length]] }
            let (q, d) = (noisy.shape[1], noisy.shape[2])
            let prefix = reshape(gatherRows(reshape(noisy, [examples.count, q * d]), at: group), [group.count, q, d])
            let loss = try model.languageModelForward(inputIds: ids, attentionMask: mask, labels: labels, batch: group.count,
                                                      prefix: prefix, context, targetWeights: weights, allLogits: false).loss!
            total = total.map { $0 + loss } ?? loss
        }
        return total!
    }

    /// Where to cut lengths sorted ascending into two groups so that padding each to its longest
    /// costs the fewest positions: the first `k` rows pad to lengths[k - 1], the rest to the last.
    static func bestSplit(_ lengths: [Int]) -> Int {
        guard let longest = lengths.last else { return 0 }
        func positions(_ k: Int) -> Int { k * lengths[k - 1] + (lengths.count - k) * longest }
        return (1...lengths.count).min { (positions($0), $0) < (positions($1), $1) }!
    }

    func evaluationLoss(_ indices: [Int], of split: EvaluationSplit) throws -> (total: Double, count: Int) {
        let (loss, counted) = try loss(indices.map { rows(split)[$0] }, .evaluation(), reduction: .sum)
        return (Double(loss.scalar), counted)
    }
}

extension Example {
    /// The rendered scene an example shows (pretraining examples, the only ones with a scene code, always show one).
    func scene(_ recipe: DataRecipe) -> Scene {
        guard case .scene(let key) = image else { preconditionFailure("a scene code asked of an example whose image is a file") }
        return Scene(recipe: recipe, key: key)
    }
}

/// The vision stage: the ViT with classification heads on each scene's targets.
final class VisionObjective: SplitObjective {
    let model: InstructBlip
    let probe: VisionProbe
    let data: DataBundle
    let train: [SceneKey], heldOut: [SceneKey]

    /// The heads, in the order `targets` lists their classes. `patch_cell` asks each patch token
    /// which cell it lies in: without it the patches carried what they show but hardly where, and
    /// the Q-Former's queries had nothing to find their cells by (see docs/findings.md, vision stage). `column_relation`
    /// and `row_relation` ask each of two objects where it lies from the other, so that a position
    /// question reads one object's patches as a colour question does (without them the Q-Former's
    /// position answers stayed near a blank image's; see docs/findings.md, vision stage).
    static let heads: [VisionProbe.Head] = [
        .init(name: "shape", classes: VisionTargets.shapeClasses, reads: .cell),
        .init(name: "color", classes: VisionTargets.colorClasses, reads: .cell),
        .init(name: "size", classes: VisionTargets.sizeClasses, reads: .cell),
        .init(name: "fill", classes: VisionTargets.fillClasses, reads: .cell),
        .init(name: "column_relation", classes: VisionTargets.relationClasses, reads: .cell),
        .init(name: "row_relation", classes: VisionTargets.relationClasses, reads: .cell),
        .init(name: "background", classes: VisionTargets.backgroundClasses, reads: .classToken(slots: 1)),
        .init(name: "text_kind", classes: VisionTargets.textKindClasses, reads: .classToken(slots: 1)),
        .init(name: "text", classes: VisionTargets.characterClasses, reads: .classToken(slots: VisionTargets.maxTextLength)),
        .init(name: "patch_cell", classes: Cell.all.count, reads: .patch),
        .init(name: "patch_shape", classes: VisionTargets.shapeClasses, reads: .patch),
        .init(name: "patch_fill", classes: VisionTargets.fillClasses, reads: .patch),
    ]

    init(model: InstructBlip, probe: VisionProbe, data: DataBundle, train: [SceneKey], heldOut: [SceneKey]) {
        self.model = model
        self.probe = probe
        self.data = data
        self.train = train
        self.heldOut = heldOut
    }

    var trainable: [Tensor] { model.parameters.trainable + probe.parameters }

    /// Each head's targets for a batch of scenes, in the order of the heads' logits.
    static func targets(_ scenes: [Scene], patchCells: [Int]) -> [[Int32]] {
        let all = scenes.map(VisionTargets.init)
        func flat(_ field: (VisionTargets) -> [Int]) -> [Int32] { all.flatMap { field($0).map(Int32.init) } }
        return [flat(\.shape), flat(\.color), flat(\.size), flat(\.fill), flat(\.columnRelation), flat(\.rowRelation),
                flat { [$0.background] }, flat { [$0.textKind] }, flat(\.textCharacters), flat { _ in patchCells },
                flat { t in patchCells.map { t.shape[$0] } }, flat { t in patchCells.map { t.fill[$0] } }]
    }

    func logitsAndTargets(_ keys: [SceneKey], _ context: ForwardContext) -> ([Tensor], [[Int32]]) {
        return (probe.logits(model, pixels: data.pixels(keys), context), Self.targets(keys.map { Scene(recipe: data.recipe, key: $0) }, patchCells: probe.patchCells))
    }

    /// The sum of the heads' mean cross-entropies.
    func loss(_ keys: [SceneKey], _ context: ForwardContext) -> Tensor {
        let (logits, targets) = logitsAndTargets(keys, context)
        return zip(logits, targets).map { crossEntropy($0, targets: $1) }.reduce(Tensor(shape: [], values: [0])) { $0 + $1 }
    }

    func trainLoss(_ microBatches: [[Int]], _ context: ForwardContext) throws -> Tensor {
        // Every micro-batch has the same number of cells and slots, so one batch gives the same mean.
        loss(microBatches.joined().map { train[$0] }, context)
    }

    func evaluationLoss(_ indices: [Int], of split: EvaluationSplit) throws -> (total: Double, count: Int) {
        (Double(loss(indices.map { rows(split)[$0] }, .evaluation()).scalar) * Double(indices.count), indices.count)
    }
}

/// The CLIP scorer: the contrastive loss over batches of (scene, caption) pairs.
final class ClipObjective: SplitObjective {
    let model: ClipModel
    let encoder: PromptEncoder
    let data: DataBundle
    let train: [Example], heldOut: [Example]

    init(model: ClipModel, encoder: PromptEncoder, data: DataBundle, train: [Example], heldOut: [Example]) {
        self.model = model
        self.encoder = encoder
        self.data = data
        self.train = train
        self.heldOut = heldOut
    }

    var trainable: [Tensor] { model.parameters.trainable }

    func embeddings(_ examples: [Example], _ context: ForwardContext) throws -> (images: Tensor, texts: Tensor) {
        let pixels = try data.pixels(examples.map(\.image))
        let (ids, mask) = clipText(examples.map(\.response), encoder: encoder, limit: model.config.maxPositions)
        return (model.imageEmbeddings(pixels, context), model.textEmbeddings(ids: ids, mask: mask, batch: examples.count, context))
    }

    func trainLoss(_ microBatches: [[Int]], _ context: ForwardContext) throws -> Tensor {
        // Each micro-batch is its own contrastive problem (its negatives are its own pairs).
        let losses = try microBatches.map { indices in
            let (images, texts) = try embeddings(indices.map { train[$0] }, context)
            return model.contrastiveLoss(images: images, texts: texts)
        }
        return scale(losses.dropFirst().reduce(losses[0], +), 1 / Float(losses.count))
    }

    func evaluationLoss(_ indices: [Int], of split: EvaluationSplit) throws -> (total: Double, count: Int) {
        let (images, texts) = try embeddings(indices.map { rows(split)[$0] }, .evaluation())
        return (Double(model.contrastiveLoss(images: images, texts: texts).scalar) * Double(indices.count), indices.count)
    }
}

/// Texts as the CLIP scorer reads them: token ids right-padded, cut at `limit` tokens.
func clipText(_ texts: [String], encoder: PromptEncoder, limit: Int) -> (ids: [Int32], mask: [Int32]) {
    let rows = texts.map { Array(encoder.encode($0).prefix(limit)) }
    let length = max(1, rows.map(\.count).max() ?? 1)
    var ids: [Int32] = [], mask: [Int32] = []
    for row in rows {
        ids += row + [Int32](repeating: Int32(Tokenizer.padID), count: length - row.count)
        mask += [Int32](repeating: 1, count: row.count) + [Int32](repeating: 0, count: length - row.count)
    }
    return (ids, mask)
}
