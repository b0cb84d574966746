import Foundation

// Statistics over seeds, so that a table can show each number with its uncertainty: Student's t
// distribution (checked against scipy to 1e-10 relative), the t intervals built on it and the
// t-tests scipy.stats runs. The paired bootstrap over items is in Bootstrap.swift.

/// The count, mean and sample spread of a list of values (one per seed, say).
public struct Summary: Equatable, Sendable {
    /// n, the number of values.
    public let count: Int
    /// x̄ = Σ xᵢ / n, summed left to right (NaN when there are no values).
    public let mean: Double
    /// s² = Σ (xᵢ - x̄)² / (n - 1), the unbiased sample variance (numpy's ddof=1); NaN when n < 2.
    public let variance: Double

    /// Summarises the values (in two passes: the mean, then the squared deviations from it).
    public init(_ values: [Double]) {
        count = values.count
        mean = Summary.sum(values) / Double(values.count)
        var squares = 0.0
        for value in values { squares += (value - mean) * (value - mean) }
        variance = values.count < 2 ? .nan : squares / Double(values.count - 1)
    }

    /// s = √s², the sample standard deviation (n - 1 in the denominator).
    public var standardDeviation: Double { variance.squareRoot() }
    /// s / √n, the standard error of the mean.
    public var standardError: Double { (variance / Double(count)).squareRoot() }

    /// Σ xᵢ, left to right (the order the bootstrap's Python reference uses too).
    static func sum(_ values: [Double]) -> Double {
        var total = 0.0
        for value in values { total += value }
        return total
    }
}

/// Student's t distribution with ν > 0 degrees of freedom, integer or not (Welch's ν is not).
/// Relative error measured against mpmath: below 1e-13 for ν ≤ 10⁴, growing to about 4e-12 at ν = 10⁵ and
/// 4e-11 at 10⁶ (the continued fraction's rounding, as its terms approach -1 for large ν).
public enum StudentT {
    /// P(T ≤ t): ½ I_x(ν/2, ½) with x = ν / (ν + t²) for t < 0, and 1 - that for t > 0.
    public static func cdf(_ t: Double, degreesOfFreedom ν: Double) -> Double {
        precondition(ν > 0, "Student's t needs positive degrees of freedom, not \(ν)")
        if t.isNaN { return .nan }
        if t == 0 { return 0.5 }
        let (both, _) = tails(abs(t), ν)
        return t < 0 ? both / 2 : 1 - both / 2
    }

    /// P(|T| ≥ |t|) = I_x(ν/2, ½), x = ν / (ν + t²): the two-sided p-value of a t statistic.
    public static func twoSidedPValue(_ t: Double, degreesOfFreedom ν: Double) -> Double {
        precondition(ν > 0, "Student's t needs positive degrees of freedom, not \(ν)")
        if t.isNaN { return .nan }
        return tails(abs(t), ν).both
    }

    /// The density Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) · (1 + t²/ν)^(-(ν+1)/2) = (1 + t²/ν)^(-(ν+1)/2) / (√ν B(ν/2, ½)).
    public static func density(_ t: Double, degreesOfFreedom ν: Double) -> Double {
        precondition(ν > 0, "Student's t needs positive degrees of freedom, not \(ν)")
        return exp(-(ν + 1) / 2 * log1p(t * t / ν) - 0.5 * log(ν) - IncompleteBeta.logBeta(ν / 2, 0.5))
    }

    /// The t with P(T ≤ t) = p (scipy's t.ppf): a start from closed forms (ν = 1, 2), the
    /// Cornish-Fisher expansion or the power-law tail, then Newton steps on log P(T > t) in log t,
    /// kept inside a bracket by bisection. -∞ at p = 0, +∞ at p = 1.
    public static func quantile(p: Double, degreesOfFreedom ν: Double) -> Double {
        precondition(ν > 0 && ν.isFinite, "Student's t needs finite positive degrees of freedom, not \(ν)")
        guard p > 0 && p < 1 else { return p == 0 ? -.infinity : p == 1 ? .infinity : .nan }
        if p == 0.5 { return 0 }
        let tail = min(p, 1 - p)  // P(T > t) for the positive t; 1 - p is exact for p ≥ ½
        let t = upperTailQuantile(tail, ν)
        return p < 0.5 ? -t : t
    }

    /// (P(|T| ≥ t), P(|T| < t)) for t ≥ 0, each computed directly where it is the small one.
    static func tails(_ t: Double, _ ν: Double) -> (both: Double, inside: Double) {
        let t2 = t * t
        if t2.isInfinite { return (0, 1) }
        // x = ν / (ν + t²) and y = 1 - x = t² / (ν + t²), each to full relative precision, and
        // log x = -log(1 + t²/ν) from log1p: x^(ν/2) would multiply x's rounding by ν/2.
        let (x, y) = (ν / (ν + t2), t2 / (ν + t2))
        return IncompleteBeta.regularized(a: ν / 2, b: 0.5, x: x, y: y, logX: -log1p(t2 / ν))
    }

    /// The t > 0 with P(T > t) = q, for 0 < q < ½.
    static func upperTailQuantile(_ q: Double, _ ν: Double) -> Double {
        // Closed forms: ν = 1 (Cauchy) t = cot(πq); ν = 2: t = (1 - 2q) / √(2q(1 - q)).
        if ν == 1 { return 1 / tan(Double.pi * q) }
        if ν == 2 { return (1 - 2 * q) / (2 * q * (1 - q)).squareRoot() }
        let upper = { (t: Double) in tails(t, ν).both / 2 }
        let logQ = log(q)
        // Two starts; the one whose tail is closer to q in log wins.
        let z = -normalQuantile(q)
        let z2 = z * z
        let cornishFisher = z + (z2 + 1) * z / (4 * ν)
            + ((5 * z2 + 16) * z2 + 3) * z / (96 * ν * ν)
            + (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / (384 * ν * ν * ν)
            + ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / (92160 * ν * ν * ν * ν)
        // P(T > t) ≈ ν^(ν/2 - 1) t^(-ν) / B(ν/2, ½) for large t.
        let powerLaw = ν.squareRoot() * exp(-(logQ + log(ν) + IncompleteBeta.logBeta(ν / 2, 0.5)) / ν)
        let candidates = [cornishFisher, powerLaw].filter { $0 > 0 && $0.isFinite }
        var t = candidates.min { abs(log(upper($0)) - logQ) < abs(log(upper($1)) - logQ) } ?? 1
        // Newton on g(u) = log P(T > eᵘ) - log q, g'(u) = -t f(t) / P(T > t), within [low, high].
        var (low, high) = (0.0, Double.infinity)
        for _ in 0..<200 {
            let tail = upper(t)
            if tail == q { return t }
            if tail > q { low = t } else { high = t }
            let step = (log(tail) - logQ) * tail / (t * density(t, degreesOfFreedom: ν))
            var next = t * exp(step)
            if !(next > low && next < high) || !next.isFinite {
                next = high.isInfinite ? 2 * t : low == 0 ? t / 2 : (low * high).squareRoot()
                if next <= low || next >= high { next = (low + high) / 2 }
            }
            if abs(next - t) <= 4 * Double.ulpOfOne * t || next == low || next == high { return next }
            t = next
        }
        return t
    }

    /// z with Φ(z) = p, by Acklam's rational approximation (relative error below 1.2e-9): a start only.
    static func normalQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        func tail(_ q: Double) -> Double {
            let r = (-2 * log(q)).squareRoot()
            return (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5])
                / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
        }
        if p < 0.02425 { return tail(p) }
        if p > 1 - 0.02425 { return -tail(1 - p) }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}

/// The regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b).
enum IncompleteBeta {
    /// (I_x(a, b), 1 - I_x(a, b)), given x and y = 1 - x separately so that neither loses digits:
    /// x^a y^b / (a B(a, b)) times the continued fraction of I_x(a, b) (Numerical Recipes' betacf,
    /// evaluated by the modified Lentz method) where x < (a + 1) / (a + b + 2), where it converges
    /// fast, else the same for I_y(b, a) = 1 - I_x(a, b). `logX` may be given more exactly than log(x).
    static func regularized(a: Double, b: Double, x: Double, y: Double, logX: Double? = nil) -> (Double, Double) {
        precondition(a > 0 && b > 0 && x >= 0 && y >= 0, "I_x(a, b) needs a, b > 0 and 0 ≤ x ≤ 1")
        if x == 0 { return (0, 1) }
        if y == 0 { return (1, 0) }
        let front = exp(a * (logX ?? log(x)) + b * log(y) - logBeta(a, b))
        if x < (a + 1) / (a + b + 2) {
            let value = front * continuedFraction(a: a, b: b, x: x) / a
            return (value, 1 - value)
        }
        let complement = front * continuedFraction(a: b, b: a, x: y) / b
        return (1 - complement, complement)
    }

    /// 1 + d₁/(1 + d₂/(1 + ...)) with d₂ₘ₊₁ = -(a+m)(a+b+m)x / ((a+2m)(a+2m+1)) and
    /// d₂ₘ = m(b-m)x / ((a+2m-1)(a+2m)), until a step changes it by less than one ulp.
    static func continuedFraction(a: Double, b: Double, x: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        // The fraction needs about √max(a, b) terms; ν up to 10^9 fits.
        for m in 1...100_000 {
            let m = Double(m)
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d
            if abs(d) < tiny { d = tiny }
            c = 1 + even / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d
            if abs(d) < tiny { d = tiny }
            c = 1 + odd / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let change = d * c
            h *= change
            if abs(change - 1) <= Double.ulpOfOne { break }
        }
        return h
    }

    /// log B(a, b) = log Γ(a) + log Γ(b) - log Γ(a + b); for a large argument, Stirling's series for
    /// the difference of the two large terms, which would otherwise cancel (ν = 1000 gives a = 500).
    static func logBeta(_ a: Double, _ b: Double) -> Double {
        let (large, small) = (max(a, b), min(a, b))
        if large < 10 { return logGamma(a) + logGamma(b) - logGamma(a + b) }
        // log Γ(x) = (x - ½) log x - x + ½ log 2π + δ(x), δ(x) = 1/(12x) - 1/(360x³) + ...
        func δ(_ x: Double) -> Double {
            let r = 1 / (x * x)
            return (1.0 / 12 - r * (1.0 / 360 - r * (1.0 / 1260 - r * (1.0 / 1680 - r / 1188)))) / x
        }
        // log Γ(L) - log Γ(L + S) = -(L - ½) log(1 + S/L) - S log(L + S) + S + δ(L) - δ(L + S).
        let ratio = -(large - 0.5) * log1p(small / large) - small * log(large + small) + small
            + δ(large) - δ(large + small)
        return logGamma(small) + ratio
    }

    /// log |Γ(x)| by lgamma_r, which (unlike lgamma) writes no global sign, so threads may share it.
    static func logGamma(_ x: Double) -> Double {
        var sign: Int32 = 0
        return lgamma_r(x, &sign)
    }
}

/// center ± halfWidth from Student's t: a confidence interval for a mean or a paired mean
/// difference, or a prediction interval for one more value.
public struct StudentInterval: Equatable, Sendable {
    /// The sample mean x̄ (of the differences, for the paired interval).
    public let center: Double
    /// t_{1-(1-level)/2, n-1} · s / √n (confidence) or · s · √(1 + 1/n) (prediction).
    public let halfWidth: Double
    /// The coverage, e.g. 0.95.
    public let level: Double
    /// n - 1.
    public let degreesOfFreedom: Double

    public var lower: Double { center - halfWidth }
    public var upper: Double { center + halfWidth }

    /// The interval covering the true mean with probability `level` over seeds:
    /// x̄ ± t_{1-(1-level)/2, n-1} · s / √n. Nil for fewer than 2 values; zero-width when they are all equal.
    public static func confidence(_ values: [Double], level: Double = 0.95) -> StudentInterval? {
        make(values, level: level) { summary in (1 / Double(summary.count)).squareRoot() }
    }

    /// The confidence interval of the mean per-seed difference a[i] - b[i] (the same seeds on both
    /// sides): `confidence` over the differences, which is what scipy's ttest_rel(a, b).confidence_interval gives.
    public static func pairedConfidence(_ a: [Double], _ b: [Double], level: Double = 0.95) -> StudentInterval? {
        precondition(a.count == b.count, "a paired interval needs as many values on each side, not \(a.count) and \(b.count)")
        return confidence(zip(a, b).map { $0 - $1 }, level: level)
    }

    /// Where one more value (one more seed's run) falls with probability `level`:
    /// x̄ ± t_{1-(1-level)/2, n-1} · s · √(1 + 1/n). Nil for fewer than 2 values.
    public static func prediction(_ values: [Double], level: Double = 0.95) -> StudentInterval? {
        make(values, level: level) { summary in (1 + 1 / Double(summary.count)).squareRoot() }
    }

    static func make(_ values: [Double], level: Double, scale: (Summary) -> Double) -> StudentInterval? {
        precondition(level > 0 && level < 1, "an interval's level is between 0 and 1, not \(level)")
        guard values.count >= 2 else { return nil }
        let summary = Summary(values)
        let ν = Double(values.count - 1)
        let t = StudentT.quantile(p: 1 - (1 - level) / 2, degreesOfFreedom: ν)
        return StudentInterval(center: summary.mean, halfWidth: t * summary.standardDeviation * scale(summary),
                               level: level, degreesOfFreedom: ν)
    }
}

/// A t-test's outcome, as scipy.stats reports it.
public struct TTestResult: Equatable, Sendable {
    /// The t statistic.
    public let statistic: Double
    /// Its degrees of freedom (Welch-Satterthwaite's for Welch's test).
    public let degreesOfFreedom: Double
    /// The two-sided p-value P(|T| ≥ |t|).
    public let pValue: Double

    public init(statistic: Double, degreesOfFreedom: Double, pValue: Double) {
        (self.statistic, self.degreesOfFreedom, self.pValue) = (statistic, degreesOfFreedom, pValue)
    }
}

/// Student's t-tests, two-sided, as scipy.stats computes them (zero spread gives t = ±∞ and p = 0,
/// or NaN when the difference is zero too).
public enum TTest {
    /// Welch's test that two groups (of different seeds or sizes) have the same mean, not assuming
    /// equal variances (scipy's ttest_ind(a, b, equal_var=False)): t = (x̄_a - x̄_b) / √(s²_a/n_a + s²_b/n_b),
    /// ν = (s²_a/n_a + s²_b/n_b)² / ((s²_a/n_a)²/(n_a-1) + (s²_b/n_b)²/(n_b-1)) (1 when both spreads are zero).
    /// Nil when either group has fewer than 2 values.
    public static func welch(_ a: [Double], _ b: [Double]) -> TTestResult? {
        guard a.count >= 2 && b.count >= 2 else { return nil }
        let (x, y) = (Summary(a), Summary(b))
        let (vx, vy) = (x.variance / Double(x.count), y.variance / Double(y.count))
        var ν = (vx + vy) * (vx + vy) / (vx * vx / Double(x.count - 1) + vy * vy / Double(y.count - 1))
        if ν.isNaN { ν = 1 }  // both variances zero: ν does not matter, as in scipy
        let t = (x.mean - y.mean) / (vx + vy).squareRoot()
        return TTestResult(statistic: t, degreesOfFreedom: ν, pValue: StudentT.twoSidedPValue(t, degreesOfFreedom: ν))
    }

    /// The test that the values' mean is `mean` (scipy's ttest_1samp): t = (x̄ - μ) / (s / √n), ν = n - 1.
    /// Nil for fewer than 2 values.
    public static func oneSample(_ values: [Double], mean μ: Double = 0) -> TTestResult? {
        guard values.count >= 2 else { return nil }
        let summary = Summary(values)
        let ν = Double(values.count - 1)
        let t = (summary.mean - μ) / summary.standardError
        return TTestResult(statistic: t, degreesOfFreedom: ν, pValue: StudentT.twoSidedPValue(t, degreesOfFreedom: ν))
    }

    /// The test that paired values (the same seeds) have the same mean (scipy's ttest_rel): the
    /// one-sample test of the differences a[i] - b[i] against 0.
    public static func paired(_ a: [Double], _ b: [Double]) -> TTestResult? {
        precondition(a.count == b.count, "a paired test needs as many values on each side, not \(a.count) and \(b.count)")
        return oneSample(zip(a, b).map { $0 - $1 })
    }
}
