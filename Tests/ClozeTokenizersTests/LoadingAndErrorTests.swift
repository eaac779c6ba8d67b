import XCTest
import Foundation
import ClozeTokenizers

/// Temporary files and error assertions shared by the loader test cases (no tests of its own).
class TokenizerFileTestCase: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func write(_ name: String, _ bytes: [UInt8]) -> URL {
        let u = tmp.appendingPathComponent(name)
        FileManager.default.createFile(atPath: u.path, contents: Data(bytes))
        return u
    }
    func write(_ name: String, _ text: String) -> URL { write(name, Array(text.utf8)) }

    /// Asserts that loading throws a TokenizerError whose text names the file and contains every fragment.
    func assertLoadError(_ body: () throws -> Tokenizer, file: String, _ fragments: [String], line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected an error", line: line)
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains(file), "error does not name \(file): \(text)", line: line)
            for f in fragments { XCTAssertTrue(text.contains(f), "error lacks \(f.debugDescription): \(text)", line: line) }
        }
    }

}

final class LoadingAndErrorTests: TokenizerFileTestCase {
    let minimalWordPiece = """
    {"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
      "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "hello": 3, "##s": 4}},
     "normalizer": {"type": "BertNormalizer", "lowercase": true}, "pre_tokenizer": {"type": "BertPreTokenizer"},
     "added_tokens": []}
    """

    func testMinimalTokenizerJSONWorks() throws {
        let t = try Tokenizer.load(tokenizerJSON: write("tokenizer.json", minimalWordPiece))
        XCTAssertEqual(t.encode("Hellos hi").ids, [3, 4, 0])
    }

    func testUnsupportedComponentType() {
        let bad = minimalWordPiece.replacingOccurrences(of: "\"BertPreTokenizer\"", with: "\"FancySplitter\"")
        let u = write("tokenizer.json", bad)
        assertLoadError({ try Tokenizer.load(tokenizerJSON: u) }, file: u.path, ["pre_tokenizer", "FancySplitter", "unsupported"])
    }

    func testMalformedJSONNamesLineAndColumn() {
        let u = write("tokenizer.json", "{\n  \"model\": {\"type\": \"WordPiece\",\n  \"vocab\": {\"a\": 1,,}}\n}")
        assertLoadError({ try Tokenizer.load(tokenizerJSON: u) }, file: u.path, ["line 3", "column", "malformed JSON"])
        let v = write("t2.json", "{\"model\": {\"type\": \"WordPiece\"")
        assertLoadError({ try Tokenizer.load(tokenizerJSON: v) }, file: v.path, ["end of file"])
    }

    func testMissingUnknownToken() {
        let bad = minimalWordPiece.replacingOccurrences(of: "\"[UNK]\": 0", with: "\"[UNKNOWN]\": 0")
        let u = write("tokenizer.json", bad)
        assertLoadError({ try Tokenizer.load(tokenizerJSON: u) }, file: u.path, ["unk_token", "[UNK]", "not in the vocabulary"])
        let v = write("vocab.txt", "[PAD]\n[CLS]\n[SEP]\nhello\n")
        assertLoadError({ try Tokenizer.load(vocabTxt: v) }, file: v.path, ["[UNK]"])
    }

    func testMergesLineThatDoesNotParse() {
        let vocab = write("vocab.json", "{\"a\": 0, \"b\": 1, \"ab\": 2}")
        let merges = write("merges.txt", "#version: 0.2\na b\nab\n")
        assertLoadError({ try Tokenizer.load(vocabJSON: vocab, merges: merges) }, file: merges.path, ["merge 3", "two tokens"])
        let merges2 = write("merges2.txt", "#version: 0.2\na c\n")
        assertLoadError({ try Tokenizer.load(vocabJSON: vocab, merges: merges2) }, file: merges2.path, ["merge 2", "missing from the vocabulary"])
    }

    func testInvalidUTF8InAFile() {
        let v = write("vocab.txt", Array("[UNK]\n[CLS]\n[SEP]\nok\n".utf8) + [0x66, 0xC3, 0x28, 0x0A])
        assertLoadError({ try Tokenizer.load(vocabTxt: v) }, file: v.path, ["line 5", "byte 2", "invalid UTF-8"])
        let m = write("merges.txt", [0x61, 0x20, 0xFF, 0x0A])
        let vocab = write("vocab.json", "{\"a\": 0}")
        assertLoadError({ try Tokenizer.load(vocabJSON: vocab, merges: m) }, file: m.path, ["line 1", "invalid UTF-8"])
    }

    func testUnsupportedRegexAndBadSentencePiece() {
        let bad = minimalWordPiece.replacingOccurrences(of: "{\"type\": \"BertPreTokenizer\"}",
                                                        with: "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(a|b)*c\"}, \"behavior\": \"Isolated\"}")
        let u = write("tokenizer.json", bad)
        assertLoadError({ try Tokenizer.load(tokenizerJSON: u) }, file: u.path, ["unsupported regular expression"])
        let sp = write("spiece.model", [0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 0x01])
        assertLoadError({ try Tokenizer.load(sentencePieceModel: sp) }, file: sp.path, ["malformed SentencePiece model"])
        assertLoadError({ try Tokenizer.load(directory: self.tmp.appendingPathComponent("nothing")) }, file: "nothing", ["no tokenizer.json"])
    }

    // MARK: Alternative loaders give the same ids as tokenizer.json

    func testVocabJSONAndMergesMatchTokenizerJSON() throws {
        let dir = fixtureDir.appendingPathComponent("bpe")
        let a = try Tokenizer.load(tokenizerJSON: dir.appendingPathComponent("tokenizer.json"))
        let b = try Tokenizer.load(vocabJSON: dir.appendingPathComponent("vocab.json"), merges: dir.appendingPathComponent("merges.txt"))
        let lines = try requireFixture("hostile.txt")
        var bad = 0
        for l in lines where a.encode(l) != b.encode(l) {
            bad += 1
            if bad <= 3 { XCTFail("\(l.debugDescription): \(a.encode(l).ids) \(a.encode(l).tokens) vs \(b.encode(l).ids) \(b.encode(l).tokens)") }
        }
        XCTAssertEqual(bad, 0, "vocab.json+merges.txt differs from tokenizer.json on \(bad) lines")
    }

    func testSentencePieceModelLoads() throws {
        // spiece.model read directly (Precompiled + Metaspace + Unigram, no lowercasing): on lowercase ASCII text it
        // must give the same pieces as the ALBERT-converted tokenizer.json, minus [CLS]/[SEP].
        let dir = fixtureDir.appendingPathComponent("unigram")
        let sp = try Tokenizer.load(sentencePieceModel: dir.appendingPathComponent("spiece.model"))
        let tj = try Tokenizer.load(tokenizerJSON: dir.appendingPathComponent("tokenizer.json"))
        for text in ["the movie was great but a little too long", "i loved every minute of it", "not bad at all , really !"] {
            let a = sp.encode(text).ids
            let b = tj.encode(text, addSpecialTokens: false).ids
            XCTAssertEqual(a, b, text)
            XCTAssertFalse(a.isEmpty)
        }
    }

    // MARK: API used by the models and PET

    func testPieceConcatenationAndSpecialTokens() throws {
        let t = try Tokenizer.load(directory: packageRoot.appendingPathComponent("../shared/models/minilm-l6-mlm"))
        XCTAssertEqual(t.maskToken, "[MASK]")
        XCTAssertEqual(t.maskTokenID, 103); XCTAssertEqual(t.clsTokenID, 101); XCTAssertEqual(t.sepTokenID, 102)
        XCTAssertEqual(t.padTokenID, 0); XCTAssertEqual(t.tokenID("great"), 2307)
        XCTAssertEqual(t.tokenize("It was [MASK]."), ["it", "was", "[MASK]", "."])
        let a = t.encodeIDs("A great movie."), b = t.encodeIDs("It was [MASK].")
        let built = t.buildInputs(a, b)
        let direct = t.encode("A great movie.", pair: "It was [MASK].")
        XCTAssertEqual(built.ids, direct.ids)
        XCTAssertEqual(built.typeIDs, direct.typeIDs)
        XCTAssertEqual(built.specialTokensMask, direct.specialTokensMask)
        XCTAssertEqual(direct.ids.first, 101)
        XCTAssertEqual(direct.specialTokensMask.filter { $0 == 1 }.count, 3)
        XCTAssertEqual(t.decode(direct.ids, skipSpecialTokens: false), "[CLS] a great movie. [SEP] it was [MASK]. [SEP]")
        // Truncating only the second text.
        let tr = try t.tryEncode("a b c d e f", pair: "g h i j", truncation: Truncation(maxLength: 10, strategy: .onlySecond))
        XCTAssertEqual(tr.ids, [101] + t.encodeIDs("a b c d e f") + [102] + t.encodeIDs("g") + [102])
        XCTAssertThrowsError(try t.tryEncode("a b c d e f", pair: "g", truncation: Truncation(maxLength: 6, strategy: .onlySecond)))
    }
}
