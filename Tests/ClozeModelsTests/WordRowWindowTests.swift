import XCTest
import ClozeTensor
@testable import ClozeModels

/// Training the word table through a window over the rows the inputs reach gives the numbers of
/// training the dense table (AdamW's decay of the other rows applied as one factor on close).
final class WordRowWindowTests: XCTestCase {
    let lr: Float = 1e-2, wd: Float = 0.1, steps = 3

    /// Every base parameter after `steps` AdamW steps on a loss of the final hidden states.
    func train(windowed: Bool) throws -> (params: [String: [Float]], windowRows: Int) {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert")) as! TransformerMaskedLM
        let batch = try Fixtures.batch(try Fixtures.json("tiny-bert/golden.json"))
        var (params, _) = model.applyTrainability(.full)
        var window: WordRowWindow?
        if windowed {
            let w = try model.openWordWindow(ids: Set(batch.inputIds))
            params = w.substituted(in: params)
            XCTAssertFalse(model.embeddings.word.requiresGrad)
            XCTAssertTrue(params.contains { $0.tensor === w.rows } && !params.contains { $0.tensor === model.embeddings.word })
            window = w
        }
        let opt = AdamW(parameters: params.map(\.tensor), learningRate: lr, weightDecay: wd)
        for _ in 0..<steps {
            let tape = Tape()
            var rng: SeededRNG? = nil
            let h = try model.encode(batch, training: false, rng: &rng, tape: tape)
            let loss = Ops.mean(Ops.mul(h, Ops.addScaled(h, h, alpha: 1, beta: 0.5, tape: tape), tape: tape), tape: tape)
            tape.backward(loss)
            opt.step(); opt.zeroGrad()
        }
        if window != nil { model.closeWordWindow(otherRowsDecay: Float.pow(1 - lr * wd, Float(steps))) }
        return (Dictionary(uniqueKeysWithValues: model.baseParameters.map { ($0.name, $0.tensor.data) }), window?.ids.count ?? 0)
    }

    func testWindowedTrainingEqualsDenseTraining() throws {
        let dense = try train(windowed: false), windowed = try train(windowed: true)
        let original = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert")) as! TransformerMaskedLM
        let V = original.config.vocabSize
        XCTAssertGreaterThan(windowed.windowRows, 0)
        XCTAssertLessThan(windowed.windowRows, V, "the window holds only the rows the batch reaches")
        for (name, values) in dense.params {
            let got = try XCTUnwrap(windowed.params[name], name)
            let scale = max(1, values.map(abs).max()!)
            XCTAssertLessThanOrEqual(maxAbsDiff(got, values), 2e-6 * scale, name)
        }
        // The training moved the rows it reached and only decayed the others.
        let wordName = try XCTUnwrap(original.baseParameters.first { $0.tensor === original.embeddings.word }).name
        let word = original.embeddings.word.data, trained = windowed.params[wordName]!
        let H = original.config.hiddenSize
        let batch = try Fixtures.batch(try Fixtures.json("tiny-bert/golden.json"))
        let untouched = try XCTUnwrap((0..<V).first { !batch.inputIds.contains(Int32($0)) })
        let decay = Float.pow(1 - lr * wd, Float(steps))
        for j in 0..<H { XCTAssertEqual(trained[untouched * H + j], word[untouched * H + j] * decay, accuracy: 1e-7) }
        let touched = Int(batch.inputIds[1])
        XCTAssertGreaterThan(maxAbsDiff(Array(trained[(touched * H)..<((touched + 1) * H)]), Array(word[(touched * H)..<((touched + 1) * H)]).map { $0 * decay }), 1e-4)
    }

    func testWindowRefusesBadUse() throws {
        let model = try ModelLoader.loadMaskedLM(directory: Fixtures.path("tiny-bert")) as! TransformerMaskedLM
        XCTAssertThrowsError(try model.openWordWindow(ids: [Int32(model.config.vocabSize)]))
        _ = try model.openWordWindow(ids: [1, 2, 3])
        XCTAssertThrowsError(try model.openWordWindow(ids: [1]), "one window at a time")
        let h = Tensor(shape: [1, model.config.hiddenSize], data: [Float](repeating: 0.1, count: model.config.hiddenSize))
        XCTAssertThrowsError(try model.mlmLogits(hidden: h, positions: [0], vocabularyRows: nil, tape: nil)) { error in
            XCTAssertTrue("\(error)".contains("window"), "\(error)")
        }
        model.closeWordWindow(otherRowsDecay: 1)
        XCTAssertNoThrow(try model.mlmLogits(hidden: h, positions: [0], vocabularyRows: nil, tape: nil))
    }
}
