import Foundation
import ClozeTensor

/// Shared construction steps for the four architectures.
extension ParameterBuilder {
    /// The decoder matrix: the word embeddings when tied or not stored, else its own tensor.
    mutating func decoder(_ name: String, config: ModelConfig, word: Tensor) -> (Tensor, tied: Bool) {
        let checkpoint = weights as? CheckpointWeights
        if config.tieWordEmbeddings || !weights.has(name) {
            checkpoint?.markUsed(name)  // a stored copy of a tied decoder is ignored, as transformers does
            return (word, true)
        }
        return (param(name, [config.vocabSize, config.embeddingSize]), false)
    }

    /// The decoder bias. Tied (transformers v5): `<decoder>.bias` is `name`. Untied: transformers'
    /// forward uses `<decoder>.bias` and leaves `name` unused (kept here so it is saved back);
    /// very old checkpoints only store `<decoder>.bias`.
    mutating func decoderBias(_ name: String, decoder: String, config: ModelConfig, tied: Bool) -> Tensor {
        let checkpoint = weights as? CheckpointWeights
        let decoderBias = decoder + ".bias"
        if !tied, weights.has(decoderBias) {
            let decoded = bias(decoderBias, [config.vocabSize])
            if weights.has(name) { _ = bias(name, [config.vocabSize]) }
            return decoded
        }
        if !weights.has(name), weights.has(decoderBias) {
            return bias(decoderBias, [config.vocabSize])
        }
        checkpoint?.markUsed(decoderBias)
        return bias(name, [config.vocabSize])
    }
}

/// ALBERT's layer order: layer i uses group int(i / (L / G)), each group runs its inner layers in order.
func albertSchedule(layers: Int, groups: Int, inner: Int) -> [Int] {
    var schedule: [Int] = []
    for i in 0..<layers {
        let group = Int(Double(i) / (Double(layers) / Double(groups)))
        for j in 0..<inner { schedule.append(group * inner + j) }
    }
    return schedule
}

/// DistilBERT's fixed sinusoidal position table: even dims sin, odd dims cos of pos / 10000^(2(j/2)/dim).
func sinusoidalPositions(count: Int, dim: Int) -> [Float] {
    var table = [Float](repeating: 0, count: count * dim)
    for pos in 0..<count {
        for j in 0..<dim {
            let angle = Double(pos) / Foundation.pow(10000, 2 * Double(j / 2) / Double(dim))
            table[pos * dim + j] = Float(j % 2 == 0 ? Foundation.sin(angle) : Foundation.cos(angle))
        }
    }
    return table
}

