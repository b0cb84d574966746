import Engine
import Foundation
import Testing

/// Attention at sizes where it runs in several query blocks (each product within what OpenBLAS
/// computes on one thread) and spreads (batch, head) pairs over the cores: against a plain
/// double-precision loop for the values, and along random directions for the gradients.
@Suite struct AttentionBlockTests {
    // q, k, v: [2, 72, 2, 64]; 72 x 64 per key block makes 56-row query blocks, so two per head.
    let b = 2, t = 72, h = 2, d = 64
    let keyMask: [Int32] = (0..<144).map { $0 % 72 < 3 || $0 >= 140 ? 0 : 1 }

    func inputs() -> [Tensor] {
        [random([b, t, h, d], seed: 31), random([b, t, h, d], seed: 32), random([b, t, h, d], seed: 33)]
    }

    /// out[b, i, h] = Σ_j softmax_j(q·k / √d over visible, unmasked j) v[b, j, h], in Double.
    func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: q.count)
        let stride = h * d
        for bi in 0..<b {
            for hi in 0..<h {
                for i in 0..<t {
                    let visible = (0..<(causal ? i + 1 : t)).filter { keyMask[bi * t + $0] != 0 }
                    guard !visible.isEmpty else { continue }
                    let base = { (row: Int) in (bi * t + row) * stride + hi * d }
                    let scores = visible.map { j in
                        (0..<d).reduce(0.0) { $0 + Double(q.data[base(i) + $1]) * Double(k.data[base(j) + $1]) } / Double(d).squareRoot()
                    }
                    let top = scores.max()!
                    let weights = scores.map { Foundation.exp($0 - top) }
                    let total = weights.reduce(0, +)
                    for e in 0..<d {
                        let value = zip(visible, weights).reduce(0.0) { $0 + $1.1 * Double(v.data[base($1.0) + e]) }
                        out[base(i) + e] = Float(value / total)
                    }
                }
            }
        }
        return out
    }

    @Test(arguments: [false, true])
    func valuesMatchAPlainLoop(causal: Bool) {
        let (q, k, v) = { let x = inputs(); return (x[0], x[1], x[2]) }()
        let out = Autodiff.withoutGradients { attention(query: q, key: k, value: v, causal: causal, keyMask: keyMask) }
        #expect(maxDifference(out.values, reference(q, k, v, causal: causal)) <= 1e-5)
    }

    /// Keys and values kept in larger tensors (a KV cache with room to grow, its spare rows filled
    /// with noise) attend as the exact ones do, bit for bit.
    @Test(arguments: [false, true])
    func keysInALargerTensorGiveTheSameBits(causal: Bool) {
        let (q, k, v) = { let x = inputs(); return (x[0], x[1], x[2]) }()
        let capacity = t + 9, row = h * d
        func padded(_ x: Tensor, seed: UInt64) -> Tensor {
            let roomy = random([b, capacity, h, d], seed: seed)
            for bi in 0..<b { (roomy.data + bi * capacity * row).update(from: x.data + bi * t * row, count: t * row) }
            return roomy
        }
        let exact = Autodiff.withoutGradients { attention(query: q, key: k, value: v, causal: causal, keyMask: keyMask) }
        let roomy = Autodiff.withoutGradients {
            attention(query: q, key: padded(k, seed: 51), value: padded(v, seed: 52), causal: causal, keyMask: keyMask, keyCount: t)
        }
        #expect(roomy.values == exact.values)
    }

    /// For a random direction u, (L(x + εu) - L(x - εu)) / 2ε against ⟨∇L, u⟩.
    @Test(arguments: [false, true])
    func gradientsMatchDirectionalDifferences(causal: Bool) {
        let tensors = inputs()
        for x in tensors { x.requiresGrad = true }
        let probe = random([b, t, h, d], seed: 34)
        func loss() -> Double {
            let out = attention(query: tensors[0], key: tensors[1], value: tensors[2], causal: causal, keyMask: keyMask)
            return zip(out.values, probe.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        sum(attention(query: tensors[0], key: tensors[1], value: tensors[2], causal: causal, keyMask: keyMask) * probe).backward()
        for (which, x) in tensors.enumerated() {
            let direction = random(x.shape, seed: 40 + UInt64(which))
            let analytic = zip(x.gradValues, direction.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let original = x.values, epsilon: Float = 1e-2
            let numeric: Double = Autodiff.withoutGradients {
                for i in 0..<x.count { x.data[i] = original[i] + epsilon * direction.data[i] }
                let plus = loss()
                for i in 0..<x.count { x.data[i] = original[i] - epsilon * direction.data[i] }
                let minus = loss()
                for i in 0..<x.count { x.data[i] = original[i] }
                return (plus - minus) / (2 * Double(epsilon))
            }
            #expect(abs(numeric - analytic) <= 1e-2 * abs(numeric) + 1e-2, "input \(which): analytic \(analytic), numeric \(numeric)")
        }
    }
}
