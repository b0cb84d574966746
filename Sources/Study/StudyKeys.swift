import Data
import Foundation

/// Every key a study file may set, with its meaning, in the order the reference lists them; the
/// model's config sections are listed as sections, since their keys are `transformers`' own.
/// A test checks this list against the schema the files are validated with, so it cannot drift.
public enum StudyKeys {
    /// `(key, meaning)`; a key ending in `.*` stands for every key of that table.
    public static let meanings: [(key: String, meaning: String)] = [
        ("extends", "the file this one overlays (its keys win), e.g. `defaults.toml`"),
        ("abstract", "only extended by other files, never trained itself"),
        ("kind", "what it trains: `vision`, `language`, `align`, `instruct`, `clip` (the base model's stages) or `finetune`"),
        ("init", "the study whose trained model it starts from (`\"\"`: fresh weights)"),
        ("init_vision", "a study to take the vision encoder from, over `init`'s"),
        ("init_qformer", "a study to take the Q-Former, query tokens and projection from, over `init`'s"),
        ("init_language", "a study to take the language model from, over `init`'s"),
        ("description", "one line for tables and `repro list`"),
        ("size", "the paper's size label of the trained components (small, medium, default, large, extra-large)"),
        ("replicates", "seeds to run it with (`train.seed`, the next, ...), each a run of its own; not hashed"),
        ("model.num_query_tokens", "the Q-Former's query tokens (image positions the language model reads)"),
        ("model.image_token_index", "the token id standing for the image in the prompt"),
        ("model.vision_config.*", "the ViT, in `transformers`' InstructBlipVisionConfig names"),
        ("model.qformer_config.*", "the Q-Former, in `transformers`' InstructBlipQFormerConfig names"),
        ("model.text_config.*", "the language model, in `transformers`' LlamaConfig names (vocabulary follows `data`)"),
        ("lora.r", "LoRA rank (0: no adapters)"),
        ("lora.alpha", "LoRA scaling numerator (the update is scaled by alpha / r)"),
        ("lora.dropout", "dropout on the adapters' input"),
        ("lora.targets", "module names that get adapters, as `peft`'s target_modules"),
        ("lora.rslora", "scale by alpha / sqrt(r) (rank-stabilised LoRA)"),
        ("train.epochs", "passes over the training rows"),
        ("train.max_steps", "a cap on optimizer steps (0: none)"),
        ("train.micro_batch", "rows per micro-batch"),
        ("train.accumulation", "micro-batches per optimizer step"),
        ("train.learning_rate", "peak learning rate of AdamW"),
        ("train.schedule", "decay after warm-up: `constant`, `linear` or `cosine`"),
        ("train.warmup_ratio", "warm-up as a share of all optimizer steps"),
        ("train.weight_decay", "AdamW's decoupled weight decay"),
        ("train.max_grad_norm", "gradient norm clip (0: none)"),
        ("train.checkpoint_every", "optimizer steps between checkpoints, each measuring the held-out loss"),
        ("train.select_best", "`eval_loss`: keep the checkpoint of lowest held-out loss; `last`: the final one"),
        ("train.trainable", "what trains: `all`, `adapters`, `paper:N` (ViT, Q-Former, last N LM layers) or `vision+qformer+language` parts"),
        ("train.seed", "seeds everything random in training: initialisation, data order, dropout"),
        ("train.count_padding_in_loss", "count padding tokens in the loss, as padding without masking would"),
        ("train.eval_samples", "held-out rows for the loss at each checkpoint (0: all)"),
        ("train.eval_every", "optimizer steps between points of the held-out curve (0: about 20 a run), each the loss of the first 64 held-out rows (at most `eval_samples`) and of as many training rows, without dropout"),
        ("train.scene_code_weight", "align and instruct: weight of the loss asking the Q-Former to write the scene code"),
        ("train.token_loss", "train on the language model's token loss (false: the scene-code loss alone)"),
        ("train.code_word_weight", "align and instruct: weight of the cross-entropy naming each code position's words"),
        ("train.code_noise", "language stage: noise on the scene code it reads, as a share of its root mean square"),
        ("train.code_answer", "the scene code carries the answer at its answer position"),
        ("train.code_asked", "the scene code carries the words the instruction asks about"),
        ("train.code_short_answer", "language and instruct: a long-form row's code holds its short answer, not its sentence"),
        ("train.answer_word_weight", "align and instruct: the answer's and asked words' word loss, counted again at this weight"),
        ("train.skills", "align and instruct: train only on questions of these skills, a skill listed n times n times over (empty: every row)"),
        ("train.rows", "finetune studies: `finetune` trains and tests on the VL-RewardBench-shaped set; `pretraining` on captions, short-answer questions and long-form rows like the base model's instruction tuning, as many as that set's, on scenes no other corpus draws (the retention measurement's positive control)"),
        ("train.threads", "threads of the study's arithmetic (0: every core); part of the hash, as OpenBLAS's sums depend on it"),
        ("eval.max_new_tokens", "longest generated reply"),
        ("eval.beams", "beam width (1: greedy)"),
        ("eval.test_samples", "test rows to generate replies for (0: all)"),
        ("eval.benchmark", "run the MME-style benchmark (with the blind control)"),
        ("eval.clip_study", "the study that trains the CLIP scorer (`\"\"`: no CLIP score)"),
        ("gates.*", "a minimum for one of the stage's gate figures (`repro show` lists them); warns, never retrains"),
        ("data.image_size", "side of the square images, in pixels"),
        ("data.shapes", "the shapes the world draws"),
        ("data.colors", "the colours the world draws"),
        ("data.sizes", "the object sizes"),
        ("data.fills", "the fills (solid, outlined)"),
        ("data.backgrounds", "the background colours"),
        ("data.min_objects", "fewest objects in a scene"),
        ("data.max_objects", "most objects in a scene"),
        ("data.text_probability", "chance that a scene shows text in its bottom row"),
        ("data.text_kinds", "the kinds of text a scene may show"),
        ("data.position_jitter", "largest shift of an object from its cell's centre, as a share of the cell"),
        ("data.pretraining_scenes", "scenes in the pretraining corpus"),
        ("data.questions_per_scene", "visual question rows per pretraining scene"),
        ("data.reading_rows_per_scene", "rows with the caption as text before the question"),
        ("data.long_form_rows_per_scene", "rows answered in sentences: an account of the scene, an explained answer, a corrected premise"),
        ("data.position_other_object", "position questions ask where one object lies from \"the other object\""),
        ("data.yes_no_fraction", "share of pretraining questions asked as yes/no"),
        ("data.skill_weights", "relative frequency of each skill among pretraining questions"),
        ("data.finetune_samples", "samples in the VL-RewardBench-shaped fine-tuning set"),
        ("data.finetune_test_fraction", "share of them held out for testing"),
        ("data.finetune_group_weights", "relative size of the general, hallucination and reasoning groups"),
        ("data.benchmark_images_per_subtask", "images per MME-style subtask (two questions each)"),
        ("data.vocabulary_size", "tokenizer vocabulary, and so the models' (special and byte tokens included)"),
        ("data.seed", "varies every scene of every corpus at once"),
    ]

    /// The reference as a Markdown table: each key, its value in `defaults.toml` of `directory`
    /// (what a study that extends it gets unless it sets the key), and its meaning.
    public static func reference(directory: URL) throws -> String {
        var loader = TreeLoader(directory: directory)
        let (spec, data) = try decode(try loader.resolve("defaults.toml"))
        var values = flatten(settableKeys(specTree(spec).table ?? [:]), prefix: "")
        if let recipe = StudyValue(foundation: try JSONSerialization.jsonObject(with: data.canonicalJSON))?.table {
            for (key, value) in recipe { values["data.\(key)"] = show(value) }
        }
        // What a study file gets when it does not set them (defaults.toml itself is abstract and extends nothing).
        values["extends"] = "\"\""
        values["abstract"] = "false"
        var lines = ["| key | `defaults.toml` | meaning |", "|---|---|---|"]
        for (key, meaning) in meanings {
            if key.hasSuffix(".*") {
                let prefix = String(key.dropLast())
                let members = values.keys.filter { $0.hasPrefix(prefix) }.sorted()
                let shown = members.map { "\($0.dropFirst(prefix.count)) \(values[$0]!)" }.joined(separator: ", ")
                lines.append("| `\(key)` | | \(meaning)\(shown.isEmpty ? "" : ": \(shown)") |")
            } else {
                lines.append("| `\(key)` | \(values[key].map { "`\($0)`" } ?? "") | \(meaning) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every key path the files may set, as the reference names them (`.*` for a model section and `gates`).
    static func settable() -> Set<String> {
        var keys = Set(flatten(settableKeys(specTree(StudySpec()).table ?? [:]), prefix: "").keys.map { key -> String in
            for section in ["model.vision_config.", "model.qformer_config.", "model.text_config."] where key.hasPrefix(section) {
                return section + "*"
            }
            return key
        })
        keys.insert("extends")
        keys.insert("gates.*")
        if let recipe = try? JSONSerialization.jsonObject(with: DataRecipe().canonicalJSON) as? [String: Any] {
            keys.formUnion(recipe.keys.map { "data.\($0)" })
        }
        return keys
    }

    private static func flatten(_ table: [String: StudyValue], prefix: String) -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in table {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if case .table(let inner) = value, key != "gates" {
                out.merge(flatten(inner, prefix: path)) { a, _ in a }
            } else if key != "gates" {
                out[path] = show(value)
            }
        }
        return out
    }

    private static func show(_ value: StudyValue) -> String {
        switch value {
        case .string(let text): return "\"\(text)\""
        case .boolean(let flag): return flag ? "true" : "false"
        case .integer(let number): return "\(number)"
        case .real(let number): return String(format: "%g", number)
        case .array(let items): return "[" + items.map(show).joined(separator: ", ") + "]"
        case .table(let fields): return "{ " + fields.keys.sorted().map { "\($0) = \(show(fields[$0]!))" }.joined(separator: ", ") + " }"
        }
    }
}
