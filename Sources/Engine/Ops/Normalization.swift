import Foundation

/// LayerNorm over the last dimension, as `nn.LayerNorm`: (x - mean) / sqrt(var + eps) * weight + bias
/// (biased variance). weight and bias are `[C]`, or nil for no affine part.
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    Op.run("layer_norm") { op in
        let c = x.shape.last ?? 1
        if let weight { precondition(weight.shape == [c], "layer norm weight \(weight.shape) for input \(x.shape)") }
        if let bias { precondition(bias.shape == [c], "layer norm bias \(bias.shape) for input \(x.shape)") }
        let rows = x.count / max(c, 1)
        let y = Tensor(uninitialized: x.shape)
        // mean, rstd: [rows], kept for backward
        let statistics = Storage(count: 2 * rows, zeroed: false)
        let mean = statistics.pointer, rstd = statistics.pointer + rows
        let w = weight?.data, b = bias?.data
        let (xp, yp) = (x.data, y.data)
        let grain = max(1, 16_384 / max(c, 1))
        Parallel.forEach(rows, grain: grain) { range in for r in range {
            let xr = xp + r * c, yr = yp + r * c
            var sum: Float = 0
            for i in 0..<c { sum += xr[i] }
            let m = sum / Float(c)
            var sq: Float = 0
            for i in 0..<c { let d = xr[i] - m; sq += d * d }
            let s = 1 / (sq / Float(c) + eps).squareRoot()
            for i in 0..<c { yr[i] = (xr[i] - m) * s * (w?[i] ?? 1) + (b?[i] ?? 0) }
            mean[r] = m
            rstd[r] = s
        } }
        var inputs = [x]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        op.record(y, inputs: inputs) { dy in
            withExtendedLifetime(statistics) {}
            let dx = x.requiresGrad ? x.grad : nil
            let dw = weight?.requiresGrad == true ? weight!.grad : nil
            let db = bias?.requiresGrad == true ? bias!.grad : nil
            if dw != nil || db != nil {
                // Weight gradients sum over rows: one thread, in row order.
                for r in 0..<rows {
                    let xr = xp + r * c, dyr = dy + r * c
                    for i in 0..<c {
                        dw?[i] += dyr[i] * (xr[i] - mean[r]) * rstd[r]
                        db?[i] += dyr[i]
                    }
                }
            }
            guard let dx else { return }
            Parallel.forEach(rows, grain: grain) { range in for r in range {
                let xr = xp + r * c, dyr = dy + r * c, dxr = dx + r * c
                let (m, s) = (mean[r], rstd[r])
                // dnorm = dy * w; dx = (dnorm - mean(dnorm) - xhat * mean(dnorm * xhat)) * rstd
                var dnormMean: Float = 0, dnormXhatMean: Float = 0
                for i in 0..<c {
                    let dnorm = dyr[i] * (w?[i] ?? 1)
                    dnormMean += dnorm
                    dnormXhatMean += dnorm * (xr[i] - m) * s
                }
                dnormMean /= Float(c)
                dnormXhatMean /= Float(c)
                for i in 0..<c {
                    let xhat = (xr[i] - m) * s
                    let dnorm = dyr[i] * (w?[i] ?? 1)
                    dxr[i] += (dnorm - dnormMean - xhat * dnormXhatMean) * s
                }
            } }
        }
        return y
    }
}

/// RMSNorm over the last dimension, as LLaMA's: x / sqrt(mean(x²) + eps) * weight; weight `[C]`.
public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float) -> Tensor {
    Op.run("rms_norm") { op in
        let c = x.shape.last ?? 1
        precondition(weight.shape == [c], "RMS norm weight \(weight.shape) for input \(x.shape)")
        let rows = x.count / max(c, 1)
        let y = Tensor(uninitialized: x.shape)
        // rstd: [rows], kept for backward
        let statistics = Storage(count: rows, zeroed: false)
        let rstd = statistics.pointer
        let (w, xp, yp) = (weight.data, x.data, y.data)
        let grain = max(1, 16_384 / max(c, 1))
        Parallel.forEach(rows, grain: grain) { range in for r in range {
            let xr = xp + r * c, yr = yp + r * c
            var sq: Float = 0
            for i in 0..<c { sq += xr[i] * xr[i] }
            let s = 1 / (sq / Float(c) + eps).squareRoot()
            for i in 0..<c { yr[i] = w[i] * (xr[i] * s) }
            rstd[r] = s
        } }
        op.record(y, inputs: [x, weight]) { dy in
            let dx = x.requiresGrad ? x.grad : nil
            withExtendedLifetime(statistics) {}
            let dw = weight.requiresGrad ? weight.grad : nil
            if let dw {
                for r in 0..<rows {
                    let xr = xp + r * c, dyr = dy + r * c
                    for i in 0..<c { dw[i] += dyr[i] * xr[i] * rstd[r] }
                }
            }
            guard let dx else { return }
            Parallel.forEach(rows, grain: grain) { range in for r in range {
                let xr = xp + r * c, dyr = dy + r * c
                let s = rstd[r]
                // dx = s * (w dy) - x s³ mean((w dy) x)
                var dot: Float = 0
                for i in 0..<c { dot += w[i] * dyr[i] * xr[i] }
                let k = s * s * s * dot / Float(c)
                let dxr = dx + r * c
                for i in 0..<c { dxr[i] += s * w[i] * dyr[i] - xr[i] * k }
            } }
        }
        return y
    }
}

/// Each row divided by its L2 norm (over the last dimension): the unit vectors CLIP compares.
public func l2Normalize(_ x: Tensor, eps: Float = 1e-12) -> Tensor {
    Op.run("l2_normalize") { op in
        let c = x.shape.last ?? 1
        let rows = x.count / max(c, 1)
        let y = Tensor(uninitialized: x.shape)
        // inverseNorm: [rows], kept for backward
        var inverseNorm = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            let xr = x.data + r * c, yr = y.data + r * c
            var sq: Float = 0
            for i in 0..<c { sq += xr[i] * xr[i] }
            let inv = 1 / max(sq.squareRoot(), eps)
            for i in 0..<c { yr[i] = xr[i] * inv }
            inverseNorm[r] = inv
        }
        op.record(y, inputs: [x]) { dy in
            // dx = (dy - y (y . dy)) / |x|
            let dx = x.grad
            for r in 0..<rows {
                let yr = y.data + r * c, dyr = dy + r * c, dxr = dx + r * c
                var dot: Float = 0
                for i in 0..<c { dot += yr[i] * dyr[i] }
                for i in 0..<c { dxr[i] += (dyr[i] - yr[i] * dot) * inverseNorm[r] }
            }
        }
        return y
    }
}
