import ArgumentParser
import Engine
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measures the engine's speed on this machine.",
        discussion: "Numbers vary with what else the machine runs; compare ratios measured in one run.",
        subcommands: [BenchBLAS.self, BenchOps.self, BenchTrain.self, BenchGenerate.self, BenchEval.self])
}

/// The BLAS kernel in use and the GFLOP/s `sgemm` reaches with it.
struct BenchBLAS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blas",
        abstract: "Prints the OpenBLAS kernel in use, its thread count and sgemm GFLOP/s at square sizes.")

    @Option(parsing: .upToNextOption, help: "Square matrix sizes to time (e.g. --sizes 256 512 1024).")
    var sizes: [Int] = [256, 512, 1024]

    @Option(help: "Seconds to time each size for (after one warm-up product).")
    var seconds: Double = 1.0

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let bad = sizes.first(where: { $0 <= 0 }) { throw ValidationError("--sizes: \(bad) is not a positive size") }
        guard seconds > 0 else { throw ValidationError("--seconds: \(seconds) must be positive") }
    }

    func run() throws {
        let selection = BLASKernel.selection
        let results = sizes.map { n in (n, SgemmBenchmark.gflops(size: n, seconds: seconds)) }
        if output.json {
            return try output.printJSON([
                "kernel": selection.coreName, "kernel_source": selection.explanation,
                "threads": BLAS.threads, "cpu": BLASKernel.cpuModel(),
                "thread_timeout": ProcessInfo.processInfo.environment[BLASKernel.threadTimeoutVariable] ?? "",
                "sgemm_gflops": Dictionary(uniqueKeysWithValues: results.map { (String($0.0), $0.1) }),
            ] as [String: Any])
        }
        print("CPU      \(BLASKernel.cpuModel())")
        print("kernel   \(selection.coreName) (\(selection.explanation))")
        print("threads  \(BLAS.threads); \(BLASKernel.threadTimeoutVariable)=\(ProcessInfo.processInfo.environment[BLASKernel.threadTimeoutVariable] ?? "unset (OpenBLAS default 28)")")
        print("")
        print("     n   sgemm GFLOP/s")
        for (n, gflops) in results {
            print(String(format: "%6d   %13.1f", n, gflops))
        }
    }
}

enum SgemmBenchmark {
    /// GFLOP/s of square `n x n` products, timed for about `seconds`.
    static func gflops(size n: Int, seconds: Double) -> Double {
        var rng = SeededGenerator(seed: 1)
        let a = Tensor.randomUniform([n, n], low: -1, high: 1, using: &rng)
        let b = Tensor.randomUniform([n, n], low: -1, high: 1, using: &rng)
        let c = Tensor(zeros: [n, n])
        func product() {
            BLAS.sgemm(transposeA: false, transposeB: false, m: n, n: n, k: n,
                       a: a.data, lda: n, b: b.data, ldb: n, beta: 0, c: c.data, ldc: n)
        }
        product()
        let (iterations, elapsed) = timeRepeatedly(seconds: seconds, product)
        return 2 * Double(n) * Double(n) * Double(n) * Double(iterations) / elapsed / 1e9
    }
}

/// Runs `body` until `seconds` have passed (at least once); returns the count and the time taken.
func timeRepeatedly(seconds: Double, _ body: () throws -> Void) rethrows -> (count: Int, seconds: Double) {
    let start = monotonicSeconds()
    var count = 0
    var elapsed = 0.0
    repeat {
        try body()
        count += 1
        elapsed = monotonicSeconds() - start
    } while elapsed < seconds
    return (count, elapsed)
}
