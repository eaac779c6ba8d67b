import ClozeTensor

/// BERT encoder layers (also RoBERTa / XLM-R, which share BERT's tensor names under `roberta.`).
func buildBertEncoder(_ b: inout ParameterBuilder, config c: ModelConfig, prefix: String) -> (Embeddings, [TransformerLayer]) {
    let H = c.hiddenSize
    let e = "\(prefix).embeddings"
    let (word, compactWord) = b.wordEmbeddings("\(e).word_embeddings.weight", [c.vocabSize, H])
    let position = b.param("\(e).position_embeddings.weight", [c.maxPositions, H])
    let tokenType = b.param("\(e).token_type_embeddings.weight", [c.typeVocabSize, H])
    let embeddings = Embeddings(word: word, compactWord: compactWord, position: position, tokenType: tokenType,
                                norm: b.layerNorm("\(e).LayerNorm", H, eps: c.layerNormEps), dropout: c.hiddenDropout)
    var layers: [TransformerLayer] = []
    for i in 0..<c.numLayers {
        let l = "\(prefix).encoder.layer.\(i)"
        layers.append(TransformerLayer(
            query: b.layerLinear("\(l).attention.self.query", in: H, out: H),
            key: b.layerLinear("\(l).attention.self.key", in: H, out: H),
            value: b.layerLinear("\(l).attention.self.value", in: H, out: H),
            attentionOutput: b.layerLinear("\(l).attention.output.dense", in: H, out: H),
            attentionNorm: b.layerNorm("\(l).attention.output.LayerNorm", H, eps: c.layerNormEps),
            ffnIn: b.layerLinear("\(l).intermediate.dense", in: H, out: c.intermediateSize),
            ffnOut: b.layerLinear("\(l).output.dense", in: c.intermediateSize, out: H),
            outputNorm: b.layerNorm("\(l).output.LayerNorm", H, eps: c.layerNormEps),
            heads: c.numHeads, activation: c.hiddenAct, hiddenDropout: c.hiddenDropout,
            attentionDropout: c.attentionDropout, dropoutAfterAttentionOutput: true))
    }
    return (embeddings, layers)
}

/// transformers' BertForMaskedLM (and BertModel when built without the head).
public final class BertForMaskedLM: TransformerMaskedLM {
    public init(config c: ModelConfig, weights: WeightProvider, withMLMHead: Bool) {
        var b = ParameterBuilder(weights)
        let (embeddings, layers) = buildBertEncoder(&b, config: c, prefix: "bert")
        var head: MLMHead?
        if withMLMHead {
            let t = "cls.predictions.transform"
            let dense = b.linear("\(t).dense", in: c.hiddenSize, out: c.hiddenSize)
            let norm = b.layerNorm("\(t).LayerNorm", c.hiddenSize, eps: c.layerNormEps)
            let (decoder, tied) = b.decoder("cls.predictions.decoder.weight", config: c, word: embeddings.word)
            let bias = b.decoderBias("cls.predictions.bias", decoder: "cls.predictions.decoder", config: c, tied: tied)
            head = MLMHead(dense: dense, activation: c.hiddenAct, norm: norm, decoderWeight: decoder, decoderBias: bias, tied: tied, compactDecoder: tied ? embeddings.compactWord : nil)
        }
        super.init(config: c, embeddings: embeddings, embeddingProjection: nil, layers: layers,
                   schedule: Array(layers.indices), mlmHead: head, positionScheme: .sequential,
                   builder: b, className: "BertForMaskedLM", baseClassName: "BertModel")
    }
}

/// transformers' RobertaForMaskedLM / XLMRobertaForMaskedLM: BERT layers, position ids after the
/// padding id, and an LM head whose activation is always erf-GELU.
public final class RobertaForMaskedLM: TransformerMaskedLM {
    public init(config c: ModelConfig, weights: WeightProvider, withMLMHead: Bool) {
        var b = ParameterBuilder(weights)
        let (embeddings, layers) = buildBertEncoder(&b, config: c, prefix: "roberta")
        var head: MLMHead?
        if withMLMHead {
            let dense = b.linear("lm_head.dense", in: c.hiddenSize, out: c.hiddenSize)
            let norm = b.layerNorm("lm_head.layer_norm", c.hiddenSize, eps: c.layerNormEps)
            let (decoder, tied) = b.decoder("lm_head.decoder.weight", config: c, word: embeddings.word)
            let bias = b.decoderBias("lm_head.bias", decoder: "lm_head.decoder", config: c, tied: tied)
            head = MLMHead(dense: dense, activation: .gelu, norm: norm, decoderWeight: decoder, decoderBias: bias, tied: tied, compactDecoder: tied ? embeddings.compactWord : nil)
        }
        let xlm = c.architecture == .xlmRoberta
        super.init(config: c, embeddings: embeddings, embeddingProjection: nil, layers: layers,
                   schedule: Array(layers.indices), mlmHead: head, positionScheme: .afterPadding(padId: Int32(c.padTokenId)),
                   builder: b, className: xlm ? "XLMRobertaForMaskedLM" : "RobertaForMaskedLM",
                   baseClassName: xlm ? "XLMRobertaModel" : "RobertaModel")
    }
}
