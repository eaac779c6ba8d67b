import XCTest
@testable import ClozePET

final class PatternParserTests: XCTestCase {
    let loc = SourceLocation(file: "p.txt", line: 3)
    func parse(_ s: String) throws -> Pattern { try PatternParser.parseLine(s, location: loc) }

    func testSimplePatternPiecesAndSpaces() throws {
        let p = try parse("{text_a:shorten} It was [MASK].")
        XCTAssertEqual(p.segments.count, 1)
        XCTAssertEqual(p.segments[0], [
            .init(.slot(name: "text_a", shortenable: true), spaceBefore: false, column: 1),
            .init(.text("It was"), spaceBefore: true, column: 18),
            .init(.mask, spaceBefore: true, column: 25),
            .init(.text("."), spaceBefore: false, column: 31),
        ])
        XCTAssertEqual(p.slotNames, ["text_a"])
    }

    func testSegmentBreakAndLeadingSpaceOfSegment() throws {
        let p = try parse("  Just [MASK]! [SEP] {text_a}")
        XCTAssertEqual(p.segments.count, 2)
        XCTAssertEqual(p.segments[0].map(\.piece), [.text("Just"), .mask, .text("!")])
        XCTAssertEqual(p.segments[0].map(\.spaceBefore), [false, true, false])
        XCTAssertEqual(p.segments[1], [.init(.slot(name: "text_a", shortenable: false), spaceBefore: false, column: 22)])
    }

    func testEscapesAndHashAreLiteral() throws {
        let p = try parse("\\[ Category: [MASK] \\] \\{x\\} #1 a\\\\b {text_a}")
        XCTAssertEqual(p.segments[0].map(\.piece), [.text("[ Category:"), .mask, .text("] {x} #1 a\\b"), .slot(name: "text_a", shortenable: false)])
    }

    func testColumnNamesWithDotsAndDashes() throws {
        XCTAssertEqual(try parse("{sentence-1.x} [MASK]").slotNames, ["sentence-1.x"])
    }

    func testErrorsCarryLocationAndExpectation() throws {
        var e = assertPETError(.noMask) { _ = try self.parse("{text_a} It was great.") }
        XCTAssertEqual(e?.location, SourceLocation(file: "p.txt", line: 3, column: 1))
        XCTAssertTrue(e!.description.contains("p.txt:3:1: error: no [MASK]"), e!.description)
        e = assertPETError(.multipleMasks) { _ = try self.parse("[MASK] and [MASK]") }
        XCTAssertEqual(e?.location?.column, 12)
        e = assertPETError(.unclosedBrace) { _ = try self.parse("It was [MASK]. {text_a") }
        XCTAssertEqual(e?.location?.column, 16)
        XCTAssertTrue(e!.message.contains("expected '}'"))
        e = assertPETError(.unclosedBrace) { _ = try self.parse("{text_a {text_b} [MASK]") }
        XCTAssertEqual(e?.location?.column, 1)
        e = assertPETError(.strayClosingBrace) { _ = try self.parse("a } [MASK]") }
        XCTAssertEqual(e?.location?.column, 3)
        e = assertPETError(.unknownBracketToken) { _ = try self.parse("{text_a} [mask]") }
        XCTAssertTrue(e!.message.contains("did you mean [MASK]"), e!.message)
        XCTAssertEqual(e?.location?.column, 10)
        assertPETError(.unknownBracketToken) { _ = try self.parse("[MASK] ]") }
        assertPETError(.unclosedBracket) { _ = try self.parse("[MASK] [SE") }
        XCTAssertEqual(try self.parse("[SOFT] [MASK] {text_a}").softTokenCount, 1)
        XCTAssertEqual(try self.parse("[SOFT:3] {text_a} [SOFT:2] [MASK]").softTokenCount, 5)
        e = assertPETError(.notSupportedYet) { _ = try self.parse("[SOFT:great] [MASK]") }
        XCTAssertTrue(e!.message.contains("[SOFT:n]"), e!.message)
        XCTAssertEqual(e?.location?.column, 1)
        assertPETError(.notSupportedYet) { _ = try self.parse("[MASK] [SOFT:0]") }
        assertPETError(.notSupportedYet) { _ = try self.parse("[MASK] [SOFT:101]") }
        e = assertPETError(.misplacedDemo) { _ = try self.parse("{demo} {text_a} [MASK]") }
        XCTAssertTrue(e!.message.contains("{demo} at the start"), e!.message)
        e = assertPETError(.misplacedDemo) { _ = try self.parse("{text_a} [MASK]. {demo} more") }
        XCTAssertEqual(e?.location?.column, 25)
        assertPETError(.misplacedDemo) { _ = try self.parse("{text_a} [MASK]. {demo} {demo}") }
        assertPETError(.misplacedDemo) { _ = try self.parse("{text_a} [MASK]. {demo} [SEP] x") }
        assertPETError(.unknownModifier) { _ = try self.parse("{text_a} [MASK]. {demo:shorten}") }
        let demo = try self.parse("{text_a} It was [MASK]. {demo}  ")
        XCTAssertTrue(demo.demonstrations)
        XCTAssertEqual(demo.segments, try self.parse("{text_a} It was [MASK].").segments)
        XCTAssertFalse(try self.parse("{text_a} It was [MASK].").demonstrations)
        e = assertPETError(.badEscape) { _ = try self.parse("[MASK] \\n") }
        XCTAssertEqual(e?.location?.column, 8)
        assertPETError(.badEscape) { _ = try self.parse("[MASK] \\") }
        assertPETError(.emptySlot) { _ = try self.parse("{} [MASK]") }
        assertPETError(.badSlotName) { _ = try self.parse("{#1 String} [MASK]") }
        e = assertPETError(.unknownModifier) { _ = try self.parse("{text_a:shortn} [MASK]") }
        XCTAssertTrue(e!.message.contains("expected one of :shorten, :lower-first, :upper-first, :no-final-punct"), e!.message)
        e = assertPETError(.unknownModifier) { _ = try self.parse("{text_a:lower-first:upper-first} [MASK]") }
        XCTAssertEqual(e?.location?.column, 1)
        assertPETError(.emptySegment) { _ = try self.parse("[SEP] [MASK]") }
        assertPETError(.emptySegment) { _ = try self.parse("[MASK] {text_a} [SEP]  ") }
        assertPETError(.multipleSegmentBreaks) { _ = try self.parse("a [SEP] [MASK] [SEP] b") }
    }

    func testSlotTransformsForLMBFFTemplates() throws {
        // LM-BFF's RTE template *cls**sent-_0*?*mask*,*+sentl_1**sep+*.
        let p = try parse("{text_a:no-final-punct:shorten}? [MASK], {text_b:lower-first:shorten}")
        XCTAssertEqual(p.segments[0][0].piece, .slot(name: "text_a", shortenable: true, transforms: [.noFinalPunctuation]))
        XCTAssertEqual(p.segments[0][4].piece, .slot(name: "text_b", shortenable: true, transforms: [.lowerFirst]))
        XCTAssertEqual(SlotTransform.noFinalPunctuation.apply("The cat sat on the mat. \u{201D} "), "The cat sat on the mat")
        XCTAssertEqual(SlotTransform.noFinalPunctuation.apply("No stop"), "No stop")
        XCTAssertEqual(SlotTransform.noFinalPunctuation.apply("?!"), "")
        XCTAssertEqual(SlotTransform.lowerFirst.apply("Éclairs are Good"), "éclairs are Good")
        XCTAssertEqual(SlotTransform.upperFirst.apply("ßig"), "SSig")  // full case mapping, as Python's str.upper
        XCTAssertEqual(SlotTransform.lowerFirst.apply(""), "")
    }

    func testUnknownSlotAgainstTaskColumns() throws {
        let p = try parse("{text_a} It was [MASK]. {sentense}")
        let e = assertPETError(.unknownSlot) { try p.validate(columns: ["text_a", "sentence", "label"]) }
        XCTAssertEqual(e?.location, SourceLocation(file: "p.txt", line: 3, column: 25))
        XCTAssertTrue(e!.message.contains("{sentence}"), e!.message)
        XCTAssertNoThrow(try p.validate(columns: ["text_a", "sentense"]))
    }

    func testFileSkipsCommentsAndBlankLinesAndReportsRealLineNumbers() throws {
        let text = "# comment\n\n{text_a} It was [MASK].\r\n   # indented comment\n{text_a} [MASK] [MASK]\n"
        let e = assertPETError(.multipleMasks) { _ = try PatternParser.parseFile(text: text, file: "f.txt") }
        XCTAssertEqual(e?.location, SourceLocation(file: "f.txt", line: 5, column: 17))
        let ok = try PatternParser.parseFile(text: "# c\n\n{text_a} It was [MASK].\r\n", file: "f.txt")
        XCTAssertEqual(ok.count, 1)
        XCTAssertEqual(ok[0].location, SourceLocation(file: "f.txt", line: 3))
        XCTAssertEqual(ok[0].segments[0].last?.piece, .text("."))
        assertPETError(.noPatterns) { _ = try PatternParser.parseFile(text: "# only\n\n", file: "f.txt") }
    }
}
