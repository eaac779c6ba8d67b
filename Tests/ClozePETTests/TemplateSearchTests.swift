import ClozeModels
import XCTest
@testable import ClozePET

/// Automatic templates filled by the masked LM: the infilling inputs, the beam, the pattern text, and
/// `cloze search templates` end to end on the tiny model.
final class TemplateSearchTests: XCTestCase {
    let layout = SpecialTokenLayout.bert(cls: 2, sep: 3, pad: 0)
    let mask: Int32 = 4

    func testInfillingInputsAndNextMask() {
        let e = TemplateSearch.Example(slots: [[10, 11], [20]], labelWord: 50)
        let first = TemplateShape(before: 2, after: 1, placement: .textFirst)
        var x = TemplateSearch.input(e, shape: first, filled: [], layout: layout, maskID: mask)
        XCTAssertEqual(x.ids, [2, 10, 11, 4, 4, 50, 4, 3]); XCTAssertEqual(x.next, 3)
        x = TemplateSearch.input(e, shape: first, filled: [7, 8], layout: layout, maskID: mask)
        XCTAssertEqual(x.ids, [2, 10, 11, 7, 8, 50, 4, 3]); XCTAssertEqual(x.next, 6, "after the label word")
        x = TemplateSearch.input(e, shape: first, filled: [7, 8, 9], layout: layout, maskID: mask)
        XCTAssertNil(x.next)
        let last = TemplateShape(before: 1, after: 1, placement: .textLast)
        x = TemplateSearch.input(e, shape: last, filled: [7], layout: layout, maskID: mask)
        XCTAssertEqual(x.ids, [2, 7, 50, 4, 10, 11, 3]); XCTAssertEqual(x.next, 3)
        let between = TemplateShape(before: 0, after: 1, placement: .between)
        x = TemplateSearch.input(e, shape: between, filled: [], layout: layout, maskID: mask)
        XCTAssertEqual(x.ids, [2, 10, 11, 50, 4, 20, 3]); XCTAssertEqual(x.next, 4)
    }

    /// A scorer that likes token 5 right before the label word and 9 right after it: the beam finds
    /// [5, 9] and its score is the sum over examples of the log-probabilities it took.
    func testBeamMaximisesSummedLogProbability() throws {
        let examples = [TemplateSearch.Example(slots: [[10]], labelWord: 50), TemplateSearch.Example(slots: [[11, 12]], labelWord: 51)]
        let allowed: [Int32] = [5, 6, 9]
        let shape = TemplateShape(before: 1, after: 1, placement: .textFirst)
        var calls = 0
        let found = try TemplateSearch.beamSearch(shape: shape, examples: examples, allowed: allowed, beam: 2, layout: layout, maskID: mask) { inputs, positions in
            calls += 1
            return zip(inputs, positions).map { ids, p in
                let beforeLabel = ids[p + 1] >= 50
                return beforeLabel ? [-0.1, -1, -3] : [-2, -1.5, -0.2]
            }
        }
        XCTAssertEqual(found.count, 2)
        XCTAssertEqual(found[0].tokens, [5, 9])
        XCTAssertEqual(found[0].score, 2 * (-0.1) + 2 * (-0.2), accuracy: 1e-6)
        XCTAssertEqual(calls, 1 + 2, "one step for the empty hypothesis, one per kept hypothesis")
    }

    func testPatternTextParses() throws {
        let words: [Int32: String] = [1: "it", 2: "'", 3: "s", 4: ".", 5: "a", 6: "film"]
        let c = TemplateCandidate(shape: TemplateShape(before: 3, after: 1, placement: .textFirst), tokens: [1, 2, 3, 4], score: -1)
        let p = TemplateSearch.pattern(c, slots: ["text_a"], text: { words[$0]! })
        XCTAssertEqual(p, "{text_a:shorten} it's [MASK].")
        let d = TemplateCandidate(shape: TemplateShape(before: 1, after: 1, placement: .between), tokens: [5, 6], score: -1)
        XCTAssertEqual(TemplateSearch.pattern(d, slots: ["text_a", "text_b"], text: { words[$0]! }), "{text_a:shorten} a [MASK] film {text_b:shorten}")
        for line in [p] { XCTAssertNoThrow(try PatternParser.parseLine(line, location: SourceLocation(file: "t", line: 1))) }
    }

    func testSearchWritesAParsablePatternFile() throws {
        let (root, vocab) = try ExperimentTests.tinyTaskAndVocabulary()
        var task = try TaskDescriptor.load(path: root + "/datasets/tiny.json")
        task.splits["dev"] = task.splits["test"]
        var o = TemplateSearchOptions(modelDirectory: packageRoot + "/Tests/Fixtures/models/tiny-bert", seeds: [1], outputDirectory: root + "/tsearch")
        o.dataRoot = root + "/data"; o.beam = 2; o.top = 4; o.rerank = 2; o.training.maxSteps = 2; o.progress = false
        var run = TemplateSearchRun(task: task, options: o, vocabulary: vocab)
        run.log = { _ in }
        let r = try run.run()
        XCTAssertEqual(r[0].candidates.count, 4)
        XCTAssertEqual(Set(r[0].candidates.map(\.pattern)).count, 4, "no duplicate templates")
        XCTAssertNotNil(r[0].chosen.devAccuracy)
        let patterns = try PatternParser.load(path: r[0].patternFile)
        XCTAssertEqual(patterns.map(\.source), r[0].candidates.map(\.pattern))
        XCTAssertTrue(patterns.allSatisfy { $0.slotNames == ["text_a"] })
    }
}
