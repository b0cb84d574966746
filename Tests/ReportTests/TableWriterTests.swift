@testable import Report
import Testing

@Suite struct TableWriterTests {
    /// A reference row, ties at the shown precision, a missing cell, a negative number, markup
    /// characters in text and code.
    let table = ReportTable(
        title: "Table 9", caption: "Costs & 50% of {x}",
        columns: [ReportTable.Column("Name"), ReportTable.Column("Loss", .number(.decimals(2), better: .lower)),
                  ReportTable.Column("Score", .number(.decimals(1), better: .higher)), ReportTable.Column("Params", .number(.count, better: nil))],
        rows: [
            ReportTable.Row([.text("reference | floor"), .number(0.5), .number(99), .number(2_500_000)], ranked: false),
            ReportTable.Row([.text("a_b *c*"), .number(1.234), .number(10.04), .number(1500)], startsGroup: true),
            ReportTable.Row([.text("d\\e"), .number(1.231), .number(10), .number(nil)]),
            ReportTable.Row([.text("run \(code: "x | y")"), .number(nil), .number(-3), .number(12)]),
        ],
        notes: ["see \(code: "a|b")"])

    @Test func bestValuesAreMarkedAmongRankedRowsAsShown() {
        // 1.234 and 1.231 both show as 1.23; the reference row's 0.50 and 99.0 take no part.
        #expect(table.best(column: 1) == [1, 2])
        #expect(table.best(column: 2) == [1, 2])
        #expect(table.best(column: 3) == [], "parameter counts are not ranked")
        #expect(table.best(column: 0) == [])
        #expect(bestIndices([nil, nil], better: .lower, format: .decimals(2)) == [])
        #expect(bestIndices([3, nil, 2], better: .higher, format: .decimals(2)) == [0])
    }

    @Test func markdownEscapesMarksAndShowsMissingCells() {
        #expect(Markdown.render([.table(table)]) == #"""
            **Table 9.** Costs & 50% of {x}

            | Name | Loss ↓ | Score ↑ | Params |
            |:---|---:|---:|---:|
            | reference \| floor | 0.50 | 99.0 | 2.50M |
            | a\_b \*c\* | **1.23** | **10.0** | 1.5k |
            | d\\e | **1.23** | **10.0** | — |
            | run `x \| y` | — | -3.0 | 12 |

            see `a|b`

            """#)
    }

    @Test func latexEscapesMarksAndShowsMissingCells() {
        let latex = LaTeX.floatingTable(table)
        let lines = latex.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains(#"\caption{Costs \& 50\% of \{x\}}"#))
        #expect(lines.contains(#"\label{tab:table-9}"#))
        #expect(lines.contains(#"\begin{tabular}{lrrr}"#))
        #expect(lines.contains(#"Name & Loss $\downarrow$ & Score $\uparrow$ & Params \\"#))
        let rows = [
            #"reference \textbar{} floor & 0.50 & 99.0 & 2.50M \\"#,
            #"\midrule"#,
            #"a\_b *c* & \textbf{1.23} & \textbf{10.0} & 1.5k \\"#,
            #"d\textbackslash{}e & \textbf{1.23} & \textbf{10.0} & --- \\"#,
            #"run \texttt{x \textbar{} y} & --- & $-$3.0 & 12 \\"#,
            #"\bottomrule"#,
        ]
        let first = lines.firstIndex(of: rows[0])!
        #expect(Array(lines[first..<first + rows.count]) == rows, "a rule sets the reference row apart")
        #expect(latex.contains(#"\footnotesize see \texttt{a\textbar{}b}"#))
        #expect(latex.hasPrefix("\\begin{table}[htbp]") && latex.hasSuffix("\\end{table}\n"))
    }

    @Test func latexEscapesEverySpecialCharacter() {
        #expect(LaTeX.escape(##"\ { } $ & % # _ ~ ^ < > | " — – … − × α ≥ ↓"##) == ##"\textbackslash{} \{ \} \$ \& \% \# \_ \textasciitilde{} \textasciicircum{} \textless{} \textgreater{} \textbar{} `` --- -- \ldots{} $-$ $\times$ $\alpha$ $\geq$ $\downarrow$"##)
        #expect(LaTeX.inline("run \(code: "repro check --strict")") == #"run \texttt{repro check -{}-{}strict}"#, "no en dash in code")
        #expect(LaTeX.inline("a \"quote\" and \(code: "k = \"v\"")") == #"a ``quote'' and \texttt{k = "v"}"#)
        #expect(LaTeX.inline("\(bold: "fails") at 50%") == #"\textbf{fails} at 50\%"#)
        #expect(LaTeX.header("Standard LoRA test loss", mark: "↓") == #"\begin{tabular}[b]{@{}c@{}}Standard LoRA\\test loss $\downarrow$\end{tabular}"#)
        #expect(LaTeX.header("ROUGE-1", mark: "↑") == #"ROUGE-1 $\uparrow$"#)
    }

    @Test func markdownEscapesMarkupAndFencesCode() {
        #expect(Markdown.escape(##"a*b_c`d[e]<f>|g#h\i"##) == ##"a\*b\_c\`d\[e\]\<f\>\|g\#h\\i"##)
        #expect(Markdown.escape("two\nlines") == "two lines")
        #expect(Markdown.codeSpan("a`b", inTable: false) == "``a`b``")
        #expect(Markdown.codeSpan("`x`", inTable: false) == "`` `x` ``")
        #expect(Markdown.inline("\(bold: "fails") *here*") == #"**fails** \*here\*"#)
    }

    @Test func numbersShowInTheirFormat() {
        #expect(NumberFormat.decimals(4).string(5.674) == "5.6740")
        #expect(NumberFormat.count.string(7_012_345) == "7.01M")
        #expect(NumberFormat.count.string(85_400) == "85.4k")
        #expect(NumberFormat.count.string(950) == "950")
        #expect(LaTeX.number("-0.25") == "$-$0.25")
    }

    @Test func documentsRenderEveryBlock() {
        let blocks: [Block] = [.heading(level: 2, "A & B"), .quote("said"), .bullets(["one", "two"]), .figure(path: "../figures/f", caption: "Figure 1. Loss")]
        #expect(Markdown.render(blocks) == """
            ## A & B

            > said

            - one
            - two

            ![Figure 1. Loss](../figures/f.png)

            Figure 1. Loss

            """)
        let latex = LaTeX.render(blocks)
        #expect(latex.contains(#"\subsection*{A \& B}"#))
        #expect(latex.contains("\\begin{itemize}\n  \\item one\n  \\item two\n\\end{itemize}"))
        #expect(latex.contains(#"\includegraphics[width=3.4in]{../figures/f.pdf}"#))
    }
}
