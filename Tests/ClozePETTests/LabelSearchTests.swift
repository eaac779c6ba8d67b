import ClozeModels
import ClozeTensor
import XCTest
@testable import ClozePET

/// Automatic label words against LM-BFF's own helpers (Tests/Fixtures/pet/demonstrations.json), the
/// beam for many classes, the word filter, and `cloze search labels` end to end on the tiny model.
final class LabelSearchTests: XCTestCase {
    struct Case: Decodable {
        var classes: Int; var vocab: [String]; var labels: [Int]; var logits: [[Float]]; var k: Int
        var likely: [[Int]]; var bestAccuracy: Double; var bestPairings: [[Int]]
    }
    struct Fixture: Decodable { var labelSearch: [Case] }

    func testLikelyWordsAndBestAssignmentsMatchLMBFF() throws {
        let cases = try JSONDecoder().decode(Fixture.self, from: fixture("demonstrations.json")).labelSearch
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let V = c.vocab.count, flat = c.logits.flatMap { $0 }
            let allowed = Set(c.vocab.indices.filter { c.vocab[$0].hasPrefix("Ġ") })
            let likely = LabelSearch.likelyWords(logits: flat, vocabularySize: V, labels: c.labels, classes: c.classes, allowed: allowed, k: c.k)
            XCTAssertEqual(likely, c.likely, "\(c.classes) classes")
            let found = LabelSearch.bestAssignments(logits: flat, vocabularySize: V, labels: c.labels, candidates: likely, top: 500)
            XCTAssertEqual(found[0].trainAccuracy, c.bestAccuracy, accuracy: 1e-12)
            let best = Set(found.filter { abs($0.trainAccuracy - c.bestAccuracy) < 1e-12 }.map(\.rows))
            XCTAssertEqual(best, Set(c.bestPairings.filter { Set($0).count == $0.count }), "every best-accuracy pairing of LM-BFF, no other")
            // Ties are ordered by the gold log-likelihood.
            XCTAssertTrue(zip(found, found.dropFirst()).allSatisfy { a, b in
                a.trainAccuracy > b.trainAccuracy || (a.trainAccuracy == b.trainAccuracy && a.trainLogLikelihood >= b.trainLogLikelihood) })
        }
    }

    func testBeamFindsAPlantedAssignment() {
        // 5 classes × 6 candidates: 7776 assignments, beyond an exhaustive limit of 100, so the beam runs.
        let classes = 5, V = 40, n = 25
        var rng = SeededRNG(seed: 3)
        let labels = (0..<n).map { $0 % classes }
        var logits = (0..<(n * V)).map { _ in rng.nextUniform() }
        let planted = [7, 13, 21, 30, 38]
        for i in 0..<n { logits[i * V + planted[labels[i]]] += 2 }
        let candidates = planted.enumerated().map { c, row in [(row + 1) % V, row, (row + 3) % V, (row + 5) % V, (row + 7) % V, (row + 9) % V] }
        let found = LabelSearch.bestAssignments(logits: logits, vocabularySize: V, labels: labels, candidates: candidates, top: 3,
                                                beam: 20, exhaustiveLimit: 100)
        XCTAssertEqual(found.count, 3)
        XCTAssertEqual(found[0].rows, planted)
        XCTAssertEqual(found[0].trainAccuracy, 1)
        XCTAssertTrue(found.allSatisfy { Set($0.rows).count == classes }, "distinct words")
    }

    func testWordRowsKeepWholeWordsThatRoundTrip() {
        let v = FakeVocab()
        _ = v.tokenIDs("great . terrible ok2 : 42")
        let rows = LabelSearch.wordRows(vocabulary: v, size: v.strings.count)
        XCTAssertEqual(Set(rows.values), ["great", "terrible", "ok2"])
        let bpe = FakeVocab(bpe: true)
        _ = bpe.tokenIDs("x great good")  // "x" without a space: not word-initial
        XCTAssertEqual(Set(LabelSearch.wordRows(vocabulary: bpe, size: bpe.strings.count).values), ["great", "good"])
    }

    func testSearchWritesAVerbalizerAndRerankNeedsDev() throws {
        let (root, vocab) = try ExperimentTests.tinyTaskAndVocabulary()
        var task = try TaskDescriptor.load(path: root + "/datasets/tiny.json")
        var o = LabelSearchOptions(modelDirectory: packageRoot + "/Tests/Fixtures/models/tiny-bert", seeds: [1], outputDirectory: root + "/search")
        o.dataRoot = root + "/data"; o.kLikely = 4; o.top = 5; o.progress = false
        o.rerank = 2; o.training.maxSteps = 2
        var run = LabelSearchRun(task: task, options: o, vocabulary: vocab)
        run.log = { _ in }
        let e = assertPETError(.badTaskDescriptor) { _ = try run.run() }
        XCTAssertTrue(e!.message.contains("dev split"), e!.message)
        task.splits["dev"] = task.splits["test"]
        run = LabelSearchRun(task: task, options: o, vocabulary: vocab)
        run.log = { _ in }
        let r = try run.run()
        XCTAssertEqual(r.count, 1)
        XCTAssertEqual(r[0].assignments.count, 5)
        XCTAssertEqual(r[0].assignments.prefix(2).filter { $0.devAccuracy != nil }.count, 2)
        XCTAssertNotNil(r[0].chosen.devAccuracy)
        let verbalizer = try Verbalizer.load(path: r[0].verbalizerFile)
        XCTAssertEqual(verbalizer.labels, ["0", "1"])
        XCTAssertEqual(verbalizer.entries.map { $0.words[0] }, r[0].chosen.words)
        XCTAssertNoThrow(try verbalizer.resolve(labels: ["0", "1"], vocabulary: vocab))
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/search/search.json"))
    }
}
