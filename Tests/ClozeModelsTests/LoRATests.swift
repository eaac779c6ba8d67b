import XCTest
import ClozeTensor
@testable import ClozeModels

/// LoRA on the Linear injection point, against Hugging Face PEFT (Tests/Fixtures/peft, written by
/// scripts/make_peft_fixtures.py with peft's own injection and save_pretrained).
final class LoRATests: XCTestCase {
    static let peft = PEFTFixture.directory
    func fixture(_ name: String) throws -> [String: Any] { try PEFTFixture.json(name) }
    func forward(_ model: any MaskedLanguageModel, base: String, _ f: [String: Any], tape: Tape?) throws -> (logits: Tensor, loss: Tensor) {
        try PEFTFixture.forward(model, base: base, f, tape: tape)
    }

    func testPEFTAdapterLogitsGradientsAndCountsMatchPEFT() throws {
        for base in ["tiny-bert", "tiny-roberta"] {
            let f = try fixture("\(base)-lora")
            let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path(base))
            try PEFTAdapterFile.loadLoRA(from: "\(Self.peft)/\(base)-lora", into: model)
            let (trainable, count) = model.applyTrainability(.frozen)
            XCTAssertEqual(count, TrainableCount(trainable: f["trainable"] as! Int, all: f["all"] as! Int), base)
            let tape = Tape()
            let (logits, loss) = try forward(model, base: base, f, tape: tape)
            XCTAssertLessThanOrEqual(maxAbsDiff(logits.data, Fixtures.floats(f["logits"])), 1e-4, base)
            XCTAssertEqual(loss.item, (f["loss"] as! NSNumber).floatValue, accuracy: 1e-5, base)
            tape.backward(loss)
            let expected = f["grads"] as! [String: Any]
            XCTAssertEqual(Set(trainable.map { "base_model.model." + $0.name }), Set(expected.keys), base)
            for (name, t) in trainable {
                let want = Fixtures.floats(expected["base_model.model." + name])
                XCTAssertLessThanOrEqual(maxAbsDiff(try XCTUnwrap(t.grad, name), want), 1e-4, "\(base) \(name)")
            }
            for (name, t) in model.baseParameters { XCTAssertNil(t.grad, "frozen \(name) got a gradient") }
        }
    }

    func testMergeGivesTheSameLogitsAndUnmergeRestoresWeights() throws {
        let f = try fixture("tiny-roberta-lora")
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-roberta"))
        let before = model.linears.map(\.weight.data)
        try PEFTAdapterFile.loadLoRA(from: "\(Self.peft)/tiny-roberta-lora", into: model)
        let adapted = try forward(model, base: "tiny-roberta", f, tape: nil).logits.data
        for l in model.linears { (l.adapter as? LoRAAdapter)?.merge(into: l) }
        XCTAssertLessThanOrEqual(maxAbsDiff(try forward(model, base: "tiny-roberta", f, tape: nil).logits.data, adapted), 1e-5)
        XCTAssertNotEqual(model.linears.map(\.weight.data), before)
        for l in model.linears { (l.adapter as? LoRAAdapter)?.unmerge(from: l) }
        for (w, b) in zip(model.linears.map(\.weight.data), before) { XCTAssertLessThanOrEqual(maxAbsDiff(w, b), 1e-6) }
        LoRA.mergeAndUnload(model)
        XCTAssertTrue(model.linears.allSatisfy { $0.adapter == nil })
        XCTAssertLessThanOrEqual(maxAbsDiff(try forward(model, base: "tiny-roberta", f, tape: nil).logits.data, adapted), 1e-5)
    }

    /// A model saved with adapters attached is written merged and reloads to the same logits.
    func testSavingWithAdaptersWritesMergedWeights() throws {
        let f = try fixture("tiny-bert-lora")
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        try PEFTAdapterFile.loadLoRA(from: "\(Self.peft)/tiny-bert-lora", into: model)
        let adapted = try forward(model, base: "tiny-bert", f, tape: nil).logits.data
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-lora-merged-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try model.save(to: dir)
        let reloaded = try ModelLoader.loadMaskedLM(directory: dir)
        XCTAssertTrue(reloaded.linears.allSatisfy { $0.adapter == nil })
        XCTAssertLessThanOrEqual(maxAbsDiff(try forward(reloaded, base: "tiny-bert", f, tape: nil).logits.data, adapted), 1e-5)
    }

    func testFreshAdapterStartsAtTheBaseModelWithPEFTsParameterCount() throws {
        let f = try fixture("tiny-bert-lora")
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        let base = try forward(model, base: "tiny-bert", f, tape: nil).logits.data
        let names = try LoRA.attach(to: model, config: LoRAConfig(rank: 8, alpha: 16), seed: 3)
        XCTAssertEqual(names, ["bert.encoder.layer.0.attention.self.query", "bert.encoder.layer.0.attention.self.value",
                               "bert.encoder.layer.1.attention.self.query", "bert.encoder.layer.1.attention.self.value"])
        XCTAssertEqual(try forward(model, base: "tiny-bert", f, tape: nil).logits.data, base)   // B = 0
        let H = model.config.hiddenSize
        XCTAssertEqual(model.applyTrainability(.frozen).count.trainable, 4 * 8 * (H + H))
        // PEFT's kaiming-uniform bound for A, seeded.
        let a = (model.linears[0].adapter as! LoRAAdapter).a.data
        XCTAssertLessThanOrEqual(a.map(abs).max()!, 1 / Float(H).squareRoot())
        let again = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        try LoRA.attach(to: again, config: LoRAConfig(rank: 8, alpha: 16), seed: 3)
        XCTAssertEqual((again.linears[0].adapter as! LoRAAdapter).a.data, a)
    }

    /// Cloze writes PEFT's file: the same tensor names and values, and a config PEFT reads.
    func testSavedAdapterHasPEFTsLayout() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-roberta"))
        let config = try PEFTAdapterFile.loadLoRA(from: "\(Self.peft)/tiny-roberta-lora", into: model)
        // PEFT keeps target_modules as a set: its file order is arbitrary.
        XCTAssertEqual([config.rank], [2]); XCTAssertEqual(config.alpha, 5); XCTAssertEqual(config.dropout, 0)
        XCTAssertEqual(Set(config.targetModules ?? []), ["query", "key", "value", "dense"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-lora-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PEFTAdapterFile.saveLoRA(model, config: config, baseModel: "tiny-roberta", to: dir)
        let ours = try SafeTensorsFile(path: dir + "/adapter_model.safetensors")
        let theirs = try SafeTensorsFile(path: "\(Self.peft)/tiny-roberta-lora/adapter_model.safetensors")
        XCTAssertEqual(Set(ours.names), Set(theirs.names))
        for name in theirs.names { XCTAssertEqual(try ours.floats(name), try theirs.floats(name), name) }
        let json = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: dir + "/adapter_config.json"))) as! [String: Any]
        XCTAssertEqual(json["peft_type"] as? String, "LORA")
        XCTAssertEqual(json["r"] as? Int, 2)
        XCTAssertEqual(json["target_modules"] as? [String], config.targetModules)
        // Reloading Cloze's file gives the same adapter.
        let back = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-roberta"))
        XCTAssertEqual(try PEFTAdapterFile.loadLoRA(from: dir, into: back), config)
    }

    func testBadAdaptersAndTargetsGetClearErrors() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        XCTAssertThrowsError(try LoRA.attach(to: model, config: LoRAConfig(targetModules: ["q_proj"]), seed: 1)) {
            XCTAssertTrue("\($0)".contains("match no linear layer") && "\($0)".contains("attention.self.query"), "\($0)")
        }
        // The RoBERTa adapter on a BERT model: its module names do not exist here.
        XCTAssertThrowsError(try PEFTAdapterFile.loadLoRA(from: "\(Self.peft)/tiny-roberta-lora", into: model)) {
            XCTAssertTrue("\($0)".contains("roberta.encoder.layer.0.attention.self.key") && "\($0)".contains("wrong base model"), "\($0)")
        }
        XCTAssertTrue(model.linears.allSatisfy { $0.adapter == nil }, "a failed load attaches nothing")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-ia3-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"{"peft_type": "PREFIX_TUNING", "num_virtual_tokens": 4}"#.write(toFile: dir + "/adapter_config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PEFTAdapterFile.loadLoRA(from: dir, into: model)) {
            XCTAssertTrue("\($0)".contains("adapter_config.json") && "\($0)".contains("PREFIX_TUNING"), "\($0)")
        }
        XCTAssertThrowsError(try PEFTAdapterFile.loadLoRA(from: dir + "/missing", into: model)) {
            XCTAssertTrue("\($0)".contains("missing"), "\($0)")
        }
    }

    func testStackedBlocksOfUnequalSize() {
        let stacked = StackedLoRAAdapter(tasks: [nil, nil, nil])
        XCTAssertEqual(stacked.blockRanges(rows: 12), [0..<4, 4..<8, 8..<12], "equal blocks by default")
        stacked.blockSequences = [2, 0, 3]   // 5 sequences of 4 tokens
        XCTAssertEqual(stacked.blockRanges(rows: 20), [0..<8, 8..<8, 8..<20])
    }
}
