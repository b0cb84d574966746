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

extension ResultsStore {
    /// The study's state from its newest stored run (and the lock of a live trainer).
    public func state(of study: ResolvedStudy) throws -> StudyState {
        if let run = try latestRun(study: study.name, hash: study.hash) {
            switch run.status {
            case .finished: return .fresh(run)
            case .failed: return .failed(run)
            // Only a live trainer holds the study's lock; a record still "running" without it was left by a process that died.
            case .running: return StudyLock.isHeld(workspace: workspace, study: study.name) ? .running(run) : .interrupted(run)
            }
        }
        if let old = try latestRun(study: study.name) { return .stale(Self.changes(from: old.canonical, to: study.canonical)) }
        return .missing
    }

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
