import Foundation
@testable import Report
import Testing

@Suite struct FigureTests {
    func chart(series: Int) -> LossChart {
        LossChart(xLabel: "Optimizer step", yLabel: "Training loss", series: (0..<series).map { index in
            LossChart.Series(label: "\(index + 1) Size", points: HandMade.curve(steps: 94, start: 6, end: 3, seed: Double(index)).map {
                LossChart.Point(step: Double($0.step), loss: $0.train)
            }, color: LossChart.palette[index % 5], dashed: index >= 5)
        }, legendTitles: ["Standard LoRA", "Enhanced LoRA"])
    }

    @Test func writesPNGPDFAndSVGOfTheColumnWidth() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repro-figure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let chart = chart(series: 10)
        let files = try chart.write(to: folder.appendingPathComponent("figure"))
        #expect(files.map(\.lastPathComponent) == ["figure.png", "figure.pdf", "figure.svg"])

        let png = try Data(contentsOf: files[0])
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(String(decoding: png[12..<16], as: UTF8.self) == "IHDR")
        func bigEndian(_ range: Range<Int>) -> Int { png[range].reduce(0) { $0 << 8 | Int($1) } }
        // 3.4 inches at 300 dpi, and as tall as the plot and a legend of five rows under two titles need.
        #expect(bigEndian(16..<20) == 1020)
        #expect(bigEndian(20..<24) == chart.pixelSize.height)
        let points: Double = 8 + 150 + 27 + 6 * 9.5 + 4
        #expect(chart.pixelSize.height == Int((points * 300 / 72).rounded()))

        let pdf = try Data(contentsOf: files[1])
        #expect(String(decoding: pdf.prefix(5), as: UTF8.self) == "%PDF-")
        #expect(String(decoding: pdf.suffix(7), as: UTF8.self).contains("%%EOF"))
        let svg = try String(contentsOf: files[2], encoding: .utf8)
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains(#"<svg xmlns="http://www.w3.org/2000/svg""#))
        #expect(svg.contains(#"width="244.8pt""#))

        // The same data gives the same bytes: regenerated figures do not show up as changes. (The SVG
        // too, from one process to the next; within one, cairo numbers its SVG ids on from the last file.)
        let again = try chart.write(to: folder.appendingPathComponent("again"))
        for (first, second) in zip(files, again).prefix(2) { #expect(try Data(contentsOf: first) == Data(contentsOf: second), "\(first.lastPathComponent)") }
        #expect(String(decoding: pdf, as: UTF8.self).contains("/CreationDate (20000101000000Z)"), "the PDF's date is fixed, not the clock's")
    }

    /// A band around a line (the spread over seeds, say) is one filled, translucent path in the line's
    /// colour, up along its upper curve and back along its lower one.
    @Test func aBandIsATranslucentAreaBetweenItsLowerAndUpperCurves() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repro-figure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let steps = stride(from: 10, through: 90, by: 10).map(Double.init)
        // Curved edges: cairo drops the middle one of three points in a straight line.
        let line = steps.map { LossChart.Point(step: $0, loss: 3 + exp(-$0 / 30)) }
        let band = steps.map { LossChart.BandPoint(step: $0, low: 2.8 + exp(-$0 / 30) - $0 * $0 / 40_000, high: 3.2 + exp(-$0 / 25)) }
        func svg(_ series: LossChart.Series) throws -> String {
            let chart = LossChart(xLabel: "Optimizer step", yLabel: "Held-out loss", series: [series])
            let files = try chart.write(to: folder.appendingPathComponent("band-\(series.band.count)"))
            return try String(contentsOf: files[2], encoding: .utf8)
        }
        let color = LossChart.palette[1]
        let banded = try svg(LossChart.Series(label: "1 Medium", points: line, color: color, dashed: false, band: band))
        let paths = banded.components(separatedBy: "<path").dropFirst().filter { $0.contains("fill-opacity:0.2;") }
        // The plot's band, and the legend's sample of it, in the colour the line is stroked in.
        #expect(paths.count == 2, "\(paths)")
        for path in paths {
            let rgb = try #require(path.components(separatedBy: "fill:rgb(").dropFirst().first?.prefix { $0 != ")" })
            #expect(banded.contains("stroke:rgb(\(rgb))"))
        }
        let area = try #require(paths.first { $0.components(separatedBy: " L ").count - 1 == 2 * steps.count - 1 }, "a closed path through both curves")
        #expect(area.contains(" Z"))
        #expect(!(try svg(LossChart.Series(label: "1 Medium", points: line, color: color, dashed: false))).contains("fill-opacity:0.2"))
    }

    @Test func writingIntoAMissingFolderFails() {
        let base = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/figure")
        #expect(throws: ChartError.self) { try chart(series: 1).write(to: base) }
    }

    @Test func ticksAreRoundAndCoverTheData() {
        let loss = LossChart.ticks(low: 1.23, high: 6.7)
        #expect(loss.values == [0, 2, 4, 6, 8])
        #expect(loss.label(4) == "4")
        #expect(LossChart.ticks(low: 0, high: 188).values == [0, 50, 100, 150, 200])
        let fine = LossChart.ticks(low: 0.2, high: 0.35)
        #expect(fine.values.map(fine.label) == ["0.20", "0.25", "0.30", "0.35"])
        let quarter = LossChart.ticks(low: 0, high: 0.12)
        #expect(quarter.values.map(quarter.label) == ["0.000", "0.025", "0.050", "0.075", "0.100", "0.125"])
        #expect(LossChart.ticks(low: 2, high: 2).values.count >= 2, "a flat curve still gets an axis")
    }

    /// Figure 2 pairs each Table 2 row by colour: standard solid in the left column, enhanced dashed in the right.
    @Test func figure2PairsStandardAndEnhancedLoRA() throws {
        let made = try HandMade()
        defer { made.remove() }
        try made.run("exp02-small-default", curve: HandMade.curve(steps: 10, start: 6, end: 5))
        let paper = try PaperSpec.load(from: HandMade.paperFolder.appendingPathComponent("paper.toml"), studies: Set(made.catalog.studies.map(\.name)))
        let results = try StoredResults.read(workspace: made.workspace, catalog: made.catalog, studies: paper.studies)
        let figure = PaperFigures.figure2(paper, results)
        #expect(figure.legendTitles == ["Standard LoRA", "Enhanced LoRA"])
        #expect(figure.series.map(\.label) == ["2 Small", "1 Medium", "5 Large", "7 Extra-large", "9 Default, extended",
                                               "4 Small", "3 Medium", "6 Large", "8 Extra-large", "10 Default, extended"])
        #expect(figure.series.map(\.dashed) == Array(repeating: false, count: 5) + Array(repeating: true, count: 5))
        for pair in 0..<5 { #expect(figure.series[pair].color == figure.series[pair + 5].color) }
        #expect(Set(figure.series.prefix(5).map { "\($0.color)" }).count == 5, "each size its own colour")
        #expect(figure.series[0].points.count == 10 && figure.series[1].points.isEmpty)
        #expect(PaperFigures.heldOut(paper, results).series[0].points.map(\.step) == [10], "held-out loss only where measured")
    }
}

/// Several seeds' curves become one line (their mean) and a band (lowest to highest seed).
@Suite struct SeedBandTests {
    @Test func seedsAreTheirMeanWithABandFromTheLowestToTheHighest() {
        let curves: [[LossChart.Point]] = [
            [.init(step: 1, loss: 4), .init(step: 2, loss: 3), .init(step: 3, loss: 2.5)],
            [.init(step: 1, loss: 5), .init(step: 2, loss: 2)],
        ]
        let (line, band) = PaperFigures.spread(curves)
        #expect(line.map(\.step) == [1, 2], "only the steps every seed has")
        #expect(line.map(\.loss) == [4.5, 2.5])
        #expect(band == [.init(step: 1, low: 4, high: 5), .init(step: 2, low: 2, high: 3)])
        let one = PaperFigures.spread([curves[0]])
        #expect(one.line.count == 3 && one.band.isEmpty, "one seed: its curve, no band")
    }
}
