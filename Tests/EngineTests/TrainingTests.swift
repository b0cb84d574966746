import Engine
import Testing

/// Autodiff bookkeeping, gradient accumulation and determinism over a tiny model.
@Suite struct TrainingTests {
    /// A two-layer model with attention, trained a few AdamW steps on seeded data; returns the
    /// final parameters and losses.
    func train(seed: UInt64, steps: Int, accumulation: Int = 1) -> (parameters: [[Float]], losses: [Float]) {
        let rng = SeededGenerator(seed: seed)
        var initRng = rng.fork("init")
        let table = Tensor.randomNormal([11, 8], std: 0.5, using: &initRng, requiresGrad: true, name: "embed")
        let w = Tensor.randomNormal([8, 8], std: 0.3, using: &initRng, requiresGrad: true, name: "w")
        let norm = Tensor(shape: [8], filledWith: 1, requiresGrad: true, name: "norm")
        let head = Tensor.randomNormal([11, 8], std: 0.3, using: &initRng, requiresGrad: true, name: "head")
        let parameters = [table, w, norm, head]
        let optimizer = AdamW(parameters: parameters)
        let schedule = LearningRateSchedule(peak: 1e-2, warmupSteps: 2, totalSteps: steps, decay: .cosine)
        var data = rng.fork("data")
        var losses: [Float] = []
        for step in 0..<steps {
            optimizer.zeroGradients()
            var dropoutRng = rng.fork(step)
            for _ in 0..<accumulation {
                let ids = (0..<12).map { _ in Int32(data.next() % 11) }
                let h = embedding(table, ids: ids, shape: [2, 6])
                let q = reshape(linear(rmsNorm(h, weight: norm, eps: 1e-6), weight: w), [2, 6, 2, 4])
                let a = reshape(attention(query: q, key: q, value: q, causal: true), [2, 6, 8])
                let logits = linear(dropout(h + a, probability: 0.1, using: &dropoutRng), weight: head)
                let loss = crossEntropy(reshape(logits, [12, 11]), targets: ids.map { ($0 + 1) % 11 })
                loss.backward(seed: 1 / Float(accumulation))
                losses.append(loss.scalar)
            }
            clipGradientNorm(parameters, maxNorm: 1)
            optimizer.step(learningRate: schedule.rate(atStep: step))
        }
        return (parameters.map(\.values), losses)
    }

    @Test func sameSeedGivesBitIdenticalParameters() {
        let first = train(seed: 11, steps: 5), second = train(seed: 11, steps: 5)
        #expect(first.parameters == second.parameters)
        #expect(first.losses == second.losses)
        #expect(train(seed: 12, steps: 5).parameters != first.parameters)
    }

    @Test func trainingLowersTheLoss() {
        let losses = train(seed: 3, steps: 60).losses
        #expect(losses.suffix(5).reduce(0, +) < losses.prefix(5).reduce(0, +) * 0.8)
    }

    @Test func accumulatedMicroBatchesEqualOneBatch() {
        // Two backward passes seeded 1/2 each give the gradient of the mean of the two losses.
        let w = random([3, 4], seed: 1)
        w.requiresGrad = true
        let x1 = random([2, 4], seed: 2), x2 = random([2, 4], seed: 3)
        for x in [x1, x2] { sum(tanh(linear(x, weight: w))).backward(seed: 0.5) }
        let accumulated = w.gradValues
        w.zeroGrad()
        let both = concat([x1, x2], axis: 0)
        scale(sum(tanh(linear(both, weight: w))), 0.5).backward()
        #expect(maxDifference(accumulated, w.gradValues) <= 1e-6)
    }

    @Test func frozenParametersGetNoGradientAndNoGraphIsKept() {
        let frozen = random([3, 3], seed: 4), trained = random([3, 3], seed: 5)
        trained.requiresGrad = true
        let x = random([2, 3], seed: 6)
        let loss = sum(linear(linear(x, weight: frozen), weight: trained))
        #expect(loss.hasGraph)
        loss.backward()
        #expect(frozen.gradStorage == nil, "a frozen weight's gradient is never computed")
        #expect(trained.gradStorage != nil)
        #expect(!loss.hasGraph, "backward releases the graph")

        let evaluated = Autodiff.withoutGradients { sum(linear(x, weight: trained)) }
        #expect(!evaluated.hasGraph && !evaluated.requiresGrad, "evaluation records nothing")
    }

    @Test func splittableGeneratorIsReproducibleAndIndependent() {
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        var forkBefore = SeededGenerator(seed: 9).fork("dropout")
        _ = a.next()
        var forkAfter = a.fork("dropout")
        #expect(forkBefore.next() == forkAfter.next(), "forking does not depend on how far the parent has run")
        var other = a.fork("init")
        var dropout = a.fork("dropout")
        #expect(other.next() != dropout.next())
        var u = SeededGenerator(seed: 1)
        let draws = (0..<10_000).map { _ in u.nextUniform() }
        #expect(draws.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(draws.reduce(0, +) / 10_000 - 0.5) < 0.02)
        var n = SeededGenerator(seed: 2)
        let normals = (0..<10_000).map { _ in n.nextNormal() }
        let m = normals.reduce(0, +) / 10_000
        let variance = normals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 10_000
        #expect(abs(m) < 0.05 && abs(variance - 1) < 0.05)
    }
}

/// Kernels split large tensors across threads; each element must come out exactly as the serial
/// loop computes it (small pieces run serially).
@Suite struct ParallelKernelTests {
    @Test func largeTensorsGiveTheSameBitsAsTheirPiecesOneByOne() {
        let rows = 64, width = 1024
        let x = random([rows, width], seed: 40), y = random([rows, width], seed: 41)
        let w = random([width], seed: 42), b = random([width], seed: 43)
        let cases: [(String, (Tensor, Tensor) -> Tensor)] = [
            ("gelu", { x, _ in gelu(x) }), ("silu", { x, _ in silu(x) }), ("swiglu", { swiglu(gate: $0, up: $1) }),
            ("add", { $0 + $1 }), ("multiply", { $0 * $1 }), ("scale", { x, _ in scale(x, 0.3) }),
            ("layer norm", { x, _ in layerNorm(x, weight: w, bias: b, eps: 1e-6) }), ("rms norm", { x, _ in rmsNorm(x, weight: w, eps: 1e-6) }),
            ("rotary", { x, _ in rotaryEmbedding(reshape(x, [1, rows, 8, width / 8]), positions: (0..<Int32(rows)).map { $0 }, theta: 10000) }),
        ]
        for (name, f) in cases {
            let whole = Autodiff.withoutGradients { f(x, y).values }
            var pieces: [Float] = []
            for r in 0..<rows {
                let xr = slice(x, axis: 0, r..<(r + 1)), yr = slice(y, axis: 0, r..<(r + 1))
                pieces += Autodiff.withoutGradients {
                    name == "rotary"
                        ? rotaryEmbedding(reshape(xr, [1, 1, 8, width / 8]), positions: [Int32(r)], theta: 10000).values
                        : f(xr, yr).values
                }
            }
            #expect(whole == pieces, "\(name)")
        }
    }

    @Test func parallelBackwardEqualsSerialBackward() {
        // The same loss on a large batch and row by row accumulates the same input gradient.
        let x = random([64, 512], seed: 44), w = random([512], seed: 45)
        x.requiresGrad = true
        sum(gelu(rmsNorm(x, weight: w, eps: 1e-6))).backward()
        let whole = x.gradValues
        x.zeroGrad()
        for r in 0..<64 { sum(gelu(rmsNorm(slice(x, axis: 0, r..<(r + 1)), weight: w, eps: 1e-6))).backward() }
        #expect(whole == x.gradValues)
    }
}
