import Foundation
@testable import Report
import Testing

@Suite struct HTMLTests {
    /// The same table as TableWriterTests': a reference row, ties at the shown precision, a missing
    /// cell, a negative number, markup characters in text and code.
    let table = ReportTable(
        title: "Table 9", caption: "Costs & 50% of <x>",
        columns: [ReportTable.Column("Name"), ReportTable.Column("Loss", .number(.decimals(2), better: .lower)),
                  ReportTable.Column("Score", .number(.decimals(1), better: .higher)), ReportTable.Column("Params", .number(.count, better: nil)),
                  ReportTable.Column("Why", .prose(0.3))],
        rows: [
            ReportTable.Row([.text("reference | floor"), .number(0.5), .number(99), .number(2_500_000), .text("")], ranked: false),
            ReportTable.Row([.text("a_b *c*"), .number(1.234), .number(10.04), .number(1500), .text("\"quoted\"")], startsGroup: true),
            ReportTable.Row([.text("d\\e"), .number(1.231), .number(10), .number(nil), .text("it's")]),
            ReportTable.Row([.text("run \(code: "x | y <z>")"), .number(nil), .number(-3), .number(12), .text("\(bold: "fails")")]),
        ],
        notes: ["see \(code: "a&b")"])

    /// An SVG as Cairo writes it: a prologue, glyphs by id, a clip path by url(), uses by href.
    static func cairoSVG(label: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="244.8pt" height="246pt" viewBox="0 0 244.8 246" version="1.1">
        <defs>
        <g>
        <symbol overflow="visible" id="glyph0-1">
        <path style="stroke:none;" d="M 0 0 L 1 1 Z \(label)"/>
        </symbol>
        </g>
        <clipPath id="clip1">
          <path d="M 0 0 L 244.8 0 L 244.8 246 Z"/>
        </clipPath>
        </defs>
        <g id="surface1">
        <g clip-path="url(#clip1)" clip-rule="nonzero">
        <use xlink:href="#glyph0-1" x="10" y="20"/>
        </g>
        </g>
        </svg>

        """
    }

    @Test func textIsEscapedAndSpansBecomeElements() {
        #expect(HTML.escape(#"<script>alert("x" & 'y')</script>"#) == "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;")
        #expect(HTML.inline("run \(code: "repro check --strict <a>") then \(bold: "fails & more") *not* `markdown`")
            == "run <code>repro check --strict &lt;a&gt;</code> then <strong>fails &amp; more</strong> *not* `markdown`")
        #expect(HTML.escape("— ↓ α ≥ café") == "— ↓ α ≥ café", "the page is UTF-8: other characters stay as they are")
    }

    @Test func tablesHaveHeadsNumbersBestValuesGroupsAndNotes() {
        let html = HTML.table(table)
        let lines = html.split(separator: "\n").map(String.init)
        #expect(lines.first == #"<figure class="table">"#)
        #expect(lines.contains("<figcaption><strong>Table 9.</strong> Costs &amp; 50% of &lt;x&gt;</figcaption>"))
        #expect(lines.contains(#"<div class="scroll" role="region" tabindex="0" aria-label="Table 9">"#), "the table scrolls inside its wrapper")
        /// Whether `run` stands in `lines` as consecutive lines.
        func has(_ run: [String]) -> Bool {
            lines.indices.contains { start in start + run.count <= lines.count && Array(lines[start..<start + run.count]) == run }
        }
        #expect(has([#"<th>Name</th>"#, "<th class=\"num\">Loss\u{00A0}↓</th>", "<th class=\"num\">Score\u{00A0}↑</th>", #"<th class="num">Params</th>"#, #"<th class="prose">Why</th>"#]))
        #expect(lines.contains(#"<div class="scroll wide" role="region" tabindex="0" aria-label="Table 9">"#) == false, "a table with prose stays in the column")
        #expect(has(["<tbody>", "<tr>", #"<td>reference | floor</td>"#, #"<td class="num">0.50</td>"#, #"<td class="num">99.0</td>"#,
                     #"<td class="num">2.50M</td>"#, #"<td class="prose"></td>"#, "</tr>"]))
        #expect(has([#"<tr class="group">"#, #"<td>a_b *c*</td>"#, #"<td class="num"><strong>1.23</strong></td>"#, #"<td class="num"><strong>10.0</strong></td>"#,
                     #"<td class="num">1.5k</td>"#, #"<td class="prose">&quot;quoted&quot;</td>"#]),
                "a rule sets the reference row apart; the best value is bold")
        #expect(has(["<tr>", #"<td>d\e</td>"#, #"<td class="num"><strong>1.23</strong></td>"#, #"<td class="num"><strong>10.0</strong></td>"#,
                     #"<td class="num">—</td>"#, #"<td class="prose">it&#39;s</td>"#]), "values that show alike tie")
        #expect(has(["<tr>", #"<td>run <code>x | y &lt;z&gt;</code></td>"#, #"<td class="num">—</td>"#, #"<td class="num">−3.0</td>"#,
                     #"<td class="num">12</td>"#, #"<td class="prose"><strong>fails</strong></td>"#, "</tr>"]),
                "a missing value is an em dash, a negative number has a minus sign")
        #expect(lines.suffix(5) == ["</tbody>", "</table>", "</div>", #"<p class="note">see <code>a&amp;b</code></p>"#, "</figure>"])
        #expect(html.components(separatedBy: "<tr").count - 1 == 5, "one head row and four body rows")
        #expect(HTML.table(ReportTable(title: "T", caption: "", columns: [ReportTable.Column("A")], rows: [])).contains(#"<div class="scroll wide" role="region""#),
                "a table without prose may grow wider than the column")
        #expect(HTML.header("ROUGE-1 and R-2 <x>", mark: "↑") == "<span class=\"nobr\">ROUGE-1</span> and <span class=\"nobr\">R-2</span> &lt;x&gt;\u{00A0}↑",
                "a title breaks between words only, and the arrow stays with the last")
        #expect(HTML.header("run \(code: "a-b")") == "run <code>a-b</code>")
    }

    @Test func figuresAreInlineSVGWhoseIdsDoNotCollide() throws {
        let blocks: [Block] = [.figure(path: "../figures/figure2", caption: "Figure 2. Loss <train>"), .paragraph("between"),
                               .figure(path: "../figures/figure2-heldout", caption: "Held-out loss")]
        let html = HTML.render(blocks, figures: ["../figures/figure2": Self.cairoSVG(label: "A"), "../figures/figure2-heldout": Self.cairoSVG(label: "B")])
        #expect(!html.contains("<?xml"), "no XML prologue inside the page")
        #expect(html.components(separatedBy: "<svg ").count - 1 == 2)
        #expect(html.contains(#"<figure class="chart">"# + "\n" + #"<svg role="img" aria-label="Figure 2. Loss &lt;train&gt;" xmlns="http://www.w3.org/2000/svg""#))
        #expect(html.contains(#"<figcaption>Figure 2. Loss &lt;train&gt;</figcaption>"#))
        for (prefix, label) in [("f1-", "A"), ("f2-", "B")] {
            #expect(html.contains(#"<symbol overflow="visible" id="\#(prefix)glyph0-1">"# + "\n" + #"<path style="stroke:none;" d="M 0 0 L 1 1 Z \#(label)"/>"#))
            #expect(html.contains(#"<clipPath id="\#(prefix)clip1">"#))
            #expect(html.contains(#"<g id="\#(prefix)surface1">"#))
            #expect(html.contains(#"<g clip-path="url(#\#(prefix)clip1)" clip-rule="nonzero">"#))
            #expect(html.contains(##"<use xlink:href="#\##(prefix)glyph0-1" x="10" y="20"/>"##))
        }
        let ids = Self.ids(in: html)
        #expect(ids.count == 6 && Set(ids).count == ids.count, "every id of the two figures is unique in the page")
        #expect(!html.contains(##"href="#glyph"##) && !html.contains("url(#clip"), "no reference is left unprefixed")
    }

    @Test func aFigureWithoutItsSVGSaysSo() {
        let html = HTML.render([.figure(path: "../figures/figure2", caption: "Figure 2.")], figures: [:])
        #expect(html.contains(#"<figure class="chart missing">"#))
        #expect(html.contains("<p>The figure's file ../figures/figure2.svg could not be read.</p>"))
        #expect(!html.contains("<svg"))
        #expect(HTML.inlineSVG("not an svg", prefix: "f1-", label: "") == nil)
    }

    @Test func documentsRenderEveryBlock() {
        let blocks: [Block] = [.heading(level: 2, "A & B"), .paragraph("one \(code: "x")"), .quote("said \"so\""), .bullets(["one", "two <3"]),
                               .heading(level: 4, "claim-id"), .table(table)]
        let html = HTML.render(blocks)
        #expect(html == [
            "<h2>A &amp; B</h2>", "<p>one <code>x</code></p>", "<blockquote><p>said &quot;so&quot;</p></blockquote>",
            "<ul>\n<li>one</li>\n<li>two &lt;3</li>\n</ul>", "<h4>claim-id</h4>", HTML.table(table),
        ].joined(separator: "\n") + "\n")
    }

    @Test func thePageIsSelfContainedAndFitsAPhone() {
        let page = HTML.document(title: "Reproduction: A & B", blocks: [.paragraph("text"), .figure(path: "f", caption: "Figure 1.")],
                                 figures: ["f": Self.cairoSVG(label: "A")])
        #expect(page.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"))
        #expect(page.contains(#"<meta name="viewport" content="width=device-width, initial-scale=1">"#))
        #expect(page.contains("<title>Reproduction: A &amp; B</title>"))
        #expect(page.contains("<h1>Reproduction: A &amp; B</h1>"))
        #expect(page.hasSuffix("</main>\n</body>\n</html>\n"))
        // Nothing is fetched: no script, stylesheet link, image or import, and the policy forbids loads.
        for fetch in ["<script", "<link", "<img", "<iframe", " src=", "@import", "url(http", "@font-face"] {
            #expect(!page.contains(fetch), "\(fetch)")
        }
        #expect(page.contains("default-src 'none'"))
        let style = HTML.style
        #expect(style.contains("main > *, main > figure.table > * { max-width: 50rem;"))
        #expect(style.contains(".scroll { overflow-x: auto;"))
        #expect(style.contains("figure.chart svg { display: block; width: 100%;"))
        #expect(style.contains("@media print {"))
        #expect(style.components(separatedBy: "{").count == style.components(separatedBy: "}").count, "braces balance")
    }

    /// Every id attribute's value in `html`, in order.
    static func ids(in html: String) -> [String] {
        html.components(separatedBy: " id=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }
}
