import Engine

/// Whether a forward pass trains (dropout on) and where its dropout masks come from.
public final class ForwardContext {
    public let isTraining: Bool
    private var rng: SeededGenerator

    public init(training: Bool, rng: SeededGenerator) {
        self.isTraining = training
        self.rng = rng
    }

    /// Evaluation: no dropout, no randomness.
    public static func evaluation() -> ForwardContext { ForwardContext(training: false, rng: SeededGenerator(seed: 0)) }

    /// While training, `x` plus Gaussian noise whose standard deviation is `relative` times the
    /// root mean square of each row (the last axis); the identity otherwise.
    public func rowNoise(_ x: Tensor, relative: Float) -> Tensor {
        guard isTraining, relative > 0 else { return x }
        let width = x.shape[x.rank - 1]
        let noise = Tensor.randomNormal(x.shape, std: 1, using: &rng)
        for row in 0..<(x.count / width) {
            let values = UnsafeBufferPointer(start: x.data + row * width, count: width)
            let rms = (values.reduce(0) { $0 + $1 * $1 } / Float(width)).squareRoot()
            for j in 0..<width { noise.data[row * width + j] *= relative * rms }
        }
        return x + noise
    }

    /// Dropout while training, the identity otherwise.
    func dropout(_ x: Tensor, _ probability: Float) -> Tensor {
        guard isTraining, probability > 0 else { return x }
        return Engine.dropout(x, probability: probability, using: &rng)
    }
}

/// Creates parameters under their full `transformers` names. Each tensor's initial values come
/// from a random stream named after it, so they do not depend on construction order.
public final class ParameterBuilder {
    private let seed: SeededGenerator
    public private(set) var created: [Tensor] = []
    public private(set) var linears: [Linear] = []

    public init(seed: UInt64) { self.seed = SeededGenerator(seed: seed) }

    public func scope(_ prefix: String) -> ParameterScope { ParameterScope(builder: self, prefix: prefix) }

    func make(_ name: String, _ shape: [Int], _ initial: Initial) -> Tensor {
        let tensor: Tensor
        var rng = seed.fork(name)
        switch initial {
        case .zeros: tensor = Tensor(zeros: shape, requiresGrad: true, name: name)
        case .ones: tensor = Tensor(shape: shape, filledWith: 1, requiresGrad: true, name: name)
        case .normal(let std): tensor = Tensor.randomNormal(shape, std: std, using: &rng, requiresGrad: true, name: name)
        case .truncatedNormal(let std):
            // Redraws beyond two standard deviations, as torch's trunc_normal_ with a = -2std, b = 2std.
            tensor = Tensor(zeros: shape, requiresGrad: true, name: name)
            for i in 0..<tensor.count {
                var v: Float
                repeat { v = rng.nextNormal() } while abs(v) > 2
                tensor.data[i] = v * std
            }
        }
        created.append(tensor)
        return tensor
    }

    func register(_ linear: Linear) { linears.append(linear) }

    enum Initial { case zeros, ones, normal(Float), truncatedNormal(Float) }
}

/// A name prefix within a `ParameterBuilder` ("vision_model.encoder.layers.0").
public struct ParameterScope {
    let builder: ParameterBuilder
    let prefix: String

    public func child(_ name: String) -> ParameterScope { ParameterScope(builder: builder, prefix: join(name)) }

    func join(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    func parameter(_ name: String, _ shape: [Int], _ initial: ParameterBuilder.Initial) -> Tensor {
        builder.make(join(name), shape, initial)
    }

    /// `nn.Linear(inFeatures, outFeatures)` with weights N(0, std) and zero bias (BERT and LLaMA init).
    func linear(_ name: String, _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, std: Float) -> Linear {
        let module = join(name)
        let linear = Linear(
            name: module,
            weight: builder.make("\(module).weight", [outFeatures, inFeatures], .normal(std)),
            bias: bias ? builder.make("\(module).bias", [outFeatures], .zeros) : nil)
        builder.register(linear)
        return linear
    }

    func layerNorm(_ name: String, _ width: Int, eps: Float) -> LayerNormModule {
        LayerNormModule(weight: parameter("\(name).weight", [width], .ones), bias: parameter("\(name).bias", [width], .zeros), eps: eps)
    }

    func rmsNorm(_ name: String, _ width: Int, eps: Float) -> RMSNormModule {
        RMSNormModule(weight: parameter("\(name).weight", [width], .ones), eps: eps)
    }
}

/// `nn.Linear`, with an optional LoRA adapter beside it.
public final class Linear {
    /// The module's path, e.g. `language_model.model.layers.0.self_attn.q_proj`.
    public let name: String
    public let weight: Tensor
    public let bias: Tensor?
    public internal(set) var lora: LoRAAdapter?

    init(name: String, weight: Tensor, bias: Tensor?) {
        self.name = name
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    // x: [..., in] -> [..., out]
    func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        guard let lora, !lora.isMerged else { return Engine.linear(x, weight: weight, bias: bias) }
        // peft: W x + b + scaling * B(A(dropout(x)))
        return Engine.linear(x, weight: weight, bias: bias, adapterInput: context.dropout(x, lora.dropout),
                             a: lora.a, b: lora.b, scaling: lora.scaling)
    }
}

/// `nn.LayerNorm` over the last dimension.
struct LayerNormModule {
    let weight: Tensor, bias: Tensor
    let eps: Float

    func callAsFunction(_ x: Tensor) -> Tensor { layerNorm(x, weight: weight, bias: bias, eps: eps) }
}

/// LLaMA's RMSNorm over the last dimension.
struct RMSNormModule {
    let weight: Tensor
    let eps: Float

    func callAsFunction(_ x: Tensor) -> Tensor { rmsNorm(x, weight: weight, eps: eps) }
}

/// Splits `[B, T, H*D]` into heads `[B, T, H, D]` (a view).
func splitHeads(_ x: Tensor, heads: Int) -> Tensor {
    reshape(x, [x.shape[0], x.shape[1], heads, x.shape[2] / heads])
}

/// Joins heads `[B, T, H, D]` back into `[B, T, H*D]` (a view).
func mergeHeads(_ x: Tensor) -> Tensor {
    reshape(x, [x.shape[0], x.shape[1], x.shape[2] * x.shape[3]])
}

/// A config's activation name, known to be valid once the config has passed `problems()`.
func activation(named name: String) -> Activation {
    guard let kind = Activation(configName: name) else { preconditionFailure("unchecked activation \(name)") }
    return kind
}
