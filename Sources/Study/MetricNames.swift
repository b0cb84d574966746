/// The names under which runs store their numbers, shared by the pipeline that writes them and
/// the reports that read them.
public enum MetricName {
    /// Conditions: the real images, and the blind control (every image replaced by a blank one).
    public static let image = "image"
    public static let blind = "blind"

    /// Mean token cross-entropy on the test split's responses.
    public static let testLoss = "test_loss"
    /// Corpus ROUGE F-measures and BLEU (0-1) of the generated responses against the preferred ones.
    public static let rouge1 = "rouge1", rouge2 = "rouge2", rougeL = "rougeL", bleu = "bleu"
    /// Mean cosine between each test image and the generated response, by the CLIP scorer.
    public static let clipScore = "clip_score"
    /// MME-style totals, and `mme.<subtask>` for each subtask's acc + acc+.
    public static let mmePerception = "mme_perception", mmeCognition = "mme_cognition", mmeOverall = "mme_overall"
    public static func mme(_ subtask: String) -> String { "mme.\(subtask)" }
    /// Share of the MME-style replies that are a yes or a no (MME scores any other reply wrong).
    public static let mmeYesNoShare = "mme_yes_no_share"
    /// Mean ROUGE-L F-measure of answers to long-form rows on held-out pretraining scenes.
    public static let longFormRougeL = "long_form_rougeL"
    /// The loss of a uniform guess over the vocabulary, ln(vocabulary size): a test loss above it is worse than guessing.
    public static let uniformLoss = "uniform_loss"
    /// The share (0-1) of MME-style questions whose right answer the model finds likelier as its
    /// reply than the wrong one ("yes" against "no", by log-probability): it sees whether or not it
    /// still replies yes or no, which MME's own score needs.
    public static let mmeForcedChoice = "mme_forced_choice"
    /// Parameter counts of the trained model.
    public static let parameters = "parameters", trainableParameters = "trainable_parameters"
    /// The best checkpoint's step and held-out loss.
    public static let bestStep = "best_step", bestEvalLoss = "best_eval_loss"
    /// A pretraining stage's gate figures, `gate.<name>` (e.g. gate.vision.color).
    public static func gate(_ name: String) -> String { "gate.\(name)" }
}
