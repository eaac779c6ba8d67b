import ClozeTensor

/// Sparse training of the word-embedding table: a trainable copy [U, E] of the rows a run's inputs can
/// reach (a few hundred of 30k), so the gradient and AdamW's two moments cover U rows instead of the
/// whole table (MiniLM: 141 MB less). Every other row has a zero gradient and zero moments, so AdamW
/// only applies its decoupled weight decay to it; `closeWordWindow` applies that as one factor. The
/// result equals training the dense table (up to the rounding of the decay product).
public final class WordRowWindow {
    /// The rows' values, in `ids` order; the trainable tensor while the window is open.
    public let rows: Tensor
    /// Vocabulary ids of `rows`, ascending.
    public let ids: [Int32]
    let slot: [Int32: Int32]
    /// The word table the rows were copied from.
    let table: Tensor

    init(table: Tensor, ids wanted: Set<Int32>) {
        self.table = table
        ids = wanted.sorted()
        slot = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, Int32($0)) })
        let e = table.lastDim
        rows = Ops.gatherRows(table, rows: ids.map(Int.init), tape: nil)
        rows.name = "embeddings.word_embeddings.window"
        precondition(rows.shape == [ids.count, e])
    }

    /// `parameters` with the word table frozen and replaced by the window's rows (trainable): what an
    /// optimiser should train while the window is open.
    public func substituted(in parameters: [(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)] {
        table.requiresGrad = false
        rows.requiresGrad = true
        return parameters.filter { $0.tensor !== table } + [(rows.name!, rows)]
    }

    /// Window rows of vocabulary ids; an id outside the window is a caller error (the window is opened
    /// over every id the run will feed).
    func compact(_ vocabularyIDs: [Int32]) -> [Int32] {
        vocabularyIDs.map { id in
            guard let s = slot[id] else { fatalError("word-row window: token id \(id) was not in the ids the window was opened over") }
            return s
        }
    }
}

extension TransformerMaskedLM {
    /// Opens a window over `ids` (every token id training will feed): lookups read the window's rows,
    /// which the caller trains in place of `embeddings.word` (left frozen meanwhile).
    public func openWordWindow(ids: Set<Int32>) throws -> WordRowWindow {
        guard embeddings.window == nil else { throw ModelError.input("a word-row window is already open") }
        guard embeddings.compactWord == nil else { throw ModelError.input("a word-row window needs an f32 word table (not an NF4 model's f16 one)") }
        let vocab = Int32(embeddings.word.rows)
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocab }) {
            throw ModelError.input("token id \(bad) is outside the vocabulary of \(vocab)")
        }
        let window = WordRowWindow(table: embeddings.word, ids: ids)
        embeddings.window = window
        return window
    }

    /// Writes the window's rows back into the table and multiplies every other row by
    /// `otherRowsDecay` (the product of AdamW's per-step 1 - lr·wd over the steps taken).
    public func closeWordWindow(otherRowsDecay: Float) {
        guard let window = embeddings.window else { return }
        embeddings.window = nil
        let table = embeddings.word, e = table.lastDim
        var inside = [Bool](repeating: false, count: table.rows)
        for id in window.ids { inside[Int(id)] = true }
        table.data.withUnsafeMutableBufferPointer { t in
            window.rows.withData { w in
                for r in 0..<table.rows where !inside[r] { Vectorized.scale(t.baseAddress! + r * e, t.baseAddress! + r * e, by: otherRowsDecay, count: e) }
                for (k, id) in window.ids.enumerated() { (t.baseAddress! + Int(id) * e).update(from: w + k * e, count: e) }
            }
        }
    }
}
