import Foundation
import Study

/// The reproduced paper: what was run, Tables 1-2, Figure 2, the check, and where every number
/// comes from; written as `report.md`, `report.tex` and `report.html`.
public struct PaperReport: Sendable {
    public let check: Check
    /// Figure files relative to the report, without extension; nil for a figure with nothing to draw.
    public let figure2: String?
    public let heldOut: String?

    public init(check: Check, figure2: String?, heldOut: String?) {
        self.check = check
        self.figure2 = figure2
        self.heldOut = heldOut
    }

    public var title: Text { Text("Reproduction: \(check.paper.title)") }
    public var author: Text { Text("A scale model of the study by \(check.paper.authors)") }

    public var markdown: String { Markdown.render([.heading(level: 1, title)] + blocks) }
    public var latex: String { LaTeX.document(title: title, blocks: blocks) }
    /// The page, with each figure's SVG (keyed by its path, as `figure2` and `heldOut`) inline.
    public func html(figures: [String: String]) -> String { HTML.document(title: title, blocks: blocks, figures: figures) }

    public var blocks: [Block] {
        let paper = check.paper, results = check.results
        var blocks: [Block] = [
            .paragraph(author),
            .heading(level: 2, "What was run"),
            .paragraph("The paper fine-tunes InstructBLIP with LoRA in ten configurations. Nothing can be downloaded here and the machine has no GPU, so this reproduction builds a scale model: the same architecture family, protocol, metrics, tables and figure, on data the project renders itself, with every number computed by a model that was trained and evaluated by \(code: "repro"). Where the scale model cannot speak for the 7B original, the check says so."),
            .table(scaleModel()),
            .heading(level: 2, "Results"),
            .table(PaperTables.table1(paper, results)),
            .table(PaperTables.table2(paper, results)),
        ]
        if !paper.ablation.isEmpty { blocks.append(.table(PaperTables.ablation(paper, results))) }
        if let control = paper.retentionControl { blocks.append(.table(PaperTables.retentionControl(control, paper, results))) }
        let seeded = paper.figure2.contains { (results.replicates[$0]?.count ?? 0) > 1 }
        let seedsNote = seeded ? " Each line is the mean over the seeds; the shaded band runs from the lowest to the highest seed." : ""
        if let figure2 {
            blocks.append(.figure(path: figure2, caption: "Figure 2. \(paper.figure2Caption), every experiment, numbered as in the paper. Colour: model size; solid: standard LoRA; dashed: enhanced LoRA.\(seedsNote)"))
        } else {
            blocks.append(.paragraph("Figure 2 is not drawn: no experiment has a training curve yet."))
        }
        if let heldOut {
            blocks.append(.figure(path: heldOut, caption: "Held-out loss during training, about 20 points a run (not in the paper; the overfitting claim is judged on it). The held-out split is the test split, as in the paper.\(seedsNote)"))
        }
        blocks += check.blocks(level: 2)
        if results.replicates.values.contains(where: { $0.count > 1 }) {
            blocks += [.heading(level: 2, "Appendix: every seed"), .table(PaperTables.seeds(paper, results))]
        }
        blocks += [.heading(level: 2, "Provenance"),
                   .paragraph("Every number above comes from the run named here: the newest finished run of the study whose stored hash equals the study's current hash (its resolved configuration, data recipe and inputs)."),
                   .table(provenance())]
        return blocks
    }

    /// The original beside the scale model, component by component.
    func scaleModel() -> ReportTable {
        let paper = check.paper, original = paper.original
        let base = try? check.catalog.study(named: paper.base)
        let pair = paper.table2.first.map { row in [row.standard, row.enhanced].compactMap { try? check.catalog.study(named: $0) } } ?? []
        let machines = Set(check.results.replicates.values.joined().map(\.run.machine)).sorted()
        let components: [(String, String, String?)] = [
            ("Model", original.model, base.map { base in
                let model = base.spec.model
                return "InstructBLIP at scale-model size: a ViT \(model.visionConfig.hiddenSize) wide with \(model.visionConfig.numHiddenLayers) layers, a Q-Former \(model.qformerConfig.hiddenSize) wide with \(model.qformerConfig.numHiddenLayers) layers and \(model.numQueryTokens) queries, a LLaMA-style language model \(model.textConfig.hiddenSize) wide with \(model.textConfig.numHiddenLayers) layers; each pretrained in its own stage (vision, language, align, instruct)"
            }),
            ("Images", original.images, base.map { "\($0.data.imageSize)×\($0.data.imageSize) rendered scenes (shapes on a 3×3 grid, sometimes text)" }),
            ("Fine-tuning data", original.finetune, base.map { base in
                let split = base.finetuneSplit
                return "rendered, shaped like VL-RewardBench: \(split.train + split.test) samples, \(split.train) train and \(split.test) test"
            }),
            ("Benchmark", original.benchmark, base.map { "MME-style: 14 subtasks, \($0.data.benchmarkImagesPerSubtask) rendered images each, one yes and one no question per image" }),
            ("LoRA", original.lora, pair.count == 2 ? pair.map(\.spec.lora).enumerated().map { index, lora in
                "r=\(lora.r), alpha=\(format(Double(lora.alpha), decimals: 0)) (\(index == 0 ? "default" : "enhanced"))"
            }.joined(separator: " and ") + " on \(pair[0].spec.lora.targets.joined(separator: ", "))" : nil),
            ("Training", original.training, training()),
            ("Hardware", original.hardware, machines.isEmpty ? "a CPU (no run yet)" : machines.joined(separator: "; ")),
        ]
        return ReportTable(
            title: "Scale model", caption: "The original and the scale model" + (check.catalog.profile.map { " (profile \($0))" } ?? ""),
            columns: [ReportTable.Column("Component"), ReportTable.Column("The paper", .prose(0.36)), ReportTable.Column("Here", .prose(0.46))],
            rows: components.map { ReportTable.Row([.text(Text($0.0)), .text(Text($0.1)), .text(Text($0.2 ?? ""))]) })
    }

    /// The experiments' training schedule: the usual one, and the epochs of those that differ.
    func training() -> String? {
        let experiments = check.paper.table1.compactMap { try? check.catalog.study(named: $0.study) }
        let byEpochs = Dictionary(grouping: experiments) { $0.spec.train.epochs }.sorted { $0.value.count > $1.value.count }
        guard let train = byEpochs.first?.value.first?.spec.train else { return nil }
        let others = byEpochs.dropFirst().map { epochs, studies in
            "\(format(epochs, decimals: 0)) for \(check.judge.names(studies.map(\.name)))"
        }
        return "\(format(train.epochs, decimals: 0)) epochs\(others.isEmpty ? "" : " (\(others.joined(separator: "; ")))"), micro-batch \(train.microBatch) with \(train.accumulation) accumulation steps, a checkpoint every \(train.checkpointEvery) steps"
            + (train.maxSteps > 0 ? ", at most \(train.maxSteps) steps" : "")
    }

    /// Study, run, hash, commit, engine, BLAS kernel and machine of every number.
    func provenance() -> ReportTable {
        ReportTable(
            title: "Provenance", caption: "The run behind each study's numbers",
            columns: ["Study", "Run", "Hash", "Commit", "Engine", "BLAS", "Machine", "Finished"].map { ReportTable.Column(Text($0)) },
            rows: check.paper.studies.flatMap { study -> [ReportTable.Row] in
                guard let runs = check.results.replicates[study] else {
                    return [ReportTable.Row([.text(Text(study)), .text("no finished run")] + Array(repeating: .text(""), count: 6))]
                }
                return runs.map { result in
                    let run = result.run
                    return ReportTable.Row([result.study.name, run.id.map(String.init) ?? "", String(run.hash.prefix(12)), String(run.commit.prefix(12)),
                                            run.engine, run.blas, run.machine, run.finishedAt.map(Self.date) ?? ""].map { .text(Text($0)) })
                }
            })
    }

    static func date(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateTimeSeparator(.space).time(includingFractionalSeconds: false)) + " UTC"
    }
}

/// The path of `target` relative to the folder `base` ("../figures/figure2").
func relativePath(from base: URL, to target: URL) -> String {
    let from = base.standardizedFileURL.pathComponents, to = target.standardizedFileURL.pathComponents
    let shared = zip(from, to).prefix { $0 == $1 }.count
    return (Array(repeating: "..", count: from.count - shared) + to[shared...]).joined(separator: "/")
}
