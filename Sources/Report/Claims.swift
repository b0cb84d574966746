import Metrics
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

/// The numbers a claim is judged on: the paper's printed ones (one value each), or this
/// reproduction's (one per seed, and each test item's).
public struct Evidence: Sendable {
    /// Study -> its values per seed (metric -> value, with the images), in seed order.
    public var seeds: [String: [[String: Double]]]
    /// Study -> its loss curve per seed; the paper prints none.
    public var curves: [String: [[CurvePoint]]]
    /// Study -> its benchmark replies that were a yes or a no (all seeds together); the paper prints none.
    public var replies: [String: ReplyCount]
    /// The stored results, for intervals over test items; nil for the paper's numbers.
    public var stored: StoredResults?
    /// Study -> the seed of each entry of `seeds` and `curves` (default: 0, 1, 2, ...), so that
    /// seeds pair by their number even when a study lacks one of them.
    public var seedNumbers: [String: [UInt64]] = [:]
    /// Study -> the parts of the model that started from fresh weights in any of its runs (empty:
    /// every tensor was loaded from the studies it starts from); absent where no run recorded them.
    public var freshParts: [String: [String]] = [:]

    public init(seeds: [String: [[String: Double]]], curves: [String: [[CurvePoint]]] = [:], replies: [String: ReplyCount] = [:],
                stored: StoredResults? = nil) {
        self.seeds = seeds
        self.curves = curves
        self.replies = replies
        self.stored = stored
    }

    /// One value per study and metric (one "seed").
    public init(values: [String: [String: Double]], curves: [String: [CurvePoint]] = [:], replies: [String: ReplyCount] = [:]) {
        self.init(seeds: values.mapValues { [$0] }, curves: curves.mapValues { [$0] }, replies: replies)
    }

    public init(reported: ReportedNumbers) {
        self.init(values: reported.table1)
    }

    public init(results: StoredResults) {
        self.init(seeds: results.replicates.mapValues { runs in runs.map { $0.metrics.values(MetricName.image) } },
                  curves: results.replicates.mapValues { $0.map(\.curve) },
                  replies: results.replicates.compactMapValues { runs in
                      let counts = runs.compactMap(\.benchmarkReplies)
                      return counts.isEmpty ? nil : ReplyCount(yesOrNo: counts.map(\.yesOrNo).reduce(0, +), total: counts.map(\.total).reduce(0, +))
                  },
                  stored: results)
        seedNumbers = results.replicates.mapValues { $0.map(\.study.seed) }
        freshParts = results.replicates.compactMapValues { runs in
            let recorded = runs.compactMap(\.freshParts)
            return recorded.isEmpty ? nil : Set(recorded.joined()).sorted()
        }
    }

    /// The seed numbers of a study's entries.
    func seedNumbers(_ study: String) -> [UInt64] { seedNumbers[study] ?? (seeds[study] ?? []).indices.map(UInt64.init) }

    /// The seeds every one of `studies` has, in order.
    func sharedSeeds(_ studies: [String]) -> [UInt64] {
        guard let first = studies.first else { return [] }
        return seedNumbers(first).filter { seed in studies.allSatisfy { seedNumbers($0).contains(seed) } }
    }

    /// A study's values of one seed.
    func values(_ study: String, seed: UInt64) -> [String: Double]? {
        seedNumbers(study).firstIndex(of: seed).flatMap { seeds[study]?[$0] }
    }

    /// A study's curve of one seed.
    func curve(_ study: String, seed: UInt64) -> [CurvePoint]? {
        seedNumbers(study).firstIndex(of: seed).flatMap { index in curves[study].flatMap { index < $0.count ? $0[index] : nil } }
    }

    /// Each study's values with one seed, as the paper prints them (setting them replaces every seed).
    public var values: [String: [String: Double]] {
        get { seeds.compactMapValues(\.first) }
        set {
            seeds = newValue.mapValues { [$0] }
            seedNumbers = [:]
        }
    }

    /// The mean over the study's seeds.
    func value(_ study: String, _ metric: String) -> Double? { Estimate(seedValues(study, metric))?.mean }

    /// The study's value per seed that has it.
    func seedValues(_ study: String, _ metric: String) -> [Double] { (seeds[study] ?? []).compactMap { $0[metric] } }

    /// Values of `metric` for `studies`, seed by seed: one entry per seed every study has (with the
    /// metric), holding each study's value of that seed; nil when there is none.
    func bySeed(_ studies: [String], _ metric: String) -> [[Double]]? {
        let rows = sharedSeeds(studies).compactMap { seed -> [Double]? in
            let row = studies.compactMap { values($0, seed: seed)?[metric] }
            return row.count == studies.count ? row : nil
        }
        return rows.isEmpty ? nil : rows
    }
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
            return "In every row of Table 2, enhanced LoRA's test loss is below standard LoRA's: a row holds when the 95% interval of the difference (enhanced − standard) lies below zero, fails when it lies above, and cannot tell when it holds zero. The interval is over seeds (Student's t of the per-seed differences) with two seeds or more, else over the test items (paired bootstrap); numbers without either (the paper's) are compared as they are."
        case .improvementSize(let atLeast, let except):
            let excepted = paper.table2.filter { except.contains($0.id) }.map(\.label)
            return "Table 2's improvement is at least \(format(atLeast, decimals: 1))% in every row"
                + (excepted.isEmpty ? "" : " except \(excepted.joined(separator: ", "))")
                + ": a row holds when the 95% interval of its per-seed improvements lies at or above it, fails when it lies below, and cannot tell otherwise (one seed: the value decides)."
        case .extendedOverfits(let studies):
            return "For \(names(studies)), on the held-out curve (the held-out loss measured every few steps): the last point is at least \(format(Self.overfittingRise * 100, decimals: 0))% above the curve's lowest point, and that lowest point (the first, if tied) is not among the last \(format(Self.overfittingTail * 100, decimals: 0))% of the points (rounded up): it fell, then rose while training went on. A curve of fewer than \(Self.overfittingPoints) points cannot tell. With several seeds, a study holds when every seed's curve does and fails when none does."
        case .lowestTrainingLoss(let study):
            return "\(name(study)) ends training (mean of its last \(Self.finalSteps) steps) with the lowest training loss of Figure 2's studies, seed by seed (its run of each seed against every other study's run of the same seed): holds when it does in every seed, fails in none, cannot tell otherwise."
        case .noSingleBest:
            return "No experiment is best (ties included) on every metric the paper's Table 1 prints. As a ranking, it is judged on the means, on each seed and on 10,000 resamples of the test items (the per-item metrics redrawn, MME at its mean): holds when it holds in every seed and at least 95% of the resamples, fails when in no seed and at most 5%, cannot tell otherwise."
        case .bestBalance(let study):
            return "\(name(study)) has the lowest mean rank over the metrics Table 1 prints (test loss ascending, the others descending, ties sharing their mean rank), judged as a ranking like the claim above: on every seed and on resamples of the test items."
        case .retainsBase(let fraction, let metric):
            return "Every experiment's \(ReportMetric.named(metric)?.title ?? metric) is at least \(format(fraction * 100, decimals: 0))% of the base model's (\(paper.base), before fine-tuning): an experiment holds when the 95% interval of its value over seeds lies at or above that share, fails when it lies below, cannot tell otherwise (one seed: the value decides). "
                + "The experiments are judged in two groups, told apart by the tensors their runs recorded as loaded and fresh: those that loaded every tensor (the vision encoder and Q-Former keep their pretrained weights), whose verdict speaks for fine-tuning with LoRA; and those with parts that started from fresh weights (resized), which learn to see from the fine-tuning set alone and cannot be expected to keep what the base model saw. "
                + "A group holds when each of its experiments holds and fails when one fails; the claim, made of every experiment, holds when both groups hold and fails when either fails (experiments without a run that recorded its tensors are a third group that counts the same). "
                + "Fine-tuned studies paper.toml names beyond Table 1 (the ablations, the controls under Table 1) join their group; the positive control does not, since it tests the measurement itself. Beside each: its forced choice (the share of benchmark questions whose right answer, yes or no, is the likelier reply) and how many of its replies were a yes or a no, since MME scores a model that stops replying yes or no at nothing, whatever it sees."
        }
    }

    public func judge(_ claim: PaperSpec.Claim, on evidence: Evidence) -> Finding {
        switch claim.rule {
        case .enhancedLowersLoss:
            return decide(paper.table2.map { row in
                guard let (standard, enhanced) = losses(row, evidence) else { return (nil, missingPair(row, evidence)) }
                let change = PaperTables.improvement(standard: standard, enhanced: enhanced)
                let shown = "\(row.label) \(format(standard, decimals: 4)) → \(format(enhanced, decimals: 4)) (\(format(abs(change), decimals: 1))% \(change >= 0 ? "lower" : "higher")"
                guard let interval = differenceInterval(row.standard, row.enhanced, MetricName.testLoss, evidence) else {
                    return (enhanced < standard, shown + ")")
                }
                let verdict: Bool? = interval.upper < 0 ? true : interval.lower > 0 ? false : nil
                return (verdict, shown + "; enhanced − standard \(interval.text))")
            })
        case .improvementSize(let atLeast, let except):
            let judged = paper.table2.filter { !except.contains($0.id) }.map { row -> (Bool?, String) in
                guard let pairs = evidence.bySeed([row.standard, row.enhanced], MetricName.testLoss) else { return (nil, missingPair(row, evidence)) }
                let gains = pairs.map { PaperTables.improvement(standard: $0[0], enhanced: $0[1]) }
                guard let interval = StudentInterval.confidence(gains) else { return (gains[0] >= atLeast, "\(row.label) \(format(gains[0], decimals: 1))%") }
                let verdict: Bool? = interval.lower >= atLeast ? true : interval.upper < atLeast ? false : nil
                return (verdict, "\(row.label) \(format(interval.center, decimals: 1))% [\(format(interval.lower, decimals: 1)), \(format(interval.upper, decimals: 1))] over \(gains.count) seeds")
            }
            var finding = decide(judged)
            let excepted = paper.table2.filter { except.contains($0.id) }.compactMap { row in
                losses(row, evidence).map { "\(row.label) \(format(PaperTables.improvement(standard: $0.0, enhanced: $0.1), decimals: 1))%" }
            }
            if !excepted.isEmpty { finding.detail += " (excepted: \(excepted.joined(separator: "; ")))" }
            return finding
        case .extendedOverfits(let studies):
            return decide(studies.map { study in
                // Each seed's curve by the rule; the study holds when every seed does, fails when none does.
                let judged = (evidence.curves[study] ?? [[]]).map { overfits(study, $0) }
                guard judged.count > 1 else { return judged[0] }
                let held = judged.filter { $0.0 == true }.count, failed = judged.filter { $0.0 == false }.count
                let verdict: Bool? = held == judged.count ? true : failed == judged.count ? false : nil
                return (verdict, "\(name(study)): rises in \(held) of \(judged.count) seeds (first seed: \(judged[0].1.dropFirst(name(study).count + 2)))")
            })
        case .lowestTrainingLoss(let study):
            func final(_ study: String, _ seed: UInt64) -> Double? {
                guard let curve = evidence.curve(study, seed: seed)?.suffix(Self.finalSteps), !curve.isEmpty else { return nil }
                return curve.map(\.trainLoss).reduce(0, +) / Double(curve.count)
            }
            let others = paper.figure2.filter { $0 != study }
            guard let first = evidence.seedNumbers(study).first, let own = final(study, first) else {
                return Finding(verdict: .cannotTell, detail: "no training curve for \(name(study))")
            }
            let missing = others.filter { other in evidence.seedNumbers(other).allSatisfy { final(other, $0) == nil } }
            // Seed by seed: the study's run of each seed against every other study's run of that seed.
            let seeds = evidence.sharedSeeds([study] + others.filter { !missing.contains($0) })
            var lowestIn = 0
            var lower: [String] = []
            for seed in seeds {
                guard let mine = final(study, seed) else { continue }
                let beaten = others.compactMap { other in final(other, seed).flatMap { $0 < mine ? "\(name(other)) \(format($0, decimals: 4))" : nil } }
                if beaten.isEmpty { lowestIn += 1 } else if lower.isEmpty { lower = beaten }
            }
            let detail = "\(name(study)) ends at \(format(own, decimals: 4))" + (seeds.count > 1 ? " (first seed); the lowest in \(lowestIn) of \(seeds.count) seeds" : "")
            if !missing.isEmpty && lowestIn > 0 { return Finding(verdict: .cannotTell, detail: "\(detail); no training curve for \(names(missing))") }
            if lowestIn == 0 { return Finding(verdict: .fails, detail: "\(detail); lower: \(lower.joined(separator: ", "))") }
            if lowestIn == seeds.count { return Finding(verdict: .holds, detail: "\(detail), below every other study") }
            return Finding(verdict: .cannotTell, detail: detail)
        case .noSingleBest:
            guard let best = bestPerMetric(evidence.value) else { return incomplete(evidence) }
            let everywhere = paper.table1.map(\.study).filter { study in best.allSatisfy { $0.studies.contains(study) } }
            let detail = best.map { "\($0.metric.title) \(names($0.studies))" }.joined(separator: "; ")
            return ranking(holds: everywhere.isEmpty,
                           detail: everywhere.isEmpty ? "best: \(detail)" : "\(names(everywhere)) best on every printed metric (\(detail))",
                           evidence: evidence) { value in
                guard let best = bestPerMetric(value) else { return nil }
                return !paper.table1.map(\.study).contains { study in best.allSatisfy { $0.studies.contains(study) } }
            }
        case .bestBalance(let study):
            guard let ranks = meanRanks(evidence.value) else { return incomplete(evidence) }
            let lowest = ranks.map(\.rank).min()!
            let own = ranks.first { $0.study == study }!.rank
            let leaders = ranks.sorted { $0.rank < $1.rank }.prefix(3).map { "\(name($0.study)) \(format($0.rank, decimals: 2))" }
            return ranking(holds: own <= lowest + 1e-9, detail: "mean rank \(format(own, decimals: 2)); lowest: \(leaders.joined(separator: ", "))",
                           evidence: evidence) { value in
                guard let ranks = meanRanks(value) else { return nil }
                return ranks.first { $0.study == study }!.rank <= ranks.map(\.rank).min()! + 1e-9
            }
        case .retainsBase(let fraction, let metric):
            guard let base = evidence.value(paper.base, metric) else {
                return Finding(verdict: .cannotTell, detail: "no \(ReportMetric.named(metric)?.title ?? metric) for the base model \(paper.base)")
            }
            let shown = ReportMetric.named(metric)?.format ?? .decimals(4)
            func retention(_ study: String) -> (Bool?, String) {
                guard let estimate = Estimate(evidence.seedValues(study, metric)) else { return (nil, "no value for \(name(study))") }
                let verdict = estimate.atLeast(fraction * base)
                var share = "\(format(estimate.mean / base * 100, decimals: 1))%"
                if let interval = estimate.interval {
                    share += " [\(format(interval.lower / base * 100, decimals: 1)), \(format(interval.upper / base * 100, decimals: 1))]"
                }
                // A model that stops answering yes or no scores nothing, whatever it sees: say so beside the share.
                return (verdict, "\(name(study)) \(share)\(beside(study, evidence))")
            }
            // Table 1, then the fine-tuned studies paper.toml names elsewhere; not the positive control, which tests the measurement.
            let studies = paper.table1.map(\.study) + paper.studies.filter { study in
                study != paper.base && study != paper.retentionControl?.study && paper.row(of: study) == nil
                    && !evidence.seedValues(study, metric).isEmpty
            }
            let groups = retentionGroups(studies, evidence).map { group -> (Bool?, String) in
                let finding = decide(group.studies.map(retention))
                let verdict: Bool? = finding.verdict == .holds ? true : finding.verdict == .fails ? false : nil
                return (verdict, "\(group.title): \(finding.verdict.rawValue) — \(finding.detail)")
            }
            return Finding(verdict: decide(groups).verdict,
                           detail: "base \(shown.string(base))\(beside(paper.base, evidence)). " + groups.map(\.1).joined(separator: ". "))
        }
    }

    // MARK: Helpers

    /// The retention claim's groups of `studies`, in order, the empty ones left out: those whose runs
    /// loaded every tensor, those with parts that started fresh, and those whose runs recorded neither.
    func retentionGroups(_ studies: [String], _ evidence: Evidence) -> [(title: String, studies: [String])] {
        let kept = studies.filter { evidence.freshParts[$0]?.isEmpty == true }
        let resized = studies.filter { evidence.freshParts[$0]?.isEmpty == false }
        let unrecorded = studies.filter { evidence.freshParts[$0] == nil }
        let fresh = Set(resized.flatMap { evidence.freshParts[$0]! }).sorted()
        return [("Pretrained weights kept (\(names(kept)); every tensor loaded)", kept),
                ("Resized (\(names(resized)); fresh weights: \(fresh.joined(separator: ", ")))", resized),
                ("Loaded and fresh tensors not recorded (\(names(unrecorded)))", unrecorded)]
            .filter { !$0.1.isEmpty }
    }

    /// What stands beside a study's MME share: its forced choice and how many of its replies were a
    /// yes or a no, where known ("" when neither is).
    private func beside(_ study: String, _ evidence: Evidence) -> String {
        let parts = [evidence.value(study, MetricName.mmeForcedChoice).map { "forced choice \(format($0 * 100, decimals: 1))%" },
                     evidence.replies[study].map { "\($0.yesOrNo)/\($0.total) replies yes or no" }].compactMap { $0 }
        return parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
    }

    /// The overfitting rule on one held-out curve: nil when it has too few points.
    private func overfits(_ study: String, _ curve: [CurvePoint]) -> (Bool?, String) {
        let measured = curve.compactMap { point in point.evalLoss.map { (step: point.step, loss: $0) } }
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
    }

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
    func bestPerMetric(_ value: (String, String) -> Double?) -> [(metric: ReportMetric, studies: [String])]? {
        let studies = paper.table1.map(\.study)
        var best: [(ReportMetric, [String])] = []
        for metric in ReportMetric.printed {
            let values = studies.map { value($0, metric.name) }
            guard values.allSatisfy({ $0 != nil }) else { return nil }
            let indices = bestIndices(values, better: metric.better!, format: metric.format)
            best.append((metric, indices.sorted().map { studies[$0] }))
        }
        return best
    }

    /// Each experiment's mean rank over the printed metrics (1 is best); nil when any value is missing.
    func meanRanks(_ value: (String, String) -> Double?) -> [(study: String, rank: Double)]? {
        let studies = paper.table1.map(\.study)
        var total = [Double](repeating: 0, count: studies.count)
        for metric in ReportMetric.printed {
            let values = studies.compactMap { value($0, metric.name) }
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

    /// The interval of `b - a` for `metric`: over seeds (Student's t of the per-seed differences)
    /// when there are two seeds or more, else over the test items (paired bootstrap) when the runs
    /// kept them; nil for point values only (the paper's numbers, or one seed without items).
    func differenceInterval(_ a: String, _ b: String, _ metric: String, _ evidence: Evidence) -> DifferenceInterval? {
        if let pairs = evidence.bySeed([a, b], metric), let seeds = StudentInterval.confidence(pairs.map { $0[1] - $0[0] }) {
            return DifferenceInterval(estimate: seeds.center, lower: seeds.lower, upper: seeds.upper, over: "\(pairs.count) seeds")
        }
        guard let stored = evidence.stored, let items = PairedDifference(a, b, metric: metric, in: stored).itemInterval else { return nil }
        return DifferenceInterval(estimate: items.observed, lower: items.lower, upper: items.upper,
                                  over: "\(stored[a]?.items?.count ?? 0) test items, bootstrap")
    }

    /// A ranking claim: its verdict on the means, and how often it holds seed by seed and across
    /// bootstrap resamples of the test items (`holdsFor` judges one set of values). Holds when it
    /// holds in every seed and in at least 95% of the resamples; fails when in no seed and at most
    /// 5% of them; with one value per study (the paper's numbers), the means decide.
    func ranking(holds: Bool, detail: String, evidence: Evidence, holdsFor: ((String, String) -> Double?) -> Bool?) -> Finding {
        let studies = paper.table1.map(\.study)
        let shared = evidence.sharedSeeds(studies)
        let seedCount = shared.count
        let perSeed = shared.compactMap { seed in holdsFor { study, metric in evidence.values(study, seed: seed)?[metric] } }
        let resampled = evidence.stored.flatMap { ItemResampling(studies: studies, results: $0)?.share(evidence: evidence, holdsFor) }
        guard seedCount > 1 || resampled != nil else { return Finding(verdict: holds ? .holds : .fails, detail: detail) }
        let seedsHeld = perSeed.filter { $0 }.count
        var parts = ["in \(seedsHeld) of \(perSeed.count) seeds"]
        if let resampled { parts.append("in \(format(resampled * 100, decimals: 1))% of \(Bootstrap.defaultResamples) resamples of the test items") }
        let verdict: Verdict = seedsHeld == perSeed.count && (resampled ?? 1) >= 0.95 ? .holds
            : seedsHeld == 0 && (resampled ?? 0) <= 0.05 ? .fails : .cannotTell
        return Finding(verdict: verdict, detail: "\(holds ? "holds" : "fails") on the means (\(detail)); holds \(parts.joined(separator: " and "))")
    }

    private func incomplete(_ evidence: Evidence) -> Finding {
        let absent = paper.table1.map(\.study).filter { study in ReportMetric.printed.contains { evidence.value(study, $0.name) == nil } }
        return Finding(verdict: .cannotTell, detail: "needs every printed metric of every experiment; missing for \(names(absent))")
    }

    /// "exp 3": how the paper names a study.
    func name(_ study: String) -> String { paper.row(of: study).map { "exp \($0.experiment)" } ?? study }

    func names(_ studies: [String]) -> String { studies.map(name).joined(separator: ", ") }
}

/// An interval of a difference between two configurations, and what it is over.
struct DifferenceInterval {
    let estimate, lower, upper: Double
    /// "3 seeds" or "250 test items, bootstrap".
    let over: String

    var text: String {
        "\(format(estimate, decimals: 4)) [\(format(lower, decimals: 4)), \(format(upper, decimals: 4))] over \(over)"
    }
}

/// A number with a fixed count of decimals; `signed` writes a plus before positive values.
func format(_ value: Double, decimals: Int, signed: Bool = false) -> String {
    let text = NumberFormat.decimals(decimals).string(value)
    return signed && value >= 0 ? "+" + text : text
}
