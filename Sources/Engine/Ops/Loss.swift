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
/// - logits: `[..., V]`; targets: one per row of logits, or with `rows` any number, target i
///   reading row `rows[i]` (a row that stands for several words), each row's softmax computed once.
/// - weights: one per target; when given, the result is the weighted sum over counted targets and
///   `reduction` is not used (this is how several micro-batches' mean losses become one loss).
public func crossEntropy(_ logits: Tensor, targets: [Int32], rows targetRows: [Int]? = nil, weights: [Float]? = nil,
                         reduction: Reduction = .mean) -> Tensor {
    Op.run("cross_entropy") { op in
        let v = logits.shape.last ?? 1
        let rows = logits.count / max(v, 1)
        if let targetRows {
            precondition(targetRows.count == targets.count, "cross entropy has \(targetRows.count) rows for \(targets.count) targets")
            precondition(targetRows.allSatisfy { $0 >= 0 && $0 < rows }, "cross entropy: a target's row is outside the \(rows) rows of \(logits.shape)")
        } else {
            precondition(targets.count == rows, "cross entropy has \(targets.count) targets for \(rows) rows of logits \(logits.shape)")
        }
        if let weights { precondition(weights.count == targets.count, "cross entropy has \(weights.count) weights for \(targets.count) targets") }
        func row(of i: Int) -> Int { targetRows?[i] ?? i }
        // logSumExp: [rows], kept for backward (NaN for a row no counted target reads)
        var logSumExp = [Float](repeating: .nan, count: rows)
        var total = 0.0
        var counted = 0
        for i in targets.indices where targets[i] != ignoreIndex {
            let target = Int(targets[i])
            precondition(target >= 0 && target < v, "cross entropy target \(target) outside 0..<\(v)")
            let r = row(of: i), values = logits.data + r * v
            if logSumExp[r].isNaN { logSumExp[r] = Engine.logSumExp(values, count: v) }
            total += Double(logSumExp[r] - values[target]) * Double(weights?[i] ?? 1)
            counted += 1
        }
        let divisor: Float = reduction == .mean && weights == nil ? Float(counted) : 1
        let y = Tensor(shape: [], values: [Float(total) / divisor])
        op.record(y, inputs: [logits]) { dy in
            // dlogits = (softmax - onehot(target)) * dy * weight / divisor, summed over a row's targets
            let dx = logits.grad
            let softmax = UnsafeMutablePointer<Float>.allocate(capacity: v)
            defer { softmax.deallocate() }
            var softmaxRow = -1
            for i in targets.indices where targets[i] != ignoreIndex {
                let r = row(of: i), target = Int(targets[i])
                let values = logits.data + r * v, drow = dx + r * v
                if r != softmaxRow {
                    for j in 0..<v { softmax[j] = FastMath.exp(values[j] - logSumExp[r]) }
                    softmaxRow = r
                }
                let g = dy[0] * (weights?[i] ?? 1) / divisor
                let before = drow[target]
                for j in 0..<v { drow[j] += g * softmax[j] }
                // A shared row takes each target's gradient whole (as a copy of the row per target
                // would, summed); one target per row subtracts after adding, as it always has.
                drow[target] = targetRows == nil ? drow[target] - g : before + (g * softmax[target] - g)
            }
        }
        return y
    }
}
