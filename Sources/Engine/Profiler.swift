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

    public struct Report: Sendable {
        /// Keyed by op name and phase.
        public var ops: [String: [Phase: Entry]] = [:]
        public var gemmCalls = 0
        public var gemmSeconds = 0.0
        public var gemmFlops = 0.0
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

    func addGemm(seconds: Double, flops: Double) {
        state.withLock { report in
            report.gemmCalls += 1
            report.gemmSeconds += seconds
            report.gemmFlops += flops
        }
    }

    public var report: Report { state.withLock { $0 } }
}
