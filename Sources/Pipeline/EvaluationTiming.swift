import Foundation
import Study

/// One phase of an evaluation and the seconds it took.
public struct EvaluationPhase: Sendable {
    public let name: String
    public let seconds: Double
}

extension Runner {
    /// The evaluation a run of `name` ends with (test loss, replies, ROUGE, BLEU, CLIP score, the
    /// MME-style benchmark, each with the blind control), repeated on its stored model with the
    /// outputs written to a temporary folder, and timed phase by phase.
    public func timeEvaluation(_ name: String) throws -> [EvaluationPhase] {
        let (study, model, _) = try answeringModel(name, kinds: [.instruct, .finetune],
                                                   otherwise: "its run ends with gates, not an evaluation; name instruct or an experiment")
        let data = try bundle(study.data)
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: study.spec.model.numQueryTokens,
                                    countPadding: study.spec.train.countPaddingInLoss)
        let outputs = FileManager.default.temporaryDirectory.appendingPathComponent("repro-eval-\(getpid())")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outputs) }
        var phases: [EvaluationPhase] = []
        var evaluator = Evaluator(data: data, encoder: encoder, spec: study.spec.eval, outputs: outputs, clip: try clipScorer(study))
        evaluator.phaseFinished = { phases.append(EvaluationPhase(name: $0, seconds: $1)) }
        _ = try evaluator.evaluate(model, test: data.finetuneRows(study.spec.train.rows).test)
        return phases
    }
}
