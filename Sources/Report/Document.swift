/// A line of prose: plain text with code and bold spans, so that one document renders to Markdown,
/// LaTeX and HTML, each escaping the plain text its own way.
///
/// `"run \(code: "repro run exp03") first"` makes a code span; other interpolations are plain text.
public struct Text: Sendable, Equatable, ExpressibleByStringInterpolation {
    public enum Span: Sendable, Equatable {
        case plain(String)
        case code(String)
        case bold(String)
    }

    public var spans: [Span]

    public init(_ spans: [Span]) { self.spans = spans }
    public init(_ plain: String) { spans = [.plain(plain)] }
    public init(stringLiteral value: String) { spans = [.plain(value)] }
    public init(stringInterpolation: Interpolation) { spans = stringInterpolation.spans }

    public struct Interpolation: StringInterpolationProtocol {
        var spans: [Span] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { if !literal.isEmpty { spans.append(.plain(literal)) } }
        public mutating func appendInterpolation(_ value: some CustomStringConvertible) { spans.append(.plain(value.description)) }
        public mutating func appendInterpolation(code: String) { spans.append(.code(code)) }
        public mutating func appendInterpolation(bold: String) { spans.append(.bold(bold)) }
        public mutating func appendInterpolation(_ text: Text) { spans += text.spans }
    }

    /// The text without markup (for terminals and tests).
    public var plain: String {
        spans.map { span in
            switch span {
            case .plain(let s), .bold(let s): return s
            case .code(let s): return "`\(s)`"
            }
        }.joined()
    }

    public static func + (lhs: Text, rhs: Text) -> Text { Text(lhs.spans + rhs.spans) }
}

/// A part of a document.
public enum Block: Sendable {
    case heading(level: Int, Text)
    case paragraph(Text)
    case quote(Text)
    case bullets([Text])
    case table(ReportTable)
    /// A figure file given without its extension: Markdown shows the PNG, LaTeX includes the PDF,
    /// HTML holds the SVG inline.
    case figure(path: String, caption: Text)
}

/// Which way a column's numbers improve.
public enum Better: Sendable, Equatable {
    case lower, higher
}

/// How a column shows its numbers.
public enum NumberFormat: Sendable, Equatable {
    case decimals(Int)
    /// A parameter count: in millions from a million on, in thousands below.
    case count

    public func string(_ value: Double) -> String {
        switch self {
        case .decimals(let digits):
            return String(format: "%.\(digits)f", value)
        case .count:
            if abs(value) >= 1e6 { return String(format: "%.2fM", value / 1e6) }
            if abs(value) >= 1e3 { return String(format: "%.1fk", value / 1e3) }
            return String(format: "%.0f", value)
        }
    }
}

/// The rows whose value is the best of `values` as shown (values that print alike tie), or none
/// when no value is present.
public func bestIndices(_ values: [Double?], better: Better, format: NumberFormat) -> Set<Int> {
    let present = values.compactMap { $0 }
    guard let best = better == .lower ? present.min() : present.max() else { return [] }
    let shown = format.string(best)
    return Set(values.indices.filter { values[$0].map(format.string) == shown })
}

/// A table of text and numbers, written to Markdown and LaTeX alike; the best number of each ranked
/// column is marked among the ranked rows.
public struct ReportTable: Sendable {
    public struct Column: Sendable {
        public enum Kind: Sendable, Equatable {
            case text
            /// Text that wraps, in a column this share of the line wide (LaTeX; Markdown wraps anyway).
            case prose(Double)
            /// Numbers in `format`; `better` ranks them (nil: not ranked, e.g. parameter counts).
            case number(NumberFormat, better: Better?)
        }

        public var title: Text
        public var kind: Kind

        public init(_ title: Text, _ kind: Kind = .text) {
            self.title = title
            self.kind = kind
        }
    }

    public enum Cell: Sendable, Equatable {
        case text(Text)
        /// nil: no value (shown as an em dash).
        case number(Double?)
        /// A mean over seeds and the half-width of its 95% interval, shown "4.494 ± 0.031".
        case estimate(Double, plusMinus: Double)

        /// A number from an estimate over seeds: with its interval when there are two seeds or more.
        public static func of(_ estimate: Estimate?) -> Cell {
            guard let estimate else { return .number(nil) }
            return estimate.interval.map { .estimate(estimate.mean, plusMinus: $0.halfWidth) } ?? .number(estimate.mean)
        }

        /// The number the cell shows (the mean, for an estimate).
        var value: Double? {
            switch self {
            case .text: nil
            case .number(let value): value
            case .estimate(let mean, _): mean
            }
        }
    }

    public struct Row: Sendable {
        public var cells: [Cell]
        /// Whether the row competes for the best value of its columns (reference rows do not).
        public var ranked: Bool
        /// Whether a rule separates the row from the one above.
        public var startsGroup: Bool

        public init(_ cells: [Cell], ranked: Bool = true, startsGroup: Bool = false) {
            self.cells = cells
            self.ranked = ranked
            self.startsGroup = startsGroup
        }
    }

    /// "Table 1": Markdown prints it before the caption; LaTeX numbers tables itself and uses it as the label.
    public var title: String
    public var caption: Text
    public var columns: [Column]
    public var rows: [Row]
    /// Lines under the table.
    public var notes: [Text]

    public init(title: String, caption: Text, columns: [Column], rows: [Row], notes: [Text] = []) {
        precondition(rows.allSatisfy { $0.cells.count == columns.count }, "every row of \(title) needs one cell per column")
        self.title = title
        self.caption = caption
        self.columns = columns
        self.rows = rows
        self.notes = notes
    }

    /// The rows that hold the best value of `column`, if it is ranked.
    public func best(column: Int) -> Set<Int> {
        guard case .number(let format, let better?) = columns[column].kind else { return [] }
        let values: [Double?] = rows.map { row in row.ranked ? row.cells[column].value : nil }
        return bestIndices(values, better: better, format: format)
    }
}

extension Better {
    /// The mark after a column's title that says which way is better.
    var arrow: String { self == .lower ? "↓" : "↑" }
}
