import Engine
import Foundation
import Study

/// One phase of an evaluation and the seconds it took; under a profiler, also its matrix products.
public struct EvaluationPhase: Sendable {
    public let name: String
    public let seconds: Double
    /// Seconds in sgemm and the products' floating-point operations (zero without a profiler).
    public var gemmSeconds: Double
    public var gemmFlops: Double

    public init(name: String, seconds: Double, gemmSeconds: Double = 0, gemmFlops: Double = 0) {
        self.name = name
        self.seconds = seconds
        self.gemmSeconds = gemmSeconds
        self.gemmFlops = gemmFlops
    }
}

/// An evaluation repeated on a stored model: its phases, and its numbers beside those its run stored.
public struct EvaluationTiming: Sendable {
    public let phases: [EvaluationPhase]
    /// How many of the evaluation's numbers its stored run holds.
    public let compared: Int
    /// Those that differ from the stored run's: "condition name: now against stored".
    public let differing: [String]
}

extension Runner {
    /// The evaluation a run of `name` ends with (test loss, replies, ROUGE, BLEU, CLIP score, the
    /// MME-style benchmark, each with the blind control), repeated on its stored model with the
    /// outputs written to a temporary folder, and timed phase by phase; its numbers are compared
    /// with the stored run's, so that a faster evaluation shows that it computes the same bits.
    public func timeEvaluation(_ name: String) throws -> EvaluationTiming {
        let (study, model, _) = try answeringModel(name, kinds: [.instruct, .finetune],
                                                   otherwise: "its run ends with gates, not an evaluation; name instruct or an experiment")
        // The run's thread count, so that the numbers can be compared with its own.
        BLAS.useThreads(study.threads)
        let data = try bundle(study.data)
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: study.spec.model.numQueryTokens,
                                    countPadding: study.spec.train.countPaddingInLoss)
        let outputs = FileManager.default.temporaryDirectory.appendingPathComponent("repro-eval-\(getpid())")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outputs) }
        var phases: [EvaluationPhase] = []
        var evaluator = Evaluator(data: data, encoder: encoder, spec: study.spec.eval, outputs: outputs, clip: try clipScorer(study))
        // Under a profiler (`OpProfiler.current`), each phase also gets the products since the phase before.
        let profiler = OpProfiler.current
        var before = profiler?.report
        evaluator.phaseFinished = { name, seconds in
            var phase = EvaluationPhase(name: name, seconds: seconds)
            if let profiler, let previous = before {
                let now = profiler.report
                phase.gemmSeconds = now.gemmSeconds - previous.gemmSeconds
                phase.gemmFlops = now.gemmFlops - previous.gemmFlops
                before = now
            }
            phases.append(phase)
        }
        let measured = try evaluator.evaluate(model, test: data.finetuneRows(study.spec.train.rows).test)
        let stored = try store.flatMap { store in try store.latestRun(study: study.name, hash: study.hash).map { try store.metrics(runId: $0.id!) } } ?? []
        let storedValues = Dictionary(stored.map { ("\($0.condition) \($0.name)", $0.value) }, uniquingKeysWith: { last, _ in last })
        var compared = 0, differing: [String] = []
        for number in measured {
            let key = "\(number.condition) \(number.name)"
            guard let value = storedValues[key] else { continue }
            compared += 1
            if value.bitPattern != number.value.bitPattern { differing.append("\(key): \(number.value) against \(value)") }
        }
        return EvaluationTiming(phases: phases, compared: compared, differing: differing)
    }
}
