import Foundation

/// The tokenisation model.
enum Model {
    case wordPiece(WordPieceModel)
    case bpe(BPEModel)
    case unigram(UnigramModel)

    func tokenize(_ s: ArraySlice<UInt32>, into out: inout [(Int32, Int32, Int32)]) {
        switch self {
        case .wordPiece(let m): m.tokenize(s, into: &out)
        case .bpe(let m): m.tokenize(s, into: &out)
        case .unigram(let m): m.tokenize(s, into: &out)
        }
    }
}

/// A Hugging Face-compatible tokenizer: normalizer → pre-tokenizer → model → post-processor, with added
/// tokens, truncation, offsets and decoding, giving the same ids as HF `tokenizers`.
public final class Tokenizer {
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let model: Model
    let postProcessor: PostProcessor?
    let decoder: Decoder?
    let added: [AddedToken]
    let matcherRaw: AddedMatcher      // added tokens matched on the original text
    let matcherNormalized: AddedMatcher  // added tokens matched after normalisation
    /// id → token text (model vocabulary and added tokens).
    let idToToken: [String?]
    let tokenToID: ByteVocab
    let specialIDs: Set<Int32>
    /// Models keep scratch buffers and caches; the lock makes one Tokenizer safe to share between threads.
    private let lock = NSLock()

    init(normalizer: Normalizer?, preTokenizer: PreTokenizer?, model: Model, postProcessor: PostProcessor?,
         decoder: Decoder?, added: [AddedToken], modelVocab: [Int32: [UInt8]]) {
        self.normalizer = normalizer; self.preTokenizer = preTokenizer; self.model = model
        self.postProcessor = postProcessor; self.decoder = decoder; self.added = added
        matcherRaw = AddedMatcher(added.filter { !$0.normalized })
        // Normalised added tokens are matched by their normalised content, as HF does.
        matcherNormalized = AddedMatcher(added.filter { $0.normalized }.map { t in
            var n = NormalizedString(original: t.scalars[...], offset: 0)
            normalizer?.normalize(&n)
            return AddedToken(id: t.id, content: t.content, scalars: n.scalars, special: t.special, singleWord: t.singleWord,
                              lstrip: t.lstrip, rstrip: t.rstrip, normalized: true)
        })
        var maxID: Int32 = -1
        for k in modelVocab.keys { maxID = max(maxID, k) }
        for a in added { maxID = max(maxID, a.id) }
        var table = [String?](repeating: nil, count: Int(maxID) + 1)
        var t2i = ByteVocab(capacity: modelVocab.count + added.count)
        for (id, b) in modelVocab { table[Int(id)] = String(decoding: b, as: UTF8.self); t2i.insert(b, id: id) }
        for a in added { table[Int(a.id)] = a.content; t2i.insert(Array(a.content.utf8), id: a.id) }
        idToToken = table; tokenToID = t2i
        specialIDs = Set(added.filter { $0.special }.map { $0.id })
    }

    // MARK: Public API

    public func tokenID(_ token: String) -> Int32? { tokenToID.lookup(token) }
    public func token(for id: Int32) -> String? { id >= 0 && Int(id) < idToToken.count ? idToToken[Int(id)] : nil }
    public var vocabSize: Int { idToToken.count }
    public var addedTokens: [AddedToken] { added }

    private func firstPresent(_ names: [String]) -> String? { names.first { tokenID($0) != nil } }
    public var maskToken: String? { firstPresent(["[MASK]", "<mask>"]) }
    public var maskTokenID: Int32? { maskToken.flatMap(tokenID) }
    public var clsTokenID: Int32? { firstPresent(["[CLS]", "<s>"]).flatMap(tokenID) }
    public var sepTokenID: Int32? { firstPresent(["[SEP]", "</s>"]).flatMap(tokenID) }
    public var padTokenID: Int32? { firstPresent(["[PAD]", "<pad>"]).flatMap(tokenID) }
    public var unkTokenID: Int32? { firstPresent(["[UNK]", "<unk>"]).flatMap(tokenID) }

    /// Tokens of a text without special tokens.
    public func tokenize(_ text: String) -> [String] { encode(text, addSpecialTokens: false).tokens }

    /// Ids of a text without special tokens (PET patterns concatenate such pieces).
    public func encodeIDs(_ text: String) -> [Int32] { encode(text, addSpecialTokens: false).ids }

    /// Encodes a text (and optional pair). If truncation asks for more than the chosen side has, HF raises;
    /// this returns the encoding truncated as far as possible (`tryEncode` throws instead).
    public func encode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true,
                       truncation: Truncation? = nil) -> Encoding {
        if let e = try? tryEncode(text, pair: pair, addSpecialTokens: addSpecialTokens, truncation: truncation) { return e }
        return (try? tryEncode(text, pair: pair, addSpecialTokens: addSpecialTokens, truncation: nil)) ?? Encoding()
    }

    public func tryEncode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true,
                          truncation: Truncation? = nil) throws -> Encoding {
        lock.lock()
        var a = encodeSequence(stringScalars(text))
        var b = pair.map { encodeSequence(stringScalars($0)) }
        lock.unlock()
        if let t = truncation {
            let n = addSpecialTokens ? (postProcessor?.addedTokens(pair: b != nil) ?? 0) : 0
            try truncateEncodings(&a, &b, maxLength: max(0, t.maxLength - n), strategy: t.strategy)
        }
        return postProcess(a, b, addSpecialTokens: addSpecialTokens)
    }

    /// Builds `[CLS] a [SEP]` / `[CLS] a [SEP] b [SEP]` (or the model's template) from ids without specials.
    public func buildInputs(_ a: [Int32], _ b: [Int32]? = nil) -> Encoding {
        func enc(_ ids: [Int32]) -> Encoding {
            var e = Encoding()
            for id in ids { e.append(id: id, token: token(for: id) ?? "", typeID: 0, start: 0, end: 0, special: false) }
            return e
        }
        return postProcess(enc(a), b.map(enc), addSpecialTokens: true)
    }

    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = true) -> String {
        var toks: [String] = []
        toks.reserveCapacity(ids.count)
        for id in ids {
            if skipSpecialTokens && specialIDs.contains(id) { continue }
            if let t = token(for: id) { toks.append(t) }
        }
        guard let d = decoder else { return toks.joined(separator: " ") }
        return d.decodeChain(toks).joined()
    }

    // MARK: Pipeline

    func encodeSequence(_ text: [UInt32]) -> Encoding {
        var enc = Encoding()
        var pieces: [(NormalizedString, Int32?)] = []
        let rawSplits = matcherRaw.isEmpty ? [(0..<text.count, nil)] : matcherRaw.split(text[...])
        for (r, id) in rawSplits {
            var n = NormalizedString(original: text[r], offset: r.lowerBound)
            if let id = id { pieces.append((n, id)); continue }
            normalizer?.normalize(&n)
            if matcherNormalized.isEmpty { pieces.append((n, nil)); continue }
            for (r2, id2) in matcherNormalized.split(n.scalars[...]) { pieces.append((n.slice(r2), id2)) }
        }
        var toks: [(Int32, Int32, Int32)] = []
        var pieceIndex = 0
        for (n, id) in pieces {
            defer { pieceIndex += 1 }
            if let id = id {
                // HF keeps the matched text (with any lstrip/rstrip spaces) as the token's value.
                let (s, e) = n.count > 0 ? (n.starts[0], n.ends[n.count - 1]) : (0, 0)
                enc.append(id: id, token: scalarsToString(n.scalars), typeID: 0, start: s, end: e, special: false)
                continue
            }
            if n.isEmpty { continue }
            if case .bert? = preTokenizer {
                // Fast path: words are ranges of the normalised piece (no copies).
                bertWords(n.scalars) { a, b in
                    toks.removeAll(keepingCapacity: true)
                    model.tokenize(n.scalars[a..<b], into: &toks)
                    for (tid, s, e) in toks {
                        let (os, oe) = n.originalRange((a + Int(s))..<(a + Int(e)))
                        enc.append(id: tid, token: token(for: tid) ?? "", typeID: 0, start: os, end: oe, special: false)
                    }
                }
                continue
            }
            if case let .byteLevel(addPrefixSpace, useRegex)? = preTokenizer, useRegex {
                // Fast path: GPT-2 split and byte mapping into one reused buffer.
                var q = n
                if addPrefixSpace && q.scalars.first != 32 { q.prepend([32]) }
                byteLevelWords(q, &toks, &enc)
                continue
            }
            let isFirst = n.starts[0] == 0
            let words = preTokenizer.map { $0.preTokenize([n], isFirst: [isFirst]).0 } ?? [n]
            for w in words where !w.isEmpty {
                toks.removeAll(keepingCapacity: true)
                model.tokenize(w.scalars[...], into: &toks)
                for (tid, s, e) in toks {
                    let (os, oe) = w.originalRange(Int(s)..<Int(e))
                    enc.append(id: tid, token: token(for: tid) ?? "", typeID: 0, start: os, end: oe, special: false)
                }
            }
        }
        return enc
    }

    private func byteLevelWords(_ q: NormalizedString, _ toks: inout [(Int32, Int32, Int32)], _ enc: inout Encoding) {
        var buf: [UInt32] = [], bst: [Int32] = [], ben: [Int32] = []
        var utf: [UInt8] = []
        buf.reserveCapacity(64); bst.reserveCapacity(64); ben.reserveCapacity(64)
        for r in Pattern.gpt2.findMatches(q.scalars[...]) {
            buf.removeAll(keepingCapacity: true); bst.removeAll(keepingCapacity: true); ben.removeAll(keepingCapacity: true)
            for i in r {
                let c = q.scalars[i]
                if c < 0x80 { buf.append(bytesToChar[Int(c)]); bst.append(q.starts[i]); ben.append(q.ends[i]); continue }
                utf.removeAll(keepingCapacity: true)
                appendUTF8(&utf, c)
                for b in utf { buf.append(bytesToChar[Int(b)]); bst.append(q.starts[i]); ben.append(q.ends[i]) }
            }
            toks.removeAll(keepingCapacity: true)
            model.tokenize(buf[...], into: &toks)
            for (tid, s, e) in toks {
                let (os, oe) = e > s ? (bst[Int(s)], ben[Int(e) - 1]) : (bst[Int(s)], bst[Int(s)])
                enc.append(id: tid, token: token(for: tid) ?? "", typeID: 0, start: os, end: oe, special: false)
            }
        }
    }

    /// BertPreTokenizer as ranges: split on whitespace (removed), then isolate each punctuation scalar.
    @inline(__always)
    private func bertWords(_ s: [UInt32], _ body: (Int, Int) -> Void) {
        var start = -1
        for i in 0..<s.count {
            let c = s[i]
            if UProps.isWhitespace(c) {
                if start >= 0 { body(start, i); start = -1 }
            } else if UProps.isBertPunctuation(c) {
                if start >= 0 { body(start, i); start = -1 }
                body(i, i + 1)
            } else if start < 0 { start = i }
        }
        if start >= 0 { body(start, s.count) }
    }

    func postProcess(_ a: Encoding, _ b: Encoding?, addSpecialTokens: Bool) -> Encoding {
        var a = a, b = b
        guard let pp = postProcessor else {
            if var b = b { b.typeIDs = [Int32](repeating: 1, count: b.count); a.append(b) }
            return a
        }
        return apply(pp, &a, &b, addSpecialTokens: addSpecialTokens)
    }

    private func special(_ id: Int32, typeID: Int32) -> Encoding {
        var e = Encoding()
        e.append(id: id, token: token(for: id) ?? "", typeID: typeID, start: 0, end: 0, special: true)
        return e
    }

    private func apply(_ pp: PostProcessor, _ a: inout Encoding, _ b: inout Encoding?, addSpecialTokens: Bool) -> Encoding {
        switch pp {
        case let .bert(sep, cls):
            guard addSpecialTokens else {
                if let bb = b { a.append(bb, typeID: 1) }
                return a
            }
            var out = special(cls, typeID: 0)
            out.append(a, typeID: 0); out.append(special(sep, typeID: 0))
            if let bb = b { out.append(bb, typeID: 1); out.append(special(sep, typeID: 1)) }
            return out
        case let .roberta(sep, cls, trim, prefixSpace):
            if trim { trimOffsets(&a, addPrefixSpace: prefixSpace); if b != nil { trimOffsets(&b!, addPrefixSpace: prefixSpace) } }
            guard addSpecialTokens else {
                if let bb = b { a.append(bb, typeID: 1) }
                return a
            }
            var out = special(cls, typeID: 0)
            out.append(a, typeID: 0); out.append(special(sep, typeID: 0))
            if let bb = b {
                // RoBERTa gives every token of a pair type id 0.
                out.append(special(sep, typeID: 0)); out.append(bb, typeID: 0); out.append(special(sep, typeID: 0))
            }
            return out
        case let .byteLevel(trim, prefixSpace):
            if trim { trimOffsets(&a, addPrefixSpace: prefixSpace); if b != nil { trimOffsets(&b!, addPrefixSpace: prefixSpace) } }
            if let bb = b { a.append(bb, typeID: addSpecialTokens ? nil : 1) }
            return a
        case let .template(single, pair, specials):
            guard addSpecialTokens else {
                if let bb = b { a.append(bb, typeID: 1) }
                return a
            }
            var out = Encoding()
            for piece in (b == nil ? single : pair) {
                switch piece {
                case let .special(id, typeID):
                    for sid in specials[id] ?? [] { out.append(special(sid, typeID: Int32(typeID))) }
                case let .sequence(second, typeID):
                    if second { if let bb = b { out.append(bb, typeID: Int32(typeID)) } }
                    else { out.append(a, typeID: Int32(typeID)) }
                }
            }
            return out
        case .sequence(let list):
            var cur = a
            var curB = b
            for (k, p) in list.enumerated() {
                if k == list.count - 1 { return apply(p, &cur, &curB, addSpecialTokens: addSpecialTokens) }
                // Intermediate processors (e.g. ByteLevel) only adjust offsets.
                if case let .byteLevel(trim, prefixSpace) = p, trim {
                    trimOffsets(&cur, addPrefixSpace: prefixSpace)
                    if curB != nil { trimOffsets(&curB!, addPrefixSpace: prefixSpace) }
                }
            }
            return cur
        }
    }

    /// ByteLevel offset trimming: leading/trailing 'Ġ' (encoded spaces) are left out of offsets.
    private func trimOffsets(_ e: inout Encoding, addPrefixSpace: Bool) {
        for i in 0..<e.count {
            let tok = e.tokens[i].unicodeScalars
            var lead = 0
            for u in tok { if u.value == 0x120 || UProps.isWhitespace(u.value) { lead += 1 } else { break } }
            var trail = 0
            for u in tok.reversed() { if u.value == 0x120 || UProps.isWhitespace(u.value) { trail += 1 } else { break } }
            if lead == 0 && trail == 0 { continue }
            if lead > 0 {
                let isFirst = i == 0 || e.offsetStarts[i] == 0
                if isFirst && addPrefixSpace && lead == 1 { lead = 0 }
                e.offsetStarts[i] = min(e.offsetStarts[i] + Int32(lead), e.offsetEnds[i])
            }
            if trail > 0 && e.offsetEnds[i] >= Int32(trail) {
                e.offsetEnds[i] = max(e.offsetEnds[i] - Int32(trail), e.offsetStarts[i])
            }
        }
    }
}
