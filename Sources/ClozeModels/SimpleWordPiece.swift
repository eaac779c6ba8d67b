import Foundation

/// TEMPORARY: a minimal BERT (uncased) tokenizer — basic tokenization (clean text, CJK spacing,
/// lowercase, accent stripping, whitespace + punctuation split, special tokens kept whole) then
/// greedy longest-match WordPiece over vocab.txt. It exists only so the CLI and tests can run
/// BERT-vocabulary models until ClozeTokenizers' full tokenizer.json pipeline lands; replace its
/// uses with that tokenizer then.
public final class SimpleWordPiece {
    public let vocab: [String: Int32]
    public let tokens: [String]
    public let lowercase: Bool
    public let unkId: Int32, clsId: Int32, sepId: Int32, padId: Int32, maskId: Int32
    /// Special tokens matched verbatim in the input before normalisation.
    let specials: [String]
    let maxCharsPerWord = 100

    /// Loads `vocab.txt` from a model directory.
    public convenience init(directory: String, lowercase: Bool = true) throws {
        let path = (directory as NSString).appendingPathComponent("vocab.txt")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ModelError.io(file: path, message: "cannot read vocab.txt (SimpleWordPiece only handles WordPiece/BERT vocabularies)")
        }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        try self.init(tokens: lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }, lowercase: lowercase, file: path)
    }

    public init(tokens: [String], lowercase: Bool, file: String = "vocab") throws {
        self.tokens = tokens
        var v: [String: Int32] = [:]
        for (i, t) in tokens.enumerated() where v[t] == nil { v[t] = Int32(i) }
        vocab = v
        self.lowercase = lowercase
        func id(_ t: String) throws -> Int32 {
            guard let i = v[t] else { throw ModelError.io(file: file, message: "vocabulary has no \(t) token") }
            return i
        }
        unkId = try id("[UNK]"); clsId = try id("[CLS]"); sepId = try id("[SEP]"); padId = try id("[PAD]"); maskId = try id("[MASK]")
        specials = ["[MASK]", "[CLS]", "[SEP]", "[PAD]", "[UNK]"]
    }

    /// `[CLS] tokens [SEP]` ids for one text.
    public func encode(_ text: String) -> [Int32] {
        [clsId] + tokenize(text).map { vocab[$0] ?? unkId } + [sepId]
    }

    /// WordPiece tokens of `text` (no [CLS]/[SEP]).
    public func tokenize(_ text: String) -> [String] {
        var out: [String] = []
        for (piece, isSpecial) in splitSpecials(text) {
            if isSpecial { out.append(piece); continue }
            for word in basicTokenize(piece) { out += wordPiece(word) }
        }
        return out
    }

    /// Splits out special tokens (they are matched before normalisation, like added tokens).
    func splitSpecials(_ text: String) -> [(String, Bool)] {
        var parts: [(String, Bool)] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            var best: (Range<Substring.Index>, String)?
            for s in specials {
                if let r = rest.range(of: s), best == nil || r.lowerBound < best!.0.lowerBound { best = (r, s) }
            }
            guard let (range, token) = best else { parts.append((String(rest), false)); break }
            if range.lowerBound > rest.startIndex { parts.append((String(rest[rest.startIndex ..< range.lowerBound]), false)) }
            parts.append((token, true))
            rest = rest[range.upperBound...]
        }
        return parts
    }

    /// BERT's BasicTokenizer over Unicode scalars.
    func basicTokenize(_ text: String) -> [String] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        func flush() { if !current.isEmpty { words.append(current); current.removeAll() } }
        let source = lowercase ? text.lowercased().decomposedStringWithCanonicalMapping : text
        for s in source.unicodeScalars {
            let v = s.value
            if v == 0 || v == 0xFFFD { continue }
            if lowercase, s.properties.generalCategory == .nonspacingMark { continue }  // strip accents
            if isWhitespace(s) { flush(); continue }
            if isControl(s) { continue }
            if isPunctuation(s) || isCJK(v) { flush(); words.append([s]); continue }
            current.append(s)
        }
        flush()
        return words.map { String(String.UnicodeScalarView($0)) }
    }

    /// Greedy longest-match-first WordPiece with the "##" continuation prefix.
    func wordPiece(_ word: String) -> [String] {
        let scalars = Array(word.unicodeScalars)
        if scalars.count > maxCharsPerWord { return ["[UNK]"] }
        var pieces: [String] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: String?
            while start < end {
                var candidate = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { candidate = "##" + candidate }
                if vocab[candidate] != nil { found = candidate; break }
                end -= 1
            }
            guard let piece = found else { return ["[UNK]"] }
            pieces.append(piece)
            start = end
        }
        return pieces
    }

    func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.generalCategory == .spaceSeparator
    }

    func isControl(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate, .unassigned: return true
        default: return false
        }
    }

    func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    func isCJK(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v) ||
            (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v) ||
            (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
