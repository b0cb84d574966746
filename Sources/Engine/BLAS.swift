import CBLAS

/// Every matrix product of the engine goes through here, so that it is timed in one place.
public enum BLAS {
    /// Row-major `C[m, n] = alpha * op(A) * op(B) + beta * C`, where `op(A)` is `[m, k]` and
    /// `op(B)` is `[k, n]`; `lda`, `ldb`, `ldc` are the row strides of A, B, C as stored.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // An empty sum: C = beta * C, which OpenBLAS would reject for its zero leading dimension.
            for i in 0..<m {
                let row = c + i * ldc
                if beta == 0 { row.update(repeating: 0, count: n) } else { for j in 0..<n { row[j] *= beta } }
            }
            return
        }
        let profiler = OpProfiler.current
        let start = profiler == nil ? 0 : monotonicSeconds()
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        if let profiler {
            profiler.addGemm(.init(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB), seconds: monotonicSeconds() - start)
        }
    }

    /// The largest product (m·n·k multiply-adds) that OpenBLAS computes on the calling thread: 4 x 65,536
    /// in its default build. Larger ones go to its thread pool, which concurrent callers queue for, so
    /// code that calls sgemm from several threads at once keeps each product within this.
    public static let singleThreadedLimit = 4 * 65_536

    /// The number of threads OpenBLAS uses, and the engine's own kernels with it (`Parallel`).
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets the threads of every product and kernel from here on. OpenBLAS's sums depend on its
    /// thread count (where it splits a long inner dimension), so a run repeats bit for bit only at the same count.
    public static func useThreads(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }
}
