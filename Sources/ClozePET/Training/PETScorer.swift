import ClozeModels
import ClozeTensor

/// Label logits of a masked LM under one verbalizer: MLM logits at the mask, only for the
/// verbalizer's vocabulary rows, then per label the mean over its words (PET's
/// `convert_mlm_logits_to_cls_logits`).
public struct PETScorer {
    public let model: any MaskedLanguageModel
    public let verbalizer: ResolvedVerbalizer
    /// Multi-mask PET: candidate token sequences per label (then `verbalizer` has no vocabulary rows).
    public let multiToken: MultiTokenVerbalizer?
    /// [labels, rows] averaging matrix, a constant (nil when every label has one word in row order).
    let averaging: Tensor?

    /// Multi-mask PET: hinge loss in training, max-first decoding in `predict`.
    public init(model: any MaskedLanguageModel, multiToken: MultiTokenVerbalizer) {
        self.model = model
        self.multiToken = multiToken
        self.verbalizer = ResolvedVerbalizer(labels: multiToken.labels, vocabularyRows: [], labelColumns: [])
        averaging = nil
    }

    public init(model: any MaskedLanguageModel, verbalizer: ResolvedVerbalizer) {
        self.model = model
        self.verbalizer = verbalizer
        self.multiToken = nil
        let r = verbalizer.vocabularyRows.count, l = verbalizer.labels.count
        if verbalizer.labelColumns == (0..<l).map({ [$0] }) && r == l {
            averaging = nil
        } else {
            var w = [Float](repeating: 0, count: l * r)
            for (label, cols) in verbalizer.labelColumns.enumerated() {
                for c in cols { w[label * r + c] = 1 / Float(cols.count) }
            }
            averaging = Tensor(shape: [l, r], data: w)
        }
    }

    /// Label logits [B, labels] of a batch.
    public func labelLogits(_ batch: PETBatch, training: Bool, rng: inout SeededRNG?, tape: Tape?) throws -> Tensor {
        let hidden = try model.encode(batch.encoded, training: training, rng: &rng, tape: tape)
        return try labelLogits(hidden: hidden, maskRows: batch.maskRows, tape: tape)
    }

    public func labelLogits(hidden: Tensor, maskRows: [Int], tape: Tape?) throws -> Tensor {
        let words = try model.mlmLogits(hidden: hidden, positions: maskRows, vocabularyRows: verbalizer.vocabularyRows, tape: tape)
        guard let averaging else { return words }
        return Ops.linear(words, weight: averaging, bias: nil, tape: tape)
    }

    /// The training loss of a labelled batch: cross-entropy over the label logits at the mask (PET), or
    /// the multi-mask hinge loss.
    public func loss(_ batch: PETBatch, training: Bool, rng: inout SeededRNG?, tape: Tape?) throws -> Tensor {
        if let multiToken {
            return try MultiMask.hingeLoss(model: model, batch: batch, verbalizer: multiToken, training: training, rng: &rng, tape: tape)
        }
        let logits = try labelLogits(batch, training: training, rng: &rng, tape: tape)
        return Ops.crossEntropy(logits, targets: batch.labels.map { $0! }, tape: tape)
    }

    /// Label logits [N, labels] of many features without gradients (multi-mask PET: summed token
    /// log-probabilities under max-first decoding). Batches are formed from
    /// length-sorted features (little padding) and the rows are returned in the input order.
    public func predict(_ features: [PETFeature], batchSize: Int, padID: Int32,
                        progress: ((Int) -> Void)? = nil) throws -> [Float] {
        if let multiToken {
            return try MultiMask.maxFirstScores(model: model, features: features, verbalizer: multiToken, batchSize: batchSize,
                                                padID: padID, progress: progress)
        }
        var noRNG: SeededRNG? = nil
        return try BatchedInference.run(features, batchSize: batchSize, padID: padID, columns: verbalizer.labels.count, progress: progress) {
            try labelLogits($0, training: false, rng: &noRNG, tape: nil)
        }
    }
}
