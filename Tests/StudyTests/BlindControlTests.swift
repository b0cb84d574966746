import Data
import Engine
import Foundation
import Model
@testable import Study
import Testing

/// The blind control must see nothing: every number beside it is worth only what it hides.
@Suite struct BlindControlTests {
    @Test func blankImagesLeaveTheModelNothingToTellScenesApart() throws {
        let (config, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let model = InstructBlip(config: config, seed: 3)
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: config.numQueryTokens, countPadding: false)
        // Two different scenes, one question.
        let scenes = Array(Set(data.pretraining.samples.map(\.scene))).prefix(2)
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

        // The evaluator's blind generations read the blank image too: the same reply for both scenes.
        let evaluator = Evaluator(data: data, encoder: encoder, spec: EvalSpec(), outputs: workspace, clip: nil)
        let replies = try evaluator.generate(model, examples.map { ($0.image, $0.query) }, blank: true, maxNewTokens: 4)
        #expect(replies[0] == replies[1])
    }
}
