import Foundation
import Metrics
import Testing

/// statistics.json: scipy's and numpy's values, and the bootstrap run by the same procedure in Python.
struct StatisticsFixture: Decodable {
    struct TDistribution: Decodable {
        struct Quantile: Decodable { let p, df, t: Double }
        struct CDF: Decodable { let t, df, cdf: Double }
        let quantiles: [Quantile]
        let cdf: [CDF]
    }
    struct Interval: Decodable {
        let values: [Double]
        let level, mean, standardDeviation, t, confidenceHalfWidth, predictionHalfWidth: Double
    }
    struct TTests: Decodable {
        struct Welch: Decodable { let a, b: [Double]; let statistic, df, p: Double }
        struct OneSample: Decodable { let values: [Double]; let popmean, statistic, df, p: Double }
        struct Paired: Decodable { let a, b: [Double]; let statistic, df, p, meanDifference, low, high: Double }
        let welch: [Welch]
        let oneSample: [OneSample]
        let paired: [Paired]
    }
    struct BootstrapValues: Decodable {
        struct Outputs: Decodable { let seed: UInt64; let outputs: [String] }
        struct Draws: Decodable { let seed: UInt64; let bound: String; let indices: [String] }
        struct Quantiles: Decodable {
            struct Result: Decodable { let q, quantile: Double }
            let values: [Double]
            let results: [Result]
        }
        struct Paired: Decodable {
            let a, b: [Double]
            let resamples: Int
            let seed: UInt64
            let level, observed, lower, upper, shareBelowZero: Double
            let firstDifferences: [Double]
        }
        struct Ranking: Decodable {
            let configurations: [[Double]]
            let resamples: Int
            let seed: UInt64
            let shareFirstBest: Double
        }
        let splitmix64: Outputs
        let indexDraws: [Draws]
        let quantiles: [Quantiles]
        let paired: [Paired]
        let ranking: Ranking
    }

    let versions: [String: String]
    let tDistribution: TDistribution
    let intervals: [Interval]
    let tTests: TTests
    let bootstrap: BootstrapValues

    static func load() throws -> StatisticsFixture { try fixture("statistics", as: StatisticsFixture.self) }
}

/// |got - want| ≤ 1e-9 |want| (exact when want is 0).
func relativelyClose(_ got: Double, _ want: Double, _ limit: Double = tolerance) -> Bool {
    got == want || abs(got - want) <= limit * abs(want)
}

@Suite struct StatisticsTests {
    @Test func fixtureRecordsItsVersions() throws {
        let fixture = try StatisticsFixture.load()
        #expect(fixture.versions["scipy"] != nil && fixture.versions["numpy"] != nil)
    }

    @Test func tQuantilesMatchScipy() throws {
        let fixture = try StatisticsFixture.load()
        #expect(fixture.tDistribution.quantiles.count >= 50)
        for entry in fixture.tDistribution.quantiles {
            let got = StudentT.quantile(p: entry.p, degreesOfFreedom: entry.df)
            #expect(relativelyClose(got, entry.t, 1e-10), "t.ppf(\(entry.p), \(entry.df)): \(got) vs \(entry.t)")
        }
    }

    @Test func tDistributionFunctionMatchesScipy() throws {
        let fixture = try StatisticsFixture.load()
        #expect(fixture.tDistribution.cdf.count >= 50)
        for entry in fixture.tDistribution.cdf {
            let got = StudentT.cdf(entry.t, degreesOfFreedom: entry.df)
            #expect(relativelyClose(got, entry.cdf, 1e-10), "t.cdf(\(entry.t), \(entry.df)): \(got) vs \(entry.cdf)")
        }
    }

    @Test func quantileInvertsTheDistributionFunction() {
        for ν in [1.0, 1.5, 2, 3, 4.2, 10, 57.5, 1000, 1e5] {
            for p in [1e-12, 1e-4, 0.01, 0.1, 0.4, 0.49, 0.51, 0.75, 0.99, 0.999999] {
                let t = StudentT.quantile(p: p, degreesOfFreedom: ν)
                let back = StudentT.cdf(t, degreesOfFreedom: ν)
                // The distribution function's own error: 1e-13 up to ν = 10⁴, some 1e-12 at 10⁵.
                #expect(relativelyClose(back, p, ν < 1e4 ? 1e-13 : 1e-10), "cdf(quantile(\(p), \(ν))) = \(back)")
                if p >= 0.01 {  // 1 - p is inexact: its tail is p only to ~1e-16 / p
                    #expect(relativelyClose(-StudentT.quantile(p: 1 - p, degreesOfFreedom: ν), t, 1e-12), "symmetry at \(p), \(ν)")
                }
            }
        }
        #expect(StudentT.quantile(p: 0.5, degreesOfFreedom: 3) == 0)
        #expect(StudentT.quantile(p: 0, degreesOfFreedom: 3) == -.infinity)
        #expect(StudentT.quantile(p: 1, degreesOfFreedom: 3) == .infinity)
        #expect(StudentT.cdf(.infinity, degreesOfFreedom: 3) == 1 && StudentT.cdf(-.infinity, degreesOfFreedom: 3) == 0)
        // Large ν approaches the normal: 1.959963984540054.
        #expect(abs(StudentT.quantile(p: 0.975, degreesOfFreedom: 1e9) - 1.959963984540054) < 1e-8)
    }

    @Test func summaryAndIntervalsMatchScipy() throws {
        let fixture = try StatisticsFixture.load()
        for entry in fixture.intervals {
            let what = "\(entry.values) at \(entry.level)"
            let summary = Summary(entry.values)
            #expect(summary.count == entry.values.count)
            #expect(relativelyClose(summary.mean, entry.mean), "mean of \(what)")
            #expect(relativelyClose(summary.standardDeviation, entry.standardDeviation), "sd of \(what)")
            let confidence = try #require(StudentInterval.confidence(entry.values, level: entry.level))
            #expect(confidence.center == summary.mean && confidence.degreesOfFreedom == Double(entry.values.count - 1))
            #expect(relativelyClose(confidence.halfWidth, entry.confidenceHalfWidth), "confidence half-width of \(what)")
            #expect(confidence.lower == confidence.center - confidence.halfWidth && confidence.upper == confidence.center + confidence.halfWidth)
            let prediction = try #require(StudentInterval.prediction(entry.values, level: entry.level))
            #expect(relativelyClose(prediction.halfWidth, entry.predictionHalfWidth), "prediction half-width of \(what)")
        }
    }

    @Test func pairedIntervalMatchesScipyTtestRel() throws {
        let fixture = try StatisticsFixture.load()
        #expect(!fixture.tTests.paired.isEmpty)
        for entry in fixture.tTests.paired {
            let interval = try #require(StudentInterval.pairedConfidence(entry.a, entry.b))
            #expect(relativelyClose(interval.center, entry.meanDifference), "\(entry.a) - \(entry.b)")
            #expect(relativelyClose(interval.lower, entry.low) && relativelyClose(interval.upper, entry.high),
                    "\(entry.a) - \(entry.b): \(interval.lower)...\(interval.upper) vs \(entry.low)...\(entry.high)")
        }
    }

    @Test func tTestsMatchScipy() throws {
        let fixture = try StatisticsFixture.load()
        for entry in fixture.tTests.welch {
            let result = try #require(TTest.welch(entry.a, entry.b))
            #expect(relativelyClose(result.statistic, entry.statistic), "Welch \(entry.a) vs \(entry.b): t")
            #expect(relativelyClose(result.degreesOfFreedom, entry.df), "Welch \(entry.a) vs \(entry.b): df")
            #expect(relativelyClose(result.pValue, entry.p), "Welch \(entry.a) vs \(entry.b): p \(result.pValue) vs \(entry.p)")
        }
        for entry in fixture.tTests.oneSample {
            let result = try #require(TTest.oneSample(entry.values, mean: entry.popmean))
            #expect(relativelyClose(result.statistic, entry.statistic) && result.degreesOfFreedom == entry.df)
            #expect(relativelyClose(result.pValue, entry.p), "ttest_1samp(\(entry.values), \(entry.popmean)): \(result.pValue) vs \(entry.p)")
        }
        for entry in fixture.tTests.paired {
            let result = try #require(TTest.paired(entry.a, entry.b))
            #expect(relativelyClose(result.statistic, entry.statistic) && result.degreesOfFreedom == entry.df)
            #expect(relativelyClose(result.pValue, entry.p), "ttest_rel(\(entry.a), \(entry.b)): \(result.pValue) vs \(entry.p)")
        }
    }

    @Test func edgeCases() {
        // One value: no spread, so no interval and no test.
        #expect(StudentInterval.confidence([0.5]) == nil)
        #expect(StudentInterval.prediction([0.5]) == nil)
        #expect(StudentInterval.pairedConfidence([0.5], [0.4]) == nil)
        #expect(TTest.oneSample([0.5]) == nil && TTest.welch([0.5], [0.4, 0.3]) == nil)
        #expect(Summary([0.5]).variance.isNaN)
        // Equal values: a zero-width interval around them.
        let flat = StudentInterval.confidence([0.25, 0.25, 0.25])
        #expect(flat?.halfWidth == 0 && flat?.center == 0.25)
        #expect(StudentInterval.prediction([2, 2])?.halfWidth == 0)
        #expect(StudentInterval.pairedConfidence([1, 2, 3], [0, 1, 2])?.halfWidth == 0)
        // Zero spread, as scipy: t = ±∞ and p = 0, or NaN when there is no difference either.
        #expect(TTest.oneSample([1, 1, 1]) == TTestResult(statistic: .infinity, degreesOfFreedom: 2, pValue: 0))
        #expect(TTest.paired([1, 2, 3], [1, 2, 3]).map { $0.statistic.isNaN && $0.pValue.isNaN } == true)
        #expect(TTest.welch([1, 1, 1], [2, 2, 2]) == TTestResult(statistic: -.infinity, degreesOfFreedom: 1, pValue: 0))
    }

    @Test func splitMix64AndIndexDrawsMatchPython() throws {
        let fixture = try StatisticsFixture.load().bootstrap
        var generator = SplitMix64(seed: fixture.splitmix64.seed)
        // The reference outputs for seed 1234567 (6457827717110365317, ...), as in Vigna's splitmix64.c.
        #expect((0..<5).map { _ in String(generator.next()) } == fixture.splitmix64.outputs)
        for draws in fixture.indexDraws {
            var generator = SplitMix64(seed: draws.seed)
            let bound = try #require(Int(draws.bound))
            #expect((0..<draws.indices.count).map { _ in String(generator.index(below: bound)) } == draws.indices, "below \(bound)")
        }
    }

    @Test func quantileIsNumpysLinearRule() throws {
        let fixture = try StatisticsFixture.load().bootstrap
        for list in fixture.quantiles {
            let sorted = list.values.sorted()
            for result in list.results {
                #expect(Bootstrap.quantile(sorted: sorted, result.q) == result.quantile, "np.quantile(\(list.values.count) values, \(result.q))")
            }
        }
    }

    @Test func pairedBootstrapMatchesPythonBitForBit() throws {
        let fixture = try StatisticsFixture.load().bootstrap
        for entry in fixture.paired {
            let what = "seed \(entry.seed), \(entry.a.count) items"
            let first = Bootstrap.resampledStatistics(itemCount: entry.a.count, resamples: 5, seed: entry.seed) { indices in
                indices.reduce(0.0) { $0 + entry.a[$1] } / Double(indices.count)
                    - indices.reduce(0.0) { $0 + entry.b[$1] } / Double(indices.count)
            }
            #expect(first == entry.firstDifferences, "\(what): the first resamples")
            let interval = Bootstrap.pairedDifference(entry.a, entry.b, resamples: entry.resamples, seed: entry.seed, level: entry.level)
            #expect(interval.observed == entry.observed, "\(what): observed")
            #expect(interval.lower == entry.lower && interval.upper == entry.upper,
                    "\(what): \(interval.lower)...\(interval.upper) vs \(entry.lower)...\(entry.upper)")
            #expect(interval.shareBelowZero == entry.shareBelowZero, "\(what): share below zero")
            #expect(interval.resamples == entry.resamples && interval.seed == entry.seed && interval.level == entry.level)
        }
    }

    @Test func bootstrapShareMatchesPython() throws {
        let ranking = try StatisticsFixture.load().bootstrap.ranking
        let configurations = ranking.configurations
        let share = Bootstrap.share(itemCount: configurations[0].count, resamples: ranking.resamples, seed: ranking.seed) { indices in
            let means = configurations.map { values in indices.reduce(0.0) { $0 + values[$1] } / Double(indices.count) }
            return means[0] > means[1] && means[0] > means[2]
        }
        #expect(share == ranking.shareFirstBest)
    }

    @Test func bootstrapIsDeterministicForItsSeed() throws {
        let entry = try StatisticsFixture.load().bootstrap.paired[0]
        let once = Bootstrap.pairedDifference(entry.a, entry.b, resamples: 500, seed: 99)
        let again = Bootstrap.pairedDifference(entry.a, entry.b, resamples: 500, seed: 99)
        let other = Bootstrap.pairedDifference(entry.a, entry.b, resamples: 500, seed: 100)
        #expect(once == again)
        #expect(once.lower != other.lower || once.upper != other.upper)
        #expect(once.observed == other.observed)
        #expect(once.lower <= once.observed && once.observed <= once.upper)
    }

    @Test func bootstrapOfIdenticalSidesIsZero() {
        let values = [0.1, 0.7, 0.3, 0.9, 0.55, 0.2]
        let interval = Bootstrap.pairedDifference(values, values, resamples: 300, seed: 1)
        #expect(interval.lower == 0 && interval.upper == 0 && interval.observed == 0 && interval.shareBelowZero == 0)
        // A single item: every resample is that item.
        let single = Bootstrap.pairedDifference([0.75], [0.25], resamples: 10, seed: 3)
        #expect(single.lower == 0.5 && single.upper == 0.5 && single.shareBelowZero == 0)
        var generator = SplitMix64(seed: 5)
        #expect((0..<100).allSatisfy { _ in generator.index(below: 1) == 0 })
    }
}
