/// How a split treats the matched delimiters (HF `SplitDelimiterBehavior`).
enum SplitBehavior {
    case removed, isolated, mergedWithPrevious, mergedWithNext, contiguous

    static func from(_ s: String?, file: String, place: String) throws -> SplitBehavior {
        switch s ?? "Isolated" {
        case "Removed": return .removed
        case "Isolated": return .isolated
        case "MergedWithPrevious": return .mergedWithPrevious
        case "MergedWithNext": return .mergedWithNext
        case "Contiguous": return .contiguous
        default: throw TokenizerError(file: file, place: place, "unknown split behavior \(s ?? "")")
        }
    }
}

/// Splits a normalised piece by pattern matches with the given behaviour (HF `NormalizedString::split`).
func splitPiece(_ n: NormalizedString, _ pattern: Pattern, _ behavior: SplitBehavior, invert: Bool = false,
                into out: inout [NormalizedString]) {
    let matches = pattern.findMatches(n.scalars[...])
    if matches.isEmpty && !invert { if !n.isEmpty { out.append(n) }; return }
    // (range, isMatch) covering the whole piece.
    var parts: [(Range<Int>, Bool)] = []
    var pos = 0
    for m in matches {
        if pos < m.lowerBound { parts.append((pos..<m.lowerBound, invert)) }
        parts.append((m, !invert))
        pos = m.upperBound
    }
    if pos < n.count { parts.append((pos..<n.count, invert)) }
    var merged: [(Range<Int>, Bool)] = []
    switch behavior {
    case .removed: merged = parts.filter { !$0.1 }
    case .isolated: merged = parts
    case .mergedWithPrevious:
        var prevMatch = false
        for (r, m) in parts {
            if m && !prevMatch, let last = merged.last { merged[merged.count - 1] = (last.0.lowerBound..<r.upperBound, last.1) }
            else { merged.append((r, m)) }
            prevMatch = m
        }
    case .mergedWithNext:
        var prevMatch = false
        for (r, m) in parts.reversed() {
            if m && !prevMatch, let last = merged.last { merged[merged.count - 1] = (r.lowerBound..<last.0.upperBound, last.1) }
            else { merged.append((r, m)) }
            prevMatch = m
        }
        merged.reverse()
    case .contiguous:
        var prevMatch = false
        for (r, m) in parts {
            if m && prevMatch, let last = merged.last { merged[merged.count - 1] = (last.0.lowerBound..<r.upperBound, true) }
            else { merged.append((r, m)) }
            prevMatch = m
        }
    }
    for (r, _) in merged where !r.isEmpty { out.append(n.slice(r)) }
}

/// The 256 byte → printable scalar map of byte-level BPE.
let bytesToChar: [UInt32] = {
    var bs: [Int] = Array(33...126) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
    var cs = bs
    var n = 0
    for b in 0..<256 where !bs.contains(b) { bs.append(b); cs.append(256 + n); n += 1 }
    var map = [UInt32](repeating: 0, count: 256)
    for (b, c) in zip(bs, cs) { map[b] = UInt32(c) }
    return map
}()
let charToByte: [UInt32: UInt8] = {
    var m: [UInt32: UInt8] = [:]
    for (b, c) in bytesToChar.enumerated() { m[c] = UInt8(b) }
    return m
}()

enum PrependScheme { case always, first, never }

/// tokenizer.json `pre_tokenizer`.
indirect enum PreTokenizer {
    case bert
    case whitespace
    case whitespaceSplit
    case punctuation(SplitBehavior)
    case digits(individual: Bool)
    case charDelimiter(UInt32)
    case split(Pattern, SplitBehavior, invert: Bool)
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case metaspace(replacement: UInt32, prepend: PrependScheme, split: Bool)
    case sequence([PreTokenizer])

    /// `isFirst`: the piece starts the input (for Metaspace's "first" scheme).
    func preTokenize(_ pieces: [NormalizedString], isFirst: [Bool]) -> ([NormalizedString], [Bool]) {
        var out: [NormalizedString] = []; var first: [Bool] = []
        out.reserveCapacity(pieces.count * 4)
        for (k, p) in pieces.enumerated() {
            let before = out.count
            apply(p, isFirst: isFirst[k], into: &out)
            for j in before..<out.count { first.append(isFirst[k] && j == before) }
        }
        return (out, first)
    }

    private func apply(_ p: NormalizedString, isFirst: Bool, into out: inout [NormalizedString]) {
        switch self {
        case .bert:
            var ws: [NormalizedString] = []
            splitPiece(p, .scalar(UProps.isWhitespace), .removed, into: &ws)
            for w in ws { splitPiece(w, .scalar(UProps.isBertPunctuation), .isolated, into: &out) }
        case .whitespace:
            splitPiece(p, .wordsOrPunctuation, .removed, invert: true, into: &out)
        case .whitespaceSplit:
            splitPiece(p, .scalar(UProps.isWhitespace), .removed, into: &out)
        case .punctuation(let b):
            splitPiece(p, .scalar(UProps.isBertPunctuation), b, into: &out)
        case .digits(let individual):
            splitPiece(p, .scalar(UProps.isNumeric), individual ? .isolated : .contiguous, into: &out)
        case .charDelimiter(let c):
            splitPiece(p, .scalar({ $0 == c }), .removed, into: &out)
        case let .split(pattern, behavior, invert):
            splitPiece(p, pattern, behavior, invert: invert, into: &out)
        case let .byteLevel(addPrefixSpace, useRegex):
            var q = p
            if addPrefixSpace && q.scalars.first != 32 { q.prepend([32]) }
            var parts: [NormalizedString] = []
            if useRegex { splitPiece(q, .gpt2, .isolated, into: &parts) } else if !q.isEmpty { parts = [q] }
            for part in parts { out.append(byteLevelMap(part)) }
        case let .metaspace(replacement, prepend, split):
            var q = p
            for i in 0..<q.count where q.scalars[i] == 32 { q.scalars[i] = replacement }
            if (prepend == .always || (prepend == .first && isFirst)) && q.scalars.first != replacement && !q.isEmpty {
                q.prepend([replacement])
            }
            if split { splitPiece(q, .scalar({ $0 == replacement }), .mergedWithNext, into: &out) }
            else if !q.isEmpty { out.append(q) }
        case .sequence(let list):
            var cur = [p]; var curFirst = [isFirst]
            for x in list { (cur, curFirst) = x.preTokenize(cur, isFirst: curFirst) }
            out.append(contentsOf: cur)
        }
    }
}

/// Replaces every scalar by the byte-level scalars of its UTF-8 bytes, all aligned with the source scalar.
func byteLevelMap(_ n: NormalizedString) -> NormalizedString {
    var ns: [UInt32] = [], st: [Int32] = [], en: [Int32] = []
    ns.reserveCapacity(n.count * 2); st.reserveCapacity(n.count * 2); en.reserveCapacity(n.count * 2)
    var buf: [UInt8] = []
    for i in 0..<n.count {
        let c = n.scalars[i]
        if c < 0x80 { ns.append(bytesToChar[Int(c)]); st.append(n.starts[i]); en.append(n.ends[i]); continue }
        buf.removeAll(keepingCapacity: true)
        appendUTF8(&buf, c)
        for b in buf { ns.append(bytesToChar[Int(b)]); st.append(n.starts[i]); en.append(n.ends[i]) }
    }
    return NormalizedString(scalars: ns, starts: st, ends: en)
}
