/// A token added on top of the model's vocabulary (special tokens like `[MASK]`, `<mask>`): never split.
public struct AddedToken {
    public let id: Int32
    public let content: String
    let scalars: [UInt32]
    public let special: Bool
    let singleWord: Bool
    let lstrip: Bool
    let rstrip: Bool
    let normalized: Bool
}

/// Finds added tokens in text: leftmost-longest matching, then lstrip/rstrip/single_word rules as HF does.
struct AddedMatcher {
    let tokens: [AddedToken]
    private var byFirst: [UInt32: [Int]] = [:]   // first scalar → token indices, longest first

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        for (i, t) in tokens.enumerated() where !t.scalars.isEmpty { byFirst[t.scalars[0], default: []].append(i) }
        for k in byFirst.keys { byFirst[k]!.sort { tokens[$0].scalars.count > tokens[$1].scalars.count } }
    }

    var isEmpty: Bool { byFirst.isEmpty }

    /// Splits s into (range, token id or nil) pieces covering it.
    func split(_ s: ArraySlice<UInt32>) -> [(Range<Int>, Int32?)] {
        let start = s.startIndex, end = s.endIndex
        var out: [(Range<Int>, Int32?)] = []
        var startOffset = start
        var i = start
        while i < end {
            guard let cands = byFirst[s[i]] else { i += 1; continue }
            var matched: Int? = nil
            for t in cands {
                let p = tokens[t].scalars
                if i + p.count <= end {
                    var ok = true
                    for k in 1..<p.count where s[i + k] != p[k] { ok = false; break }
                    if ok { matched = t; break }
                }
            }
            guard let t = matched else { i += 1; continue }
            let tok = tokens[t]
            var a = i, b = i + tok.scalars.count
            if tok.singleWord {
                let startSpace = a == start || !isWordScalar(s[a - 1])
                let stopSpace = b == end || !isWordScalar(s[b])
                if !startSpace || !stopSpace { i += 1; continue }
            }
            if tok.lstrip {
                var k = a
                while k > start && UProps.isWhitespace(s[k - 1]) { k -= 1 }
                a = max(k, startOffset)
            }
            if tok.rstrip { while b < end && UProps.isWhitespace(s[b]) { b += 1 } }
            if startOffset < a { out.append((startOffset..<a, nil)) }
            out.append((a..<b, tok.id))
            startOffset = b
            i = b
        }
        if startOffset < end { out.append((startOffset..<end, nil)) }
        return out
    }

    private func isWordScalar(_ c: UInt32) -> Bool { UProps.isWordChar(c) }
}
