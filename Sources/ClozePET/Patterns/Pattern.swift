/// One parsed pattern line (grammar in docs/PATTERNS.md).
///
/// A pattern has one or two segments (split by `[SEP]`); each segment is a list of elements. Whitespace
/// in the line is kept only as the `spaceBefore` flag of the element it precedes: byte-level BPE and
/// SentencePiece models tokenise a piece that follows a space together with that space (`Ġwas`), so the
/// input builder passes `" " + piece` to the tokenizer when the flag is set. The first element of a
/// segment never has a space before it (a segment starts fresh, as in Hugging Face pair encoding).
public struct Pattern: Sendable, Equatable {
    public enum Piece: Sendable, Equatable {
        /// Literal text, without its surrounding whitespace.
        case text(String)
        /// A column of the example; `shortenable` slots may lose tokens from their end when too long;
        /// `transforms` rewrite the text first (LM-BFF's `sentl`, `sent-` template variants).
        case slot(name: String, shortenable: Bool, transforms: [SlotTransform] = [])
        /// The single mask; becomes the model's own mask token id.
        case mask
        /// `[SOFT:n]`: n trainable virtual tokens at this place (P-tuning), numbered across the pattern.
        case soft(count: Int)
    }

    public struct Element: Sendable, Equatable {
        public var piece: Piece
        public var spaceBefore: Bool
        /// 1-based column (Unicode scalars) where the element starts, for error messages.
        public var column: Int
        public init(_ piece: Piece, spaceBefore: Bool, column: Int) {
            self.piece = piece; self.spaceBefore = spaceBefore; self.column = column
        }
    }

    /// One segment, or two when the line contains `[SEP]`.
    public var segments: [[Element]]
    /// File and line of the pattern.
    public var location: SourceLocation
    /// The line as written (without the newline).
    public var source: String
    /// The line ends with `{demo}`: after the query come demonstrations, one training example per class
    /// rendered with this same pattern and its mask filled by the label word (LM-BFF).
    public var demonstrations: Bool

    public init(segments: [[Element]], location: SourceLocation, source: String, demonstrations: Bool = false) {
        self.segments = segments; self.location = location; self.source = source; self.demonstrations = demonstrations
    }

    /// Virtual tokens the pattern's `[SOFT:n]` elements hold in all.
    public var softTokenCount: Int {
        segments.joined().reduce(0) { if case .soft(let n) = $1.piece { return $0 + n } else { return $0 } }
    }

    /// Slot names in order of appearance (with repeats).
    public var slotNames: [String] {
        segments.flatMap { $0 }.compactMap { if case .slot(let n, _, _) = $0.piece { return n } else { return nil } }
    }

    /// (segment, element index) of the mask.
    public var maskIndex: (segment: Int, element: Int) {
        for (s, seg) in segments.enumerated() {
            for (e, el) in seg.enumerated() where el.piece == .mask { return (s, e) }
        }
        return (0, 0) // unreachable for parsed patterns: the parser rejects lines without a mask
    }

    /// Checks every slot against the task's column names (aliases such as text_a included).
    public func validate(columns: [String]) throws {
        let known = Set(columns)
        for seg in segments {
            for el in seg {
                if case .slot(let name, _, _) = el.piece, !known.contains(name) {
                    var loc = location; loc.column = el.column
                    throw PETError(.unknownSlot,
                        "unknown slot {\(name)}: expected one of the task's columns \(columns.sorted().map { "{\($0)}" }.joined(separator: ", "))",
                        at: loc)
                }
            }
        }
    }
}

/// A text rewrite applied to a slot's value before tokenisation, written `{text_b:lower-first}`.
/// These cover LM-BFF's template variants: `*sentl_1*` (first letter lower-cased), `*sentu_1*`/`*cap*`
/// (upper-cased), `*sent-_0*` (last character dropped, used to remove the final full stop).
public enum SlotTransform: String, Sendable, Equatable, CaseIterable {
    case lowerFirst = "lower-first"
    case upperFirst = "upper-first"
    /// Removes trailing punctuation and whitespace (`The cat sat.` → `The cat sat`). LM-BFF's `sent-`
    /// drops the last character whatever it is; this only removes punctuation, so a sentence without a
    /// final full stop keeps its last word.
    case noFinalPunctuation = "no-final-punct"

    public func apply(_ text: String) -> String {
        switch self {
        case .lowerFirst, .upperFirst:
            var scalars = text.unicodeScalars
            guard let first = scalars.first else { return text }
            let mapped = self == .lowerFirst ? first.properties.lowercaseMapping : first.properties.uppercaseMapping
            scalars.removeFirst()
            return mapped + String(scalars)
        case .noFinalPunctuation:
            var scalars = Array(text.unicodeScalars)
            while let last = scalars.last, last.properties.isWhitespace || Self.isPunctuation(last) { scalars.removeLast() }
            return String(String.UnicodeScalarView(scalars))
        }
    }

    static func isPunctuation(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }
}
