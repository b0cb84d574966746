import Metrics
import Study

/// Tables 1 and 2 of the paper, filled with this reproduction's results.
public enum PaperTables {
    /// The paper's improvement (section 4.5): the drop in test loss as a share of the standard
    /// LoRA's loss, in percent. It gives every percentage the paper prints from the losses it prints.
    public static func improvement(standard: Double, enhanced: Double) -> Double {
        (standard - enhanced) / standard * 100
    }

    /// Table 1: every experiment's metrics and parameter counts, under two reference rows: the base
    /// model before fine-tuning, and its blind control (every image blank), the floor of each number;
    /// then the controls paper.toml declares, marked as not in the paper and not ranked.
    public static func table1(_ paper: PaperSpec, _ results: StoredResults) -> ReportTable {
        let metrics = ReportMetric.table1
        func cells(_ study: String, condition: String) -> [ReportTable.Cell] {
            // Parameter counts describe the model, the same for every seed: no interval.
            metrics.map { $0.better == nil ? .number(results.value(study, $0.name, condition: condition)) : .of(results.estimate(study, $0.name, condition: condition)) }
        }
        var rows = [
            ReportTable.Row([.text(""), .text("Base model, before fine-tuning")] + cells(paper.base, condition: MetricName.image), ranked: false),
            ReportTable.Row([.text(""), .text("Base model, blind control")] + cells(paper.base, condition: MetricName.blind), ranked: false),
        ]
        for (index, row) in paper.table1.enumerated() {
            rows.append(ReportTable.Row([.text(Text(row.experiment)), .text(Text(row.label))] + cells(row.study, condition: MetricName.image),
                                        startsGroup: index == 0))
        }
        for (index, row) in paper.table1Controls.enumerated() {
            rows.append(ReportTable.Row([.text(""), .text(Text("\(row.label) (not in the paper)"))] + cells(row.study, condition: MetricName.image),
                                        ranked: false, startsGroup: index == 0))
        }
        let controls = paper.table1Controls.isEmpty ? [] : [Text(
            "Rows marked not in the paper are controls run beside the experiments, by the experiments' protocol with one thing changed (\(paper.table1Controls.map(\.label).joined(separator: "; "))); they are not ranked and no claim about the paper's experiments counts them.")]
        let notes: [Text] = [
            "Best of the experiments in bold (lower is better for test loss, higher for the others); the reference rows are not ranked. The blind control is the base model with every image replaced by a blank one: what a model reaches without seeing.",
            "BLEU (0-1) was computed by the paper but not printed. Parameter counts in millions (M) or thousands (k).",
        ] + controls + [
            seedsNote(results, studies: paper.table1.map(\.study) + paper.table1Controls.map(\.study)),
        ] + missingNote(results, studies: [paper.base] + paper.table1.map(\.study) + paper.table1Controls.map(\.study))
        return ReportTable(
            title: "Table 1", caption: Text(paper.table1Caption),
            columns: [ReportTable.Column("Exp."), ReportTable.Column("Configuration")]
                + metrics.map { ReportTable.Column(Text($0.title), .number($0.format, better: $0.better)) },
            rows: rows, notes: notes)
    }

    /// Table 2: standard against enhanced LoRA test loss at each size, the improvement (computed per
    /// seed, standard and enhanced of the same seed, then averaged), and the difference in loss over
    /// the test items (paired bootstrap).
    public static func table2(_ paper: PaperSpec, _ results: StoredResults) -> ReportTable {
        let rows = paper.table2.map { row in
            ReportTable.Row([.text(Text(label(row, paper))), .of(results.estimate(row.standard, MetricName.testLoss)),
                             .of(results.estimate(row.enhanced, MetricName.testLoss)),
                             .of(pairedChange(row.standard, row.enhanced, results, improvement)),
                             .text(Text(bootstrapText(PairedDifference(row.standard, row.enhanced, metric: MetricName.testLoss, in: results))))])
        }
        let loss = ReportTable.Column.Kind.number(.decimals(4), better: .lower)
        return ReportTable(
            title: "Table 2", caption: Text(paper.table2Caption),
            columns: [ReportTable.Column("Model size"), ReportTable.Column("Standard LoRA test loss", loss),
                      ReportTable.Column("Enhanced LoRA test loss", loss),
                      ReportTable.Column("Improvement (%)", .number(.decimals(1), better: .higher)),
                      ReportTable.Column("Enhanced − standard loss, items")],
            rows: rows,
            notes: ["Improvement (%) = (standard loss − enhanced loss) / standard loss × 100, the paper's formula (section 4.5), computed for each seed from the standard and enhanced runs of that seed, then averaged. Best in bold.",
                    seedsNote(results, studies: paper.table2.flatMap { [$0.standard, $0.enhanced] }),
                    "The last column: the difference in test loss, enhanced − standard, with each test item's loss averaged over the seeds, and its 95% interval from a paired bootstrap over the \(testItemCount(results)) test items (10,000 resamples, seed \(PairedDifference.bootstrapSeed)): the uncertainty that comes from the test set, beside the seeds' own."]
                + missingNote(results, studies: paper.table2.flatMap { [$0.standard, $0.enhanced] }))
    }

    /// `change(a, b)` of the test loss for each seed both studies have, as an estimate over seeds.
    static func pairedChange(_ a: String, _ b: String, _ results: StoredResults, _ change: (Double, Double) -> Double) -> Estimate? {
        let first = results.replicates[a] ?? [], second = results.replicates[b] ?? []
        return Estimate(first.compactMap { run -> Double? in
            guard let x = run.value(MetricName.testLoss),
                  let y = second.first(where: { $0.study.seed == run.study.seed })?.value(MetricName.testLoss) else { return nil }
            return change(x, y)
        })
    }

    /// "−0.0123 [−0.0160, −0.0090]", or a dash when the runs kept no per-item results.
    static func bootstrapText(_ difference: PairedDifference) -> String {
        guard let interval = difference.itemInterval else { return Markdown.missing }
        return "\(format(interval.observed, decimals: 4)) [\(format(interval.lower, decimals: 4)), \(format(interval.upper, decimals: 4))]"
    }

    /// The test items the runs kept results for (the test split's size).
    static func testItemCount(_ results: StoredResults) -> Int {
        results.replicates.values.joined().compactMap { $0.items?.count }.max() ?? 0
    }

    /// How many seeds the numbers are over, and what the ± means (or why there is none).
    static func seedsNote(_ results: StoredResults, studies: [String]) -> Text {
        let counts = Set(studies.map { results.replicates[$0]?.count ?? 0 }.filter { $0 > 0 })
        guard let most = counts.max(), most > 1 else {
            return "One seed per configuration (n = 1): no interval over seeds can be given; the item column's bootstrap is the only uncertainty shown."
        }
        let n = counts.count == 1 ? "\(most) seeds" : "\(counts.min()!)-\(most) seeds"
        return Text("Mean over \(n) (each seed a run of its own: data order, LoRA and fresh weights, dropout) ± the half-width of a 95% confidence interval, Student's t with n − 1 degrees of freedom; each seed's values are in the appendix.")
    }

    /// How much `value` differs from `reference`, in percent of `reference`.
    public static func relativeChange(from reference: Double, to value: Double) -> Double { (value - reference) / reference * 100 }

    /// The ablations beside Table 2: each configuration's test loss as the paper ran it and with the
    /// one change, the change in percent of the first, and the MME score of both (what a change in
    /// what trains does to what the base model could do).
    public static func ablation(_ paper: PaperSpec, _ results: StoredResults) -> ReportTable {
        let mme = ReportMetric.named(MetricName.mmeOverall)!
        let rows = paper.ablation.map { row in
            ReportTable.Row([.text(Text(row.label)), .of(results.estimate(row.baseline, MetricName.testLoss)),
                             .of(results.estimate(row.changed, MetricName.testLoss)),
                             .of(pairedChange(row.baseline, row.changed, results, relativeChange)),
                             .text(Text(bootstrapText(PairedDifference(row.baseline, row.changed, metric: MetricName.testLoss, in: results)))),
                             .of(results.estimate(row.baseline, mme.name)), .of(results.estimate(row.changed, mme.name))],
                            ranked: false)
        }
        let loss = ReportTable.Column.Kind.number(.decimals(4), better: .lower)
        return ReportTable(
            title: "Ablation", caption: Text(paper.ablationCaption),
            columns: [ReportTable.Column("Configuration"), ReportTable.Column(Text(paper.ablationColumns.baseline), loss),
                      ReportTable.Column(Text(paper.ablationColumns.changed), loss),
                      ReportTable.Column("Change (%)", .number(.decimals(1), better: .lower)),
                      ReportTable.Column("Changed − as run, items"),
                      ReportTable.Column(Text("\(mme.title), as run"), .number(mme.format, better: mme.better)),
                      ReportTable.Column(Text("\(mme.title), changed"), .number(mme.format, better: mme.better))],
            rows: rows,
            notes: ["Not in the paper. Change (%) = (changed loss − loss as run) / loss as run × 100, per seed, then averaged.",
                    seedsNote(results, studies: paper.ablation.flatMap { [$0.baseline, $0.changed] }),
                    "The last column: the difference in test loss over the test items, as in Table 2."]
                + missingNote(results, studies: paper.ablation.flatMap { [$0.baseline, $0.changed] }))
    }

    /// The positive control for retention: the base model's score, the control's, the share kept
    /// (each seed's score over the base model's mean, then averaged) and whether it keeps the share
    /// paper.toml asks: by the interval over seeds when there is one, else by the value.
    public static func retentionControl(_ control: PaperSpec.RetentionControl, _ paper: PaperSpec, _ results: StoredResults) -> ReportTable {
        let metric = ReportMetric.named(control.metric)!
        let kept = kept(control, paper, results)
        let shown = format(control.fraction * 100, decimals: 0)
        return ReportTable(
            title: "Retention control", caption: Text(control.caption),
            columns: [ReportTable.Column("Configuration"), ReportTable.Column(Text("Base model, \(metric.title)"), .number(metric.format, better: nil)),
                      ReportTable.Column(Text("Fine-tuned, \(metric.title)"), .number(metric.format, better: nil)),
                      ReportTable.Column("Kept (%)", .number(.decimals(1), better: nil)),
                      ReportTable.Column(Text("Keeps at least \(shown)%"))],
            rows: [ReportTable.Row([.text(Text(control.label)), .of(results.estimate(paper.base, metric.name)),
                                    .of(results.estimate(control.study, metric.name)), .of(kept),
                                    .text(Text(keeps(kept, control).map { $0 ? "yes" : "no" } ?? (kept == nil ? Markdown.missing : "cannot tell")))],
                                   ranked: false)],
            notes: [Text("Not in the paper. The base model (\(paper.base)) fine-tuned by the experiments' protocol, nothing resized, on as many rows as the experiments' but like its own instruction tuning (captions, short-answer questions and long-form rows), on scenes none of its stages saw, and tested on its own held-out rows. It learns nothing new, so a retention measurement that can say \"retains\" should find it keeping at least \(shown)% of the base model's \(metric.title); if it does not, fine-tuning by this protocol costs the score whatever is learned, and the experiments' losses cannot all be put down to what they learned."),
                    "Kept (%) = each seed's score / the base model's × 100, then averaged; the last column decides by the 95% interval over seeds (yes: it lies at or above the share, no: below it, cannot tell: across it), with one seed by the value.",
                    seedsNote(results, studies: [control.study])]
                + missingNote(results, studies: [paper.base, control.study]))
    }

    /// The share of the base model's score the positive control keeps, in percent: each seed's score
    /// over the base model's mean; nil without both.
    static func kept(_ control: PaperSpec.RetentionControl, _ paper: PaperSpec, _ results: StoredResults) -> Estimate? {
        guard let base = results.value(paper.base, control.metric) else { return nil }
        return Estimate(results.estimate(control.study, control.metric)?.values.map { $0 / base * 100 } ?? [])
    }

    /// Whether `kept` is at least the control's share: by the 95% interval over seeds when there is
    /// one (nil when it straddles the share), else by the value; nil without a value.
    static func keeps(_ kept: Estimate?, _ control: PaperSpec.RetentionControl) -> Bool? {
        kept?.atLeast(control.fraction * 100)
    }

    /// A Table 2 row's name with the experiments it compares, as the paper prints it ("Small (exp 2 vs 4)").
    static func label(_ row: PaperSpec.Table2Row, _ paper: PaperSpec) -> String {
        let standard = paper.row(of: row.standard)?.experiment ?? row.standard
        let enhanced = paper.row(of: row.enhanced)?.experiment ?? row.enhanced
        return "\(row.label) (exp \(standard) vs \(enhanced))"
    }

    /// Each seed's Table 1 values: the appendix behind every mean and interval.
    public static func seeds(_ paper: PaperSpec, _ results: StoredResults) -> ReportTable {
        let metrics = ReportMetric.table1
        let studies = paper.table1.map { ($0.experiment, $0.label, $0.study) } + paper.table1Controls.map { ("", $0.label, $0.study) }
            + paper.ablation.map { ("", $0.label, $0.changed) } + (paper.retentionControl.map { [("", $0.label, $0.study)] } ?? [])
        var rows: [ReportTable.Row] = []
        for (experiment, label, study) in studies {
            for (index, run) in (results.replicates[study] ?? []).enumerated() {
                rows.append(ReportTable.Row([.text(Text(experiment)), .text(Text(label)), .text(Text("\(run.study.seed)"))]
                                            + metrics.map { .number(run.value($0.name)) }, ranked: false, startsGroup: index == 0))
            }
        }
        return ReportTable(
            title: "Seeds", caption: "Every seed's run of each experiment, control and ablation",
            columns: [ReportTable.Column("Exp."), ReportTable.Column("Configuration"), ReportTable.Column("Seed")]
                + metrics.map { ReportTable.Column(Text($0.title), .number($0.format, better: nil)) },
            rows: rows, notes: ["The values behind Table 1's and Table 2's means and intervals; a seed is `train.seed` of the run (the study's own, then the next ones)."])
    }

    /// The note that names the studies shown as "—" and how to make their results.
    static func missingNote(_ results: StoredResults, studies: [String]) -> [Text] {
        let missing = results.missing.filter { studies.contains($0.base) }
        guard !missing.isEmpty else { return [] }
        return [Text("— no finished run for the current configuration: ") + Text(missing.enumerated().flatMap { index, entry -> [Text.Span] in
            (index == 0 ? [] : [.plain("; ")]) + [.plain("\(entry.study) ("), .code(entry.command), .plain(")")]
        })]
    }
}
