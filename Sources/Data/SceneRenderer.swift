import CCairo
import Foundation

extension Scene {
    /// The scene drawn by Cairo as a `size` x `size` RGB image: the same scene gives the same pixels.
    public func rendered(size: Int) -> RGBImage {
        RGBImage.draw(width: size, height: size) { context in
            let level = Double(background.level) / 255
            cairo_set_source_rgb(context, level, level, level)
            cairo_paint(context)
            let cell = Double(size) / 3
            for object in objects {
                let centerX = (Double(object.cell.column) + 0.5 + object.offsetX) * cell
                let centerY = (Double(object.cell.row) + 0.5 + object.offsetY) * cell
                draw(object, at: (centerX, centerY), radius: object.size.radiusFraction * cell, in: context)
            }
            if let text { draw(text, band: (top: 2 * cell, height: cell), width: Double(size), in: context) }
        }
    }

    private func draw(_ object: SceneObject, at center: (x: Double, y: Double), radius: Double, in context: OpaquePointer) {
        let (r, g, b) = object.color.rgb
        cairo_set_source_rgb(context, Double(r) / 255, Double(g) / 255, Double(b) / 255)
        // Outlines are thick enough to show the color at the smallest size.
        let line = max(1.6, radius * 0.3)
        cairo_set_line_width(context, line)
        cairo_set_line_join(context, CAIRO_LINE_JOIN_MITER)
        switch object.fill {
        case .solid:
            tracePath(object.shape, center: center, radius: radius, in: context)
            cairo_fill(context)
        case .outlined:
            // Inset by half the line so that an outlined object covers the same area as a solid one.
            tracePath(object.shape, center: center, radius: radius - line / 2, in: context)
            cairo_stroke(context)
        case .striped, .dotted:
            tracePath(object.shape, center: center, radius: radius, in: context)
            cairo_save(context)
            cairo_clip_preserve(context)
            let spacing = max(3, radius * 0.55)
            var offset = -2 * radius
            while offset <= 2 * radius {
                if object.fill == .striped {
                    cairo_move_to(context, center.x + offset - radius, center.y + radius)
                    cairo_line_to(context, center.x + offset + radius, center.y - radius)
                } else {
                    var y = -radius
                    while y <= radius {
                        cairo_new_sub_path(context)
                        cairo_arc(context, center.x + offset, center.y + y, spacing * 0.28, 0, 2 * .pi)
                        y += spacing
                    }
                }
                offset += spacing
            }
            if object.fill == .striped {
                cairo_set_line_width(context, spacing * 0.5)
                cairo_stroke(context)
            } else {
                cairo_fill(context)
            }
            cairo_restore(context)
            cairo_set_line_width(context, max(1, line / 2))
            cairo_stroke(context)
        }
    }

    /// Adds the shape's outline to the current path; `radius` is the distance from centre to the farthest point.
    private func tracePath(_ shape: Shape, center: (x: Double, y: Double), radius: Double, in context: OpaquePointer) {
        func polygon(_ corners: Int, radius: Double, rotation: Double, inner: Double? = nil, shiftY: Double = 0) {
            let points = inner == nil ? corners : corners * 2
            for i in 0..<points {
                let angle = rotation + Double(i) * 2 * .pi / Double(points)
                let distance = (inner != nil && i % 2 == 1) ? inner! : radius
                let x = center.x + distance * cos(angle), y = center.y + shiftY + distance * sin(angle)
                if i == 0 { cairo_move_to(context, x, y) } else { cairo_line_to(context, x, y) }
            }
            cairo_close_path(context)
        }
        let up = -Double.pi / 2
        switch shape {
        case .circle:
            cairo_new_sub_path(context)
            cairo_arc(context, center.x, center.y, radius * 0.92, 0, 2 * .pi)
        case .square:
            let half = radius * 0.8
            cairo_rectangle(context, center.x - half, center.y - half, 2 * half, 2 * half)
        case .triangle:
            // Lowered so that the triangle's bounding box, not its centroid, sits on the cell centre.
            polygon(3, radius: radius * 1.1, rotation: up, shiftY: radius * 0.2)
        case .star:
            polygon(5, radius: radius * 1.08, rotation: up, inner: radius * 0.48, shiftY: radius * 0.1)
        case .diamond:
            polygon(4, radius: radius, rotation: up)
        case .hexagon:
            polygon(6, radius: radius * 0.95, rotation: 0)
        case .cross:
            let arm = radius * 0.85, half = radius * 0.3
            let outline: [(Double, Double)] = [(-half, -arm), (half, -arm), (half, -half), (arm, -half), (arm, half), (half, half),
                                               (half, arm), (-half, arm), (-half, half), (-arm, half), (-arm, -half), (-half, -half)]
            for (i, (dx, dy)) in outline.enumerated() {
                if i == 0 { cairo_move_to(context, center.x + dx, center.y + dy) } else { cairo_line_to(context, center.x + dx, center.y + dy) }
            }
            cairo_close_path(context)
        }
    }

    private func draw(_ text: SceneText, band: (top: Double, height: Double), width: Double, in context: OpaquePointer) {
        let level = Double(background.textLevel) / 255
        cairo_set_source_rgb(context, level, level, level)
        // Code in a monospaced face, as code is shown; everything else in the sans face, bold for legibility.
        let face = text.kind == .code ? "DejaVu Sans Mono" : "DejaVu Sans"
        cairo_select_font_face(context, face, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD)
        let options = cairo_font_options_create()
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_FULL)
        cairo_set_font_options(context, options)
        cairo_font_options_destroy(options)
        let string = text.string
        var fontSize = band.height * 0.75
        var extents = cairo_text_extents_t()
        cairo_set_font_size(context, fontSize)
        cairo_text_extents(context, string, &extents)
        if extents.x_advance > width * 0.94 {
            fontSize *= width * 0.94 / extents.x_advance
            cairo_set_font_size(context, fontSize)
            cairo_text_extents(context, string, &extents)
        }
        let x = (width - extents.width) / 2 - extents.x_bearing
        // Centre on the font's cap height rather than the ink, so that "x = 2" and "47" sit on one baseline.
        var font = cairo_font_extents_t()
        cairo_font_extents(context, &font)
        let y = band.top + band.height / 2 + (font.ascent - font.descent) / 2 - 1
        cairo_move_to(context, x.rounded(), y.rounded())
        cairo_show_text(context, string)
    }
}

extension DataRecipe {
    /// The image a scene key names in this world, at the recipe's image size.
    public func image(of key: SceneKey) -> RGBImage {
        Scene(recipe: self, key: key).rendered(size: imageSize)
    }
}
