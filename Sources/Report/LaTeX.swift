/// Documents as LaTeX: tables in booktabs, figures as PDF, text escaped for pdflatex.
public enum LaTeX {
    /// What a cell without a value shows.
    static let missing = "---"

    /// The blocks alone, for `\input` into another document.
    public static func render(_ blocks: [Block]) -> String {
        blocks.map(block).joined(separator: "\n\n") + "\n"
    }

    /// A complete article that pdflatex compiles with the packages tables need (booktabs, graphicx,
    /// array) and geometry.
    public static func document(title: Text, blocks: [Block]) -> String {
        """
        \\documentclass[10pt]{article}
        \\usepackage[utf8]{inputenc}
        \\usepackage[margin=2cm]{geometry}
        \\usepackage{array}
        \\usepackage{booktabs}
        \\usepackage{graphicx}
        \\title{\(inline(title))}
        \\date{}
        \\begin{document}
        \\maketitle

        \(render(blocks))
        \\end{document}

        """
    }

    static func block(_ block: Block) -> String {
        switch block {
        case .heading(let level, let text):
            let command = ["section", "subsection", "subsubsection", "paragraph"][min(max(level, 1), 4) - 1]
            return "\\\(command)*{\(inline(text))}"
        case .paragraph(let text):
            return inline(text)
        case .quote(let text):
            return "\\begin{quote}\n\(inline(text))\n\\end{quote}"
        case .bullets(let items):
            return "\\begin{itemize}\n" + items.map { "  \\item " + inline($0) }.joined(separator: "\n") + "\n\\end{itemize}"
        case .table(let table):
            // In place, under its own title: the report's tables are numbered as the paper's.
            return (["\\begin{center}", "  {\\small\\textbf{\(escape(table.title)).} \(inline(table.caption))}\\par\\smallskip"]
                + body(table) + notes(table) + ["\\end{center}"]).joined(separator: "\n")
        case .figure(let path, let caption):
            // In place, at the single-column width it was drawn for; the caption names it.
            return """
                \\begin{center}
                  \\includegraphics[width=3.4in]{\(path).pdf}\\par\\smallskip
                  \\begin{minipage}{\\linewidth}\\small \(inline(caption))\\end{minipage}
                \\end{center}
                """
        }
    }

    /// A table as a float with caption and label, for `\\input` into a paper, which numbers it.
    public static func floatingTable(_ table: ReportTable) -> String {
        (["\\begin{table}[htbp]", "  \\centering", "  \\caption{\(inline(table.caption))}",
          "  \\label{tab:\(table.title.lowercased().split { !$0.isLetter && !$0.isNumber }.joined(separator: "-"))}"]
            + body(table) + notes(table) + ["\\end{table}"]).joined(separator: "\n") + "\n"
    }

    /// The tabular in booktabs rules, scaled down when wider than the line; needs booktabs,
    /// graphicx and array.
    static func body(_ table: ReportTable) -> [String] {
        let spec = table.columns.map { column -> String in
            switch column.kind {
            case .text: return "l"
            case .prose(let share): return ">{\\raggedright\\arraybackslash}p{\(share)\\linewidth}"
            case .number: return "r"
            }
        }.joined()
        var lines = [
            "  \\small",
            "  \\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%",
            "  \\begin{tabular}{\(spec)}",
            "    \\toprule",
        ]
        lines.append("    " + table.columns.map { column in
            switch column.kind {
            case .number(_, let better?): return header(column.title, mark: better.arrow)
            case .prose: return inline(column.title)
            default: return header(column.title)
            }
        }.joined(separator: " & ") + " \\\\")
        lines.append("    \\midrule")
        let best = table.columns.indices.map(table.best(column:))
        for (index, row) in table.rows.enumerated() {
            if row.startsGroup && index > 0 { lines.append("    \\midrule") }
            let cells = row.cells.enumerated().map { column, cell -> String in
                switch cell {
                case .text(let text):
                    return inline(text)
                case .number(nil):
                    return missing
                case .number(let value?):
                    guard case .number(let format, _) = table.columns[column].kind else { return String(value) }
                    let shown = number(format.string(value))
                    return best[column].contains(index) ? "\\textbf{\(shown)}" : shown
                case .estimate(let mean, let plusMinus):
                    guard case .number(let format, _) = table.columns[column].kind else { return "\(mean) $\\pm$ \(plusMinus)" }
                    let shown = number(format.string(mean))
                    return (best[column].contains(index) ? "\\textbf{\(shown)}" : shown) + " $\\pm$ " + number(format.string(plusMinus))
                }
            }
            lines.append("    " + cells.joined(separator: " & ") + " \\\\")
        }
        return lines + ["    \\bottomrule", "  \\end{tabular}}"]
    }

    static func notes(_ table: ReportTable) -> [String] {
        table.notes.map { "  \\par\\smallskip\\begin{minipage}{\\linewidth}\\footnotesize \(inline($0))\\end{minipage}" }
    }

    /// A column title on two lines when it has several words, so that titles do not set the width
    /// of a column of short numbers; `mark` (which way is better) follows the last word.
    static func header(_ title: Text, mark: String? = nil) -> String {
        let words = title.plain.split(separator: " ").map(String.init)
        let marked = mark.map { " " + escape($0) } ?? ""
        guard words.count > 1, title.spans.allSatisfy({ if case .plain = $0 { true } else { false } }) else { return inline(title) + marked }
        // The break that makes the longer line shortest.
        func longer(_ split: Int) -> Int { max(words[..<split].joined(separator: " ").count, words[split...].joined(separator: " ").count) }
        let split = (1..<words.count).min { longer($0) < longer($1) }!
        let top = escape(words[..<split].joined(separator: " ")), bottom = escape(words[split...].joined(separator: " ")) + marked
        return "\\begin{tabular}[b]{@{}c@{}}\(top)\\\\\(bottom)\\end{tabular}"
    }

    /// A formatted number, its minus sign set as one (a bare hyphen is too short).
    static func number(_ shown: String) -> String {
        shown.hasPrefix("-") ? "$-$" + shown.dropFirst() : shown
    }

    static func inline(_ text: Text) -> String {
        text.spans.map { span in
            switch span {
            case .plain(let s): return escape(s)
            case .bold(let s): return "\\textbf{\(escape(s))}"
            // Hyphens in code stay apart ("--profile" must not become an en dash); quotes stay straight.
            case .code(let s): return "\\texttt{\(escape(s, code: true).replacingOccurrences(of: "-", with: "-{}"))}"
            }
        }.joined()
    }

    /// Escapes LaTeX's special characters and spells the non-ASCII characters the project writes
    /// (dashes, arrows, a few symbols) as commands, so that pdflatex needs no extra fonts. A double
    /// quote opens after a space or bracket and closes elsewhere, except in code, where it stays as typed.
    static func escape(_ text: String, code: Bool = false) -> String {
        var out = ""
        var previous: Character = " "
        for character in text {
            defer { previous = character }
            switch character {
            case "\\": out += "\\textbackslash{}"
            case "{", "}", "$", "&", "%", "#", "_": out += "\\\(character)"
            case "~": out += "\\textasciitilde{}"
            case "^": out += "\\textasciicircum{}"
            case "<": out += "\\textless{}"
            case ">": out += "\\textgreater{}"
            case "|": out += "\\textbar{}"
            case "\"" where code: out += "\""
            case "\"": out += previous.isWhitespace || "([{".contains(previous) ? "``" : "''"
            case "—": out += "---"
            case "–": out += "--"
            case "…": out += "\\ldots{}"
            case "−": out += "$-$"
            case "×": out += "$\\times$"
            case "α": out += "$\\alpha$"
            case "≥": out += "$\\geq$"
            case "≤": out += "$\\leq$"
            case "≈": out += "$\\approx$"
            case "±": out += "$\\pm$"
            case "↓": out += "$\\downarrow$"
            case "↑": out += "$\\uparrow$"
            case "→": out += "$\\rightarrow$"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}
