/// Byte-pair encoding: start from single scalars, then repeatedly merge the adjacent pair with the lowest
/// merge rank (leftmost first on ties), as HF's priority-queue implementation does.
final class BPEModel {
    let vocab: ByteVocab
    let merges: [UInt64: (rank: Int32, id: Int32)]
    let unkID: Int32?
    let fuseUnk: Bool
    let byteFallback: Bool
    let continuingPrefix: [UInt8]
    let endOfWordSuffix: [UInt8]
    let ignoreMerges: Bool
    private var byteTokenIDs: [Int32?] = []
    private var cache: [[UInt32]: [(Int32, Int32, Int32)]] = [:]

    init(vocab: ByteVocab, merges: [UInt64: (rank: Int32, id: Int32)], unkID: Int32?, fuseUnk: Bool, byteFallback: Bool,
         continuingPrefix: [UInt8], endOfWordSuffix: [UInt8], ignoreMerges: Bool) {
        self.vocab = vocab; self.merges = merges; self.unkID = unkID; self.fuseUnk = fuseUnk
        self.byteFallback = byteFallback; self.continuingPrefix = continuingPrefix; self.endOfWordSuffix = endOfWordSuffix
        self.ignoreMerges = ignoreMerges
        if byteFallback {
            let hex = Array("0123456789ABCDEF".utf8)
            byteTokenIDs = (0..<256).map { b in vocab.lookup([60, 48, 120, hex[b >> 4], hex[b & 15], 62]) }  // <0xHH>
        }
    }

    func tokenize(_ s: ArraySlice<UInt32>, into out: inout [(Int32, Int32, Int32)]) {
        if s.count < 64, let hit = cache[Array(s)] { out.append(contentsOf: hit); return }
        let start = out.count
        tokenizeUncached(s, into: &out)
        if s.count < 64 && cache.count < 100_000 { cache[Array(s)] = Array(out[start...]) }
    }

    private func tokenizeUncached(_ s: ArraySlice<UInt32>, into out: inout [(Int32, Int32, Int32)]) {
        var key: [UInt8] = []
        if ignoreMerges {
            for c in s { appendUTF8(&key, c) }
            if let id = vocab.lookup(key) { out.append((id, 0, Int32(s.count))); return }
        }
        // Symbols: (id, start, end) in scalars.
        var ids: [Int32] = [], st: [Int32] = [], en: [Int32] = []
        ids.reserveCapacity(s.count); st.reserveCapacity(s.count); en.reserveCapacity(s.count)
        var pendingUnk: (Int32, Int32)? = nil
        let n = s.count
        var i = 0
        for c in s {
            key.removeAll(keepingCapacity: true)
            if i > 0 { key.append(contentsOf: continuingPrefix) }
            appendUTF8(&key, c)
            if i == n - 1 { key.append(contentsOf: endOfWordSuffix) }
            if let id = vocab.lookup(key) {
                if let u = pendingUnk { ids.append(unkID!); st.append(u.0); en.append(u.1); pendingUnk = nil }
                ids.append(id); st.append(Int32(i)); en.append(Int32(i + 1))
            } else if byteFallback {
                var bytes: [UInt8] = []
                appendUTF8(&bytes, c)
                let bids = bytes.map { byteTokenIDs[Int($0)] }
                if bids.allSatisfy({ $0 != nil }) {
                    if let u = pendingUnk { ids.append(unkID!); st.append(u.0); en.append(u.1); pendingUnk = nil }
                    for b in bids { ids.append(b!); st.append(Int32(i)); en.append(Int32(i + 1)) }
                } else { addUnk(i, &pendingUnk, &ids, &st, &en) }
            } else {
                addUnk(i, &pendingUnk, &ids, &st, &en)
            }
            i += 1
        }
        if let u = pendingUnk { ids.append(unkID!); st.append(u.0); en.append(u.1) }
        // Merge loop.
        while ids.count > 1 {
            var bestRank = Int32.max, bestPos = -1, bestID: Int32 = 0
            for p in 0..<(ids.count - 1) {
                let k = UInt64(UInt32(bitPattern: ids[p])) << 32 | UInt64(UInt32(bitPattern: ids[p + 1]))
                if let m = merges[k], m.rank < bestRank { bestRank = m.rank; bestPos = p; bestID = m.id }
            }
            if bestPos < 0 { break }
            ids[bestPos] = bestID; en[bestPos] = en[bestPos + 1]
            ids.remove(at: bestPos + 1); st.remove(at: bestPos + 1); en.remove(at: bestPos + 1)
        }
        for k in 0..<ids.count { out.append((ids[k], st[k], en[k])) }
    }

    private func addUnk(_ i: Int, _ pending: inout (Int32, Int32)?, _ ids: inout [Int32], _ st: inout [Int32], _ en: inout [Int32]) {
        guard let unk = unkID else { return }  // HF drops scalars it cannot represent when there is no unk token
        if fuseUnk, let u = pending { pending = (u.0, Int32(i + 1)); return }
        if let u = pending { ids.append(unk); st.append(u.0); en.append(u.1) }
        pending = (Int32(i), Int32(i + 1))
    }
}
