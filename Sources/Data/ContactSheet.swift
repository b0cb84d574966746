import CCairo
import Foundation

/// A grid of images, each enlarged with its caption lines underneath: data is checked by looking at it.
public enum ContactSheet {
    /// One tile: an image, a bold title and lines of text wrapped under it.
    public struct Entry: Sendable {
        public let image: RGBImage
        public let title: String
        public let lines: [String]

        public init(image: RGBImage, title: String, lines: [String]) {
            self.image = image
            self.title = title
            self.lines = lines
        }
    }

    /// The tallest image Cairo can make, in pixels.
    public static let maxHeight = 32767

    /// The sheet: tiles `scale` times their images' size (nearest neighbour, so the model's pixels show),
    /// `columns` to a row, in pages of at most `maxHeight` pixels (a probe of 25 questions per skill
    /// needs about 42,000): a row that would not fit starts the next page.
    public static func render(_ entries: [Entry], scale: Int = 4, columns: Int = 4, maxHeight: Int = maxHeight) -> [RGBImage] {
        precondition(!entries.isEmpty, "a contact sheet needs at least one entry")
        let tileWidth = entries.map(\.image.width).max()! * scale
        let imageHeight = entries.map(\.image.height).max()! * scale
        let margin = 12.0, fontSize = 12.0, lineHeight = 15.0
        let wrapped = measuringContext { context in
            entries.map { entry in
                [(entry.title, true)] + entry.lines.map { ($0, false) }
            }.map { lines in
                lines.flatMap { line, bold in
                    wrap(line, bold: bold, width: Double(tileWidth), fontSize: fontSize, in: context).map { ($0, bold) }
                }
            }
        }
        let rows = (entries.count + columns - 1) / columns
        let rowHeights = (0..<rows).map { row in
            let lines = wrapped[(row * columns)..<min(entries.count, (row + 1) * columns)].map(\.count).max()!
            return Double(imageHeight) + 6 + Double(lines) * lineHeight + margin
        }
        var pages: [Range<Int>] = []
        var first = 0, height = margin
        for row in 0..<rows {
            if row > first && height + rowHeights[row] > Double(maxHeight) {
                pages.append(first..<row)
                (first, height) = (row, margin)
            }
            height += rowHeights[row]
        }
        pages.append(first..<rows)
        let width = Int(margin) + min(columns, entries.count) * (tileWidth + Int(margin))
        return pages.map { pageRows in
            let height = Int(margin + pageRows.map { rowHeights[$0] }.reduce(0, +))
            return RGBImage.draw(width: width, height: height) { context in
                cairo_set_source_rgb(context, 1, 1, 1)
                cairo_paint(context)
                var top = margin
                for row in pageRows {
                    for column in 0..<columns {
                        let index = row * columns + column
                        guard index < entries.count else { break }
                        let left = margin + Double(column * (tileWidth + Int(margin)))
                        drawTile(entries[index], lines: wrapped[index], left: left, top: top, scale: scale,
                                 textTop: top + Double(imageHeight) + 6, fontSize: fontSize, lineHeight: lineHeight, in: context)
                    }
                    top += rowHeights[row]
                }
            }
        }
    }

    /// One tile: the image enlarged `scale` times with a grey frame at (`left`, `top`), its caption lines from `textTop` down.
    private static func drawTile(_ entry: Entry, lines: [(String, Bool)], left: Double, top: Double, scale: Int, textTop: Double,
                                 fontSize: Double, lineHeight: Double, in context: OpaquePointer) {
        let surface = entry.image.makeSurface()
        cairo_save(context)
        cairo_translate(context, left, top)
        cairo_scale(context, Double(scale), Double(scale))
        cairo_set_source_surface(context, surface, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_NEAREST)
        cairo_paint(context)
        cairo_restore(context)
        cairo_surface_destroy(surface)
        cairo_set_source_rgb(context, 0.5, 0.5, 0.5)
        cairo_set_line_width(context, 1)
        cairo_rectangle(context, left - 0.5, top - 0.5, Double(entry.image.width * scale) + 1, Double(entry.image.height * scale) + 1)
        cairo_stroke(context)
        var baseline = textTop + fontSize
        for (line, bold) in lines {
            cairo_select_font_face(context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
            cairo_set_font_size(context, fontSize)
            cairo_set_source_rgb(context, 0, 0, 0)
            cairo_move_to(context, left, baseline)
            cairo_show_text(context, line)
            baseline += lineHeight
        }
    }

    /// Writes `pages` as PNG files: the first at `url`, the others beside it numbered from 2
    /// (`probe.png`, `probe-2.png`, ...). Returns the files written.
    public static func write(_ pages: [RGBImage], to url: URL) throws -> [URL] {
        let (stem, suffix) = (url.deletingPathExtension(), url.pathExtension.isEmpty ? "" : "." + url.pathExtension)
        let urls = pages.indices.map { $0 == 0 ? url : URL(fileURLWithPath: stem.path + "-\($0 + 1)" + suffix) }
        for (page, file) in zip(pages, urls) { try page.writePNG(to: file) }
        return urls
    }

    /// Splits a line at spaces (and newlines) so that each piece fits `width` pixels.
    private static func wrap(_ text: String, bold: Bool, width: Double, fontSize: Double, in context: OpaquePointer) -> [String] {
        cairo_select_font_face(context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, fontSize)
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            for word in paragraph.split(separator: " ") {
                let candidate = current.isEmpty ? String(word) : current + " " + word
                var extents = cairo_text_extents_t()
                cairo_text_extents(context, candidate, &extents)
                if extents.x_advance > width && !current.isEmpty {
                    lines.append(current)
                    current = String(word)
                } else {
                    current = candidate
                }
            }
            lines.append(current)
        }
        return lines
    }

    /// Runs `body` with a scratch context for measuring text.
    private static func measuringContext<T>(_ body: (OpaquePointer) -> T) -> T {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1)!
        let context = cairo_create(surface)!
        defer {
            cairo_destroy(context)
            cairo_surface_destroy(surface)
        }
        return body(context)
    }
}
