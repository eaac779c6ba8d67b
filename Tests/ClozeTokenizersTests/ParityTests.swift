import XCTest
import Foundation
import ClozeTokenizers

/// Package root, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let fixtureDir = packageRoot.appendingPathComponent("Tests/Fixtures/tokenizers")
let regenerate = "regenerate with: /work/venv/bin/python scripts/make_hostile_text.py && /work/venv/bin/python scripts/make_tokenizer_fixtures.py"

/// Lines of a fixture file split on '\n' only (a line may contain '\r' and other separators).

func requireFixture(_ name: String) throws -> [String] {
    let url = fixtureDir.appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: url.path) else {
        XCTFail("missing fixture \(url.path); \(regenerate)")
        throw NSError(domain: "fixture", code: 1)
    }
    // Split bytes on 0x0A so that no other separator (\r\n grapheme, U+2028) is treated as a line break.
    let data = try Data(contentsOf: url)
    var lines: [String] = []
    var start = data.startIndex
    for i in data.indices where data[i] == 10 {
        lines.append(String(decoding: data[start..<i], as: UTF8.self)); start = i + 1
    }
    if start < data.endIndex { lines.append(String(decoding: data[start...], as: UTF8.self)) }
    return lines
}

/// Same compact form as scripts/make_tokenizer_fixtures.py: "len", or "gap:len" when a token does not start
/// where the previous one ended.
func compactOffsets(_ offsets: [(Int, Int)]) -> String {
    var prevEnd = 0
    var parts: [String] = []
    for (s, e) in offsets {
        parts.append(s == prevEnd ? "\(e - s)" : "\(s - prevEnd):\(e - s)")
        prevEnd = e
    }
    return parts.joined(separator: " ")
}

final class ParityTests: XCTestCase {
    func checkParity(_ name: String, _ tok: Tokenizer, every: Int = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        let all = try requireFixture("hostile.txt")
        XCTAssertGreaterThanOrEqual(all.count, 2000)
        let input = stride(from: 0, to: all.count, by: every).map { all[$0] }
        let ids = try requireFixture("\(name).ids.txt")
        let offs = try requireFixture("\(name).offsets.txt")
        let dec = try requireFixture("\(name).decoded.txt")
        XCTAssertEqual(ids.count, input.count, file: file, line: line)
        XCTAssertEqual(offs.count, input.count, file: file, line: line)
        XCTAssertEqual(dec.count, input.count, file: file, line: line)
        var idBad = 0, offBad = 0, decBad = 0
        for (i, text) in input.enumerated() where i < ids.count && i < offs.count && i < dec.count {
            let e = tok.encode(text)
            let gotIDs = e.ids.map(String.init).joined(separator: " ")
            if gotIDs != ids[i] {
                idBad += 1
                if idBad <= 8 {
                    XCTFail("\(name) line \(i + 1) ids differ\n text: \(text.debugDescription)\n want: \(ids[i])\n  got: \(gotIDs)\n toks: \(e.tokens)", file: file, line: line)
                }
                continue
            }
            let gotOffs = compactOffsets(e.offsets)
            if gotOffs != offs[i] {
                offBad += 1
                if offBad <= 5 { XCTFail("\(name) line \(i + 1) offsets differ\n text: \(text.debugDescription)\n want: \(offs[i])\n  got: \(gotOffs)\n toks: \(e.tokens)", file: file, line: line) }
            }
            let d = tok.decode(e.ids, skipSpecialTokens: true)
            if d != dec[i] || Array(d.unicodeScalars) != Array(dec[i].unicodeScalars) {
                decBad += 1
                if decBad <= 5 { XCTFail("\(name) line \(i + 1) decode differs\n want: \(dec[i].debugDescription)\n  got: \(d.debugDescription)", file: file, line: line) }
            }
        }
        XCTAssertEqual(idBad, 0, "\(name): \(idBad) of \(input.count) lines with different ids", file: file, line: line)
        XCTAssertEqual(offBad, 0, "\(name): \(offBad) lines with different offsets", file: file, line: line)
        XCTAssertEqual(decBad, 0, "\(name): \(decBad) lines with different decode", file: file, line: line)
        try checkPairs(name, tok, input, file: file, line: line)
    }

    func checkPairs(_ name: String, _ tok: Tokenizer, _ input: [String], file: StaticString, line: UInt) throws {
        let pairs = try requireFixture("\(name).pairs.txt")
        XCTAssertGreaterThanOrEqual(pairs.count, 300)
        var bad = 0
        for p in pairs {
            let cols = p.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let head = cols[0].split(separator: " ").map(String.init)
            guard head.count == 4, let i = Int(head[0]), let j = Int(head[1]), let maxLen = Int(head[3]),
                  let strategy = Truncation.Strategy(rawValue: head[2]) else { XCTFail("bad pairs line \(p)"); continue }
            let t = Truncation(maxLength: maxLen, strategy: strategy)
            let want = cols.dropFirst().joined(separator: "\t")
            var got: String
            do {
                let e = try tok.tryEncode(input[i], pair: input[j], truncation: t)
                got = [e.ids, e.typeIDs, e.attentionMask].map { $0.map(String.init).joined(separator: " ") }.joined(separator: "\t")
            } catch { got = "ERROR" }
            if got != want {
                bad += 1
                if bad <= 5 { XCTFail("\(name) pair \(head): want \(want) got \(got)", file: file, line: line) }
            }
        }
        XCTAssertEqual(bad, 0, "\(name): \(bad) pair encodings differ", file: file, line: line)
    }

    func testBertUncasedParity() throws {
        let url = packageRoot.appendingPathComponent("../shared/models/minilm-l6-mlm/tokenizer.json")
        try checkParity("bert-uncased", try Tokenizer.load(tokenizerJSON: url))
    }

    func testBertUncasedFromVocabTxt() throws {
        // vocab.txt alone gives the same pipeline as the tokenizer.json (BERT uncased defaults).
        let dir = packageRoot.appendingPathComponent("../shared/models/minilm-l6-mlm")
        try checkParity("bert-uncased", try Tokenizer.load(vocabTxt: dir.appendingPathComponent("vocab.txt")))
    }

    func testBertCasedParity() throws {
        try checkParity("bert-cased", try Tokenizer.load(tokenizerJSON: fixtureDir.appendingPathComponent("bert-cased/tokenizer.json")))
    }

    func testByteLevelBPEParity() throws {
        try checkParity("bpe", try Tokenizer.load(tokenizerJSON: fixtureDir.appendingPathComponent("bpe/tokenizer.json")))
    }

    /// A fixture tokenizer stored as the part of tokenizer.json before "model" plus a base tokenizer's model.
    func mixTokenizer(_ name: String, base: String) throws -> Tokenizer {
        let head = try String(contentsOf: fixtureDir.appendingPathComponent("\(name).head.json"), encoding: .utf8)
        let baseText = try String(contentsOf: fixtureDir.appendingPathComponent("\(base)/tokenizer.json"), encoding: .utf8)
        guard let r = baseText.range(of: "\n  \"model\":") else { throw NSError(domain: "fixture", code: 2) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-\(name)-\(UUID().uuidString).json")
        try (head + baseText[r.lowerBound...]).write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        return try Tokenizer.load(tokenizerJSON: url)
    }

    /// NFC, Replace, Strip, Prepend, Whitespace, Digits, TemplateProcessing over the cased WordPiece vocab.
    func testMixedWordPieceComponentsParity() throws {
        try checkParity("mix-wp", try mixTokenizer("mix-wp", base: "bert-cased"), every: 4)
    }

    /// NFKC, Lowercase, Split, Punctuation, Digits, ByteLevel without regex, ByteLevel+Template post-processors.
    func testMixedBPEComponentsParity() throws {
        try checkParity("mix-bpe", try mixTokenizer("mix-bpe", base: "bpe"), every: 4)
    }

    /// NFD, StripAccents, NFKD, WhitespaceSplit, Metaspace(first), Replace/Strip decoders.
    func testMixedUnigramComponentsParity() throws {
        try checkParity("mix-unigram", try mixTokenizer("mix-unigram", base: "unigram"), every: 4)
    }

    /// BPE with <0xHH> byte fallback, Metaspace(first), Replace/ByteFallback/Fuse/Strip decoders.
    func testByteFallbackBPEParity() throws {
        try checkParity("bpe-bytefallback", try Tokenizer.load(tokenizerJSON: fixtureDir.appendingPathComponent("bpe-bytefallback/tokenizer.json")), every: 4)
    }

    func testUnigramParity() throws {
        try checkParity("unigram", try Tokenizer.load(tokenizerJSON: fixtureDir.appendingPathComponent("unigram/tokenizer.json")))
    }
}
