/// Documents as GitHub-flavoured Markdown.
public enum Markdown {
    /// What a cell without a value shows.
    static let missing = "—"

    public static func render(_ blocks: [Block]) -> String {
        blocks.map(block).joined(separator: "\n\n") + "\n"
    }

    static func block(_ block: Block) -> String {
        switch block {
        case .heading(let level, let text):
            return String(repeating: "#", count: level) + " " + inline(text)
        case .paragraph(let text):
            return inline(text)
        case .quote(let text):
            return "> " + inline(text)
        case .bullets(let items):
            return items.map { "- " + inline($0) }.joined(separator: "\n")
        case .table(let table):
            return self.table(table)
        case .figure(let path, let caption):
            return "![\(escape(caption.plain))](\(path).png)\n\n" + inline(caption)
        }
    }

    static func table(_ table: ReportTable) -> String {
        var lines = ["**\(escape(table.title)).** " + inline(table.caption), ""]
        lines.append("| " + table.columns.map { column in
            if case .number(_, let better?) = column.kind { return inline(column.title + Text(" \(better.arrow)"), inTable: true) }
            return inline(column.title, inTable: true)
        }.joined(separator: " | ") + " |")
        lines.append("|" + table.columns.map { column -> String in if case .number = column.kind { "---:" } else { ":---" } }.joined(separator: "|") + "|")
        let best = table.columns.indices.map(table.best(column:))
        for (index, row) in table.rows.enumerated() {
            let cells = row.cells.enumerated().map { column, cell -> String in
                switch cell {
                case .text(let text):
                    return inline(text, inTable: true)
                case .number(nil):
                    return missing
                case .number(let value?):
                    guard case .number(let format, _) = table.columns[column].kind else { return String(value) }
                    let shown = format.string(value)
                    return best[column].contains(index) ? "**\(shown)**" : shown
                case .estimate(let mean, let plusMinus):
                    guard case .number(let format, _) = table.columns[column].kind else { return "\(mean) ± \(plusMinus)" }
                    let shown = format.string(mean)
                    return (best[column].contains(index) ? "**\(shown)**" : shown) + " ± " + format.string(plusMinus)
                }
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        if !table.notes.isEmpty { lines += ["", table.notes.map { inline($0) }.joined(separator: "\n\n")] }
        return lines.joined(separator: "\n")
    }

    static func inline(_ text: Text, inTable: Bool = false) -> String {
        text.spans.map { span in
            switch span {
            case .plain(let s): return escape(s)
            case .bold(let s): return "**" + escape(s) + "**"
            case .code(let s): return codeSpan(s, inTable: inTable)
            }
        }.joined()
    }

    /// Backslash-escapes the characters Markdown would read as markup (the pipe too, which would end
    /// a table cell); line breaks become spaces.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#": out += "\\\(character)"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }

    /// A code span fenced by one backtick more than the longest run inside it. In a table a pipe
    /// would still end the cell, so it is escaped there even inside code.
    static func codeSpan(_ code: String, inTable: Bool) -> String {
        var longest = 0, run = 0
        for character in code {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        var body = code.replacingOccurrences(of: "\n", with: " ")
        if inTable { body = body.replacingOccurrences(of: "|", with: "\\|") }
        if body.hasPrefix("`") || body.hasSuffix("`") { body = " \(body) " }
        return fence + body + fence
    }
}
