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
        func read(_ file: String) -> Data? { FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(file)) }
        let settings = try SentenceEncoderSettings.parse(pooling: read("1_Pooling/config.json"), modules: read("modules.json"),
                                                         sentenceBert: read("sentence_bert_config.json"), directory: directory)
        pooling = settings.pooling
        normalize = settings.normalize
        maxLength = min(settings.maxLength ?? 512, model.config.maxPositions)
    }

    /// Mean-pooled (or CLS) embeddings [B, H] of token-id sequences, on `tape` for training (no
    /// normalisation: SetFit's cosine loss does not need it). Pooling is a product with a constant
    /// [B, B·T] matrix, so its backward is the matmul's.
    public func pooled(_ sequences: [[Int32]], training: Bool, rng: inout SeededRNG?, tape: Tape?) throws -> Tensor {
        let batch = try EncodedBatch(sequences: sequences, padId: tokenizer.padTokenID ?? 0)
        let hidden = try model.encode(batch, training: training, rng: &rng, tape: tape)
        let T = batch.seqLen
        var weights = [Float](repeating: 0, count: sequences.count * sequences.count * T)
        for (b, s) in sequences.enumerated() {
            let n = pooling == .cls ? 1 : max(1, s.count)
            for t in 0..<n { weights[b * sequences.count * T + b * T + t] = 1 / Float(n) }
        }
        let p = Tensor(shape: [sequences.count, sequences.count * T], data: weights)
        return Ops.matmul(p, hidden, transposeA: false, transposeB: false, batch: 1, tape: tape)
    }

    /// Token ids with special tokens, cut to `maxLength` keeping the final special token (HF truncation).
    public func ids(_ text: String) -> [Int32] {
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

/// The sentence-transformers files around the transformer: pooling mode, a Normalize module, the
/// max sequence length. Absent files mean mean pooling, no normalisation, the model's own limit.
public struct SentenceEncoderSettings: Sendable, Equatable {
    public var pooling: SentenceEncoder.Pooling = .mean
    public var normalize = false
    public var maxLength: Int?
    public init(pooling: SentenceEncoder.Pooling = .mean, normalize: Bool = false, maxLength: Int? = nil) {
        self.pooling = pooling; self.normalize = normalize; self.maxLength = maxLength
    }

    public static func parse(pooling: Data?, modules: Data?, sentenceBert: Data?, directory: String) throws -> SentenceEncoderSettings {
        var s = SentenceEncoderSettings()
        func object(_ data: Data, _ file: String) throws -> Any {
            do { return try JSONSerialization.jsonObject(with: data) } catch {
                throw ModelError.io(file: (directory as NSString).appendingPathComponent(file), message: "not valid JSON: \(error.localizedDescription)")
            }
        }
        if let pooling {
            guard let o = try object(pooling, "1_Pooling/config.json") as? [String: Any] else {
                throw ModelError.io(file: directory + "/1_Pooling/config.json", message: "expected a JSON object")
            }
            if o["pooling_mode_cls_token"] as? Bool == true { s.pooling = .cls }
            for mode in ["pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens"] where o[mode] as? Bool == true {
                throw ModelError.io(file: directory + "/1_Pooling/config.json", message: "\(mode) is not supported (mean or CLS pooling only)")
            }
        }
        if let modules {
            guard let list = try object(modules, "modules.json") as? [[String: Any]] else {
                throw ModelError.io(file: directory + "/modules.json", message: "expected a JSON array of module objects")
            }
            s.normalize = list.contains { ($0["type"] as? String)?.hasSuffix("Normalize") == true }
        }
        if let sentenceBert {
            guard let o = try object(sentenceBert, "sentence_bert_config.json") as? [String: Any] else {
                throw ModelError.io(file: directory + "/sentence_bert_config.json", message: "expected a JSON object")
            }
            if let n = o["max_seq_length"] as? Int {
                guard n >= 2 else { throw ModelError.io(file: directory + "/sentence_bert_config.json", message: "max_seq_length \(n): expected at least 2") }
                s.maxLength = n
            }
        }
        return s
    }
}
