import Foundation
import ClozeTensor

/// Prompt tuning (Lester et al. 2021; PEFT `PROMPT_TUNING`): n trainable virtual-token embeddings
/// prepended to every sequence (before [CLS]), with attention 1, token type 0, and position ids as
/// transformers gives `inputs_embeds` (sequential over the widened sequence).
public final class SoftPrompt {
    /// [n, E] (E = the word-embedding width; ALBERT's embedding_size).
    public let embeddings: Tensor
    public var count: Int { embeddings.shape[0] }

    /// P-tuning: the embeddings pass through this encoder before entering the model (nil = prompt tuning).
    public let encoder: PromptEncoder?

    public init(embeddings: Tensor, encoder: PromptEncoder? = nil) { self.embeddings = embeddings; self.encoder = encoder }

    /// The [n, E] virtual-token embeddings the model sees.
    public func table(tape: Tape?) -> Tensor { encoder.map { $0(embeddings, tape: tape) } ?? embeddings }

    /// PEFT's names: `prompt_embeddings` (prompt tuning), `prompt_encoder.embedding.weight` + the encoder's (P-tuning).
    public var parameters: [(name: String, tensor: Tensor)] {
        guard let encoder else { return [("prompt_embeddings", embeddings)] }
        return [("prompt_encoder.embedding.weight", embeddings)] + encoder.parameters
    }

    /// The same virtual tokens with the encoder folded in (what is saved and served).
    public func droppingEncoder() -> SoftPrompt {
        let t = table(tape: nil)
        return SoftPrompt(embeddings: Tensor(shape: t.shape, data: t.data, requiresGrad: true, name: "prompt_embeddings"))
    }

    /// n draws of N(0, 1) (Box–Muller: two values per pair of uniforms).
    static func standardNormal(_ n: Int, _ rng: inout SeededRNG) -> [Float] {
        var data = [Float](repeating: 0, count: n)
        for i in stride(from: 0, to: n, by: 2) {
            let u1 = max(rng.nextUniform(), 1e-7), u2 = rng.nextUniform()
            let r = (-2 * logf(u1)).squareRoot()
            data[i] = r * cosf(2 * .pi * u2)
            if i + 1 < n { data[i + 1] = r * sinf(2 * .pi * u2) }
        }
        return data
    }

    /// The model's word-embedding table as (V, E, rows → their values): the f32 parameter, or an NF4
    /// model's f16 table.
    static func wordTable(_ model: any MaskedLanguageModel) -> (V: Int, E: Int, rows: ([Int]) -> [Float])? {
        if let table = (model as? TransformerMaskedLM)?.embeddings.compactWord {
            return (table.rows, table.cols, { Ops.frozenRows(table, rows: $0).data })
        }
        guard let word = model.parameters.first(where: { $0.name.hasSuffix("embeddings.word_embeddings.weight") })?.tensor else { return nil }
        let e = word.shape[1]
        return (word.shape[0], e, { rows in rows.flatMap { word.data[($0 * e)..<(($0 + 1) * e)] } })
    }

    public enum Initialization: Sendable, Equatable {
        /// PEFT's RANDOM: nn.Embedding's N(0, 1).
        case random
        /// Embeddings of n vocabulary rows drawn uniformly (seeded) from the first `limit` ids (Lester et al.: 5,000).
        case vocabulary(limit: Int)
        /// PEFT's TEXT: the embeddings of these token ids, repeated / cut to n.
        case tokens([Int32])
    }

    /// A fresh prompt of `count` tokens for `model`, seeded.
    public convenience init(count: Int, model: any MaskedLanguageModel, initialization: Initialization, seed: UInt64) throws {
        guard count >= 1 else { throw ModelError.input("a soft prompt needs at least 1 virtual token, got \(count)") }
        guard let (V, E, wordRows) = Self.wordTable(model) else {
            throw ModelError.input("the model has no word-embedding table to size the soft prompt from")
        }
        var rng = SeededRNG(seed: seed)
        var data = [Float](repeating: 0, count: count * E)
        switch initialization {
        case .random:
            data = Self.standardNormal(data.count, &rng)
        case .vocabulary(let limit):
            let l = Swift.min(Swift.max(limit, 1), V)
            data = wordRows((0..<count).map { _ in Int(rng.next() % UInt64(l)) })
        case .tokens(let ids):
            guard !ids.isEmpty else { throw ModelError.input("the soft prompt's init text has no tokens") }
            if let bad = ids.first(where: { $0 < 0 || Int($0) >= V }) {
                throw ModelError.input("soft prompt init token id \(bad) is outside the vocabulary of \(V)")
            }
            data = wordRows((0..<count).map { Int(ids[$0 % ids.count]) })
        }
        self.init(embeddings: Tensor(shape: [count, E], data: data, requiresGrad: true, name: "prompt_embeddings"))
    }
}
