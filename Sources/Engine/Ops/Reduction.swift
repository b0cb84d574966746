/// Sums and means, over everything or along one axis.

/// The sum of all elements, as a one-element tensor of shape [].
public func sum(_ x: Tensor) -> Tensor {
    Op.run("sum") { op in
        var total = 0.0
        for i in 0..<x.count { total += Double(x.data[i]) }
        let y = Tensor(shape: [], values: [Float(total)])
        op.record(y, inputs: [x]) { dy in
            let dx = x.grad
            for i in 0..<x.count { dx[i] += dy[0] }
        }
        return y
    }
}

/// The mean of all elements, as a one-element tensor of shape [].
public func mean(_ x: Tensor) -> Tensor {
    scale(sum(x), 1 / Float(max(x.count, 1)))
}

/// The sum along `axis`, which disappears from the shape.
public func sum(_ x: Tensor, axis: Int) -> Tensor {
    Op.run("sum_axis") { op in
        let axis = axis < 0 ? axis + x.rank : axis
        precondition(axis >= 0 && axis < x.rank, "sum axis \(axis) for a tensor of shape \(x.shape)")
        let (outer, size, inner) = (x.shape[..<axis].reduce(1, *), x.shape[axis], x.shape[(axis + 1)...].reduce(1, *))
        var shape = x.shape
        shape.remove(at: axis)
        let y = Tensor(zeros: shape)
        // y[o, i] = sum_a x[o, a, i]
        for o in 0..<outer {
            for a in 0..<size {
                let src = x.data + (o * size + a) * inner, dst = y.data + o * inner
                for i in 0..<inner { dst[i] += src[i] }
            }
        }
        op.record(y, inputs: [x]) { dy in
            let dx = x.grad
            for o in 0..<outer {
                for a in 0..<size {
                    let dst = dx + (o * size + a) * inner, src = dy + o * inner
                    for i in 0..<inner { dst[i] += src[i] }
                }
            }
        }
        return y
    }
}

/// The mean along `axis`, which disappears from the shape.
public func mean(_ x: Tensor, axis: Int) -> Tensor {
    let axis = axis < 0 ? axis + x.rank : axis
    return scale(sum(x, axis: axis), 1 / Float(max(x.shape[axis], 1)))
}
