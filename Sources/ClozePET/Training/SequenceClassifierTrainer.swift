import ClozeModels
import ClozeTensor
import Foundation

/// Fine-tunes an encoder with a sequence-classification head: plain cross-entropy on labelled
/// examples (the fine-tuning baseline) or, with soft targets, PET's distillation loss
/// KL(softmax(teacher/T) || softmax(student/T))·T² (PET's `distillation_loss`).
public struct SequenceClassifierTrainer {
    public var config: PETTrainingConfig
    public let model: any MaskedLanguageModel
    public let head: SequenceClassificationHead
    public let padID: Int32

    public init(config: PETTrainingConfig, model: any MaskedLanguageModel, head: SequenceClassificationHead, padID: Int32) {
        self.config = config; self.model = model; self.head = head; self.padID = padID
    }

    public enum Targets {
        case labels
        /// Teacher logits [N, labels] (softened at `temperature` inside).
        case teacherLogits([Float], temperature: Float)
    }

    public func train(_ features: [PETFeature], targets: Targets, progress: ((Int, Float) -> Void)? = nil) throws -> PETTrainingLog {
        guard !features.isEmpty else { throw PETError(.emptyDataset, "no training examples") }
        let start = Date()
        let (opt, lr, trainable) = config.makeOptimizer(model: model, head: head.parameters)
        var orderRNG = SeededRNG(seed: config.seed)
        var dropoutRNG: SeededRNG? = config.dropout ? SeededRNG(seed: config.seed &+ 1) : nil
        let L = head.numLabels
        var teacher: [Float] = []
        var temperature: Float = 1
        if case .teacherLogits(let logits, let t) = targets {
            guard logits.count == features.count * L else {
                throw PETError(.outputMismatch, "teacher logits: \(logits.count) values for \(features.count) examples × \(L) labels")
            }
            temperature = t
            teacher = Ops.softmaxRows(logits.map { $0 / t }, rows: features.count, cols: L)
        } else if !features.allSatisfy({ $0.label != nil }) {
            throw PETError(.unknownLabel, "fine-tuning needs labelled examples")
        }
        let batches = PETTrainer.schedule(count: features.count, batchSize: config.batchSize, steps: config.maxSteps,
                                          shuffle: config.shuffle, rng: &orderRNG)
        var log = PETTrainingLog()
        log.trainable = trainable
        for (step, idx) in batches.enumerated() {
            let tape = Tape()
            let batch = try PETBatch(idx.map { features[$0] }, padID: padID)
            let hidden = try model.encode(batch.encoded, training: config.dropout, rng: &dropoutRNG, tape: tape)
            let logits = head.logits(hidden: hidden, batch: batch.encoded.batch, seqLen: batch.encoded.seqLen,
                                     training: config.dropout, rng: &dropoutRNG, tape: tape)
            let loss: Tensor
            switch targets {
            case .labels:
                loss = Ops.crossEntropy(logits, targets: batch.labels.map { $0! }, tape: tape)
            case .teacherLogits:
                var p: [Float] = []
                p.reserveCapacity(idx.count * L)
                for i in idx { p += teacher[(i * L)..<((i + 1) * L)] }
                loss = Ops.klDivergence(studentLogits: logits, teacherProbabilities: p, temperature: temperature,
                                        scaleByTSquared: true, tape: tape)
            }
            applyUpdate(loss: loss, tape: tape, optimizer: opt, schedule: lr, step: step, maxGradNorm: config.maxGradNorm)
            log.stepLosses.append(loss.item)
            progress?(step + 1, loss.item)
        }
        log.seconds = Date().timeIntervalSince(start)
        return log
    }

    /// Class logits [N, labels] without gradients (length-sorted batches, input order restored).
    public func predict(_ features: [PETFeature], batchSize: Int, progress: ((Int) -> Void)? = nil) throws -> [Float] {
        var noRNG: SeededRNG? = nil
        return try BatchedInference.run(features, batchSize: batchSize, padID: padID, columns: head.numLabels, progress: progress) { batch in
            let hidden = try model.encode(batch.encoded, training: false, rng: &noRNG, tape: nil)
            return head.logits(hidden: hidden, batch: batch.encoded.batch, seqLen: batch.encoded.seqLen, training: false, rng: &noRNG, tape: nil)
        }
    }
}
