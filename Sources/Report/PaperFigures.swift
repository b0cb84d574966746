import Study

/// Figure 2 of the paper, and the held-out curves its overfitting claim needs.
public enum PaperFigures {
    /// Training loss against optimizer step for every study of Figure 2.
    public static func figure2(_ paper: PaperSpec, _ results: StoredResults) -> LossChart {
        chart(paper, results, yLabel: "Training loss", markers: false) { result in
            result.curve.map { LossChart.Point(step: Double($0.step), loss: $0.trainLoss) }
        }
    }

    /// The held-out curve (the held-out loss every `train.eval_every` steps, about 20 points a run)
    /// for the same studies: the paper did not show it, but overfitting is a held-out loss that rises
    /// while the training loss falls.
    ///
    /// The training slice's loss (`StudyResult.trainingSliceCurve`) is left out: a dashed line
    /// already means enhanced LoRA in the same colour, so a dashed training-slice line would read as
    /// the enhanced study, and it lies in the held-out curves' range, so twenty lines in five colours
    /// would cross each other unreadably at one column's width. `repro show` prints it beside each
    /// held-out point.
    public static func heldOut(_ paper: PaperSpec, _ results: StoredResults) -> LossChart {
        chart(paper, results, yLabel: "Held-out loss (test split)", markers: false) { result in
            result.heldOutCurve.map { LossChart.Point(step: Double($0.step), loss: $0.loss) }
        }
    }

    /// Several seeds' curves as one line, their mean at each step they all have, and a band from
    /// the lowest to the highest seed there; one curve is drawn as it is, without a band.
    static func spread(_ curves: [[LossChart.Point]]) -> (line: [LossChart.Point], band: [LossChart.BandPoint]) {
        guard curves.count > 1 else { return (curves.first ?? [], []) }
        let byStep = curves.map { Dictionary($0.map { ($0.step, $0.loss) }) { first, _ in first } }
        let steps = curves[0].map(\.step).filter { step in byStep.allSatisfy { $0[step] != nil } }
        let line = steps.map { step in LossChart.Point(step: step, loss: byStep.reduce(0) { $0 + $1[step]! } / Double(byStep.count)) }
        let band = steps.map { step in
            let losses = byStep.map { $0[step]! }
            return LossChart.BandPoint(step: step, low: losses.min()!, high: losses.max()!)
        }
        return (line, band)
    }

    /// One colour per Table 2 row, solid for standard LoRA and dashed for enhanced, so that each
    /// pair reads side by side in a two-column legend; studies outside Table 2 follow, solid.
    static func chart(_ paper: PaperSpec, _ results: StoredResults, yLabel: String, markers: Bool,
                      points: (StudyResult) -> [LossChart.Point]) -> LossChart {
        func series(_ study: String, label: String, color: Int, dashed: Bool) -> LossChart.Series {
            let experiment = paper.row(of: study)?.experiment ?? ""
            let (line, band) = spread((results.replicates[study] ?? []).map(points))
            return LossChart.Series(label: "\(experiment) \(label)", points: line,
                                    color: LossChart.palette[color % LossChart.palette.count], dashed: dashed, band: band)
        }
        let pairs = paper.table2.filter { paper.figure2.contains($0.standard) && paper.figure2.contains($0.enhanced) }
        let paired = Set(pairs.flatMap { [$0.standard, $0.enhanced] })
        let others = paper.figure2.filter { !paired.contains($0) }
        let lines = pairs.enumerated().map { series($1.standard, label: $1.label, color: $0, dashed: false) }
            + pairs.enumerated().map { series($1.enhanced, label: $1.label, color: $0, dashed: true) }
            + others.enumerated().map { series($1, label: paper.row(of: $1)?.label ?? $1, color: pairs.count + $0, dashed: false) }
        return LossChart(xLabel: "Optimizer step", yLabel: yLabel, series: lines, markers: markers,
                         legendTitles: others.isEmpty && !pairs.isEmpty ? ["Standard LoRA", "Enhanced LoRA"] : ["", ""])
    }
}
