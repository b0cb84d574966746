import Dispatch

/// Splits element-wise work across the machine's cores. Each element (or row) is computed by
/// exactly one thread with the same arithmetic as a serial loop, so results do not depend on the
/// number of threads.
enum Parallel {
    /// As many as OpenBLAS uses, so that one setting (`BLAS.useThreads`) governs a run's cores.
    static var threads: Int { max(1, BLAS.threads) }

    /// Calls `body` on contiguous sub-ranges covering `0..<count`, concurrently when each would still
    /// hold at least `grain` items.
    @inline(__always)
    static func forEach(_ count: Int, grain: Int = 16_384, _ body: (Range<Int>) -> Void) {
        let chunks = min(threads, count / max(grain, 1))
        guard chunks > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
                shared.value(start..<end)
            }
        }
    }
}

/// Hands a value to concurrent workers that only read it (the kernels' closures write disjoint ranges).
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
