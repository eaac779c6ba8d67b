/// Unigram language model: Viterbi over all vocabulary pieces that prefix each position (bytes),
/// unknown scalars scored min_score - 10, consecutive unknowns fused (HF `encode_optimized`).
final class UnigramModel {
    let pieces: [[UInt8]]
    let scores: [Double]
    let unkID: Int32?
    let byteFallback: Bool
    let fuseUnk = true
    private let minScore: Double
    // Byte trie: node → children via a dictionary keyed by (node << 8 | byte).
    private var children: [Int64: Int32] = [:]
    private var terminal: [Int32] = [-1]   // node → piece id or -1
    private var cache: [[UInt32]: [(Int32, Int32, Int32)]] = [:]

    init(pieces: [[UInt8]], scores: [Double], unkID: Int32?, byteFallback: Bool) {
        self.pieces = pieces; self.scores = scores; self.unkID = unkID; self.byteFallback = byteFallback
        minScore = scores.min() ?? 0
        var ids = ByteVocab(capacity: pieces.count)
        for (i, p) in pieces.enumerated() { ids.insert(p, id: Int32(i)) }  // last duplicate wins, like HF's map
        for p in pieces where !p.isEmpty {
            var node: Int32 = 0
            for b in p {
                let k = Int64(node) << 8 | Int64(b)
                if let c = children[k] { node = c } else {
                    let c = Int32(terminal.count); terminal.append(-1); children[k] = c; node = c
                }
            }
            terminal[Int(node)] = ids.lookup(p)!
        }
    }

    func tokenize(_ s: ArraySlice<UInt32>, into out: inout [(Int32, Int32, Int32)]) {
        if s.count < 64, let hit = cache[Array(s)] { out.append(contentsOf: hit); return }
        let start = out.count
        viterbi(s, into: &out)
        if s.count < 64 && cache.count < 100_000 { cache[Array(s)] = Array(out[start...]) }
    }

    private func viterbi(_ s: ArraySlice<UInt32>, into out: inout [(Int32, Int32, Int32)]) {
        var bytes: [UInt8] = []
        var byteToScalar: [Int32] = []
        var si: Int32 = 0
        for c in s {
            let b = bytes.count
            appendUTF8(&bytes, c)
            for _ in b..<bytes.count { byteToScalar.append(si) }
            si += 1
        }
        byteToScalar.append(si)
        let size = bytes.count
        var bestScore = [Double](repeating: 0, count: size + 1)
        var startsAt = [Int](repeating: -1, count: size + 1)
        var bestID = [Int32](repeating: 0, count: size + 1)
        let unkScore = minScore - 10.0
        var pos = 0
        while pos < size {
            let till = bestScore[pos]
            let b0 = bytes[pos]
            let mblen = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4
            var hasSingle = false
            var node: Int32 = 0
            var k = pos
            while k < size, let c = children[Int64(node) << 8 | Int64(bytes[k])] {
                node = c; k += 1
                let id = terminal[Int(c)]
                if id >= 0 {
                    let cand = scores[Int(id)] + till
                    if startsAt[k] < 0 || cand > bestScore[k] { bestScore[k] = cand; startsAt[k] = pos; bestID[k] = id }
                    if k - pos == mblen { hasSingle = true }
                }
            }
            if !hasSingle {
                let t = pos + mblen
                let cand = unkScore + till
                if startsAt[t] < 0 || cand > bestScore[t] { bestScore[t] = cand; startsAt[t] = pos; bestID[t] = unkID ?? -1 }
            }
            pos += mblen
        }
        var rev: [(Int32, Int32, Int32)] = []
        var end = size
        var unkEnd = -1, unkStart = -1
        while end > 0 {
            let st = startsAt[end]
            let id = bestID[end]
            if fuseUnk, let u = unkID, id == u {
                if unkEnd < 0 { unkEnd = end }
                unkStart = st
            } else {
                if unkEnd >= 0 { rev.append((unkID!, byteToScalar[unkStart], byteToScalar[unkEnd])); unkEnd = -1 }
                rev.append((id, byteToScalar[st], byteToScalar[end]))
            }
            end = st
        }
        if unkEnd >= 0 { rev.append((unkID!, byteToScalar[unkStart], byteToScalar[unkEnd])) }
        out.append(contentsOf: rev.reversed())
    }
}
