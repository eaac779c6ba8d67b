import XCTest
import ClozeTensor
@testable import ClozeModels

/// The trainability policy: which tensors train, their counts against the methods' formulas, and
/// gradients of the trainable tensors unchanged by freezing the rest.
final class TrainabilityTests: XCTestCase {
    let policies: [TrainabilityPolicy] = [.biases, .bitfitSubset, .topLayers(1), .topLayers(0), .frozen]

    /// MLM loss gradients of every parameter under `policy` (nil = frozen / no gradient).
    func gradients(_ fixture: String, _ policy: TrainabilityPolicy) throws -> [String: [Float]?] {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path(fixture))
        _ = model.applyTrainability(policy)
        let batch = try Fixtures.batch(try Fixtures.json("\(fixture)/golden.json"))
        let tape = Tape()
        var rng: SeededRNG? = nil
        let h = try model.encode(batch, training: false, rng: &rng, tape: tape)
        let logits = try model.mlmLogits(hidden: h, positions: [1, 2, 4], vocabularyRows: [4, 5, 6, 9], tape: tape)
        let loss = Ops.crossEntropy(logits, targets: [0, 2, 3], tape: tape)
        if loss.requiresGrad { tape.backward(loss) }
        return Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.tensor.grad) })
    }

    func testFrozenTensorsGetNoGradientAndTrainableOnesTheFullGradient() throws {
        for fixture in ["tiny-bert", "tiny-roberta", "tiny-albert", "tiny-albert-groups", "tiny-distilbert"] {
            let full = try gradients(fixture, .full)
            let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path(fixture))
            for policy in policies {
                let trainable = Set(model.applyTrainability(policy).trainable.map(\.name))
                let grads = try gradients(fixture, policy)
                for (name, g) in grads {
                    let tag = "\(fixture) \(policy) \(name)"
                    if trainable.contains(name) {
                        // A trainable tensor that the loss reaches has exactly the full-training gradient.
                        guard let expected = full[name]!, let got = g else { XCTAssertNil(full[name]!, tag); continue }
                        XCTAssertLessThanOrEqual(maxAbsDiff(got, expected), 1e-6 * max(1, expected.map(abs).max()!), tag)
                    } else {
                        XCTAssertNil(g, tag)
                    }
                }
            }
        }
    }

    func testTrainableCountsEqualTheFormulas() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        let c = model.config
        let (H, I, L, V) = (c.hiddenSize, c.intermediateSize, c.numLayers, c.vocabSize)
        let all = model.parameters.reduce(0) { $0 + $1.tensor.count }
        XCTAssertEqual(all, V * H + c.maxPositions * H + c.typeVocabSize * H + 2 * H
                       + L * (4 * (H * H + H) + 2 * H * I + I + H + 4 * H) + (H * H + H) + 2 * H + V)
        // BitFit: per layer q,k,v,o biases, two LayerNorm biases, two MLP biases; embedding LayerNorm
        // bias; head transform bias, head LayerNorm bias, decoder bias.
        XCTAssertEqual(model.applyTrainability(.biases).count, TrainableCount(trainable: L * (7 * H + I) + H + 2 * H + V, all: all))
        XCTAssertEqual(model.applyTrainability(.bitfitSubset).count.trainable, L * (H + I))
        // Top layer + head (transform and decoder bias; the tied decoder is the frozen embedding).
        let layer = 4 * (H * H + H) + 2 * H * I + I + H + 4 * H
        XCTAssertEqual(model.applyTrainability(.topLayers(1)).count.trainable, layer + (H * H + H) + 2 * H + V)
        XCTAssertEqual(model.applyTrainability(.topLayers(L)).count.trainable, L * layer + (H * H + H) + 2 * H + V)
        XCTAssertEqual(model.applyTrainability(.full).count.trainable, all)
        XCTAssertEqual(model.applyTrainability(.frozen).count.trainable, 0)
        // A task head always trains.
        let head = [(name: "classifier.weight", tensor: Tensor(zeros: [2, H]))]
        XCTAssertEqual(model.applyTrainability(.frozen, head: head).count, TrainableCount(trainable: 2 * H, all: all + 2 * H))
    }

    /// ALBERT's single shared layer is applied at every depth, so training the top layer trains it.
    func testSharedAlbertLayerCountsAtItsDeepestUse() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-albert"))
        let names = Set(model.applyTrainability(.topLayers(1)).trainable.map(\.name))
        XCTAssertTrue(names.contains("albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight"))
        XCTAssertFalse(names.contains("albert.encoder.embedding_hidden_mapping_in.weight"))
        XCTAssertFalse(names.contains("albert.embeddings.word_embeddings.weight"))
        let grouped = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-albert-groups"))
        let top = Set(grouped.applyTrainability(.topLayers(1)).trainable.map(\.name))
        // 4 layers over 2 groups of 2 inner layers: the top applied layer is group 1, inner layer 1.
        XCTAssertTrue(top.contains("albert.encoder.albert_layer_groups.1.albert_layers.1.ffn.weight"))
        XCTAssertFalse(top.contains("albert.encoder.albert_layer_groups.1.albert_layers.0.ffn.weight"))
        XCTAssertFalse(top.contains("albert.encoder.albert_layer_groups.0.albert_layers.1.ffn.weight"))
    }

    func testBitFitSubsetIsQueryAndFirstMLPBiasOnEveryArchitecture() throws {
        let expected: [String: [String]] = [
            "tiny-bert": ["bert.encoder.layer.0.attention.self.query.bias", "bert.encoder.layer.0.intermediate.dense.bias"],
            "tiny-distilbert": ["distilbert.transformer.layer.0.attention.q_lin.bias", "distilbert.transformer.layer.0.ffn.lin1.bias"],
            "tiny-albert": ["albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.bias",
                            "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.bias"],
        ]
        for (fixture, names) in expected {
            let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path(fixture))
            let got = model.applyTrainability(.bitfitSubset).trainable.map(\.name)
            XCTAssertEqual(Array(got.prefix(2)), names, fixture)
        }
    }

    func testParsingAndPEFTStyleSummary() {
        XCTAssertEqual(TrainabilityPolicy(parsing: "bitfit"), .biases)
        XCTAssertEqual(TrainabilityPolicy(parsing: "bitfit-subset"), .bitfitSubset)
        XCTAssertEqual(TrainabilityPolicy(parsing: "freeze:3"), .topLayers(3))
        XCTAssertEqual(TrainabilityPolicy(parsing: "full"), .full)
        XCTAssertNil(TrainabilityPolicy(parsing: "freeze:-1"))
        XCTAssertNil(TrainabilityPolicy(parsing: "freeze"))
        XCTAssertNil(TrainabilityPolicy(parsing: "lora2"))
        XCTAssertEqual(TrainableCount(trainable: 57018, all: 22_744_506).description,
                       "trainable params: 57,018 || all params: 22,744,506 || trainable%: 0.2507")
        XCTAssertEqual(TrainableCount(trainable: 999, all: 1000).description,
                       "trainable params: 999 || all params: 1,000 || trainable%: 99.9000")
    }
}
