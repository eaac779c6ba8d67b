import ClozeModels
import ClozeTensor
import Foundation

/// Hyper-parameters of one PET fine-tuning run (defaults: PET's, except where noted).
public struct PETTrainingConfig: Sendable {
    public var maxSteps = 250
    public var batchSize = 4
    public var learningRate: Float = 1e-5
    public var weightDecay: Float = 0.01
    public var adamEpsilon: Float = 1e-8
    public var warmupSteps = 0
    public var maxGradNorm: Float = 1.0
    /// Seeds the example order and dropout.
    public var seed: UInt64 = 42
    /// Dropout as configured by the model (training mode). Off: deterministic steps (parity tests).
    public var dropout = true
    /// Shuffle the examples every epoch (PET's RandomSampler). Off: fixed order, wrapping around.
    public var shuffle = true
    /// Auxiliary MLM loss on unlabelled batches: loss = alpha·PET + (1 − alpha)·MLM (PET's `--lm_training`,
    /// alpha 0.9999). nil = off.
    public var alpha: Float? = nil
    public var unlabeledBatchSize = 16
    public var mlmProbability: Float = 0.15
    /// Which model tensors are updated (full fine-tuning, BitFit, partial freezing, frozen base).
    public var trainability: TrainabilityPolicy = .full
    public init() {}
}

extension PETTrainingConfig {
    /// Applies the trainability policy (task-head tensors `head` always train) and builds AdamW over
    /// the trainable tensors only (no weight decay on biases and LayerNorm weights, as PET and
    /// transformers' examples) with the linear warmup/decay schedule.
    func makeOptimizer(model: any MaskedLanguageModel, head: [(name: String, tensor: Tensor)] = [])
        -> (AdamW, LinearSchedule, TrainableCount) {
        let (params, count) = model.applyTrainability(trainability, head: head)
        let noDecay = Set(params.filter { $0.name.contains("bias") || $0.name.contains("LayerNorm.weight") }.map { ObjectIdentifier($0.tensor) })
        let opt = AdamW(parameters: params.map(\.tensor), learningRate: learningRate, eps: adamEpsilon,
                        weightDecay: weightDecay, noDecay: noDecay)
        return (opt, LinearSchedule(baseLR: learningRate, warmupSteps: warmupSteps, totalSteps: maxSteps), count)
    }
}

public struct PETTrainingLog: Sendable {
    /// Loss of every optimizer step (the combined loss when the auxiliary MLM loss is on).
    public var stepLosses: [Float] = []
    public var seconds: Double = 0
    /// Trainable and total parameter counts of the run.
    public var trainable = TrainableCount(trainable: 0, all: 0)
}

/// PET fine-tuning of one masked LM with one pattern and verbalizer: cross-entropy over the
/// verbalizer's label logits at the mask; AdamW (no decay on biases and LayerNorm weights, as PET),
/// linear warmup/decay schedule, gradient clipping, seeded shuffling, dynamic padding per batch.
public struct PETTrainer {
    public var config: PETTrainingConfig
    public let scorer: PETScorer
    public let padID: Int32
    public let maskID: Int32
    /// Ids never chosen for auxiliary masking (CLS, SEP, PAD, MASK, ...).
    public let specialIDs: Set<Int32>
    /// Replaces the random auxiliary masking (tests inject the reference's masks): given the batch,
    /// returns corrupted ids, masked flat rows and their targets.
    public var auxiliaryMasker: ((EncodedBatch, inout SeededRNG) -> (ids: [Int32], rows: [Int], targets: [Int]))?

    public init(config: PETTrainingConfig, scorer: PETScorer, padID: Int32, maskID: Int32, specialIDs: Set<Int32>) {
        self.config = config; self.scorer = scorer; self.padID = padID; self.maskID = maskID; self.specialIDs = specialIDs
    }

    /// Batches of example indices for `steps` steps: epochs of a (seeded) permutation, last partial
    /// batch of an epoch kept (DataLoader drop_last=False).
    static func schedule(count: Int, batchSize: Int, steps: Int, shuffle: Bool, rng: inout SeededRNG) -> [[Int]] {
        var out: [[Int]] = []
        while out.count < steps {
            var order = Array(0..<count)
            if shuffle { FewShotSampler.shuffle(&order, &rng) }
            for s in stride(from: 0, to: count, by: batchSize) where out.count < steps {
                out.append(Array(order[s..<min(s + batchSize, count)]))
            }
        }
        return out
    }

    public func train(_ features: [PETFeature], unlabeled: [PETFeature] = [],
                      progress: ((_ step: Int, _ loss: Float) -> Void)? = nil) throws -> PETTrainingLog {
        try train(count: features.count, feature: { i, _ in features[i] }, unlabeled: unlabeled, progress: progress)
    }

    /// Training over `count` examples whose inputs `feature(i, rng)` makes when a batch needs them, so
    /// an input may change from step to step (LM-BFF draws fresh demonstrations each time); `rng` is a
    /// generator of its own, seeded from the run's seed.
    public func train(count: Int, feature: (Int, inout SeededRNG) throws -> PETFeature, unlabeled: [PETFeature] = [],
                      progress: ((_ step: Int, _ loss: Float) -> Void)? = nil) throws -> PETTrainingLog {
        guard count > 0 else { throw PETError(.emptyDataset, "no training examples") }
        if config.alpha != nil && unlabeled.isEmpty {
            throw PETError(.emptyDataset, "the auxiliary MLM loss (alpha) needs unlabelled examples")
        }
        let start = Date()
        let model = scorer.model
        let (opt, lr, trainable) = config.makeOptimizer(model: model)
        var orderRNG = SeededRNG(seed: config.seed)
        var dropoutRNG: SeededRNG? = config.dropout ? SeededRNG(seed: config.seed &+ 1) : nil
        var maskRNG = SeededRNG(seed: config.seed &+ 2)
        var featureRNG = SeededRNG(seed: config.seed &+ 3)
        let batches = Self.schedule(count: count, batchSize: config.batchSize, steps: config.maxSteps,
                                    shuffle: config.shuffle, rng: &orderRNG)
        let unlabeledBatches = config.alpha == nil ? [] :
            Self.schedule(count: unlabeled.count, batchSize: config.unlabeledBatchSize, steps: config.maxSteps,
                          shuffle: config.shuffle, rng: &orderRNG)
        var log = PETTrainingLog()
        log.trainable = trainable
        log.stepLosses.reserveCapacity(config.maxSteps)
        for (step, idx) in batches.enumerated() {
            let tape = Tape()
            let examples = try idx.map { try feature($0, &featureRNG) }
            guard examples.allSatisfy({ $0.label != nil }) else { throw PETError(.unknownLabel, "PET training needs labelled examples") }
            let batch = try PETBatch(examples, padID: padID)
            var loss = try scorer.loss(batch, training: config.dropout, rng: &dropoutRNG, tape: tape)
            if let alpha = config.alpha {
                let ub = try PETBatch(unlabeledBatches[step].map { unlabeled[$0] }, padID: padID)
                let m = auxiliaryMasker?(ub.encoded, &maskRNG)
                    ?? AuxiliaryMLM.mask(ub.encoded.inputIds, attention: ub.encoded.attentionMask, specialIDs: specialIDs,
                                         maskID: maskID, vocabSize: model.config.vocabSize,
                                         probability: config.mlmProbability, rng: &maskRNG)
                if !m.rows.isEmpty {
                    var enc = ub.encoded
                    enc.inputIds = m.ids
                    let hidden = try model.encode(enc, training: config.dropout, rng: &dropoutRNG, tape: tape)
                    let mlm = try model.mlmLogits(hidden: hidden, positions: m.rows, vocabularyRows: nil, tape: tape)
                    let mlmLoss = Ops.crossEntropy(mlm, targets: m.targets, tape: tape)
                    loss = Ops.addScaled(loss, mlmLoss, alpha: alpha, beta: 1 - alpha, tape: tape)
                } else {
                    loss = Ops.scale(loss, by: alpha, tape: tape)
                }
            }
            applyUpdate(loss: loss, tape: tape, optimizer: opt, schedule: lr, step: step, maxGradNorm: config.maxGradNorm)
            log.stepLosses.append(loss.item)
            progress?(step + 1, loss.item)
        }
        log.seconds = Date().timeIntervalSince(start)
        return log
    }
}

/// One optimizer update, shared by PET and sequence-classifier training: backward, clip the
/// gradient norm, set the scheduled learning rate, step, clear gradients.
func applyUpdate(loss: Tensor, tape: Tape, optimizer opt: AdamW, schedule lr: LinearSchedule, step: Int,
                 maxGradNorm: Float) {
    tape.backward(loss)
    _ = clipGradNorm(opt.parameters, maxNorm: maxGradNorm)
    opt.learningRate = lr.lr(atStep: step)
    opt.step()
    opt.zeroGrad()
}
