import CCairo
import Foundation

/// A line chart of loss against optimizer step, drawn with Cairo at the width of one column of a
/// two-column paper (3.4 inches), with no text smaller than 7 pt, to PNG (300 dpi), PDF and SVG.
public struct LossChart: Sendable {
    public struct Point: Sendable, Equatable {
        public var step: Double
        public var loss: Double

        public init(step: Double, loss: Double) {
            self.step = step
            self.loss = loss
        }
    }

    /// Where a band around a line lies at one step: its lower and upper loss.
    public struct BandPoint: Sendable, Equatable {
        public var step: Double
        public var low: Double
        public var high: Double

        public init(step: Double, low: Double, high: Double) {
            self.step = step
            self.low = low
            self.high = high
        }
    }

    public struct Series: Sendable {
        public var label: String
        public var points: [Point]
        /// Red, green, blue in 0...1.
        public var color: (Double, Double, Double)
        public var dashed: Bool
        /// A spread around the line (over several seeds, say), filled in the line's colour, translucent,
        /// between its lower and upper curve; empty for none.
        public var band: [BandPoint]

        public init(label: String, points: [Point], color: (Double, Double, Double), dashed: Bool, band: [BandPoint] = []) {
            self.label = label
            self.points = points
            self.color = color
            self.dashed = dashed
            self.band = band
        }
    }

    /// The opacity of a band's fill: the lines and the grid show through it.
    static let bandOpacity = 0.2

    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Dots at each point, for curves measured at a few checkpoints only.
    public var markers: Bool
    /// The legend fills these columns top to bottom, left to right, each under its title.
    public var legendTitles: [String]

    public init(xLabel: String, yLabel: String, series: [Series], markers: Bool = false, legendTitles: [String] = ["", ""]) {
        precondition(!legendTitles.isEmpty, "a legend needs at least one column")
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.markers = markers
        self.legendTitles = legendTitles
    }

    /// Width in points (1/72 inch): one column of a two-column paper.
    public static let width = 3.4 * 72
    /// The PNG's resolution.
    public static let dpi = 300.0
    /// Colour-blind-safe colours (Okabe and Ito), dark enough on white.
    public static let palette: [(Double, Double, Double)] = [
        (0 / 255, 114 / 255, 178 / 255), (213 / 255, 94 / 255, 0 / 255), (0 / 255, 158 / 255, 115 / 255),
        (204 / 255, 121 / 255, 167 / 255), (0, 0, 0), (230 / 255, 159 / 255, 0 / 255), (86 / 255, 180 / 255, 233 / 255),
    ]

    static let font = "DejaVu Sans"
    static let tickSize = 7.0, labelSize = 8.0, legendSize = 7.0
    /// Room above the plot for half the top tick label; below it, for ticks, their labels and the axis label.
    static let top = 8.0, plotHeight = 150.0, below = 27.0, legendRowHeight = 9.5

    /// Height in points: the plot, its axes, and the legend's rows.
    public var height: Double {
        let rows = (series.count + legendTitles.count - 1) / legendTitles.count
        let titleRow = legendTitles.contains { !$0.isEmpty } ? 1 : 0
        return Self.top + Self.plotHeight + Self.below + Double(rows + titleRow) * Self.legendRowHeight + 4
    }

    /// The PNG's size in pixels.
    public var pixelSize: (width: Int, height: Int) {
        (Int((Self.width * Self.dpi / 72).rounded()), Int((height * Self.dpi / 72).rounded()))
    }

    /// Writes `base`.png, .pdf and .svg and returns their URLs.
    public func write(to base: URL) throws -> [URL] {
        let png = base.appendingPathExtension("png"), pdf = base.appendingPathExtension("pdf"), svg = base.appendingPathExtension("svg")
        let scale = Self.dpi / 72
        let image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(pixelSize.width), Int32(pixelSize.height))!
        draw(on: image, scale: scale)
        let written = cairo_surface_write_to_png(image, png.path)
        cairo_surface_destroy(image)
        guard written == CAIRO_STATUS_SUCCESS else { throw ChartError(file: png, status: written) }
        for (url, create) in [(pdf, cairo_pdf_surface_create), (svg, cairo_svg_surface_create)] {
            let surface = create(url.path, Self.width, height)!
            // A fixed creation date, so that the same data gives the same bytes (cairo writes the clock's otherwise).
            if url == pdf { cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, "2000-01-01T00:00:00Z") }
            draw(on: surface, scale: 1)
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            cairo_surface_destroy(surface)
            guard status == CAIRO_STATUS_SUCCESS else { throw ChartError(file: url, status: status) }
        }
        return [png, pdf, svg]
    }

    private func draw(on surface: OpaquePointer, scale: Double) {
        let context = cairo_create(surface)!
        defer { cairo_destroy(context) }
        cairo_scale(context, scale, scale)
        // Unhinted metrics, so that text measures the same on every surface and the layouts agree.
        let options = cairo_font_options_create()
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        cairo_set_font_options(context, options)
        cairo_font_options_destroy(options)
        cairo_select_font_face(context, Self.font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_source_rgb(context, 1, 1, 1)
        cairo_paint(context)

        // The axes hold every point and every band's edges.
        let bands = series.flatMap(\.band)
        let steps = series.flatMap(\.points).map(\.step) + bands.map(\.step)
        let losses = series.flatMap(\.points).map(\.loss) + bands.flatMap { [$0.low, $0.high] }
        let xTicks = Self.ticks(low: 0, high: max(steps.max() ?? 1, 1))
        let yTicks = Self.ticks(low: losses.min() ?? 0, high: losses.max() ?? 1)
        cairo_set_font_size(context, Self.tickSize)
        let yTickWidth = yTicks.values.map { width(of: yTicks.label($0), in: context) }.max() ?? 0
        let plot = (left: 4 + Self.labelSize + 5 + yTickWidth + 5, top: Self.top,
                    right: Self.width - 8, bottom: Self.top + Self.plotHeight)
        func x(_ step: Double) -> Double { plot.left + (step - xTicks.low) / (xTicks.high - xTicks.low) * (plot.right - plot.left) }
        func y(_ loss: Double) -> Double { plot.bottom - (loss - yTicks.low) / (yTicks.high - yTicks.low) * (plot.bottom - plot.top) }

        // Grid, then the frame and ticks with their labels.
        cairo_set_line_width(context, 0.3)
        cairo_set_source_rgb(context, 0.85, 0.85, 0.85)
        for value in yTicks.values {
            cairo_move_to(context, plot.left, y(value))
            cairo_line_to(context, plot.right, y(value))
        }
        cairo_stroke(context)
        cairo_set_source_rgb(context, 0, 0, 0)
        cairo_set_line_width(context, 0.6)
        cairo_rectangle(context, plot.left, plot.top, plot.right - plot.left, plot.bottom - plot.top)
        cairo_stroke(context)
        for value in xTicks.values {
            cairo_move_to(context, x(value), plot.bottom)
            cairo_line_to(context, x(value), plot.bottom + 3)
            cairo_stroke(context)
            let label = xTicks.label(value)
            cairo_move_to(context, x(value) - width(of: label, in: context) / 2, plot.bottom + 3 + 2 + Self.tickSize * 0.75)
            cairo_show_text(context, label)
        }
        for value in yTicks.values {
            cairo_move_to(context, plot.left - 3, y(value))
            cairo_line_to(context, plot.left, y(value))
            cairo_stroke(context)
            let label = yTicks.label(value)
            cairo_move_to(context, plot.left - 5 - width(of: label, in: context), y(value) + Self.tickSize * 0.36)
            cairo_show_text(context, label)
        }
        cairo_set_font_size(context, Self.labelSize)
        let xLabelBaseline = plot.bottom + 3 + 2 + Self.tickSize + 3 + Self.labelSize * 0.75
        cairo_move_to(context, (plot.left + plot.right) / 2 - width(of: xLabel, in: context) / 2, xLabelBaseline)
        cairo_show_text(context, xLabel)
        cairo_save(context)
        cairo_move_to(context, 4 + Self.labelSize * 0.75, (plot.top + plot.bottom) / 2 + width(of: yLabel, in: context) / 2)
        cairo_rotate(context, -Double.pi / 2)
        cairo_show_text(context, yLabel)
        cairo_restore(context)

        // The bands under every line, then the curves; the axes' ranges hold every point, so nothing is
        // clipped (a dot on the frame shows whole).
        for line in series where !line.band.isEmpty {
            fillBand(line, through: line.band.sorted { $0.step < $1.step }.map { (x($0.step), y($0.low), y($0.high)) }, in: context)
        }
        for line in series where !line.points.isEmpty {
            let placed = line.points.map { (x($0.step), y($0.loss)) }
            // A curve of one point is a dot, or it would not show at all.
            stroke(line, through: placed, dots: markers || placed.count == 1 ? placed : [], in: context)
        }

        // The legend, column by column under the x label.
        let columns = legendTitles.count
        let rows = (series.count + columns - 1) / columns
        let columnWidth = (Self.width - 12) / Double(columns)
        var top = plot.bottom + Self.below
        cairo_set_font_size(context, Self.legendSize)
        if legendTitles.contains(where: { !$0.isEmpty }) {
            cairo_select_font_face(context, Self.font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD)
            for (column, title) in legendTitles.enumerated() {
                cairo_move_to(context, 6 + Double(column) * columnWidth, top + Self.legendSize * 0.75 + 1)
                cairo_show_text(context, title)
            }
            cairo_select_font_face(context, Self.font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
            top += Self.legendRowHeight
        }
        for (index, line) in series.enumerated() {
            let left = 6 + Double(index / rows) * columnWidth
            let middle = top + (Double(index % rows) + 0.5) * Self.legendRowHeight
            if !line.band.isEmpty { fillBand(line, through: [(left, middle + 2.5, middle - 2.5), (left + 16, middle + 2.5, middle - 2.5)], in: context) }
            stroke(line, through: [(left, middle), (left + 16, middle)], dots: markers ? [(left + 8, middle)] : [], in: context)
            let empty = line.points.isEmpty
            cairo_set_source_rgb(context, empty ? 0.5 : 0, empty ? 0.5 : 0, empty ? 0.5 : 0)
            cairo_move_to(context, left + 19, middle + Self.legendSize * 0.36)
            cairo_show_text(context, empty ? "\(line.label) (no run)" : line.label)
        }
    }

    /// Strokes a series through `placed` in its colour and dash, with a dot at each of `dots`.
    private func stroke(_ line: Series, through placed: [(Double, Double)], dots: [(Double, Double)], in context: OpaquePointer) {
        let (red, green, blue) = line.color
        cairo_set_source_rgb(context, red, green, blue)
        cairo_set_line_width(context, 1)
        cairo_set_line_join(context, CAIRO_LINE_JOIN_ROUND)
        if placed.count > 1 {
            var dashes = [3.5, 1.8]
            cairo_set_dash(context, &dashes, line.dashed ? 2 : 0, 0)
            cairo_move_to(context, placed[0].0, placed[0].1)
            for (x, y) in placed.dropFirst() { cairo_line_to(context, x, y) }
            cairo_stroke(context)
            cairo_set_dash(context, nil, 0, 0)
        }
        for (x, y) in dots {
            cairo_new_sub_path(context)
            cairo_arc(context, x, y, 1.6, 0, 2 * Double.pi)
        }
        cairo_fill(context)
    }

    /// Fills a band in its series' colour, translucent: along the upper edge `(x, yLow, yHigh)` and
    /// back along the lower one. A band of one step is a bar across its spread.
    private func fillBand(_ line: Series, through placed: [(x: Double, low: Double, high: Double)], in context: OpaquePointer) {
        let (red, green, blue) = line.color
        cairo_set_source_rgba(context, red, green, blue, Self.bandOpacity)
        guard placed.count > 1 else {
            if let only = placed.first {
                cairo_set_line_width(context, 2.5)
                cairo_move_to(context, only.x, only.low)
                cairo_line_to(context, only.x, only.high)
                cairo_stroke(context)
            }
            return
        }
        cairo_move_to(context, placed[0].x, placed[0].high)
        for point in placed.dropFirst() { cairo_line_to(context, point.x, point.high) }
        for point in placed.reversed() { cairo_line_to(context, point.x, point.low) }
        cairo_close_path(context)
        cairo_fill(context)
    }

    private func width(of text: String, in context: OpaquePointer) -> Double {
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        return extents.x_advance
    }

    /// Round tick values spanning [low, high]: a step of 1, 2, 2.5 or 5 times a power of ten, about five ticks.
    static func ticks(low: Double, high: Double) -> Ticks {
        let span = high > low ? high - low : max(abs(high), 1)
        let raw = span / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw }!
        let first = floor(low / step) * step
        var last = ceil(high / step) * step
        if last <= first { last = first + step }
        let count = Int(((last - first) / step).rounded())
        let decimals = max(0, -Int(floor(log10(step)))) + (step / magnitude == 2.5 ? 1 : 0)
        return Ticks(low: first, high: last, values: (0...count).map { first + Double($0) * step }, decimals: decimals)
    }

    struct Ticks {
        let low: Double
        let high: Double
        let values: [Double]
        let decimals: Int

        func label(_ value: Double) -> String { String(format: "%.\(decimals)f", value) }
    }
}

/// A figure file Cairo could not write.
public struct ChartError: Error, CustomStringConvertible {
    public let file: URL
    let status: cairo_status_t

    public var description: String { "cannot write \(file.path): \(String(cString: cairo_status_to_string(status)))" }
}
