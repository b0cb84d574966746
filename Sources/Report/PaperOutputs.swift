import Foundation
import Study

/// The paper's files, written from stored results only: Figure 2, Tables 1-2, the check and the
/// report. Nothing here trains; a study without a fresh result shows as missing.
public struct PaperOutputs: Sendable {
    public let paper: PaperSpec
    public let reported: ReportedNumbers
    public let results: StoredResults
    public let catalog: StudyCatalog
    /// The committed run's numbers (`reference-run.json` beside paper.toml), when there are any.
    public let reference: ReferenceRun?

    public init(paper: PaperSpec, reported: ReportedNumbers, results: StoredResults, catalog: StudyCatalog, reference: ReferenceRun? = nil) {
        self.paper = paper
        self.reported = reported
        self.results = results
        self.catalog = catalog
        self.reference = reference
    }

    /// Reads `paper.toml` and `reported.toml` from `paperFolder`, and from the workspace the results
    /// of every study they name.
    public static func load(paperFolder: URL, catalog: StudyCatalog, workspace: URL) throws -> PaperOutputs {
        let paper = try PaperSpec.load(from: paperFolder.appendingPathComponent("paper.toml"), studies: Set(catalog.studies.map(\.base)))
        let reported = try ReportedNumbers.load(from: paperFolder.appendingPathComponent("reported.toml"), paper: paper)
        let results = try StoredResults.read(workspace: workspace, catalog: catalog, studies: paper.studies)
        return PaperOutputs(paper: paper, reported: reported, results: results, catalog: catalog,
                            reference: try ReferenceRun.read(from: paperFolder))
    }

    public struct Figures: Sendable {
        /// Each figure's files without extension; nil when it had no curve to draw.
        public let figure2: URL?
        public let heldOut: URL?
        public let files: [URL]
    }

    /// Writes `figure2` and `figure2-heldout` (.png, .pdf, .svg) into `folder`, each only when it
    /// has a curve to draw.
    public func writeFigures(to folder: URL) throws -> Figures {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var files: [URL] = []
        func write(_ chart: LossChart, _ name: String) throws -> URL? {
            guard chart.series.contains(where: { !$0.points.isEmpty }) else { return nil }
            let base = folder.appendingPathComponent(name)
            files += try chart.write(to: base)
            return base
        }
        let figure2 = try write(PaperFigures.figure2(paper, results), "figure2")
        let heldOut = try write(PaperFigures.heldOut(paper, results), "figure2-heldout")
        return Figures(figure2: figure2, heldOut: heldOut, files: files)
    }

    /// Writes `tables/table1.md`, `.tex`, `table2.md` and `.tex` under `folder`, `ablation.md` and
    /// `.tex` when paper.toml declares ablations, `retention-control.md` and `.tex` when it declares
    /// the positive control, and `seeds.md` and `.tex` (each seed's values) when the studies ran
    /// with several seeds.
    public func writeTables(to folder: URL) throws -> [URL] {
        let tables = folder.appendingPathComponent("tables")
        try FileManager.default.createDirectory(at: tables, withIntermediateDirectories: true)
        var files: [URL] = []
        let ablation = paper.ablation.isEmpty ? [] : [("ablation", PaperTables.ablation(paper, results))]
        let control = paper.retentionControl.map { [("retention-control", PaperTables.retentionControl($0, paper, results))] } ?? []
        let seeds = results.replicates.values.contains { $0.count > 1 } ? [("seeds", PaperTables.seeds(paper, results))] : []
        for (name, table) in [("table1", PaperTables.table1(paper, results)), ("table2", PaperTables.table2(paper, results))] + ablation + control + seeds {
            files.append(try write(Markdown.render([.table(table)]), to: tables.appendingPathComponent("\(name).md")))
            files.append(try write(LaTeX.floatingTable(table), to: tables.appendingPathComponent("\(name).tex")))
        }
        return files
    }

    public var check: Check { Check(paper: paper, reported: reported, results: results, catalog: catalog, reference: reference) }

    /// This run's numbers as the reference later runs are compared with: `reference-run.json` in `folder`.
    public func saveReference(to folder: URL) throws -> URL {
        try ReferenceRun(results: results, studies: [paper.base] + paper.table1.map(\.study), profile: catalog.profile).write(to: folder)
    }

    /// Writes `check.md` under `folder` and returns its text.
    public func writeCheck(_ check: Check, to folder: URL) throws -> (url: URL, text: String) {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = Markdown.render(check.blocks())
        return (try write(text, to: folder.appendingPathComponent("check.md")), text)
    }

    /// Writes `report.md`, `report.tex` and `report.html` under `folder`: the first two point at the
    /// figures written, the page holds their SVG files inline.
    public func writeReport(_ check: Check, figures: Figures, to folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let figure2 = figures.figure2.map { relativePath(from: folder, to: $0) }, heldOut = figures.heldOut.map { relativePath(from: folder, to: $0) }
        let report = PaperReport(check: check, figure2: figure2, heldOut: heldOut)
        var svg: [String: String] = [:]
        for (base, path) in [(figures.figure2, figure2), (figures.heldOut, heldOut)] {
            guard let base, let path else { continue }
            svg[path] = try String(contentsOf: base.appendingPathExtension("svg"), encoding: .utf8)
        }
        return [try write(report.markdown, to: folder.appendingPathComponent("report.md")),
                try write(report.latex, to: folder.appendingPathComponent("report.tex")),
                try write(report.html(figures: svg), to: folder.appendingPathComponent("report.html"))]
    }

    private func write(_ text: String, to url: URL) throws -> URL {
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
