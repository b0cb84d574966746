import Foundation
import Synchronization

/// One recorded op: the inputs it read and how to carry its output's gradient back to them.
///
/// Nodes are numbered in the order they are created, so the recorded ops form a tape:
/// replaying it from the highest number down visits every op after all of its consumers.
final class Node {
    let sequence: Int
    let op: StaticString
    let inputs: [Tensor]
    /// Adds the input gradients implied by the output gradient `gradOut` (same shape as the output).
    let backward: (_ gradOut: UnsafeMutablePointer<Float>) -> Void

    init(op: StaticString, inputs: [Tensor], backward: @escaping (UnsafeMutablePointer<Float>) -> Void) {
        self.sequence = Autodiff.nextSequence.add(1, ordering: .relaxed).oldValue
        self.op = op
        self.inputs = inputs
        self.backward = backward
    }
}

/// Reverse-mode automatic differentiation over coarse ops.
public enum Autodiff {
    /// Whether ops record themselves for backward; off inside `withoutGradients`.
    @TaskLocal public static var isRecording = true

    static let nextSequence = Atomic<Int>(0)

    /// Runs `body` without recording ops (evaluation, generation): no graph, no saved buffers.
    public static func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
        try $isRecording.withValue(false, operation: body)
    }

    /// Whether an op over these inputs must record its backward.
    public static func needsGradient(_ inputs: Tensor...) -> Bool {
        isRecording && inputs.contains { $0.requiresGrad }
    }

    static func needsGradient(_ inputs: [Tensor]) -> Bool {
        isRecording && inputs.contains { $0.requiresGrad }
    }
}

/// The context an op's forward code runs in: it names the op for the profiler and the tape.
public struct Op {
    public let name: StaticString

    /// Runs an op's forward code, timed when a profiler is installed.
    @inline(__always)
    public static func run<T>(_ name: StaticString, _ forward: (Op) -> T) -> T {
        guard let profiler = OpProfiler.current else { return forward(Op(name: name)) }
        let start = monotonicSeconds()
        let result = forward(Op(name: name))
        profiler.add(op: name, phase: .forward, seconds: monotonicSeconds() - start)
        return result
    }

    /// Records `output` as computed from `inputs`, when any of them needs a gradient.
    /// The backward closure receives the output gradient and must *add* into the inputs' `grad`,
    /// touching only inputs whose `requiresGrad` is set.
    public func record(
        _ output: Tensor, inputs: [Tensor],
        backward: @escaping (_ gradOut: UnsafeMutablePointer<Float>) -> Void
    ) {
        guard Autodiff.needsGradient(inputs) else { return }
        output.requiresGrad = true
        output.node = Node(op: name, inputs: inputs, backward: backward)
    }
}

extension Tensor {
    /// Whether this tensor was produced by a recorded op whose backward has not yet run.
    public var hasGraph: Bool { node != nil }

    /// Back-propagates from this one-element tensor: adds `seed` times d(self)/d(leaf) into the
    /// `grad` of every leaf that requires a gradient. Gradients accumulate across calls (that is how
    /// gradient accumulation works); the graph and intermediate gradients are freed as it goes.
    public func backward(seed: Float = 1) {
        precondition(count == 1, "backward from a tensor of shape \(shape); reduce it to one value first")
        precondition(node != nil || requiresGrad, "backward from a value that depends on no trainable tensor")
        grad[0] += seed

        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [Tensor] = [self]
        while let tensor = stack.popLast() {
            guard let node = tensor.node, visited.insert(ObjectIdentifier(node)).inserted else { continue }
            order.append(tensor)
            for input in node.inputs where input.requiresGrad { stack.append(input) }
        }
        order.sort { $0.node!.sequence > $1.node!.sequence }

        let profiler = OpProfiler.current
        for tensor in order {
            let node = tensor.node!
            let gradOut = tensor.grad
            if let profiler {
                let start = monotonicSeconds()
                node.backward(gradOut)
                profiler.add(op: node.op, phase: .backward, seconds: monotonicSeconds() - start)
            } else {
                node.backward(gradOut)
            }
            // The op is done: release its saved buffers and this intermediate gradient.
            tensor.node = nil
            tensor.zeroGrad()
        }
    }
}

/// Seconds on the monotonic clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
