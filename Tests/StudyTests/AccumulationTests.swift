import Data
import Engine
import Foundation
import Model
@testable import Pipeline
@testable import Study
import Testing

/// A tiny model (two query tokens) and the data of a tiny recipe in a temporary workspace (the caller removes it).
func tinySetup(queryTokens: Int = 2) throws -> (InstructBlipConfig, DataBundle, workspace: URL) {
    var config = InstructBlipConfig()
    config.visionConfig.hiddenSize = 16
    config.visionConfig.intermediateSize = 16
    config.visionConfig.numHiddenLayers = 1
    config.visionConfig.numAttentionHeads = 2
    config.visionConfig.imageSize = 32
    config.visionConfig.patchSize = 16
    config.qformerConfig.hiddenSize = 16
    config.qformerConfig.intermediateSize = 16
    config.qformerConfig.numHiddenLayers = 1
    config.qformerConfig.numAttentionHeads = 2
    config.qformerConfig.encoderHiddenSize = 16
    config.qformerConfig.vocabSize = 300
    config.textConfig.hiddenSize = 16
    config.textConfig.intermediateSize = 32
    config.textConfig.numHiddenLayers = 1
    config.textConfig.numAttentionHeads = 2
    config.textConfig.vocabSize = 300
    config.numQueryTokens = queryTokens
    var recipe = DataRecipe()
    recipe.imageSize = 32
    recipe.pretrainingScenes = 20
    recipe.vocabularySize = 300
    let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    return (config, try DataBundle(recipe: recipe, workspace: Workspace(workspace)), workspace)
}

/// A step's loss (with its gradients in `model`) against the mean of `microBatches`' own losses,
/// each from `separate`: equal within float rounding, gradients too.
func expectStepEqualsMeanOfMicroBatches(_ model: InstructBlip, step: Tensor, microBatches: [[Int]],
                                        separate: ([Int]) throws -> Tensor) throws {
    step.backward()
    let stepGradients = model.parameters.trainable.map(\.gradValues)
    model.parameters.trainable.forEach { $0.zeroGrad() }
    var mean = 0.0
    for batch in microBatches {
        let loss = try separate(batch)
        mean += Double(loss.scalar) / Double(microBatches.count)
        loss.backward(seed: 1 / Float(microBatches.count))
    }
    #expect(abs(Double(step.scalar) - mean) <= 1e-5 * mean)
    for (a, b) in zip(stepGradients, model.parameters.trainable.map(\.gradValues)) {
        let scale = max(b.map(abs).max() ?? 0, 1e-6)
        #expect(zip(a, b).map { abs($0 - $1) }.max()! <= 1e-4 * scale)
    }
}

/// Running several micro-batches as one weighted batch must equal gradient accumulation.
@Suite struct AccumulationTests {
    @Test func oneWeightedBatchEqualsTheMeanOfMicroBatchLosses() throws {
        let (config, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: config.numQueryTokens, countPadding: false)
        let examples = data.pretraining.samples.prefix(6).map(\.example)
        let model = InstructBlip(config: config, seed: 1)
        let objective = try VisionLanguageObjective(model: model, encoder: encoder, data: data, train: Array(examples), heldOut: [])
        let groups = [[0, 1], [2, 3], [4, 5]]

        try expectStepEqualsMeanOfMicroBatches(model, step: try objective.trainLoss(groups, .evaluation()), microBatches: groups) { group in
            try model.forward(encoder.batch(group.map { examples[$0] }, data: data), .evaluation()).loss!
        }
    }
}

/// The language stage runs a step in two groups of rows sorted by length, each padded to its own
/// longest: the loss and the gradients are those of the micro-batches' mean losses all the same.
@Suite struct LanguageLengthGroupTests {
    @Test func groupsByLengthGiveTheMeanOfMicroBatchLosses() throws {
        let (config, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: config.numQueryTokens, countPadding: false)
        let examples = Array(data.pretraining.samples.prefix(8).map(\.example))
        let lengths = examples.map { encoder.sequence($0, image: true).ids.count }
        #expect((1..<examples.count).contains(LanguageObjective.bestSplit(lengths.sorted())), "one group would not exercise the split")
        let model = InstructBlip(config: config, seed: 1)
        let objective = LanguageObjective(model: model, encoder: encoder, recipe: data.recipe, train: examples, heldOut: [])
        let microBatches = [[0, 1, 2, 3, 4], [5, 6, 7]]

        try expectStepEqualsMeanOfMicroBatches(model, step: try objective.trainLoss(microBatches, .evaluation()), microBatches: microBatches) { batch in
            try objective.loss(batch.map { examples[$0] }, .evaluation()).loss
        }
    }

    /// The cut minimises the padded positions: [3, 3, 4, 10] pads to 3 x 4 + 10 at k = 3.
    @Test func theCutPadsTheFewestPositions() {
        #expect(LanguageObjective.bestSplit([3, 3, 4, 10]) == 3)
        #expect(LanguageObjective.bestSplit([5, 5, 5]) == 1)
        #expect(LanguageObjective.bestSplit([2, 9, 9, 9]) == 1)
    }
}
