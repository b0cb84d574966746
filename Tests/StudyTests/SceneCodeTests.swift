import Data
import Engine
import Foundation
import Model
@testable import Pipeline
@testable import Study
import Testing

/// The scene code: what the language model reads in the language stage and the Q-Former learns to write.
@Suite struct SceneCodeTests {
    @Test func eachPositionIsTheMeanOfItsPartsTokenEmbeddings() throws {
        let (config, data, workspace) = try tinySetup(queryTokens: 16)
        defer { try? FileManager.default.removeItem(at: workspace) }
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: 16, countPadding: false)
        let sample = try #require(data.pretraining.samples.first { $0.form == .question && Scene(recipe: data.recipe, key: $0.scene).text != nil })
        let model = InstructBlip(config: config, seed: 3)
        let code = model.tokenMixture(encoder.sceneCodeWeights([sample.example], recipe: data.recipe, vocabulary: config.textConfig.vocabSize))
        #expect(code.shape == [1, 16, config.textConfig.hiddenSize])

        let table = model.parameters.byName["language_model.model.embed_tokens.weight"]!.values  // [V, D]
        let d = config.textConfig.hiddenSize
        func meanEmbedding(_ ids: [Int32]) -> [Float] {
            (0..<d).map { j in ids.map { table[Int($0) * d + j] }.reduce(0, +) / Float(ids.count) }
        }
        let sceneCode = SceneCode(Scene(recipe: data.recipe, key: sample.scene))
        // Cells and background, the answer, the asked words, then as many of the text's tokens as fit, one each.
        let asked = SceneCode.askedWords(sample.example.query, recipe: data.recipe)
        let parts = sceneCode.groups.map { encoder.encode(" " + $0) } + [encoder.encode(" " + sample.response)]
            + [asked.isEmpty ? [] : encoder.encode(" " + asked.joined(separator: " "))]
            + encoder.encode(" " + sceneCode.text!).prefix(4).map { [$0] }
        #expect(parts.count > 12 && parts.count <= 16)
        // The text's slots, which the align gate's text_code reads, are the last of those positions.
        let slots = encoder.textSlots(sceneCode.text!, asked: true)
        #expect(slots.map(\.position) == Array((SceneCode.groupCount + 2)..<parts.count))
        #expect(slots.map { [$0.token] } == Array(parts[(SceneCode.groupCount + 2)...]))
        let codeValues = code.values
        for position in 0..<16 {
            let got = Array(codeValues[(position * d)..<((position + 1) * d)])
            let want = position < parts.count && !parts[position].isEmpty ? meanEmbedding(parts[position]) : [Float](repeating: 0, count: d)
            #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-6 }, "position \(position)")
        }
    }

    @Test func withoutTheAnswerItsPositionStandsEmptyAndTheRestIsUnchanged() throws {
        let (_, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: 16, countPadding: false)
        let examples = Array(data.pretraining.samples.prefix(3).map(\.example))
        let with = encoder.sceneCodeWeights(examples, recipe: data.recipe, vocabulary: 300).values
        let without = encoder.sceneCodeWeights(examples, recipe: data.recipe, vocabulary: 300, answer: false).values
        for example in 0..<3 {
            for position in 0..<16 {
                let row = (example * 16 + position) * 300
                let (a, b) = (with[row..<(row + 300)], without[row..<(row + 300)])
                if position == encoder.answerPosition {
                    #expect(a.reduce(0, +) > 0.99 && b.allSatisfy { $0 == 0 }, "example \(example): the answer's position")
                } else {
                    #expect(a.elementsEqual(b), "example \(example), position \(position)")
                }
            }
        }
    }

    /// With `train.code_short_answer` a long-form row's answer position holds its short answer (an
    /// account's stands empty); without, the average of its sentence.
    @Test func aLongFormRowsCodeCanHoldItsShortAnswer() throws {
        let (_, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: 16, countPadding: false)
        let rows = [LongFormKind.explained, .correction, .account].map { kind in
            PretrainingSample(scene: SceneKey(seed: 1), form: .longForm, skill: nil, longForm: kind, query: "Where is the circle? Answer in a full sentence.",
                              response: "The circle sits at the top left of the picture.", shortAnswer: kind == .account ? "" : kind == .correction ? "no" : "top left")
        }
        func answerRow(_ example: Example) -> [Float] {
            let weights = encoder.sceneCodeWeights([example], recipe: data.recipe, vocabulary: 300).values
            return Array(weights[(encoder.answerPosition * 300)..<((encoder.answerPosition + 1) * 300)])
        }
        func averaging(_ text: String) -> [Float] {
            var row = [Float](repeating: 0, count: 300)
            let ids = encoder.encode(" " + text)
            for id in ids { row[Int(id)] += 1 / Float(ids.count) }
            return row
        }
        #expect(answerRow(rows[0].example(shortCodeAnswer: true)) == averaging("top left"))
        #expect(answerRow(rows[1].example(shortCodeAnswer: true)) == averaging("no"))
        #expect(answerRow(rows[2].example(shortCodeAnswer: true)).allSatisfy { $0 == 0 }, "an account answers nothing in a word")
        #expect(answerRow(rows[0].example(shortCodeAnswer: false)) == averaging(rows[0].response))
    }

    @Test func theAskedWordsAreTheInstructionsWordsAboutTheWorldOnceInOrder() {
        let recipe = DataRecipe()
        #expect(SceneCode.askedWords("Is there a large red star in this picture? Please answer yes or no.", recipe: recipe)
                == ["large", "red", "star"])
        #expect(SceneCode.askedWords("Are there two Circles at the top left, left of the red square?", recipe: recipe)
                == ["circles", "top", "left", "red", "square"])
        #expect(SceneCode.askedWords("What is written in the image?", recipe: recipe).isEmpty)
        // Only the recipe's world: a colour it does not draw is not a word about it.
        #expect(SceneCode.askedWords("Is there a cyan circle?", recipe: recipe) == ["circle"])
    }

    @Test func theAskedWordsFollowTheAnswerAndWithoutThemTheTextMovesUp() throws {
        let (_, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: 16, countPadding: false)
        let sample = try #require(data.pretraining.samples.first {
            $0.form == .question && !SceneCode.askedWords($0.example.query, recipe: data.recipe).isEmpty
                && Scene(recipe: data.recipe, key: $0.scene).text != nil
        })
        let with = encoder.sceneCodeWeights([sample.example], recipe: data.recipe, vocabulary: 300).values
        let without = encoder.sceneCodeWeights([sample.example], recipe: data.recipe, vocabulary: 300, asked: false).values
        func row(_ weights: [Float], _ position: Int) -> ArraySlice<Float> { weights[(position * 300)..<((position + 1) * 300)] }
        let askedIds = encoder.encode(" " + SceneCode.askedWords(sample.example.query, recipe: data.recipe).joined(separator: " "))
        #expect(encoder.askedPosition == encoder.answerPosition + 1)
        for id in 0..<300 {
            let share = Float(askedIds.filter { Int($0) == id }.count) / Float(askedIds.count)
            #expect(abs(row(with, encoder.askedPosition)[encoder.askedPosition * 300 + id] - share) <= 1e-6)
        }
        // Without the asked group, the text's first token takes its position, and so on.
        #expect(row(without, encoder.askedPosition).elementsEqual(row(with, encoder.askedPosition + 1)))
        let text = try #require(Scene(recipe: data.recipe, key: sample.scene).text?.string)
        #expect(encoder.textSlots(text, asked: false).first?.position == encoder.askedPosition)
        for position in 0...encoder.answerPosition { #expect(row(with, position).elementsEqual(row(without, position))) }
    }

    @Test func codeNoiseIsRelativeToEachRowSeededAndOnlyWhileTraining() throws {
        let (b, q, d) = (4, 16, 256)
        // Rows of very different scales: the noise follows each row's own root mean square.
        let values = (0..<(b * q * d)).map { i in Float((i % 7) - 3) * Float(1 + (i / d) % 5) }
        let code = Tensor(shape: [b, q, d], values: values)
        #expect(ForwardContext.evaluation().rowNoise(code, relative: 0.5).values == values)
        let noisy = ForwardContext(training: true, rng: SeededGenerator(seed: 7)).rowNoise(code, relative: 0.5).values
        #expect(noisy == ForwardContext(training: true, rng: SeededGenerator(seed: 7)).rowNoise(code, relative: 0.5).values)
        for row in 0..<(b * q) {
            let range = (row * d)..<((row + 1) * d)
            let rms = (values[range].reduce(0) { $0 + $1 * $1 } / Float(d)).squareRoot()
            let noise = zip(noisy[range], values[range]).map { $0 - $1 }
            let spread = (noise.reduce(0) { $0 + $1 * $1 } / Float(d)).squareRoot()
            #expect(abs(spread / rms - 0.5) < 0.08, "row \(row): noise \(spread) against a row RMS of \(rms)")
        }
    }

    @Test func withFewerPositionsThanPartsEveryPartStillCounts() throws {
        let (_, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: 4, countPadding: false)
        let weights = encoder.sceneCodeWeights(data.pretraining.samples.prefix(3).map(\.example), recipe: data.recipe, vocabulary: 300)
        #expect(weights.shape == [12, 300])
        for row in 0..<12 {
            let sum = weights.values[(row * 300)..<((row + 1) * 300)].reduce(0, +)
            #expect(abs(sum - 1) <= 1e-5, "row \(row) is a distribution over tokens")
        }
    }

    @Test func theCodeLossIsTheWeightedRelativeErrorOfTheQueryOutputs() throws {
        let (config, data, workspace) = try tinySetup()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: config.numQueryTokens, countPadding: false)
        let examples = Array(data.pretraining.samples.prefix(4).map(\.example))
        let model = InstructBlip(config: config, seed: 1)
        let plain = try VisionLanguageObjective(model: model, encoder: encoder, data: data, train: examples, heldOut: [])
        let coded = try VisionLanguageObjective(model: model, encoder: encoder, data: data, train: examples, heldOut: [], sceneCodeWeight: 0.5)
        let (tokenLoss, total) = try Autodiff.withoutGradients {
            (try plain.trainLoss([[0, 1, 2, 3]], .evaluation()).scalar, try coded.trainLoss([[0, 1, 2, 3]], .evaluation()).scalar)
        }
        let inputs = try encoder.batch(examples, data: data)
        let features = Autodiff.withoutGradients {
            model.imageFeatures(pixelValues: inputs.pixelValues, qformerInputIds: inputs.qformerInputIds,
                                qformerAttentionMask: inputs.qformerAttentionMask, .evaluation()).values.map(Double.init)
        }
        let target = model.tokenMixture(encoder.sceneCodeWeights(examples, recipe: data.recipe, vocabulary: 300)).values.map(Double.init)
        let squaredError = zip(features, target).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        let relative = squaredError / target.map { $0 * $0 }.reduce(0, +)
        #expect(abs(Double(total - tokenLoss) - 0.5 * relative) <= 1e-4 * relative)

        // The code term trains the Q-Former: its gradient reaches the query tokens.
        try coded.trainLoss([[0, 1, 2, 3]], .evaluation()).backward()
        #expect(model.parameters.byName["query_tokens"]!.gradValues.contains { $0 != 0 })
    }

    @Test func theAnswerWordLossCountsOnlyTheAnswerAndAskedPositionsAgain() throws {
        let (config, data, workspace) = try tinySetup(queryTokens: 16)
        defer { try? FileManager.default.removeItem(at: workspace) }
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: 16, countPadding: false)
        let examples = Array(data.pretraining.samples.filter { $0.form == .question }.prefix(4).map(\.example))
        let model = InstructBlip(config: config, seed: 1)
        func loss(words: Float = 0, answerWords: Float = 0, asked: Bool = true) throws -> Float {
            let objective = try VisionLanguageObjective(model: model, encoder: encoder, data: data, train: examples, heldOut: [],
                                                    sceneCodeWeight: 0.5, codeWordWeight: words, codeAsked: asked,
                                                    answerWordWeight: answerWords)
            return try Autodiff.withoutGradients { try objective.trainLoss([[0, 1, 2, 3]], .evaluation()).scalar }
        }
        let base = try loss()
        let (once, twice, everyPosition) = (try loss(answerWords: 1) - base, try loss(answerWords: 2) - base, try loss(words: 1) - base)
        #expect(once > 0.1, "a cross-entropy over the vocabulary at initialisation is far above zero")
        #expect(abs(twice - 2 * once) <= 1e-3 * once, "in proportion to its weight")
        // Two positions' mean differs from every position's: the term does not read the whole code.
        #expect(abs(once - everyPosition) > 1e-3)
        // Without the asked group, only the answer's position counts (and the text that moved up does not).
        #expect(abs((try loss(answerWords: 1, asked: false) - (try loss(asked: false))) - once) > 1e-3)
    }
}
