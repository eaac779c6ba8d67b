import XCTest
import ClozeTensor
@testable import ClozeModels

/// DoRA and (IA)³ on the Linear injection point, against Hugging Face PEFT 0.21.2 fixtures.
final class DoRAIA3Tests: XCTestCase {
    let peft = PEFTFixture.directory

    func testDoRAAndIA3MatchPEFTLogitsGradientsAndCounts() throws {
        for base in ["tiny-bert", "tiny-roberta"] { try PEFTFixture.assertMatchesPEFT(base: base, method: "dora") }
        for base in ["tiny-bert", "tiny-roberta", "tiny-distilbert"] { try PEFTFixture.assertMatchesPEFT(base: base, method: "ia3") }
    }

    /// Merging folds the adapter into W (and, for output-scaling (IA)³, into b): same logits; a model
    /// saved with adapters reloads as a plain checkpoint with the same logits; DoRA unmerges exactly.
    func testMergeAndMergedSaveGiveTheAdaptedLogits() throws {
        for (base, method) in [("tiny-roberta", "dora"), ("tiny-bert", "ia3"), ("tiny-distilbert", "ia3")] {
            let f = try PEFTFixture.json("\(base)-\(method)")
            let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path(base))
            let before = model.linears.map(\.weight.data)
            try PEFTAdapterFile.load(from: "\(peft)/\(base)-\(method)", into: model)
            let adapted = try PEFTFixture.forward(model, base: base, f, tape: nil).logits.data
            XCTAssertGreaterThan(maxAbsDiff(adapted, try PEFTFixture.forward(ModelLoader.loadMaskedLM(directory: Fixtures.path(base)), base: base, f, tape: nil).logits.data), 1e-2, "the adapter matters")
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-\(method)-merged-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try model.save(to: dir)
            let reloaded = try ModelLoader.loadMaskedLM(directory: dir)
            XCTAssertLessThanOrEqual(maxAbsDiff(try PEFTFixture.forward(reloaded, base: base, f, tape: nil).logits.data, adapted), 1e-5, "\(base) \(method)")
            guard method == "dora" else { continue }
            for l in model.linears { (l.adapter as? LoRAAdapter)?.merge(into: l) }
            XCTAssertLessThanOrEqual(maxAbsDiff(try PEFTFixture.forward(model, base: base, f, tape: nil).logits.data, adapted), 1e-5)
            for l in model.linears { (l.adapter as? LoRAAdapter)?.unmerge(from: l) }
            XCTAssertEqual(model.linears.map(\.weight.data), before)
        }
    }

    func testFreshAdaptersStartAtTheBaseModelWithTheirFormulaCounts() throws {
        let f = try PEFTFixture.json("tiny-bert-dora")
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        let base = try PEFTFixture.forward(model, base: "tiny-bert", f, tape: nil).logits.data
        var config = LoRAConfig(rank: 4, alpha: 8)
        config.useDoRA = true
        try LoRA.attach(to: model, config: config, seed: 5)
        XCTAssertLessThanOrEqual(maxAbsDiff(try PEFTFixture.forward(model, base: "tiny-bert", f, tape: nil).logits.data, base), 1e-5)
        let H = model.config.hiddenSize, I = model.config.intermediateSize
        // DoRA = LoRA's r·(in + out) plus one magnitude per output row, for query and value of 2 layers.
        XCTAssertEqual(model.applyTrainability(.frozen).count.trainable, 4 * (4 * (H + H) + H))
        let q = model.linears[0], dora = q.adapter as! LoRAAdapter
        XCTAssertEqual(dora.magnitude!.data, LoRAAdapter.rowNorms(q.weight.data, columns: H))

        let plain = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        let names = try IA3.attach(to: plain, config: IA3Config())
        XCTAssertEqual(names.count, 8)
        XCTAssertEqual(try PEFTFixture.forward(plain, base: "tiny-bert", f, tape: nil).logits.data, base)
        // key + value scale outputs (H each); attention.output.dense (in H) and output.dense (in I) scale inputs.
        XCTAssertEqual(plain.applyTrainability(.frozen).count.trainable, 2 * (H + H + H + I))
    }

    /// DoRA with active dropout follows PEFT's training path: base(x) + (m/n − 1)·x̃·Wᵀ + (m/n)·s·B·A·x̃.
    func testDoRADropoutPathFollowsPEFTsFormula() throws {
        var rng = SeededRNG(seed: 9)
        func random(_ shape: [Int]) -> Tensor { Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.nextUniform() - 0.5 }) }
        let linear = Linear(name: "l", weight: random([5, 7]), bias: random([5]))
        let adapter = LoRAAdapter(a: random([2, 7]), b: random([5, 2]), scaling: 1.5, dropout: 0.3, magnitude: random([5]))
        linear.adapter = adapter
        let x = random([3, 7])
        var r1: SeededRNG? = SeededRNG(seed: 4), r2: SeededRNG? = SeededRNG(seed: 4)
        let y = linear.forward(x, training: true, rng: &r1, tape: nil).data
        let xd = Ops.dropout(x, p: 0.3, rng: &r2, tape: nil)
        XCTAssertNotEqual(xd.data, x.data)
        let n = adapter.weightNorm(linear), w = linear.weight.data, bias = linear.bias!.data
        let ba = adapter.delta()
        for i in 0..<3 {
            for o in 0..<5 {
                var base = bias[o], direction: Float = 0, update: Float = 0
                for k in 0..<7 {
                    base += x.data[i * 7 + k] * w[o * 7 + k]
                    direction += xd.data[i * 7 + k] * w[o * 7 + k]
                    update += xd.data[i * 7 + k] * ba[o * 7 + k]      // ba already carries s
                }
                let f = adapter.magnitude!.data[o] / n[o]
                XCTAssertEqual(y[i * 5 + o], base + (f - 1) * direction + f * update, accuracy: 1e-5)
            }
        }
    }

    /// Cloze's DoRA and (IA)³ files have PEFT's names and values, and reload to the same adapter.
    func testSavedFilesHavePEFTsLayout() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        let config = try PEFTAdapterFile.loadLoRA(from: "\(peft)/tiny-bert-dora", into: model)
        XCTAssertTrue(config.useDoRA)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-dora-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PEFTAdapterFile.saveLoRA(model, config: config, baseModel: "tiny-bert", to: dir + "/dora")
        try assertSameTensors(dir + "/dora", "\(peft)/tiny-bert-dora")
        let json = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: dir + "/dora/adapter_config.json"))) as! [String: Any]
        XCTAssertEqual(json["use_dora"] as? Bool, true)

        let ia3 = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-roberta"))
        XCTAssertEqual(try PEFTAdapterFile.load(from: "\(peft)/tiny-roberta-ia3", into: ia3), .ia3(modules: 8))
        try PEFTAdapterFile.saveIA3(ia3, baseModel: "tiny-roberta", to: dir + "/ia3")
        try assertSameTensors(dir + "/ia3", "\(peft)/tiny-roberta-ia3")
        let back = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-roberta"))
        XCTAssertEqual(try PEFTAdapterFile.load(from: dir + "/ia3", into: back), .ia3(modules: 8))
        XCTAssertEqual(back.linears.compactMap { ($0.adapter as? IA3Adapter)?.isFeedforward }, ia3.linears.compactMap { ($0.adapter as? IA3Adapter)?.isFeedforward })
    }

    func assertSameTensors(_ ours: String, _ theirs: String) throws {
        let a = try SafeTensorsFile(path: ours + "/adapter_model.safetensors")
        let b = try SafeTensorsFile(path: theirs + "/adapter_model.safetensors")
        XCTAssertEqual(Set(a.names), Set(b.names))
        for name in b.names { XCTAssertEqual(try a.floats(name), try b.floats(name), name) }
    }

    func testBadDoRAAndIA3FilesGetClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-bad-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // A DoRA config over plain LoRA tensors: the magnitudes are missing.
        let config = try String(contentsOfFile: "\(peft)/tiny-bert-lora/adapter_config.json", encoding: .utf8)
            .replacingOccurrences(of: "\"use_dora\": false", with: "\"use_dora\": true")
        try config.write(toFile: dir + "/adapter_config.json", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: "\(peft)/tiny-bert-lora/adapter_model.safetensors", toPath: dir + "/adapter_model.safetensors")
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        XCTAssertThrowsError(try PEFTAdapterFile.load(from: dir, into: model)) {
            XCTAssertTrue("\($0)".contains("lora_magnitude_vector is missing") && "\($0)".contains("adapter_model.safetensors"), "\($0)")
        }
        // BERT's (IA)³ file on DistilBERT: module names that do not exist.
        XCTAssertThrowsError(try PEFTAdapterFile.load(from: "\(peft)/tiny-bert-ia3", into: try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-distilbert")))) {
            XCTAssertTrue("\($0)".contains("wrong base model"), "\($0)")
        }
        XCTAssertThrowsError(try IA3.attach(to: model, config: IA3Config(targetModules: ["key"], feedforwardModules: ["output.dense"]))) {
            XCTAssertTrue("\($0)".contains("not among the target modules"), "\($0)")
        }
        XCTAssertTrue(model.linears.allSatisfy { $0.adapter == nil }, "failed loads attach nothing")
    }
}
