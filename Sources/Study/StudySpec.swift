import Engine
import Model

/// What a study trains. The first five make the base model and the CLIP scorer, as InstructBLIP
/// was made (the design in docs/); `finetune` is one of the paper's experiments.
public enum StudyKind: String, Codable, Hashable, Sendable, CaseIterable {
    /// The ViT, supervised on per-cell scene targets (stand-in for EVA-CLIP).
    case vision
    /// The language model on corpus text alone (stand-in for Vicuna).
    case language
    /// Query tokens, Q-Former and projection on captions, ViT and LM frozen (stand-in for BLIP-2).
    case align
    /// The same on the instruction mixture: the base model (stand-in for InstructBLIP).
    case instruct
    /// The CLIP scorer, trained contrastively.
    case clip
    /// Fine-tuning on the VL-RewardBench-shaped set: the paper's experiments.
    case finetune
}

/// One study, fully resolved: `extends` and the profile merged, every key present.
/// Keys are snake_case in the files; model keys use the names of the `transformers` configs.
public struct StudySpec: Codable, Hashable, Sendable {
    /// Files marked abstract only serve as `extends` targets (defaults.toml, common parents).
    public var abstract = false
    public var kind: StudyKind = .finetune
    /// The study whose result this one starts from ("" for none: fresh weights).
    public var `init` = ""
    /// Studies to take single components from, over `init`: the vision encoder, the Q-Former
    /// (with query tokens and projection), the language model ("" to keep `init`'s).
    public var initVision = ""
    public var initQformer = ""
    public var initLanguage = ""
    /// A line for tables and `repro list`.
    public var description = ""
    /// The paper's size label for the trained components (small, medium, default, large, extra-large).
    public var size = "default"
    public var model = InstructBlipConfig()
    public var lora = LoRASpec()
    public var train = TrainSpec()
    public var eval = EvalSpec()
    /// Runs of the study with seeds `train.seed`, `train.seed + 1`, ...: each a study of its own (its
    /// seed in its hash and its name, `exp03-medium-enhanced@1`), so that every number can be given
    /// with its spread over seeds. Not part of the hash: the first seed's run is the study itself.
    public var replicates = 1
    /// A pretraining stage's minimums for its gate figures, by name without the stage (`shape` for
    /// gate.vision.shape): `repro run` and `repro show` warn about each figure below its minimum.
    /// Not part of the hash: changing a minimum retrains nothing.
    public var gates: [String: Double] = [:]

    public init() {}

    /// How many of the language model's layers train in full (`train.trainable`), for the report.
    public var trainedLanguageModelLayers: Int {
        TrainableParts(spec: train.trainable, layers: model.textConfig.numHiddenLayers)?.languageModelLayers.count ?? 0
    }

    /// The studies its weights come from, as `repro list` and `show` say it (nil: fresh weights).
    public var startsFrom: String? {
        let parts = [("", `init`), ("ViT of ", initVision), ("Q-Former of ", initQformer), ("LM of ", initLanguage)]
            .filter { !$0.1.isEmpty }.map { $0.0 + $0.1 }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}

/// LoRA as `peft` configures it; r = 0 means no adapters.
public struct LoRASpec: Codable, Hashable, Sendable {
    public var r = 0
    public var alpha: Float = 0
    public var dropout: Float = 0.05
    public var targets = ["q_proj", "k_proj", "v_proj", "o_proj"]
    public var rslora = false

    public init() {}

    /// The adapters' configuration, or nil for none.
    public var config: LoRAConfig? {
        r > 0 ? LoRAConfig(r: r, loraAlpha: alpha, targetModules: targets, loraDropout: dropout, useRslora: rslora) : nil
    }
}

/// How a study trains. The paper's arguments: micro-batch 2, 16 accumulation steps, 3 epochs,
/// a checkpoint every 100 steps, the best checkpoint by held-out loss.
public struct TrainSpec: Codable, Hashable, Sendable {
    public var epochs: Double = 3
    /// A cap on optimizer steps (0: none); pretraining stages are sized in steps.
    public var maxSteps = 0
    public var microBatch = 2
    public var accumulation = 16
    public var learningRate: Float = 1e-4
    public var schedule = LearningRateSchedule.Decay.linear
    /// Warm-up as a share of all optimizer steps.
    public var warmupRatio: Float = 0.0
    public var weightDecay: Float = 0.0
    public var maxGradNorm: Float = 1.0
    /// Optimizer steps between checkpoints (each one also measures the held-out loss).
    public var checkpointEvery = 100
    /// `eval_loss` keeps the checkpoint with the lowest held-out loss; `last` the final one.
    public var selectBest = "eval_loss"
    /// What trains: `all`, `adapters`, `paper:N`, or a `+`-joined list of `vision`, `qformer`, `language`.
    public var trainable = "paper:4"
    public var seed: UInt64 = 0
    /// Count padding tokens in the loss, as fixed-length padding without masking would.
    public var countPaddingInLoss = false
    /// Held-out samples for the loss measured at each checkpoint (0: the whole held-out split).
    public var evalSamples = 0
    /// Optimizer steps between points of the held-out curve, each the loss of held-out rows and of
    /// a fixed slice of training rows in evaluation mode (0: about 20 points a run). Trains nothing.
    public var evalEvery = 0
    /// Alignment and instruction tuning: weight of the loss that asks each query output to equal
    /// its part of the scene's code (relative mean squared error; 0: token loss only).
    public var sceneCodeWeight: Float = 0
    /// Train on the language model's token loss (false: the scene-code loss alone, without running
    /// the language model; needs `scene_code_weight` > 0).
    public var tokenLoss = true
    /// Alignment and instruction tuning: weight of a cross-entropy that asks each code position to
    /// name its words among the language model's embeddings (0: none).
    public var codeWordWeight: Float = 0
    /// Language stage: Gaussian noise added to each code position while training, as a share of
    /// its root mean square, so that the language model reads codes as inexact as the Q-Former's.
    public var codeNoise: Float = 0
    /// Whether the scene code carries the answer to the instruction at its answer position (false:
    /// that position stands empty, and the language model must answer from the scene's parts).
    public var codeAnswer = true
    /// Whether a long-form row's scene code holds its short answer ("red", "no"; nothing for an
    /// account) at the answer position, as a short question's does, rather than its whole sentence.
    public var codeShortAnswer = false
    /// Whether the scene code carries, after the answer, the instruction's words about the world
    /// (`SceneCode.askedWords`): a target that tells the Q-Former what was asked.
    public var codeAsked = true
    /// Alignment and instruction tuning: weight of the answer's and the asked words' part of the
    /// code-word cross-entropy, added again on its own beside `code_word_weight` (0: none), so that
    /// two positions are not drowned by the code's other positions.
    public var answerWordWeight: Float = 0
    /// Alignment and instruction tuning: train only on the corpus's questions of these skills
    /// (`Skill` names; captions are left out too; a skill listed n times has its rows n times).
    /// Empty: every caption and question.
    public var skills: [String] = []
    /// Fine-tuning: the rows it trains and is tested on.
    public var rows = FinetuneRows.finetune
    /// Threads of the study's arithmetic (0: every core). Part of the configuration because OpenBLAS's
    /// sums depend on it; a study with fewer threads than the machine has cores runs beside others.
    public var threads = 0

    public init() {}
}

/// The rows a fine-tuning study trains on and is tested on (`train.rows`).
public enum FinetuneRows: String, Codable, Hashable, Sendable, CaseIterable {
    /// The VL-RewardBench-shaped set: the paper's experiments.
    case finetune
    /// Captions and short-answer questions like the base model's instruction tuning, as many as the
    /// VL-RewardBench-shaped set's, on scenes of their own (`RetentionControlSet`): a fine-tuning
    /// that teaches nothing new.
    case pretraining

    /// A value that is none of the cases is one line naming the ones there are.
    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(String.self)
        guard let rows = FinetuneRows(rawValue: value) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(value)' is not \(Self.allCases.map(\.rawValue).joined(separator: " or "))"))
        }
        self = rows
    }
}

/// How a study's result is evaluated.
public struct EvalSpec: Codable, Hashable, Sendable {
    public var maxNewTokens = 48
    public var beams = 1
    /// Test samples to generate for (0: the whole test split).
    public var testSamples = 0
    /// Run the MME-style benchmark.
    public var benchmark = true
    /// The study that trains the CLIP scorer ("" to skip the CLIP score).
    public var clipStudy = ""

    public init() {}
}
