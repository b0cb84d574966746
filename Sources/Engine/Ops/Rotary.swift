import Foundation

/// Rotary position embedding as LLaMA applies it ("rotate half"): the first and second halves of
/// each head form the pairs (x_i, x_{i+D/2}), rotated by position * theta^(-2i/D).
/// - x: `[B, T, H, D]`; positions: `[B, T]` or `[T]` (shared by the batch); returns `[B, T, H, D]`.
public func rotaryEmbedding(_ x: Tensor, positions: [Int32], theta: Float) -> Tensor {
    Op.run("rotary") { op in
        precondition(x.rank == 4, "rotary embedding takes [B, T, H, D], got \(x.shape)")
        let (b, t, h, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(d % 2 == 0, "rotary embedding needs an even head size, got \(d)")
        precondition(positions.count == t || positions.count == b * t,
                     "rotary embedding has \(positions.count) positions for batch \(b) x length \(t)")
        let half = d / 2
        // Frequencies as transformers computes them: theta ** (2i / D) in Float32.
        let inverseFrequency = (0..<half).map { 1 / powf(theta, Float(2 * $0) / Float(d)) }
        // cos, sin: [P, D/2] for the P position rows given (T when the batch shares them)
        let tableRows = positions.count
        // Kept alive by the backward closure.
        let cosines = Storage(count: tableRows * half, zeroed: false), sines = Storage(count: tableRows * half, zeroed: false)
        let (cp, sp) = (cosines.pointer, sines.pointer)
        for row in 0..<tableRows {
            let position = Float(positions[row])
            for i in 0..<half {
                let angle = position * inverseFrequency[i]
                cp[row * half + i] = cosf(angle)
                sp[row * half + i] = sinf(angle)
            }
        }
        let y = Tensor(uninitialized: x.shape)
        let (xp, yp) = (x.data, y.data)
        let grain = max(1, 16_384 / (h * d))
        Parallel.forEach(b * t, grain: grain) { rows in for row in rows {
            let (c, s) = (cp + (row % tableRows) * half, sp + (row % tableRows) * half)
            for head in 0..<h {
                let base = (row * h + head) * d
                let (xr, yr) = (xp + base, yp + base)
                for i in 0..<half {
                    let (first, second) = (xr[i], xr[i + half])
                    yr[i] = first * c[i] - second * s[i]
                    yr[i + half] = second * c[i] + first * s[i]
                }
            }
        } }
        op.record(y, inputs: [x]) { dy in
            // The transpose of a rotation is the rotation by the opposite angle.
            let dx = x.grad
            withExtendedLifetime((cosines, sines)) {
                Parallel.forEach(b * t, grain: grain) { rows in for row in rows {
                    let (c, s) = (cp + (row % tableRows) * half, sp + (row % tableRows) * half)
                    for head in 0..<h {
                        let base = (row * h + head) * d
                        let (dxr, dyr) = (dx + base, dy + base)
                        for i in 0..<half {
                            dxr[i] += dyr[i] * c[i] + dyr[i + half] * s[i]
                            dxr[i + half] += dyr[i + half] * c[i] - dyr[i] * s[i]
                        }
                    }
                } }
            }
        }
        return y
    }
}
