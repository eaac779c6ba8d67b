import Foundation

/// Builds a Tokenizer from a Hugging Face `tokenizer.json`.
extension Tokenizer {
    public static func load(tokenizerJSON url: URL) throws -> Tokenizer {
        let file = url.path
        let root = try JSONParser.parse(try readBytes(url), file: file)
        guard root.members != nil else { throw TokenizerError(file: file, "the top level must be a JSON object") }
        let r = TokenizerJSONReader(file: file)
        guard let modelJSON = root["model"], !modelJSON.isNull else { throw TokenizerError(file: file, place: "model", "missing") }
        let (model, vocab) = try r.model(modelJSON)
        var added: [AddedToken] = []
        for (i, a) in (root["added_tokens"]?.array ?? []).enumerated() {
            let place = "added_tokens[\(i)]"
            guard let id = a["id"]?.int, let content = a["content"]?.string else {
                throw TokenizerError(file: file, place: place, "needs an integer id and a string content")
            }
            let special = a["special"]?.bool ?? false
            let tokenID = try TokenIDs.checked(id, token: content, file: file, place: place + ".id")
            added.append(AddedToken(id: tokenID, content: content, scalars: stringScalars(content), special: special,
                                    singleWord: a["single_word"]?.bool ?? false, lstrip: a["lstrip"]?.bool ?? false,
                                    rstrip: a["rstrip"]?.bool ?? false, normalized: a["normalized"]?.bool ?? !special))
        }
        func opt<T>(_ key: String, _ f: (JSONValue, String) throws -> T) throws -> T? {
            guard let v = root[key], !v.isNull else { return nil }
            return try f(v, key)
        }
        let normalizer = try opt("normalizer", r.normalizer)
        let pre = try opt("pre_tokenizer", r.preTokenizer)
        let post = try opt("post_processor", r.postProcessor)
        let dec = try opt("decoder", r.decoder)
        try TokenIDs.checkDense(modelVocab: vocab, added: added, file: file)
        return Tokenizer(normalizer: normalizer, preTokenizer: pre, model: model, postProcessor: post, decoder: dec,
                         added: added, modelVocab: vocab)
    }
}

struct TokenizerJSONReader {
    let file: String

    func err(_ place: String, _ msg: String) -> TokenizerError { TokenizerError(file: file, place: place, msg) }

    func type(_ j: JSONValue, _ place: String) throws -> String {
        guard let t = j["type"]?.string else { throw err(place, "missing \"type\"") }
        return t
    }

    func unsupported(_ kind: String, _ t: String, _ place: String, _ known: String) -> TokenizerError {
        err(place, "unsupported \(kind) type \"\(t)\" (supported: \(known))")
    }

    func normalizer(_ j: JSONValue, _ place: String) throws -> Normalizer {
        let t = try type(j, place)
        switch t {
        case "BertNormalizer":
            let lower = j["lowercase"]?.bool ?? true
            let strip = j["strip_accents"].flatMap { $0.isNull ? nil : $0.bool } ?? lower
            return .bert(cleanText: j["clean_text"]?.bool ?? true, chineseChars: j["handle_chinese_chars"]?.bool ?? true,
                         stripAccents: strip, lowercase: lower)
        case "NFD": return .nfd
        case "NFC": return .nfc
        case "NFKD": return .nfkd
        case "NFKC": return .nfkc
        case "Lowercase": return .lowercase
        case "StripAccents": return .stripAccents
        case "Strip": return .strip(left: j["strip_left"]?.bool ?? true, right: j["strip_right"]?.bool ?? true)
        case "Prepend":
            guard let p = j["prepend"]?.string else { throw err(place, "Prepend needs \"prepend\"") }
            return .prepend(stringScalars(p))
        case "Replace":
            guard let p = j["pattern"], let c = j["content"]?.string else { throw err(place, "Replace needs pattern and content") }
            return .replace(pattern: try Pattern.from(p, file: file, place: place + ".pattern"), content: stringScalars(c))
        case "Precompiled":
            guard let b64 = j["precompiled_charsmap"]?.string else { throw err(place, "Precompiled needs precompiled_charsmap") }
            if b64.isEmpty { return .sequence([]) }
            guard let data = Data(base64Encoded: b64) else { throw err(place + ".precompiled_charsmap", "not valid base64") }
            return .precompiled(try PrecompiledCharsmap(bytes: [UInt8](data), file: file))
        case "Sequence":
            let list = j["normalizers"]?.array ?? []
            return .sequence(try list.enumerated().map { try normalizer($0.element, "\(place).normalizers[\($0.offset)]") })
        default:
            throw unsupported("normalizer", t, place, "BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, Prepend, Replace, Precompiled, Sequence")
        }
    }

    func prependScheme(_ j: JSONValue) -> PrependScheme {
        if let s = j["prepend_scheme"]?.string { return s == "first" ? .first : s == "never" ? .never : .always }
        if let a = j["add_prefix_space"]?.bool { return a ? .always : .never }
        return .always
    }

    func replacement(_ j: JSONValue, _ place: String) throws -> UInt32 {
        let s = stringScalars(j["replacement"]?.string ?? "\u{2581}")
        guard s.count == 1 else { throw err(place + ".replacement", "must be one character") }
        return s[0]
    }

    func preTokenizer(_ j: JSONValue, _ place: String) throws -> PreTokenizer {
        let t = try type(j, place)
        switch t {
        case "BertPreTokenizer": return .bert
        case "Whitespace": return .whitespace
        case "WhitespaceSplit": return .whitespaceSplit
        case "Punctuation": return .punctuation(try SplitBehavior.from(j["behavior"]?.string, file: file, place: place))
        case "Digits": return .digits(individual: j["individual_digits"]?.bool ?? false)
        case "CharDelimiterSplit":
            guard let d = j["delimiter"]?.string, stringScalars(d).count == 1 else { throw err(place, "needs a one-character delimiter") }
            return .charDelimiter(stringScalars(d)[0])
        case "Split":
            guard let p = j["pattern"] else { throw err(place, "Split needs a pattern") }
            return .split(try Pattern.from(p, file: file, place: place + ".pattern"),
                          try SplitBehavior.from(j["behavior"]?.string, file: file, place: place), invert: j["invert"]?.bool ?? false)
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: j["add_prefix_space"]?.bool ?? true, useRegex: j["use_regex"]?.bool ?? true)
        case "Metaspace":
            return .metaspace(replacement: try replacement(j, place), prepend: prependScheme(j), split: j["split"]?.bool ?? true)
        case "Sequence":
            let list = j["pretokenizers"]?.array ?? []
            return .sequence(try list.enumerated().map { try preTokenizer($0.element, "\(place).pretokenizers[\($0.offset)]") })
        default:
            throw unsupported("pre_tokenizer", t, place, "BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation, Digits, CharDelimiterSplit, Split, ByteLevel, Metaspace, Sequence")
        }
    }

    func specialPair(_ j: JSONValue?, _ place: String) throws -> Int32 {
        guard let a = j?.array, a.count == 2, let id = a[1].int else { throw err(place, "expected [token, id]") }
        return try TokenIDs.checked(id, token: a[0].string ?? "", file: file, place: place)
    }

    /// A template piece's `type_id` (default 0): a small non-negative integer, checked against the
    /// model's type_vocab_size when a batch is encoded.
    func typeID(_ piece: JSONValue, _ place: String) throws -> UInt32 {
        guard let v = piece["type_id"], !v.isNull else { return 0 }
        guard let t = v.int, t >= 0, t < 1 << 16 else { throw err(place + ".type_id", "type_id must be an integer from 0 to 65535") }
        return UInt32(t)
    }

    func template(_ j: JSONValue?, _ place: String) throws -> [TemplatePiece] {
        guard let list = j?.array else { throw err(place, "expected a list") }
        return try list.enumerated().map { k, p in
            if let s = p["SpecialToken"] {
                guard let id = s["id"]?.string else { throw err("\(place)[\(k)]", "SpecialToken needs an id") }
                return .special(id: id, typeID: try typeID(s, "\(place)[\(k)].SpecialToken"))
            }
            if let s = p["Sequence"] {
                let id = s["id"]?.string ?? "A"
                return .sequence(second: id == "B", typeID: try typeID(s, "\(place)[\(k)].Sequence"))
            }
            throw err("\(place)[\(k)]", "expected SpecialToken or Sequence")
        }
    }

    func postProcessor(_ j: JSONValue, _ place: String) throws -> PostProcessor {
        let t = try type(j, place)
        switch t {
        case "BertProcessing":
            return .bert(sep: try specialPair(j["sep"], place + ".sep"), cls: try specialPair(j["cls"], place + ".cls"))
        case "RobertaProcessing":
            return .roberta(sep: try specialPair(j["sep"], place + ".sep"), cls: try specialPair(j["cls"], place + ".cls"),
                            trimOffsets: j["trim_offsets"]?.bool ?? true, addPrefixSpace: j["add_prefix_space"]?.bool ?? true)
        case "ByteLevel":
            return .byteLevel(trimOffsets: j["trim_offsets"]?.bool ?? true, addPrefixSpace: j["add_prefix_space"]?.bool ?? true)
        case "TemplateProcessing":
            var specials: [String: [Int32]] = [:]
            for (k, v) in j["special_tokens"]?.members ?? [] {
                let name = String(decoding: k, as: UTF8.self), where_ = "\(place).special_tokens.\(name).ids"
                specials[name] = try (v["ids"]?.array ?? []).map { idValue in
                    guard let id = idValue.int else { throw err(where_, "ids must be integers") }
                    return try TokenIDs.checked(id, token: name, file: file, place: where_)
                }
            }
            return .template(single: try template(j["single"], place + ".single"), pair: try template(j["pair"], place + ".pair"),
                             specials: specials)
        case "Sequence":
            let list = j["processors"]?.array ?? []
            return .sequence(try list.enumerated().map { try postProcessor($0.element, "\(place).processors[\($0.offset)]") })
        default:
            throw unsupported("post_processor", t, place, "BertProcessing, RobertaProcessing, ByteLevel, TemplateProcessing, Sequence")
        }
    }

    func decoder(_ j: JSONValue, _ place: String) throws -> Decoder {
        let t = try type(j, place)
        switch t {
        case "WordPiece": return .wordPiece(prefix: j["prefix"]?.string ?? "##", cleanup: j["cleanup"]?.bool ?? true)
        case "ByteLevel": return .byteLevel
        case "Metaspace": return .metaspace(replacement: try replacement(j, place), prepend: prependScheme(j))
        case "BPEDecoder": return .bpe(suffix: j["suffix"]?.string ?? "</w>")
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Strip":
            let c = stringScalars(j["content"]?.string ?? " ")
            return .strip(content: c.first ?? 32, start: j["start"]?.int ?? 0, stop: j["stop"]?.int ?? 0)
        case "Replace":
            guard let p = j["pattern"], let c = j["content"]?.string else { throw err(place, "Replace needs pattern and content") }
            return .replace(pattern: try Pattern.from(p, file: file, place: place + ".pattern"), content: stringScalars(c))
        case "Sequence":
            let list = j["decoders"]?.array ?? []
            return .sequence(try list.enumerated().map { try decoder($0.element, "\(place).decoders[\($0.offset)]") })
        default:
            throw unsupported("decoder", t, place, "WordPiece, ByteLevel, Metaspace, BPEDecoder, ByteFallback, Fuse, Strip, Replace, Sequence")
        }
    }

    func model(_ j: JSONValue) throws -> (Model, [Int32: [UInt8]]) {
        let place = "model"
        let t = j["type"]?.string ?? (j["merges"] != nil ? "BPE" : j["continuing_subword_prefix"] != nil ? "WordPiece" : "Unigram")
        switch t {
        case "WordPiece", "BPE":
            guard let members = j["vocab"]?.members else { throw err(place + ".vocab", "expected an object of token → id") }
            var vocab = ByteVocab(capacity: members.count)
            var rev: [Int32: [UInt8]] = [:]
            for (k, v) in members {
                let token = String(decoding: k, as: UTF8.self)
                guard let id = v.int else { throw err(place + ".vocab", "id of \(token.debugDescription) is not an integer") }
                let tokenID = try TokenIDs.checked(id, token: token, file: file, place: place + ".vocab")
                vocab.insert(k, id: tokenID); rev[tokenID] = k
            }
            if t == "WordPiece" {
                let unk = j["unk_token"]?.string ?? "[UNK]"
                guard let unkID = vocab.lookup(unk) else {
                    throw err(place + ".unk_token", "the unknown token \(unk.debugDescription) is not in the vocabulary")
                }
                return (.wordPiece(WordPieceModel(vocab: vocab, unkID: unkID, prefix: Array((j["continuing_subword_prefix"]?.string ?? "##").utf8),
                                                  maxInputCharsPerWord: j["max_input_chars_per_word"]?.int ?? 100)), rev)
            }
            var lines: [(Int, String)] = []
            for (i, m) in (j["merges"]?.array ?? []).enumerated() {
                if let s = m.string { lines.append((i + 1, s)) }
                else if let pair = m.array, pair.count == 2, let a = pair[0].string, let b = pair[1].string { lines.append((i + 1, a + " " + b)) }
                else { throw err("\(place).merges[\(i)]", "expected \"a b\" or [a, b]") }
            }
            let merges = try Tokenizer.parseMerges(lines, vocab: vocab, file: file)
            var unkID: Int32? = nil
            if let unk = j["unk_token"]?.string {
                guard let u = vocab.lookup(unk) else { throw err(place + ".unk_token", "the unknown token \(unk.debugDescription) is not in the vocabulary") }
                unkID = u
            }
            return (.bpe(BPEModel(vocab: vocab, merges: merges, unkID: unkID, fuseUnk: j["fuse_unk"]?.bool ?? false,
                                  byteFallback: j["byte_fallback"]?.bool ?? false,
                                  continuingPrefix: Array((j["continuing_subword_prefix"]?.string ?? "").utf8),
                                  endOfWordSuffix: Array((j["end_of_word_suffix"]?.string ?? "").utf8),
                                  ignoreMerges: j["ignore_merges"]?.bool ?? false)), rev)
        case "Unigram":
            guard let list = j["vocab"]?.array else { throw err(place + ".vocab", "expected a list of [piece, score]") }
            var pieces: [[UInt8]] = [], scores: [Double] = []
            var rev: [Int32: [UInt8]] = [:]
            for (i, e) in list.enumerated() {
                guard let pair = e.array, pair.count == 2, let p = pair[0].bytes, let s = pair[1].double else {
                    throw err("\(place).vocab[\(i)]", "expected [piece, score]")
                }
                pieces.append(p); scores.append(s); rev[Int32(i)] = p
            }
            if j["byte_fallback"]?.bool == true {
                throw err(place + ".byte_fallback", "Unigram with byte_fallback is not supported yet (BPE byte fallback is)")
            }
            var unk: Int32? = nil
            if let u = j["unk_id"], !u.isNull {
                guard let ui = u.int, ui >= 0, ui < pieces.count else { throw err(place + ".unk_id", "the unknown token id is not in the vocabulary") }
                unk = Int32(ui)
            }
            return (.unigram(UnigramModel(pieces: pieces, scores: scores, unkID: unk, byteFallback: j["byte_fallback"]?.bool ?? false)), rev)
        default:
            throw unsupported("model", t, place, "WordPiece, BPE, Unigram")
        }
    }
}
