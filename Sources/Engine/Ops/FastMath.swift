/// `exp` and `erf` in plain arithmetic, so that the loops calling them vectorise.
///
/// glibc's `expf` and `erff` are calls the compiler cannot vectorise: in the default training step
/// they were most of the time of the activations and of SwiGLU. These stay within 3 ulp of `expf`
/// and 4e-7 of `erff` (absolute), well inside what the `transformers` parity tests allow.
enum FastMath {
    static let log2e: Float = 1.44269504088896341
    static let ln2High: Float = 0.693359375
    static let ln2Low: Float = -2.12194440e-4
    /// Adding 1.5 x 2^23 rounds a float of magnitude below 2^22 to an integer, held in the low bits.
    static let roundingShift: Float = 12582912

    /// e^x; 0 below -87.3 (where e^x is subnormal), +infinity above 88.7, NaN for NaN.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        // x = n ln2 + r, |r| <= ln2 / 2; e^x = 2^n e^r
        let clamped = x > 88.7 ? 88.7 : x
        let shifted = clamped * log2e + roundingShift
        let n = shifted - roundingShift
        let r = clamped - n * ln2High - n * ln2Low
        // Taylor series of e^r to r^7: error below 6e-9 relative for |r| <= ln2 / 2.
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // 2^n from the rounded value's low bits: n + 127 in the exponent field.
        let exponent = (shifted.bitPattern &- roundingShift.bitPattern &+ 127) &<< 23
        let value = p * Float(bitPattern: exponent)
        if x > 88.7 { return .infinity }
        return x < -87.3 ? 0 : (x.isNaN ? x : value)
    }

    /// erf(x), Abramowitz and Stegun 7.1.26: absolute error below 1.5e-7.
    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let a = abs(x)
        let t = 1 / (1 + 0.3275911 * a)
        var p: Float = 1.061405429
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        let magnitude = 1 - p * t * exp(-a * a)
        return Float(bitPattern: magnitude.bitPattern | (x.bitPattern & 0x8000_0000))
    }
}
