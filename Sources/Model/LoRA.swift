import Engine
import Foundation

/// LoRA as `peft` configures it.
public struct LoRAConfig: Codable, Hashable, Sendable {
    /// Rank r of the update B A.
    public var r: Int
    public var loraAlpha: Float
    /// Module names (a name matches a module whose path equals it or ends with "." + it), or,
    /// when `targetPattern` is set instead, a regular expression the whole path must match.
    public var targetModules: [String]
    public var targetPattern: String?
    public var loraDropout: Float
    /// rsLoRA: scale by alpha / sqrt(r) instead of alpha / r.
    public var useRslora: Bool

    public init(r: Int, loraAlpha: Float, targetModules: [String], targetPattern: String? = nil,
                loraDropout: Float = 0, useRslora: Bool = false) {
        self.r = r
        self.loraAlpha = loraAlpha
        self.targetModules = targetModules
        self.targetPattern = targetPattern
        self.loraDropout = loraDropout
        self.useRslora = useRslora
    }

    public var scaling: Float { useRslora ? loraAlpha / Float(r).squareRoot() : loraAlpha / Float(r) }

    /// Whether the module at `path` gets an adapter (peft's `check_target_module_exists`).
    public func targets(_ path: String) -> Bool {
        if let targetPattern {
            guard let regex = try? NSRegularExpression(pattern: "^(?:\(targetPattern))$") else { return false }
            return regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
        }
        return targetModules.contains { path == $0 || path.hasSuffix(".\($0)") }
    }
}

/// The low-rank update beside one `Linear`: y += scaling * B(A(dropout(x))).
public final class LoRAAdapter {
    /// `<module>.lora_A.weight`: `[r, in]`, uniform in ±1/sqrt(in) (peft's Kaiming-uniform with a = sqrt(5)).
    public let a: Tensor
    /// `<module>.lora_B.weight`: `[out, r]`, zeros, so that training starts from the base model.
    public let b: Tensor
    public let scaling: Float
    public let dropout: Float
    /// Whether `scaling * B A` has been added into the base weight.
    public internal(set) var isMerged = false

    init(a: Tensor, b: Tensor, scaling: Float, dropout: Float) {
        self.a = a
        self.b = b
        self.scaling = scaling
        self.dropout = dropout
    }
}

extension Linear {
    /// Attaches a fresh adapter (A from `rng`, B zero).
    func attachLoRA(_ config: LoRAConfig, rng: inout SeededGenerator) {
        precondition(lora == nil, "\(name) already has a LoRA adapter")
        let bound = 1 / Float(inFeatures).squareRoot()
        let a = Tensor.randomUniform([config.r, inFeatures], low: -bound, high: bound, using: &rng,
                                     requiresGrad: true, name: "\(name).lora_A.weight")
        let b = Tensor(zeros: [outFeatures, config.r], requiresGrad: true, name: "\(name).lora_B.weight")
        lora = LoRAAdapter(a: a, b: b, scaling: config.scaling, dropout: config.loraDropout)
    }

    /// W += sign * scaling * B A, in place, outside the graph.
    func applyLoRADelta(sign: Float) {
        guard let lora else { return }
        BLAS.sgemm(transposeA: false, transposeB: false, m: outFeatures, n: inFeatures, k: lora.a.shape[0],
                   alpha: sign * lora.scaling, a: lora.b.data, lda: lora.a.shape[0], b: lora.a.data, ldb: inFeatures,
                   beta: 1, c: weight.data, ldc: inFeatures)
    }
}
