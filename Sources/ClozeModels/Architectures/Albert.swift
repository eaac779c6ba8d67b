import ClozeTensor

/// transformers' AlbertForMaskedLM: factorised embeddings (E) mapped to H by
/// embedding_hidden_mapping_in, layers shared within groups, MLM head back down to E.
public final class AlbertForMaskedLM: TransformerMaskedLM {
    public init(config c: ModelConfig, weights: WeightProvider, withMLMHead: Bool) {
        var b = ParameterBuilder(weights)
        let (H, E) = (c.hiddenSize, c.embeddingSize)
        let e = "albert.embeddings"
        let (word, compactWord) = b.wordEmbeddings("\(e).word_embeddings.weight", [c.vocabSize, E])
        let embeddings = Embeddings(word: word, compactWord: compactWord,
                                    position: b.param("\(e).position_embeddings.weight", [c.maxPositions, E]),
                                    tokenType: b.param("\(e).token_type_embeddings.weight", [c.typeVocabSize, E]),
                                    norm: b.layerNorm("\(e).LayerNorm", E, eps: c.layerNormEps), dropout: c.hiddenDropout)
        let projection = b.linear("albert.encoder.embedding_hidden_mapping_in", in: E, out: H)
        var layers: [TransformerLayer] = []
        for g in 0..<c.numHiddenGroups {
            for j in 0..<c.innerGroupNum {
                let l = "albert.encoder.albert_layer_groups.\(g).albert_layers.\(j)"
                layers.append(TransformerLayer(
                    query: b.layerLinear("\(l).attention.query", in: H, out: H),
                    key: b.layerLinear("\(l).attention.key", in: H, out: H),
                    value: b.layerLinear("\(l).attention.value", in: H, out: H),
                    attentionOutput: b.layerLinear("\(l).attention.dense", in: H, out: H),
                    attentionNorm: b.layerNorm("\(l).attention.LayerNorm", H, eps: c.layerNormEps),
                    ffnIn: b.layerLinear("\(l).ffn", in: H, out: c.intermediateSize),
                    ffnOut: b.layerLinear("\(l).ffn_output", in: c.intermediateSize, out: H),
                    outputNorm: b.layerNorm("\(l).full_layer_layer_norm", H, eps: c.layerNormEps),
                    heads: c.numHeads, activation: c.hiddenAct, hiddenDropout: c.hiddenDropout,
                    attentionDropout: c.attentionDropout, dropoutAfterAttentionOutput: true))
            }
        }
        var head: MLMHead?
        if withMLMHead {
            let dense = b.linear("predictions.dense", in: H, out: E)
            let norm = b.layerNorm("predictions.LayerNorm", E, eps: c.layerNormEps)
            let (decoder, tied) = b.decoder("predictions.decoder.weight", config: c, word: word)
            let bias = b.decoderBias("predictions.bias", decoder: "predictions.decoder", config: c, tied: tied)
            head = MLMHead(dense: dense, activation: c.hiddenAct, norm: norm, decoderWeight: decoder, decoderBias: bias, tied: tied, compactDecoder: tied ? embeddings.compactWord : nil)
        }
        super.init(config: c, embeddings: embeddings, embeddingProjection: projection, layers: layers,
                   schedule: albertSchedule(layers: c.numLayers, groups: c.numHiddenGroups, inner: c.innerGroupNum),
                   mlmHead: head, positionScheme: .sequential, builder: b,
                   className: "AlbertForMaskedLM", baseClassName: "AlbertModel")
    }
}
