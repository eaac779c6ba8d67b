import ClozeModels
import ClozeTensor
import XCTest
@testable import ClozePET

/// Per-step PET training loss against a PyTorch re-implementation of timoschick/pet's `mlm` wrapper
/// (scripts/make_pet_fixtures.py, Tests/Fixtures/pet/pet_training.json) on the tiny BERT fixture.
final class PETTrainingParityTests: XCTestCase {
    struct Feature: Decodable { var inputIDs: [Int32]; var tokenTypeIDs: [Int32]; var maskPosition: Int; var label: Int? }
    struct Mask: Decodable { var ids: [Int32]; var rows: [Int]; var targets: [Int] }
    struct Config: Decodable { var steps: Int; var batchSize: Int; var unlabeledBatchSize: Int; var learningRate: Float
        var warmupSteps: Int; var weightDecay: Float; var adamEpsilon: Float; var maxGradNorm: Float }
    struct Fixture: Decodable {
        var modelDirectory: String; var config: Config; var padID: Int32; var maskID: Int32; var labelRows: [[Int]]
        var labelled: [Feature]; var unlabeled: [Feature]; var petLosses: [Float]; var auxAlpha: Float; var auxLosses: [Float]; var auxMasks: [Mask]
    }
    final class Counter { var n = 0 }

    func setUpTrainer(_ f: Fixture, alpha: Float?) throws -> (PETTrainer, [PETFeature], [PETFeature]) {
        let model = try ModelLoader.loadMaskedLM(directory: packageRoot + "/" + f.modelDirectory)
        var rows: [Int] = [], cols: [[Int]] = []
        for r in f.labelRows { cols.append(Array(rows.count..<(rows.count + r.count))); rows += r }
        let verbalizer = ResolvedVerbalizer(labels: ["0", "1"], vocabularyRows: rows, labelColumns: cols)
        var c = PETTrainingConfig()
        c.maxSteps = f.config.steps; c.batchSize = f.config.batchSize; c.unlabeledBatchSize = f.config.unlabeledBatchSize
        c.learningRate = f.config.learningRate; c.warmupSteps = f.config.warmupSteps; c.weightDecay = f.config.weightDecay
        c.adamEpsilon = f.config.adamEpsilon; c.maxGradNorm = f.config.maxGradNorm
        c.dropout = false; c.shuffle = false; c.alpha = alpha
        let trainer = PETTrainer(config: c, scorer: PETScorer(model: model, verbalizer: verbalizer), padID: f.padID,
                                 maskID: f.maskID, specialIDs: [0, 1, 2, 3])
        let feat = { (x: Feature) in PETFeature(input: PETInput(inputIDs: x.inputIDs, tokenTypeIDs: x.tokenTypeIDs, maskPosition: x.maskPosition, removedTokens: 0), label: x.label) }
        return (trainer, f.labelled.map(feat), f.unlabeled.map(feat))
    }

    func testPETLossMatchesPyTorchFor20Steps() throws {
        let f = try JSONDecoder().decode(Fixture.self, from: fixture("pet_training.json"))
        let (trainer, labelled, _) = try setUpTrainer(f, alpha: nil)
        let log = try trainer.train(labelled)
        XCTAssertEqual(log.stepLosses.count, 20)
        for (i, (a, b)) in zip(log.stepLosses, f.petLosses).enumerated() {
            XCTAssertEqual(a, b, accuracy: 1e-4, "step \(i)")
        }
        // The loss must actually move (a frozen model would fail the comparison, not pass it).
        XCTAssertLessThan(f.petLosses.last!, f.petLosses.first! * 0.5)
    }

    func testAuxiliaryMLMLossMatchesPyTorch() throws {
        let f = try JSONDecoder().decode(Fixture.self, from: fixture("pet_training.json"))
        var (trainer, labelled, unlabeled) = try setUpTrainer(f, alpha: f.auxAlpha)
        let counter = Counter()
        trainer.auxiliaryMasker = { batch, _ in
            let m = f.auxMasks[counter.n]
            counter.n += 1
            XCTAssertEqual(m.ids.count, batch.inputIds.count)
            return (m.ids, m.rows, m.targets)
        }
        let log = try trainer.train(labelled, unlabeled: unlabeled)
        XCTAssertEqual(counter.n, 20)
        for (i, (a, b)) in zip(log.stepLosses, f.auxLosses).enumerated() {
            XCTAssertEqual(a, b, accuracy: 1e-4, "step \(i)")
        }
    }

    func testRandomAuxiliaryMaskingSkipsSpecialsAndPadding() {
        var rng = SeededRNG(seed: 3)
        let ids: [Int32] = [1, 50, 51, 3, 52, 2, 0, 0] + [Int32](repeating: 60, count: 200)
        let att: [Float] = [1, 1, 1, 1, 1, 1, 0, 0] + [Float](repeating: 1, count: 200)
        let m = AuxiliaryMLM.mask(ids, attention: att, specialIDs: [0, 1, 2, 3], maskID: 3, vocabSize: 100, probability: 0.15, rng: &rng)
        XCTAssertFalse(m.rows.contains { [0, 3, 5, 6, 7].contains($0) })
        XCTAssertEqual(m.targets, m.rows.map { Int(ids[$0]) })
        XCTAssertGreaterThan(m.rows.count, 15)
        XCTAssertLessThan(m.rows.count, 50)
        let masked = m.rows.filter { m.ids[$0] == 3 }.count
        XCTAssertGreaterThan(Double(masked) / Double(m.rows.count), 0.6)
    }

    func testScheduleShufflesPerEpochAndKeepsPartialBatches() {
        var rng = SeededRNG(seed: 1)
        let s = PETTrainer.schedule(count: 5, batchSize: 2, steps: 7, shuffle: true, rng: &rng)
        XCTAssertEqual(s.map(\.count), [2, 2, 1, 2, 2, 1, 2])
        XCTAssertEqual(Set(s[0..<3].flatMap { $0 }), Set(0..<5))
        XCTAssertEqual(Set(s[3..<6].flatMap { $0 }), Set(0..<5))
        var r2 = SeededRNG(seed: 1)
        XCTAssertEqual(PETTrainer.schedule(count: 5, batchSize: 2, steps: 3, shuffle: false, rng: &r2), [[0, 1], [2, 3], [4]])
    }
}
