import ClozeModels
import ClozeTensor
import Foundation

extension PETExperiment {
    /// Stage 3: the distilled classifier (KL to `teacher`, the ensemble's pool logits) and the plain
    /// fine-tuning baseline, both a classification head on the checkpoint's encoder.
    func classifierStage(_ data: SeedData, teacher: [Float]?, state: RunState) throws -> (distilled: RunScore?, fineTuned: RunScore?) {
        let plainColumns = task.format.columns.map { c in ["text_a", "text_b"].filter { c[$0] != nil } } ?? []
        let plain = PlainInput.builder(columns: plainColumns.isEmpty ? ["text_a"] : plainColumns, vocabulary: vocabulary, maxLength: maxLength)
        let testPlain = try PETFeatures.build(data.test.examples, builder: plain)
        var distilled: RunScore?, fineTuned: RunScore?
        if options.distill, let teacher, !data.pool.isEmpty {
            distilled = try trainClassifier("final-classifier", phase: "distillation", data: data, testFeatures: testPlain,
                                            features: try PETFeatures.build(data.pool, builder: plain),
                                            targets: .teacherLogits(teacher, temperature: options.temperature),
                                            config: options.distillation, state: state)
        }
        if options.fineTune && !data.train.examples.isEmpty {
            fineTuned = try trainClassifier("fine-tuned-classifier", phase: "fine-tuning", data: data, testFeatures: testPlain,
                                            features: try PETFeatures.build(data.train.examples, builder: plain),
                                            targets: .labels, config: options.fineTuning, state: state)
        }
        return (distilled, fineTuned)
    }

    /// Trains a fresh classification head on the checkpoint's encoder, scores it on the test set and
    /// saves it as `seed-S/<name>`.
    func trainClassifier(_ name: String, phase: String, data: SeedData, testFeatures: [PETFeature], features: [PETFeature],
                         targets: SequenceClassifierTrainer.Targets, config base: PETTrainingConfig, state: RunState) throws -> RunScore? {
        let seed = data.seed
        let loaded = try ModelLoader.load(directory: options.modelDirectory, mlmHead: .none, classificationLabels: task.labels.count,
                                          seed: UInt64(seed), quantization: options.quantization)
        try attachAdapters(loaded.model, seed: UInt64(seed))
        var config = base
        config.seed = UInt64(seed)
        let trainer = SequenceClassifierTrainer(config: config, model: loaded.model, head: loaded.classifier!,
                                                padID: vocabulary.specialTokens.padID)
        let b = bar("\(phase) seed \(seed)", config.maxSteps)
        let run = try state.timed(phase) { try trainer.train(features, targets: targets) { s, _ in b?(s) } }
        state.recordTrainable(phase, run, log: log)
        let logits = try state.timed("test evaluation") { try trainer.predict(testFeatures, batchSize: options.evalBatchSize) }
        if options.saveClassifiers, let dir = options.saveDirectory {
            try ClassifierCheckpoint.save(model: loaded.model, head: loaded.classifier!, labels: task.labels,
                                          to: (dir as NSString).appendingPathComponent("seed-\(seed)/\(name)"), tokenizerFrom: options.modelDirectory)
        }
        guard data.hasTest else { return nil }
        let s = score(logits, gold: data.gold, seed: seed)
        log(String(format: "seed %d %@: acc %.4f", seed, phase, s.accuracy))
        return s
    }
}
