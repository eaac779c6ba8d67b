import ClozeModels
import XCTest
@testable import ClozePET

/// Per-step distillation loss against PyTorch (PET's distillation_loss on BertForSequenceClassification),
/// Tests/Fixtures/pet/distillation.json from scripts/make_pet_fixtures.py.
final class DistillationParityTests: XCTestCase {
    struct Feature: Decodable { var inputIDs: [Int32] }
    struct Config: Decodable { var steps: Int; var batchSize: Int; var learningRate: Float; var warmupSteps: Int
        var weightDecay: Float; var adamEpsilon: Float; var maxGradNorm: Float; var temperature: Float }
    struct Fixture: Decodable { var modelDirectory: String; var numLabels: Int; var config: Config; var features: [Feature]
        var teacherLogits: [[Float]]; var losses: [Float] }

    func testDistillationLossMatchesPyTorchFor20Steps() throws {
        let f = try JSONDecoder().decode(Fixture.self, from: fixture("distillation.json"))
        let loaded = try ModelLoader.load(directory: packageRoot + "/" + f.modelDirectory, mlmHead: .ifPresent, classificationLabels: f.numLabels)
        XCTAssertTrue(loaded.report.randomlyInitialized.isEmpty, "classifier must come from the checkpoint: \(loaded.report.randomlyInitialized)")
        var c = PETTrainingConfig()
        c.maxSteps = f.config.steps; c.batchSize = f.config.batchSize; c.learningRate = f.config.learningRate
        c.warmupSteps = f.config.warmupSteps; c.weightDecay = f.config.weightDecay; c.adamEpsilon = f.config.adamEpsilon
        c.maxGradNorm = f.config.maxGradNorm; c.dropout = false; c.shuffle = false
        let trainer = SequenceClassifierTrainer(config: c, model: loaded.model, head: loaded.classifier!, padID: 0)
        let features = f.features.map {
            PETFeature(input: PETInput(inputIDs: $0.inputIDs, tokenTypeIDs: [Int32](repeating: 0, count: $0.inputIDs.count),
                                       maskPosition: -1, removedTokens: 0), label: nil)
        }
        let log = try trainer.train(features, targets: .teacherLogits(f.teacherLogits.flatMap { $0 }, temperature: f.config.temperature))
        XCTAssertEqual(log.stepLosses.count, 20)
        for (i, (a, b)) in zip(log.stepLosses, f.losses).enumerated() { XCTAssertEqual(a, b, accuracy: 1e-4, "step \(i)") }
    }
}
