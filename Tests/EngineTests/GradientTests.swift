import Engine
import Testing

/// Every op's backward against central finite differences (see `checkGradients`).
@Suite struct GradientTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func batchedMatmul(transposeA: Bool, transposeB: Bool) {
        let a = random(transposeA ? [2, 4, 3] : [2, 3, 4], seed: 1)
        let b = random(transposeB ? [2, 5, 4] : [2, 4, 5], seed: 2)
        checkGradients([a, b]) { matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulWithSharedRightOperand(transposeA: Bool, transposeB: Bool) {
        let a = random(transposeA ? [3, 4, 2] : [3, 2, 4], seed: 3)
        let b = random(transposeB ? [5, 4] : [4, 5], seed: 4)
        checkGradients([a, b]) { matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
    }

    @Test func linearWithAndWithoutBias() {
        let x = random([2, 3, 4], seed: 5), w = random([6, 4], seed: 6), b = random([6], seed: 7)
        checkGradients([x, w, b]) { linear(x, weight: w, bias: b) }
        checkGradients([x, w]) { linear(x, weight: w) }
        let a = random([2, 4], seed: 70), bUp = random([6, 2], seed: 71), dropped = random([2, 3, 4], seed: 72)
        checkGradients([x, w, b, a, bUp]) { linear(x, weight: w, bias: b, adapterInput: x, a: a, b: bUp, scaling: 1.5) }
        checkGradients([x, w, dropped, a, bUp]) { linear(x, weight: w, bias: nil, adapterInput: dropped, a: a, b: bUp, scaling: 0.5) }
    }

    @Test(arguments: [
        ([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([2, 3, 4], [3, 1]), ([2, 1, 4], [1, 3, 1]), ([4], [2, 3, 4]), ([2, 3], []),
    ])
    func broadcastingArithmetic(shapeA: [Int], shapeB: [Int]) {
        let a = random(shapeA, seed: 8), b = random(shapeB, seed: 9)
        checkGradients([a, b]) { a + b }
        checkGradients([a, b]) { a - b }
        checkGradients([a, b]) { a * b }
    }

    @Test func scaleReshapePermute() {
        let x = random([2, 3, 4], seed: 10)
        checkGradients([x]) { scale(x, -1.5) }
        checkGradients([x]) { reshape(x, [4, -1]) }
        checkGradients([x]) { permute(x, [2, 0, 1]) }
        checkGradients([x]) { permute(x, [1, 0, 2]) }
        checkGradients([x]) { permute(x, [0, 2, 1]) }
    }

    @Test func concatAndSlice() {
        let a = random([2, 3, 4], seed: 11), b = random([2, 1, 4], seed: 12), c = random([2, 2, 4], seed: 13)
        checkGradients([a, b, c]) { concat([a, b, c], axis: 1) }
        checkGradients([a]) { concat([a, a], axis: -1) }
        checkGradients([a]) { slice(a, axis: 1, 1..<3) }
        checkGradients([a]) { slice(a, axis: 0, 1..<2) }
    }

    @Test func embeddingLookup() {
        let table = random([5, 3], seed: 14)
        checkGradients([table]) { embedding(table, ids: [4, 0, 4, 2], shape: [2, 2]) }
    }

    @Test func scatteredRows() {
        let base = random([2, 3, 4], seed: 35), rows = random([2, 4], seed: 36)
        checkGradients([base, rows]) { scatterRows(base, rows, at: [4, 1]) }
        checkGradients([base]) { gatherRows(base, at: [5, 0, 5]) }
    }

    @Test func normalizations() {
        let x = random([3, 6], seed: 15), w = random([6], seed: 16), b = random([6], seed: 17)
        checkGradients([x, w, b]) { layerNorm(x, weight: w, bias: b, eps: 1e-6) }
        checkGradients([x]) { layerNorm(x, weight: nil, bias: nil, eps: 1e-12) }
        checkGradients([x, w]) { rmsNorm(x, weight: w, eps: 1e-6) }
        checkGradients([x]) { l2Normalize(x) }
    }

    @Test func softmaxWithMask() {
        let x = random([2, 3, 5], seed: 18)
        let mask = Tensor(shape: [2, 1, 5], values: [0, -.infinity, 0, 0, -1, 0, 0, 0, -.infinity, -.infinity])
        checkGradients([x]) { softmax(x, mask: mask) }
        checkGradients([x]) { softmax(x) }
    }

    @Test func attentionMasks() {
        let q = random([2, 3, 2, 4], seed: 19), k = random([2, 5, 2, 4], seed: 20), v = random([2, 5, 2, 4], seed: 21)
        checkGradients([q, k, v]) { attention(query: q, key: k, value: v) }
        checkGradients([q, k, v]) { attention(query: q, key: k, value: v, causal: true, keyMask: [1, 1, 1, 0, 1, 0, 0, 1, 1, 1]) }
        // A query with no visible key: its output and gradients are zero.
        checkGradients([q, k, v]) { attention(query: q, key: k, value: v, causal: true, keyMask: [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]) }
    }

    @Test(arguments: Activation.allCases)
    func activations(kind: Activation) {
        // Grid points stay 2h away from ReLU's kink at zero.
        let x = Tensor(shape: [17], values: (0..<17).map { Float($0) * 0.5 - 4.03 })
        checkGradients([x]) { activation(x, kind) }
    }

    @Test func swigluGate() {
        let gate = random([3, 4], seed: 22), up = random([3, 4], seed: 23)
        checkGradients([gate, up]) { swiglu(gate: gate, up: up) }
    }

    @Test func rotary() {
        let x = random([2, 3, 2, 4], seed: 24)
        checkGradients([x]) { rotaryEmbedding(x, positions: [0, 1, 2], theta: 10000) }
        checkGradients([x]) { rotaryEmbedding(x, positions: [5, 6, 7, 0, 1, 2], theta: 100) }
    }

    @Test func patchEmbeddingAsConvolution() {
        let images = random([2, 2, 4, 6], seed: 25), w = random([3, 2, 2, 2], seed: 26), b = random([3], seed: 27)
        checkGradients([images, w, b]) { patchEmbedding(images, weight: w, bias: b) }
    }

    @Test func dropoutWithFixedMask() {
        let x = random([4, 5], seed: 28)
        checkGradients([x]) {
            var rng = SeededGenerator(seed: 5)
            return dropout(x, probability: 0.3, using: &rng)
        }
    }

    @Test func crossEntropyIgnoringPositions() {
        let logits = random([5, 7], seed: 29, scale: 2)
        let targets: [Int32] = [3, ignoreIndex, 0, 6, ignoreIndex]
        checkGradients([logits]) { crossEntropy(logits, targets: targets) }
        checkGradients([logits]) { crossEntropy(logits, targets: targets, reduction: .sum) }
        checkGradients([logits]) { crossEntropy(logits, targets: targets, weights: [0.5, 9, 0.25, 2, 9]) }
    }

    @Test func crossEntropyWithSeveralTargetsPerRow() {
        let logits = random([3, 7], seed: 31, scale: 2)
        let targets: [Int32] = [3, 5, ignoreIndex, 0, 6, 2], rows = [0, 0, 1, 1, 1, 2]
        checkGradients([logits]) { crossEntropy(logits, targets: targets, rows: rows) }
        checkGradients([logits]) { crossEntropy(logits, targets: targets, rows: rows, weights: [0.5, 0.5, 9, 0.25, 0.75, 1]) }
    }

    /// Rows shared by targets must give the bits of a copy of each row per target (gatherRows), which
    /// the code's word loss computed before: a numerics version holds them.
    @Test func sharedRowsMatchGatheredCopiesBitForBit() {
        // Three rows of 40 targets each: enough targets added onto each other for roundings to differ.
        var rng = SeededGenerator(seed: 33)
        let rows = (0..<120).map { $0 / 40 }
        let targets = rows.map { _ in Int32(rng.next() % 1000) }
        let weights = rows.map { _ in Float(rng.next() % 1000 + 1) / 40_000 }
        func lossAndGradient(_ loss: (Tensor) -> Tensor) -> (Float, [Float]) {
            let logits = random([3, 1000], seed: 32)
            logits.requiresGrad = true
            let value = loss(logits)
            value.backward()
            return (value.scalar, logits.gradValues)
        }
        let shared = lossAndGradient { crossEntropy($0, targets: targets, rows: rows, weights: weights) }
        let gathered = lossAndGradient { crossEntropy(gatherRows($0, at: rows), targets: targets, weights: weights) }
        #expect(shared.0.bitPattern == gathered.0.bitPattern)
        let differing = zip(shared.1, gathered.1).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(shared.1.count) gradient elements differ in their bits")
    }

    @Test func reductions() {
        let x = random([2, 3, 4], seed: 30)
        checkGradients([x]) { sum(x) }
        checkGradients([x]) { mean(x) }
        checkGradients([x]) { sum(x, axis: 1) }
        checkGradients([x]) { mean(x, axis: -1) }
    }

    @Test func composedBlockThroughManyOps() {
        // Gradients meet where a tensor is used twice (the residual), across the whole tape.
        let x = random([1, 4, 8], seed: 31, scale: 0.5)
        let w1 = random([8, 8], seed: 32, scale: 0.3), w2 = random([8, 8], seed: 33, scale: 0.3), g = random([8], seed: 34)
        checkGradients([x, w1, w2, g]) {
            let h = rmsNorm(x, weight: g, eps: 1e-6)
            let q = reshape(linear(h, weight: w1), [1, 4, 2, 4])
            let k = reshape(linear(h, weight: w2), [1, 4, 2, 4])
            let a = reshape(attention(query: q, key: k, value: q, causal: true), [1, 4, 8])
            return x + gelu(a)
        }
    }
}

/// Dropout's mask: its rate, its scaling, and its seeding.
@Suite struct DropoutTests {
    @Test func dropsAtTheRateAndScalesWhatItKeeps() {
        let x = Tensor(shape: [200_000], filledWith: 2)
        var rng = SeededGenerator(seed: 9)
        let y = Autodiff.withoutGradients { dropout(x, probability: 0.1, using: &rng) }.values
        let dropped = Double(y.filter { $0 == 0 }.count) / Double(y.count)
        #expect(abs(dropped - 0.1) < 0.005, "dropped \(dropped)")
        #expect(y.allSatisfy { $0 == 0 || abs($0 - 2 / 0.9) < 1e-6 })
    }

    @Test func theSameSeedDropsTheSameElementsAndTheNextCallOthers() {
        let x = Tensor(shape: [50_000], filledWith: 1)
        var first = SeededGenerator(seed: 3), second = SeededGenerator(seed: 3)
        let a = Autodiff.withoutGradients { dropout(x, probability: 0.5, using: &first) }.values
        let b = Autodiff.withoutGradients { dropout(x, probability: 0.5, using: &second) }.values
        let c = Autodiff.withoutGradients { dropout(x, probability: 0.5, using: &first) }.values
        #expect(a == b)
        #expect(a != c)
        // Every block draws from its own stream: no two blocks share a mask.
        #expect(a[0..<16_384] != a[16_384..<32_768])
    }
}
