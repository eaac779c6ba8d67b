import ClozeTensor
import ClozeTokenizers
import Foundation

/// A sentence-transformers model directory (e.g. all-MiniLM-L6-v2) run by Cloze's engine: the
/// transformer's last hidden states, mean- or CLS-pooled as `1_Pooling/config.json` says, L2-normalised
/// when `modules.json` lists a Normalize module; inputs cut to `sentence_bert_config.json`'s
/// max_seq_length. LM-BFF filters demonstrations by the cosine of such embeddings.
public final class SentenceEncoder {
    public enum Pooling: String, Sendable { case mean, cls }
    public let model: TransformerMaskedLM
    public let tokenizer: Tokenizer
    public let pooling: Pooling
    public let normalize: Bool
    public let maxLength: Int
    public let directory: String
    public var dimension: Int { model.config.hiddenSize }

    public init(directory: String) throws {
        self.directory = directory
        model = try ModelLoader.load(directory: directory, mlmHead: .ifPresent, allowUnexpected: false).model
        tokenizer = try Tokenizer.load(directory: URL(fileURLWithPath: directory))
        let pool = try Self.json(directory, "1_Pooling/config.json")
        pooling = (pool?["pooling_mode_cls_token"] as? Bool) == true ? .cls : .mean
        let modules = try Self.jsonArray(directory, "modules.json") ?? []
        normalize = modules.contains { ($0["type"] as? String)?.hasSuffix("Normalize") == true }
        let limit = (try Self.json(directory, "sentence_bert_config.json"))?["max_seq_length"] as? Int
        maxLength = min(limit ?? 512, model.config.maxPositions)
    }

    static func json(_ dir: String, _ file: String) throws -> [String: Any]? {
        let path = (dir as NSString).appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelError.io(file: path, message: "not a JSON object")
        }
        return obj
    }

    static func jsonArray(_ dir: String, _ file: String) throws -> [[String: Any]]? {
        let path = (dir as NSString).appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw ModelError.io(file: path, message: "not a JSON array of modules")
        }
        return obj
    }

    /// Token ids with special tokens, cut to `maxLength` keeping the final special token (HF truncation).
    func ids(_ text: String) -> [Int32] {
        var ids = tokenizer.encode(text).ids
        if ids.count > maxLength, let last = ids.last { ids.removeLast(ids.count - maxLength + 1); ids.append(last) }
        return ids
    }

    /// Embeddings [texts.count × dimension], row-major, in the order of `texts`; batches are formed from
    /// length-sorted texts so little padding is computed.
    public func embed(_ texts: [String], batchSize: Int = 32, progress: ((Int) -> Void)? = nil) throws -> [Float] {
        let H = dimension, pad = tokenizer.padTokenID ?? 0
        let encoded = texts.map(ids)
        let order = encoded.indices.sorted { encoded[$0].count < encoded[$1].count }
        var out = [Float](repeating: 0, count: texts.count * H)
        var noRNG: SeededRNG? = nil
        for start in stride(from: 0, to: order.count, by: max(1, batchSize)) {
            let idx = Array(order[start..<min(start + max(1, batchSize), order.count)])
            let batch = try EncodedBatch(sequences: idx.map { encoded[$0] }, padId: pad)
            let hidden = try model.encode(batch, training: false, rng: &noRNG, tape: nil)
            hidden.data.withUnsafeBufferPointer { h in
                out.withUnsafeMutableBufferPointer { o in
                    for (b, i) in idx.enumerated() { pool(h.baseAddress!, row: b, length: encoded[i].count, seqLen: batch.seqLen, into: o.baseAddress! + i * H) }
                }
            }
            progress?(start + idx.count)
        }
        return out
    }

    /// Pools one sequence's hidden rows (its first `length` positions are real tokens) into `dst`.
    func pool(_ hidden: UnsafePointer<Float>, row b: Int, length: Int, seqLen: Int, into dst: UnsafeMutablePointer<Float>) {
        let H = dimension, base = hidden + b * seqLen * H
        switch pooling {
        case .cls:
            Vectorized.scale(dst, base, by: 1, count: H)
        case .mean:
            Vectorized.scale(dst, base, by: 1, count: H)
            for t in 1..<max(1, length) { Vectorized.addInPlace(dst, base + t * H, count: H) }
            Vectorized.scale(dst, dst, by: 1 / Float(max(1, length)), count: H)
        }
        guard normalize else { return }
        let norm = Vectorized.dot(dst, dst, count: H).squareRoot()
        Vectorized.scale(dst, dst, by: 1 / max(norm, 1e-12), count: H)
    }
}
