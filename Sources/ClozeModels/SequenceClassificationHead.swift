import ClozeTensor

/// A sentence-level classification head on the first token's hidden state, as in transformers'
/// *ForSequenceClassification. Loaded from the checkpoint when present, else seeded random init
/// (N(0, initializer_range) weights, zero biases — transformers' `_init_weights`).
public final class SequenceClassificationHead {
    public enum Kind: Sendable {
        /// BERT / ALBERT: pooler dense + tanh, dropout, classifier.
        case pooler
        /// RoBERTa / XLM-R: dropout, dense, tanh, dropout, out_proj.
        case roberta
        /// DistilBERT: pre_classifier, ReLU, dropout, classifier.
        case distilbert
    }

    public let kind: Kind
    public let numLabels: Int
    let first: Linear
    let second: Linear
    let dropout: Float
    public let parameters: [(name: String, tensor: Tensor)]

    init(config c: ModelConfig, numLabels: Int, builder: inout ParameterBuilder) {
        self.numLabels = numLabels
        let H = c.hiddenSize
        let start = builder.all.count
        switch c.architecture {
        case .bert:
            kind = .pooler
            first = builder.linear("bert.pooler.dense", in: H, out: H)
            second = builder.linear("classifier", in: H, out: numLabels)
        case .albert:
            kind = .pooler
            first = builder.linear("albert.pooler", in: H, out: H)
            second = builder.linear("classifier", in: H, out: numLabels)
        case .roberta, .xlmRoberta:
            kind = .roberta
            first = builder.linear("classifier.dense", in: H, out: H)
            second = builder.linear("classifier.out_proj", in: H, out: numLabels)
        case .distilbert:
            kind = .distilbert
            first = builder.linear("pre_classifier", in: H, out: H)
            second = builder.linear("classifier", in: H, out: numLabels)
        }
        dropout = c.classifierDropout
        parameters = Array(builder.all[start...])
    }

    /// hidden [B*T, H] -> logits [B, numLabels] from each sequence's first token.
    public func logits(hidden: Tensor, batch: Int, seqLen: Int, training: Bool, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        let context = DropoutContext(training: training)
        let first = Ops.gatherRows(hidden, rows: (0..<batch).map { $0 * seqLen }, tape: tape)
        switch kind {
        case .pooler:
            let pooled = Ops.tanh(self.first(first, tape: tape), tape: tape)
            return second(context.apply(pooled, p: dropout, rng: &rng, tape: tape), tape: tape)
        case .roberta:
            let x = Ops.tanh(self.first(context.apply(first, p: dropout, rng: &rng, tape: tape), tape: tape), tape: tape)
            return second(context.apply(x, p: dropout, rng: &rng, tape: tape), tape: tape)
        case .distilbert:
            let x = Ops.relu(self.first(first, tape: tape), tape: tape)
            return second(context.apply(x, p: dropout, rng: &rng, tape: tape), tape: tape)
        }
    }
}
