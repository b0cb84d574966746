import ArgumentParser
import Foundation
import Report

/// Options of the commands that write the paper's files: the study options, where paper.toml and
/// reported.toml are, and where the outputs go.
struct PaperOptions: ParsableArguments {
    @OptionGroup var study: StudyOptions
    @Option(help: ArgumentHelp("The folder of paper.toml and reported.toml (default: paper/ of the project).", valueName: "folder"))
    var paper: String?
    @Option(help: ArgumentHelp("Where the tables (tables/), check.md and the report go (default: paper/ of the project).", valueName: "folder"))
    var output: String?
    @Option(help: ArgumentHelp("Where the figures go (default: figures/ of the project).", valueName: "folder"))
    var figures: String?

    var paperFolder: URL { get throws { try ProjectRoot.path(paper, default: "paper", option: "--paper DIR") } }
    var outputFolder: URL { get throws { try ProjectRoot.path(output, default: "paper", option: "--output DIR") } }
    var figuresFolder: URL { get throws { try ProjectRoot.path(figures, default: "figures", option: "--figures DIR") } }

    /// The paper's declarations and the stored results; each missing study is named on stderr.
    func load() throws -> PaperOutputs {
        _ = try study.importedStore()
        let outputs = try PaperOutputs.load(paperFolder: try paperFolder, catalog: try study.catalog(), workspace: try study.workspaceFolder)
        for missing in outputs.results.missing { printError(missing.description) }
        return outputs
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

func printWritten(_ files: [URL]) {
    for file in files { print("wrote \(file.path)") }
}

/// Figure 2 cannot be drawn: no study of it has a curve.
struct NothingToDraw: Error, CustomStringConvertible {
    var description: String { "nothing to draw: no study of Figure 2 has a finished run with a training curve" }
}

struct FiguresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figures",
        abstract: "Draws Figure 2 (training loss) and its held-out companion from stored results, as PNG, PDF and SVG.",
        discussion: "Reads results only and never trains; a study without a finished run for its current configuration is named and left out.")

    @OptionGroup var options: PaperOptions

    func run() throws {
        let figures = try options.load().writeFigures(to: try options.figuresFolder)
        printWritten(figures.files)
        if figures.figure2 == nil { throw NothingToDraw() }
    }
}

struct TablesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tables",
        abstract: "Writes Tables 1 and 2 from stored results, in Markdown and LaTeX (booktabs).",
        discussion: "Reads results only and never trains; a study without a finished run for its current configuration is named, and its cells show an em dash.")

    @OptionGroup var options: PaperOptions

    func run() throws {
        printWritten(try options.load().writeTables(to: try options.outputFolder))
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Sets the paper's numbers beside ours and judges each of its claims; writes check.md and prints it.",
        discussion: """
            Every claim is judged on the numbers the paper prints and on this reproduction's, by the rule \
            stated with it; the paper's own consistency and points of method follow. The scale model is \
            not expected to reproduce the 7B model's absolute numbers: compare directions and relations.
            """)

    @OptionGroup var options: PaperOptions
    @Flag(help: "Exit non-zero when this reproduction contradicts a claim paper.toml marks required.") var strict = false

    func run() throws {
        let outputs = try options.load()
        let check = outputs.check
        let (url, text) = try outputs.writeCheck(check, to: try options.outputFolder)
        print(text, terminator: "")
        printError("wrote \(url.path)")
        let failed = check.failedRequired
        if strict && !failed.isEmpty {
            printError("required claims fail: \(failed.map(\.id).joined(separator: ", "))")
            throw ExitCode.failure
        }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Writes the reproduced paper from stored results: figures, tables, check.md, report.md, report.tex and report.html.",
        discussion: """
            Reads results only and never trains; writes each output once and prints one line per claim \
            with its verdict on our numbers (check.md has the rules and the numbers). report.html is one \
            self-contained page (figures inline as SVG, no script, nothing fetched) to open in a browser or \
            on a phone. `make pdf` turns report.tex into a PDF where LaTeX is installed.
            """)

    @OptionGroup var options: PaperOptions
    @Flag(help: "Also save this run's Table 1 numbers per seed as the committed reference (reference-run.json beside paper.toml), which `repro check` compares later runs with.")
    var saveReference = false

    func run() throws {
        let outputs = try options.load()
        if saveReference { print("wrote \(try outputs.saveReference(to: try options.paperFolder).path)") }
        let figures = try outputs.writeFigures(to: try options.figuresFolder)
        let check = outputs.check
        printWritten(figures.files + (try outputs.writeTables(to: try options.outputFolder)) + [try outputs.writeCheck(check, to: try options.outputFolder).url]
            + (try outputs.writeReport(check, figures: figures, to: try options.outputFolder)))
        for judged in check.judged { print("\(judged.claim.id): \(judged.ours.verdict.rawValue) on our numbers (\(judged.paper.verdict.rawValue) on the paper's)") }
    }
}
