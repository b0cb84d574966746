/// Matrix products: `matmul` (batched, either operand transposed) and `linear` (PyTorch's
/// `x @ W.T + b`). Both go through `BLAS.sgemm`, forward and backward, and add weight
/// gradients straight into `grad` with beta = 1, which is what gradient accumulation needs.

/// Batched matrix product `op(a) @ op(b)`.
/// - a: `[batch..., M, K]`, stored `[batch..., K, M]` when `transposeA`.
/// - b: `[batch..., K, N]` with the same batch dimensions, or `[K, N]` shared by every batch
///   (stored `[..., N, K]` when `transposeB`).
/// - returns: `[batch..., M, N]`.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    Op.run("matmul") { op in
        precondition(a.rank >= 2 && b.rank >= 2, "matmul of shapes \(a.shape) and \(b.shape): both need two dimensions")
        let batchShape = Array(a.shape.dropLast(2))
        let sharedB = b.rank == 2
        precondition(sharedB || Array(b.shape.dropLast(2)) == batchShape,
                     "matmul batch dimensions differ: \(a.shape) and \(b.shape)")
        let (aRows, aCols) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (bRows, bCols) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (aCols, aRows) : (aRows, aCols)
        let (kb, n) = transposeB ? (bCols, bRows) : (bRows, bCols)
        precondition(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "")")
        let batch = batchShape.reduce(1, *)
        let out = Tensor(uninitialized: batchShape + [m, n])
        let g = MatmulGeometry(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, batch: batch, sharedB: sharedB)
        g.forward(out.data, a.data, b.data)
        op.record(out, inputs: [a, b]) { dOut in
            if a.requiresGrad { g.backwardA(a.grad, dOut, b.data) }
            if b.requiresGrad { g.backwardB(b.grad, dOut, a.data) }
        }
        return out
    }
}

/// The sgemm calls of one batched product and of its two gradients.
struct MatmulGeometry {
    let m, n, k: Int
    let transposeA, transposeB: Bool
    let batch: Int
    let sharedB: Bool

    var lda: Int { transposeA ? m : k }
    var ldb: Int { transposeB ? k : n }
    var strideA: Int { m * k }
    var strideB: Int { sharedB ? 0 : k * n }
    var strideC: Int { m * n }
    /// With a shared, untransposed-A product the batch folds into the rows: one sgemm.
    var foldsBatch: Bool { sharedB && !transposeA }

    // c: [batch, m, n] = op(a) @ op(b)
    func forward(_ c: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) {
        if foldsBatch {
            BLAS.sgemm(transposeA: false, transposeB: transposeB, m: batch * m, n: n, k: k,
                       a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: n)
            return
        }
        for i in 0..<batch {
            BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                       a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb, beta: 0, c: c + i * strideC, ldc: n)
        }
    }

    // dA (as stored) += dC @ op(B)ᵀ, or its transpose when A is stored transposed.
    func backwardA(_ dA: UnsafeMutablePointer<Float>, _ dC: UnsafePointer<Float>, _ b: UnsafePointer<Float>) {
        let rows = foldsBatch ? batch * m : m
        for i in 0..<(foldsBatch ? 1 : batch) {
            let dCi = dC + i * strideC, bi = b + i * strideB, dAi = dA + i * strideA
            if transposeA {
                // stored [k, m] = op(B) @ dCᵀ
                BLAS.sgemm(transposeA: transposeB, transposeB: true, m: k, n: m, k: n,
                           a: bi, lda: ldb, b: dCi, ldb: n, beta: 1, c: dAi, ldc: m)
            } else {
                BLAS.sgemm(transposeA: false, transposeB: !transposeB, m: rows, n: k, k: n,
                           a: dCi, lda: n, b: bi, ldb: ldb, beta: 1, c: dAi, ldc: k)
            }
        }
    }

    // dB (as stored) += op(A)ᵀ @ dC, or its transpose; summed over the batch when B is shared.
    func backwardB(_ dB: UnsafeMutablePointer<Float>, _ dC: UnsafePointer<Float>, _ a: UnsafePointer<Float>) {
        let rows = foldsBatch ? batch * m : m
        for i in 0..<(foldsBatch ? 1 : batch) {
            let dCi = dC + i * strideC, ai = a + i * strideA, dBi = dB + i * strideB
            if transposeB {
                // stored [n, k] = dCᵀ @ op(A)
                BLAS.sgemm(transposeA: true, transposeB: transposeA, m: n, n: k, k: rows,
                           a: dCi, lda: n, b: ai, ldb: lda, beta: 1, c: dBi, ldc: k)
            } else {
                BLAS.sgemm(transposeA: !transposeA, transposeB: false, m: k, n: n, k: rows,
                           a: ai, lda: lda, b: dCi, ldb: n, beta: 1, c: dBi, ldc: n)
            }
        }
    }
}

/// A fully connected layer as PyTorch's `nn.Linear` computes it: `x @ weightᵀ + bias`.
/// - x: `[..., in]`; weight: `[out, in]`; bias: `[out]` or nil.
/// - returns: `[..., out]`.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    Op.run("linear") { op in
        precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        precondition(x.shape.last == inFeatures, "linear input \(x.shape) does not end in \(inFeatures) (weight \(weight.shape))")
        if let bias { precondition(bias.shape == [outFeatures], "linear bias \(bias.shape) for weight \(weight.shape)") }
        let rows = x.count / max(inFeatures, 1)
        let y = Tensor(uninitialized: Array(x.shape.dropLast()) + [outFeatures])
        // y: [rows, out]; the bias is written first so that sgemm adds onto it.
        if let bias {
            for r in 0..<rows { (y.data + r * outFeatures).update(from: bias.data, count: outFeatures) }
        }
        BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                   a: x.data, lda: inFeatures, b: weight.data, ldb: inFeatures,
                   beta: bias == nil ? 0 : 1, c: y.data, ldc: outFeatures)
        op.record(y, inputs: [x, weight] + (bias.map { [$0] } ?? [])) { dy in linearBackward(dy, x, weight, bias) }
        return y
    }
}

/// The gradients of `x Wᵀ + b` given dy `[rows, out]`, added into those inputs that need one.
private func linearBackward(_ dy: UnsafePointer<Float>, _ x: Tensor, _ weight: Tensor, _ bias: Tensor?) {
    let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
    let rows = x.count / max(inFeatures, 1)
    if x.requiresGrad {
        // dx[rows, in] += dy[rows, out] @ W[out, in]
        BLAS.sgemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures,
                   a: dy, lda: outFeatures, b: weight.data, ldb: inFeatures, beta: 1, c: x.grad, ldc: inFeatures)
    }
    if weight.requiresGrad {
        // dW[out, in] += dyᵀ[out, rows] @ x[rows, in]
        BLAS.sgemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                   a: dy, lda: outFeatures, b: x.data, ldb: inFeatures, beta: 1, c: weight.grad, ldc: inFeatures)
    }
    if let bias, bias.requiresGrad {
        let db = bias.grad
        for r in 0..<rows {
            let row = dy + r * outFeatures
            for j in 0..<outFeatures { db[j] += row[j] }
        }
    }
}

/// A linear layer with a LoRA update beside it, in one op: `x Wᵀ + b + scaling · (x' Aᵀ) Bᵀ`, where
/// x' is the input to the adapter (x itself, or x after dropout). The update is added straight into
/// the output by sgemm (alpha = scaling, beta = 1) instead of through separate scale and add ops.
/// - x, adapterInput: `[..., in]`; weight `[out, in]`; bias `[out]` or nil; a `[r, in]`; b `[out, r]`.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, adapterInput: Tensor, a: Tensor, b: Tensor, scaling: Float) -> Tensor {
    Op.run("lora_linear") { op in
        let (outFeatures, inFeatures, rank) = (weight.shape[0], weight.shape[1], a.shape[0])
        precondition(a.shape == [rank, inFeatures] && b.shape == [outFeatures, rank],
                     "LoRA A \(a.shape) and B \(b.shape) do not fit the weight \(weight.shape)")
        precondition(adapterInput.shape == x.shape, "adapter input \(adapterInput.shape) differs from the input \(x.shape)")
        let y = Autodiff.withoutGradients { linear(x, weight: weight, bias: bias) }
        let rows = x.count / max(inFeatures, 1)
        // low: [rows, r] = x' Aᵀ, kept for backward
        let low = Tensor(uninitialized: [rows, rank])
        BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: rank, k: inFeatures,
                   a: adapterInput.data, lda: inFeatures, b: a.data, ldb: inFeatures, beta: 0, c: low.data, ldc: rank)
        // y += scaling · low Bᵀ
        BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: rank, alpha: scaling,
                   a: low.data, lda: rank, b: b.data, ldb: rank, beta: 1, c: y.data, ldc: outFeatures)
        op.record(y, inputs: [x, weight, adapterInput, a, b] + (bias.map { [$0] } ?? [])) { dy in
            linearBackward(dy, x, weight, bias)
            if b.requiresGrad {
                // dB[out, r] += scaling · dyᵀ low
                BLAS.sgemm(transposeA: true, transposeB: false, m: outFeatures, n: rank, k: rows, alpha: scaling,
                           a: dy, lda: outFeatures, b: low.data, ldb: rank, beta: 1, c: b.grad, ldc: rank)
            }
            guard a.requiresGrad || adapterInput.requiresGrad else { return }
            // dlow[rows, r] = scaling · dy B
            let dLow = Storage(count: rows * rank, zeroed: false)
            BLAS.sgemm(transposeA: false, transposeB: false, m: rows, n: rank, k: outFeatures, alpha: scaling,
                       a: dy, lda: outFeatures, b: b.data, ldb: rank, beta: 0, c: dLow.pointer, ldc: rank)
            if a.requiresGrad {
                // dA[r, in] += dlowᵀ x'
                BLAS.sgemm(transposeA: true, transposeB: false, m: rank, n: inFeatures, k: rows,
                           a: dLow.pointer, lda: rank, b: adapterInput.data, ldb: inFeatures, beta: 1, c: a.grad, ldc: inFeatures)
            }
            if adapterInput.requiresGrad {
                // dx'[rows, in] += dlow A
                BLAS.sgemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: rank,
                           a: dLow.pointer, lda: rank, b: a.data, ldb: inFeatures, beta: 1, c: adapterInput.grad, ldc: inFeatures)
            }
        }
        return y
    }
}
