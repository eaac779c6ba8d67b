/// WordPiece: greedy longest-match-first with a continuing-subword prefix; words longer than
/// `maxInputCharsPerWord` scalars, or with an unmatched rest, become the unknown token.
final class WordPieceModel {
    let vocab: ByteVocab
    let unkID: Int32
    let prefix: [UInt8]
    let maxInputCharsPerWord: Int
    private var key: [UInt8] = []
    private var bytes: [UInt8] = []
    private var scalarAt: [Int32] = []

    init(vocab: ByteVocab, unkID: Int32, prefix: [UInt8], maxInputCharsPerWord: Int) {
        self.vocab = vocab; self.unkID = unkID; self.prefix = prefix; self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    /// Appends (id, start, end) with scalar offsets within the piece.
    func tokenize(_ s: ArraySlice<UInt32>, into out: inout [(Int32, Int32, Int32)]) {
        let n = s.count
        if n > maxInputCharsPerWord { out.append((unkID, 0, Int32(n))); return }
        bytes.removeAll(keepingCapacity: true)
        scalarAt.removeAll(keepingCapacity: true)   // byte index → scalar index, at scalar starts
        for c in s {
            let before = bytes.count
            appendUTF8(&bytes, c)
            for _ in before..<bytes.count { scalarAt.append(Int32(scalarAt.isEmpty ? 0 : -1)) }
        }
        // Fill scalar index for each byte position (only starts matter).
        var si: Int32 = 0, b = 0
        for c in s {
            let len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
            scalarAt[b] = si
            for k in 1..<len { scalarAt[b + k] = -1 }
            b += len; si += 1
        }
        let total = bytes.count
        let outStart = out.count
        var start = 0
        while start < total {
            var end = total
            var found: Int32? = nil
            while start < end {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key.append(contentsOf: prefix) }
                key.append(contentsOf: bytes[start..<end])
                if let id = vocab.lookup(key) { found = id; break }
                end -= 1
                while end > start && scalarAt[end] < 0 { end -= 1 }
            }
            guard let id = found else {
                out.removeSubrange(outStart...)
                out.append((unkID, 0, Int32(n)))
                return
            }
            out.append((id, scalarAt[start], end == total ? Int32(n) : scalarAt[end]))
            start = end
        }
    }
}
