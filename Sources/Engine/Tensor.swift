import Foundation

/// An owned, 64-byte aligned buffer of Float32. Tensors that are views of one another
/// (reshape) share a `Storage`; every op's output gets a fresh one.
public final class Storage {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// A buffer of `count` floats, zero-filled unless the caller overwrites every element itself.
    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "negative storage size \(count)")
        self.count = count
        let raw = BufferPool.take(bytes: byteCount(count))
        if zeroed { memset(raw, 0, byteCount(count)) }
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { BufferPool.give(UnsafeMutableRawPointer(pointer), bytes: byteCount(count)) }
}

/// The bytes a storage of `count` floats allocates (at least one float, so that the pointer is valid).
private func byteCount(_ count: Int) -> Int { max(count, 1) * MemoryLayout<Float>.stride }

/// A dense Float32 tensor in contiguous row-major order, and a node of the autodiff graph.
///
/// Tensors are reference types, as in PyTorch: an op's output remembers (through `node`)
/// how to carry its gradient back to its inputs, and parameters accumulate gradients in `grad`.
public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let storage: Storage
    /// A parameter's name (its key in checkpoints); nil for intermediate values.
    public var name: String?
    /// Whether gradients flow to this tensor. For a parameter this is its trainable flag.
    public var requiresGrad: Bool
    /// The gradient buffer, allocated (zeroed) on first use; same shape as the tensor.
    public private(set) var gradStorage: Storage?
    /// The recorded op that produced this tensor, while the graph is alive.
    var node: Node?

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false, name: String? = nil) {
        self.init(shape: shape, zeroed: true, requiresGrad: requiresGrad, name: name)
    }

    /// An op's output, whose kernel writes every element.
    convenience init(uninitialized shape: [Int]) {
        self.init(shape: shape, zeroed: false, requiresGrad: false, name: nil)
    }

    private init(shape: [Int], zeroed: Bool, requiresGrad: Bool, name: String?) {
        Tensor.checkShape(shape)
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = Storage(count: count, zeroed: zeroed)
        self.requiresGrad = requiresGrad
        self.name = name
    }

    /// A tensor with the given values in row-major order.
    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false, name: String? = nil) {
        self.init(zeros: shape, requiresGrad: requiresGrad, name: name)
        precondition(values.count == count, "\(values.count) values for shape \(shape) (\(count) elements)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// A tensor filled with one value.
    public convenience init(shape: [Int], filledWith value: Float, requiresGrad: Bool = false, name: String? = nil) {
        self.init(zeros: shape, requiresGrad: requiresGrad, name: name)
        data.update(repeating: value, count: count)
    }

    /// A view with another shape over the same storage (no copy, no graph).
    init(viewOf storage: Storage, shape: [Int]) {
        Tensor.checkShape(shape)
        self.shape = shape
        self.count = shape.reduce(1, *)
        precondition(count <= storage.count, "view of \(count) elements over storage of \(storage.count)")
        self.storage = storage
        self.requiresGrad = false
    }

    private static func checkShape(_ shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
    }

    public var data: UnsafeMutablePointer<Float> { storage.pointer }
    public var rank: Int { shape.count }

    /// The gradient, allocating a zeroed buffer on first access.
    public var grad: UnsafeMutablePointer<Float> {
        if let g = gradStorage { return g.pointer }
        let g = Storage(count: count)
        gradStorage = g
        return g.pointer
    }

    /// Takes over another tensor's gradient buffer (same element count), which that tensor releases
    /// once its own backward has run.
    func adoptGradient(_ gradient: Storage) {
        precondition(gradient.count == count && gradStorage == nil, "gradient of \(gradient.count) adopted by a tensor of \(count)")
        gradStorage = gradient
    }

    /// Drops the gradient buffer (the next access starts again from zero).
    public func zeroGrad() { gradStorage = nil }

    /// The values as an array (for tests, reports and small tensors).
    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// The gradient as an array, zeros if none was accumulated.
    public var gradValues: [Float] {
        guard let g = gradStorage else { return [Float](repeating: 0, count: count) }
        return Array(UnsafeBufferPointer(start: g.pointer, count: count))
    }

    /// The single value of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor with shape \(shape)")
        return data[0]
    }

    /// A copy of the values, outside the graph.
    public func detachedCopy() -> Tensor {
        let copy = Tensor(zeros: shape)
        copy.data.update(from: data, count: count)
        return copy
    }

    /// Overwrites the values (shapes must hold the same number of elements).
    public func copyValues(from other: Tensor) {
        precondition(other.count == count, "copy of \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = values.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor\(shape)[\(shown)\(count > 8 ? ", ..." : "")]"
    }
}

/// Row-major strides of a shape.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}
