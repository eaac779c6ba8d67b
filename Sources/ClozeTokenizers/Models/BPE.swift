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
    /// id of single-scalar tokens for scalars below 0x400 (-2 = not looked up yet, -1 = absent).
    private var smallCharID = [Int32](repeating: -2, count: 0x400)

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
        let plain = continuingPrefix.isEmpty && endOfWordSuffix.isEmpty
        for c in s {
            var found: Int32? = nil
            if plain && c < 0x400 {
                var v = smallCharID[Int(c)]
                if v == -2 {
                    key.removeAll(keepingCapacity: true); appendUTF8(&key, c)
                    v = vocab.lookup(key) ?? -1; smallCharID[Int(c)] = v
                }
                found = v >= 0 ? v : nil
            } else {
                key.removeAll(keepingCapacity: true)
                if i > 0 { key.append(contentsOf: continuingPrefix) }
                appendUTF8(&key, c)
                if i == n - 1 { key.append(contentsOf: endOfWordSuffix) }
                found = vocab.lookup(key)
            }
            if let id = found {
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
        if ids.count > 24 { mergeWithHeap(&ids, &st, &en) }
        // Merge loop: the lowest-ranked adjacent pair, leftmost on ties.
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

    @inline(__always) private func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    /// O(n log n) merging for long words: a min-heap of (rank, position) over a linked list of symbols,
    /// stale entries skipped when popped (the same order as the simple loop).
    private func mergeWithHeap(_ ids: inout [Int32], _ st: inout [Int32], _ en: inout [Int32]) {
        let n = ids.count
        var next = [Int](0..<n).map { $0 + 1 }; next[n - 1] = -1
        var prev = [Int](0..<n).map { $0 - 1 }
        var alive = [Bool](repeating: true, count: n)
        var heap: [UInt64] = []
        func push(_ rank: Int32, _ pos: Int) {
            heap.append(UInt64(UInt32(rank)) << 32 | UInt64(pos))
            var i = heap.count - 1
            while i > 0 { let p = (i - 1) / 2; if heap[p] <= heap[i] { break }; heap.swapAt(p, i); i = p }
        }
        func pop() -> UInt64 {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < heap.count && heap[l] < heap[m] { m = l }
                    if r < heap.count && heap[r] < heap[m] { m = r }
                    if m == i { break }
                    heap.swapAt(i, m); i = m
                }
            }
            return top
        }
        for p in 0..<(n - 1) { if let m = merges[pairKey(ids[p], ids[p + 1])] { push(m.rank, p) } }
        while !heap.isEmpty {
            let top = pop()
            let rank = Int32(top >> 32), pos = Int(top & 0xFFFF_FFFF)
            guard alive[pos], next[pos] >= 0 else { continue }
            let nx = next[pos]
            guard let m = merges[pairKey(ids[pos], ids[nx])], m.rank == rank else { continue }
            ids[pos] = m.id; en[pos] = en[nx]
            alive[nx] = false
            next[pos] = next[nx]
            if next[nx] >= 0 { prev[next[nx]] = pos }
            if prev[pos] >= 0, let pm = merges[pairKey(ids[prev[pos]], ids[pos])] { push(pm.rank, prev[pos]) }
            if next[pos] >= 0, let nm = merges[pairKey(ids[pos], ids[next[pos]])] { push(nm.rank, pos) }
        }
        var i = 0
        var nid: [Int32] = [], nst: [Int32] = [], nen: [Int32] = []
        while i >= 0 && i < n { if alive[i] { nid.append(ids[i]); nst.append(st[i]); nen.append(en[i]) }; i = next[i] }
        ids = nid; st = nst; en = nen
    }

    private func addUnk(_ i: Int, _ pending: inout (Int32, Int32)?, _ ids: inout [Int32], _ st: inout [Int32], _ en: inout [Int32]) {
        guard let unk = unkID else { return }  // HF drops scalars it cannot represent when there is no unk token
        if fuseUnk, let u = pending { pending = (u.0, Int32(i + 1)); return }
        if let u = pending { ids.append(unk); st.append(u.0); en.append(u.1) }
        pending = (Int32(i), Int32(i + 1))
    }
}
