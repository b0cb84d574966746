import Foundation

/// AdamW with decoupled weight decay, step for step as `torch.optim.AdamW` (single-tensor path):
/// p *= 1 - lr wd; m = lerp(m, g, 1 - β1); v = β2 v + (1 - β2) g²;
/// p -= lr / (1 - β1^t) * m / (sqrt(v) / sqrt(1 - β2^t) + eps).
///
/// Gradients accumulate in each parameter's `grad` until `zeroGradients()`, so several backward
/// passes before one `step` is gradient accumulation.
public final class AdamW {
    public let parameters: [Tensor]
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    /// Whether weight decay applies to each parameter (by default matrices yes, vectors no, as the
    /// `transformers` Trainer leaves biases and norm weights undecayed).
    public let decays: [Bool]
    /// First and second moments, one buffer per parameter.
    private let firstMoments: [Storage], secondMoments: [Storage]
    /// Optimizer steps taken.
    public private(set) var stepCount = 0

    public init(
        parameters: [Tensor], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0.01, decays: (Tensor) -> Bool = { $0.rank >= 2 }
    ) {
        precondition(parameters.allSatisfy(\.requiresGrad), "AdamW given a parameter that is not trainable")
        self.parameters = parameters
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decays = parameters.map(decays)
        firstMoments = parameters.map { Storage(count: $0.count) }
        secondMoments = parameters.map { Storage(count: $0.count) }
    }

    /// One update of every parameter from its accumulated gradient (a parameter with no gradient
    /// buffer counts as a zero gradient, as in PyTorch after `zero_grad(set_to_none=False)`).
    public func step(learningRate lr: Float) {
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = Float(Double(lr) / (1 - pow(Double(beta1), t)))
        let correction2Root = Float((1 - pow(Double(beta2), t)).squareRoot())
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        for (index, p) in parameters.enumerated() {
            let w = p.data, g = p.grad
            let m = firstMoments[index].pointer, v = secondMoments[index].pointer
            let shrink = decays[index] ? Float(1 - Double(lr) * Double(weightDecay)) : 1
            Parallel.forEach(p.count) { range in
                for i in range {
                    w[i] *= shrink
                    m[i] += (g[i] - m[i]) * (1 - b1)
                    v[i] = v[i] * b2 + (1 - b2) * g[i] * g[i]
                    w[i] -= stepSize * (m[i] / (v[i].squareRoot() / correction2Root + eps))
                }
            }
        }
    }

    /// Clears every parameter's gradient.
    public func zeroGradients() {
        for p in parameters { p.zeroGrad() }
    }

    /// The moments and step count, by parameter name, for a checkpoint.
    public func stateTensors() -> [String: Tensor] {
        var state: [String: Tensor] = ["step": Tensor(shape: [], values: [Float(stepCount)])]
        for (index, p) in parameters.enumerated() {
            let name = p.name ?? "parameter.\(index)"
            state["exp_avg.\(name)"] = Tensor(shape: p.shape, values: Array(UnsafeBufferPointer(start: firstMoments[index].pointer, count: p.count)))
            state["exp_avg_sq.\(name)"] = Tensor(shape: p.shape, values: Array(UnsafeBufferPointer(start: secondMoments[index].pointer, count: p.count)))
        }
        return state
    }

    /// Restores what `stateTensors()` saved, for the same parameters.
    public func loadState(_ state: [String: Tensor]) throws {
        guard let step = state["step"] else { throw OptimizerStateError.missing("step") }
        for (index, p) in parameters.enumerated() {
            let name = p.name ?? "parameter.\(index)"
            for (key, storage) in [("exp_avg.\(name)", firstMoments[index]), ("exp_avg_sq.\(name)", secondMoments[index])] {
                guard let saved = state[key] else { throw OptimizerStateError.missing(key) }
                guard saved.shape == p.shape else { throw OptimizerStateError.shape(key, saved.shape, p.shape) }
                storage.pointer.update(from: saved.data, count: p.count)
            }
        }
        stepCount = Int(step.scalar)
    }
}

public enum OptimizerStateError: Error, CustomStringConvertible {
    case missing(String)
    case shape(String, [Int], [Int])

    public var description: String {
        switch self {
        case .missing(let key): return "optimizer state has no \(key)"
        case .shape(let key, let saved, let expected): return "optimizer state \(key) has shape \(saved), the parameter \(expected)"
        }
    }
}

/// Learning rate by step: linear warm-up from 0 to `peak`, then constant, linear or cosine decay
/// to 0 at `totalSteps`, as `transformers`' `get_*_schedule_with_warmup`.
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Decay: String, Sendable, CaseIterable, Codable { case constant, linear, cosine }

    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, decay: Decay) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decay = decay
    }

    /// The rate for the update that follows `step` completed updates.
    public func rate(atStep step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step) / Float(max(1, warmupSteps)) }
        let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
        switch decay {
        case .constant: return peak
        case .linear: return peak * Float(max(0, 1 - progress))
        case .cosine: return peak * Float(max(0, 0.5 * (1 + cos(Double.pi * progress))))
        }
    }
}

/// Scales all gradients together so that their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_`. Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var squares = 0.0
    for p in parameters {
        guard let g = p.gradStorage?.pointer else { continue }
        for i in 0..<p.count { squares += Double(g[i]) * Double(g[i]) }
    }
    let norm = Float(squares.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for p in parameters {
            guard let g = p.gradStorage?.pointer else { continue }
            for i in 0..<p.count { g[i] *= coefficient }
        }
    }
    return norm
}
