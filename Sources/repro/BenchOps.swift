import ArgumentParser
import Engine
import Foundation

/// Times one LLaMA-style transformer block, forward and backward, and where the time goes.
struct BenchOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "Times one transformer block (RMSNorm, causal attention with RoPE, SwiGLU MLP) forward and backward.",
        discussion: "Prints the time per step, the share spent in sgemm and outside it, and a per-op table.")

    @Option(help: "Residual width.") var width = 256
    @Option(help: "Sequence length.") var sequence = 96
    @Option(help: "Batch size.") var batch = 2
    @Option(help: "Attention heads.") var heads = 4
    @Option(help: "MLP intermediate size (LLaMA's 8/3 x width, rounded to 64).") var intermediate = 704
    @Option(help: "Seconds to time for (after three warm-up steps).") var seconds = 2.0
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard width > 0, sequence > 0, batch > 0, heads > 0, intermediate > 0 else {
            throw ValidationError("sizes must be positive")
        }
        guard width % heads == 0, (width / heads) % 2 == 0 else {
            throw ValidationError("--heads \(heads) must divide --width \(width) into an even head size")
        }
    }

    func run() throws {
        let block = TransformerBlock(width: width, heads: heads, intermediate: intermediate)
        var rng = SeededGenerator(seed: 7)
        let input = Tensor.randomNormal([batch, sequence, width], std: 1, using: &rng, requiresGrad: true)
        // A fixed random projection makes the loss depend on every output.
        let probe = Tensor.randomNormal([batch, sequence, width], std: 1, using: &rng)

        func step() {
            let loss = sum(block.forward(input) * probe)
            loss.backward()
            block.zeroGradients()
            input.zeroGrad()
        }
        for _ in 0..<3 { step() }

        // Plain timing first, then the same steps under the profiler for the breakdown.
        let plain = timeRepeatedly(seconds: seconds, step)
        let profiler = OpProfiler()
        let profiled = OpProfiler.$current.withValue(profiler) { timeRepeatedly(seconds: seconds, step) }
        let report = profiler.report
        let gemmShare = report.gemmSeconds / profiled.seconds
        let perStep = plain.seconds / Double(plain.count)

        if output.json {
            var ops: [String: Any] = [:]
            for (name, phases) in report.ops {
                ops[name] = Dictionary(uniqueKeysWithValues: phases.map { ($0.key.rawValue, $0.value.seconds / Double(profiled.count) * 1e3) })
            }
            let payload: [String: Any] = [
                "config": ["width": width, "sequence": sequence, "batch": batch, "heads": heads, "intermediate": intermediate],
                "kernel": BLASKernel.selection.coreName, "threads": BLAS.threads,
                "step_ms": perStep * 1e3, "sgemm_share": gemmShare, "outside_sgemm_share": 1 - gemmShare,
                "sgemm_gflops": report.gemmFlops / report.gemmSeconds / 1e9, "ops_ms_per_step": ops,
            ]
            return try output.printJSON(payload)
        }
        print("block    width \(width), sequence \(sequence), batch \(batch), heads \(heads), intermediate \(intermediate)")
        print("kernel   \(BLASKernel.selection.coreName), \(BLAS.threads) threads")
        print(String(format: "step     %.2f ms forward + backward (%d steps timed)", perStep * 1e3, plain.count))
        print(String(format: "sgemm    %.1f%% of the profiled time at %.1f GFLOP/s; outside sgemm %.1f%%",
                     gemmShare * 100, report.gemmFlops / report.gemmSeconds / 1e9, (1 - gemmShare) * 100))
        print("")
        print(report.opTable(steps: profiled.count))
    }
}

/// A pre-norm LLaMA decoder block built from engine ops, for benchmarking.
struct TransformerBlock {
    let heads: Int
    let attentionNorm, query, key, value, output, mlpNorm, gate, up, down: Tensor

    init(width: Int, heads: Int, intermediate: Int) {
        var rng = SeededGenerator(seed: 3)
        func matrix(_ rows: Int, _ cols: Int) -> Tensor {
            Tensor.randomNormal([rows, cols], std: 0.02, using: &rng, requiresGrad: true)
        }
        self.heads = heads
        attentionNorm = Tensor(shape: [width], filledWith: 1, requiresGrad: true)
        mlpNorm = Tensor(shape: [width], filledWith: 1, requiresGrad: true)
        query = matrix(width, width)
        key = matrix(width, width)
        value = matrix(width, width)
        output = matrix(width, width)
        gate = matrix(intermediate, width)
        up = matrix(intermediate, width)
        down = matrix(width, intermediate)
    }

    var parameters: [Tensor] { [attentionNorm, query, key, value, output, mlpNorm, gate, up, down] }

    func zeroGradients() { for p in parameters { p.zeroGrad() } }

    // x: [B, T, C] -> [B, T, C]
    func forward(_ x: Tensor) -> Tensor {
        let (b, t, c) = (x.shape[0], x.shape[1], x.shape[2])
        let headShape = [b, t, heads, c / heads]
        let positions = (0..<t).map(Int32.init)
        let h = rmsNorm(x, weight: attentionNorm, eps: 1e-6)
        let q = rotaryEmbedding(reshape(linear(h, weight: query), headShape), positions: positions, theta: 10000)
        let k = rotaryEmbedding(reshape(linear(h, weight: key), headShape), positions: positions, theta: 10000)
        let v = reshape(linear(h, weight: value), headShape)
        let attended = reshape(attention(query: q, key: k, value: v, causal: true), [b, t, c])
        let residual = x + linear(attended, weight: output)
        let m = rmsNorm(residual, weight: mlpNorm, eps: 1e-6)
        let mlp = linear(swiglu(gate: linear(m, weight: gate), up: linear(m, weight: up)), weight: down)
        return residual + mlp
    }
}
