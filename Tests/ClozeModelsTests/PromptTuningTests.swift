import XCTest
import ClozeTensor
@testable import ClozeModels

/// Prompt tuning (virtual tokens before each sequence) against PEFT's PROMPT_TUNING on tiny BERT and
/// RoBERTa (Tests/Fixtures/peft/*-prompt, scripts/make_peft_fixtures.py).
final class PromptTuningTests: XCTestCase {
    static let peft = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/peft").path

    func fixture(_ name: String) throws -> [String: Any] {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: "\(Self.peft)/\(name)/prompt.json"),
                                 "run /tmp/venv/bin/python scripts/make_peft_fixtures.py")
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func forward(_ model: any MaskedLanguageModel, base: String, _ f: [String: Any], tape: Tape?) throws -> (logits: Tensor, loss: Tensor) {
        let batch = try Fixtures.batch(try Fixtures.json("\(base)/golden.json"))
        var rng: SeededRNG? = nil
        let h = try model.encode(batch, training: false, rng: &rng, tape: tape)
        XCTAssertEqual(h.shape, [batch.batch * batch.seqLen, model.config.hiddenSize], "hidden states keep the caller's layout")
        let logits = try model.mlmLogits(hidden: h, positions: Fixtures.ints(f["positions"]), vocabularyRows: Fixtures.ints(f["rows"]), tape: tape)
        return (logits, Ops.crossEntropy(logits, targets: Fixtures.ints(f["targets"]), tape: tape))
    }

    func testLogitsAndPromptGradientMatchPEFT() throws {
        for base in ["tiny-bert", "tiny-roberta"] {
            let f = try fixture("\(base)-prompt")
            let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path(base))
            XCTAssertEqual(try PEFTAdapterFile.load(from: "\(Self.peft)/\(base)-prompt", into: model),
                           .prompt(virtualTokens: f["virtualTokens"] as! Int))
            let (trainable, count) = model.applyTrainability(.frozen)
            XCTAssertEqual(trainable.map(\.name), ["prompt_embeddings"])
            XCTAssertEqual(count.trainable, (f["virtualTokens"] as! Int) * model.config.hiddenSize)
            let tape = Tape()
            let (logits, loss) = try forward(model, base: base, f, tape: tape)
            XCTAssertLessThanOrEqual(maxAbsDiff(logits.data, Fixtures.floats(f["logits"])), 1e-4, base)
            XCTAssertEqual(loss.item, (f["loss"] as! NSNumber).floatValue, accuracy: 1e-5, base)
            tape.backward(loss)
            XCTAssertLessThanOrEqual(maxAbsDiff(try XCTUnwrap(model.softPrompt?.embeddings.grad), Fixtures.floats(f["grad"])), 1e-4, base)
            for (name, t) in model.baseParameters { XCTAssertNil(t.grad, "frozen \(name) got a gradient") }
        }
    }

    func testThePromptChangesOutputsAndSavesInPEFTsLayout() throws {
        let f = try fixture("tiny-bert-prompt")
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        let plain = try forward(model, base: "tiny-bert", f, tape: nil).logits.data
        try PEFTAdapterFile.load(from: "\(Self.peft)/tiny-bert-prompt", into: model)
        let prompted = try forward(model, base: "tiny-bert", f, tape: nil).logits.data
        XCTAssertGreaterThan(maxAbsDiff(plain, prompted), 1e-3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-prompt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PEFTAdapterFile.savePrompt(model, baseModel: "tiny-bert", to: dir)
        let ours = try SafeTensorsFile(path: dir + "/adapter_model.safetensors")
        let theirs = try SafeTensorsFile(path: "\(Self.peft)/tiny-bert-prompt/adapter_model.safetensors")
        XCTAssertEqual(ours.names, theirs.names)
        XCTAssertEqual(try ours.floats("prompt_embeddings"), try theirs.floats("prompt_embeddings"))
        let json = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: dir + "/adapter_config.json"))) as! [String: Any]
        XCTAssertEqual(json["peft_type"] as? String, "PROMPT_TUNING")
        XCTAssertEqual(json["task_type"] as? String, "TOKEN_CLS")
        XCTAssertEqual(json["num_virtual_tokens"] as? Int, 3)
        XCTAssertEqual(json["token_dim"] as? Int, 32)
    }

    func testInitialisationsAreSeededAndFromTheVocabulary() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        let word = model.baseParameters.first { $0.name == "bert.embeddings.word_embeddings.weight" }!.tensor
        let H = model.config.hiddenSize
        let text = try SoftPrompt(count: 5, model: model, initialization: .tokens([7, 9]), seed: 1)
        XCTAssertEqual(Array(text.embeddings.data[0..<H]), Array(word.data[(7 * H)..<(8 * H)]))
        XCTAssertEqual(Array(text.embeddings.data[(3 * H)..<(4 * H)]), Array(word.data[(9 * H)..<(10 * H)]))
        let a = try SoftPrompt(count: 4, model: model, initialization: .vocabulary(limit: 50), seed: 2)
        let b = try SoftPrompt(count: 4, model: model, initialization: .vocabulary(limit: 50), seed: 2)
        XCTAssertEqual(a.embeddings.data, b.embeddings.data)
        let rows = (0..<120).map { Array(word.data[($0 * H)..<(($0 + 1) * H)]) }
        for i in 0..<4 { XCTAssertTrue(rows.prefix(50).contains(Array(a.embeddings.data[(i * H)..<((i + 1) * H)]))) }
        let r = try SoftPrompt(count: 64, model: model, initialization: .random, seed: 3).embeddings.data
        let mean = r.reduce(0, +) / Float(r.count), variance = r.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(r.count)
        XCTAssertEqual(mean, 0, accuracy: 0.05)
        XCTAssertEqual(variance, 1, accuracy: 0.1)   // PEFT RANDOM: nn.Embedding's N(0, 1)
        XCTAssertThrowsError(try SoftPrompt(count: 2, model: model, initialization: .tokens([500]), seed: 1)) {
            XCTAssertTrue("\($0)".contains("outside the vocabulary"), "\($0)")
        }
    }

    func testWrongWidthAndTooLongInputsAreClearErrors() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-albert"))   // E = 16, the prompt is 32 wide
        XCTAssertThrowsError(try PEFTAdapterFile.load(from: "\(Self.peft)/tiny-bert-prompt", into: model)) {
            XCTAssertTrue("\($0)".contains("does not fit word embeddings of width 16"), "\($0)")
        }
        let bert = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        bert.softPrompt = try SoftPrompt(count: 5, model: bert, initialization: .random, seed: 1)
        let long = try EncodedBatch(sequences: [[Int32](repeating: 5, count: 38)], padId: 0)   // 38 + 5 > 40 positions
        var rng: SeededRNG? = nil
        XCTAssertThrowsError(try bert.encode(long, training: false, rng: &rng, tape: nil)) {
            XCTAssertTrue("\($0)".contains("max_position_embeddings"), "\($0)")
        }
    }
}
