import Foundation

/// How a loss over many tokens becomes one number.
public enum Reduction: Sendable {
    /// Mean over the counted tokens (NaN when none is counted, as PyTorch).
    case mean
    /// Sum over the counted tokens.
    case sum
}

/// log Σ exp(row[j]) over `count` values, shifted by the maximum so that no exponential overflows.
public func logSumExp(_ row: UnsafePointer<Float>, count: Int) -> Float {
    var maxValue = -Float.infinity
    for j in 0..<count { maxValue = max(maxValue, row[j]) }
    var sum: Float = 0
    for j in 0..<count { sum += FastMath.exp(row[j] - maxValue) }
    return maxValue + logf(sum)
}

/// The label that `transformers` uses for positions without a loss.
public let ignoreIndex: Int32 = -100

/// Token cross-entropy: -log softmax(logits)[target], skipping targets equal to `ignoreIndex`.
/// - logits: `[..., V]`; targets: one per row of logits. Returns a one-element tensor.
/// - weights: one per row; when given, the result is the weighted sum over counted rows and
///   `reduction` is not used (this is how several micro-batches' mean losses become one loss).
public func crossEntropy(_ logits: Tensor, targets: [Int32], weights: [Float]? = nil, reduction: Reduction = .mean) -> Tensor {
    Op.run("cross_entropy") { op in
        let v = logits.shape.last ?? 1
        let rows = logits.count / max(v, 1)
        precondition(targets.count == rows, "cross entropy has \(targets.count) targets for \(rows) rows of logits \(logits.shape)")
        if let weights { precondition(weights.count == rows, "cross entropy has \(weights.count) weights for \(rows) rows") }
        // logSumExp: [rows], kept for backward
        var logSumExp = [Float](repeating: 0, count: rows)
        var total = 0.0
        var counted = 0
        for r in 0..<rows where targets[r] != ignoreIndex {
            let target = Int(targets[r])
            precondition(target >= 0 && target < v, "cross entropy target \(target) outside 0..<\(v)")
            let row = logits.data + r * v
            let lse = Engine.logSumExp(row, count: v)
            logSumExp[r] = lse
            total += Double(lse - row[target]) * Double(weights?[r] ?? 1)
            counted += 1
        }
        let divisor: Float = reduction == .mean && weights == nil ? Float(counted) : 1
        let y = Tensor(shape: [], values: [Float(total) / divisor])
        op.record(y, inputs: [logits]) { dy in
            // dlogits = (softmax - onehot(target)) * dy * weight / divisor
            let dx = logits.grad
            for r in 0..<rows where targets[r] != ignoreIndex {
                let row = logits.data + r * v, drow = dx + r * v
                let lse = logSumExp[r]
                let g = dy[0] * (weights?[r] ?? 1) / divisor
                for j in 0..<v { drow[j] += g * FastMath.exp(row[j] - lse) }
                drow[Int(targets[r])] -= g
            }
        }
        return y
    }
}
