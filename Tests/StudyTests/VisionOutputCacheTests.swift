import Data
import Engine
import Foundation
import Model
@testable import Study
import Testing

/// With the vision encoder frozen, training reads its kept outputs instead of rendering and encoding
/// the images each step; the loss and the gradients must be those of the model run on the pixels.
@Suite struct VisionOutputCacheTests {
    @Test func keptOutputsGiveTheLossAndGradientsOfThePixels() throws {
        let (config, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: config.numQueryTokens, countPadding: false)
        let examples = Array(data.pretraining.samples.prefix(8).map(\.example))
        let model = InstructBlip(config: config, seed: 3)
        model.setTrainable(TrainableParts(spec: "qformer+language", layers: config.textConfig.numHiddenLayers)!)
        #expect(model.visionIsFrozen)
        let objective = try VisionLanguageObjective(model: model, encoder: encoder, data: data, train: examples, heldOut: [])
        let rows = [5, 1, 6, 1]

        let kept = try objective.trainLoss([rows], .evaluation())
        kept.backward()
        let keptGradients = model.parameters.trainable.map(\.gradValues)
        model.parameters.trainable.forEach { $0.zeroGrad() }

        let direct = try model.forward(encoder.batch(rows.map { examples[$0] }, data: data), .evaluation()).loss!
        direct.backward()
        #expect(abs(kept.scalar - direct.scalar) <= 1e-6 * abs(direct.scalar))
        for (a, b) in zip(keptGradients, model.parameters.trainable.map(\.gradValues)) {
            let scale = max(b.map(abs).max() ?? 0, 1e-6)
            #expect(zip(a, b).map { abs($0 - $1) }.max()! <= 1e-5 * scale)
        }
    }

    @Test func aTrainingEncoderIsNotKept() throws {
        let (config, _, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let model = InstructBlip(config: config, seed: 3)
        model.setTrainable(TrainableParts(spec: "paper:1", layers: config.textConfig.numHiddenLayers)!)
        #expect(!model.visionIsFrozen)
        model.setTrainable(TrainableParts(spec: "adapters", layers: config.textConfig.numHiddenLayers)!)
        #expect(model.visionIsFrozen)
    }
}
