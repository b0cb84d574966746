import ArgumentParser
import Foundation
import Study

/// Options every study command shares: where the studies and the results live, and the profile.
struct StudyOptions: ParsableArguments {
    @Option(help: "The folder of study files.") var studies = "studies"
    @Option(help: "The results workspace (database, checkpoints, outputs).") var workspace = "workspace"
    @Option(help: "A profile from studies/profiles/ that overlays every study (e.g. quick).") var profile: String?

    func catalog() throws -> StudyCatalog {
        do {
            return try StudyCatalog.load(directory: URL(fileURLWithPath: studies), profile: profile)
        } catch let error as StudyErrors {
            throw ValidationError(error.description)
        } catch let error as StudyError {
            throw ValidationError(error.description)
        }
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Lists the studies, in the order they run, with what each starts from.")

    @OptionGroup var options: StudyOptions

    func run() throws {
        let catalog = try options.catalog()
        let width = catalog.studies.map(\.name.count).max() ?? 0
        for study in catalog.studies {
            let from = study.spec.`init`.isEmpty ? "fresh weights" : "from \(study.spec.`init`)"
            print("\(study.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(study.spec.kind.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(from.padding(toLength: 18, withPad: " ", startingAt: 0))  \(study.spec.description)")
        }
    }
}
