import ClozeTokenizers
import XCTest
@testable import ClozePET

/// PET inputs built with the real bert-base-uncased tokenizer of ../shared/models/minilm-l6-mlm must
/// equal Hugging Face's ids (Tests/Fixtures/pet/bert_inputs.json, scripts/make_pet_fixtures.py).
final class RealTokenizerInputTests: XCTestCase {
    struct Case: Decodable { var pattern: String; var fields: [String: String]; var maxLength: Int
        var inputIDs: [Int32]; var tokenTypeIDs: [Int32]; var maskPosition: Int }
    struct Special: Decodable { var cls: Int32; var sep: Int32; var pad: Int32; var mask: Int32; var unk: Int32 }
    struct Fixture: Decodable { var cases: [Case]; var singleTokenWords: [String: [Int32]]; var multiTokenWords: [String: [String]]; var special: Special }

    func vocabulary() throws -> TokenizerVocabulary { try sharedModelVocabulary() }

    func testInputsMatchHuggingFace() throws {
        let f = try JSONDecoder().decode(Fixture.self, from: fixture("bert_inputs.json"))
        let v = try vocabulary()
        XCTAssertEqual(v.specialTokens, .bert(cls: f.special.cls, sep: f.special.sep, pad: f.special.pad))
        XCTAssertEqual(v.maskTokenID, f.special.mask)
        XCTAssertEqual(v.unknownTokenID, f.special.unk)
        XCTAssertEqual(f.cases.count, 9)
        for c in f.cases {
            let p = try PatternParser.parseLine(c.pattern, location: SourceLocation(file: "fixture", line: 1))
            let x = try PETInputBuilder(pattern: p, vocabulary: v, maxLength: c.maxLength).build(c.fields)
            XCTAssertEqual(x.inputIDs, c.inputIDs, "\(c.pattern) max \(c.maxLength)")
            XCTAssertEqual(x.tokenTypeIDs, c.tokenTypeIDs, c.pattern)
            XCTAssertEqual(x.maskPosition, c.maskPosition, c.pattern)
            XCTAssertLessThanOrEqual(x.inputIDs.count, c.maxLength)
        }
    }

    func testVerbalizerWordsAgainstRealVocabulary() throws {
        let f = try JSONDecoder().decode(Fixture.self, from: fixture("bert_inputs.json"))
        let v = try vocabulary()
        let words = f.singleTokenWords.keys.sorted()
        let text = words.enumerated().map { "l\($0.offset): \($0.element)" }.joined(separator: "\n")
        let r = try Verbalizer.parse(text: text, file: "v.txt").resolve(labels: words.indices.map { "l\($0)" }, vocabulary: v)
        XCTAssertEqual(r.vocabularyRows, words.map { Int(f.singleTokenWords[$0]![0]) })
        let e = assertPETError(.notSingleToken) {
            _ = try Verbalizer.parse(text: "0: terrible, unwatchable\n1: great\n", file: "v.txt").resolve(labels: ["0", "1"], vocabulary: v)
        }
        XCTAssertTrue(e!.message.contains("[" + f.multiTokenWords["unwatchable"]!.joined(separator: ", ") + "]"), e!.message)
    }

    func testShippedVerbalizersAreSingleTokensOfTheSharedModel() throws {
        let v = try vocabulary()
        let dir = packageRoot + "/verbalizers"
        for name in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() where name.hasSuffix(".txt") {
            let verb = try Verbalizer.load(path: dir + "/" + name)
            if name.contains("multi-token") {
                XCTAssertGreaterThan(try verb.resolveMultiToken(labels: verb.labels, vocabulary: v).maskCount, 1, name)
            } else {
                XCTAssertNoThrow(try verb.resolve(labels: verb.labels, vocabulary: v), name)
            }
        }
    }

    /// Multi-mask verbalizations are tokenised as HF tokenizes the word in context
    /// (`tokenizer.encode(" " + word, add_special_tokens=False)` on the shared model).
    func testMultiTokenVerbalizationsMatchHF() throws {
        let m = try Verbalizer.load(path: packageRoot + "/verbalizers/trec-multi-token.txt")
            .resolveMultiToken(labels: ["0", "1", "2", "3", "4", "5"], vocabulary: try vocabulary())
        XCTAssertEqual(m.tokens, [[6412], [9178], [22498, 2015], [2529], [3295], [16371, 25531]])
    }
}
