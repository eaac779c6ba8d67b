import Foundation

extension Tokenizer {
    /// Loads `tokenizer.json` if the directory has one, else `vocab.txt` (WordPiece, BERT uncased defaults
    /// unless `lowercase` is false), else `vocab.json` + `merges.txt` (byte-level BPE), else `spiece.model`.
    public static func load(directory: URL, lowercase: Bool = true) throws -> Tokenizer {
        let fm = FileManager.default
        let tj = directory.appendingPathComponent("tokenizer.json")
        if fm.fileExists(atPath: tj.path) { return try load(tokenizerJSON: tj) }
        let vt = directory.appendingPathComponent("vocab.txt")
        if fm.fileExists(atPath: vt.path) { return try load(vocabTxt: vt, lowercase: lowercase) }
        let vj = directory.appendingPathComponent("vocab.json"), mt = directory.appendingPathComponent("merges.txt")
        if fm.fileExists(atPath: vj.path) && fm.fileExists(atPath: mt.path) { return try load(vocabJSON: vj, merges: mt) }
        let sp = directory.appendingPathComponent("spiece.model")
        if fm.fileExists(atPath: sp.path) { return try load(sentencePieceModel: sp) }
        throw TokenizerError(file: directory.path, "no tokenizer.json, vocab.txt, vocab.json+merges.txt or spiece.model in this directory")
    }

    static func readBytes(_ url: URL) throws -> [UInt8] {
        guard let d = FileManager.default.contents(atPath: url.path) else {
            throw TokenizerError(file: url.path, "cannot read the file")
        }
        return [UInt8](d)
    }

    /// Splits a UTF-8 text file into lines (on '\n', dropping a trailing '\r'), checking UTF-8.
    static func readLines(_ url: URL) throws -> [String] {
        let bytes = try readBytes(url)
        var lines: [String] = []
        var start = 0
        var lineNo = 1
        func add(_ a: Int, _ b: Int) throws {
            var e = b
            if e > a && bytes[e - 1] == 13 { e -= 1 }
            let slice = bytes[a..<e]
            let ok = slice.withUnsafeBufferPointer { decodeUTF8($0) }
            if case .failure(let f) = ok {
                throw TokenizerError(file: url.path, place: "line \(lineNo), byte \(f.offset + 1)", "invalid UTF-8")
            }
            lines.append(String(decoding: slice, as: UTF8.self))
        }
        for i in 0..<bytes.count where bytes[i] == 10 {
            try add(start, i); start = i + 1; lineNo += 1
        }
        if start < bytes.count { try add(start, bytes.count) }
        return lines
    }

    /// Plain WordPiece `vocab.txt`, one token per line (id = line index), with BERT's pipeline.
    public static func load(vocabTxt url: URL, lowercase: Bool = true) throws -> Tokenizer {
        let lines = try readLines(url)
        var vocab = ByteVocab(capacity: lines.count)
        var rev: [Int32: [UInt8]] = [:]
        for (i, l) in lines.enumerated() { vocab.insert(Array(l.utf8), id: Int32(i)); rev[Int32(i)] = Array(l.utf8) }
        guard let unk = vocab.lookup("[UNK]") else {
            throw TokenizerError(file: url.path, "the unknown token [UNK] is not in the vocabulary")
        }
        var added: [AddedToken] = []
        for name in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] {
            if let id = vocab.lookup(name) {
                added.append(AddedToken(id: id, content: name, scalars: stringScalars(name), special: true,
                                        singleWord: false, lstrip: false, rstrip: false, normalized: false))
            }
        }
        guard let cls = vocab.lookup("[CLS]"), let sep = vocab.lookup("[SEP]") else {
            throw TokenizerError(file: url.path, "[CLS] and [SEP] must be in the vocabulary")
        }
        return Tokenizer(normalizer: .bert(cleanText: true, chineseChars: true, stripAccents: lowercase, lowercase: lowercase),
                         preTokenizer: .bert,
                         model: .wordPiece(WordPieceModel(vocab: vocab, unkID: unk, prefix: Array("##".utf8), maxInputCharsPerWord: 100)),
                         postProcessor: .bert(sep: sep, cls: cls), decoder: .wordPiece(prefix: "##", cleanup: true),
                         added: added, modelVocab: rev)
    }

    /// GPT-2/RoBERTa style `vocab.json` + `merges.txt` with RoBERTa's special tokens and post-processor.
    public static func load(vocabJSON: URL, merges mergesURL: URL) throws -> Tokenizer {
        let json = try JSONParser.parse(try readBytes(vocabJSON), file: vocabJSON.path)
        guard let members = json.members else { throw TokenizerError(file: vocabJSON.path, "expected a JSON object of token → id") }
        var vocab = ByteVocab(capacity: members.count)
        var rev: [Int32: [UInt8]] = [:]
        for (k, v) in members {
            let token = String(decoding: k, as: UTF8.self)
            guard let id = v.int else { throw TokenizerError(file: vocabJSON.path, place: "token \(token.debugDescription)", "id is not an integer") }
            let tokenID = try TokenIDs.checked(id, token: token, file: vocabJSON.path, place: "token \(token.debugDescription)")
            vocab.insert(k, id: tokenID); rev[tokenID] = k
        }
        try TokenIDs.checkDense(modelVocab: rev, added: [], file: vocabJSON.path)
        let lines = try readLines(mergesURL)
        let merges = try parseMerges(lines.enumerated().map { ($0.offset + 1, $0.element) }, vocab: vocab, file: mergesURL.path)
        var added: [AddedToken] = []
        var nextID = (rev.keys.max() ?? -1) + 1
        for name in ["<s>", "<pad>", "</s>", "<unk>", "<mask>"] {
            var id = vocab.lookup(name)
            if id == nil && name == "<mask>" { id = nextID; nextID += 1 }  // RoBERTa-style: <mask> appended after the vocab
            if let id = id {
                added.append(AddedToken(id: id, content: name, scalars: stringScalars(name), special: true,
                                        singleWord: false, lstrip: name == "<mask>", rstrip: false, normalized: false))
            }
        }
        let model = BPEModel(vocab: vocab, merges: merges, unkID: vocab.lookup("<unk>"), fuseUnk: false, byteFallback: false,
                             continuingPrefix: [], endOfWordSuffix: [], ignoreMerges: false)
        var pp: PostProcessor? = nil
        if let s = vocab.lookup("</s>"), let c = vocab.lookup("<s>") { pp = .roberta(sep: s, cls: c, trimOffsets: true, addPrefixSpace: false) }
        return Tokenizer(normalizer: nil, preTokenizer: .byteLevel(addPrefixSpace: false, useRegex: true), model: .bpe(model),
                         postProcessor: pp, decoder: .byteLevel, added: added, modelVocab: rev)
    }

    /// Merges as (line number, "a b") pairs → (left id, right id) → (rank, merged id).
    static func parseMerges(_ lines: [(Int, String)], vocab: ByteVocab, file: String) throws -> [UInt64: (rank: Int32, id: Int32)] {
        var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
        var rank: Int32 = 0
        for (lineNo, line) in lines {
            if line.hasPrefix("#version") || line.isEmpty { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError(file: file, place: "merge \(lineNo)", "expected two tokens separated by one space, got \(line.debugDescription)")
            }
            let a = Array(parts[0].utf8), b = Array(parts[1].utf8)
            guard let ia = vocab.lookup(a), let ib = vocab.lookup(b), let im = vocab.lookup(a + b) else {
                throw TokenizerError(file: file, place: "merge \(lineNo)", "\(line.debugDescription) uses a token missing from the vocabulary")
            }
            let key = UInt64(UInt32(bitPattern: ia)) << 32 | UInt64(UInt32(bitPattern: ib))
            merges[key] = (rank, im)  // a repeated merge takes its last rank, as HF's map does
            rank += 1
        }
        return merges
    }
}
