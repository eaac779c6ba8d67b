/// A padded batch of token ids for an encoder: B sequences padded to a common length T (the
/// longest in the batch, not the model maximum), flattened row-major to B*T.
public struct EncodedBatch: Sendable {
    public var inputIds: [Int32]
    /// 1 = real token, 0 = padding.
    public var attentionMask: [Float]
    /// Segment ids (zeros when the model has none).
    public var tokenTypeIds: [Int32]
    public var batch: Int
    public var seqLen: Int
    /// In-pattern virtual tokens (P-tuning's [SOFT]): flat row softRows[i] takes row softIndex[i] of the
    /// model's soft prompt instead of its word embedding. Empty: the soft prompt (if any) is prepended.
    public var softRows: [Int] = []
    public var softIndex: [Int] = []

    public init(inputIds: [Int32], attentionMask: [Float], tokenTypeIds: [Int32]? = nil, batch: Int, seqLen: Int) throws {
        let n = batch * seqLen
        guard batch >= 0, seqLen >= 0, inputIds.count == n, attentionMask.count == n else {
            throw ModelError.input("batch of \(batch)x\(seqLen) needs \(n) input ids and mask values, got \(inputIds.count) and \(attentionMask.count)")
        }
        if let t = tokenTypeIds, t.count != n {
            throw ModelError.input("batch of \(batch)x\(seqLen) needs \(n) token type ids, got \(t.count)")
        }
        self.inputIds = inputIds
        self.attentionMask = attentionMask
        self.tokenTypeIds = tokenTypeIds ?? [Int32](repeating: 0, count: n)
        self.batch = batch
        self.seqLen = seqLen
    }

    /// Pads variable-length sequences to the longest with `padId` (mask 0, token type 0).
    public init(sequences: [[Int32]], tokenTypes: [[Int32]]? = nil, padId: Int32) throws {
        let t = sequences.map(\.count).max() ?? 0
        var ids: [Int32] = [], mask: [Float] = [], types: [Int32] = []
        ids.reserveCapacity(sequences.count * t)
        for (b, s) in sequences.enumerated() {
            let pad = t - s.count
            ids += s + [Int32](repeating: padId, count: pad)
            mask += [Float](repeating: 1, count: s.count) + [Float](repeating: 0, count: pad)
            if let tt = tokenTypes {
                guard b < tt.count, tt[b].count == s.count else {
                    throw ModelError.input("sequence \(b) has \(s.count) ids but its token types do not match")
                }
                types += tt[b] + [Int32](repeating: 0, count: pad)
            } else {
                types += [Int32](repeating: 0, count: t)
            }
        }
        try self.init(inputIds: ids, attentionMask: mask, tokenTypeIds: types, batch: sequences.count, seqLen: t)
    }

    /// Flat row index of (sequence b, position t), the row of `encode`'s output.
    @inlinable public func row(_ b: Int, _ t: Int) -> Int { b * seqLen + t }
}
