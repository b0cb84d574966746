import Data
import Engine
import Foundation
import Model
@testable import Pipeline
@testable import Study
import Testing

/// With the vision encoder frozen, training can read its kept outputs instead of rendering and
/// encoding the images each step; the loss and the gradients must be those of the pixels.
@Suite struct VisionOutputCacheTests {
    @Test(arguments: [[[5, 1, 6, 1]], [[5, 1], [6, 1], [11, 2]]])
    func keptOutputsGiveTheLossAndGradientsOfThePixels(microBatches: [[Int]]) throws {
        let (config, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: config.numQueryTokens, countPadding: false)
        let examples = Array(data.pretraining.samples.map(\.example).prefix(24))
        let model = InstructBlip(config: config, seed: 3)
        model.setTrainable(TrainableParts(spec: "qformer+language", layers: config.textConfig.numHiddenLayers)!)
        var losses: [Float] = [], gradients: [[[Float]]] = []
        for keep in [true, false] {
            let objective = try VisionLanguageObjective(model: model, encoder: encoder, data: data, train: examples, heldOut: [],
                                                        keepVisionOutputs: keep)
            #expect((objective.visionCache != nil) == keep)
            let loss = try objective.trainLoss(microBatches, .evaluation())
            loss.backward()
            losses.append(loss.scalar)
            gradients.append(model.parameters.trainable.map(\.gradValues))
            model.parameters.trainable.forEach { $0.zeroGrad() }
        }
        #expect(abs(losses[0] - losses[1]) <= 1e-6 * abs(losses[1]))
        for (a, b) in zip(gradients[0], gradients[1]) {
            let scale = max(b.map(abs).max() ?? 0, 1e-6)
            #expect(zip(a, b).map { abs($0 - $1) }.max()! <= 1e-5 * scale)
        }
    }

    @Test func eachImageGetsItsOwnOutputWhateverTheBatchItWasEncodedIn() throws {
        let (config, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let model = InstructBlip(config: config, seed: 3)
        model.setTrainable(TrainableParts(spec: "language", layers: config.textConfig.numHiddenLayers)!)
        let scenes = (0..<7).map { ImageSource.scene(SceneKey(seed: UInt64(100 + $0))) }
        let cache = try VisionOutputCache(model: model, data: data, images: scenes + scenes.reversed(), batch: 3)
        let asked = [scenes[6], scenes[0], scenes[4], scenes[0]]
        let direct = model.visionOutput(try data.pixels(asked), .evaluation())
        let kept = cache.outputs(asked)
        #expect(kept.shape == direct.shape)
        #expect(zip(kept.values, direct.values).map { abs($0 - $1) }.max()! <= 1e-5)
    }

    @Test func theEncoderIsFrozenOnlyWhenNoneOfItsParametersNorAdaptersTrain() throws {
        let (config, _, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let layers = config.textConfig.numHiddenLayers
        let model = InstructBlip(config: config, seed: 3)
        model.setTrainable(TrainableParts(spec: "paper:1", layers: layers)!)
        #expect(!model.visionIsFrozen)
        model.setTrainable(TrainableParts(spec: "adapters", layers: layers)!)
        #expect(model.visionIsFrozen)
        model.addLoRA(LoRAConfig(r: 2, loraAlpha: 4, targetModules: ["q_proj"]))
        model.setTrainable(TrainableParts(spec: "adapters", layers: layers)!)
        #expect(model.visionIsFrozen)

        let onVision = InstructBlip(config: config, seed: 3)
        onVision.addLoRA(LoRAConfig(r: 2, loraAlpha: 4, targetModules: ["qkv"]))
        onVision.setTrainable(TrainableParts(spec: "adapters", layers: layers)!)
        #expect(!onVision.visionIsFrozen)
    }

    @Test func keepingPaysOnlyWhenImagesComeBack() {
        let images = (0..<10).map { ImageSource.scene(SceneKey(seed: UInt64($0))) }
        #expect(VisionOutputCache.pays(rowsRead: 40, images: images + images))
        #expect(!VisionOutputCache.pays(rowsRead: 8, images: images))
    }
}
