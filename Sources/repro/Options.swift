import ArgumentParser
import Foundation
import Study

/// The project's root: the nearest folder, from the working folder up, that holds `studies/` and
/// `Package.swift` (as git finds its root), so that every command works from any folder inside it.
enum ProjectRoot {
    static func find(from start: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) -> URL? {
        var folder = start.standardizedFileURL
        while true {
            var isFolder: ObjCBool = false
            let studies = FileManager.default.fileExists(atPath: folder.appendingPathComponent("studies").path, isDirectory: &isFolder) && isFolder.boolValue
            if studies && FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) { return folder }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }

    /// `given` as the user wrote it (relative to the working folder), or `name` under the project's root.
    static func path(_ given: String?, default name: String, option: String) throws -> URL {
        if let given { return URL(fileURLWithPath: given) }
        guard let root = find() else { throw ProjectNotFound(option: option) }
        return root.appendingPathComponent(name)
    }
}

/// Run outside a project without saying where its files are.
struct ProjectNotFound: Error, CustomStringConvertible {
    let option: String

    var description: String {
        "no repro project found: looked for a folder holding studies/ and Package.swift in \(FileManager.default.currentDirectoryPath) and every folder above it; run repro inside the project, or pass \(option)"
    }
}

/// Where the study files are and which profile overlays them: every command that reads studies.
struct ProjectOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The folder of study files (default: studies/ of the project this folder is in).", valueName: "folder"))
    var studies: String?
    @Option(help: "A profile from studies/profiles/ that overlays every study (e.g. quick).") var profile: String?
    @Option(help: ArgumentHelp("""
        Seeds of the studies that replicate (or of the named ones): a count (3: each study's own seed \
        and the next two), a list (0,2,5) or a range (0-4); default: each study's `replicates`.
        """, valueName: "seeds"))
    var seeds: String?

    var studiesFolder: URL { get throws { try ProjectRoot.path(studies, default: "studies", option: "--studies DIR") } }

    func validate() throws {
        if let seeds { _ = try SeedChoice(parsing: seeds) }
    }

    /// The study files under the profile, with `--seeds` applied to `named` (every study that
    /// replicates when none); their problems are reported as what they are, not as usage errors.
    func catalog(named: [String] = []) throws -> StudyCatalog {
        try StudyCatalog.load(directory: try studiesFolder, profile: profile, seeds: try seeds.map { try SeedChoice(parsing: $0, studies: named) })
    }
}

/// The study files and the results workspace: every command that reads or writes results.
struct StudyOptions: ParsableArguments {
    @OptionGroup var project: ProjectOptions
    @Option(help: ArgumentHelp("The results workspace: database, checkpoints, outputs (default: workspace/ of the project).", valueName: "folder"))
    var workspace: String?

    var workspaceFolder: URL { get throws { try ProjectRoot.path(workspace, default: "workspace", option: "--studies DIR and --workspace DIR") } }
    var profile: String? { project.profile }

    func catalog(named: [String] = []) throws -> StudyCatalog { try project.catalog(named: named) }

    /// The workspace's store once every run that ended is imported from its run folder (the runs of
    /// `repro run`'s workers, or of a cluster's jobs): opened for writing when the workspace has run
    /// folders, else read-only; nil when it has neither.
    func importedStore() throws -> ResultsStore? {
        let root = try workspaceFolder
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("runs").path) else {
            return try ResultsStore.existing(workspace: root)
        }
        let store = try ResultsStore(workspace: root)
        for problem in try store.importEndedRuns() { printError("warning: \(problem)") }
        return store
    }
}

/// `--json` for commands that can print machine-readable output.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table.") var json = false

    /// `payload` as sorted, indented JSON on standard output.
    func printJSON(_ payload: Any) throws {
        print(String(decoding: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
    }
}
