import ClozeTensor
import XCTest
@testable import ClozeModels

/// Tiny random checkpoints of every architecture against transformers: MLM logits of a padded
/// batch (1e-4 absolute) and the gradient of a masked-token cross-entropy with respect to every
/// parameter (per-tensor relative L2 error ||g - g_ref|| / ||g_ref|| < 1e-3).
final class TinyParityTests: XCTestCase {
    func testBertLogitsAndGradients() throws { try check("bert") }
    func testRobertaLogitsAndGradients() throws { try check("roberta") }
    func testAlbertLogitsAndGradients() throws { try check("albert") }
    func testDistilBertLogitsAndGradients() throws { try check("distilbert") }

    func check(_ arch: String) throws {
        let dir = Fixtures.path("tiny-\(arch)")
        let golden = try Fixtures.json("tiny-\(arch)/golden.json")
        let model = try ModelLoader.loadMaskedLM(directory: dir)
        let batch = try Fixtures.batch(golden)
        let V = golden["vocab"] as! Int
        XCTAssertEqual(model.config.vocabSize, V)

        // Logits at every real token, full vocabulary.
        var noRNG: SeededRNG? = nil
        let hidden = try model.encode(batch, training: false, rng: &noRNG, tape: nil)
        let real = batch.attentionMask.indices.filter { batch.attentionMask[$0] != 0 }
        let logits = try model.mlmLogits(hidden: hidden, positions: real, vocabularyRows: nil, tape: nil)
        XCTAssertEqual(logits.shape, [real.count, V])
        let all = Fixtures.floats(golden["logits"])
        let expected = real.flatMap { all[$0 * V ..< ($0 + 1) * V] }
        let diff = maxAbsDiff(logits.data, expected)
        XCTAssertLessThan(diff, 1e-4, "\(arch): MLM logits differ from transformers by \(diff)")

        // Only some vocabulary rows: same numbers as the full projection's columns.
        let rows = [5, 17, 3, 99, 17]
        let partial = try model.mlmLogits(hidden: hidden, positions: Array(real.prefix(4)), vocabularyRows: rows, tape: nil)
        for p in 0..<4 { for (j, r) in rows.enumerated() {
            XCTAssertEqual(partial.data[p * rows.count + j], logits.data[p * V + r], accuracy: 1e-5)
        } }

        // Gradients of the masked-LM loss (eval mode: no dropout) for every parameter.
        let labels = Fixtures.ints(golden["labels"])
        let positions = labels.indices.filter { labels[$0] >= 0 }
        let tape = Tape()
        let h = try model.encode(batch, training: false, rng: &noRNG, tape: tape)
        let l = try model.mlmLogits(hidden: h, positions: positions, vocabularyRows: nil, tape: tape)
        let loss = Ops.crossEntropy(l, targets: positions.map { labels[$0] }, tape: tape)
        XCTAssertEqual(loss.item, (golden["loss"] as! NSNumber).floatValue, accuracy: 1e-4)
        tape.backward(loss)

        let index = try Fixtures.json("tiny-\(arch)/grads.json")["parameters"] as! [[String: Any]]
        let reference = try Fixtures.bin("tiny-\(arch)/grads.bin", index: index)
        let ours = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.tensor) })
        XCTAssertEqual(Set(ours.keys), Set(reference.keys), "\(arch): parameter names differ from transformers' named_parameters()")
        var worst: (String, Float) = ("", 0)
        for (name, ref) in reference {
            guard let t = ours[name] else { continue }
            XCTAssertEqual(t.shape, ref.shape, name)
            let g = t.grad ?? [Float](repeating: 0, count: t.count)
            let refNorm = ref.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let err = refNorm < 1e-6 ? maxAbsDiff(g, ref.values) : relativeError(g, ref.values)
            if err > worst.1 { worst = (name, err) }
            XCTAssertLessThan(err, 1e-3, "\(arch): gradient of \(name) differs (relative L2 error \(err))")
        }
        print("\(arch): logits max|diff| \(diff), worst gradient relative error \(worst.1) (\(worst.0)), \(reference.count) parameters")
    }

    /// RoBERTa position ids: padding tokens get pad, real tokens pad+1, pad+2, ... (skipping pads).
    func testRobertaPositionIds() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-roberta"))
        let batch = try EncodedBatch(inputIds: [0, 7, 1, 9, 2, 1, 0, 5, 2, 1, 1, 1], attentionMask: [Float](repeating: 1, count: 12),
                                     batch: 2, seqLen: 6)
        XCTAssertEqual(try model.positionIds(batch), [2, 3, 1, 4, 5, 1, 2, 3, 4, 1, 1, 1])
    }

    func testSequenceClassificationHeadsMatchTransformers() throws {
        for arch in ["bert", "roberta"] {
            let golden = try Fixtures.json("tiny-\(arch)-cls/golden.json")
            let loaded = try ModelLoader.load(directory: Fixtures.path("tiny-\(arch)-cls"), mlmHead: .ifPresent, classificationLabels: 3)
            XCTAssertFalse(loaded.model.hasMLMHead)
            XCTAssertEqual(loaded.report.randomlyInitialized, [], "\(arch): head should come from the checkpoint")
            let batch = try Fixtures.batch(golden)
            var rng: SeededRNG? = nil
            let hidden = try loaded.model.encode(batch, training: false, rng: &rng, tape: nil)
            let logits = loaded.classifier!.logits(hidden: hidden, batch: batch.batch, seqLen: batch.seqLen, training: false, rng: &rng, tape: nil)
            let diff = maxAbsDiff(logits.data, Fixtures.floats(golden["logits"]))
            XCTAssertLessThan(diff, 1e-4, "\(arch) classification logits differ by \(diff)")
        }
    }

    func testClassificationHeadIsSeededRandomWhenAbsent() throws {
        let a = try ModelLoader.load(directory: Fixtures.path("tiny-bert"), classificationLabels: 2, seed: 5)
        let b = try ModelLoader.load(directory: Fixtures.path("tiny-bert"), classificationLabels: 2, seed: 5)
        let c = try ModelLoader.load(directory: Fixtures.path("tiny-bert"), classificationLabels: 2, seed: 6)
        XCTAssertEqual(a.report.randomlyInitialized.sorted(),
                       ["bert.pooler.dense.bias", "bert.pooler.dense.weight", "classifier.bias", "classifier.weight"])
        XCTAssertEqual(a.classifier!.parameters.map(\.tensor.data), b.classifier!.parameters.map(\.tensor.data))
        XCTAssertNotEqual(a.classifier!.parameters[0].tensor.data, c.classifier!.parameters[0].tensor.data)
        // N(0, 0.02) weights, zero biases.
        let w = a.classifier!.parameters.first { $0.name == "classifier.weight" }!.tensor.data
        let std = (w.reduce(0) { $0 + $1 * $1 } / Float(w.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.01)
        XCTAssertEqual(a.classifier!.parameters.first { $0.name == "classifier.bias" }!.tensor.data, [0, 0])
    }

    /// Dropout is seeded: the same seed gives the same training forward; eval ignores the RNG.
    func testDropoutIsSeededAndOffAtEval() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        let batch = try Fixtures.batch(try Fixtures.json("tiny-bert/golden.json"))
        var r1: SeededRNG? = SeededRNG(seed: 1), r2: SeededRNG? = SeededRNG(seed: 1), r3: SeededRNG? = SeededRNG(seed: 2)
        var none: SeededRNG? = nil
        let a = try model.encode(batch, training: true, rng: &r1, tape: nil).data
        let b = try model.encode(batch, training: true, rng: &r2, tape: nil).data
        let c = try model.encode(batch, training: true, rng: &r3, tape: nil).data
        var evalRNG: SeededRNG? = SeededRNG(seed: 1)
        let e = try model.encode(batch, training: false, rng: &evalRNG, tape: nil).data
        let e2 = try model.encode(batch, training: false, rng: &none, tape: nil).data
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertNotEqual(a, e)
        XCTAssertEqual(e, e2)
    }

    /// Frozen parameters get no gradient; the rest still do.
    func testFrozenParametersGetNoGradient() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        for (name, t) in model.parameters where !name.hasPrefix("cls.") { t.requiresGrad = false }
        let batch = try Fixtures.batch(try Fixtures.json("tiny-bert/golden.json"))
        let tape = Tape()
        var rng: SeededRNG? = nil
        let h = try model.encode(batch, training: false, rng: &rng, tape: tape)
        let loss = Ops.crossEntropy(try model.mlmLogits(hidden: h, positions: [1, 2], vocabularyRows: [4, 5, 6], tape: tape),
                                    targets: [0, 2], tape: tape)
        tape.backward(loss)
        for (name, t) in model.parameters {
            if name.hasPrefix("cls.") { XCTAssertNotNil(t.grad, name) } else { XCTAssertNil(t.grad, name) }
        }
    }

    /// save(to:) writes a checkpoint that loads back to the same numbers.
    func testSaveRoundTrip() throws {
        for arch in ["bert", "roberta", "albert", "distilbert"] {
            let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-\(arch)"))
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-save-\(arch)-\(getpid())").path
            defer { try? FileManager.default.removeItem(atPath: out) }
            try model.save(to: out)
            let again = try ModelLoader.loadMaskedLM(directory: out)
            XCTAssertEqual(again.parameters.map(\.name), model.parameters.map(\.name))
            for (a, b) in zip(model.parameters, again.parameters) { XCTAssertEqual(a.tensor.data, b.tensor.data, a.name) }
            XCTAssertEqual(again.config.architectures, [model.className])
        }
    }
}
