import Data
import Engine
import Foundation
import Model
@testable import Pipeline
@testable import Study
import Testing

/// The blind control must see nothing: every number beside it is worth only what it hides.
@Suite struct BlindControlTests {
    @Test func blankImagesLeaveTheModelNothingToTellScenesApart() throws {
        let (config, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let model = InstructBlip(config: config, seed: 3)
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: config.numQueryTokens, countPadding: false)
        let scenes = Array(Set(data.pretraining.samples.map(\.scene))).sorted { $0.seed < $1.seed }.prefix(2)
        let examples = scenes.map { Example(image: .scene($0), query: "Is there a red circle?", response: "yes") }
        func features(blank: Bool) throws -> (pixels: Tensor, rows: [[Float]]) {
            let inputs = try encoder.batch(examples, data: data, blank: blank)
            let features = model.imageFeatures(pixelValues: inputs.pixelValues, qformerInputIds: inputs.qformerInputIds,
                                               qformerAttentionMask: inputs.qformerAttentionMask, .evaluation())
            let row = features.count / 2
            return (inputs.pixelValues, (0..<2).map { Array(UnsafeBufferPointer(start: features.data + $0 * row, count: row)) })
        }
        let seen = try features(blank: false), blind = try features(blank: true)
        #expect(seen.rows[0] != seen.rows[1], "the two scenes should give different features, or this test proves nothing")
        #expect((0..<blind.pixels.count).allSatisfy { blind.pixels.data[$0] == 0 })
        #expect(blind.rows[0] == blind.rows[1])

        // The evaluator's test loss reads the blank image too: one scene's loss differs from the other's
        // with the images and equals it without (greedy replies of an untrained model are too coarse to tell).
        let evaluator = Evaluator(data: data, encoder: encoder, spec: EvalSpec(), outputs: workspace, clip: nil)
        let seenLosses = try examples.map { try evaluator.testLoss(model, [$0], blank: false).mean }
        let blindLosses = try examples.map { try evaluator.testLoss(model, [$0], blank: true).mean }
        #expect(seenLosses[0] != seenLosses[1])
        #expect(blindLosses[0] == blindLosses[1])

        // Each example's own loss (what the paired bootstrap resamples), in one batch, is the loss it has alone.
        let together = try evaluator.testLoss(model, examples, blank: false)
        #expect(together.items.count == examples.count)
        for (item, alone) in zip(together.items, seenLosses) { #expect(abs(item.sum / Double(item.tokens) - alone) < 1e-5 * alone) }
        let pooled = together.items.reduce(0) { $0 + $1.sum } / Double(together.items.reduce(0) { $0 + $1.tokens })
        #expect(abs(pooled - together.mean) < 1e-6 * together.mean)
    }
}
