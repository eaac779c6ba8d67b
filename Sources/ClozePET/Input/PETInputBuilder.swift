/// One assembled model input for a pattern and an example.
public struct PETInput: Sendable, Equatable {
    public var inputIDs: [Int32]
    public var tokenTypeIDs: [Int32]
    /// Index of the (first) mask token in `inputIDs`.
    public var maskPosition: Int
    /// Tokens removed from shortenable slots to fit `maxLength`.
    public var removedTokens: Int
    /// Consecutive mask tokens from `maskPosition` (multi-mask PET: the longest verbalization's length).
    public var maskCount = 1
    /// Indices in `inputIDs` of the pattern's [SOFT] virtual tokens, in order (row i of the soft prompt goes to softPositions[i]).
    public var softPositions: [Int] = []

    /// The input with only the first `n` of its masks (PET's `trim_input_ids`), for candidates of `n` tokens.
    public func keepingMasks(_ n: Int) -> PETInput {
        precondition(n >= 1 && n <= maskCount, "keepingMasks: \(n) of \(maskCount) masks")
        var out = self
        let cut = (maskPosition + n)..<(maskPosition + maskCount)
        out.inputIDs.removeSubrange(cut); out.tokenTypeIDs.removeSubrange(cut)
        out.softPositions = softPositions.map { $0 >= cut.upperBound ? $0 - cut.count : $0 }
        out.maskCount = n
        return out
    }
}

/// Turns (pattern, example) into token ids: literal pieces are tokenised once at construction, slots
/// per example; too-long inputs lose tokens from the end of shortenable slots only.
///
/// Shortening follows PET's `truncate`: one token at a time, from the segment with more shortenable
/// tokens (the second on a tie); inside that segment from the longest shortenable slot (the later one on
/// a tie; PET has one shortenable slot per segment in all its patterns, where both rules agree).
public struct PETInputBuilder {
    public let pattern: Pattern
    public let maxLength: Int
    let layout: SpecialTokenLayout
    let maskID: Int32
    /// Stands in for [SOFT] tokens until the model replaces their embeddings: the mask id (any non-pad id would do).
    var softPlaceholderID: Int32 { maskID }
    /// Mask tokens the pattern's [MASK] expands to (1, or the longest verbalization for multi-mask PET).
    public let maskCount: Int
    /// Per segment, per element: literal ids (pre-tokenised) or nil for slots/mask.
    let literalIDs: [[[Int32]?]]
    let tokenize: (String) -> [Int32]

    public init(pattern: Pattern, vocabulary: any TokenVocabulary, maxLength: Int, maskCount: Int = 1) {
        self.pattern = pattern
        self.maskCount = max(1, maskCount)
        self.maxLength = maxLength
        self.layout = vocabulary.specialTokens
        self.maskID = vocabulary.maskTokenID
        self.tokenize = { vocabulary.tokenIDs($0) }
        self.literalIDs = pattern.segments.map { seg in
            seg.map { el -> [Int32]? in
                if case .text(let t) = el.piece { return vocabulary.tokenIDs(el.spaceBefore ? " " + t : t) }
                return nil
            }
        }
    }

    /// Assembles the input for one example (column name → text). `location` names the example in errors.
    public func build(_ example: [String: String], location: SourceLocation? = nil) throws -> PETInput {
        var parts = try render(example, maskTokens: [Int32](repeating: maskID, count: maskCount), location: location)
        let total = layout.count(segments: parts.ids.count) + parts.tokenCount
        if total > maxLength && !Self.shorten(&parts, by: total - maxLength) {
            throw cannotShorten(needed: total, location: location)
        }
        var input = assemble(parts)
        input.removedTokens = max(0, total - maxLength)
        return input
    }

    func cannotShorten(needed total: Int, location: SourceLocation?) -> PETError {
        PETError(.cannotShorten,
            "input needs \(total) tokens but max length is \(maxLength) and no shortenable slot has tokens left; mark a slot {name:shorten} in pattern \(pattern.location) or raise the max length",
            at: location)
    }

    /// Token ids of every element of every segment for one example, with `maskTokens` at the mask (the
    /// model's mask ids for a query, the label word's ids for a demonstration). `slotLimit` caps each
    /// slot's tokens (LM-BFF's first/other_sent_limit); `soft` false renders [SOFT] elements as nothing.
    func render(_ example: [String: String], maskTokens: [Int32], slotLimit: Int? = nil, soft: Bool = true,
                location: SourceLocation?) throws -> RenderedParts {
        var parts = RenderedParts()
        for (s, seg) in pattern.segments.enumerated() {
            var p: [[Int32]] = [], sh: [Bool] = []
            for (e, el) in seg.enumerated() {
                switch el.piece {
                case .text:
                    p.append(literalIDs[s][e]!); sh.append(false)
                case .mask:
                    p.append(maskTokens); sh.append(false)
                case .soft(let n):
                    // Placeholder ids (never padding: RoBERTa's positions skip pads); the model writes the
                    // virtual tokens over their embeddings.
                    p.append(soft ? [Int32](repeating: softPlaceholderID, count: n) : []); sh.append(false)
                case .slot(let name, let canShorten, let transforms):
                    guard var value = example[name] else {
                        throw PETError(.missingField, "example has no column '\(name)' needed by pattern \(pattern.location)",
                                       at: location)
                    }
                    for t in transforms { value = t.apply(value) }
                    var ids = tokenize(el.spaceBefore ? " " + value : value)
                    if let slotLimit, ids.count > slotLimit { ids.removeLast(ids.count - slotLimit) }
                    p.append(ids); sh.append(canShorten)
                }
            }
            parts.ids.append(p); parts.shortenable.append(sh)
        }
        return parts
    }

    /// Removes `excess` tokens from the shortenable slots by PET's rule (see the type's comment);
    /// false when they run out first.
    static func shorten(_ parts: inout RenderedParts, by excess: Int) -> Bool {
        var shortTotal = parts.ids.indices.map(parts.shortenableCount)
        for _ in 0..<excess {
            let a = shortTotal[0]
            let b = shortTotal.count > 1 ? shortTotal[1] : 0
            if a == 0 && b == 0 { return false }
            let s = (shortTotal.count == 1 || a > b) ? 0 : 1
            parts.removeLastToken(segment: s)
            shortTotal[s] -= 1
        }
        return true
    }

    /// Special tokens around the rendered segments; token types per segment; mask and soft positions.
    func assemble(_ parts: RenderedParts) -> PETInput {
        var ids = layout.prefix
        ids.reserveCapacity(layout.count(segments: parts.ids.count) + parts.tokenCount)
        var maskPosition = -1, soft: [Int] = [], secondStart = ids.count
        for (s, seg) in parts.ids.enumerated() {
            if s == 1 { ids += layout.separator; secondStart = ids.count }
            for (e, p) in seg.enumerated() {
                if case .mask = pattern.segments[s][e].piece { maskPosition = ids.count }
                if case .soft = pattern.segments[s][e].piece { soft += ids.count..<(ids.count + p.count) }
                ids += p
            }
        }
        ids += layout.suffix
        var types = [Int32](repeating: 0, count: ids.count)
        if parts.ids.count > 1 {
            for i in secondStart..<ids.count { types[i] = layout.secondSegmentTypeID }
        }
        return PETInput(inputIDs: ids, tokenTypeIDs: types, maskPosition: maskPosition, removedTokens: 0, maskCount: maskCount,
                        softPositions: soft)
    }
}

/// The token ids of one rendered pattern: per segment, per element.
struct RenderedParts {
    var ids: [[[Int32]]] = []
    var shortenable: [[Bool]] = []

    var tokenCount: Int { ids.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } } }

    func shortenableCount(segment s: Int) -> Int {
        ids[s].indices.reduce(0) { shortenable[s][$1] ? $0 + ids[s][$1].count : $0 }
    }

    /// One token off the end of the segment's longest shortenable slot (the later one on a tie).
    mutating func removeLastToken(segment s: Int) {
        var best = -1
        for e in ids[s].indices where shortenable[s][e] && !ids[s][e].isEmpty {
            if best < 0 || ids[s][e].count >= ids[s][best].count { best = e }
        }
        ids[s][best].removeLast()
    }
}
