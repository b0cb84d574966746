/// Ops that move values without computing: reshape (a view), permute, concat and slice (copies).

/// The same values with another shape; one dimension may be -1 (inferred). No copy.
public func reshape(_ x: Tensor, _ shape: [Int]) -> Tensor {
    Op.run("reshape") { op in
        var shape = shape
        if let inferred = shape.firstIndex(of: -1) {
            let known = shape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            precondition(known > 0 && x.count % known == 0, "cannot reshape \(x.shape) to \(shape)")
            shape[inferred] = x.count / known
        }
        precondition(shape.reduce(1, *) == x.count, "cannot reshape \(x.shape) (\(x.count) elements) to \(shape)")
        let y = Tensor(viewOf: x.storage, shape: shape)
        op.record(y, inputs: [x]) { [unowned y] dy in
            // The same elements in the same order: the first gradient to arrive is handed over whole.
            if x.gradStorage == nil, let gradient = y.gradStorage {
                x.adoptGradient(gradient)
                return
            }
            let dx = x.grad
            for i in 0..<x.count { dx[i] += dy[i] }
        }
        return y
    }
}

extension Tensor {
    public func reshaped(_ shape: [Int]) -> Tensor { reshape(self, shape) }
}

/// Dimensions reordered: output dimension i is input dimension `order[i]` (torch's `permute`).
public func permute(_ x: Tensor, _ order: [Int]) -> Tensor {
    Op.run("permute") { op in
        precondition(order.sorted() == Array(0..<x.rank), "permute order \(order) for a tensor of rank \(x.rank)")
        let layout = PermutedLayout(inputShape: x.shape, order: order)
        let y = Tensor(uninitialized: layout.outputShape)
        layout.gather(y.data, from: x.data)
        op.record(y, inputs: [x]) { dy in layout.scatterAdd(x.grad, from: dy) }
        return y
    }
}

/// Walks a permuted tensor in output order, with the matching input offsets.
struct PermutedLayout {
    let outputShape: [Int]
    /// Input strides of each output dimension.
    let inputStrides: [Int]

    init(inputShape: [Int], order: [Int]) {
        let strides = contiguousStrides(inputShape)
        outputShape = order.map { inputShape[$0] }
        inputStrides = order.map { strides[$0] }
    }

    /// Calls `body(outputOffset, inputOffset, inputStride)` for each output row (last dimension).
    private func forEachRow(_ body: (Int, Int, Int) -> Void) {
        let rowLength = outputShape.last ?? 1
        let innerStride = inputStrides.last ?? 1
        let none = [Int](repeating: 0, count: outputShape.count)
        forEachStridedRow(shape: outputShape, stridesA: inputStrides, stridesB: none) { row, offset, _ in
            body(row * rowLength, offset, innerStride)
        }
    }

    // out[o] = in[map(o)]
    func gather(_ out: UnsafeMutablePointer<Float>, from input: UnsafePointer<Float>) {
        let n = outputShape.last ?? 1
        forEachRow { o, i, s in
            if s == 1 { (out + o).update(from: input + i, count: n) } else { for j in 0..<n { out[o + j] = input[i + j * s] } }
        }
    }

    // dIn[map(o)] += dOut[o]
    func scatterAdd(_ dInput: UnsafeMutablePointer<Float>, from dOut: UnsafePointer<Float>) {
        let n = outputShape.last ?? 1
        forEachRow { o, i, s in for j in 0..<n { dInput[i + j * s] += dOut[o + j] } }
    }
}

/// The sizes before and after `axis`, for ops that cut a tensor along one dimension.
private func split(_ shape: [Int], at axis: Int) -> (outer: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[(axis + 1)...].reduce(1, *))
}

/// Tensors joined along `axis`; all other dimensions must agree.
public func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
    Op.run("concat") { op in
        precondition(!tensors.isEmpty, "concat of no tensors")
        let first = tensors[0]
        let axis = axis < 0 ? axis + first.rank : axis
        precondition(axis >= 0 && axis < first.rank, "concat axis \(axis) for rank \(first.rank)")
        for t in tensors {
            precondition(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == axis || t.shape[$0] == first.shape[$0] },
                         "concat along \(axis) of \(first.shape) and \(t.shape): other dimensions differ")
        }
        var shape = first.shape
        shape[axis] = tensors.map { $0.shape[axis] }.reduce(0, +)
        let (outer, inner) = split(shape, at: axis)
        let y = Tensor(uninitialized: shape)
        let rowLength = shape[axis] * inner
        // y[o, start..<start+len_t, :] = t[o]
        var start = 0
        for t in tensors {
            let chunk = t.shape[axis] * inner
            for o in 0..<outer { (y.data + o * rowLength + start).update(from: t.data + o * chunk, count: chunk) }
            start += chunk
        }
        op.record(y, inputs: tensors) { dy in
            var start = 0
            for t in tensors {
                let chunk = t.shape[axis] * inner
                if t.requiresGrad {
                    let dt = t.grad
                    for o in 0..<outer {
                        let src = dy + o * rowLength + start, dst = dt + o * chunk
                        for j in 0..<chunk { dst[j] += src[j] }
                    }
                }
                start += chunk
            }
        }
        return y
    }
}

/// The part of `x` with indices `range` along `axis` (a copy).
public func slice(_ x: Tensor, axis: Int, _ range: Range<Int>) -> Tensor {
    Op.run("slice") { op in
        let axis = axis < 0 ? axis + x.rank : axis
        precondition(axis >= 0 && axis < x.rank, "slice axis \(axis) for rank \(x.rank)")
        precondition(range.lowerBound >= 0 && range.upperBound <= x.shape[axis],
                     "slice \(range) out of bounds for dimension \(axis) of \(x.shape)")
        var shape = x.shape
        shape[axis] = range.count
        let (outer, inner) = split(x.shape, at: axis)
        let y = Tensor(uninitialized: shape)
        let (rowIn, rowOut, offset) = (x.shape[axis] * inner, range.count * inner, range.lowerBound * inner)
        for o in 0..<outer { (y.data + o * rowOut).update(from: x.data + o * rowIn + offset, count: rowOut) }
        op.record(y, inputs: [x]) { dy in
            let dx = x.grad
            for o in 0..<outer {
                let src = dy + o * rowOut, dst = dx + o * rowIn + offset
                for j in 0..<rowOut { dst[j] += src[j] }
            }
        }
        return y
    }
}
