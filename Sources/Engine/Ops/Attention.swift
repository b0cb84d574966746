import Foundation

/// Softmax over the last dimension of `x + mask`. The additive mask broadcasts to `x`'s shape
/// (use -infinity to exclude a position); a row with nothing left is all zeros, not NaN.
public func softmax(_ x: Tensor, mask: Tensor? = nil) -> Tensor {
    Op.run("softmax") { op in
        let y = Tensor(uninitialized: x.shape)
        let n = x.shape.last ?? 1
        let bc = Broadcast(x.shape, mask?.shape ?? [1], op: "softmax mask")
        precondition(bc.shape == x.shape || (x.rank == 0 && bc.count == 1),
                     "softmax mask \(mask?.shape ?? []) does not broadcast to \(x.shape)")
        let zero: Float = 0
        withUnsafePointer(to: zero) { zeroMask in
            let m = mask.map { UnsafePointer($0.data) } ?? zeroMask
            let ms = mask == nil ? 0 : bc.innerStrideB
            bc.forEachRow { o, _, im in
                let xr = x.data + o, yr = y.data + o, mr = m + (mask == nil ? 0 : im)
                var maxValue = -Float.infinity
                for j in 0..<n { maxValue = max(maxValue, xr[j] + mr[j * ms]) }
                guard maxValue > -Float.infinity else {
                    yr.update(repeating: 0, count: n)
                    return
                }
                var sum: Float = 0
                for j in 0..<n {
                    let e = FastMath.exp(xr[j] + mr[j * ms] - maxValue)
                    yr[j] = e
                    sum += e
                }
                let inv = 1 / sum
                for j in 0..<n { yr[j] *= inv }
            }
        }
        op.record(y, inputs: [x]) { dy in
            // dx = y * (dy - sum(dy * y))
            let dx = x.grad
            for r in 0..<(x.count / max(n, 1)) {
                let yr = y.data + r * n, dyr = dy + r * n, dxr = dx + r * n
                var dot: Float = 0
                for j in 0..<n { dot += dyr[j] * yr[j] }
                for j in 0..<n { dxr[j] += yr[j] * (dyr[j] - dot) }
            }
        }
        return y
    }
}

/// Fused scaled dot-product attention, heads kept interleaved as the projections produce them.
/// - q: `[B, Tq, H, D]`; k, v: `[B, Tk, H, D]`; returns `[B, Tq, H, D]`.
/// - causal: query i sees keys up to i + (Tk - Tq), so it also serves decoding with a KV cache.
/// - keyMask: `[B, Tk]`, 1 where a key may be attended, 0 for padding (`transformers`' attention_mask).
/// - scale: defaults to 1/sqrt(D).
/// - keyCount: Tk when k and v hold more rows than are filled (`[B, capacity, H, D]`, a KV cache
///   that grows in place); the first keyCount rows of each batch row are the keys.
/// A query that may see no key at all gets zeros.
public func attention(
    query q: Tensor, key k: Tensor, value v: Tensor,
    causal: Bool = false, keyMask: [Int32]? = nil, scale: Float? = nil, keyCount: Int? = nil
) -> Tensor {
    Op.run("attention") { op in
        precondition(q.rank == 4 && k.rank == 4 && v.rank == 4, "attention takes [B, T, H, D] tensors, got \(q.shape), \(k.shape), \(v.shape)")
        let (b, tq, h, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let keyRows = k.shape[1], tk = keyCount ?? keyRows
        precondition(k.shape == [b, keyRows, h, d] && v.shape == k.shape && tk <= keyRows,
                     "attention key \(k.shape) and value \(v.shape) (\(tk) keys) do not match query \(q.shape)")
        if let keyMask { precondition(keyMask.count == b * tk, "attention key mask has \(keyMask.count) entries for [\(b), \(tk)]") }
        let geometry = AttentionGeometry(batch: b, heads: h, queries: tq, keys: tk, keyRows: keyRows, headSize: d,
                                         scale: scale ?? 1 / Float(d).squareRoot(), causal: causal, keyMask: keyMask)
        let out = Tensor(uninitialized: q.shape)
        let recording = Autodiff.needsGradient(q, k, v)
        // probabilities: [B, H, Tq, Tk], kept for backward (nothing is kept when not recording)
        let probabilities = Storage(count: recording ? b * h * tq * tk : 0, zeroed: false)
        // The (batch, head) pairs are independent: spread over the cores (each product stays on its thread).
        Parallel.forEach(b * h, grain: 1) { pairs in
            // scratch: [Tq, Tk], one head's probabilities when they are not kept
            let scratch = Storage(count: recording ? 0 : tq * tk, zeroed: false)
            for pair in pairs {
                let p = recording ? probabilities.pointer + pair * tq * tk : scratch.pointer
                geometry.forward(batch: pair / h, head: pair % h, q: q.data, k: k.data, v: v.data, probabilities: p, out: out.data)
            }
        }
        op.record(out, inputs: [q, k, v]) { dOut in
            let dq = q.requiresGrad ? q.grad : nil
            let dk = k.requiresGrad ? k.grad : nil
            let dv = v.requiresGrad ? v.grad : nil
            Parallel.forEach(b * h, grain: 1) { pairs in
                // scratch: [block rows, Tk], the score gradients of one block
                let scratch = Storage(count: geometry.blockRows * tk, zeroed: false)
                for pair in pairs {
                    geometry.backward(batch: pair / h, head: pair % h, q: q.data, k: k.data, v: v.data,
                                      probabilities: probabilities.pointer + pair * tq * tk,
                                      dOut: dOut, dq: dq, dk: dk, dv: dv, scratch: scratch.pointer)
                }
            }
        }
        return out
    }
}

/// The products and softmax of one (batch, head) pair of attention, a block of query rows at a time.
///
/// Blocks keep every product within what OpenBLAS computes on the calling thread, so that pairs can
/// run on all cores at once; a causal block also multiplies only by the keys its last row can see.
struct AttentionGeometry {
    let batch, heads, queries, keys: Int
    /// Rows each batch row of k and v holds (`keys` or more).
    let keyRows: Int
    let headSize: Int
    let scale: Float
    let causal: Bool
    let keyMask: [Int32]?

    /// Row stride of q, k, v and the output: the heads are interleaved.
    var rowStride: Int { heads * headSize }
    func queryBase(_ b: Int, _ h: Int) -> Int { b * queries * rowStride + h * headSize }
    func keyBase(_ b: Int, _ h: Int) -> Int { b * keyRows * rowStride + h * headSize }

    /// Keys 0..<limit that query i may see (the causal bound); masked keys are skipped separately.
    func visibleKeys(_ i: Int) -> Int { causal ? min(keys, max(0, i + keys - queries + 1)) : keys }

    /// Query rows per block.
    var blockRows: Int { max(1, min(queries, BLAS.singleThreadedLimit / max(1, keys * headSize))) }

    /// The query blocks and the keys each one multiplies by.
    var blocks: [(rows: Range<Int>, keys: Int)] {
        stride(from: 0, to: queries, by: blockRows).map { start in
            let rows = start..<min(queries, start + blockRows)
            return (rows, visibleKeys(rows.upperBound - 1))
        }
    }

    // p[Tq, Tk] = softmax(scale q kᵀ + masks); out[Tq, D] = p v
    func forward(batch b: Int, head h: Int, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                 probabilities p: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let (qb, kb) = (queryBase(b, h), keyBase(b, h))
        // This batch row's keys start at b * keys in the mask (no copy per head).
        let maskBase = b * keys
        for (rows, seen) in blocks {
            let pBlock = p + rows.lowerBound * keys, qBlock = qb + rows.lowerBound * rowStride
            BLAS.sgemm(transposeA: false, transposeB: true, m: rows.count, n: seen, k: headSize, alpha: scale,
                       a: q + qBlock, lda: rowStride, b: k + kb, ldb: rowStride, beta: 0, c: pBlock, ldc: keys)
            for i in rows {
                let row = p + i * keys
                let limit = visibleKeys(i)
                if let keyMask {
                    for j in 0..<limit where keyMask[maskBase + j] == 0 { row[j] = -.infinity }
                }
                var maxValue = -Float.infinity
                for j in 0..<limit { maxValue = max(maxValue, row[j]) }
                guard maxValue > -Float.infinity else {
                    row.update(repeating: 0, count: keys)
                    continue
                }
                // Masked keys hold -infinity, whose exponential is 0. Two loops, so that the first vectorises.
                for j in 0..<limit { row[j] = FastMath.exp(row[j] - maxValue) }
                var sum: Float = 0
                for j in 0..<limit { sum += row[j] }
                (row + limit).update(repeating: 0, count: keys - limit)
                let inv = 1 / sum
                for j in 0..<limit { row[j] *= inv }
            }
            BLAS.sgemm(transposeA: false, transposeB: false, m: rows.count, n: headSize, k: seen,
                       a: pBlock, lda: keys, b: v + kb, ldb: rowStride, beta: 0, c: out + qBlock, ldc: rowStride)
        }
    }

    // dv += pᵀ dOut; dp = dOut vᵀ; ds = p (dp - rowsum(dp p)); dq += scale ds k; dk += scale dsᵀ q
    func backward(batch b: Int, head h: Int, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                  probabilities p: UnsafePointer<Float>, dOut: UnsafePointer<Float>,
                  dq: UnsafeMutablePointer<Float>?, dk: UnsafeMutablePointer<Float>?, dv: UnsafeMutablePointer<Float>?,
                  scratch ds: UnsafeMutablePointer<Float>) {
        let (qb, kb) = (queryBase(b, h), keyBase(b, h))
        for (rows, seen) in blocks {
            let pBlock = p + rows.lowerBound * keys, qBlock = qb + rows.lowerBound * rowStride
            if let dv {
                BLAS.sgemm(transposeA: true, transposeB: false, m: seen, n: headSize, k: rows.count,
                           a: pBlock, lda: keys, b: dOut + qBlock, ldb: rowStride, beta: 1, c: dv + kb, ldc: rowStride)
            }
            guard dq != nil || dk != nil else { continue }
            // ds: [rows, seen], row stride Tk
            BLAS.sgemm(transposeA: false, transposeB: true, m: rows.count, n: seen, k: headSize,
                       a: dOut + qBlock, lda: rowStride, b: v + kb, ldb: rowStride, beta: 0, c: ds, ldc: keys)
            for i in 0..<rows.count {
                let pr = pBlock + i * keys, dr = ds + i * keys
                var dot: Float = 0
                for j in 0..<seen { dot += pr[j] * dr[j] }
                for j in 0..<seen { dr[j] = pr[j] * (dr[j] - dot) }
            }
            if let dq {
                BLAS.sgemm(transposeA: false, transposeB: false, m: rows.count, n: headSize, k: seen, alpha: scale,
                           a: ds, lda: keys, b: k + kb, ldb: rowStride, beta: 1, c: dq + qBlock, ldc: rowStride)
            }
            if let dk {
                BLAS.sgemm(transposeA: true, transposeB: false, m: seen, n: headSize, k: rows.count, alpha: scale,
                           a: ds, lda: keys, b: q + qBlock, ldb: rowStride, beta: 1, c: dk + kb, ldc: rowStride)
            }
        }
    }
}
