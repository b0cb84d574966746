import Study

/// Tables 1 and 2 of the paper, filled with this reproduction's results.
public enum PaperTables {
    /// The paper's improvement (section 4.5): the drop in test loss as a share of the standard
    /// LoRA's loss, in percent. It gives every percentage the paper prints from the losses it prints.
    public static func improvement(standard: Double, enhanced: Double) -> Double {
        (standard - enhanced) / standard * 100
    }

    /// Table 1: every experiment's metrics and parameter counts, under two reference rows: the base
    /// model before fine-tuning, and its blind control (every image blank), the floor of each number.
    public static func table1(_ paper: PaperSpec, _ results: StoredResults) -> ReportTable {
        let metrics = ReportMetric.table1
        func cells(_ study: String, condition: String) -> [ReportTable.Cell] {
            metrics.map { .number(results.value(study, $0.name, condition: condition)) }
        }
        var rows = [
            ReportTable.Row([.text(""), .text("Base model, before fine-tuning")] + cells(paper.base, condition: MetricName.image), ranked: false),
            ReportTable.Row([.text(""), .text("Base model, blind control")] + cells(paper.base, condition: MetricName.blind), ranked: false),
        ]
        for (index, row) in paper.table1.enumerated() {
            rows.append(ReportTable.Row([.text(Text(row.experiment)), .text(Text(row.label))] + cells(row.study, condition: MetricName.image),
                                        startsGroup: index == 0))
        }
        let notes: [Text] = [
            "Best of the experiments in bold (lower is better for test loss, higher for the others); the reference rows are not ranked. The blind control is the base model with every image replaced by a blank one: what a model reaches without seeing.",
            "BLEU (0-1) was computed by the paper but not printed. Parameter counts in millions (M) or thousands (k).",
        ] + missingNote(results, studies: [paper.base] + paper.table1.map(\.study))
        return ReportTable(
            title: "Table 1", caption: Text(paper.table1Caption),
            columns: [ReportTable.Column("Exp."), ReportTable.Column("Configuration")]
                + metrics.map { ReportTable.Column(Text($0.title), .number($0.format, better: $0.better)) },
            rows: rows, notes: notes)
    }

    /// Table 2: standard against enhanced LoRA test loss at each size, and the improvement.
    public static func table2(_ paper: PaperSpec, _ results: StoredResults) -> ReportTable {
        let rows = paper.table2.map { row in
            let standard = results.value(row.standard, MetricName.testLoss)
            let enhanced = results.value(row.enhanced, MetricName.testLoss)
            let gain = standard.flatMap { s in enhanced.map { improvement(standard: s, enhanced: $0) } }
            return ReportTable.Row([.text(Text(label(row, paper))), .number(standard), .number(enhanced), .number(gain)])
        }
        let loss = ReportTable.Column.Kind.number(.decimals(4), better: .lower)
        return ReportTable(
            title: "Table 2", caption: Text(paper.table2Caption),
            columns: [ReportTable.Column("Model size"), ReportTable.Column("Standard LoRA test loss", loss),
                      ReportTable.Column("Enhanced LoRA test loss", loss),
                      ReportTable.Column("Improvement (%)", .number(.decimals(1), better: .higher))],
            rows: rows,
            notes: ["Improvement (%) = (standard loss − enhanced loss) / standard loss × 100, the paper's formula (section 4.5). Best in bold."]
                + missingNote(results, studies: paper.table2.flatMap { [$0.standard, $0.enhanced] }))
    }

    /// How much `value` differs from `reference`, in percent of `reference`.
    public static func relativeChange(from reference: Double, to value: Double) -> Double { (value - reference) / reference * 100 }

    /// The ablations beside Table 2: each configuration's test loss as the paper ran it and with the
    /// one change, and the change in percent of the first.
    public static func ablation(_ paper: PaperSpec, _ results: StoredResults) -> ReportTable {
        let rows = paper.ablation.map { row in
            let baseline = results.value(row.baseline, MetricName.testLoss)
            let changed = results.value(row.changed, MetricName.testLoss)
            let change = baseline.flatMap { b in changed.map { relativeChange(from: b, to: $0) } }
            return ReportTable.Row([.text(Text(row.label)), .number(baseline), .number(changed), .number(change)], ranked: false)
        }
        let loss = ReportTable.Column.Kind.number(.decimals(4), better: .lower)
        return ReportTable(
            title: "Ablation", caption: Text(paper.ablationCaption),
            columns: [ReportTable.Column("Configuration"), ReportTable.Column(Text(paper.ablationColumns.baseline), loss),
                      ReportTable.Column(Text(paper.ablationColumns.changed), loss),
                      ReportTable.Column("Change (%)", .number(.decimals(1), better: .lower))],
            rows: rows,
            notes: ["Not in the paper. Change (%) = (changed loss − loss as run) / loss as run × 100."]
                + missingNote(results, studies: paper.ablation.flatMap { [$0.baseline, $0.changed] }))
    }

    /// A Table 2 row's name with the experiments it compares, as the paper prints it ("Small (exp 2 vs 4)").
    static func label(_ row: PaperSpec.Table2Row, _ paper: PaperSpec) -> String {
        let standard = paper.row(of: row.standard)?.experiment ?? row.standard
        let enhanced = paper.row(of: row.enhanced)?.experiment ?? row.enhanced
        return "\(row.label) (exp \(standard) vs \(enhanced))"
    }

    /// The note that names the studies shown as "—" and how to make their results.
    static func missingNote(_ results: StoredResults, studies: [String]) -> [Text] {
        let missing = results.missing.filter { studies.contains($0.study) }
        guard !missing.isEmpty else { return [] }
        return [Text("— no finished run for the current configuration: ") + Text(missing.enumerated().flatMap { index, entry -> [Text.Span] in
            (index == 0 ? [] : [.plain("; ")]) + [.plain("\(entry.study) ("), .code(entry.command), .plain(")")]
        })]
    }
}
