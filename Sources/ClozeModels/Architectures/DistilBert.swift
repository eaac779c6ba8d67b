import ClozeTensor

/// transformers' DistilBertForMaskedLM: no token types, q_lin/k_lin/v_lin/out_lin attention, no
/// dropout on the attention output projection, head = vocab_transform -> act -> vocab_layer_norm ->
/// vocab_projector (tied to the word embeddings).
public final class DistilBertForMaskedLM: TransformerMaskedLM {
    public init(config c: ModelConfig, weights: WeightProvider, withMLMHead: Bool) {
        var b = ParameterBuilder(weights)
        let H = c.hiddenSize
        let e = "distilbert.embeddings"
        let (word, compactWord) = b.wordEmbeddings("\(e).word_embeddings.weight", [c.vocabSize, H])
        let positionName = "\(e).position_embeddings.weight"
        let position: Tensor
        if c.sinusoidalPositions, !weights.has(positionName) {
            // Not stored: the table is a fixed function of the shape.
            position = Tensor(shape: [c.maxPositions, H], data: sinusoidalPositions(count: c.maxPositions, dim: H),
                              requiresGrad: false, name: positionName)
        } else {
            position = b.param(positionName, [c.maxPositions, H])
        }
        let embeddings = Embeddings(word: word, compactWord: compactWord, position: position, tokenType: nil,
                                    norm: b.layerNorm("\(e).LayerNorm", H, eps: c.layerNormEps), dropout: c.hiddenDropout)
        var layers: [TransformerLayer] = []
        for i in 0..<c.numLayers {
            let l = "distilbert.transformer.layer.\(i)"
            layers.append(TransformerLayer(
                query: b.layerLinear("\(l).attention.q_lin", in: H, out: H),
                key: b.layerLinear("\(l).attention.k_lin", in: H, out: H),
                value: b.layerLinear("\(l).attention.v_lin", in: H, out: H),
                attentionOutput: b.layerLinear("\(l).attention.out_lin", in: H, out: H),
                attentionNorm: b.layerNorm("\(l).sa_layer_norm", H, eps: c.layerNormEps),
                ffnIn: b.layerLinear("\(l).ffn.lin1", in: H, out: c.intermediateSize),
                ffnOut: b.layerLinear("\(l).ffn.lin2", in: c.intermediateSize, out: H),
                outputNorm: b.layerNorm("\(l).output_layer_norm", H, eps: c.layerNormEps),
                heads: c.numHeads, activation: c.hiddenAct, hiddenDropout: c.hiddenDropout,
                attentionDropout: c.attentionDropout, dropoutAfterAttentionOutput: false))
        }
        var head: MLMHead?
        if withMLMHead {
            let dense = b.linear("vocab_transform", in: H, out: H)
            let norm = b.layerNorm("vocab_layer_norm", H, eps: 1e-12)
            let (decoder, tied) = b.decoder("vocab_projector.weight", config: c, word: word)
            let bias = b.bias("vocab_projector.bias", [c.vocabSize])
            head = MLMHead(dense: dense, activation: c.hiddenAct, norm: norm, decoderWeight: decoder, decoderBias: bias, tied: tied, compactDecoder: tied ? embeddings.compactWord : nil)
        }
        super.init(config: c, embeddings: embeddings, embeddingProjection: nil, layers: layers,
                   schedule: Array(layers.indices), mlmHead: head, positionScheme: .sequential,
                   builder: b, className: "DistilBertForMaskedLM", baseClassName: "DistilBertModel")
    }
}
