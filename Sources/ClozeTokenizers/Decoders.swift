/// tokenizer.json `decoder`: turns token strings back into text.
indirect enum Decoder {
    case wordPiece(prefix: String, cleanup: Bool)
    case byteLevel
    case metaspace(replacement: UInt32, prepend: PrependScheme)
    case bpe(suffix: String)
    case byteFallback
    case fuse
    case strip(content: UInt32, start: Int, stop: Int)
    case replace(pattern: Pattern, content: [UInt32])
    case sequence([Decoder])

    /// One step of the chain: token strings in, token strings out (`fuse` and `byteLevel` return one).
    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case let .wordPiece(prefix, cleanup): return Self.wordPiece(tokens, prefix: prefix, cleanup: cleanup)
        case .byteLevel: return Self.byteLevel(tokens)
        case let .metaspace(replacement, prepend): return Self.metaspace(tokens, replacement: replacement, prepend: prepend)
        case let .bpe(suffix):
            return tokens.enumerated().map { i, t in t.replacingAll(suffix, with: i == tokens.count - 1 ? "" : " ") }
        case .byteFallback: return Self.byteFallback(tokens)
        case .fuse: return [tokens.joined()]
        case let .strip(content, start, stop): return tokens.map { Self.strip($0, content: content, start: start, stop: stop) }
        case let .replace(pattern, content): return tokens.map { Self.replace($0, pattern: pattern, content: content) }
        case .sequence(let list):
            var t = tokens
            for d in list { t = d.decodeChain(t) }
            return t
        }
    }

    static func wordPiece(_ tokens: [String], prefix: String, cleanup: Bool) -> [String] {
        let pb = Array(prefix.utf8)
        return tokens.enumerated().map { i, t in
            var tok = t
            if i != 0 {
                // Compare bytes: Character-based hasPrefix fails when a combining mark follows the prefix.
                let tb = Array(tok.utf8)
                if tb.count >= pb.count && Array(tb[0..<pb.count]) == pb { tok = String(decoding: tb[pb.count...], as: UTF8.self) }
                else { tok = " " + tok }
            }
            return cleanup ? wordPieceCleanup(tok) : tok
        }
    }

    /// GPT-2's byte-to-unicode map reversed; a token with a scalar outside the map is kept as its UTF-8.
    static func byteLevel(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for t in tokens {
            var tb: [UInt8] = []
            var ok = true
            for u in t.unicodeScalars {
                if let b = charToByte[u.value] { tb.append(b) } else { ok = false; break }
            }
            if ok { bytes.append(contentsOf: tb) } else { bytes.append(contentsOf: Array(t.utf8)) }
        }
        return [String(decoding: bytes, as: UTF8.self)]
    }

    static func metaspace(_ tokens: [String], replacement: UInt32, prepend: PrependScheme) -> [String] {
        tokens.enumerated().map { i, t in
            var out = String.UnicodeScalarView()
            var first = true
            for u in t.unicodeScalars {
                let c: Unicode.Scalar = u.value == replacement ? " " : u
                if first && i == 0 && c.value == 32 && prepend != .never { first = false; continue }
                first = false
                out.append(c)
            }
            return String(out)
        }
    }

    /// `<0xAB>` tokens become bytes; a run of them that is not valid UTF-8 becomes one U+FFFD per byte (as HF does).
    static func byteFallback(_ tokens: [String]) -> [String] {
        var out: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let s = String(validatingUTF8CString: pending) { out.append(s) }
            else { out.append(contentsOf: [String](repeating: "\u{FFFD}", count: pending.count)) }
            pending.removeAll()
        }
        for t in tokens {
            let u = Array(t.utf8)
            if u.count == 6, u[0] == 60, u[1] == 48, u[2] == 120, u[5] == 62, let b = UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16) {
                pending.append(b)
            } else { flush(); out.append(t) }
        }
        flush()
        return out
    }

    static func strip(_ t: String, content: UInt32, start: Int, stop: Int) -> String {
        let sc = Array(t.unicodeScalars)
        var a = 0
        while a < min(start, sc.count) && sc[a].value == content { a += 1 }
        var b = sc.count
        var removed = 0
        while removed < stop && b > a && sc[b - 1].value == content { b -= 1; removed += 1 }
        var v = String.UnicodeScalarView(); v.append(contentsOf: sc[a..<b]); return String(v)
    }

    static func replace(_ t: String, pattern: Pattern, content: [UInt32]) -> String {
        let sc = stringScalars(t)
        let ms = pattern.findMatches(sc[...])
        if ms.isEmpty { return t }
        var out: [UInt32] = []; var pos = 0
        for m in ms { out.append(contentsOf: sc[pos..<m.lowerBound]); out.append(contentsOf: content); pos = m.upperBound }
        out.append(contentsOf: sc[pos...])
        return scalarsToString(out)
    }
}

extension String {
    init?(validatingUTF8CString bytes: [UInt8]) {
        guard case .success = bytes.withUnsafeBufferPointer({ decodeUTF8($0) }) else { return nil }
        self = String(decoding: bytes, as: UTF8.self)
    }
    func replacingAll(_ target: String, with rep: String) -> String {
        guard !target.isEmpty else { return self }
        let s = Array(self.utf8), t = Array(target.utf8), r = Array(rep.utf8)
        var out: [UInt8] = []; out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if i + t.count <= s.count && s[i] == t[0] && Array(s[i..<(i + t.count)]) == t { out.append(contentsOf: r); i += t.count }
            else { out.append(s[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

private let cleanupRules: [(String, String)] = [
    (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
    (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
]
func wordPieceCleanup(_ s: String) -> String {
    var r = s
    for (a, b) in cleanupRules where r.utf8.count >= a.utf8.count { r = r.replacingAll(a, with: b) }
    return r
}
