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

extension OpProfiler.Report {
    /// Time per op and phase, per step, largest first (sgemm time is inside the ops that call it).
    public func opTable(steps: Int) -> String {
        var lines = ["op                 forward ms   backward ms   (per step, sgemm included)"]
        let rows = ops.sorted { lhs, rhs in
            lhs.value.values.map(\.seconds).reduce(0, +) > rhs.value.values.map(\.seconds).reduce(0, +)
        }
        for (name, phases) in rows {
            let forward = (phases[.forward]?.seconds ?? 0) / Double(steps) * 1e3
            let backward = (phases[.backward]?.seconds ?? 0) / Double(steps) * 1e3
            lines.append(name.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: " %10.3f   %11.3f", forward, backward))
        }
        return lines.joined(separator: "\n")
    }

    /// The sgemm shapes that take the most time, per step, with the GFLOP/s each reaches.
    public func gemmTable(steps: Int, top: Int = 15) -> String {
        var lines = ["sgemm shape (m x n x k, A/B transposed)   calls   ms per step   GFLOP/s"]
        for (shape, entry) in gemmShapes.sorted(by: { $0.value.seconds > $1.value.seconds }).prefix(top) {
            let name = "\(shape.m) x \(shape.n) x \(shape.k) \(shape.transposeA ? "T" : "N")\(shape.transposeB ? "T" : "N")"
            lines.append(name.padding(toLength: 40, withPad: " ", startingAt: 0)
                         + String(format: " %6d   %11.3f   %7.1f", entry.calls / steps, entry.seconds / Double(steps) * 1e3,
                                  shape.flops * Double(entry.calls) / entry.seconds / 1e9))
        }
        return lines.joined(separator: "\n")
    }

    /// One line: the share of `seconds` spent in sgemm and its rate, and the time outside it per `unit`
    /// (`steps` of them).
    public func gemmSummary(seconds: Double, steps: Int, per unit: String = "step") -> String {
        String(format: "sgemm %.1f%% of the time at %.1f GFLOP/s; outside sgemm %.1f ms per %@",
               gemmSeconds / seconds * 100, gemmFlops / max(gemmSeconds, 1e-12) / 1e9, (seconds - gemmSeconds) / Double(steps) * 1e3, unit)
    }
}

