import ArgumentParser
import Foundation
import Metrics

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scores texts with ROUGE or BLEU, or a folder of MME replies, and prints JSON.",
        discussion: """
            Each metric matches its reference implementation: ROUGE Google's rouge-score, BLEU \
            sacrebleu's corpus_bleu (tokenizer 13a, case-sensitive, exp smoothing), MME the benchmark's \
            official eval_tool/calculation.py.
            """,
        subcommands: [ScoreRouge.self, ScoreBLEU.self, ScoreMME.self])
}

/// The two files a text metric compares, line by line.
struct TextPairFiles: ParsableArguments {
    @Option(help: "The references (ground truth), one text per line.")
    var references: String

    @Option(help: "The candidates (model outputs), one text per line, in the same order as the references.")
    var candidates: String

    @Flag(help: """
        Read each line as a JSON string, so that a text can hold line breaks (ROUGE-Lsum splits \
        sentences at them).
        """)
    var jsonl = false

    func read() throws -> (references: [String], candidates: [String]) {
        try TextInput.pairs(references: URL(fileURLWithPath: references), candidates: URL(fileURLWithPath: candidates),
                            jsonl: jsonl)
    }
}

struct ScoreRouge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rouge",
        abstract: "ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum, as Google's rouge-score computes them.",
        discussion: """
            Prints each pair's precision, recall and F-measure, and the corpus value of each type: the \
            mean of the per-pair F-measures (the paper's ROUGE columns, 0-1).
            """)

    @OptionGroup var files: TextPairFiles

    @Flag(help: "Porter-stem tokens longer than 3 characters (rouge-score's use_stemmer=True).")
    var stem = false

    func run() throws {
        let (references, candidates) = try files.read()
        let scores = RougeScorer(stemming: stem).score(references: references, candidates: candidates)
        func scoreJSON(_ score: RougeScore) -> [String: Double] {
            ["precision": score.precision, "recall": score.recall, "fmeasure": score.fmeasure]
        }
        try printJSON([
            "metric": "rouge",
            "stemming": stem,
            "pairs": references.count,
            "corpus": Dictionary(uniqueKeysWithValues: RougeType.allCases.map { ($0.rawValue, scores.meanF($0)) }),
            "per_pair": scores.samples.map { sample in
                Dictionary(uniqueKeysWithValues: RougeType.allCases.map { ($0.rawValue, scoreJSON(sample[$0])) })
            },
        ])
    }
}

struct ScoreBLEU: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bleu",
        abstract: "Corpus BLEU as sacrebleu's corpus_bleu computes it, and each pair's sentence BLEU.",
        discussion: """
            "bleu" is on the paper's 0-1 scale; "sacrebleu" holds sacrebleu's own 0-100 score and the \
            statistics behind it. Sentence BLEU uses sacrebleu's effective order unless told otherwise.
            """)

    @OptionGroup var files: TextPairFiles

    @Flag(inversion: .prefixedNo,
          help: "Leave n-gram orders a short candidate cannot have out of each pair's sentence BLEU.")
    var effectiveOrder = true

    func run() throws {
        let (references, candidates) = try files.read()
        let corpus = BLEU.corpus(references: references, candidates: candidates)
        let sentences = zip(references, candidates).map {
            BLEU.sentence(reference: $0, candidate: $1, effectiveOrder: effectiveOrder)
        }
        try printJSON([
            "metric": "bleu",
            "pairs": references.count,
            "bleu": corpus.value,
            "sacrebleu": [
                "score": corpus.score,
                "counts": corpus.statistics.matches,
                "totals": corpus.statistics.totals,
                "precisions": corpus.precisions,
                "bp": corpus.brevityPenalty,
                "sys_len": corpus.statistics.candidateLength,
                "ref_len": corpus.statistics.referenceLength,
                "signature": BLEU.signature,
            ] as [String: Any],
            "per_pair": sentences.map { ["bleu": $0.value, "score": $0.score] },
            "per_pair_effective_order": effectiveOrder,
        ])
    }
}

struct ScoreMME: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mme",
        abstract: "MME scores of a folder of result files, by the benchmark's official rules.",
        discussion: """
            The folder holds one file per subtask (existence.txt, count.txt, ..., code_reasoning.txt), \
            each line image<TAB>question<TAB>ground truth<TAB>reply, two consecutive questions per image. \
            Per subtask score = acc + acc+ (0-200); perception sums its 10 subtasks (max 2000), cognition \
            its 4 (max 800). Subtasks without a file are listed as missing.
            """)

    @Argument(help: "The folder of MME result files.")
    var folder: String

    func run() throws {
        let scores = try MME.score(MME.readResults(URL(fileURLWithPath: folder)))
        func maximum(_ category: MME.Category) -> Double {
            200 * Double(scores.subtasks.filter { $0.category == category }.count)
        }
        try printJSON([
            "metric": "mme",
            "subtasks": scores.subtasks.map { subtask -> [String: Any] in
                ["name": subtask.name, "category": subtask.category.rawValue, "acc": subtask.acc,
                 "acc_plus": subtask.accPlus, "score": subtask.score, "images": subtask.images,
                 "questions": subtask.labels.count, "other_replies": subtask.other]
            },
            "perception": scores.perception,
            "perception_max": maximum(.perception),
            "cognition": scores.cognition,
            "cognition_max": maximum(.cognition),
            "overall": scores.overall,
            "missing_subtasks": scores.missing,
        ])
    }
}

/// Prints a JSON object with sorted keys.
private func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
    print(String(decoding: data, as: UTF8.self))
}
