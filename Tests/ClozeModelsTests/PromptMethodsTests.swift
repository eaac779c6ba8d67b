import XCTest
import ClozeTensor
@testable import ClozeModels

/// P-tuning (MLP / LSTM prompt encoders), prefix tuning (with and without the reparameterisation MLP,
/// ALBERT's per-step prefixes) and Houlsby adapters against the PyTorch references of
/// scripts/make_prompt_fixtures.py: logits, loss and every trainable gradient within 1e-4.
final class PromptMethodsTests: XCTestCase {
    static let peft = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/peft").path

    struct Case {
        let name: String
        let fixture: [String: Any]
        let tensors: SafeTensorsFile
        func tensor(_ n: String) throws -> Tensor {
            let e = try XCTUnwrap(tensors.entries[n], "\(name): no \(n)")
            return Tensor(shape: e.shape, data: try tensors.floats(e), requiresGrad: true, name: n)
        }
    }

    func load(_ name: String) throws -> Case {
        let dir = "\(Self.peft)/\(name)"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: dir + "/fixture.json"), "run /tmp/venv/bin/python scripts/make_prompt_fixtures.py")
        return Case(name: name, fixture: try JSONSerialization.jsonObject(with: data) as! [String: Any],
                    tensors: try SafeTensorsFile(path: dir + "/encoder.safetensors"))
    }

    /// Logits, loss, trainable count and every trainable gradient against the fixture.
    func assertMatches(_ model: TransformerMaskedLM, base: String, _ c: Case, file: StaticString = #filePath, line: UInt = #line) throws {
        let f = c.fixture
        let (trainable, count) = model.applyTrainability(.frozen)
        XCTAssertEqual(count.trainable, f["trainable"] as! Int, c.name, file: file, line: line)
        let tape = Tape()
        let (logits, loss) = try PEFTFixture.forward(model, base: base, f, tape: tape)
        XCTAssertLessThanOrEqual(maxAbsDiff(logits.data, Fixtures.floats(f["logits"])), 1e-4, c.name, file: file, line: line)
        let plain = try PEFTFixture.forward(try self.model(base), base: base, f, tape: nil).logits.data
        XCTAssertGreaterThan(maxAbsDiff(plain, logits.data), 1e-2, "\(c.name): the method must change the outputs", file: file, line: line)
        XCTAssertEqual(loss.item, (f["loss"] as! NSNumber).floatValue, accuracy: 1e-5, c.name, file: file, line: line)
        tape.backward(loss)
        let grads = f["grads"] as! [String: Any]
        XCTAssertEqual(Set(trainable.map(\.name)), Set(grads.keys), c.name, file: file, line: line)
        for (n, t) in trainable {
            XCTAssertLessThanOrEqual(maxAbsDiff(try XCTUnwrap(t.grad, n), Fixtures.floats(grads[n])), 1e-4, "\(c.name) \(n)", file: file, line: line)
        }
        for (n, t) in model.baseParameters { XCTAssertNil(t.grad, "frozen \(n) got a gradient", file: file, line: line) }
    }

    func model(_ base: String) throws -> TransformerMaskedLM {
        try XCTUnwrap(try ModelLoader.loadMaskedLM(directory: Fixtures.path(base)) as? TransformerMaskedLM)
    }

    func testPTuningMatchesPEFT() throws {
        for (base, kind) in [("tiny-bert", "mlp"), ("tiny-roberta", "mlp"), ("tiny-bert", "lstm"), ("tiny-roberta", "lstm")] {
            let c = try load("\(base)-ptuning-\(kind)")
            let m = try model(base)
            let encoder = try PromptEncoder(kind: PromptEncoder.Kind(rawValue: kind)!, width: m.config.hiddenSize,
                                            hidden: c.fixture["encoderHidden"] as! Int, seed: 0) { name, shape in
                let t = try c.tensor("prompt_encoder." + name)
                XCTAssertEqual(t.shape, shape, name)
                return t
            }
            m.softPrompt = SoftPrompt(embeddings: try c.tensor("prompt_encoder.embedding.weight"), encoder: encoder)
            try assertMatches(m, base: base, c)
            // PEFT's saved adapter holds the encoder's output; served without the encoder it gives the same logits.
            let served = try model(base)
            XCTAssertEqual(try PEFTAdapterFile.load(from: "\(Self.peft)/\(c.name)/adapter", into: served), .prompt(virtualTokens: c.fixture["virtualTokens"] as! Int))
            XCTAssertLessThanOrEqual(maxAbsDiff(try PEFTFixture.forward(served, base: base, c.fixture, tape: nil).logits.data,
                                                Fixtures.floats(c.fixture["logits"])), 1e-4, c.name)
        }
    }

    func testPrefixTuningMatchesTheReference() throws {
        for (base, name) in [("tiny-bert", "tiny-bert-prefix"), ("tiny-roberta", "tiny-roberta-prefix"),
                             ("tiny-bert", "tiny-bert-prefix-projection"), ("tiny-albert", "tiny-albert-prefix")] {
            let c = try load(name)
            let m = try model(base)
            XCTAssertEqual(m.appliedLayers, c.fixture["layers"] as! Int)
            var projection: PrefixPrompt.Projection?
            if (c.fixture["projection"] as! Int) > 0 {
                let p = "prefix_encoder.transform."
                projection = .init(hiddenWeight: try c.tensor(p + "0.weight"), hiddenBias: try c.tensor(p + "0.bias"),
                                   outputWeight: try c.tensor(p + "2.weight"), outputBias: try c.tensor(p + "2.bias"))
            }
            m.prefix = try PrefixPrompt(embedding: try c.tensor("prefix_encoder.embedding.weight"), projection: projection,
                                        steps: m.appliedLayers, width: m.config.hiddenSize)
            try assertMatches(m, base: base, c)
            let served = try model(base)
            XCTAssertEqual(try PEFTAdapterFile.load(from: "\(Self.peft)/\(name)/adapter", into: served), .prefix(virtualTokens: c.fixture["virtualTokens"] as! Int))
            XCTAssertLessThanOrEqual(maxAbsDiff(try PEFTFixture.forward(served, base: base, c.fixture, tape: nil).logits.data,
                                                Fixtures.floats(c.fixture["logits"])), 1e-4, name)
        }
    }

    func testHoulsbyAdaptersMatchTheReference() throws {
        for base in ["tiny-bert", "tiny-roberta"] {
            let c = try load("\(base)-houlsby")
            let m = try model(base)
            for (layer, slot) in m.adapterSlots {
                let p = slot.linear.name + ".adapter."
                slot.set(layer, BottleneckAdapter(down: try c.tensor(p + "down.weight"), downBias: try c.tensor(p + "down.bias"),
                                                  up: try c.tensor(p + "up.weight"), upBias: try c.tensor(p + "up.bias"), nonLinearity: .swish))
            }
            try assertMatches(m, base: base, c)
        }
    }

    /// Saved adapters load back to the same outputs; the saved prefix / P-tuning tokens are the
    /// reparameterised ones (the MLP / encoder is dropped); bad shapes give clear errors.
    func testSaveLoadRoundTripsAndErrors() throws {
        let c = try load("tiny-bert-prefix-projection")
        let m = try model("tiny-bert")
        try m.prefix = PrefixPrompt(virtualTokens: 4, projectionHidden: 12, model: m, seed: 3)
        XCTAssertEqual(m.applyTrainability(.frozen).1.trainable, 4 * 32 + 12 * 32 + 12 + 128 * 12 + 128)
        let before = try PEFTFixture.forward(m, base: "tiny-bert", c.fixture, tape: nil).logits.data
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-prefix-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PEFTAdapterFile.savePrefix(m, baseModel: "tiny-bert", to: dir)
        let served = try model("tiny-bert")
        XCTAssertEqual(try PEFTAdapterFile.load(from: dir, into: served), .prefix(virtualTokens: 4))
        XCTAssertEqual(try PEFTFixture.forward(served, base: "tiny-bert", c.fixture, tape: nil).logits.data, before)
        XCTAssertNil(served.prefix?.projection)
        // A prefix made for tiny-bert (2 layers) does not fit ALBERT's 3 steps.
        let albert = try model("tiny-albert")
        XCTAssertThrowsError(try PEFTAdapterFile.load(from: dir, into: albert)) { e in
            XCTAssertTrue("\(e)".contains("does not fit 3 layers"), "\(e)")
        }
        // Houlsby: identity at init, saved and reloaded exactly.
        let h = try model("tiny-bert")
        let plain = try PEFTFixture.forward(h, base: "tiny-bert", c.fixture, tape: nil).logits.data
        XCTAssertEqual(try BottleneckAdapterConfig().attach(to: h, seed: 1), 4)
        XCTAssertEqual(try PEFTFixture.forward(h, base: "tiny-bert", c.fixture, tape: nil).logits.data, plain)
        for (_, t) in h.bottleneckAdapterParameters where t.shape.count == 2 && t.shape[0] == 32 { t.data = t.data.indices.map { Float($0 % 7) * 0.01 } }
        let adapted = try PEFTFixture.forward(h, base: "tiny-bert", c.fixture, tape: nil).logits.data
        XCTAssertGreaterThan(maxAbsDiff(adapted, plain), 1e-4)
        let adir = dir + "-adapters"
        defer { try? FileManager.default.removeItem(atPath: adir) }
        try PEFTAdapterFile.saveBottleneckAdapters(h, config: BottleneckAdapterConfig(), baseModel: "tiny-bert", to: adir)
        let h2 = try model("tiny-bert")
        XCTAssertEqual(try PEFTAdapterFile.load(from: adir, into: h2), .bottleneckAdapters(modules: 4))
        XCTAssertEqual(try PEFTFixture.forward(h2, base: "tiny-bert", c.fixture, tape: nil).logits.data, adapted)
        XCTAssertThrowsError(try PEFTAdapterFile.load(from: adir, into: try model("tiny-roberta")))
    }

    func testTrainableCountsFollowTheirFormulas() throws {
        let m = try model("tiny-bert")   // H = 32, 2 layers
        m.softPrompt = SoftPrompt(embeddings: Tensor(zeros: [5, 32], requiresGrad: true),
                                  encoder: try PromptEncoder(kind: .lstm, width: 32, hidden: 8, seed: 1))
        // embedding n·E + 2 layers × 2 directions × 4h(in + h + 2) + MLP (2h·2h + 2h) + (2h·E + E)
        let lstm = 4 * 8 * (32 + 8 + 2) * 2 + 4 * 8 * (16 + 8 + 2) * 2
        XCTAssertEqual(m.applyTrainability(.frozen).1.trainable, 5 * 32 + lstm + (16 * 16 + 16) + (16 * 32 + 32))
        m.softPrompt = nil
        try BottleneckAdapterConfig().attach(to: m, seed: 1)   // m = 32/16 = 2 per adapter, 4 adapters
        XCTAssertEqual(m.applyTrainability(.frozen).1.trainable, 4 * (2 * 32 + 2 + 32 * 2 + 32))
    }
}
