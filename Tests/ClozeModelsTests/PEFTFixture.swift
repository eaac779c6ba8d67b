import XCTest
import ClozeTensor
@testable import ClozeModels

/// Readers for Tests/Fixtures/peft (scripts/make_peft_fixtures.py, peft's own injection and save).
enum PEFTFixture {
    static let directory = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/peft").path

    /// `<name>/lora.json`: logits, loss, gradients and counts PEFT computed (every Linear-wrapping method).
    static func json(_ name: String) throws -> [String: Any] {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: "\(directory)/\(name)/lora.json"),
                                 "run /tmp/venv/bin/python scripts/make_peft_fixtures.py")
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Verbalizer-style logits and the CE loss at the fixture's positions, recorded on `tape`.
    static func forward(_ model: any MaskedLanguageModel, base: String, _ f: [String: Any], tape: Tape?) throws -> (logits: Tensor, loss: Tensor) {
        let batch = try Fixtures.batch(try Fixtures.json("\(base)/golden.json"))
        var rng: SeededRNG? = nil
        let h = try model.encode(batch, training: false, rng: &rng, tape: tape)
        let logits = try model.mlmLogits(hidden: h, positions: Fixtures.ints(f["positions"]), vocabularyRows: Fixtures.ints(f["rows"]), tape: tape)
        return (logits, Ops.crossEntropy(logits, targets: Fixtures.ints(f["targets"]), tape: tape))
    }

    /// Loads `<base>-<method>` with PEFTAdapterFile.load and checks PEFT's count, logits, loss and every
    /// adapter gradient (1e-4), and that no frozen tensor gets a gradient.
    static func assertMatchesPEFT(base: String, method: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let name = "\(base)-\(method)"
        let f = try json(name)
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path(base))
        try PEFTAdapterFile.load(from: "\(directory)/\(name)", into: model)
        let (trainable, count) = model.applyTrainability(.frozen)
        XCTAssertEqual(count, TrainableCount(trainable: f["trainable"] as! Int, all: f["all"] as! Int), name, file: file, line: line)
        let tape = Tape()
        let (logits, loss) = try forward(model, base: base, f, tape: tape)
        XCTAssertLessThanOrEqual(maxAbsDiff(logits.data, Fixtures.floats(f["logits"])), 1e-4, name, file: file, line: line)
        XCTAssertEqual(loss.item, (f["loss"] as! NSNumber).floatValue, accuracy: 1e-5, name, file: file, line: line)
        tape.backward(loss)
        let expected = f["grads"] as! [String: Any]
        XCTAssertEqual(Set(trainable.map { "base_model.model." + $0.name }), Set(expected.keys), name, file: file, line: line)
        for (tensorName, t) in trainable {
            let want = Fixtures.floats(expected["base_model.model." + tensorName])
            XCTAssertLessThanOrEqual(maxAbsDiff(try XCTUnwrap(t.grad, tensorName), want), 1e-4, "\(name) \(tensorName)", file: file, line: line)
        }
        for (tensorName, t) in model.baseParameters { XCTAssertNil(t.grad, "frozen \(tensorName) got a gradient", file: file, line: line) }
    }
}
