/// Inverted dropout: zeroes each element with probability `p` and scales the rest by 1/(1-p).
/// The mask comes from `rng`, so a seeded run drops the same elements every time.
/// With p = 0 (evaluation), returns `x` itself.
public func dropout(_ x: Tensor, probability p: Float, using rng: inout SeededGenerator) -> Tensor {
    precondition(p >= 0 && p < 1, "dropout probability \(p) outside [0, 1)")
    guard p > 0 else { return x }
    return Op.run("dropout") { op in
        let keep = 1 / (1 - p)
        // A 32-bit draw below this drops its element; each 64-bit draw serves two elements.
        let threshold = UInt64((Double(p) * 0x1p32).rounded())
        // Blocks of elements draw from their own stream, seeded from one draw of `rng`, so that the
        // mask does not depend on how many threads fill it.
        let seed = rng.next()
        let count = x.count, blockSize = DropoutMask.blockSize
        // mask: [count], 0 or 1/(1-p), kept for backward
        let mask = Storage(count: count, zeroed: false)
        let y = Tensor(uninitialized: x.shape)
        let (xp, yp, mp) = (x.data, y.data, mask.pointer)
        Parallel.forEach((count + blockSize - 1) / blockSize, grain: 1) { blocks in
            for block in blocks {
                let range = block * blockSize..<min(count, (block + 1) * blockSize)
                DropoutMask.fill(mp, range, seed: seed, block: block, threshold: threshold, keep: keep)
                for i in range { yp[i] = xp[i] * mp[i] }
            }
        }
        op.record(y, inputs: [x]) { dy in
            let dx = x.grad
            withExtendedLifetime(mask) {
                Parallel.forEach(count) { r in for i in r { dx[i] += dy[i] * mp[i] } }
            }
        }
        return y
    }
}

enum DropoutMask {
    /// Elements per random stream.
    static let blockSize = 16_384

    /// Writes 0 (dropped) or `keep` into `mask[range]` from the block's own stream.
    @inline(__always)
    static func fill(_ mask: UnsafeMutablePointer<Float>, _ range: Range<Int>, seed: UInt64, block: Int,
                     threshold: UInt64, keep: Float) {
        var stream = SeededGenerator(seed: seed ^ (UInt64(block) &* 0x9e37_79b9_7f4a_7c15))
        var i = range.lowerBound
        while i < range.upperBound {
            let bits = stream.next()
            mask[i] = bits & 0xffff_ffff >= threshold ? keep : 0
            if i + 1 < range.upperBound { mask[i + 1] = bits >> 32 >= threshold ? keep : 0 }
            i += 2
        }
    }
}
