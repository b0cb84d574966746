import Metrics
import Study

/// How two configurations' numbers differ, with both kinds of uncertainty: over seeds (the runs'
/// randomness: Student's t over the per-seed differences, paired by seed) and over the test items
/// (the test set's: a paired bootstrap of the seed-averaged per-item results, 10,000 resamples).
public struct PairedDifference: Sendable {
    /// b - a per seed that both have, in seed order.
    public let perSeed: [Double]
    /// Over seeds; nil with fewer than two.
    public var seedInterval: StudentInterval? { StudentInterval.confidence(perSeed) }
    /// Over test items; nil when either run kept no per-item results.
    public let itemInterval: BootstrapInterval?

    /// The difference `b - a` of `metric` between two studies' results.
    public init(_ a: String, _ b: String, metric: String, in results: StoredResults) {
        let first = results.replicates[a] ?? [], second = results.replicates[b] ?? []
        let seeds = first.map(\.study.seed).filter { seed in second.contains { $0.study.seed == seed } }
        perSeed = seeds.compactMap { seed -> Double? in
            guard let x = first.first(where: { $0.study.seed == seed })?.value(metric), let y = second.first(where: { $0.study.seed == seed })?.value(metric)
            else { return nil }
            return y - x
        }
        itemInterval = Self.bootstrap(first.filter { seeds.contains($0.study.seed) }, second.filter { seeds.contains($0.study.seed) }, metric: metric)
    }

    /// The seed the bootstrap draws with: fixed, so that a report is the same every time it is written.
    public static let bootstrapSeed: UInt64 = 2026

    /// The paired bootstrap of `b - a` over the test items, each item's result averaged over the
    /// seeds. The test loss is token-weighted as the metric is: Σ loss sums / Σ tokens over the drawn items.
    static func bootstrap(_ a: [StudyResult], _ b: [StudyResult], metric: String) -> BootstrapInterval? {
        func averaged(_ runs: [StudyResult], _ key: String) -> [Double]? {
            let items = runs.compactMap(\.items)
            guard !runs.isEmpty, items.count == runs.count, let count = items.first?.count, items.allSatisfy({ $0.count == count }) else { return nil }
            var sums = [Double](repeating: 0, count: count)
            for run in items {
                for (index, item) in run.enumerated() {
                    guard let value = item[key] else { return nil }
                    sums[index] += value
                }
            }
            return sums.map { $0 / Double(items.count) }
        }
        if metric == MetricName.testLoss {
            // Each side by its own token counts: a run that counts padding (the ablation) counts more.
            guard let lossA = averaged(a, TestItems.lossSum), let lossB = averaged(b, TestItems.lossSum),
                  let tokensA = averaged(a, TestItems.tokens), let tokensB = averaged(b, TestItems.tokens), lossA.count == lossB.count else { return nil }
            func loss(_ sums: [Double], _ tokens: [Double], _ indices: [Int]) -> Double {
                indices.reduce(0) { $0 + sums[$1] } / indices.reduce(0) { $0 + tokens[$1] }
            }
            let all = Array(lossA.indices)
            let differences = Bootstrap.resampledStatistics(itemCount: lossA.count, seed: bootstrapSeed) {
                loss(lossB, tokensB, $0) - loss(lossA, tokensA, $0)
            }
            return Bootstrap.interval(differences, observed: loss(lossB, tokensB, all) - loss(lossA, tokensA, all), seed: bootstrapSeed)
        }
        guard let x = averaged(a, metric), let y = averaged(b, metric), x.count == y.count else { return nil }
        return Bootstrap.pairedDifference(y, x, seed: bootstrapSeed)
    }
}

/// Every experiment's per-item results, averaged over its seeds, for redrawing the test items all
/// at once: a ranking claim is judged again on each resample's metrics.
struct ItemResampling {
    /// Study -> per-item metric (TestItems' names) -> one value per item.
    let items: [String: [String: [Double]]]
    let count: Int

    /// nil unless every study kept per-item results for the same test items.
    init?(studies: [String], results: StoredResults) {
        var items: [String: [String: [Double]]] = [:]
        var count: Int?
        for study in studies {
            let runs = (results.replicates[study] ?? []).compactMap(\.items)
            guard !runs.isEmpty, runs.count == results.replicates[study]?.count, let n = runs.first?.count,
                  runs.allSatisfy({ $0.count == n }), count == nil || count == n else { return nil }
            count = n
            // Only what every item of every run has: with `eval.test_samples` set, replies (ROUGE,
            // CLIP) cover a prefix of the items, and such metrics stay at their means.
            var averaged: [String: [Double]] = [:]
            for key in Set(runs[0][0].keys) where runs.allSatisfy({ $0.allSatisfy { $0[key] != nil } }) {
                averaged[key] = (0..<n).map { index in runs.reduce(0) { $0 + $1[index][key]! } / Double(runs.count) }
            }
            items[study] = averaged
        }
        guard let count, count > 0 else { return nil }
        self.items = items
        self.count = count
    }

    /// A metric of `study` over the drawn items, when the items carry it (the test loss token-weighted,
    /// the others their mean); nil for metrics that are not per item (MME).
    func value(_ study: String, _ metric: String, _ indices: [Int]) -> Double? {
        guard let columns = items[study] else { return nil }
        if metric == MetricName.testLoss {
            guard let sums = columns[TestItems.lossSum], let tokens = columns[TestItems.tokens] else { return nil }
            return indices.reduce(0) { $0 + sums[$1] } / indices.reduce(0) { $0 + tokens[$1] }
        }
        guard let column = columns[metric] else { return nil }
        return indices.reduce(0) { $0 + column[$1] } / Double(indices.count)
    }

    /// The share of resamples for which `holdsFor` holds, per-item metrics redrawn and the others
    /// (MME) at their means over seeds.
    func share(evidence: Evidence, _ holdsFor: ((String, String) -> Double?) -> Bool?) -> Double {
        Bootstrap.share(itemCount: count, seed: PairedDifference.bootstrapSeed) { indices in
            holdsFor { study, metric in value(study, metric, indices) ?? evidence.value(study, metric) } == true
        }
    }
}
