/// Fine-tuning rows that teach the base model nothing new: rows of the pretraining corpus's kinds
/// (the `forms` asked for, say captions, short-answer questions and long-form rows: what the base model was
/// instruction-tuned on), on scenes of a seed range that no other corpus draws from
/// (`Corpus.retentionControl`), as many as the fine-tuning set's samples and split as it is.
/// A model fine-tuned on them should keep what it could do: the retention measurement's positive control.
public struct RetentionControlSet: Sendable {
    public let train: [PretrainingSample]
    public let test: [PretrainingSample]

    /// The forms of the base model's instruction mixture, which the positive control trains on.
    public static let instructionForms: [PretrainingSample.Form] = [.caption, .question, .longForm]

    public init(recipe: DataRecipe, forms: [PretrainingSample.Form]) {
        let corpus = PretrainingCorpus(recipe: recipe, scenes: recipe.finetuneSamples, of: .retentionControl)
        var byScene: [[PretrainingSample]] = []
        for sample in corpus.samples where forms.contains(sample.form) {
            if byScene.last?.first?.scene == sample.scene { byScene[byScene.count - 1].append(sample) } else { byScene.append([sample]) }
        }
        // One row per scene, each scene's next row in turn: the corpus's mix of forms, and no scene
        // on both sides of the split (as in the fine-tuning set, one sample per scene).
        let rows = byScene.enumerated().map { index, rows in rows[index % rows.count] }
        (train, test) = seededSplit(rows, testFraction: recipe.finetuneTestFraction, seed: recipe.seed)
    }
}
