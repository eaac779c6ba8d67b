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
        scalarAt.removeAll(keepingCapacity: true)   // byte index → scalar index at scalar starts, -1 inside a scalar
        var si: Int32 = 0
        for c in s {
            if c < 0x80 { bytes.append(UInt8(c)); scalarAt.append(si) }
            else {
                let before = bytes.count
                appendUTF8(&bytes, c)
                scalarAt.append(si)
                for _ in (before + 1)..<bytes.count { scalarAt.append(-1) }
            }
            si += 1
        }
        let total = bytes.count
        let outStart = out.count
        var start = 0
        while start < total {
            var end = total
            var found: Int32? = nil
            while start < end {
                let hit: Int32?
                if start == 0 {
                    hit = bytes.withUnsafeBufferPointer { vocab.lookup(UnsafeBufferPointer(rebasing: $0[0..<end])) }
                } else {
                    key.removeAll(keepingCapacity: true)
                    key.append(contentsOf: prefix)
                    key.append(contentsOf: bytes[start..<end])
                    hit = vocab.lookup(key)
                }
                if let id = hit { found = id; break }
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
