import Study

/// What a claim's rule says about a set of numbers.
public enum Verdict: String, Sendable, Equatable {
    case holds
    case fails
    /// Numbers the rule needs are missing.
    case cannotTell = "cannot tell"
}

public struct Finding: Sendable, Equatable {
    public var verdict: Verdict
    /// The numbers behind the verdict.
    public var detail: String
}

/// The numbers a claim is judged on: the paper's printed ones, or this reproduction's.
public struct Evidence: Sendable {
    /// Study -> metric -> value, with the images (not the blind control).
    public var values: [String: [String: Double]]
    /// Study -> its loss curve; the paper prints none.
    public var curves: [String: [CurvePoint]]
    /// Study -> its benchmark replies that were a yes or a no; the paper prints none.
    public var replies: [String: ReplyCount]

    public init(values: [String: [String: Double]], curves: [String: [CurvePoint]], replies: [String: ReplyCount] = [:]) {
        self.values = values
        self.curves = curves
        self.replies = replies
    }

    public init(reported: ReportedNumbers) {
        self.init(values: reported.table1, curves: [:])
    }

    public init(results: StoredResults) {
        self.init(values: results.results.mapValues { result in
            result.metrics.values(MetricName.image)
        }, curves: results.results.mapValues(\.curve), replies: results.results.compactMapValues(\.benchmarkReplies))
    }

    func value(_ study: String, _ metric: String) -> Double? { values[study]?[metric] }
}

/// Judges the paper's claims, each by the rule paper.toml gives it.
public struct ClaimJudge: Sendable {
    public let paper: PaperSpec

    public init(paper: PaperSpec) { self.paper = paper }

    /// A held-out loss that ends this much above its lowest point has risen, not wobbled.
    static let overfittingRise = 0.01
    /// Fewer held-out points than this cannot show a fall and a rise.
    static let overfittingPoints = 5
    /// A lowest point within this share of the curve's last points is the end of a fall, not a turn.
    static let overfittingTail = 0.2
    /// Training loss is noisy step to step: a run's final loss is the mean of its last steps.
    static let finalSteps = 10

    /// The rule, in words, as the check states it.
    public func rule(_ claim: PaperSpec.Claim) -> String {
        switch claim.rule {
        case .enhancedLowersLoss:
            return "In every row of Table 2, enhanced LoRA's test loss is below standard LoRA's."
        case .improvementSize(let atLeast, let except):
            let excepted = paper.table2.filter { except.contains($0.id) }.map(\.label)
            return "Table 2's improvement is at least \(format(atLeast, decimals: 1))% in every row"
                + (excepted.isEmpty ? "." : " except \(excepted.joined(separator: ", ")).")
        case .extendedOverfits(let studies):
            return "For \(names(studies)), on the held-out curve (the held-out loss measured every few steps): the last point is at least \(format(Self.overfittingRise * 100, decimals: 0))% above the curve's lowest point, and that lowest point (the first, if tied) is not among the last \(format(Self.overfittingTail * 100, decimals: 0))% of the points (rounded up): it fell, then rose while training went on. A curve of fewer than \(Self.overfittingPoints) points cannot tell."
        case .lowestTrainingLoss(let study):
            return "\(name(study)) ends training (mean of its last \(Self.finalSteps) steps) with the lowest training loss of Figure 2's studies."
        case .noSingleBest:
            return "No experiment is best (ties included) on every metric the paper's Table 1 prints."
        case .bestBalance(let study):
            return "\(name(study)) has the lowest mean rank over the metrics Table 1 prints (test loss ascending, the others descending, ties sharing their mean rank)."
        case .retainsBase(let fraction, let metric):
            return "Every experiment's \(ReportMetric.named(metric)?.title ?? metric) is at least \(format(fraction * 100, decimals: 0))% of the base model's (\(paper.base), before fine-tuning)."
        }
    }

    public func judge(_ claim: PaperSpec.Claim, on evidence: Evidence) -> Finding {
        switch claim.rule {
        case .enhancedLowersLoss:
            return decide(paper.table2.map { row in
                guard let (standard, enhanced) = losses(row, evidence) else { return (nil, missingPair(row, evidence)) }
                let change = PaperTables.improvement(standard: standard, enhanced: enhanced)
                return (enhanced < standard, "\(row.label) \(format(standard, decimals: 4)) → \(format(enhanced, decimals: 4)) (\(format(abs(change), decimals: 1))% \(change >= 0 ? "lower" : "higher"))")
            })
        case .improvementSize(let atLeast, let except):
            let judged = paper.table2.filter { !except.contains($0.id) }.map { row -> (Bool?, String) in
                guard let (standard, enhanced) = losses(row, evidence) else { return (nil, missingPair(row, evidence)) }
                let change = PaperTables.improvement(standard: standard, enhanced: enhanced)
                return (change >= atLeast, "\(row.label) \(format(change, decimals: 1))%")
            }
            var finding = decide(judged)
            let excepted = paper.table2.filter { except.contains($0.id) }.compactMap { row in
                losses(row, evidence).map { "\(row.label) \(format(PaperTables.improvement(standard: $0.0, enhanced: $0.1), decimals: 1))%" }
            }
            if !excepted.isEmpty { finding.detail += " (excepted: \(excepted.joined(separator: "; ")))" }
            return finding
        case .extendedOverfits(let studies):
            return decide(studies.map { study in
                let measured = (evidence.curves[study] ?? []).compactMap { point in point.evalLoss.map { (step: point.step, loss: $0) } }
                guard measured.count >= Self.overfittingPoints, let last = measured.last,
                      let lowest = measured.indices.min(by: { measured[$0].loss < measured[$1].loss }) else {
                    return (nil, measured.isEmpty ? "no held-out loss curve for \(name(study))"
                                                  : "\(name(study)): \(measured.count) held-out point\(measured.count == 1 ? "" : "s") (\(Self.overfittingPoints) are needed)")
                }
                let tail = Int((Double(measured.count) * Self.overfittingTail).rounded(.up))
                let low = measured[lowest].loss
                let rise = (last.loss - low) / low
                let late = lowest >= measured.count - tail
                return (rise >= Self.overfittingRise && !late,
                        "\(name(study)): \(measured.count) points; lowest \(format(low, decimals: 4)) at step \(measured[lowest].step)"
                        + "\(late ? " (among the last \(tail))" : ""), last \(format(last.loss, decimals: 4)) at step \(last.step) (\(format(rise * 100, decimals: 1, signed: true))%)")
            })
        case .lowestTrainingLoss(let study):
            func final(_ study: String) -> Double? {
                let curve = (evidence.curves[study] ?? []).suffix(Self.finalSteps)
                return curve.isEmpty ? nil : curve.map(\.trainLoss).reduce(0, +) / Double(curve.count)
            }
            guard let own = final(study) else { return Finding(verdict: .cannotTell, detail: "no training curve for \(name(study))") }
            let others = paper.figure2.filter { $0 != study }
            let lower = others.compactMap { other in final(other).flatMap { $0 < own ? "\(name(other)) \(format($0, decimals: 4))" : nil } }
            let missing = others.filter { final($0) == nil }
            let detail = "\(name(study)) ends at \(format(own, decimals: 4))"
            if !lower.isEmpty { return Finding(verdict: .fails, detail: "\(detail); lower: \(lower.joined(separator: ", "))") }
            if !missing.isEmpty { return Finding(verdict: .cannotTell, detail: "\(detail); no training curve for \(names(missing))") }
            return Finding(verdict: .holds, detail: "\(detail), below every other study")
        case .noSingleBest:
            guard let best = bestPerMetric(evidence) else { return incomplete(evidence) }
            let everywhere = paper.table1.map(\.study).filter { study in best.allSatisfy { $0.studies.contains(study) } }
            let detail = best.map { "\($0.metric.title) \(names($0.studies))" }.joined(separator: "; ")
            return everywhere.isEmpty
                ? Finding(verdict: .holds, detail: "best: \(detail)")
                : Finding(verdict: .fails, detail: "\(names(everywhere)) best on every printed metric (\(detail))")
        case .bestBalance(let study):
            guard let ranks = meanRanks(evidence) else { return incomplete(evidence) }
            let lowest = ranks.map(\.rank).min()!
            let own = ranks.first { $0.study == study }!.rank
            let leaders = ranks.sorted { $0.rank < $1.rank }.prefix(3).map { "\(name($0.study)) \(format($0.rank, decimals: 2))" }
            return Finding(verdict: own <= lowest + 1e-9 ? .holds : .fails,
                           detail: "mean rank \(format(own, decimals: 2)); lowest: \(leaders.joined(separator: ", "))")
        case .retainsBase(let fraction, let metric):
            guard let base = evidence.value(paper.base, metric) else {
                return Finding(verdict: .cannotTell, detail: "no \(ReportMetric.named(metric)?.title ?? metric) for the base model \(paper.base)")
            }
            let shown = ReportMetric.named(metric)?.format ?? .decimals(4)
            var finding = decide(paper.table1.map { row in
                guard let value = evidence.value(row.study, metric) else { return (nil, "no value for \(name(row.study))") }
                // A model that stops answering yes or no scores nothing, whatever it sees: say so beside the share.
                let replies = evidence.replies[row.study].map { " (\($0.yesOrNo)/\($0.total) replies yes or no)" } ?? ""
                return (value >= fraction * base, "\(name(row.study)) \(format(value / base * 100, decimals: 1))%\(replies)")
            })
            finding.detail = "base \(shown.string(base)); " + finding.detail
            return finding
        }
    }

    // MARK: Helpers

    /// All parts hold: holds; any part fails: fails (one counterexample suffices); else cannot tell.
    private func decide(_ parts: [(Bool?, String)]) -> Finding {
        let verdict: Verdict = parts.contains { $0.0 == false } ? .fails : parts.contains { $0.0 == nil } ? .cannotTell : .holds
        return Finding(verdict: verdict, detail: parts.map(\.1).joined(separator: "; "))
    }

    private func losses(_ row: PaperSpec.Table2Row, _ evidence: Evidence) -> (Double, Double)? {
        guard let standard = evidence.value(row.standard, MetricName.testLoss),
              let enhanced = evidence.value(row.enhanced, MetricName.testLoss) else { return nil }
        return (standard, enhanced)
    }

    private func missingPair(_ row: PaperSpec.Table2Row, _ evidence: Evidence) -> String {
        let absent = [row.standard, row.enhanced].filter { evidence.value($0, MetricName.testLoss) == nil }
        return "\(row.label): no test loss for \(names(absent))"
    }

    /// For each printed metric, the experiments that hold its best value; nil when any is missing.
    func bestPerMetric(_ evidence: Evidence) -> [(metric: ReportMetric, studies: [String])]? {
        let studies = paper.table1.map(\.study)
        var best: [(ReportMetric, [String])] = []
        for metric in ReportMetric.printed {
            let values = studies.map { evidence.value($0, metric.name) }
            guard values.allSatisfy({ $0 != nil }) else { return nil }
            let indices = bestIndices(values, better: metric.better!, format: metric.format)
            best.append((metric, indices.sorted().map { studies[$0] }))
        }
        return best
    }

    /// Each experiment's mean rank over the printed metrics (1 is best); nil when any value is missing.
    func meanRanks(_ evidence: Evidence) -> [(study: String, rank: Double)]? {
        let studies = paper.table1.map(\.study)
        var total = [Double](repeating: 0, count: studies.count)
        for metric in ReportMetric.printed {
            let values = studies.compactMap { evidence.value($0, metric.name) }
            guard values.count == studies.count else { return nil }
            for (index, value) in values.enumerated() {
                let better = values.filter { metric.better == .lower ? $0 < value : $0 > value }.count
                let tied = values.filter { $0 == value }.count
                total[index] += Double(better) + Double(tied + 1) / 2
            }
        }
        let count = Double(ReportMetric.printed.count)
        return zip(studies, total).map { ($0, $1 / count) }
    }

    private func incomplete(_ evidence: Evidence) -> Finding {
        let absent = paper.table1.map(\.study).filter { study in ReportMetric.printed.contains { evidence.value(study, $0.name) == nil } }
        return Finding(verdict: .cannotTell, detail: "needs every printed metric of every experiment; missing for \(names(absent))")
    }

    /// "exp 3": how the paper names a study.
    func name(_ study: String) -> String { paper.row(of: study).map { "exp \($0.experiment)" } ?? study }

    func names(_ studies: [String]) -> String { studies.map(name).joined(separator: ", ") }
}

/// A number with a fixed count of decimals; `signed` writes a plus before positive values.
func format(_ value: Double, decimals: Int, signed: Bool = false) -> String {
    let text = NumberFormat.decimals(decimals).string(value)
    return signed && value >= 0 ? "+" + text : text
}
