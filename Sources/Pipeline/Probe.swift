import Data
import Engine
import Foundation
import Study
import Model

/// One held-out question answered by a trained model with the image and with a blank one.
public struct ProbeAnswer: Sendable {
    public let scene: SceneKey
    public let skill: Skill
    public let question: String
    public let expected: String
    public let withImage: String
    public let withBlank: String

    /// Whether each reply is the expected answer, as the language gate counts it (case and punctuation aside).
    public var rightWithImage: Bool { Gates.normalizedAnswer(withImage) == Gates.normalizedAnswer(expected) }
    public var rightWithBlank: Bool { Gates.normalizedAnswer(withBlank) == Gates.normalizedAnswer(expected) }
}

extension Runner {
    /// The trained model of a study of one of `kinds`, with its adapters, and the folder it was
    /// saved in; `otherwise` says, after the study's kind, what to name instead.
    func answeringModel(_ name: String, kinds: [StudyKind], otherwise: String) throws -> (ResolvedStudy, InstructBlip, URL) {
        let study = try catalog.study(named: name)
        guard kinds.contains(study.spec.kind) else {
            throw StudyError(file: study.file, key: "kind", problem: "is \(study.spec.kind.rawValue); \(otherwise)")
        }
        let folder = try modelFile(of: study.name)
        let model = InstructBlip(config: study.spec.model, seed: 0)
        let weights = try verifiedModel(of: study.name, file: "model.safetensors")
        guard try model.parameters.load(from: weights).fresh.isEmpty else {
            throw StudyError(file: weights.path, key: nil, problem: "lacks tensors of \(study.name)'s model; run `repro run \(study.name) --force`")
        }
        let adapter = folder.appendingPathComponent("adapter")
        if FileManager.default.fileExists(atPath: adapter.path) { try model.loadAdapter(adapter) }
        return (study, model, folder)
    }

    /// A study's trained model answering `perSkill` held-out pretraining questions of each skill
    /// (scenes no stage trained on), each with its image and with the blank image of the blind
    /// control, so that a person can see whether the answers come from the picture.
    public func probe(_ name: String, perSkill: Int) throws -> (recipe: DataRecipe, answers: [ProbeAnswer]) {
        let (study, model, folder) = try answeringModel(name, kinds: [.align, .instruct, .finetune],
                                                        otherwise: "probe a study that answers from images (align, instruct or an experiment)")
        let data = try bundle(study.data)
        let encoder = PromptEncoder(tokenizer: data.tokenizer, queryTokens: study.spec.model.numQueryTokens, countPadding: false)
        let heldOut = PretrainingSplit(data.pretraining).heldOut(.question)
        let rows = Skill.allCases.flatMap { skill in heldOut.filter { $0.skill == skill }.prefix(perSkill) }
        let evaluator = Evaluator(data: data, encoder: encoder, spec: study.spec.eval, outputs: folder, clip: nil)
        let prompts = rows.map { (ImageSource.scene($0.scene), $0.query) }
        let seen = try evaluator.generate(model, prompts, blank: false, maxNewTokens: 16)
        let blind = try evaluator.generate(model, prompts, blank: true, maxNewTokens: 16)
        let answers = rows.indices.map { i in
            ProbeAnswer(scene: rows[i].scene, skill: rows[i].skill!, question: rows[i].query, expected: rows[i].response,
                        withImage: seen[i], withBlank: blind[i])
        }
        return (data.recipe, answers)
    }
}
