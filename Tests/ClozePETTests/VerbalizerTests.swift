import XCTest
@testable import ClozePET

final class VerbalizerTests: XCTestCase {
    func testParseWordsCommentsAndOrder() throws {
        let v = try Verbalizer.parse(text: "# sentiment\n\n1: great, good\n0:terrible\n", file: "v.txt")
        XCTAssertEqual(v.labels, ["1", "0"])
        XCTAssertEqual(v.entries[0].words, ["great", "good"])
        XCTAssertEqual(v.entries[0].wordColumns, [4, 11])
        XCTAssertEqual(v.entries[0].location, SourceLocation(file: "v.txt", line: 3))
    }

    func testResolveOrdersByTaskLabelsAndAveragesWordLogits() throws {
        let vocab = FakeVocab()
        let v = try Verbalizer.parse(text: "1: great, good\n0: terrible\n", file: "v.txt")
        let r = try v.resolve(labels: ["0", "1"], vocabulary: vocab)
        XCTAssertEqual(r.labels, ["0", "1"])
        XCTAssertEqual(vocab.decode(r.vocabularyRows.map { Int32($0) }), ["terrible", "great", "good"])
        XCTAssertEqual(r.labelColumns, [[0], [1, 2]])
        // Two examples, logits over [terrible, great, good].
        let out = r.labelLogits([1, 2, 4, -1, 0.5, 1.5], count: 2)
        XCTAssertEqual(out, [1, 3, -1, 1])
    }

    func testWordsAreTokenisedWithLeadingSpaceForBPE() throws {
        let vocab = FakeVocab(bpe: true)
        let r = try Verbalizer.parse(text: "0: terrible\n1: great\n", file: "v.txt").resolve(labels: ["0", "1"], vocabulary: vocab)
        XCTAssertEqual(vocab.decode(r.vocabularyRows.map { Int32($0) }), ["Ġterrible", "Ġgreat"])
    }

    func testErrors() throws {
        var e = assertPETError(.badVerbalizerLine) { _ = try Verbalizer.parse(text: "0 terrible\n", file: "v.txt") }
        XCTAssertEqual(e?.location, SourceLocation(file: "v.txt", line: 1))
        e = assertPETError(.duplicateLabel) { _ = try Verbalizer.parse(text: "0: bad\n# x\n0: awful\n", file: "v.txt") }
        XCTAssertEqual(e?.location?.line, 3)
        e = assertPETError(.noWords) { _ = try Verbalizer.parse(text: "0:   \n", file: "v.txt") }
        e = assertPETError(.badVerbalizerLine) { _ = try Verbalizer.parse(text: "0: bad,, awful\n", file: "v.txt") }
        XCTAssertEqual(e?.location?.column, 8)
        e = assertPETError(.duplicateWord) { _ = try Verbalizer.parse(text: "0: bad\n1: good, bad\n", file: "v.txt") }
        XCTAssertEqual(e?.location, SourceLocation(file: "v.txt", line: 2, column: 10))
        assertPETError(.badVerbalizerLine) { _ = try Verbalizer.parse(text: ": bad\n", file: "v.txt") }
        assertPETError(.noWords) { _ = try Verbalizer.parse(text: "# nothing\n", file: "v.txt") }

        let vocab = FakeVocab()
        vocab.splits["unwatchable"] = ["un", "##watch", "##able"]
        let v = try Verbalizer.parse(text: "0: terrible, unwatchable\n1: great\n", file: "v.txt")
        e = assertPETError(.notSingleToken) { _ = try v.resolve(labels: ["0", "1"], vocabulary: vocab) }
        XCTAssertEqual(e?.location, SourceLocation(file: "v.txt", line: 1, column: 14))
        XCTAssertTrue(e!.message.contains("'unwatchable'") && e!.message.contains("[un, ##watch, ##able]"), e!.message)
        e = assertPETError(.labelNotInData) { _ = try Verbalizer.parse(text: "0: bad\n1: good\n2: okay\n", file: "v.txt").resolve(labels: ["0", "1"], vocabulary: vocab) }
        XCTAssertEqual(e?.location?.line, 3)
        XCTAssertTrue(e!.message.contains("'2'"))
        e = assertPETError(.labelWithoutWords) { _ = try Verbalizer.parse(text: "0: bad\n", file: "v.txt").resolve(labels: ["0", "1"], vocabulary: vocab) }
        XCTAssertTrue(e!.message.contains("'1'"))
        e = assertPETError(.notSingleToken) { _ = try Verbalizer.parse(text: "0: [UNK]\n", file: "v.txt").resolve(labels: ["0"], vocabulary: vocab) }
    }
}
