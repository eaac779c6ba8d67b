/// Text being normalised, as Unicode scalars, each aligned to a range of scalars in the original input.
/// Alignments follow HF `NormalizedString::transform` exactly (including its quirks), so that offsets match.
struct NormalizedString {
    var scalars: [UInt32]
    var starts: [Int32]   // original scalar range [starts[i], ends[i]) of normalised scalar i
    var ends: [Int32]

    init(original: ArraySlice<UInt32>, offset: Int) {
        scalars = Array(original)
        starts = []; ends = []
        starts.reserveCapacity(scalars.count); ends.reserveCapacity(scalars.count)
        for i in 0..<scalars.count { starts.append(Int32(offset + i)); ends.append(Int32(offset + i + 1)) }
    }
    init(scalars: [UInt32], starts: [Int32], ends: [Int32]) { self.scalars = scalars; self.starts = starts; self.ends = ends }

    var isEmpty: Bool { scalars.isEmpty }
    var count: Int { scalars.count }

    func slice(_ r: Range<Int>) -> NormalizedString {
        NormalizedString(scalars: Array(scalars[r]), starts: Array(starts[r]), ends: Array(ends[r]))
    }

    /// Original range covered by normalised range r (first start, last end), HF `convert_offsets`.
    func originalRange(_ r: Range<Int>) -> (Int32, Int32) {
        if r.isEmpty {
            if r.lowerBound < count { return (starts[r.lowerBound], starts[r.lowerBound]) }
            if let e = ends.last { return (e, e) }
            return (0, 0)
        }
        return (starts[r.lowerBound], ends[r.upperBound - 1])
    }

    /// Applies HF-style (char, change) transformations over the whole string: change 0 replaces one
    /// scalar, -n also consumes n more, +n inserts (taking the previous scalar's alignment).
    mutating func transform(_ items: [(UInt32, Int)], initialOffset: Int = 0) {
        var ns: [UInt32] = []; var st: [Int32] = []; var en: [Int32] = []
        ns.reserveCapacity(items.count); st.reserveCapacity(items.count); en.reserveCapacity(items.count)
        var idx = initialOffset
        for (c, change) in items {
            var s: Int32 = 0, e: Int32 = 0
            if change > 0 {
                if idx >= 1 && idx - 1 < count { s = starts[idx - 1]; e = ends[idx - 1] }
                else if idx >= 1, let ls = starts.last { s = ls; e = ends.last! }
            } else {
                if idx < count { s = starts[idx]; e = ends[idx] }
                else if let ls = starts.last { s = ls; e = ends.last! }
                idx += 1 - change
            }
            ns.append(c); st.append(s); en.append(e)
        }
        scalars = ns; starts = st; ends = en
    }

    /// Maps each scalar to zero or more scalars (first replaces, rest are inserted).
    mutating func map(_ f: (UInt32, inout [UInt32]) -> Void) {
        var ns: [UInt32] = []; var st: [Int32] = []; var en: [Int32] = []
        ns.reserveCapacity(count); st.reserveCapacity(count); en.reserveCapacity(count)
        var tmp: [UInt32] = []
        for i in 0..<count {
            tmp.removeAll(keepingCapacity: true)
            f(scalars[i], &tmp)
            for c in tmp { ns.append(c); st.append(starts[i]); en.append(ends[i]) }
        }
        scalars = ns; starts = st; ends = en
    }

    /// Keeps scalars for which keep is true. In HF `filter` removed scalars fold into the previous kept one
    /// (or are skipped by the initial offset), so kept scalars keep their own alignment.
    mutating func filter(_ keep: (UInt32) -> Bool) {
        var ns: [UInt32] = []; var st: [Int32] = []; var en: [Int32] = []
        ns.reserveCapacity(count); st.reserveCapacity(count); en.reserveCapacity(count)
        for i in 0..<count where keep(scalars[i]) { ns.append(scalars[i]); st.append(starts[i]); en.append(ends[i]) }
        scalars = ns; starts = st; ends = en
    }

    /// HF `prepend`: the new text takes the first scalar's alignment.
    mutating func prepend(_ s: [UInt32]) {
        guard let s0 = starts.first else { return }
        let e0 = ends[0]
        scalars.insert(contentsOf: s, at: 0)
        starts.insert(contentsOf: [Int32](repeating: s0, count: s.count), at: 0)
        ends.insert(contentsOf: [Int32](repeating: e0, count: s.count), at: 0)
    }

    /// HF `append`: the new text takes the last scalar's alignment.
    mutating func append(_ s: [UInt32]) {
        guard let sl = starts.last else { return }
        let el = ends.last!
        scalars.append(contentsOf: s)
        starts.append(contentsOf: [Int32](repeating: sl, count: s.count))
        ends.append(contentsOf: [Int32](repeating: el, count: s.count))
    }

    /// Unicode normalisation with HF's alignment behaviour (decomposed pieces share their source's alignment;
    /// canonical reordering moves scalars, not alignments).
    mutating func unicodeNormalize(compose: Bool, compat: Bool) {
        var items: [(UInt32, Int)] = []
        items.reserveCapacity(count)
        var tmp: [UInt32] = []
        var anyChange = false
        for c in scalars {
            if c < 0xC0 && !(compat && c >= 0xA0) { items.append((c, 0)); continue }
            tmp.removeAll(keepingCapacity: true)
            let n = UProps.decompose(c, compat: compat, into: &tmp)
            if n != 1 || tmp[0] != c { anyChange = true }
            for (k, d) in tmp.enumerated() { items.append((d, k == 0 ? 0 : 1)) }
        }
        // Canonical ordering: stable sort runs of non-starters by combining class, carrying the changes.
        @inline(__always) func ccc(_ c: UInt32) -> Int { c < 0x300 ? 0 : UProps.combiningClass(c) }
        var i = 0
        while i < items.count {
            if ccc(items[i].0) == 0 { i += 1; continue }
            var j = i
            while j < items.count && ccc(items[j].0) != 0 { j += 1 }
            if j - i > 1 {
                let run = items[i..<j].enumerated().sorted { a, b in
                    let ca = UProps.combiningClass(a.element.0), cb = UProps.combiningClass(b.element.0)
                    return ca != cb ? ca < cb : a.offset < b.offset
                }.map { $0.element }
                if zip(run, items[i..<j]).contains(where: { $0.0.0 != $0.1.0 }) { anyChange = true }
                items.replaceSubrange(i..<j, with: run)
            }
            i = j
        }
        if compose {
            let out = NormalizedString.recompose(items)
            if out.count != items.count || zip(out, items).contains(where: { $0.0.0 != $0.1.0 }) { anyChange = true }
            items = out
        }
        if anyChange { transform(items) }
    }

    /// Canonical recomposition carrying HF's change counts: a composed scalar's change is the sum of its
    /// parts' changes minus one per absorbed scalar; blocked marks follow the composite in order.
    static func recompose(_ items: [(UInt32, Int)]) -> [(UInt32, Int)] {
        var out: [(UInt32, Int)] = []
        out.reserveCapacity(items.count)
        var composee: (UInt32, Int)? = nil
        var lastCcc: Int? = nil
        var buffer: [(UInt32, Int)] = []
        for (ch, change) in items {
            let cc = ch < 0x300 ? 0 : UProps.combiningClass(ch)
            guard let k = composee else {
                if cc != 0 { out.append((ch, change)) } else { composee = (ch, change) }
                continue
            }
            if let l = lastCcc {
                if l >= cc {
                    if cc == 0 {
                        out.append(k); out.append(contentsOf: buffer); buffer.removeAll()
                        composee = (ch, change); lastCcc = nil
                    } else { buffer.append((ch, change)); lastCcc = cc }
                    continue
                }
                if k.0 >= 0x80 || ch >= 0x300, let r = UProps.composePair(k.0, ch) { composee = (r, k.1 + change - 1); continue }
                buffer.append((ch, change)); lastCcc = cc
            } else {
                if (k.0 >= 0x80 || ch >= 0x300), let r = UProps.composePair(k.0, ch) { composee = (r, k.1 + change - 1); continue }
                if cc == 0 { out.append(k); composee = (ch, change); continue }
                buffer.append((ch, change)); lastCcc = cc
            }
        }
        if let k = composee { out.append(k) }
        out.append(contentsOf: buffer)
        return out
    }
}
