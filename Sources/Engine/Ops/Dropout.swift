/// Inverted dropout: zeroes each element with probability `p` and scales the rest by 1/(1-p).
/// The mask comes from `rng`, so a seeded run drops the same elements every time.
/// With p = 0 (evaluation), returns `x` itself.
public func dropout(_ x: Tensor, probability p: Float, using rng: inout SeededGenerator) -> Tensor {
    precondition(p >= 0 && p < 1, "dropout probability \(p) outside [0, 1)")
    guard p > 0 else { return x }
    return Op.run("dropout") { op in
        let keep = 1 / (1 - p)
        // mask: [count], 0 or 1/(1-p)
        var mask = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count where rng.nextUniform() >= p { mask[i] = keep }
        let y = Tensor(uninitialized: x.shape)
        for i in 0..<x.count { y.data[i] = x.data[i] * mask[i] }
        op.record(y, inputs: [x]) { dy in
            let dx = x.grad
            for i in 0..<x.count { dx[i] += dy[i] * mask[i] }
        }
        return y
    }
}
