import Foundation

/// Where a searched template puts its tokens: `before` tokens, the label word (the future [MASK]),
/// `after` tokens, around the example's text. One slot: the text first (`{text_a} T T [MASK] T`) or
/// last (`T [MASK] T {text_a}`); two slots: between them (`{text_a} T [MASK] T {text_b}`), LM-BFF's
/// `<S1> <X> label <Y> <S2>` shapes for T5.
public struct TemplateShape: Sendable, Equatable, Codable, Hashable {
    public enum Placement: String, Sendable, Codable { case textFirst, textLast, between }
    public var before: Int
    public var after: Int
    public var placement: Placement
    public init(before: Int, after: Int, placement: Placement) { self.before = before; self.after = after; self.placement = placement }

    /// The shapes searched by default for `slots` text slots (1 or 2): up to three template tokens.
    public static func defaults(slots: Int) -> [TemplateShape] {
        let sizes = [(1, 0), (2, 0), (0, 1), (1, 1), (2, 1), (1, 2), (3, 0)]
        if slots >= 2 { return sizes.map { TemplateShape(before: $0.0, after: $0.1, placement: .between) } }
        return sizes.map { TemplateShape(before: $0.0, after: $0.1, placement: .textFirst) }
            + [(0, 1), (1, 1), (0, 2)].map { TemplateShape(before: $0.0, after: $0.1, placement: .textLast) }
    }
}

/// One searched template: its tokens (before, then after the label word) and summed log-probability.
public struct TemplateCandidate: Sendable, Equatable, Codable {
    public var shape: TemplateShape
    public var tokens: [Int32]
    /// Sum over the training examples of the log-probability of every template token as it was filled.
    public var score: Double
    public var pattern: String = ""
    public var devAccuracy: Double?
}

/// Automatic templates without T5: the masked LM fills the template's tokens itself. Every training
/// example becomes `text, [MASK]×before, its label word, [MASK]×after` (the shape's layout); a beam
/// search fills the masks left to right, each step scoring a token by its log-probability at the next
/// mask summed over all training examples (the other masks stay masked), as LM-BFF sums T5's scores
/// over the examples.
public enum TemplateSearch {
    /// One example for the search: its slot texts' ids and its label word's id.
    public struct Example: Sendable {
        public var slots: [[Int32]]
        public var labelWord: Int32
        public init(slots: [[Int32]], labelWord: Int32) { self.slots = slots; self.labelWord = labelWord }
    }

    /// The ids of one example with the template's first `filled.count` tokens filled, and the index of
    /// the next mask to fill (nil when every token is filled).
    static func input(_ e: Example, shape: TemplateShape, filled: [Int32], layout: SpecialTokenLayout, maskID: Int32) -> (ids: [Int32], next: Int?) {
        let n = shape.before + shape.after
        let tokens = (0..<n).map { $0 < filled.count ? filled[$0] : maskID }
        let template = Array(tokens[..<shape.before]) + [e.labelWord] + Array(tokens[shape.before...])
        var body: [Int32]
        switch shape.placement {
        case .textFirst: body = e.slots[0] + template
        case .textLast: body = template + e.slots[0]
        case .between: body = e.slots[0] + template + (e.slots.count > 1 ? e.slots[1] : [])
        }
        let offset = layout.prefix.count + (shape.placement == .textLast ? 0 : e.slots[0].count)
        let k = filled.count
        let next: Int? = k < n ? offset + (k < shape.before ? k : k + 1) : nil
        body = layout.prefix + body + layout.suffix
        return (body, next)
    }

    /// Beam search over one shape. `logProbs(inputs, positions)` returns, per input, log-probabilities
    /// over `allowed` at its position. Returns up to `beam` completed templates, best first.
    public static func beamSearch(shape: TemplateShape, examples: [Example], allowed: [Int32], beam: Int, layout: SpecialTokenLayout,
                                  maskID: Int32, logProbs: ([[Int32]], [Int]) throws -> [[Float]]) throws -> [TemplateCandidate] {
        var hypotheses: [([Int32], Double)] = [([], 0)]
        for _ in 0..<(shape.before + shape.after) {
            var expanded: [([Int32], Double)] = []
            for (filled, score) in hypotheses {
                let built = examples.map { input($0, shape: shape, filled: filled, layout: layout, maskID: maskID) }
                let lp = try logProbs(built.map(\.ids), built.map { $0.next! })
                var summed = [Double](repeating: 0, count: allowed.count)
                for row in lp { for j in allowed.indices { summed[j] += Double(row[j]) } }
                let best = allowed.indices.sorted { summed[$0] != summed[$1] ? summed[$0] > summed[$1] : $0 < $1 }.prefix(beam)
                expanded += best.map { (filled + [allowed[$0]], score + summed[$0]) }
            }
            expanded.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.lexicographicallyPrecedes($1.0) }
            hypotheses = Array(expanded.prefix(beam))
        }
        return hypotheses.map { TemplateCandidate(shape: shape, tokens: $0.0, score: $0.1) }
    }

    /// The pattern line of a candidate: template tokens as text (words after a space, punctuation
    /// attached), `[MASK]` for the label word, the slots shortenable.
    public static func pattern(_ c: TemplateCandidate, slots: [String], text: (Int32) -> String) -> String {
        func render(_ ids: ArraySlice<Int32>) -> String {
            var out = "", previous = ""
            for id in ids {
                let t = text(id)
                // Punctuation attaches to the word before it, a word after an apostrophe to it ("it's").
                let attach = t.unicodeScalars.allSatisfy { SlotTransform.isPunctuation($0) } || previous == "'"
                out += attach ? t : " " + t
                previous = t
            }
            return out
        }
        let before = render(c.tokens[..<c.shape.before]), after = render(c.tokens[c.shape.before...])
        let template = (before + " [MASK]" + after).trimmingCharacters(in: .whitespaces)
        let a = "{\(slots[0]):shorten}"
        switch c.shape.placement {
        case .textFirst: return a + " " + template
        case .textLast: return template + " " + a
        case .between: return a + " " + template + (slots.count > 1 ? " {\(slots[1]):shorten}" : "")
        }
    }

    /// Single punctuation tokens a template may use besides words.
    public static let punctuation = [".", ",", "!", "?", ":", ";", "-", "'", "\""]
}
