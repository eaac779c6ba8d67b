import XCTest
import Foundation
import ClozeTokenizers

/// Crafted files that once trapped, wrapped silently or allocated gigabytes (issue 9): each is now
/// a clear error naming the file, the place and the token.
final class HostileInputTests: TokenizerFileTestCase {
    func wordPiece(vocab: String, extra: String = "") -> String {
        """
        {"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {\(vocab)}}\(extra)}
        """
    }

    func testNegativeAndOversizedIDsInTokenizerJSON() {
        let neg = write("neg.json", wordPiece(vocab: "\"[UNK]\": 0, \"a\": -1"))
        assertLoadError({ try Tokenizer.load(tokenizerJSON: neg) }, file: neg.path, ["\"a\"", "id -1", "between 0 and"])
        let big = write("big.json", wordPiece(vocab: "\"[UNK]\": 0, \"a\": 2147483648"))
        assertLoadError({ try Tokenizer.load(tokenizerJSON: big) }, file: big.path, ["\"a\"", "id 2147483648", "between 0 and"])
        // Would size the id table at 1.6 GB: rejected for being far beyond the vocabulary.
        let huge = write("huge.json", wordPiece(vocab: "\"[UNK]\": 0, \"a\": 100000000"))
        assertLoadError({ try Tokenizer.load(tokenizerJSON: huge) }, file: huge.path,
                        ["\"a\"", "id 100000000", "far beyond the 2 tokens", "below 1028"])
        let added = write("added.json", wordPiece(vocab: "\"[UNK]\": 0", extra: #", "added_tokens": [{"id": -5, "content": "[X]"}]"#))
        assertLoadError({ try Tokenizer.load(tokenizerJSON: added) }, file: added.path, ["added_tokens[0].id", "\"[X]\"", "id -5"])
    }

    func testGappyButProportionateIDsStillLoad() throws {
        let u = write("gaps.json", wordPiece(vocab: "\"[UNK]\": 0, \"a\": 900"))
        let t = try Tokenizer.load(tokenizerJSON: u)
        XCTAssertEqual(t.encode("a").ids, [900])
        XCTAssertEqual(t.vocabSize, 901)
    }

    func testHostileIDsInVocabJSON() {
        let merges = write("merges.txt", "#version: 0.2\n")
        for (name, value, fragment) in [("neg", "-3", "id -3"), ("big", "4294967296", "id 4294967296"), ("huge", "100000000", "far beyond")] {
            let v = write("vocab-\(name).json", "{\"a\": 0, \"b\": \(value)}")
            assertLoadError({ try Tokenizer.load(vocabJSON: v, merges: merges) }, file: v.path, ["\"b\"", fragment])
        }
    }

    func testNegativeTypeIDInTemplateProcessing() {
        let post = #", "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[UNK]", "type_id": -1}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {"[UNK]": {"id": "[UNK]", "ids": [0], "tokens": ["[UNK]"]}}}"#
        let u = write("type.json", wordPiece(vocab: "\"[UNK]\": 0", extra: post))
        assertLoadError({ try Tokenizer.load(tokenizerJSON: u) }, file: u.path, ["post_processor.single[0].SpecialToken.type_id", "0 to 65535"])
        let ids = post.replacingOccurrences(of: "\"type_id\": -1", with: "\"type_id\": 1").replacingOccurrences(of: "\"ids\": [0]", with: "\"ids\": [-7]")
        let v = write("ids.json", wordPiece(vocab: "\"[UNK]\": 0", extra: ids))
        assertLoadError({ try Tokenizer.load(tokenizerJSON: v) }, file: v.path, ["special_tokens.[UNK].ids", "id -7"])
    }

    /// A ModelProto with one piece submessage whose length varint is `lengthVarint`.
    func pieceWithLength(_ lengthVarint: [UInt8]) -> [UInt8] { [0x0A] + lengthVarint + [0x0A, 0x01, 0x61] }

    func testSentencePieceHostileVarints() {
        // Length 2⁶³ + 5 (would convert to a negative Int / trap), and 2⁶⁴ − 1 (pos + n overflows).
        let cases: [([UInt8], String)] = [
            ([0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], "length 9223372036854775813 runs past the end"),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "length 18446744073709551615 runs past the end"),
        ]
        for (i, (varint, fragment)) in cases.enumerated() {
            let u = write("len\(i).model", pieceWithLength(varint))
            assertLoadError({ try Tokenizer.load(sentencePieceModel: u) }, file: u.path, [fragment, "malformed SentencePiece"])
        }
    }

    func testSentencePieceOutOfRangeEnums() {
        // piece { piece: "a", type: 2⁶³ } — the type varint would trap converting to Int.
        let bigType: [UInt8] = [0x0A, 0x0E, 0x0A, 0x01, 0x61, 0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]
        let u = write("type.model", bigType)
        assertLoadError({ try Tokenizer.load(sentencePieceModel: u) }, file: u.path, ["piece type", "is not one of 1...6"])
        // piece "a", then trainer_spec { model_type: 99 }.
        let v = write("mt.model", [0x0A, 0x03, 0x0A, 0x01, 0x61, 0x12, 0x02, 0x18, 0x63])
        assertLoadError({ try Tokenizer.load(sentencePieceModel: v) }, file: v.path, ["trainer_spec.model_type 99", "is not one of 1...4"])
        // trainer_spec { unk_id: 2³² } is not an int32.
        let w = write("unk.model", [0x0A, 0x03, 0x0A, 0x01, 0x61, 0x12, 0x07, 0xC0, 0x02, 0x80, 0x80, 0x80, 0x80, 0x10])
        assertLoadError({ try Tokenizer.load(sentencePieceModel: w) }, file: w.path, ["does not fit an int32"])
    }
}
