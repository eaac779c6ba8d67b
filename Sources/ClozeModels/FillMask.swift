import ClozeTensor

/// transformers' fill-mask pipeline: softmax over the whole vocabulary at each mask, top k.
public enum FillMask {
    public struct Candidate: Sendable, Equatable {
        public let tokenId: Int
        public let probability: Float
    }

    /// Top-`k` fillers for each mask position (in order) of one already-tokenised sequence.
    public static func predict(model: MaskedLanguageModel, ids: [Int32], maskId: Int32, topK: Int) throws -> [[Candidate]] {
        let masks = ids.indices.filter { ids[$0] == maskId }
        guard !masks.isEmpty else { throw ModelError.input("the text has no mask token; put [MASK] where the model should fill in") }
        let batch = try EncodedBatch(sequences: [ids], padId: 0)
        var rng: SeededRNG? = nil
        let hidden = try model.encode(batch, training: false, rng: &rng, tape: nil)
        let logits = try model.mlmLogits(hidden: hidden, positions: masks, vocabularyRows: nil, tape: nil)
        let v = logits.shape[1]
        let probs = Ops.softmaxRows(logits.data, rows: masks.count, cols: v)
        return (0..<masks.count).map { m in
            let row = probs[m * v ..< (m + 1) * v]
            // Partial selection would be faster, but a 30k sort per mask is ~1 ms.
            let order = row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
            return order.prefix(max(topK, 0)).map { Candidate(tokenId: $0 - m * v, probability: row[$0]) }
        }
    }
}
