import Engine
import Foundation
import Testing

/// Checks an op's backward against central finite differences.
///
/// The loss is L = Σ f(inputs) ⊙ probe for a fixed random probe, so every output element counts.
/// The engine computes in Float32, so the differences are taken in Float32 with h = 1e-2 and L
/// summed in Float64: the rounding error of L (about 1e-6 relative over these tiny shapes)
/// divided by 2h stays near 1e-4, and the truncation error h² f''' /6 near 2e-5 for the smooth
/// ops here. A tolerance of 1e-3 absolute plus 1e-2 relative therefore separates a correct
/// backward from a wrong one (a missing term or factor is off by far more).
func checkGradients(
    _ inputs: [Tensor], step h: Float = 1e-2, absolute: Float = 1e-3, relative: Float = 1e-2,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ function: () -> Tensor
) {
    for input in inputs { input.requiresGrad = true; input.zeroGrad() }
    let output = function()
    var rng = SeededGenerator(seed: 42)
    let probe = Tensor.randomNormal(output.shape, std: 1, using: &rng)
    sum(output * probe).backward()
    let analytic = inputs.map(\.gradValues)

    func loss() -> Double {
        Autodiff.withoutGradients {
            let out = function()
            var total = 0.0
            for i in 0..<out.count { total += Double(out.data[i]) * Double(probe.data[i]) }
            return total
        }
    }
    for (which, input) in inputs.enumerated() {
        for i in 0..<input.count {
            let original = input.data[i]
            input.data[i] = original + h
            let plus = loss()
            input.data[i] = original - h
            let minus = loss()
            input.data[i] = original
            let numeric = Float((plus - minus) / (2 * Double(h)))
            let error = abs(numeric - analytic[which][i])
            #expect(error <= absolute + relative * abs(numeric),
                    "input \(which) element \(i): analytic \(analytic[which][i]), numeric \(numeric)",
                    sourceLocation: sourceLocation)
        }
    }
}

/// Reads a fixture made by tools/make_engine_fixtures.py.
func fixture(_ name: String) throws -> SafeTensors.File {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("\(name).safetensors")
    return try SafeTensors.read(url)
}

/// The largest absolute difference between two arrays of the same length.
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "comparing \(a.count) values with \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// A random tensor for tests.
func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    return Tensor.randomNormal(shape, std: scale, using: &rng)
}
