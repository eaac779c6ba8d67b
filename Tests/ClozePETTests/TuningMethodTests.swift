import ClozeModels
import ClozeTensor
import XCTest
@testable import ClozePET

/// PET training under each tuning method (tiny BERT, the PET-training fixture): only what the method
/// trains changes, the rest of the checkpoint stays bit-identical, and the loss goes down.
final class TuningMethodTests: XCTestCase {
    typealias Parity = PETTrainingParityTests

    func train(_ setUp: (inout PETTrainingConfig, any MaskedLanguageModel) throws -> Void)
        throws -> (model: any MaskedLanguageModel, before: [String: [Float]], log: PETTrainingLog) {
        let f = try JSONDecoder().decode(Parity.Fixture.self, from: fixture("pet_training.json"))
        let (base, labelled, _) = try Parity(name: "setUp", testClosure: { _ in }).setUpTrainer(f, alpha: nil)
        var trainer = base
        trainer.config.maxSteps = 30
        let model = trainer.scorer.model
        try setUp(&trainer.config, model)
        let before = Dictionary(uniqueKeysWithValues: model.baseParameters().map { ($0.name, $0.tensor.data) })
        let log = try trainer.train(labelled)
        return (model, before, log)
    }

    func changed(_ model: any MaskedLanguageModel, _ before: [String: [Float]]) -> Set<String> {
        Set(model.baseParameters().filter { before[$0.name]! != $0.tensor.data }.map(\.name))
    }

    func testBitFitChangesOnlyBiases() throws {
        let (model, before, log) = try train { c, _ in c.trainability = .biases; c.learningRate = 1e-2 }
        let moved = changed(model, before)
        XCTAssertFalse(moved.isEmpty)
        XCTAssertTrue(moved.allSatisfy { $0.hasSuffix("bias") }, "\(moved.filter { !$0.hasSuffix("bias") })")
        XCTAssertEqual(log.trainable.trainable, model.applyTrainability(.biases).count.trainable)
        XCTAssertLessThan(log.stepLosses.suffix(5).reduce(0, +), log.stepLosses.prefix(5).reduce(0, +))
    }

    func testPartialFreezingChangesOnlyTheTopLayerAndHead() throws {
        let (model, before, _) = try train { c, _ in c.trainability = .topLayers(1) }
        let moved = changed(model, before)
        XCTAssertTrue(moved.contains("bert.encoder.layer.1.attention.self.query.weight"))
        XCTAssertTrue(moved.allSatisfy { $0.hasPrefix("bert.encoder.layer.1.") || $0.hasPrefix("cls.") }, "\(moved)")
    }

    func testLoRAAndPromptTuningLeaveTheCheckpointUntouched() throws {
        let lora = try train { c, m in
            c.trainability = .frozen; c.learningRate = 1e-2
            try LoRA.attach(to: m, config: LoRAConfig(rank: 4, alpha: 8), seed: 1)
        }
        XCTAssertEqual(changed(lora.model, lora.before), [])
        XCTAssertTrue(lora.model.linears.contains { ($0.adapter as? LoRAAdapter)?.b.data.contains { $0 != 0 } == true })
        XCTAssertLessThan(lora.log.stepLosses.suffix(5).reduce(0, +), lora.log.stepLosses.prefix(5).reduce(0, +))
        let prompt = try train { c, m in
            c.trainability = .frozen; c.learningRate = 1e-2
            m.softPrompt = try SoftPrompt(count: 4, model: m, initialization: .vocabulary(limit: 100), seed: 1)
        }
        XCTAssertEqual(changed(prompt.model, prompt.before), [])
        XCTAssertEqual(prompt.log.trainable.trainable, 4 * prompt.model.config.hiddenSize)
        XCTAssertLessThan(prompt.log.stepLosses.suffix(5).reduce(0, +), prompt.log.stepLosses.prefix(5).reduce(0, +))
    }

    func testDoRAAndIA3TrainOnlyTheirOwnTensors() throws {
        let dora = try train { c, m in
            c.trainability = .frozen; c.learningRate = 1e-2
            var config = LoRAConfig(rank: 4, alpha: 8)
            config.useDoRA = true
            try LoRA.attach(to: m, config: config, seed: 1)
        }
        XCTAssertEqual(changed(dora.model, dora.before), [])
        let adapters = dora.model.linears.compactMap { $0.adapter as? LoRAAdapter }
        XCTAssertTrue(adapters.contains { a in zip(a.magnitude!.data, LoRAAdapter.rowNorms(dora.model.linears.first { $0.adapter === a }!.weight.data, columns: a.a.shape[1])).contains { abs($0 - $1) > 1e-4 } },
                      "the magnitudes trained")
        XCTAssertLessThan(dora.log.stepLosses.suffix(5).reduce(0, +), dora.log.stepLosses.prefix(5).reduce(0, +))
        let ia3 = try train { c, m in
            c.trainability = .frozen; c.learningRate = 3e-2
            try IA3.attach(to: m, config: IA3Config())
        }
        XCTAssertEqual(changed(ia3.model, ia3.before), [])
        XCTAssertTrue(ia3.model.linears.contains { ($0.adapter as? IA3Adapter)?.scale.data.contains { $0 != 1 } == true })
        XCTAssertLessThan(ia3.log.stepLosses.suffix(5).reduce(0, +), ia3.log.stepLosses.prefix(5).reduce(0, +))
    }

    func testPTuningPrefixAndAdaptersTrainOnlyTheirOwnTensors() throws {
        let ptuning = try train { c, m in
            c.trainability = .frozen; c.learningRate = 1e-2
            let p = try SoftPrompt(count: 3, model: m, initialization: .random, seed: 1)
            m.softPrompt = SoftPrompt(embeddings: p.embeddings, encoder: try PromptEncoder(kind: .lstm, width: m.config.hiddenSize, hidden: 8, seed: 2))
        }
        let prefix = try train { c, m in
            c.trainability = .frozen; c.learningRate = 1e-2
            m.prefix = try PrefixPrompt(virtualTokens: 3, projectionHidden: 16, model: m, seed: 3)
        }
        let adapter = try train { c, m in
            c.trainability = .frozen; c.learningRate = 1e-2
            try BottleneckAdapterConfig().attach(to: m as! TransformerMaskedLM, seed: 4)
        }
        for (name, run) in [("ptuning", ptuning), ("prefix", prefix), ("adapter", adapter)] {
            XCTAssertEqual(changed(run.model, run.before), [], name)
            XCTAssertEqual(run.log.trainable.trainable, run.model.parameters.filter { run.model.role(of: $0.tensor).region == .adapter }.map(\.tensor.count).reduce(0, +), name)
            XCTAssertLessThan(run.log.stepLosses.suffix(5).reduce(0, +), run.log.stepLosses.prefix(5).reduce(0, +), name)
        }
        // Combined with full training (prefix+full): the checkpoint moves too.
        let both = try train { c, m in
            c.trainability = .full; c.learningRate = 1e-3
            m.prefix = try PrefixPrompt(virtualTokens: 2, projectionHidden: nil, model: m, seed: 5)
        }
        XCTAssertTrue(changed(both.model, both.before).contains("bert.encoder.layer.0.attention.self.query.weight"))
    }

    /// In-pattern [SOFT] rows take the soft prompt's rows in place (nothing prepended): a prompt holding
    /// the placeholder's own word embedding changes nothing, a different one changes the output (not a constant shift, which LayerNorm removes).
    func testInPatternSoftTokensReplaceTheirPlaceholders() throws {
        let f = try JSONDecoder().decode(Parity.Fixture.self, from: fixture("pet_training.json"))
        let (trainer, _, _) = try Parity(name: "setUp", testClosure: { _ in }).setUpTrainer(f, alpha: nil)
        let model = trainer.scorer.model
        var batch = try EncodedBatch(sequences: [[1, 5, 6, 7, 2], [1, 8, 9, 2]], padId: 0)
        var rng: SeededRNG? = nil
        let plain = try model.encode(batch, training: false, rng: &rng, tape: nil).data
        let word = model.parameters.first { $0.name.hasSuffix("word_embeddings.weight") }!.tensor
        let e = word.shape[1]
        batch.softRows = [1, 2, 6]; batch.softIndex = [0, 1, 2]   // rows hold ids 5, 6 and (second sequence) 8
        XCTAssertThrowsError(try model.encode(batch, training: false, rng: &rng, tape: nil))   // no soft prompt yet
        let own = [5, 6, 8].flatMap { Array(word.data[($0 * e)..<(($0 + 1) * e)]) }
        model.softPrompt = SoftPrompt(embeddings: Tensor(shape: [3, e], data: own, requiresGrad: true))
        XCTAssertEqual(try model.encode(batch, training: false, rng: &rng, tape: nil).data, plain)
        model.softPrompt = SoftPrompt(embeddings: Tensor(shape: [3, e], data: own.enumerated().map { $1 + Float($0 % 5) * 0.3 }, requiresGrad: true))
        let moved = try model.encode(batch, training: false, rng: &rng, tape: nil).data
        XCTAssertEqual(moved.count, plain.count, "nothing prepended")
        XCTAssertGreaterThan(zip(moved, plain).map { abs($0 - $1) }.max()!, 1e-3)
        batch.softIndex = [0, 1, 3]
        XCTAssertThrowsError(try model.encode(batch, training: false, rng: &rng, tape: nil))   // row 3 of a 3-token prompt
    }
}

extension MaskedLanguageModel {
    /// The checkpoint's own tensors (no adapter or prompt tensors).
    func baseParameters() -> [(name: String, tensor: Tensor)] { parameters.filter { role(of: $0.tensor).region != .adapter } }
}
