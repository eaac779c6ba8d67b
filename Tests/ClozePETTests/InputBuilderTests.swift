import XCTest
@testable import ClozePET

final class InputBuilderTests: XCTestCase {
    let loc = SourceLocation(file: "p.txt", line: 1)
    func builder(_ pattern: String, _ vocab: FakeVocab, max: Int = 128) throws -> PETInputBuilder {
        PETInputBuilder(pattern: try PatternParser.parseLine(pattern, location: loc), vocabulary: vocab, maxLength: max)
    }

    func testSingleSegmentBERT() throws {
        let v = FakeVocab()
        let x = try builder("{text_a:shorten} It was [MASK].", v).build(["text_a": "A fine film"])
        XCTAssertEqual(v.decode(x.inputIDs), ["[CLS]", "A", "fine", "film", "It", "was", "[MASK]", ".", "[SEP]"])
        XCTAssertEqual(x.maskPosition, 6)
        XCTAssertEqual(x.tokenTypeIDs, [Int32](repeating: 0, count: 9))
        XCTAssertEqual(x.removedTokens, 0)
    }

    /// [SOFT:n] places n placeholders (the mask id) and records where; multi-mask trimming keeps them right.
    func testSoftTokensArePlacedAndTracked() throws {
        let v = FakeVocab()
        let x = try builder("[SOFT:2] {text_a} [SOFT] It was [MASK].", v).build(["text_a": "A fine film"])
        XCTAssertEqual(v.decode(x.inputIDs), ["[CLS]", "[MASK]", "[MASK]", "A", "fine", "film", "[MASK]", "It", "was", "[MASK]", ".", "[SEP]"])
        XCTAssertEqual(x.softPositions, [1, 2, 6])
        XCTAssertEqual(x.maskPosition, 9)
        let multi = PETInputBuilder(pattern: try PatternParser.parseLine("{text_a} [MASK] [SOFT:2].", location: loc), vocabulary: v,
                                    maxLength: 128, maskCount: 3)
        let y = try multi.build(["text_a": "ok"])
        XCTAssertEqual(y.softPositions, [5, 6])
        XCTAssertEqual(y.keepingMasks(1).softPositions, [3, 4])
        // Shortening never cuts soft tokens.
        let short = try builder("{text_a:shorten} [SOFT:3] [MASK]", v, max: 7).build(["text_a": "one two three four"])
        XCTAssertEqual(short.softPositions, [2, 3, 4])
        XCTAssertEqual(short.removedTokens, 3)
    }

    func testSlotTransformsApplyBeforeTokenising() throws {
        let v = FakeVocab()
        let x = try builder("{text_a:no-final-punct}? [MASK], {text_b:lower-first}", v).build(["text_a": "It rains .", "text_b": "Streets are wet"])
        XCTAssertEqual(v.decode(x.inputIDs), ["[CLS]", "It", "rains", "?", "[MASK]", ",", "streets", "are", "wet", "[SEP]"])
    }

    func testLeadingSpaceSemanticsForBPE() throws {
        let v = FakeVocab(bpe: true)
        v.layout = .roberta(bos: 2, eos: 3, pad: 0)
        let x = try builder("{text_a} It was [MASK].", v).build(["text_a": "Hello world"])
        XCTAssertEqual(v.decode(x.inputIDs), ["[CLS]", "Hello", "Ġworld", "ĠIt", "Ġwas", "[MASK]", ".", "[SEP]"])
        let y = try builder("[MASK]: {text_a}", v).build(["text_a": "Why ?"])
        XCTAssertEqual(v.decode(y.inputIDs), ["[CLS]", "[MASK]", ":", "ĠWhy", "Ġ?", "[SEP]"])
        XCTAssertEqual(y.maskPosition, 1)
    }

    func testTwoSegmentsBERTTypesAndRoBERTaLayout() throws {
        let v = FakeVocab()
        let b = try builder("{text_a} ? [SEP] [MASK], {text_b}", v)
        let x = try b.build(["text_a": "it rains", "text_b": "wet"])
        XCTAssertEqual(v.decode(x.inputIDs), ["[CLS]", "it", "rains", "?", "[SEP]", "[MASK]", ",", "wet", "[SEP]"])
        XCTAssertEqual(x.tokenTypeIDs, [0, 0, 0, 0, 0, 1, 1, 1, 1])
        XCTAssertEqual(x.maskPosition, 5)
        let r = FakeVocab(bpe: true)
        r.layout = .roberta(bos: 2, eos: 3, pad: 0)
        let y = try builder("{text_a} ? [SEP] [MASK], {text_b}", r).build(["text_a": "it rains", "text_b": "wet"])
        XCTAssertEqual(r.decode(y.inputIDs), ["[CLS]", "it", "Ġrains", "Ġ?", "[SEP]", "[SEP]", "[MASK]", ",", "Ġwet", "[SEP]"])
        XCTAssertEqual(y.tokenTypeIDs, [Int32](repeating: 0, count: 10))
        XCTAssertEqual(y.maskPosition, 6)
    }

    func testShorteningOnlyMarkedSlotsLongestFirst() throws {
        let v = FakeVocab()
        // 2 specials + a(6) + "?"(1) + mask(1) + ","(1) + b(3) + c(4, not shortenable) = 18
        let b = try builder("{a:shorten} ? [MASK] , {b:shorten} {c}", v, max: 14)
        let x = try b.build(["a": "a1 a2 a3 a4 a5 a6", "b": "b1 b2 b3", "c": "c1 c2 c3 c4"])
        // Remove 4: a 6→5→4→3 (a longer each time), then a=3,b=3 tie → later slot b: 3→2.
        XCTAssertEqual(v.decode(x.inputIDs), ["[CLS]", "a1", "a2", "a3", "?", "[MASK]", ",", "b1", "b2", "c1", "c2", "c3", "c4", "[SEP]"])
        XCTAssertEqual(x.removedTokens, 4)
        XCTAssertEqual(x.maskPosition, 5)
    }

    func testShorteningPrefersLongerSegmentLikePET() throws {
        let v = FakeVocab()
        // Segment A shortenable 5, segment B shortenable 2; 3 specials + 5+1 + 1+2 = 12 → max 9 removes 3 from A.
        let b = try builder("{a:shorten} ? [SEP] [MASK] {b:shorten}", v, max: 9)
        let x = try b.build(["a": "a1 a2 a3 a4 a5", "b": "b1 b2"])
        XCTAssertEqual(v.decode(x.inputIDs), ["[CLS]", "a1", "a2", "?", "[SEP]", "[MASK]", "b1", "b2", "[SEP]"])
        // Tie between segments goes to the second (PET: a only when strictly longer).
        let y = try b.build(["a": "a1 a2", "b": "b1 b2"])
        XCTAssertEqual(y.removedTokens, 0)
        let z = try builder("{a:shorten} ? [SEP] [MASK] {b:shorten}", v, max: 7).build(["a": "a1 a2", "b": "b1 b2"])
        XCTAssertEqual(v.decode(z.inputIDs), ["[CLS]", "a1", "?", "[SEP]", "[MASK]", "b1", "[SEP]"])
    }

    func testCannotShortenAndMissingField() throws {
        let v = FakeVocab()
        let b = try builder("{text_a} It was [MASK].", v, max: 6)
        let e = assertPETError(.cannotShorten) { _ = try b.build(["text_a": "one two three"], location: SourceLocation(file: "d.csv", line: 7)) }
        XCTAssertEqual(e?.location, SourceLocation(file: "d.csv", line: 7))
        XCTAssertTrue(e!.message.contains("{name:shorten}"))
        assertPETError(.missingField) { _ = try b.build(["sentence": "x"]) }
    }
}
