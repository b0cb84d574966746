/// Documents as one self-contained HTML page: the figures inline as SVG, the style in the page, no
/// script and nothing loaded from elsewhere (its content security policy forbids it), laid out for
/// a phone's width as for a desktop's, and for print.
public enum HTML {
    /// What a cell without a value shows.
    static let missing = "—"

    /// A complete page. `figures` holds, for each figure path of the blocks, the SVG that Cairo wrote
    /// for it (its XML prologue and ids are handled here); a figure without one shows a note instead.
    public static func document(title: Text, blocks: [Block], figures: [String: String]) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
        <title>\(escape(title.plain))</title>
        <style>
        \(style)</style>
        </head>
        <body>
        <main>
        <h1>\(inline(title))</h1>
        \(render(blocks, figures: figures))</main>
        </body>
        </html>

        """
    }

    /// The blocks alone, as the inside of a page's body.
    public static func render(_ blocks: [Block], figures: [String: String] = [:]) -> String {
        var figureCount = 0
        return blocks.map { block -> String in
            if case .figure(let path, let caption) = block {
                figureCount += 1
                return figure(path: path, caption: caption, svg: figures[path], prefix: "f\(figureCount)-")
            }
            return self.block(block)
        }.joined(separator: "\n") + "\n"
    }

    static func block(_ block: Block) -> String {
        switch block {
        case .heading(let level, let text):
            let tag = "h\(min(max(level, 1), 6))"
            return "<\(tag)>\(inline(text))</\(tag)>"
        case .paragraph(let text):
            return "<p>\(inline(text))</p>"
        case .quote(let text):
            return "<blockquote><p>\(inline(text))</p></blockquote>"
        case .bullets(let items):
            return "<ul>\n" + items.map { "<li>\(inline($0))</li>\n" }.joined() + "</ul>"
        case .table(let table):
            return self.table(table)
        case .figure(let path, let caption):
            return figure(path: path, caption: caption, svg: nil, prefix: "f-")
        }
    }

    /// A figure: its SVG inline, full width, under a caption; or a note that its file is missing.
    static func figure(path: String, caption: Text, svg: String?, prefix: String) -> String {
        guard let svg, let inline = inlineSVG(svg, prefix: prefix, label: caption.plain) else {
            return "<figure class=\"chart missing\">\n<p>The figure's file \(escape(path)).svg could not be read.</p>\n<figcaption>\(self.inline(caption))</figcaption>\n</figure>"
        }
        return "<figure class=\"chart\">\n\(inline)\n<figcaption>\(self.inline(caption))</figcaption>\n</figure>"
    }

    /// An SVG file's markup ready to sit inside a page: the XML prologue and comments before the
    /// root dropped, every id (and every reference to one) given `prefix` so that two figures'
    /// glyph and surface ids do not collide, and the root labelled for screen readers. Nil when
    /// there is no `<svg` root.
    static func inlineSVG(_ svg: String, prefix: String, label: String) -> String? {
        guard let root = svg.range(of: "<svg") else { return nil }
        var body = String(svg[root.lowerBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
        // Cairo names glyphs, clips, surfaces and images by id and refers to them by href or url().
        for (mark, replacement) in [(" id=\"", " id=\"\(prefix)"), ("href=\"#", "href=\"#\(prefix)"), ("url(#", "url(#\(prefix)")] {
            body = body.replacingOccurrences(of: mark, with: replacement)
        }
        body.replaceSubrange(body.startIndex..<body.index(body.startIndex, offsetBy: 4),
                             with: "<svg role=\"img\" aria-label=\"\(escape(label))\"")
        return body
    }

    static func table(_ table: ReportTable) -> String {
        // A table of prose stays in the text's column and wraps its text. One of short cells keeps
        // each cell on one line and may grow wider than the column, up to the window's width. Either
        // scrolls sideways on a screen narrower than it, and the region that scrolls is reachable by keyboard.
        let prose = table.columns.contains { if case .prose = $0.kind { true } else { false } }
        var lines = ["<figure class=\"table\">",
                     "<figcaption><strong>\(escape(table.title)).</strong> \(inline(table.caption))</figcaption>",
                     "<div class=\"\(prose ? "scroll" : "scroll wide")\" role=\"region\" tabindex=\"0\" aria-label=\"\(escape(table.title))\">",
                     "<table>", "<thead>", "<tr>"]
        for column in table.columns {
            switch column.kind {
            case .number(_, let better):
                lines.append("<th class=\"num\">\(header(column.title, mark: better?.arrow))</th>")
            case .prose:
                lines.append("<th class=\"prose\">\(header(column.title))</th>")
            case .text:
                lines.append("<th>\(header(column.title))</th>")
            }
        }
        lines += ["</tr>", "</thead>", "<tbody>"]
        let best = table.columns.indices.map(table.best(column:))
        for (index, row) in table.rows.enumerated() {
            lines.append(row.startsGroup && index > 0 ? "<tr class=\"group\">" : "<tr>")
            for (column, cell) in row.cells.enumerated() {
                switch cell {
                case .text(let text):
                    if case .prose = table.columns[column].kind { lines.append("<td class=\"prose\">\(inline(text))</td>") } else { lines.append("<td>\(inline(text))</td>") }
                case .number(nil):
                    lines.append("<td class=\"num\">\(missing)</td>")
                case .number(let value?):
                    guard case .number(let format, _) = table.columns[column].kind else { lines.append("<td>\(escape(String(value)))</td>"); continue }
                    let shown = number(format.string(value))
                    lines.append(best[column].contains(index) ? "<td class=\"num\"><strong>\(shown)</strong></td>" : "<td class=\"num\">\(shown)</td>")
                case .estimate(let mean, let plusMinus):
                    guard case .number(let format, _) = table.columns[column].kind else { lines.append("<td>\(escape("\(mean) ± \(plusMinus)"))</td>"); continue }
                    let shown = number(format.string(mean))
                    let interval = " <span class=\"pm\">± \(number(format.string(plusMinus)))</span>"
                    lines.append(best[column].contains(index) ? "<td class=\"num\"><strong>\(shown)</strong>\(interval)</td>" : "<td class=\"num\">\(shown)\(interval)</td>")
                }
            }
            lines.append("</tr>")
        }
        lines += ["</tbody>", "</table>", "</div>"]
        lines += table.notes.map { "<p class=\"note\">\(inline($0))</p>" }
        lines.append("</figure>")
        return lines.joined(separator: "\n")
    }

    /// A column title that wraps between its words but not inside one ("ROUGE-1" stays whole), with
    /// `mark` (which way is better) kept on the line of its last word.
    static func header(_ title: Text, mark: String? = nil) -> String {
        var html = title.spans.map { span -> String in
            guard case .plain(let s) = span else { return inline(Text([span])) }
            return s.split(separator: " ", omittingEmptySubsequences: false).map { word in
                word.contains("-") ? "<span class=\"nobr\">\(escape(String(word)))</span>" : escape(String(word))
            }.joined(separator: " ")
        }.joined()
        if let mark { html += "\u{00A0}" + escape(mark) }
        return html
    }

    /// A formatted number, its minus sign set as one (a hyphen is too short).
    static func number(_ shown: String) -> String {
        escape(shown.hasPrefix("-") ? "−" + shown.dropFirst() : shown)
    }

    static func inline(_ text: Text) -> String {
        text.spans.map { span in
            switch span {
            case .plain(let s): return escape(s)
            case .bold(let s): return "<strong>\(escape(s))</strong>"
            case .code(let s): return "<code>\(escape(s))</code>"
            }
        }.joined()
    }

    /// Escapes the characters HTML reads as markup, in text and in quoted attribute values alike.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// The page's style: one readable column, tables that scroll sideways inside their wrapper,
    /// figures as wide as the column (up to the size at which their 7-pt text reads as body text),
    /// and a print layout without the scrolling.
    static let style = """
        :root { color-scheme: light; }
        *, *::before, *::after { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
        body { margin: 0; color: #1b1b1b; background: #fff; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 82rem; margin: 0 auto; padding: 1rem 1rem 3rem; overflow-wrap: break-word; }
        h1 { font-size: 1.6rem; line-height: 1.25; margin: 1rem 0 .5rem; }
        h2 { font-size: 1.3rem; line-height: 1.3; margin: 2.2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 1px solid #d0d0d0; }
        h3 { font-size: 1.12rem; margin: 1.8rem 0 .5rem; }
        h4, h5, h6 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
        p, ul { margin: .6rem 0; }
        ul { padding-left: 1.4rem; }
        li { margin: .25rem 0; }
        blockquote { margin: .8rem 0; padding: .1rem .9rem; border-left: 3px solid #b8b8b8; color: #3d3d3d; font-style: italic; }
        code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .88em; background: #f2f2f2; border-radius: 3px; padding: .05em .25em; overflow-wrap: anywhere; }
        figure { margin: 1.4rem 0; }
        figcaption { font-size: .92rem; color: #333; }
        figure.table figcaption { margin-bottom: .4rem; }
        figure.chart { text-align: center; }
        figure.chart svg { display: block; width: 100%; max-width: 34rem; height: auto; margin: 0 auto .5rem; }
        figure.chart figcaption { text-align: left; max-width: 34rem; margin: 0 auto; }
        figure.missing p { padding: 1rem; border: 1px dashed #999; color: #555; }
        .scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; max-width: 100%;
          /* Shadows at an edge past which the table goes on; white covers them at the table's own ends. */
          background: linear-gradient(to right, #fff 40%, rgba(255, 255, 255, 0)) left / 1.5rem 100% no-repeat local,
            linear-gradient(to left, #fff 40%, rgba(255, 255, 255, 0)) right / 1.5rem 100% no-repeat local,
            radial-gradient(farthest-side at 0 50%, rgba(0, 0, 0, .2), rgba(0, 0, 0, 0)) left / .6rem 100% no-repeat scroll,
            radial-gradient(farthest-side at 100% 50%, rgba(0, 0, 0, .2), rgba(0, 0, 0, 0)) right / .6rem 100% no-repeat scroll; }
        /* The text's column, in the middle of the page; only a wide table grows past it. */
        main > *, main > figure.table > * { max-width: 50rem; margin-left: auto; margin-right: auto; }
        main > figure.table { max-width: none; }
        main > figure.table > .scroll.wide { width: max-content; min-width: min(50rem, 100%); max-width: 100%; }
        .scroll:focus { outline: 2px solid #4a78c2; outline-offset: 2px; }
        table { border-collapse: collapse; font-size: .86rem; line-height: 1.4; border-top: 2px solid #222; border-bottom: 2px solid #222; }
        th, td { padding: .3rem .55rem; text-align: left; vertical-align: top; }
        thead th { border-bottom: 1px solid #222; vertical-align: bottom; }
        tbody tr + tr td { border-top: 1px solid #e4e4e4; }
        tbody tr.group td { border-top: 1px solid #222; }
        th.num { text-align: right; }
        td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
        td.num .pm { color: #555; font-size: 0.9em; }
        .scroll.wide td, .nobr { white-space: nowrap; }
        th.prose, td.prose { min-width: 13rem; }
        td code { white-space: nowrap; overflow-wrap: normal; }
        .note { font-size: .82rem; color: #444; margin: .4rem 0 0; }
        @media (max-width: 30rem) {
          main { padding: .75rem .75rem 2rem; }
          h1 { font-size: 1.35rem; }
          h2 { font-size: 1.18rem; }
          table { font-size: .8rem; }
          th.prose, td.prose { min-width: 8rem; }
        }
        @media print {
          @page { margin: 1.6cm; }
          body { font-size: 10pt; line-height: 1.4; }
          main { max-width: none; padding: 0; }
          main > *, main > figure.table > * { max-width: none; }
          h2, h3, h4 { break-after: avoid; }
          figure, blockquote, tr { break-inside: avoid; }
          .scroll, main > figure.table > .scroll.wide { overflow: visible; background: none; width: auto; min-width: 0; }
          .scroll.wide td { white-space: normal; }
          table { font-size: 8pt; }
          th.prose, td.prose { min-width: 0; }
          td code { white-space: normal; overflow-wrap: anywhere; }
          code { background: none; padding: 0; }
          figure.chart svg { max-width: 12cm; }
        }

        """
}
