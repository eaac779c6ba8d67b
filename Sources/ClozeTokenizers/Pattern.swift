/// Split/Replace patterns: literal strings, and the regular expressions tokenizer.json files use in practice.
enum Pattern {
    case literal([UInt32])
    /// `X{n,}` or `X+` for a single scalar X (e.g. SentencePiece converters' `" {2,}"`).
    case repeated(UInt32, min: Int)
    /// `\s+`
    case whitespaceRun
    /// The GPT-2 pre-tokenisation regex.
    case gpt2
    /// `\w+|[^\w\s]+`
    case wordsOrPunctuation
    /// A single scalar per match, chosen by a predicate.
    case scalar((UInt32) -> Bool)

    static let gpt2Regex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

    /// Parses a tokenizer.json pattern ({"String": ...} or {"Regex": ...}).
    static func from(_ json: JSONValue, file: String, place: String) throws -> Pattern {
        if let s = json["String"]?.string {
            return .literal(stringScalars(s))
        }
        if let r = json["Regex"]?.string {
            if r == gpt2Regex || r == "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+" { return .gpt2 }
            if r == "\\s+" { return .whitespaceRun }
            if r == "\\w+|[^\\w\\s]+" { return .wordsOrPunctuation }
            let sc = stringScalars(r)
            if sc.count >= 2, sc.last == 0x2B /* + */ {
                let body = Array(sc.dropLast())
                if body.count == 1 && !"\\.[]()*?{}|^$".unicodeScalars.contains(where: { $0.value == body[0] }) { return .repeated(body[0], min: 1) }
            }
            if let brace = sc.firstIndex(of: 0x7B), brace == 1, sc.last == 0x7D {
                let inner = String(decoding: sc[(brace + 1)..<(sc.count - 1)].map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self)
                if inner.hasSuffix(","), let n = Int(inner.dropLast()), n >= 1 { return .repeated(sc[0], min: n) }
            }
            // A regex without metacharacters is a literal.
            if !sc.contains(where: { "\\.[]()*+?{}|^$".unicodeScalars.map(\.value).contains($0) }) { return .literal(sc) }
            throw TokenizerError(file: file, place: place, "unsupported regular expression \(r.debugDescription); supported: literals, X+, X{n,}, \\s+, \\w+|[^\\w\\s]+ and the GPT-2 pattern")
        }
        throw TokenizerError(file: file, place: place, "pattern must be {\"String\": ...} or {\"Regex\": ...}")
    }

    /// Non-overlapping matches, left to right.
    func findMatches(_ s: ArraySlice<UInt32>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        let start = s.startIndex, end = s.endIndex
        switch self {
        case .literal(let p):
            guard !p.isEmpty, p.count <= s.count else { return [] }
            var i = start
            while i + p.count <= end {
                var ok = true
                for k in 0..<p.count where s[i + k] != p[k] { ok = false; break }
                if ok { out.append(i..<(i + p.count)); i += p.count } else { i += 1 }
            }
        case let .repeated(c, min):
            var i = start
            while i < end {
                if s[i] == c {
                    var j = i
                    while j < end && s[j] == c { j += 1 }
                    if j - i >= min { out.append(i..<j) }
                    i = j
                } else { i += 1 }
            }
        case .whitespaceRun:
            var i = start
            while i < end {
                if UProps.isWhitespace(s[i]) {
                    var j = i
                    while j < end && UProps.isWhitespace(s[j]) { j += 1 }
                    out.append(i..<j); i = j
                } else { i += 1 }
            }
        case .wordsOrPunctuation:
            var i = start
            while i < end {
                let c = s[i]
                if UProps.isWordChar(c) {
                    var j = i
                    while j < end && UProps.isWordChar(s[j]) { j += 1 }
                    out.append(i..<j); i = j
                } else if !UProps.isWhitespace(c) {
                    var j = i
                    while j < end && !UProps.isWordChar(s[j]) && !UProps.isWhitespace(s[j]) { j += 1 }
                    out.append(i..<j); i = j
                } else { i += 1 }
            }
        case .scalar(let pred):
            for i in start..<end where pred(s[i]) { out.append(i..<(i + 1)) }
        case .gpt2:
            var i = start
            while i < end {
                let j = gpt2Match(s, i)
                out.append(i..<j); i = j
            }
        }
        return out
    }

    /// End of the GPT-2 regex match starting at i (the pattern matches every position).
    @inline(__always)
    private func gpt2Match(_ s: ArraySlice<UInt32>, _ i: Int) -> Int {
        let end = s.endIndex
        let c = s[i]
        if c == 0x27, i + 1 < end {  // contractions
            let n = s[i + 1]
            if n == 0x73 || n == 0x74 || n == 0x6D || n == 0x64 { return i + 2 }
            if i + 2 < end {
                let m = s[i + 2]
                if (n == 0x72 && m == 0x65) || (n == 0x76 && m == 0x65) || (n == 0x6C && m == 0x6C) { return i + 3 }
            }
        }
        var k = i
        if c == 0x20 && i + 1 < end { k = i + 1 }
        let d = s[k]
        if UProps.isLetter(d) {
            var j = k + 1
            while j < end && UProps.isLetter(s[j]) { j += 1 }
            return j
        }
        if UProps.isNumber(d) {
            var j = k + 1
            while j < end && UProps.isNumber(s[j]) { j += 1 }
            return j
        }
        if !UProps.isRegexSpace(d) {
            var j = k + 1
            while j < end, !UProps.isRegexSpace(s[j]), !UProps.isLetter(s[j]), !UProps.isNumber(s[j]) { j += 1 }
            return j
        }
        // c is whitespace here (or a space followed by whitespace).
        var j = i
        while j < end && UProps.isRegexSpace(s[j]) { j += 1 }
        if j == end || j - i == 1 { return j }
        return j - 1  // \s+(?!\S): leave the last space to prefix the next word
    }
}
