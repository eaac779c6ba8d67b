import ClozeTensor
import XCTest
@testable import ClozePET

/// iPET: the reference's set sizes, the per-label draws, its known failure cases, and whole runs
/// (few-shot and zero-shot) on the tiny model.
final class IPETTests: XCTestCase {
    /// Values of timoschick/pet's formulas (generate_ipet_train_sets), worked by hand: |T| = 32 with
    /// 12/20 per label, d = 5: generation 0 → 32·5 − 32 = 128 new (48/80), generation 1 → 32·25 − 32 = 768 (288/480);
    /// zero-shot: 10/5·5 = 10 (5/5), then 10/5·25 = 50 (25/25); 3 labels, 10 examples: eq_div → 4/3/3.
    func testSetSizesFollowTheReference() {
        let train = [Int](repeating: 0, count: 12) + [Int](repeating: 1, count: 20)
        XCTAssertEqual(IPETSampling.newExampleCount(trainCount: 32, generation: 0, scaleFactor: 5), 128)
        XCTAssertEqual(IPETSampling.newExampleCount(trainCount: 32, generation: 1, scaleFactor: 5), 768)
        XCTAssertEqual(IPETSampling.examplesPerLabel(trainLabels: train, labelCount: 2, newExamples: 128), [48, 80])
        XCTAssertEqual(IPETSampling.examplesPerLabel(trainLabels: train, labelCount: 2, newExamples: 768), [288, 480])
        XCTAssertEqual(IPETSampling.newExampleCount(trainCount: 0, generation: 0, scaleFactor: 5), 10)
        XCTAssertEqual(IPETSampling.newExampleCount(trainCount: 0, generation: 1, scaleFactor: 5), 50)
        XCTAssertEqual(IPETSampling.examplesPerLabel(trainLabels: [], labelCount: 2, newExamples: 50), [25, 25])
        XCTAssertEqual(IPETSampling.examplesPerLabel(trainLabels: [], labelCount: 3, newExamples: 10), [4, 3, 3])
        // int() truncates per label: 3 labels of 16 with 7 new → int(16·7/48) = 2 each.
        XCTAssertEqual(IPETSampling.examplesPerLabel(trainLabels: [0, 1, 2].flatMap { [Int](repeating: $0, count: 16) },
                                                     labelCount: 3, newExamples: 7), [2, 2, 2])
    }

    /// Pool of 6 with clear predictions: label 0 for examples 0–2, label 1 for 3–5.
    let logits: [Float] = [3, 0, 2, 0, 4, 0, 0, 3, 0, 1, 0, 5]

    func testDrawsRespectPerLabelCountsAndPredictions() {
        var rng = SeededRNG(seed: 1)
        let d = IPETSampling.draw(others: [(logits, 1)], labelCount: 2, examplesPerLabel: [2, 3], logitsPercentage: 0.25,
                                  nMostLikely: -1, rng: &rng)
        XCTAssertEqual(d.labels.filter { $0 == 0 }.count, 2)
        XCTAssertEqual(d.labels.filter { $0 == 1 }.count, 3)
        for (i, l) in zip(d.indices, d.labels) { XCTAssertEqual(l, i < 3 ? 0 : 1) }
        XCTAssertEqual(Set(d.indices.filter { $0 >= 3 }), [3, 4, 5])   // without replacement
        XCTAssertEqual(Set(d.indices).count, d.indices.count)
        XCTAssertTrue(d.emptyLabels.isEmpty)
        // Too few examples of a label: the list is repeated (upsampling), so 5 draws from 3 examples.
        var rng2 = SeededRNG(seed: 2)
        let up = IPETSampling.draw(others: [(logits, 1)], labelCount: 2, examplesPerLabel: [5, 0], logitsPercentage: 1,
                                   nMostLikely: -1, rng: &rng2)
        XCTAssertEqual(up.indices.count, 5)
        XCTAssertTrue(up.indices.allSatisfy { $0 < 3 })
        // Same seed, same draw.
        var rng3 = SeededRNG(seed: 1)
        XCTAssertEqual(IPETSampling.draw(others: [(logits, 1)], labelCount: 2, examplesPerLabel: [2, 3], logitsPercentage: 0.25,
                                         nMostLikely: -1, rng: &rng3), d)
    }

    /// The reference loops forever when no pool example is predicted as a label; here the examples most
    /// likely under it are drawn and the label is reported.
    func testLabelThatNothingIsPredictedAsTerminates() {
        let allZero: [Float] = [5, 0, 4, 1, 3, 2]   // every example predicted 0; example 2 is most likely 1
        var rng = SeededRNG(seed: 3)
        let d = IPETSampling.draw(others: [(allZero, 1)], labelCount: 2, examplesPerLabel: [1, 1], logitsPercentage: 1,
                                  nMostLikely: -1, rng: &rng)
        XCTAssertEqual(d.emptyLabels, [1])
        XCTAssertEqual(zip(d.indices, d.labels).filter { $0.1 == 1 }.map(\.0), [2])
    }

    /// wmean with all-zero weights divides by zero in the reference; here it is the uniform mean.
    func testWeightedEnsembleWithZeroWeightsIsTheMean() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [3, 2, 1, 0]
        XCTAssertEqual(Ensemble.weighted([a, b], weights: [0, 0]), [2, 2, 2, 2])
        XCTAssertEqual(Ensemble.weighted([a, b], weights: [3, 1]), [1.5, 2, 2.5, 3])
        XCTAssertEqual(Ensemble.mean([a, b]), [2, 2, 2, 2])
    }

    func testNMostLikelyDrawsFromTheTopExamplesPerLabel() {
        var rng = SeededRNG(seed: 4)
        let d = IPETSampling.draw(others: [(logits, 1)], labelCount: 2, examplesPerLabel: [2, 2], logitsPercentage: 1,
                                  nMostLikely: 2, rng: &rng)
        // Top 2 for label 0: examples 2 (p≈.98) and 0 (.95); for label 1: 5 (.99) and 3 (.95).
        XCTAssertEqual(Set(zip(d.indices, d.labels).filter { $0.1 == 0 }.map(\.0)), [0, 2])
        XCTAssertEqual(Set(zip(d.indices, d.labels).filter { $0.1 == 1 }.map(\.0)), [3, 5])
    }

    func tinyOptions(_ root: String, seeds: [Int]) -> PETExperimentOptions {
        var o = PETExperimentOptions(modelDirectory: packageRoot + "/Tests/Fixtures/models/tiny-bert", seeds: seeds)
        o.dataRoot = root + "/data"
        o.training.maxSteps = 4; o.training.batchSize = 4; o.training.learningRate = 1e-3
        o.unlabeledCount = 12
        o.distillation.maxSteps = 3; o.distillation.batchSize = 4
        o.fineTuning.maxSteps = 2
        o.progress = false
        o.method = .ipet
        o.ipet.generations = 3; o.ipet.scaleFactor = 2
        return o
    }

    func testIPETRunRecordsEveryGenerationAndGrowsTheTrainingSets() throws {
        let (root, vocab) = try ExperimentTests.tinyTaskAndVocabulary()
        let task = try TaskDescriptor.load(path: root + "/datasets/tiny.json")
        var exp = PETExperiment(task: task, options: tinyOptions(root, seeds: [1]), vocabulary: vocab)
        var lines: [String] = []
        exp.log = { lines.append($0) }
        let r = try exp.run()
        XCTAssertEqual(r.generations?.map(\.generation), [0, 1, 2])
        XCTAssertEqual(r.generations?.map { $0.patterns.count }, [2, 2, 2])
        XCTAssertEqual(r.generations?.last?.patterns, r.patterns)
        XCTAssertEqual(r.generations?.last?.ensembleWeighted, r.ensembleWeighted)
        XCTAssertNotNil(r.finalClassifier)
        XCTAssertEqual(r.settings["method"], "ipet")
        // Time by generation and the pseudo-labelling phase are reported.
        XCTAssertEqual(r.generations?.compactMap(\.seconds).filter { $0 > 0 }.count, 3)
        XCTAssertNotNil(r.timings.first { $0.phase == "pseudo-labelling" })
        // |T| = 8 (4 per label), d = 2: 8 new examples after generation 0, 24 after generation 1.
        XCTAssertTrue(lines.contains("seed 1 generation 1: 8 pseudo-labelled examples per model (per label [4, 4])"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains("seed 1 generation 2: 24 pseudo-labelled examples per model (per label [12, 12])"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.hasPrefix("seed 1 generation 2 ensemble") })
        // Deterministic: the same seed gives the same numbers.
        var again = PETExperiment(task: task, options: tinyOptions(root, seeds: [1]), vocabulary: vocab)
        again.log = { _ in }
        let r2 = try again.run()
        func scores(_ r: RunResults) -> [GenerationResult]? { r.generations?.map { var g = $0; g.seconds = nil; return g } }
        XCTAssertEqual(scores(r2), scores(r))
        XCTAssertEqual(r2.finalClassifier, r.finalClassifier)
    }

    /// |T| = 0 (the reference's --train_examples 0): generation 0 is the untrained pattern ensemble,
    /// labelling 10/d·d = 10 examples with the n most likely per label; later generations train on them.
    func testZeroShotIPET() throws {
        let (root, vocab) = try ExperimentTests.tinyTaskAndVocabulary()
        let task = try TaskDescriptor.load(path: root + "/datasets/tiny.json")
        var o = tinyOptions(root, seeds: [2])
        o.k = 0
        o.ipet.generations = 2; o.ipet.scaleFactor = 5; o.ipet.nMostLikely = 6
        var exp = PETExperiment(task: task, options: o, vocabulary: vocab)
        var lines: [String] = []
        exp.log = { lines.append($0) }
        let r = try exp.run()
        XCTAssertTrue(lines.contains("seed 2: 0 training, 10 test, 12 unlabelled examples"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains("seed 2 generation 1: 10 pseudo-labelled examples per model (per label [5, 5])"), lines.joined(separator: "\n"))
        // Generation 0 is zero-shot: its pattern scores are the zero-shot scores.
        XCTAssertEqual(r.generations?.first?.patterns.map(\.scores), r.zeroShot.map(\.scores))
        XCTAssertEqual(r.generations?.count, 2)
        XCTAssertNil(r.fineTuning)          // nothing to fine-tune on
        XCTAssertNotNil(r.finalClassifier)
    }

    func testIPETWithoutPoolIsAClearError() throws {
        let (root, vocab) = try ExperimentTests.tinyTaskAndVocabulary()
        let task = try TaskDescriptor.load(path: root + "/datasets/tiny.json")
        var o = tinyOptions(root, seeds: [1])
        o.unlabeledCount = 0
        let e = assertPETError(.emptyDataset) { _ = try PETExperiment(task: task, options: o, vocabulary: vocab).run() }
        XCTAssertTrue(e?.message.contains("--unlabeled N") == true, e?.message ?? "")
    }

    /// Multi-mask PET inside iPET, with the ensembles and distillation (the reference cannot combine them).
    func testMultiMaskIPETRunsEveryStage() throws {
        let (root, vocab) = try ExperimentTests.tinyTaskAndVocabulary()
        var task = try TaskDescriptor.load(path: root + "/datasets/tiny.json")
        try "0: very dull\n1: great\n".write(toFile: root + "/verbalizers/multi.txt", atomically: true, encoding: .utf8)
        task.prompts = [.init(patterns: root + "/patterns/tiny.txt", verbalizer: root + "/verbalizers/multi.txt")]
        var o = tinyOptions(root, seeds: [1])
        o.multiMask = true
        o.ipet.generations = 2
        var exp = PETExperiment(task: task, options: o, vocabulary: vocab)
        exp.log = { _ in }
        let r = try exp.run()
        XCTAssertEqual(r.generations?.count, 2)
        XCTAssertEqual(r.patterns.count, 2)
        XCTAssertNotNil(r.ensembleWeighted)
        XCTAssertNotNil(r.finalClassifier)
        XCTAssertEqual(r.settings["multiMask"], "true")
        // Zero-shot scores are log-likelihood sums: every pattern scored all 10 test examples.
        XCTAssertEqual(r.zeroShot.map { $0.scores.runs.count }, [1, 1])
    }
}
