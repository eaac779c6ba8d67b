import Foundation
import XCTest
@testable import ClozeModels

/// Config/checkpoint mismatches and unknown architectures give errors naming the tensor and shapes.
final class LoaderErrorTests: XCTestCase {
    /// A copy of tiny-bert with config.json edited by `edit`.
    func copyOfTinyBert(_ tag: String, edit: (inout [String: Any]) -> Void) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloze-load-\(tag)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.path("tiny-bert/model.safetensors"), toPath: dir + "/model.safetensors")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny-bert/config.json")))) as! [String: Any]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        return dir
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    func testConfigSizesDisagreeWithTensors() throws {
        let dir = try copyOfTinyBert("sizes") { $0["intermediate_size"] = 48; $0["vocab_size"] = 100 }
        let m = message { _ = try ModelLoader.loadMaskedLM(directory: dir) }
        XCTAssertTrue(m.contains("bert.encoder.layer.0.intermediate.dense.weight' has shape [64, 32] but the config needs [48, 32]"), m)
        XCTAssertTrue(m.contains("bert.embeddings.word_embeddings.weight' has shape [120, 32] but the config needs [100, 32]"), m)
        XCTAssertTrue(m.contains("model.safetensors"), m)
    }

    func testMissingLayer() throws {
        let dir = try copyOfTinyBert("layers") { $0["num_hidden_layers"] = 3 }
        let m = message { _ = try ModelLoader.loadMaskedLM(directory: dir) }
        XCTAssertTrue(m.contains("missing tensor 'bert.encoder.layer.2.attention.self.query.weight' (expected shape [32, 32])"), m)
    }

    func testUnexpectedTensors() throws {
        let dir = try copyOfTinyBert("extra") { $0["num_hidden_layers"] = 1 }
        let m = message { _ = try ModelLoader.loadMaskedLM(directory: dir) }
        XCTAssertTrue(m.contains("unexpected tensor 'bert.encoder.layer.1.output.dense.weight'"), m)
        XCTAssertNoThrow(try ModelLoader.load(directory: dir, allowUnexpected: true))
    }

    func testUnknownArchitecture() throws {
        let dir = try copyOfTinyBert("arch") { $0["model_type"] = "gpt2"; $0["architectures"] = ["GPT2LMHeadModel"] }
        let m = message { _ = try ModelLoader.loadMaskedLM(directory: dir) }
        XCTAssertTrue(m.contains("unsupported model architecture"), m)
        XCTAssertTrue(m.contains("gpt2") && m.contains("roberta") && m.contains("albert") && m.contains("distilbert"), m)
        XCTAssertTrue(m.contains("config.json"), m)
    }

    func testBadConfigValues() throws {
        let heads = try copyOfTinyBert("heads") { $0["num_attention_heads"] = 5 }
        XCTAssertTrue(message { _ = try ModelLoader.loadMaskedLM(directory: heads) }.contains("not divisible by 5 attention heads"))
        let act = try copyOfTinyBert("act") { $0["hidden_act"] = "swish" }
        XCTAssertTrue(message { _ = try ModelLoader.loadMaskedLM(directory: act) }.contains("'hidden_act' = \"swish\" is not supported") ||
                      message { _ = try ModelLoader.loadMaskedLM(directory: act) }.contains("swish"))
        let type = try copyOfTinyBert("type") { $0["hidden_size"] = "big" }
        XCTAssertTrue(message { _ = try ModelLoader.loadMaskedLM(directory: type) }.contains("'hidden_size' must be an integer"))
        XCTAssertTrue(message { _ = try ModelLoader.loadMaskedLM(directory: "/nonexistent/model") }.contains("cannot read config.json"))
        let negative = try copyOfTinyBert("negative") { $0["type_vocab_size"] = -2; $0["num_hidden_layers"] = 0 }
        let m = message { _ = try ModelLoader.loadMaskedLM(directory: negative) }
        XCTAssertTrue(m.contains("type_vocab_size must not be negative") && m.contains("layers must be positive"), m)
    }

    func testEncoderOnlyCheckpointHasNoMLMHead() throws {
        let dir = try copyOfTinyBert("cls") { _ in }
        try FileManager.default.removeItem(atPath: dir + "/model.safetensors")
        try FileManager.default.copyItem(atPath: Fixtures.path("tiny-bert-cls/model.safetensors"), toPath: dir + "/model.safetensors")
        let m = message { _ = try ModelLoader.loadMaskedLM(directory: dir) }
        XCTAssertTrue(m.contains("no MLM head") && m.contains("cls.predictions.bias"), m)
        let loaded = try ModelLoader.load(directory: dir, mlmHead: .ifPresent)
        XCTAssertTrue(loaded.report.ignored.contains("classifier.weight"))
        XCTAssertTrue(loaded.report.ignored.contains("bert.pooler.dense.weight"))
        let hidden = try loaded.model.encode(try EncodedBatch(sequences: [[2, 7, 3]], padId: 0), training: false,
                                             rng: &noRNG, tape: nil)
        XCTAssertTrue(message { _ = try loaded.model.mlmLogits(hidden: hidden, positions: [1], vocabularyRows: nil, tape: nil) }.contains("no MLM head"))
    }

    var noRNG: ClozeTensor.SeededRNG? = nil

    func testBadInputsThrow() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert"))
        var rng: ClozeTensor.SeededRNG? = nil
        XCTAssertTrue(message { _ = try model.encode(try EncodedBatch(sequences: [[2, 500, 3]], padId: 0), training: false, rng: &rng, tape: nil) }
                        .contains("token id 500"))
        let long = [Int32](repeating: 5, count: 41)
        XCTAssertTrue(message { _ = try model.encode(try EncodedBatch(sequences: [long], padId: 0), training: false, rng: &rng, tape: nil) }
                        .contains("max_position_embeddings"))
        let h = try model.encode(try EncodedBatch(sequences: [[2, 7, 3]], padId: 0), training: false, rng: &rng, tape: nil)
        XCTAssertTrue(message { _ = try model.mlmLogits(hidden: h, positions: [3], vocabularyRows: nil, tape: nil) }.contains("position 3"))
        XCTAssertTrue(message { _ = try model.mlmLogits(hidden: h, positions: [1], vocabularyRows: [120], tape: nil) }.contains("row 120"))
        XCTAssertTrue(message { _ = try EncodedBatch(inputIds: [1, 2], attentionMask: [1], batch: 1, seqLen: 2) }.contains("needs 2"))
    }
}

import ClozeTensor
