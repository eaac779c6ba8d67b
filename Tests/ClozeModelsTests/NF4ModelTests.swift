import Foundation
import XCTest
import ClozeTensor
@testable import ClozeModels

/// QLoRA-style loading: transformer-layer Linear weights in NF4, everything else f32, adapters on top.
/// The reference is the same f32 checkpoint with those weights replaced by their NF4 round trip, so
/// any difference comes from the NF4 GEMM path, not from quantisation error.
final class NF4ModelTests: XCTestCase {
    /// The f32 model with every weight that NF4 loading quantises replaced by its dequantised values.
    private func dequantizedReference(_ base: String, like quantized: TransformerMaskedLM) throws -> TransformerMaskedLM {
        let reference = try ModelLoader.loadMaskedLM(directory: Fixtures.path(base))
        for (q, r) in zip(quantized.linears, reference.linears) where q.isQuantized {
            XCTAssertEqual(q.name, r.name)
            r.weight.data = q.denseWeight
        }
        reference.embeddings.word.data = try XCTUnwrap(quantized.embeddings.compactWord).expanded()
        return reference
    }

    func testOnlyTransformerLayerWeightsAreQuantizedAndLeaveTheParameters() throws {
        for base in ["tiny-bert", "tiny-roberta", "tiny-distilbert", "tiny-albert"] {
            let q = try ModelLoader.loadMaskedLM(directory: Fixtures.path(base), quantization: .nf4)
            let dense = try ModelLoader.loadMaskedLM(directory: Fixtures.path(base))
            let layerLinears = Set(q.layers.flatMap(\.linears).map(ObjectIdentifier.init))
            for l in q.linears { XCTAssertEqual(l.isQuantized, layerLinears.contains(ObjectIdentifier(l)), "\(base) \(l.name)") }
            let frozenNames = Set(q.frozenTensors.map(\.name))
            XCTAssertEqual(frozenNames.count, 6 * q.layers.count + 1, base)  // + the f16 word table
            XCTAssertTrue(frozenNames.contains { $0.hasSuffix("word_embeddings.weight") }, base)
            XCTAssertEqual(Set(q.parameters.map(\.name)), Set(dense.parameters.map(\.name)).subtracting(frozenNames), base)
            // NF4 is lossy by its block error (within half the widest code gap of the block absmax),
            // f16 by its rounding (2⁻¹¹ relative).
            for (name, _, values) in q.frozenTensors {
                let w = try XCTUnwrap(dense.parameters.first { $0.name == name }).tensor.data, v = values()
                let bound = name.hasSuffix("word_embeddings.weight") ? (w.map(abs).max() ?? 0) / 2048 : 0.16 * (w.map(abs).max() ?? 0)
                XCTAssertLessThanOrEqual(maxAbsDiff(v, w), bound, "\(base) \(name)")
            }
        }
    }

    /// LoRA, DoRA and (IA)³ (PEFT fixtures) on an NF4 base: logits, loss and adapter gradients equal
    /// the same adapter on the dense dequantised base; bitfit's bias gradients flow through NF4 layers too.
    func testAdaptersOnNF4MatchTheDenseDequantizedBase() throws {
        for method in ["lora", "dora", "ia3"] {
            let f = try PEFTFixture.json("tiny-bert-\(method)")
            let q = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"), quantization: .nf4)
            let d = try dequantizedReference("tiny-bert", like: q)
            for m in [q, d] { _ = try PEFTAdapterFile.load(from: "\(PEFTFixture.directory)/tiny-bert-\(method)", into: m) }
            let (qGrads, qOut) = try gradients(q, f, policy: .biases)
            let (dGrads, dOut) = try gradients(d, f, policy: .biases)
            XCTAssertLessThanOrEqual(maxAbsDiff(qOut.logits, dOut.logits), 1e-5, method)
            XCTAssertEqual(qOut.loss, dOut.loss, accuracy: 1e-5, method)
            XCTAssertEqual(Set(qGrads.keys), Set(dGrads.keys), method)
            XCTAssertTrue(qGrads.keys.contains { $0.contains("lora_A") || $0.contains("ia3_l") }, method)
            for (name, g) in dGrads {
                XCTAssertLessThanOrEqual(maxAbsDiff(try XCTUnwrap(qGrads[name], name), g), 1e-5, "\(method) \(name)")
            }
        }
    }

    private func gradients(_ model: TransformerMaskedLM, _ f: [String: Any], policy: TrainabilityPolicy) throws
        -> ([String: [Float]], (logits: [Float], loss: Float)) {
        let (trainable, _) = model.applyTrainability(policy)
        let tape = Tape()
        let (logits, loss) = try PEFTFixture.forward(model, base: "tiny-bert", f, tape: tape)
        tape.backward(loss)
        var grads: [String: [Float]] = [:]
        for (name, t) in trainable { grads[name] = try XCTUnwrap(t.grad, name) }
        return (grads, (logits.data, loss.item))
    }

    /// Saving an NF4 model with LoRA writes the merged f32 weights (dequantised base + s·B·A): it
    /// reloads as a plain checkpoint with the adapted model's logits.
    func testSavingAnNF4ModelWritesMergedDequantizedWeights() throws {
        let f = try PEFTFixture.json("tiny-bert-lora")
        let q = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"), quantization: .nf4)
        _ = try PEFTAdapterFile.load(from: "\(PEFTFixture.directory)/tiny-bert-lora", into: q)
        let adapted = try PEFTFixture.forward(q, base: "tiny-bert", f, tape: nil).logits.data
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-nf4-save-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try q.save(to: dir)
        let reloaded = try ModelLoader.loadMaskedLM(directory: dir)
        XCTAssertFalse(reloaded.linears.contains { $0.isQuantized })
        XCTAssertLessThanOrEqual(maxAbsDiff(try PEFTFixture.forward(reloaded, base: "tiny-bert", f, tape: nil).logits.data, adapted), 1e-5)
    }

    /// The policies an NF4 base refuses: those that would train transformer-layer weights.
    func testPoliciesThatTrainLayerWeights() {
        XCTAssertTrue(TrainabilityPolicy.full.trainsLayerWeights)
        XCTAssertTrue(TrainabilityPolicy.topLayers(2).trainsLayerWeights)
        for p in [TrainabilityPolicy.frozen, .biases, .bitfitSubset, .topLayers(0)] { XCTAssertFalse(p.trainsLayerWeights, "\(p)") }
    }

    /// Prompt tuning's vocabulary init reads the f16 table of an NF4 model (the f32 table, rounded).
    func testSoftPromptInitFromTheCompactWordTable() throws {
        let q = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"), quantization: .nf4)
        let d = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        let pq = try SoftPrompt(count: 3, model: q, initialization: .tokens([5, 7]), seed: 1).embeddings.data
        let pd = try SoftPrompt(count: 3, model: d, initialization: .tokens([5, 7]), seed: 1).embeddings.data
        XCTAssertEqual(pq, pd.map { Float(Float16($0)) })
    }

    /// Random-weight models quantise too (benchmarks); an NF4 layer's placeholder weight holds nothing.
    func testRandomNF4ModelHoldsNoDenseLayerWeights() throws {
        let config = try ModelConfig.load(directory: Fixtures.path("tiny-bert"))
        let model = ModelLoader.random(config: config, seed: 3, quantization: .nf4)
        for l in model.layers.flatMap(\.linears) {
            XCTAssertEqual(l.weight.count, 0)
            XCTAssertEqual(try XCTUnwrap(l.nf4Weight).count, l.inFeatures * l.outFeatures)
        }
    }
}
