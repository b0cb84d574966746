import Study
/// Which studies may train side by side: each once the studies it starts from have finished, while
/// the threads of those training fit the machine's cores and their number the jobs allowed. Of the
/// studies ready, the longest (by an estimate such as its last run's time) starts first, so that no
/// long one is left to finish alone at the end.
public struct StudySchedule {
    /// Not yet started, in dependency order.
    public private(set) var waiting: [ResolvedStudy]
    /// Training now, with the threads each takes.
    public private(set) var running: [String: Int] = [:]
    let cores: Int
    let jobs: Int
    let threads: (ResolvedStudy) -> Int
    let estimate: (ResolvedStudy) -> Double

    /// `studies` are those to train; any other study they start from counts as finished.
    public init(_ studies: [ResolvedStudy], cores: Int, jobs: Int, threads: @escaping (ResolvedStudy) -> Int = \.threads,
                estimate: @escaping (ResolvedStudy) -> Double = { _ in 0 }) {
        waiting = studies
        self.cores = max(1, cores)
        self.jobs = max(1, jobs)
        self.threads = threads
        self.estimate = estimate
    }

    public var isDone: Bool { waiting.isEmpty && running.isEmpty }

    /// The waiting study to start now (it is then running), or nil when none can.
    public mutating func start() -> ResolvedStudy? {
        guard running.count < jobs else { return nil }
        let busy = running.values.reduce(0, +)
        let unfinished = Set(waiting.map(\.name)).union(running.keys)
        // A study wanting more cores than the machine has still starts, alone.
        let ready = waiting.indices.filter { index in
            let study = waiting[index]
            return study.dependencies.allSatisfy { !unfinished.contains($0) } && (busy == 0 || busy + min(threads(study), cores) <= cores)
        }
        // The longest first; between equals, the earlier in dependency order.
        guard let index = ready.max(by: { (estimate(waiting[$0]), -$0) < (estimate(waiting[$1]), -$1) }) else { return nil }
        let study = waiting.remove(at: index)
        running[study.name] = min(threads(study), cores)
        return study
    }

    /// Marks a running study finished. When it failed, the waiting studies that need it (directly
    /// or through another) are dropped; their names are returned.
    @discardableResult
    public mutating func finish(_ name: String, succeeded: Bool) -> [String] {
        running[name] = nil
        guard !succeeded else { return [] }
        var failed: Set<String> = [name], dropped: [String] = []
        // `waiting` is in dependency order, so one pass reaches dependents of dependents.
        waiting.removeAll { study in
            guard study.dependencies.contains(where: failed.contains) else { return false }
            failed.insert(study.name)
            dropped.append(study.name)
            return true
        }
        return dropped
    }
}
