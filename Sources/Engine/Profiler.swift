import Synchronization

/// Collects where the time goes: per op and phase, and in `sgemm` (which every matrix product
/// calls). Installed for a region of code with `OpProfiler.$current.withValue(profiler) { ... }`;
/// when none is installed, ops pay one task-local read.
public final class OpProfiler: Sendable {
    public enum Phase: String, Sendable { case forward, backward }

    public struct Entry: Sendable {
        public var calls = 0
        public var seconds = 0.0
    }

    /// One sgemm shape: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`.
    public struct GemmShape: Hashable, Sendable {
        public let m, n, k: Int
        public let transposeA, transposeB: Bool
    }

    public struct Report: Sendable {
        /// Keyed by op name and phase.
        public var ops: [String: [Phase: Entry]] = [:]
        public var gemmCalls = 0
        public var gemmSeconds = 0.0
        public var gemmFlops = 0.0
        /// sgemm calls and time per shape.
        public var gemmShapes: [GemmShape: Entry] = [:]
    }

    @TaskLocal public static var current: OpProfiler?

    private let state = Mutex(Report())

    public init() {}

    func add(op: StaticString, phase: Phase, seconds: Double) {
        let key = op.description
        state.withLock { report in
            var entry = report.ops[key, default: [:]][phase, default: Entry()]
            entry.calls += 1
            entry.seconds += seconds
            report.ops[key, default: [:]][phase] = entry
        }
    }

    func addGemm(_ shape: GemmShape, seconds: Double) {
        state.withLock { report in
            report.gemmCalls += 1
            report.gemmSeconds += seconds
            report.gemmFlops += shape.flops
            report.gemmShapes[shape, default: Entry()].calls += 1
            report.gemmShapes[shape, default: Entry()].seconds += seconds
        }
    }

    public var report: Report { state.withLock { $0 } }
}

extension OpProfiler.GemmShape {
    /// Multiply-adds counted twice, as GFLOP/s figures count them.
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
}
