import Foundation

/// A seeded, splittable random number generator (xoshiro256**, seeded through SplitMix64).
///
/// `fork(_:)` derives an independent stream by name without advancing the parent, so that adding
/// a consumer of randomness somewhere never shifts the numbers another consumer sees.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    /// The seed this generator was made from (forks derive from it, not from the current state).
    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        var mixer = seed
        state = (splitMix64(&mixer), splitMix64(&mixer), splitMix64(&mixer), splitMix64(&mixer))
    }

    /// An independent generator for the named stream, the same every time for the same seed and name.
    public func fork(_ stream: String) -> SeededGenerator {
        // FNV-1a of the name, mixed with the seed; SplitMix64 in init spreads the bits.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stream.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        var mixer = seed ^ hash
        return SeededGenerator(seed: splitMix64(&mixer))
    }

    /// An independent generator for the numbered stream (a step, a sample, a layer).
    public func fork(_ index: Int) -> SeededGenerator { fork("#\(index)") }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits (every Float32 step in the range is reachable).
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Standard normal (Box-Muller in Float64).
    public mutating func nextNormal() -> Float {
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53  // (0, 1]: the logarithm stays finite
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

@inline(__always)
private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

@inline(__always)
private func splitMix64(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
}

extension Tensor {
    /// Values drawn from N(mean, std²).
    public static func randomNormal(
        _ shape: [Int], mean: Float = 0, std: Float, using rng: inout SeededGenerator,
        requiresGrad: Bool = false, name: String? = nil
    ) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad, name: name)
        for i in 0..<t.count { t.data[i] = mean + std * rng.nextNormal() }
        return t
    }

    /// Values drawn uniformly from [low, high).
    public static func randomUniform(
        _ shape: [Int], low: Float, high: Float, using rng: inout SeededGenerator,
        requiresGrad: Bool = false, name: String? = nil
    ) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad, name: name)
        for i in 0..<t.count { t.data[i] = low + (high - low) * rng.nextUniform() }
        return t
    }
}
