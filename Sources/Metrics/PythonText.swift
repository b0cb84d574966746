/// The few Python string rules the reference implementations rely on, over Unicode scalars.
///
/// Python strings are sequences of code points and compare them one by one, whereas Swift's
/// `String` compares grapheme clusters up to canonical equivalence ("é" equals "e" + U+0301, and
/// "\r\n" is one character). The metrics therefore work on `[Unicode.Scalar]` wherever the
/// references index, split or compare text.
enum PythonText {
    /// Python's `str.lower()`: each code point's full lowercase mapping (so "İ" becomes "i" +
    /// U+0307). Python also turns a word-final "Σ" into "ς" rather than "σ"; no metric here can
    /// tell the two apart, since both are one non-ASCII code point.
    static func lowercased<S: Sequence<Unicode.Scalar>>(_ scalars: S) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.underestimatedCount)
        for scalar in scalars {
            if scalar.isASCII {
                let value = scalar.value
                result.append((0x41...0x5A).contains(value) ? Unicode.Scalar(value + 32)! : scalar)
            } else {
                result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return result
    }

    /// Python's `str.isspace()`, the separator of `str.split()` and what `str.rstrip()` removes:
    /// the code points of bidirectional class WS, B or S, or of category Zs (Unicode 14).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python's `str.split()` without arguments: runs of whitespace separate, none are kept.
    static func splitOnWhitespace(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        scalars.split(whereSeparator: isWhitespace).map(Array.init)
    }

    /// A `String` made of exactly these scalars.
    static func string<S: Sequence<Unicode.Scalar>>(_ scalars: S) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}

extension Array where Element == Unicode.Scalar {
    /// Python's `str.endswith`.
    func ends(with suffix: String) -> Bool {
        let suffix = Array(suffix.unicodeScalars)
        return count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}
