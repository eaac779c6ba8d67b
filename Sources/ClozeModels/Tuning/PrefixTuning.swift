import Foundation
import ClozeTensor

/// Prefix tuning / deep prompts (Li & Liang 2021; P-tuning v2; PEFT `PREFIX_TUNING`): n trainable key
/// and value vectors put before every sequence's keys and values in every applied layer (ALBERT's
/// shared layer gets its own prefix at each step of its schedule). Queries, positions and the output
/// layout are untouched; only attention sees the extra keys, and they are never masked.
///
/// Storage follows PEFT: one table [n, L·2·H] whose row i holds, for step l, the key of virtual token
/// i in columns [2l·H, (2l+1)·H) and its value in [(2l+1)·H, (2l+2)·H), heads concatenated. With
/// `projection` (PEFT `prefix_projection`, Li & Liang's reparameterisation) the table is
/// MLP(embedding [n, H]) = Linear(H→h) → tanh → Linear(h→L·2·H); `droppingProjection()` keeps only
/// the table computed from it, which is what is saved.
public final class PrefixPrompt {
    public struct Projection {
        public let hiddenWeight: Tensor, hiddenBias: Tensor   // transform.0: [h, H], [h]
        public let outputWeight: Tensor, outputBias: Tensor   // transform.2: [L·2·H, h], [L·2·H]
    }

    /// [n, L·2·H] without a projection, [n, H] with one.
    public let embedding: Tensor
    public let projection: Projection?
    public let virtualTokens: Int
    /// Applied layers the table covers (the model's `appliedLayers`).
    public let steps: Int
    /// Key / value width H (all heads).
    public let width: Int

    public init(embedding: Tensor, projection: Projection?, steps: Int, width: Int) throws {
        let n = embedding.shape.first ?? 0
        let expected = projection == nil ? steps * 2 * width : width
        guard embedding.shape.count == 2, n >= 1, embedding.shape[1] == expected else {
            throw ModelError.input("prefix embedding \(embedding.shape) must be [n, \(expected)] for \(steps) layers of width \(width)")
        }
        if let p = projection {
            let h = p.hiddenWeight.shape.first ?? 0
            guard p.hiddenWeight.shape == [h, width], p.hiddenBias.shape == [h],
                  p.outputWeight.shape == [steps * 2 * width, h], p.outputBias.shape == [steps * 2 * width] else {
                throw ModelError.input("prefix projection shapes \([p.hiddenWeight, p.hiddenBias, p.outputWeight, p.outputBias].map(\.shape)) do not fit width \(width) and \(steps) layers")
            }
        }
        self.embedding = embedding; self.projection = projection
        self.virtualTokens = n; self.steps = steps; self.width = width
    }

    /// Trainable tensors with PEFT's names (prompt_encoder.<adapter>.embedding.weight, transform.0/2.*).
    public var parameters: [(name: String, tensor: Tensor)] {
        var p = [("prefix_encoder.embedding.weight", embedding)]
        if let m = projection {
            p += [("prefix_encoder.transform.0.weight", m.hiddenWeight), ("prefix_encoder.transform.0.bias", m.hiddenBias),
                  ("prefix_encoder.transform.2.weight", m.outputWeight), ("prefix_encoder.transform.2.bias", m.outputBias)]
        }
        return p
    }

    /// The [n, L·2·H] table of every step's keys and values.
    public func table(tape: Tape?) -> Tensor {
        guard let m = projection else { return embedding }
        let hidden = Ops.tanh(Ops.linear(embedding, weight: m.hiddenWeight, bias: m.hiddenBias, tape: tape), tape: tape)
        return Ops.linear(hidden, weight: m.outputWeight, bias: m.outputBias, tape: tape)
    }

    /// Step `step`'s prefix keys and values, each [n, H].
    func keyValue(_ table: Tensor, step: Int, tape: Tape?) -> (key: Tensor, value: Tensor) {
        let start = 2 * step * width
        return (Ops.gatherColumns(table, columns: Array(start..<(start + width)), tape: tape),
                Ops.gatherColumns(table, columns: Array((start + width)..<(start + 2 * width)), tape: tape))
    }

    /// The same prefix with the projection folded into a plain table (for saving and serving).
    public func droppingProjection() throws -> PrefixPrompt {
        let t = table(tape: nil)
        return try PrefixPrompt(embedding: Tensor(shape: t.shape, data: t.data, requiresGrad: true, name: "prompt_embeddings"),
                                projection: nil, steps: steps, width: width)
    }

    /// A fresh prefix as PEFT initialises one: embedding N(0, 1) (nn.Embedding), projection layers
    /// U(±1/√fan_in) for weights and biases (nn.Linear), seeded.
    public convenience init(virtualTokens n: Int, projectionHidden: Int?, model: any MaskedLanguageModel, seed: UInt64) throws {
        guard n >= 1 else { throw ModelError.input("prefix tuning needs at least 1 virtual token, got \(n)") }
        let (steps, width) = (model.appliedLayers, model.config.hiddenSize)
        var rng = SeededRNG(seed: seed)
        func normal(_ shape: [Int], _ name: String) -> Tensor {
            Tensor(shape: shape, data: SoftPrompt.standardNormal(shape.reduce(1, *), &rng), requiresGrad: true, name: name)
        }
        func uniform(_ shape: [Int], fanIn: Int, _ name: String) -> Tensor {
            let bound = 1 / Float(fanIn).squareRoot()
            return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in (rng.nextUniform() * 2 - 1) * bound }, requiresGrad: true, name: name)
        }
        guard let h = projectionHidden else {
            try self.init(embedding: normal([n, steps * 2 * width], "prefix_encoder.embedding.weight"), projection: nil, steps: steps, width: width)
            return
        }
        guard h >= 1 else { throw ModelError.input("the prefix projection needs a hidden size of at least 1, got \(h)") }
        let embedding = normal([n, width], "prefix_encoder.embedding.weight")
        let projection = Projection(hiddenWeight: uniform([h, width], fanIn: width, "prefix_encoder.transform.0.weight"),
                                    hiddenBias: uniform([h], fanIn: width, "prefix_encoder.transform.0.bias"),
                                    outputWeight: uniform([steps * 2 * width, h], fanIn: h, "prefix_encoder.transform.2.weight"),
                                    outputBias: uniform([steps * 2 * width], fanIn: h, "prefix_encoder.transform.2.bias"))
        try self.init(embedding: embedding, projection: projection, steps: steps, width: width)
    }
}
