import ClozeTensor

/// Token + position (+ token type) embeddings, LayerNorm, dropout.
public struct Embeddings {
    public let word: Tensor          // [V, E]; an empty placeholder when `compactWord` holds the table
    /// An NF4 model's frozen word-embedding table in f16 (nil = `word` is the table).
    public var compactWord: HalfMatrix?
    public let position: Tensor      // [P, E]
    public let tokenType: Tensor?    // [TV, E]; nil for DistilBERT
    let norm: LayerNorm
    let dropout: Float
    /// While open, lookups read this trainable copy of some rows of `word` (sparse training).
    var window: WordRowWindow?

    /// `soft` overrides the word embedding of some rows (HF `inputs_embeds`): row `rows[i]` gets row i of
    /// `table`; positions and token types are still added, as transformers does for inputs_embeds.
    func forward(ids: [Int32], positions: [Int32], tokenTypes: [Int32], soft: (rows: [Int], sourceRows: [Int], table: Tensor)? = nil,
                 context: DropoutContext, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        var words = window.map { Ops.embedding($0.rows, ids: $0.compact(ids), tape: tape) }
            ?? compactWord.map { Ops.frozenRows($0, rows: ids.map(Int.init)) } ?? Ops.embedding(word, ids: ids, tape: tape)
        if let soft {
            words = Ops.replaceRows(words, rows: soft.rows, with: soft.table, sourceRows: soft.sourceRows, tape: tape)
        }
        var sum = Ops.add(words, Ops.embedding(position, ids: positions, tape: tape), tape: tape)
        if let tokenType { sum = Ops.add(sum, Ops.embedding(tokenType, ids: tokenTypes, tape: tape), tape: tape) }
        return context.apply(norm(sum, tape: tape), p: dropout, rng: &rng, tape: tape)
    }
}

/// The MLM head: transform (dense -> activation -> LayerNorm) then the decoder (tied to the word
/// embeddings unless the checkpoint unties them) plus a per-token bias.
public struct MLMHead {
    let dense: Linear
    let activation: Activation
    let norm: LayerNorm
    public let decoderWeight: Tensor   // [V, E]
    public let decoderBias: Tensor     // [V]
    /// True when `decoderWeight` is the word-embedding tensor itself.
    public let tied: Bool
    /// The tied decoder of an NF4 model: the f16 word-embedding table (frozen).
    var compactDecoder: HalfMatrix? = nil

    func logits(hidden: Tensor, positions: [Int], vocabularyRows: [Int]?, tape: Tape?) -> Tensor {
        let selected = Ops.gatherRows(hidden, rows: positions, tape: tape)
        let transformed = norm(activation(dense(selected, tape: tape), tape: tape), tape: tape)
        guard let rows = vocabularyRows else {
            if let compactDecoder { return Ops.linear(transformed, frozen: compactDecoder, bias: decoderBias, tape: tape) }
            return Ops.linear(transformed, weight: decoderWeight, bias: decoderBias, tape: tape)
        }
        let weight = compactDecoder.map { Ops.frozenRows($0, rows: rows) } ?? Ops.gatherRows(decoderWeight, rows: rows, tape: tape)
        let bias = Ops.gatherColumns(decoderBias, columns: rows, tape: tape)  // [V] is one row of V columns
        return Ops.linear(transformed, weight: weight, bias: bias, tape: tape)
    }
}
