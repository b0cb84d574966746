import Foundation

// MARK: - Broadcasting add, subtract, multiply

/// NumPy broadcasting of two shapes: trailing dimensions are aligned, and a dimension of 1 (or a
/// missing one) stretches to the other's size. Iterates the output a row (last dimension) at a time.
struct Broadcast {
    let shape: [Int]
    /// Element strides of each operand in the output's index space (0 where it is stretched).
    let stridesA: [Int], stridesB: [Int]

    init(_ a: [Int], _ b: [Int], op: String) {
        let rank = max(a.count, b.count, 1)
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        var shape = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            precondition(pa[i] == pb[i] || pa[i] == 1 || pb[i] == 1,
                         "\(op): shapes \(a) and \(b) do not broadcast (dimension \(i - rank))")
            shape[i] = pa[i] == 1 ? pb[i] : pa[i]
        }
        func strides(_ padded: [Int]) -> [Int] {
            zip(contiguousStrides(padded), padded).map { stride, size in size == 1 ? 0 : stride }
        }
        self.shape = shape
        stridesA = strides(pa)
        stridesB = strides(pb)
    }

    var count: Int { shape.reduce(1, *) }
    var rowLength: Int { shape.last! }
    var innerStrideA: Int { stridesA.last! }
    var innerStrideB: Int { stridesB.last! }

    /// Calls `body(outOffset, aOffset, bOffset)` for the start of every output row.
    func forEachRow(_ body: (Int, Int, Int) -> Void) {
        forEachStridedRow(shape: shape, stridesA: stridesA, stridesB: stridesB) { row, a, b in body(row * rowLength, a, b) }
    }
}

/// Calls `body(row, offsetA, offsetB)` for every row (all indices but the last) of `shape` in
/// row-major order, where each offset is that row's index dotted with its strides.
func forEachStridedRow(shape: [Int], stridesA: [Int], stridesB: [Int], _ body: (Int, Int, Int) -> Void) {
    let count = shape.reduce(1, *)
    guard let rowLength = shape.last else { return count == 1 ? body(0, 0, 0) : () }
    guard rowLength > 0 else { return }
    let outer = shape.count - 1
    var index = [Int](repeating: 0, count: outer)
    var offsetA = 0, offsetB = 0
    for row in 0..<(count / rowLength) {
        body(row, offsetA, offsetB)
        // Advance the odometer over the outer dimensions.
        var d = outer - 1
        while d >= 0 {
            index[d] += 1
            offsetA += stridesA[d]
            offsetB += stridesB[d]
            if index[d] < shape[d] { break }
            offsetA -= stridesA[d] * shape[d]
            offsetB -= stridesB[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
}

enum BinaryKind { case add, subtract, multiply }

/// a + b, with broadcasting.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.add, a, b) }
/// a - b, with broadcasting.
public func subtract(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.subtract, a, b) }
/// a * b (element-wise), with broadcasting.
public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.multiply, a, b) }

public func + (a: Tensor, b: Tensor) -> Tensor { add(a, b) }
public func - (a: Tensor, b: Tensor) -> Tensor { subtract(a, b) }
public func * (a: Tensor, b: Tensor) -> Tensor { multiply(a, b) }

private func binary(_ kind: BinaryKind, _ a: Tensor, _ b: Tensor) -> Tensor {
    Op.run(kind == .multiply ? "multiply" : kind == .add ? "add" : "subtract") { op in
        if a.shape == b.shape { return sameShape(kind, a, b, op) }
        let bc = Broadcast(a.shape, b.shape, op: "\(kind)")
        let out = Tensor(uninitialized: bc.shape)
        let (x, y, z) = (a.data, b.data, out.data)
        let (n, sa, sb) = (bc.rowLength, bc.innerStrideA, bc.innerStrideB)
        // out[row] = a[row] (op) b[row], operands strided by 1 or 0 (stretched)
        bc.forEachRow { o, ia, ib in
            switch kind {
            case .add: for j in 0..<n { z[o + j] = x[ia + j * sa] + y[ib + j * sb] }
            case .subtract: for j in 0..<n { z[o + j] = x[ia + j * sa] - y[ib + j * sb] }
            case .multiply: for j in 0..<n { z[o + j] = x[ia + j * sa] * y[ib + j * sb] }
            }
        }
        op.record(out, inputs: [a, b]) { dz in
            // Each input's gradient sums the output gradient over the dimensions it was stretched in.
            if a.requiresGrad {
                let dx = a.grad
                bc.forEachRow { o, ia, ib in
                    switch kind {
                    case .add, .subtract: for j in 0..<n { dx[ia + j * sa] += dz[o + j] }
                    case .multiply: for j in 0..<n { dx[ia + j * sa] += dz[o + j] * y[ib + j * sb] }
                    }
                }
            }
            if b.requiresGrad {
                let dy = b.grad
                bc.forEachRow { o, ia, ib in
                    switch kind {
                    case .add: for j in 0..<n { dy[ib + j * sb] += dz[o + j] }
                    case .subtract: for j in 0..<n { dy[ib + j * sb] -= dz[o + j] }
                    case .multiply: for j in 0..<n { dy[ib + j * sb] += dz[o + j] * x[ia + j * sa] }
                    }
                }
            }
        }
        return out
    }
}

/// The common case of equal shapes: plain loops the compiler vectorises, split across cores.
private func sameShape(_ kind: BinaryKind, _ a: Tensor, _ b: Tensor, _ op: Op) -> Tensor {
    let out = Tensor(uninitialized: a.shape)
    let (x, y, z) = (a.data, b.data, out.data)
    Parallel.forEach(a.count) { r in
        switch kind {
        case .add: for i in r { z[i] = x[i] + y[i] }
        case .subtract: for i in r { z[i] = x[i] - y[i] }
        case .multiply: for i in r { z[i] = x[i] * y[i] }
        }
    }
    op.record(out, inputs: [a, b]) { dz in
        if a.requiresGrad {
            let dx = a.grad
            Parallel.forEach(a.count) { r in
                switch kind {
                case .add, .subtract: for i in r { dx[i] += dz[i] }
                case .multiply: for i in r { dx[i] += dz[i] * y[i] }
                }
            }
        }
        if b.requiresGrad {
            let dy = b.grad
            Parallel.forEach(a.count) { r in
                switch kind {
                case .add: for i in r { dy[i] += dz[i] }
                case .subtract: for i in r { dy[i] -= dz[i] }
                case .multiply: for i in r { dy[i] += dz[i] * x[i] }
                }
            }
        }
    }
    return out
}

// MARK: - Scale

/// x * factor.
public func scale(_ x: Tensor, _ factor: Float) -> Tensor {
    Op.run("scale") { op in
        let y = Tensor(uninitialized: x.shape)
        let (xp, yp) = (x.data, y.data)
        Parallel.forEach(x.count) { r in for i in r { yp[i] = xp[i] * factor } }
        op.record(y, inputs: [x]) { dy in
            let dx = x.grad
            Parallel.forEach(x.count) { r in for i in r { dx[i] += dy[i] * factor } }
        }
        return y
    }
}

public func * (x: Tensor, factor: Float) -> Tensor { scale(x, factor) }

// MARK: - Activations

/// The activation functions of the `transformers` configs (`hidden_act`).
public enum Activation: String, CaseIterable, Sendable {
    /// Exact GELU, 0.5 x (1 + erf(x / √2)).
    case gelu
    /// GELU's tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
    case geluTanh = "gelu_tanh"
    /// x σ(1.702 x), as in OpenAI's CLIP.
    case quickGelu = "quick_gelu"
    case relu
    /// x σ(x).
    case silu
    case tanh

    /// Accepts the names `transformers` configs use for the same functions.
    public init?(configName: String) {
        switch configName {
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "swish": self = .silu
        default: self.init(rawValue: configName)
        }
    }
}

/// The forward and backward loops of each activation (one `switch` per call, none per element).
enum ActivationKernel {
    static let sqrtHalf: Float = 0.70710678118654752
    static let invSqrt2Pi: Float = 0.39894228040143268
    static let sqrt2OverPi: Float = 0.79788456080286536

    // y[n] = f(x[n])
    static func forward(_ kind: Activation, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
        switch kind {
        case .gelu: for i in 0..<n { y[i] = 0.5 * x[i] * (1 + FastMath.erf(x[i] * sqrtHalf)) }
        case .geluTanh:
            for i in 0..<n {
                let v = x[i]
                y[i] = 0.5 * v * (1 + tanhf(sqrt2OverPi * (v + 0.044715 * v * v * v)))
            }
        case .quickGelu: for i in 0..<n { y[i] = x[i] / (1 + FastMath.exp(-1.702 * x[i])) }
        case .relu: for i in 0..<n { y[i] = max(x[i], 0) }
        case .silu: for i in 0..<n { y[i] = x[i] / (1 + FastMath.exp(-x[i])) }
        case .tanh: for i in 0..<n { y[i] = tanhf(x[i]) }
        }
    }

    // dx[n] += f'(x[n]) * dy[n]
    static func backward(_ kind: Activation, _ dx: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                         _ dy: UnsafePointer<Float>, _ n: Int) {
        switch kind {
        case .gelu:
            for i in 0..<n {
                let v = x[i]
                let cdf = 0.5 * (1 + FastMath.erf(v * sqrtHalf))
                let pdf = invSqrt2Pi * FastMath.exp(-0.5 * v * v)
                dx[i] += dy[i] * (cdf + v * pdf)
            }
        case .geluTanh:
            for i in 0..<n {
                let v = x[i]
                let inner = sqrt2OverPi * (v + 0.044715 * v * v * v)
                let t = tanhf(inner)
                let dInner = sqrt2OverPi * (1 + 3 * 0.044715 * v * v)
                dx[i] += dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * dInner)
            }
        case .quickGelu:
            for i in 0..<n {
                let s = 1 / (1 + FastMath.exp(-1.702 * x[i]))
                dx[i] += dy[i] * (s + 1.702 * x[i] * s * (1 - s))
            }
        case .relu: for i in 0..<n where x[i] > 0 { dx[i] += dy[i] }
        case .silu:
            for i in 0..<n {
                let s = 1 / (1 + FastMath.exp(-x[i]))
                dx[i] += dy[i] * s * (1 + x[i] * (1 - s))
            }
        case .tanh:
            for i in 0..<n {
                let t = tanhf(x[i])
                dx[i] += dy[i] * (1 - t * t)
            }
        }
    }
}

/// f(x) element-wise.
public func activation(_ x: Tensor, _ kind: Activation) -> Tensor {
    Op.run("activation") { op in
        let y = Tensor(uninitialized: x.shape)
        let (yp, xp) = (y.data, x.data)
        Parallel.forEach(x.count) { r in ActivationKernel.forward(kind, yp + r.lowerBound, xp + r.lowerBound, r.count) }
        op.record(y, inputs: [x]) { dy in
            let dx = x.grad
            Parallel.forEach(x.count) { r in ActivationKernel.backward(kind, dx + r.lowerBound, xp + r.lowerBound, dy + r.lowerBound, r.count) }
        }
        return y
    }
}

public func gelu(_ x: Tensor) -> Tensor { activation(x, .gelu) }
public func relu(_ x: Tensor) -> Tensor { activation(x, .relu) }
public func silu(_ x: Tensor) -> Tensor { activation(x, .silu) }
public func tanh(_ x: Tensor) -> Tensor { activation(x, .tanh) }

/// LLaMA's gated MLP activation, silu(gate) * up, in one pass.
/// - gate, up: the same shape; returns that shape.
public func swiglu(gate: Tensor, up: Tensor) -> Tensor {
    Op.run("swiglu") { op in
        precondition(gate.shape == up.shape, "swiglu of gate \(gate.shape) and up \(up.shape): shapes differ")
        let y = Tensor(uninitialized: gate.shape)
        let (g, u, o) = (gate.data, up.data, y.data)
        let recording = Autodiff.needsGradient(gate, up)
        // sigmoid(gate): [count], kept for backward so that it needs no exponentials
        let sigmoid = Storage(count: recording ? y.count : 0, zeroed: false)
        let s = sigmoid.pointer
        Parallel.forEach(y.count) { r in
            if recording {
                for i in r {
                    s[i] = 1 / (1 + FastMath.exp(-g[i]))
                    o[i] = g[i] * s[i] * u[i]
                }
            } else {
                for i in r { o[i] = g[i] / (1 + FastMath.exp(-g[i])) * u[i] }
            }
        }
        op.record(y, inputs: [gate, up]) { dy in
            withExtendedLifetime(sigmoid) {}
            // Separate loops, so that each vectorises.
            if gate.requiresGrad {
                let dg = gate.grad
                Parallel.forEach(y.count) { r in for i in r { dg[i] += dy[i] * u[i] * s[i] * (1 + g[i] * (1 - s[i])) } }
            }
            if up.requiresGrad {
                let du = up.grad
                Parallel.forEach(y.count) { r in for i in r { du[i] += dy[i] * g[i] * s[i] } }
            }
        }
        return y
    }
}
