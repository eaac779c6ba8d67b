import ClozeModels
import ClozeTensor
import XCTest
@testable import ClozePET

/// Multi-mask PET against a PyTorch re-implementation of timoschick/pet's MultiMaskTaskHelper
/// (scripts/make_multimask_fixtures.py, Tests/Fixtures/pet/multimask.json) on the tiny BERT fixture.
final class MultiMaskTests: XCTestCase {
    struct Feature: Decodable { var inputIDs: [Int32]; var tokenTypeIDs: [Int32]; var maskPosition: Int; var label: Int? }
    struct Config: Decodable { var steps: Int; var batchSize: Int; var learningRate: Float; var warmupSteps: Int
        var weightDecay: Float; var adamEpsilon: Float; var maxGradNorm: Float }
    struct Fixture: Decodable {
        var modelDirectory: String; var padID: Int32; var maskID: Int32; var choices: [[Int32]]; var config: Config
        var labelled: [Feature]; var test: [Feature]; var losses: [Float]; var zeroShotScores: [[Float]]; var trainedScores: [[Float]]
    }

    func load() throws -> (Fixture, MultiTokenVerbalizer, [PETFeature], [PETFeature]) {
        let f = try JSONDecoder().decode(Fixture.self, from: fixture("multimask.json"))
        let verbalizer = MultiTokenVerbalizer(labels: ["a", "b", "c"], tokens: f.choices)
        let m = verbalizer.maskCount
        let feat = { (x: Feature) in
            PETFeature(input: PETInput(inputIDs: x.inputIDs, tokenTypeIDs: x.tokenTypeIDs, maskPosition: x.maskPosition,
                                       removedTokens: 0, maskCount: m), label: x.label)
        }
        return (f, verbalizer, f.labelled.map(feat), f.test.map(feat))
    }

    func trainer(_ f: Fixture, _ scorer: PETScorer) -> PETTrainer {
        var c = PETTrainingConfig()
        c.maxSteps = f.config.steps; c.batchSize = f.config.batchSize; c.learningRate = f.config.learningRate
        c.warmupSteps = f.config.warmupSteps; c.weightDecay = f.config.weightDecay; c.adamEpsilon = f.config.adamEpsilon
        c.maxGradNorm = f.config.maxGradNorm; c.dropout = false; c.shuffle = false
        return PETTrainer(config: c, scorer: scorer, padID: f.padID, maskID: f.maskID, specialIDs: [0, 1, 2, 3])
    }

    func assertScores(_ got: [Float], _ expected: [[Float]], _ what: String, line: UInt = #line) {
        XCTAssertEqual(got.count, expected.count * 3, line: line)
        for (i, row) in expected.enumerated() {
            for (c, e) in row.enumerated() { XCTAssertEqual(got[i * 3 + c], e, accuracy: 1e-4, "\(what) example \(i) candidate \(c)", line: line) }
        }
    }

    func testHingeLossAndMaxFirstScoresMatchPyTorch() throws {
        let (f, verbalizer, labelled, test) = try load()
        let model = try ModelLoader.loadMaskedLM(directory: packageRoot + "/" + f.modelDirectory)
        let scorer = PETScorer(model: model, multiToken: verbalizer)
        // Batch size 3 splits the 7 examples unevenly and mixes lengths: batching must not change scores.
        assertScores(try scorer.predict(test, batchSize: 3, padID: f.padID), f.zeroShotScores, "zero-shot")
        let log = try trainer(f, scorer).train(labelled)
        XCTAssertEqual(log.stepLosses.count, f.config.steps)
        for (i, (a, b)) in zip(log.stepLosses, f.losses).enumerated() { XCTAssertEqual(a, b, accuracy: 1e-4, "step \(i)") }
        XCTAssertLessThan(f.losses.last!, f.losses.first! * 0.5)   // training moved the loss
        assertScores(try scorer.predict(test, batchSize: 32, padID: f.padID), f.trainedScores, "trained")
    }

    func testBatchedDecodingEqualsOneExampleAtATime() throws {
        let (f, verbalizer, _, test) = try load()
        let model = try ModelLoader.loadMaskedLM(directory: packageRoot + "/" + f.modelDirectory)
        let batched = try MultiMask.maxFirstScores(model: model, features: test, verbalizer: verbalizer, batchSize: 64, padID: f.padID)
        var single: [Float] = []
        for x in test { single += try MultiMask.maxFirstScores(model: model, features: [x], verbalizer: verbalizer, batchSize: 1, padID: f.padID) }
        for (a, b) in zip(batched, single) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testMaskExpansionAndTrimming() throws {
        let vocab = FakeVocab()
        let pattern = try PatternParser.parseLine("{text_a} It was [MASK].", location: SourceLocation(file: "p"))
        let input = try PETInputBuilder(pattern: pattern, vocabulary: vocab, maxLength: 32, maskCount: 3).build(["text_a": "good film"])
        XCTAssertEqual(input.maskCount, 3)
        XCTAssertEqual(Array(input.inputIDs[input.maskPosition..<(input.maskPosition + 3)]), [Int32](repeating: vocab.maskTokenID, count: 3))
        let one = input.keepingMasks(1)
        XCTAssertEqual(one.inputIDs.count, input.inputIDs.count - 2)
        XCTAssertEqual(one.inputIDs.filter { $0 == vocab.maskTokenID }.count, 1)
        XCTAssertEqual(Array(one.inputIDs.suffix(2)), Array(input.inputIDs.suffix(2)))
    }

    func testMultiTokenVerbalizerResolution() throws {
        let vocab = FakeVocab()
        let v = try Verbalizer.parse(text: "0: very bad\n1: good\n", file: "v.txt")
        XCTAssertThrowsError(try v.resolve(labels: ["0", "1"], vocabulary: vocab)) { e in
            XCTAssertTrue("\(e)".contains("--multi-mask"), "\(e)")
        }
        let m = try v.resolveMultiToken(labels: ["0", "1"], vocabulary: vocab)
        XCTAssertEqual(m.tokens.map(\.count), [2, 1])
        XCTAssertEqual(m.maskCount, 2)
        XCTAssertEqual(m.tokens[0], vocab.tokenIDs(" very bad"))
        // Byte-level BPE: the verbalization gets the leading space it has in context (Ġvery Ġbad).
        let bpe = FakeVocab(bpe: true)
        XCTAssertEqual(try v.resolveMultiToken(labels: ["0", "1"], vocabulary: bpe).tokens[0], [bpe.id("Ġvery"), bpe.id("Ġbad")])
        let two = try Verbalizer.parse(text: "0: bad, awful\n1: good\n", file: "w.txt")
        let e = assertPETError(.badVerbalizerLine) { _ = try two.resolveMultiToken(labels: ["0", "1"], vocabulary: vocab) }
        XCTAssertEqual(e?.location?.line, 1)
        XCTAssertTrue(e?.message.contains("one verbalization per label") == true, e?.message ?? "")
    }
}
