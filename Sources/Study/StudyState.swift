import Foundation

/// Where a study stands against the results store.
public enum StudyState: Sendable {
    /// A finished run of the current configuration exists.
    case fresh(RunRecord)
    /// Only runs of another configuration exist; the reasons say what changed.
    case stale([String])
    /// Never run.
    case missing
    /// Being trained by a live process.
    case running(RunRecord)
    /// Started by a process that died; `repro run` resumes it from its last state.
    case interrupted(RunRecord)
    case failed(RunRecord)
}

extension StudyState {
    /// The study's state from its run folder's run file (a run under way, or one that ended and is
    /// not imported yet) and the store's newest run; `store` nil reads as an empty store.
    public static func of(_ study: ResolvedStudy, workspace: Workspace, store: ResultsStore?) throws -> StudyState {
        let file = try RunFile.read(RunFolder(url: workspace.runFolder(study: study.name, hash: study.hash)))
        let stored = try store?.latestRun(study: study.name, hash: study.hash)
        // The run file is newer than the store's run unless the store holds it as it ended.
        if let file, stored.map({ $0.key != file.run.key || !$0.endsAs(file.run) }) ?? true {
            return of(file.run, workspace: workspace)
        }
        if let stored { return of(stored, workspace: workspace) }
        if let old = try store?.latestRun(study: study.name) { return .stale(ResultsStore.changes(from: old.canonical, to: study.canonical)) }
        return .missing
    }

    private static func of(_ run: RunRecord, workspace: Workspace) -> StudyState {
        switch run.status {
        case .finished: return .fresh(run)
        case .failed: return .failed(run)
        // Only a live trainer holds the study's lock; a run still "running" without it was left by a process that died.
        case .running: return StudyLock.isHeld(workspace: workspace.root, study: run.study) ? .running(run) : .interrupted(run)
        }
    }
}

extension ResultsStore {
    /// What differs between two canonical study descriptions, one line per changed key.
    static func changes(from old: String, to new: String) -> [String] {
        func flatten(_ object: Any, _ prefix: String, into out: inout [String: String]) {
            if let table = object as? [String: Any] {
                for (key, value) in table { flatten(value, prefix.isEmpty ? key : "\(prefix).\(key)", into: &out) }
            } else if let number = object as? Double, !(object is Bool) {
                // Float keys were widened to Double on the way: show them as written.
                out[prefix] = String(format: "%g", number)
            } else {
                out[prefix] = "\(object)"
            }
        }
        func keys(_ text: String) -> [String: String] {
            var out: [String: String] = [:]
            if let object = try? JSONSerialization.jsonObject(with: Foundation.Data(text.utf8)) { flatten(object, "", into: &out) }
            return out
        }
        let (a, b) = (keys(old), keys(new))
        return Set(a.keys).union(b.keys).sorted().compactMap { key in
            guard a[key] != b[key] else { return nil }
            if key.hasPrefix("inputs.") { return "starts from \(key.dropFirst(7)), whose result changed" }
            let shown = key.hasPrefix("study.") ? String(key.dropFirst(6)) : key
            return "\(shown): \(a[key] ?? "(unset)") -> \(b[key] ?? "(unset)")"
        }
    }
}

extension ResolvedStudy {
    /// The replicate this study starts from for a study its file names (`init = "align"`): the same
    /// seed's replicate when that study has one (`align@3`), else the study itself.
    public func input(_ name: String) -> String {
        dependencies.first { $0 == name || $0.hasPrefix(name + "@") } ?? name
    }

    /// The threads the study computes with: its setting, or every core.
    public var threads: Int { spec.train.threads == 0 ? Provenance.cores : spec.train.threads }
}
