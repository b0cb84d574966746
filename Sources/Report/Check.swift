import Foundation
import Study

/// `repro check`: the paper's numbers beside ours, a verdict on each claim for both, the paper's
/// own consistency, and the points of method a reviewer would raise.
public struct Check: Sendable {
    public struct Judged: Sendable {
        public let claim: PaperSpec.Claim
        /// The rule applied to the numbers the paper prints.
        public let paper: Finding
        /// The rule applied to this reproduction's numbers.
        public let ours: Finding
    }

    public let paper: PaperSpec
    public let reported: ReportedNumbers
    public let results: StoredResults
    public let catalog: StudyCatalog
    public let reference: ReferenceRun?
    public let judged: [Judged]
    let judge: ClaimJudge

    public init(paper: PaperSpec, reported: ReportedNumbers, results: StoredResults, catalog: StudyCatalog, reference: ReferenceRun? = nil) {
        self.paper = paper
        self.reported = reported
        self.results = results
        self.catalog = catalog
        self.reference = reference
        let judge = ClaimJudge(paper: paper)
        let ours = Evidence(results: results)
        var printed = Evidence(reported: reported)
        // Which weights a study starts from is its configuration's: the paper's resized experiments could not load them either.
        printed.freshParts = ours.freshParts
        judged = paper.claims.map { Judged(claim: $0, paper: judge.judge($0, on: printed), ours: judge.judge($0, on: ours)) }
        self.judge = judge
    }

    /// Claims the paper concludes from that this reproduction's numbers contradict.
    public var failedRequired: [PaperSpec.Claim] {
        judged.filter { $0.claim.required && $0.ours.verdict == .fails }.map(\.claim)
    }

    /// The check as a document whose top heading has `level`.
    public func blocks(level: Int = 1) -> [Block] {
        var blocks: [Block] = [
            .heading(level: level, "Check: the paper against this reproduction"),
            .paragraph("The scale model is not expected to reproduce the 7B model's absolute numbers: compare directions and relations, not magnitudes. Each claim is judged twice by the rule stated with it, on the numbers the paper prints and on this reproduction's."),
            .paragraph("Profile: \(catalog.profile ?? "none (the full studies)"). Runs: \(results.replicates.values.map(\.count).reduce(0, +)) of \(results.replicates.values.map(\.count).reduce(0, +) + results.missing.count) (each study and seed) with a finished run for their current configuration."),
        ]
        if !results.missing.isEmpty {
            blocks.append(.bullets(results.missing.map(\.text)))
        }

        blocks.append(.heading(level: level + 1, "Claims"))
        blocks.append(.table(ReportTable(
            title: "Claims", caption: "Verdicts on the paper's numbers and on this reproduction's",
            columns: ["Claim", "Section", "Required", "Paper's numbers", "This reproduction"].map { ReportTable.Column(Text($0)) },
            rows: judged.map { entry in
                ReportTable.Row([.text(Text(entry.claim.id)), .text(Text(entry.claim.location)), .text(entry.claim.required ? "yes" : "no"),
                                 .text(verdict(entry.paper.verdict)), .text(verdict(entry.ours.verdict))])
            })))
        let failed = failedRequired.map(\.id)
        blocks.append(.paragraph("Required claims this reproduction contradicts: \(failed.isEmpty ? "none" : failed.joined(separator: ", ")) (\(code: "repro check --strict") fails when there is one)."))
        for entry in judged {
            blocks += [
                .heading(level: level + 2, Text(entry.claim.id)),
                .quote(Text(entry.claim.quote)),
                .paragraph("Rule: \(judge.rule(entry.claim))"),
                .bullets(["Paper's numbers: \(verdict(entry.paper.verdict)) — \(entry.paper.detail)",
                          "This reproduction: \(verdict(entry.ours.verdict)) — \(entry.ours.detail)"]),
            ]
        }

        blocks.append(.heading(level: level + 1, "Reported beside reproduced"))
        blocks.append(.paragraph("Each cell: the paper's number / this reproduction's."))
        blocks += [.table(table1Comparison()), .table(table2Comparison())]
        blocks.append(.heading(level: level + 1, "Does this run reproduce the committed one?"))
        blocks += reproduction()
        blocks.append(.heading(level: level + 1, "The paper's own consistency"))
        blocks.append(.bullets(consistency()))
        blocks.append(.heading(level: level + 1, "Points of method"))
        blocks.append(.bullets(methodPoints()))
        return blocks
    }

    private func verdict(_ verdict: Verdict) -> Text {
        verdict == .fails ? "\(bold: verdict.rawValue)" : Text(verdict.rawValue)
    }

    // MARK: Reported beside reproduced

    func table1Comparison() -> ReportTable {
        let metrics = ReportMetric.printed
        return ReportTable(
            title: "Table 1 (check)", caption: "Table 1 as printed beside this reproduction",
            columns: [ReportTable.Column("Exp."), ReportTable.Column("Configuration")] + metrics.map { ReportTable.Column(Text($0.title)) },
            rows: paper.table1.map { row in
                ReportTable.Row([.text(Text(row.experiment)), .text(Text(row.label))] + metrics.map { metric in
                    .text(Text(pair(reported.value(row.study, metric.name), results.value(row.study, metric.name), metric.format)))
                })
            })
    }

    func table2Comparison() -> ReportTable {
        let loss = NumberFormat.decimals(4)
        return ReportTable(
            title: "Table 2 (check)", caption: "Table 2 as printed beside this reproduction",
            columns: ["Model size", "Standard LoRA test loss", "Enhanced LoRA test loss", "Improvement (%)"].map { ReportTable.Column(Text($0)) },
            rows: paper.table2.map { row in
                let printed = reported.table2[row.id]
                let standard = results.value(row.standard, MetricName.testLoss), enhanced = results.value(row.enhanced, MetricName.testLoss)
                let gain = standard.flatMap { s in enhanced.map { PaperTables.improvement(standard: s, enhanced: $0) } }
                return ReportTable.Row([
                    .text(Text(PaperTables.label(row, paper))),
                    .text(Text(pair(printed?.standard, standard, loss))),
                    .text(Text(pair(printed?.enhanced, enhanced, loss))),
                    .text(Text(pair(printed?.improvement, gain, .decimals(1)))),
                ])
            })
    }

    private func pair(_ printed: Double?, _ ours: Double?, _ format: NumberFormat) -> String {
        "\(printed.map(format.string) ?? Markdown.missing) / \(ours.map(format.string) ?? Markdown.missing)"
    }

    // MARK: The committed run

    /// Each Table 1 number of this run against the committed run's seeds, by the rule of
    /// `ReferenceRun.consistent`: another CPU gives other bits, and this says whether the difference
    /// is within what seeds do.
    func reproduction() -> [Block] {
        guard let reference else {
            return [.paragraph("No committed reference run (\(code: ReferenceRun.fileName) beside paper.toml) to compare with; \(code: "repro report --save-reference") writes one from this run.")]
        }
        guard reference.profile == catalog.profile ?? "full" else {
            return [.paragraph("The committed reference run is of profile \(reference.profile) and this one of \(catalog.profile ?? "full"): they are not compared.")]
        }
        let metrics = ReportMetric.printed
        var consistent = 0, compared = 0, differing: [String] = []
        let rows = ([(paper.base, "", "Base model")] + paper.table1.map { ($0.study, $0.experiment, $0.label) }).map { study, experiment, label in
            ReportTable.Row([.text(Text(experiment)), .text(Text(label))] + metrics.map { metric -> ReportTable.Cell in
                let ours = (results.replicates[study] ?? []).compactMap { $0.value(metric.name) }
                let theirs = (reference.studies[study] ?? []).compactMap { $0[metric.name] }
                guard let verdict = ReferenceRun.consistent(ours, with: theirs) else { return .text(Text(Markdown.missing)) }
                compared += 1
                if verdict { consistent += 1 } else { differing.append("\(judge.name(study)) \(metric.title)") }
                return .text(verdict ? "consistent" : "\(bold: "differs")")
            }, ranked: false)
        }
        return [
            .paragraph("The committed run: commit \(reference.commit), \(reference.machine), \(reference.blas). Rule: with one seed here, a number is consistent when it lies inside the 95% prediction interval for one more seed of the committed run (Student's t over its seeds); with several, when Welch's two-sample t-test does not reject equal means at 5%; identical numbers are consistent; a dash: too few seeds on either side to tell."),
            .table(ReportTable(title: "Reproduction", caption: "This run's Table 1 against the committed run's seeds",
                               columns: [ReportTable.Column("Exp."), ReportTable.Column("Configuration")] + metrics.map { ReportTable.Column(Text($0.title)) },
                               rows: rows)),
            .paragraph("\(consistent) of \(compared) numbers are consistent with the committed run" + (differing.isEmpty ? "." : "; differing: \(differing.joined(separator: ", ")). With 5% tests over many numbers, about one in twenty differs by chance alone.")),
        ]
    }

    // MARK: The paper's own consistency

    func consistency() -> [Text] {
        var points: [Text] = []

        // Table 2 repeats Table 1's test losses.
        var mismatches: [String] = [], compared = 0
        for row in paper.table2 {
            for (printed, study) in [(reported.table2[row.id]?.standard, row.standard), (reported.table2[row.id]?.enhanced, row.enhanced)] {
                guard let printed, let inTable1 = reported.value(study, MetricName.testLoss) else { continue }
                compared += 1
                if abs(printed - inTable1) > 1e-9 { mismatches.append("\(row.label): Table 2 \(format(printed, decimals: 4)), Table 1 \(format(inTable1, decimals: 4)) (\(judge.name(study)))") }
            }
        }
        points.append(mismatches.isEmpty
            ? "Table 2 against Table 1: all \(compared) losses in Table 2 equal the test loss Table 1 prints for the same experiment."
            : "Table 2 against Table 1: \(bold: "\(mismatches.count) of \(compared) differ") — \(mismatches.joined(separator: "; ")).")

        // The improvement formula: which one gives the printed percentages.
        var matching = 0, rows = 0, alternative: [String] = []
        for row in paper.table2 {
            guard let printed = reported.table2[row.id], let standard = printed.standard, let enhanced = printed.enhanced,
                  let improvement = printed.improvement else { continue }
            rows += 1
            if format(PaperTables.improvement(standard: standard, enhanced: enhanced), decimals: 1) == format(improvement, decimals: 1) { matching += 1 }
            alternative.append(format((standard - enhanced) / enhanced * 100, decimals: 1))
        }
        points.append(matching == rows
            ? "The improvement formula: (standard − enhanced) / standard × 100, as section 4.5 states it, gives all \(rows) printed percentages from Table 2's printed losses, to the printed 0.1%. (Relative to the enhanced loss it would give \(alternative.joined(separator: ", ")).)"
            : "The improvement formula: (standard − enhanced) / standard × 100 gives \(bold: "only \(matching) of \(rows)") printed percentages from Table 2's printed losses.")

        // Identical numbers in different rows.
        var repeats: [String] = []
        for metric in ReportMetric.printed {
            let byValue = Dictionary(grouping: paper.table1.compactMap { row in reported.value(row.study, metric.name).map { (row.study, $0) } }) { $0.1 }
            for (value, rows) in byValue.sorted(by: { $0.key < $1.key }) where rows.count > 1 {
                repeats.append("\(metric.title) \(metric.format.string(value)) in \(judge.names(rows.map(\.0)))")
            }
        }
        points.append(repeats.isEmpty
            ? "Repeated values: no number repeats within a column of Table 1."
            : "Repeated values in Table 1: \(repeats.joined(separator: "; ")). Identical to the last printed digit in different configurations: possible by chance at four printed decimals, and MME's totals move in discrete steps, but worth checking against the raw results, since a copied cell would look the same.")

        // Section 4.4 calls the extended-training model the best performing in the tests.
        for claim in paper.claims {
            guard case .lowestTrainingLoss(let study) = claim.rule,
                  let loss = reported.value(study, MetricName.testLoss) else { continue }
            let losses = paper.table1.compactMap { reported.value($0.study, MetricName.testLoss) }
            let rank = losses.filter { $0 < loss }.count + 1
            let bestOn = ReportMetric.printed.filter { metric in
                let values = paper.table1.map { reported.value($0.study, metric.name) }
                return bestIndices(values, better: metric.better!, format: metric.format).contains { paper.table1[$0].study == study }
            }.map(\.title)
            points.append("Section 4.4 says that in the test results \(judge.name(study)) \"was the best performing\" and reads that as overfitting; Table 1 ranks its test loss \(rank) of \(losses.count), and it is best only on \(bestOn.isEmpty ? "no metric" : bestOn.joined(separator: ", ")). \(Self.readingOfBestPerforming(rank: rank, of: losses.count, bestOn: bestOn.count, metrics: ReportMetric.printed.count))")
        }
        return points
    }

    /// What the numbers say of a sentence calling a model "the best performing" in the tests:
    /// - its test loss is the lowest: the sentence holds as written;
    /// - its test loss is in the worse half and it is best on at most a minority of the printed
    ///   metrics: the sentence most likely means the opposite (the worst, which overfitting predicts);
    /// - otherwise the numbers do not decide.
    static func readingOfBestPerforming(rank: Int, of count: Int, bestOn: Int, metrics: Int) -> String {
        if rank == 1 {
            return "Its test loss is the lowest, so the sentence holds as written; it is the reading as overfitting that the numbers do not support."
        }
        if Double(rank) > Double(count) / 2 && Double(bestOn) < Double(metrics) / 2 {
            return "The sentence most likely means the opposite of what it says."
        }
        return "The numbers neither bear the sentence out nor show that it means the opposite."
    }

    // MARK: Points of method

    func methodPoints() -> [Text] {
        let experiments = paper.table1.compactMap { try? catalog.study(named: $0.study) }
        var points: [Text] = []

        let selecting = experiments.filter { $0.spec.train.selectBest == "eval_loss" }
        points.append("The best checkpoint is chosen on the test split. The paper keeps \"the best performing checkpoint\" but has only a train and a test split, so the test numbers it reports are those of the checkpoint that did best on the test set: optimistic, and more so the more checkpoints there are to choose from. \(selecting.count) of \(experiments.count) experiments here do the same (\(code: "select_best = \"eval_loss\"") on the held-out split, which is the test split), to follow the paper; a validation split carved from the 1,000 training samples would remove the bias.")

        // How many checkpoints there are to choose from.
        let budgets = Dictionary(grouping: experiments) { $0.spec.train.epochs }.sorted { $0.key < $1.key }.compactMap { epochs, studies -> String? in
            guard let study = studies.first else { return nil }
            let train = study.spec.train, trainSamples = study.finetuneSplit.train
            var steps = Int((epochs * Double(trainSamples) / Double(train.microBatch * train.accumulation)).rounded(.up))
            if train.maxSteps > 0 { steps = min(steps, train.maxSteps) }
            // Checkpoints strictly before the last step; the final model is one more candidate.
            let before = (steps - 1) / train.checkpointEvery
            return "\(format(epochs, decimals: 0)) epochs of \(trainSamples) samples at \(train.microBatch * train.accumulation) a step take about \(steps) steps, with \(before == 0 ? "no checkpoint" : before == 1 ? "one checkpoint" : "\(before) checkpoints") before the end at one every \(train.checkpointEvery) steps"
        }
        if !budgets.isEmpty {
            points.append("Few checkpoints to choose from: \(budgets.joined(separator: "; ")) (in the current configuration; the full profile copies the paper's). With the paper's 1,000 samples, a batch of 32 and a checkpoint every 100 steps, a 3-epoch run ends before its first checkpoint, so its \"best checkpoint\" can only be the final model.")
        }

        if let base = try? catalog.study(named: paper.base) {
            let reshaped = experiments.filter { $0.spec.model.visionConfig != base.spec.model.visionConfig || $0.spec.model.qformerConfig != base.spec.model.qformerConfig }
            if !reshaped.isEmpty {
                let counts = reshaped.compactMap { study -> String? in
                    guard let run = results[study.base]?.run else { return nil }
                    return "\(judge.name(study.base)): \(run.tensors.fresh.count) fresh, \(run.tensors.loaded.count) loaded"
                }
                points.append("Size variants discard pretrained weights. \(judge.names(reshaped.map(\.base))) change the width, depth or activation of the vision encoder and the Q-Former, whose pretrained weights then no longer fit: those components start from fresh weights and learn from the fine-tuning set alone, so \"model size\" is confounded with \"without pretraining\" (as in the paper, whose resized components could not have loaded InstructBLIP's weights either).\(counts.isEmpty ? "" : " Tensors started fresh and loaded, per run: " + counts.joined(separator: "; ") + ".")")
            }
        }

        let controls = paper.table1Controls.compactMap { try? catalog.study(named: $0.study) }
        for claim in paper.claims {
            guard case .extendedOverfits(let extended) = claim.rule else { continue }
            let specs = extended.compactMap { try? catalog.study(named: $0) }
            // Each extended run beside a run of its size and LoRA at other epochs: an experiment, or a control under Table 1.
            let pairs = specs.compactMap { study in
                (experiments + controls).first { $0.spec.size == study.spec.size && $0.spec.lora == study.spec.lora && $0.spec.train.epochs != study.spec.train.epochs }
                    .map { (study, $0) }
            }
            if pairs.isEmpty {
                points.append("Extended training is confounded with size: \(judge.names(extended)) are the only \(specs.first.map { "\(format($0.spec.train.epochs, decimals: 0))-epoch" } ?? "extended") runs and the only ones of their size; no run of that size trains for the usual epochs, so no comparison separates training length from model size.")
            } else {
                let compared = pairs.map { study, other in
                    "\(judge.name(study.base)) at \(format(study.spec.train.epochs, decimals: 0)) epochs against \(controlName(other.base)) at \(format(other.spec.train.epochs, decimals: 0)), the same size and LoRA: \(self.compared(study.base, other.base))"
                }
                points.append(Text("Training length apart from model size: \(compared.joined(separator: "; ")). Each pair shares its size and LoRA and differs in training length; the paper has no such pair, so its reading of \(judge.names(extended)) mixes training length with size."))
            }
        }

        let seedCounts = paper.table1.map { results.replicates[$0.study]?.count ?? 0 }
        if let fewest = seedCounts.min(), fewest > 1 {
            points.append("Runs per configuration: the paper reports one run of each; here every experiment ran with \(fewest == seedCounts.max()! ? "\(fewest)" : "\(fewest)-\(seedCounts.max()!)") seeds, so each number comes with its spread over seeds and each difference with an interval; a verdict follows from the intervals, not from a difference inside them.")
        } else {
            let seeds = Set(experiments.map(\.seed))
            points.append("One run per configuration: every number comes from a single training run (seed\(seeds.count == 1 ? "" : "s") \(seeds.sorted().map(String.init).joined(separator: ", "))), in the paper and here, so no difference comes with its run-to-run spread, and differences in the third or fourth decimal may be noise.")
        }

        let padded = experiments.filter(\.spec.train.countPaddingInLoss)
        var padding: Text = "Padding in the loss: the paper pads every sequence to 512 tokens and does not say whether padding was excluded from the loss. Here \(padded.isEmpty ? "no experiment counts padding: the loss covers response tokens only" : "\(judge.names(padded.map(\.base))) count padding in the loss") (\(code: "train.count_padding_in_loss"))."
        for row in paper.ablation {
            guard let masked = results.value(row.baseline, MetricName.testLoss), let counted = results.value(row.changed, MetricName.testLoss),
                  (try? catalog.study(named: row.changed))?.spec.train.countPaddingInLoss == true else { continue }
            padding = padding + Text(" The ablation beside Table 2 counts it for \(judge.name(row.baseline)): test loss \(format(counted, decimals: 4)) against \(format(masked, decimals: 4)) masked (\(format(PaperTables.relativeChange(from: masked, to: counted), decimals: 1))%), with batches padded only to their longest row; at a fixed 512 tokens most counted positions would be padding, and the loss would mostly measure how well padding is predicted.")
        }
        points.append(padding)

        let trained = Set(experiments.map(\.spec.trainedLanguageModelLayers)).sorted()
        if let layers = experiments.first?.spec.model.textConfig.numHiddenLayers, let fewest = trained.first, let most = trained.last {
            let share = fewest == most ? "the last \(fewest) of their \(layers) (\(format(Double(fewest) / Double(layers) * 100, decimals: 0))%)"
                : "the last \(fewest)-\(most) of their \(layers)"
            // The paper's share: the last 4 of Vicuna-7B's 32 layers.
            let paperShare = 4.0 / 32, shares = (Double(fewest) / Double(layers), Double(most) / Double(layers))
            let moves = shares.0 > paperShare ? "so more of the language model moves than in the paper, and more of what it could do may be lost"
                : shares.1 < paperShare ? "so less of the language model moves than in the paper" : "about the paper's share"
            var layersPoint: Text = "Trained language-model layers: the paper trains the last 4 of Vicuna-7B's 32 layers (13%) besides the adapters; the experiments here train \(share) (\(code: "train.trainable")), \(moves)."
            for row in paper.ablation {
                guard let baseline = try? catalog.study(named: row.baseline), let changed = try? catalog.study(named: row.changed),
                      changed.spec.trainedLanguageModelLayers != baseline.spec.trainedLanguageModelLayers else { continue }
                let count = changed.spec.trainedLanguageModelLayers
                layersPoint = layersPoint + Text(" The ablation beside Table 2 trains the last \(count) of \(layers) (\(format(Double(count) / Double(layers) * 100, decimals: 0))%) for \(judge.name(row.baseline)) against its \(baseline.spec.trainedLanguageModelLayers): \(compared(row.baseline, row.changed)).")
            }
            points.append(layersPoint)
        }

        if let control = paper.retentionControl {
            let kept = PaperTables.kept(control, paper, results), title = ReportMetric.named(control.metric)?.title ?? control.metric
            let share = format(control.fraction * 100, decimals: 0)
            let finding: String
            switch (kept, PaperTables.keeps(kept, control)) {
            case (nil, _): finding = "has no result yet"
            case (let kept?, true?): finding = "keeps \(format(kept.mean, decimals: 1))%: the measurement says \"retains\" when nothing new is learned"
            case (let kept?, false?): finding = "keeps \(format(kept.mean, decimals: 1))%: fine-tuning by this protocol costs the score even when nothing new is learned, so the experiments' losses cannot all be put down to what they learned"
            case (let kept?, nil): finding = "keeps \(format(kept.mean, decimals: 1))%, an interval across \(share)%: the seeds cannot tell"
            }
            points.append("A positive control for the retention claim (not in the paper): the base model fine-tuned by the experiments' protocol on rows like its own instruction tuning, on scenes none of its stages saw (\(code: control.study)), \(finding). A measurement that can say \"retains\" finds it keeping at least \(share)% of the base model's \(title).")
        }
        return points
    }

    /// A control's label under Table 1 ("Default, default LoRA, 3 epochs (control)"), else how the paper names the study.
    private func controlName(_ study: String) -> String {
        paper.table1Controls.first { $0.study == study }.map { "\($0.label) (control)" } ?? judge.name(study)
    }

    /// Two studies' test loss and MME score side by side, "—" for a missing one.
    private func compared(_ a: String, _ b: String) -> String {
        [MetricName.testLoss, MetricName.mmeOverall].compactMap(ReportMetric.named).map { metric in
            let shown = [a, b].map { results.value($0, metric.name).map(metric.format.string) ?? Markdown.missing }
            return "\(metric.title) \(shown[0]) against \(shown[1])"
        }.joined(separator: ", ")
    }
}

extension ResolvedStudy {
    /// The fine-tuning set's split as `FinetuneSet` makes it: round(samples × test fraction) to test.
    var finetuneSplit: (train: Int, test: Int) {
        let test = Int((Double(data.finetuneSamples) * data.finetuneTestFraction).rounded())
        return (data.finetuneSamples - test, test)
    }
}
