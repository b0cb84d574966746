import Foundation

// The paired bootstrap over items (benchmark questions, test samples): how much a difference between
// two models' means moves when the items are drawn again. Every step is specified so that the
// result is a pure function of the inputs and the seed, and tools/make_stats_fixtures.py repeats it
// in plain Python bit for bit: splitmix64, Lemire's index draw, left-to-right sums, numpy's
// default percentile rule.

/// splitmix64 (Steele, Lea and Flood 2014; the generator that seeds xoshiro): a 64-bit state that
/// advances by 0x9E3779B97F4A7C15 and is mixed into each output. Small, explicit and the same in any
/// language, which is why the bootstrap uses it rather than the standard library's generator.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// state += 0x9E3779B97F4A7C15; z = state; z = (z ^ z>>30)·0xBF58476D1CE4E5B9;
    /// z = (z ^ z>>27)·0x94D049BB133111EB; return z ^ z>>31 (all modulo 2⁶⁴).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform index in 0..<n by Lemire's multiply-and-reject method (exactly uniform, no modulo
    /// bias): m = next()·n as 128 bits; while its low 64 bits are below (2⁶⁴ - n) mod n, draw again;
    /// return its high 64 bits.
    public mutating func index(below n: Int) -> Int {
        precondition(n > 0, "an index is drawn below a positive count, not \(n)")
        let bound = UInt64(n)
        var (high, low) = next().multipliedFullWidth(by: bound)
        if low < bound {
            let threshold = (0 &- bound) % bound
            while low < threshold { (high, low) = next().multipliedFullWidth(by: bound) }
        }
        return Int(high)
    }
}

/// A bootstrap percentile interval of a paired difference of means.
public struct BootstrapInterval: Equatable, Sendable {
    /// mean(a) - mean(b) over all the items.
    public let observed: Double
    /// The (1 - level)/2 and 1 - (1 - level)/2 quantiles of the resampled differences.
    public let lower: Double
    public let upper: Double
    /// The coverage, e.g. 0.95.
    public let level: Double
    /// The share of resamples whose difference is below zero (strictly): a one-sided bootstrap p
    /// for "a is above b".
    public let shareBelowZero: Double
    /// How many resamples, and the seed of their generator.
    public let resamples: Int
    public let seed: UInt64
}

/// Resampling items with replacement, deterministically for a seed.
public enum Bootstrap {
    /// 10,000 resamples: the percentile interval's ends then move by well under a tenth of its width between seeds.
    public static let defaultResamples = 10_000

    /// Calls `body` with each resample's item indices: SplitMix64(seed: seed), and for each of the
    /// `resamples` resamples, n draws `index(below: n)` in order (the array is reused between calls).
    public static func forEachResample(itemCount n: Int, resamples: Int, seed: UInt64, _ body: ([Int]) -> Void) {
        precondition(n > 0, "the bootstrap needs at least one item")
        precondition(resamples > 0, "the bootstrap needs at least one resample, not \(resamples)")
        var generator = SplitMix64(seed: seed)
        var indices = [Int](repeating: 0, count: n)
        for _ in 0..<resamples {
            for j in 0..<n { indices[j] = generator.index(below: n) }
            body(indices)
        }
    }

    /// The statistic of each resample of the n items, in the order drawn.
    public static func resampledStatistics(itemCount n: Int, resamples: Int = defaultResamples, seed: UInt64,
                                           _ statistic: ([Int]) -> Double) -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(resamples)
        forEachResample(itemCount: n, resamples: resamples, seed: seed) { values.append(statistic($0)) }
        return values
    }

    /// The share of resamples of the n items for which `predicate` holds, e.g. "configuration X has
    /// the best mean over these indices": how often a ranking claim survives redrawing the items.
    public static func share(itemCount n: Int, resamples: Int = defaultResamples, seed: UInt64,
                             where predicate: ([Int]) -> Bool) -> Double {
        var count = 0
        forEachResample(itemCount: n, resamples: resamples, seed: seed) { if predicate($0) { count += 1 } }
        return Double(count) / Double(resamples)
    }

    /// The paired bootstrap of mean(a) - mean(b) over the same items (a[i] and b[i] score item i):
    /// each resample draws n item indices with replacement and computes mean(a[idx]) - mean(b[idx])
    /// (each mean a left-to-right sum over idx divided by n); the interval is the percentile interval
    /// of those differences (numpy's linear rule, `quantile`), with the share of them below zero.
    public static func pairedDifference(_ a: [Double], _ b: [Double], resamples: Int = defaultResamples,
                                        seed: UInt64, level: Double = 0.95) -> BootstrapInterval {
        precondition(a.count == b.count, "a paired bootstrap needs a value per item on each side, not \(a.count) and \(b.count)")
        precondition(level > 0 && level < 1, "an interval's level is between 0 and 1, not \(level)")
        let n = Double(a.count)
        let differences = resampledStatistics(itemCount: a.count, resamples: resamples, seed: seed) { indices in
            var (sumA, sumB) = (0.0, 0.0)
            for i in indices {
                sumA += a[i]
                sumB += b[i]
            }
            return sumA / n - sumB / n
        }
        return interval(differences, observed: Summary.sum(a) / n - Summary.sum(b) / n, seed: seed, level: level)
    }

    /// The percentile interval of resampled differences (numpy's linear rule, `quantile`) around the
    /// difference `observed` on all the items, with the share of differences below zero; for
    /// statistics `pairedDifference` does not cover (a token-weighted loss, say).
    public static func interval(_ differences: [Double], observed: Double, seed: UInt64, level: Double = 0.95) -> BootstrapInterval {
        let sorted = differences.sorted()
        let alpha = (1 - level) / 2
        let below = sorted.prefix { $0 < 0 }.count
        return BootstrapInterval(
            observed: observed, lower: quantile(sorted: sorted, alpha), upper: quantile(sorted: sorted, 1 - alpha),
            level: level, shareBelowZero: Double(below) / Double(sorted.count), resamples: sorted.count, seed: seed)
    }

    /// The q-quantile of sorted values by numpy's default rule (np.quantile(x, q), np.percentile(x, 100q),
    /// "linear", Hyndman and Fan's type 7), in numpy's arithmetic: h = (n - 1)q, i = ⌊h⌋, g = h - i,
    /// d = x[i+1] - x[i]; x[i] + d·g when g < ½, x[i+1] - d·(1 - g) otherwise; x[n-1] when h ≥ n - 1.
    public static func quantile(sorted values: [Double], _ q: Double) -> Double {
        precondition(!values.isEmpty, "a quantile needs at least one value")
        precondition(q >= 0 && q <= 1, "a quantile's fraction is between 0 and 1, not \(q)")
        let h = Double(values.count - 1) * q
        if h >= Double(values.count - 1) { return values[values.count - 1] }
        let i = Int(h.rounded(.down))
        let g = h - Double(i)
        let (x0, x1) = (values[i], values[i + 1])
        let d = x1 - x0
        return g >= 0.5 ? x1 - d * (1 - g) : x0 + d * g
    }
}
