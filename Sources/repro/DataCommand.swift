import ArgumentParser
import Data
import Engine
import Foundation
import Pipeline
import Study

/// `repro data`: look at the generated data and measure it.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Shows and measures the data: the rendered world, its three corpora and the tokenizer.",
        discussion: """
            The project renders its own data: scenes of shapes on a 3x3 grid (sometimes with text), \
            a pretraining corpus, a fine-tuning set shaped like VL-RewardBench, an MME-style benchmark, and the \
            retention control's rows (like the instruction mixture's, on scenes of their own). \
            Everything is a pure function of the data recipe: by default the one a study trains on \
            (--study, resolved with its profile), or a recipe file given with --recipe.
            """,
        subcommands: [DataPreview.self, DataStats.self])
}

/// Options shared by the data subcommands: the data a study trains on, unless a recipe file is given.
struct RecipeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A data recipe as JSON (snake_case keys; omitted keys keep the code's defaults), instead of a study's.", valueName: "file"))
    var recipe: String?

    @Option(help: "The study whose data recipe to use (a name or unique prefix); every study of the paper shares one.")
    var study = "instruct"

    @OptionGroup var project: ProjectOptions

    func load() throws -> DataRecipe {
        if let recipe { return try DataRecipe.load(from: URL(fileURLWithPath: recipe)) }
        return try project.catalog().study(named: study).data
    }
}

/// Which data a preview shows.
enum PreviewSource: String, ExpressibleByArgument, CaseIterable {
    case pretraining, finetune, benchmark, retentionControl = "retention-control", vlrewardbench
}

struct DataPreview: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Writes a contact sheet PNG: images enlarged, with their query and response underneath.",
        discussion: """
            Samples are taken evenly across the corpus, so the sheet shows every group or subtask. \
            For the benchmark, each tile is one image with its yes and its no question.

            --corpus vlrewardbench shows a real export (see tools/export_vlrewardbench.py); give its --folder.
            """)

    @Option(help: "Which data to show.")
    var corpus: PreviewSource = .pretraining

    @Option(help: "How many samples (tiles) to show.")
    var count = 16

    @Option(help: ArgumentHelp("Where to write the PNG (a long sheet continues in FILE-2.png, ...).", valueName: "file"))
    var output = "data-preview.png"

    @Option(help: ArgumentHelp("The exported VL-RewardBench folder (data.jsonl + images), for --corpus vlrewardbench.", valueName: "folder"))
    var folder: String?

    @OptionGroup var recipeOptions: RecipeOptions

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard (corpus == .vlrewardbench) == (folder != nil) else {
            throw ValidationError("--folder goes with --corpus vlrewardbench, and only with it")
        }
    }

    func run() throws {
        let recipe = try recipeOptions.load()
        let entries: [ContactSheet.Entry]
        switch corpus {
        case .pretraining:
            entries = evenlySpaced(PretrainingCorpus(recipe: recipe).samples, count).map { sample in
                ContactSheet.Entry(image: recipe.image(of: sample.scene),
                                   title: [sample.form.rawValue + (sample.form == .reading ? " (text only)" : ""), sample.skill?.rawValue]
                                       .compactMap { $0 }.joined(separator: " · "),
                                   lines: ["Q: " + sample.query, "A: " + sample.response])
            }
        case .finetune:
            let set = FinetuneSet(recipe: recipe)
            let labelled = set.train.map { ($0, "train") } + set.test.map { ($0, "test") }
            entries = try evenlySpaced(labelled, count).map { sample, split in try rewardEntry(sample, split: split, recipe: recipe) }
        case .retentionControl:
            let set = RetentionControlSet(recipe: recipe, forms: RetentionControlSet.instructionForms)
            let labelled = set.train.map { ($0, "train") } + set.test.map { ($0, "test") }
            entries = evenlySpaced(labelled, count).map { sample, split in
                ContactSheet.Entry(image: recipe.image(of: sample.scene), title: "\(sample.form.rawValue) · \(split)",
                                   lines: ["Q: " + sample.query, "A: " + sample.response])
            }
        case .benchmark:
            let questions = Benchmark(recipe: recipe).questions
            let pairs = stride(from: 0, to: questions.count - 1, by: 2).map { (questions[$0], questions[$0 + 1]) }
            entries = evenlySpaced(pairs, count).map { yes, no in
                ContactSheet.Entry(image: yes.scene.map(recipe.image(of:)) ?? RGBImage(width: 1, height: 1, bytes: [255, 255, 255]),
                                   title: "\(yes.subtask.rawValue) (\(yes.subtask.skill.rawValue)) · \(yes.imageName)",
                                   lines: ["\(yes.question) → \(yes.answer)", "\(no.question) → \(no.answer)"])
            }
        case .vlrewardbench:
            let samples = try VLRewardBench.load(folder: URL(fileURLWithPath: folder!), imageSize: recipe.imageSize)
            entries = try evenlySpaced(samples, count).map { try rewardEntry($0, split: nil, recipe: recipe) }
        }
        let written = try ContactSheet.write(ContactSheet.render(entries), to: URL(fileURLWithPath: output))
        print("wrote \(written.map(\.path).joined(separator: ", ")): \(entries.count) \(corpus.rawValue) samples")
    }

    private func rewardEntry(_ sample: RewardSample, split: String?, recipe: DataRecipe) throws -> ContactSheet.Entry {
        // Real queries can run to pages; the sheet shows their start.
        func clipped(_ text: String) -> String { text.count > 240 ? text.prefix(240) + "…" : text }
        return ContactSheet.Entry(image: try sample.image.image(recipe: recipe),
                                  title: [sample.group.rawValue, sample.querySource == sample.group.rawValue ? nil : sample.querySource, split, sample.id]
                                      .compactMap { $0 }.joined(separator: " · "),
                                  lines: ["Q: " + clipped(sample.query), "A: " + clipped(sample.response)])
    }
}

/// `count` elements spread evenly over the array (all of them when it is shorter); the k-th is taken k
/// places into its stretch, so that a corpus with a fixed number of rows per scene shows every kind of row.
private func evenlySpaced<T>(_ items: [T], _ count: Int) -> [T] {
    guard items.count > count else { return items }
    let stretch = items.count / count
    return (0..<count).map { items[$0 * items.count / count + $0 % stretch] }
}

struct DataStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Prints the corpora's sizes per group and subtask, the vocabulary, and token lengths.",
        discussion: """
            Generates every corpus and trains the tokenizer on the pretraining corpus (timing each step), \
            then prints counts per pretraining form and skill, fine-tuning group and split, and benchmark \
            subtask, and the p50/p90/p99/max token lengths of queries and responses.

            With --vlrewardbench, measures a real export instead of the generated fine-tuning set.
            """)

    @Option(help: ArgumentHelp("An exported VL-RewardBench folder (data.jsonl + images) to measure as the fine-tuning set.", valueName: "folder"))
    var vlrewardbench: String?

    @OptionGroup var recipeOptions: RecipeOptions

    func run() throws {
        let recipe = try recipeOptions.load()
        var last = monotonicSeconds()
        func lap() -> Double {
            let now = monotonicSeconds()
            defer { last = now }
            return now - last
        }
        let pretraining = PretrainingCorpus(recipe: recipe)
        let pretrainingTime = lap()
        let finetune = try vlrewardbench.map { folder in
            FinetuneSet(splitting: try VLRewardBench.load(folder: URL(fileURLWithPath: folder), imageSize: recipe.imageSize),
                        testFraction: recipe.finetuneTestFraction, seed: recipe.seed)
        } ?? FinetuneSet(recipe: recipe)
        let finetuneTime = lap()
        let benchmark = Benchmark(recipe: recipe)
        let benchmarkTime = lap()
        let tokenizer = Tokenizer.train(on: pretraining.samples.flatMap { [$0.query, $0.response] }, vocabularySize: recipe.vocabularySize)
        let tokenizerTime = lap()
        // Rendering happens on demand in training; its cost per image tells whether to cache.
        let rendered = benchmark.questions.compactMap(\.scene) + finetune.all.compactMap { sample -> SceneKey? in
            if case .scene(let key) = sample.image { key } else { nil }
        }
        for key in Set(rendered) { _ = recipe.image(of: key) }
        let renderTime = lap()

        print("World: \(recipe.shapes.count) shapes, \(recipe.colors.count) colors, \(recipe.sizes.count) sizes, \(recipe.fills.count) fills, "
              + "\(recipe.backgrounds.count) backgrounds, \(recipe.minObjects)-\(recipe.maxObjects) objects, "
              + "text in \(Int(recipe.textProbability * 100))% of scenes, \(recipe.imageSize)x\(recipe.imageSize) pixels")
        print(String(format: "Generated in %.2f s (pretraining %.2f, fine-tuning %.2f, benchmark %.2f); tokenizer trained in %.2f s",
                     pretrainingTime + finetuneTime + benchmarkTime, pretrainingTime, finetuneTime, benchmarkTime, tokenizerTime))
        print(String(format: "Rendered the %d fine-tuning and benchmark images in %.2f s (%.2f ms each)",
                     Set(rendered).count, renderTime, renderTime * 1000 / Double(max(Set(rendered).count, 1))))

        print("\nPretraining: \(pretraining.samples.count) rows from \(recipe.pretrainingScenes) scenes")
        for form in PretrainingSample.Form.allCases {
            print("  \(pad(form.rawValue, 24)) \(pretraining.samples.filter { $0.form == form }.count)")
        }
        for skill in Skill.allCases {
            let rows = pretraining.samples.filter { $0.skill == skill }
            let yes = rows.filter { $0.response == "yes" }.count, no = rows.filter { $0.response == "no" }.count
            print("  \(pad("skill " + skill.rawValue, 24)) \(pad(String(rows.count), 6)) (yes \(yes), no \(no))")
        }

        print("\nFine-tuning (\(vlrewardbench == nil ? "generated" : "VL-RewardBench export")): \(finetune.train.count) train, \(finetune.test.count) test")
        for group in QueryGroup.allCases {
            print("  \(pad(group.rawValue, 24)) train \(pad(String(finetune.train.filter { $0.group == group }.count), 5)) "
                  + "test \(finetune.test.filter { $0.group == group }.count)")
        }

        let control = RetentionControlSet(recipe: recipe, forms: RetentionControlSet.instructionForms)
        print("\nRetention control (rows like the instruction mixture's, on scenes of their own): \(control.train.count) train, \(control.test.count) test")
        for form in RetentionControlSet.instructionForms {
            print("  \(pad(form.rawValue, 24)) train \(pad(String(control.train.filter { $0.form == form }.count), 5)) "
                  + "test \(control.test.filter { $0.form == form }.count)")
        }

        print("\nBenchmark: \(benchmark.questions.count) questions on \(benchmark.questions.count / 2) images")
        for subtask in BenchmarkSubtask.allCases {
            let questions = benchmark.questions(in: subtask)
            print("  \(pad(subtask.rawValue, 24)) \(pad(subtask.isPerception ? "perception" : "cognition", 11)) "
                  + "\(pad(subtask.skill.rawValue, 12)) \(questions.count) questions, \(Set(questions.map(\.imageName)).count) images")
        }

        print("\nTokenizer: \(tokenizer.vocabularySize) tokens (asked for \(recipe.vocabularySize))")
        print("Token lengths          p50    p90    p99    max")
        let rows: [(String, [String])] = [
            ("pretraining queries", pretraining.samples.map(\.query)), ("pretraining responses", pretraining.samples.map(\.response)),
            ("fine-tuning queries", finetune.all.map(\.query)), ("fine-tuning responses", finetune.all.map(\.response)),
            ("benchmark questions", benchmark.questions.map(\.question)),
        ]
        for (name, texts) in rows {
            let lengths = texts.map { tokenizer.encode($0).count }.sorted()
            let cells = [0.5, 0.9, 0.99].map { percentile(lengths, $0) } + [lengths.last ?? 0]
            print("  \(pad(name, 21))" + cells.map { pad(String($0), 7, right: true) }.joined())
        }
    }
}

/// The nearest-rank percentile of sorted values.
private func percentile(_ sorted: [Int], _ p: Double) -> Int {
    guard !sorted.isEmpty else { return 0 }
    return sorted[max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
}

private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
}
