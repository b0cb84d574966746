/// Rows of an embedding table, and the patch unfolding that turns a strided convolution into a
/// matrix product.

/// `weight[ids]`: weight `[V, D]`, ids of any shape `idsShape` (values in 0..<V); returns `idsShape + [D]`.
public func embedding(_ weight: Tensor, ids: [Int32], shape idsShape: [Int]? = nil) -> Tensor {
    Op.run("embedding") { op in
        precondition(weight.rank == 2, "embedding table must be [V, D], got \(weight.shape)")
        let (vocabulary, width) = (weight.shape[0], weight.shape[1])
        let idsShape = idsShape ?? [ids.count]
        precondition(idsShape.reduce(1, *) == ids.count, "embedding ids shape \(idsShape) for \(ids.count) ids")
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            preconditionFailure("embedding id \(bad) outside the table of \(vocabulary) rows")
        }
        let y = Tensor(uninitialized: idsShape + [width])
        for (row, id) in ids.enumerated() {
            (y.data + row * width).update(from: weight.data + Int(id) * width, count: width)
        }
        op.record(y, inputs: [weight]) { dy in
            let dw = weight.grad
            for (row, id) in ids.enumerated() {
                let src = dy + row * width, dst = dw + Int(id) * width
                for j in 0..<width { dst[j] += src[j] }
            }
        }
        return y
    }
}

/// Cuts images into non-overlapping patches, each flattened in the order of a convolution
/// weight `[out, C, p, p]` (channel, then row, then column).
/// - images: `[B, C, H, W]` with H and W multiples of `patchSize`.
/// - returns: `[B, (H/p)(W/p), C p p]`, patches in row-major order over the image.
public func unfoldPatches(_ images: Tensor, patchSize p: Int) -> Tensor {
    Op.run("unfold_patches") { op in
        precondition(images.rank == 4, "unfold patches takes [B, C, H, W], got \(images.shape)")
        let (b, c, height, width) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        precondition(p > 0 && height % p == 0 && width % p == 0,
                     "image \(height)x\(width) does not divide into \(p)x\(p) patches")
        let (rows, cols) = (height / p, width / p)
        let patchLength = c * p * p
        let y = Tensor(uninitialized: [b, rows * cols, patchLength])
        // Visits every (patch element, image pixel) pair once, in patch order.
        func forEachPixel(_ body: (_ patchOffset: Int, _ imageOffset: Int) -> Void) {
            for bi in 0..<b {
                for pr in 0..<rows {
                    for pc in 0..<cols {
                        let patchBase = ((bi * rows + pr) * cols + pc) * patchLength
                        for ch in 0..<c {
                            for i in 0..<p {
                                let imageRow = ((bi * c + ch) * height + pr * p + i) * width + pc * p
                                body(patchBase + (ch * p + i) * p, imageRow)
                            }
                        }
                    }
                }
            }
        }
        forEachPixel { o, s in (y.data + o).update(from: images.data + s, count: p) }
        op.record(y, inputs: [images]) { dy in
            let dx = images.grad
            forEachPixel { o, s in for j in 0..<p { dx[s + j] += dy[o + j] } }
        }
        return y
    }
}

/// A ViT patch embedding: `nn.Conv2d(C, out, kernel p, stride p)` as unfold + linear.
/// - images: `[B, C, H, W]`; weight: `[out, C, p, p]`; bias: `[out]`; returns `[B, (H/p)(W/p), out]`.
public func patchEmbedding(_ images: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3],
                 "patch embedding weight must be [out, C, p, p], got \(weight.shape)")
    precondition(images.rank == 4 && images.shape[1] == weight.shape[1],
                 "patch embedding of \(images.shape) images with a weight for \(weight.shape[1]) channels")
    let patches = unfoldPatches(images, patchSize: weight.shape[2])
    let flatWeight = reshape(weight, [weight.shape[0], -1])
    return linear(patches, weight: flatWeight, bias: bias)
}

/// `base` with some of its rows replaced: row `indices[i]` of the output is row i of `rows`.
/// This is how the image placeholders of the language model's input become the Q-Former's
/// projected outputs (`transformers`' `masked_scatter`).
/// - base: `[..., D]` viewed as `[N, D]`; rows: `[..., D]` viewed as `[indices.count, D]`; returns base's shape.
public func scatterRows(_ base: Tensor, _ rows: Tensor, at indices: [Int]) -> Tensor {
    Op.run("scatter_rows") { op in
        let width = base.shape.last ?? 1
        precondition(rows.shape.last == width && rows.count == indices.count * width,
                     "scatter rows: \(rows.shape) is not \(indices.count) rows of width \(width) for base \(base.shape)")
        let baseRows = base.count / max(width, 1)
        precondition(indices.allSatisfy { $0 >= 0 && $0 < baseRows } && Set(indices).count == indices.count,
                     "scatter rows: indices must be distinct rows of the \(baseRows) in base")
        let y = base.detachedCopy()
        for (i, row) in indices.enumerated() { (y.data + row * width).update(from: rows.data + i * width, count: width) }
        op.record(y, inputs: [base, rows]) { dy in
            if base.requiresGrad {
                // Replaced rows take no gradient back to base.
                let replaced = Set(indices)
                let db = base.grad
                for r in 0..<baseRows where !replaced.contains(r) {
                    for j in 0..<width { db[r * width + j] += dy[r * width + j] }
                }
            }
            if rows.requiresGrad {
                let dr = rows.grad
                for (i, row) in indices.enumerated() {
                    for j in 0..<width { dr[i * width + j] += dy[row * width + j] }
                }
            }
        }
        return y
    }
}

/// Rows `indices` of `x` viewed as `[N, D]`: `[indices.count, D]` (a gather; repeats allowed).
public func gatherRows(_ x: Tensor, at indices: [Int]) -> Tensor {
    Op.run("gather_rows") { op in
        let width = x.shape.last ?? 1
        let rows = x.count / max(width, 1)
        precondition(indices.allSatisfy { $0 >= 0 && $0 < rows }, "gather rows: an index is outside the \(rows) rows of \(x.shape)")
        let y = Tensor(uninitialized: [indices.count, width])
        for (i, row) in indices.enumerated() { (y.data + i * width).update(from: x.data + row * width, count: width) }
        op.record(y, inputs: [x]) { dy in
            let dx = x.grad
            for (i, row) in indices.enumerated() {
                for j in 0..<width { dx[row * width + j] += dy[i * width + j] }
            }
        }
        return y
    }
}
