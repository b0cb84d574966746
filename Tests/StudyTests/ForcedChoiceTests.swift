import Data
import Engine
import Foundation
import Model
@testable import Pipeline
@testable import Study
import Testing

/// The benchmark's forced choice: the share of questions whose right answer ("yes" or "no") the model
/// finds likelier as its reply than the wrong one.
@Suite struct ForcedChoiceTests {
    @Test func forcedChoiceCountsTheQuestionsWhoseRightAnswerIsTheLikelierReply() throws {
        var (config, tiny, workspace) = try tinySetup()
        // Wide weights, so that the choice changes from question to question (at 0.02 it is the same for all).
        config.textConfig.initializerRange = 1
        defer { try? FileManager.default.removeItem(at: workspace) }
        var recipe = tiny.recipe
        recipe.benchmarkImagesPerSubtask = 1
        let data = try DataBundle(recipe: recipe, workspace: Workspace(workspace))
        let model = InstructBlip(config: config, seed: 3)
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: config.numQueryTokens, countPadding: false)
        let evaluator = Evaluator(data: data, encoder: encoder, spec: EvalSpec(), outputs: workspace, clip: nil)
        let questions = data.benchmark.questions, v = config.textConfig.vocabSize
        #expect(encoder.encode("yes").count > 1, "this tokenizer writes \"yes\" in two tokens: the choice reads beyond the first")

        /// log P(answer as the reply | prompt), recounted from a teacher-forced forward pass of the
        /// question with the answer as its response: the answer's tokens, not the end of sequence.
        func logProbability(_ question: BenchmarkQuestion, _ answer: String, blank: Bool) throws -> Double {
            let inputs = try encoder.batch([Example(image: .scene(question.scene!), query: question.question, response: answer)],
                                           data: data, blank: blank)
            let logits = try Autodiff.withoutGradients { try model.forward(inputs, .evaluation()).logits.values }
            let start = encoder.prompt(question.question).count - 1
            return encoder.encode(answer).enumerated().reduce(0.0) { total, token in
                let row = logits[((start + token.offset) * v)..<((start + token.offset + 1) * v)].map(Double.init)
                let top = row.max()!
                return total + row[Int(token.element)] - top - log(row.reduce(0) { $0 + exp($1 - top) })
            }
        }
        for blank in [false, true] {
            let right = try questions.filter { question in
                let yes = try logProbability(question, "yes", blank: blank), no = try logProbability(question, "no", blank: blank)
                return question.answer == "Yes" ? yes > no : no > yes
            }.count
            let expected = Double(right) / Double(questions.count)
            #expect(expected > 0 && expected < 1 && expected != 0.5, "a share of 0, 1/2 or 1 would also come from a choice that ignores the question")
            let folder = workspace.appendingPathComponent(blank ? "blind" : "image")
            #expect(try evaluator.benchmark(model, blank: blank, folder: folder).forcedChoice == expected, "blank \(blank)")
        }
    }
}
