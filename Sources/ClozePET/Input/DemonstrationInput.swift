/// One demonstration: a training example's columns and the token ids of its label's word.
public struct Demonstration: Sendable, Equatable {
    public var fields: [String: String]
    public var labelTokens: [Int32]
    public init(fields: [String: String], labelTokens: [Int32]) { self.fields = fields; self.labelTokens = labelTokens }
}

/// Token caps per slot of demonstration inputs (LM-BFF's `first_sent_limit` for the query and
/// `other_sent_limit` for every demonstration); nil: no cap, only shortening to fit the max length.
public struct DemonstrationLimits: Sendable, Equatable {
    public var querySlot: Int?
    public var demonstrationSlot: Int?
    public init(querySlot: Int? = nil, demonstrationSlot: Int? = nil) {
        self.querySlot = querySlot; self.demonstrationSlot = demonstrationSlot
    }
}

extension PETInputBuilder {
    /// LM-BFF's input with demonstrations: the query exactly as `build` makes it, then every
    /// demonstration rendered with the same pattern (its label word at the mask, [SOFT] elements left
    /// out, two segments joined by the separator), each closed by the suffix (`[SEP]`, `</s>`), as
    /// LM-BFF's `*sep+*` closes each part.
    ///
    /// Token types: demonstrations are typed 0, like the query of a one-segment pattern. This is what
    /// LM-BFF's BERT runs feed in practice: it numbers segments 0, 1, 2, … per `*sep+*` and grows BERT's
    /// type table to 10 rows, but returns the types only when 'BERT' is in the tokenizer's class name,
    /// which `BertTokenizer` is not, so the model gets its default all-zero types.
    ///
    /// Too long: demonstrations lose tokens first (one at a time off the longest shortenable
    /// demonstration slot), then the query by PET's rule. LM-BFF cuts the whole input at max length
    /// instead, which can drop the last demonstrations' label words or whole demonstrations.
    public func build(_ example: [String: String], demonstrations: [Demonstration], limits: DemonstrationLimits = .init(),
                      location: SourceLocation? = nil) throws -> PETInput {
        var query = try render(example, maskTokens: [Int32](repeating: maskID, count: maskCount), slotLimit: limits.querySlot,
                               location: location)
        var demos = try demonstrations.map {
            try render($0.fields, maskTokens: $0.labelTokens, slotLimit: limits.demonstrationSlot, soft: false, location: location)
        }
        let joiner = query.ids.count > 1 ? layout.separator.count : 0
        let total = layout.count(segments: query.ids.count) + query.tokenCount
            + demos.reduce(0) { $0 + $1.tokenCount + joiner + layout.suffix.count }
        var excess = total - maxLength
        if excess > 0 { excess -= Self.shortenDemonstrations(&demos, by: excess) }
        if excess > 0 && !Self.shorten(&query, by: excess) { throw cannotShorten(needed: total, location: location) }
        var input = assemble(query)
        for demo in demos { input.inputIDs += demonstrationTokens(demo) }
        input.tokenTypeIDs += [Int32](repeating: 0, count: input.inputIDs.count - input.tokenTypeIDs.count)
        input.removedTokens = max(0, total - maxLength)
        return input
    }

    /// GPT-3-style in-context input (LM-BFF `--gpt3_in_context_head --truncate_head`): every
    /// demonstration rendered with the pattern (label word at the mask, no prefix, closed by the
    /// suffix), the last drawn first, then the query exactly as `build` makes it; too long, the input
    /// loses its first tokens (the query itself is shortened by PET's rule only if it alone is too long).
    public func buildInContext(_ example: [String: String], demonstrations: [Demonstration], location: SourceLocation? = nil) throws -> PETInput {
        let query = try build(example, location: location)
        let head = try demonstrations.reversed().flatMap {
            demonstrationTokens(try render($0.fields, maskTokens: $0.labelTokens, soft: false, location: location))
        }
        let cut = max(0, head.count + query.inputIDs.count - maxLength)
        var input = query
        input.inputIDs = Array(head.dropFirst(cut)) + query.inputIDs
        let shift = input.inputIDs.count - query.inputIDs.count
        input.tokenTypeIDs = [Int32](repeating: 0, count: shift) + query.tokenTypeIDs
        input.maskPosition += shift
        input.softPositions = query.softPositions.map { $0 + shift }
        input.removedTokens += cut
        return input
    }

    /// A rendered demonstration's tokens: its segments joined by the separator, closed by the suffix.
    func demonstrationTokens(_ demo: RenderedParts) -> [Int32] {
        var ids: [Int32] = []
        for (s, seg) in demo.ids.enumerated() {
            if s == 1 { ids += layout.separator }
            for p in seg { ids += p }
        }
        return ids + layout.suffix
    }

    /// Removes up to `excess` tokens, one at a time off the longest shortenable slot of any
    /// demonstration (the later one on a tie); returns how many it removed.
    static func shortenDemonstrations(_ demos: inout [RenderedParts], by excess: Int) -> Int {
        var removed = 0
        while removed < excess {
            var best: (d: Int, s: Int, e: Int, count: Int)?
            for d in demos.indices {
                for s in demos[d].ids.indices {
                    for e in demos[d].ids[s].indices where demos[d].shortenable[s][e] {
                        let n = demos[d].ids[s][e].count
                        if n > 0 && n >= (best?.count ?? 0) { best = (d, s, e, n) }
                    }
                }
            }
            guard let b = best else { break }
            demos[b.d].ids[b.s][b.e].removeLast()
            removed += 1
        }
        return removed
    }
}
