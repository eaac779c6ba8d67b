import ClozeModels
import ClozeTensor
import Foundation

/// Settings of a `cloze train` run.
public struct PETExperimentOptions {
    public var modelDirectory: String
    public var seeds: [Int]
    /// Examples per class sampled from the train split (nil: the split as is, e.g. LM-BFF's 16-shot files).
    public var k: Int?
    public var repetitions = 1
    public var training = PETTrainingConfig()
    public var maxLength: Int?
    public var evalBatchSize = 32
    public var testLimit: Int?
    public var dataRoot: String?
    public var zeroShot = true
    /// False: zero-shot evaluation only (`cloze eval`).
    public var trainPatterns = true
    /// Standard fine-tuning baseline (classification head on the K examples); steps/lr from `fineTuning`.
    public var fineTune = true
    public var fineTuning = PETTrainingConfig()
    /// Size of the unlabelled pool (ensemble soft labels, distillation); 0 = no pool.
    public var unlabeledCount = 0
    public var distill = true
    public var distillation = PETTrainingConfig()
    public var temperature: Float = 2
    public var progress = true
    /// Where to save trained models in Hugging Face layout (nil: nothing is saved).
    public var saveDirectory: String?
    /// Save each seed's distilled and fine-tuned classifiers under `saveDirectory/seed-S/`.
    public var saveClassifiers = true
    /// Also save every trained pattern model (MLM) under `saveDirectory/seed-S/pattern-P-rep-R`.
    public var savePatternModels = false
    public var threads = 1

    public init(modelDirectory: String, seeds: [Int]) {
        self.modelDirectory = modelDirectory; self.seeds = seeds
    }
}

/// PET end to end for one task: per seed, every pattern (× repetitions) is evaluated zero-shot,
/// fine-tuned and evaluated; the pattern models are ensembled on the test set and on the unlabelled
/// pool (uniform mean and weighted by each model's training-set accuracy before training, as PET's
/// wmean); the weighted pool logits are distilled into a sequence classifier (KL at temperature T);
/// and a plain fine-tuning baseline is trained on the same examples.
public struct PETExperiment {
    public let task: TaskDescriptor
    public let options: PETExperimentOptions
    public let vocabulary: any TokenVocabulary
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(task: TaskDescriptor, options: PETExperimentOptions, vocabulary: any TokenVocabulary) {
        self.task = task; self.options = options; self.vocabulary = vocabulary
    }

    func score(_ logits: [Float], gold: [Int], seed: Int, repetition: Int = 0) -> RunScore {
        let L = task.labels.count
        let pred = Metrics.argmaxRows(logits, cols: L)
        var metric: Double?
        switch task.metric {
        case .acc: metric = nil
        case .f1: metric = Metrics.f1(predictions: pred, gold: gold, positive: task.labels.firstIndex(of: task.positiveLabel ?? "") ?? 1)
        case .macroF1: metric = Metrics.macroF1(predictions: pred, gold: gold, classes: L)
        case .mcc: metric = Metrics.mcc(predictions: pred, gold: gold, classes: L)
        case .pearson:
            // Labels are numbers (checked when the task file loads): correlate the expected label value with gold.
            let values = task.labels.map { Double($0)! }
            metric = Metrics.pearson(Metrics.expectedValues(logits, values: values), gold.map { values[$0] })
        }
        return RunScore(seed: seed, repetition: repetition, accuracy: Metrics.accuracy(predictions: pred, gold: gold),
                        macroF1: Metrics.macroF1(predictions: pred, gold: gold, classes: L), metric: metric)
    }

    public func run() throws -> RunResults {
        BLASThreads.set(options.threads)
        var phaseSeconds: [String: Double] = [:]
        func timed<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
            let t0 = Date()
            defer { phaseSeconds[phase, default: 0] += Date().timeIntervalSince(t0) }
            return try body()
        }
        let L = task.labels.count
        let maxLength = options.maxLength ?? task.maxLength ?? 128
        var zeroShotRuns: [Int: [RunScore]] = [:], patternRuns: [Int: [RunScore]] = [:]
        var patternInfo: [Int: (pattern: String, source: String, verbalizer: String)] = [:]
        var ensembleMean: [RunScore] = [], ensembleWeighted: [RunScore] = [], distilled: [RunScore] = [], fineTuned: [RunScore] = []

        var zeroShotCache: [ZeroShotKey: [Float]] = [:]
        for seed in options.seeds {
            var train = try task.loadSplit("train", seed: seed, dataRoot: options.dataRoot)
            // Without a test split (a user's own few examples and pool) everything trains and is saved, unscored.
            var test = task.splits["test"] == nil ? Dataset(examples: [], labels: task.labels, columnNames: train.columnNames, file: "")
                : try task.loadSplit("test", seed: seed, dataRoot: options.dataRoot)
            if let k = options.k { train.examples = try FewShotSampler.sample(train, perClass: k, seed: UInt64(seed)) }
            if let limit = options.testLimit { test.examples = Array(test.examples.prefix(limit)) }
            let gold = test.examples.map { $0.label! }
            let hasTest = !gold.isEmpty
            var pool: [Example] = []
            if options.unlabeledCount > 0 {
                let (all, removed) = try task.loadUnlabeled(seed: seed, dataRoot: options.dataRoot)
                if removed > 0 { log("seed \(seed): removed \(removed) train/dev/test sentences from the unlabelled pool \(all.file)") }
                var rng = SeededRNG(seed: UInt64(seed))
                var ex = all.examples
                FewShotSampler.shuffle(&ex, &rng)
                pool = Array(ex.prefix(options.unlabeledCount))
            }
            log("seed \(seed): \(train.examples.count) training, \(test.examples.count) test, \(pool.count) unlabelled examples")
            if !hasTest && options.saveDirectory == nil {
                log("warning: the task has no test split and nothing is saved (--save / --save-pattern-models): the trained models will be discarded")
            }
            let prompts = try task.loadPrompts(columns: train.columnNames)

            var testSum = [Float](repeating: 0, count: test.examples.count * L), testWSum = testSum
            var poolWSum = [Float](repeating: 0, count: pool.count * L)
            var weightTotal: Float = 0, models = 0
            var patternIndex = 0
            for (patterns, verbalizer) in prompts {
                let resolved = try verbalizer.resolve(labels: task.labels, vocabulary: vocabulary)
                for pattern in patterns {
                    defer { patternIndex += 1 }
                    patternInfo[patternIndex] = (pattern.source, pattern.location.description, verbalizer.file)
                    let builder = PETInputBuilder(pattern: pattern, vocabulary: vocabulary, maxLength: maxLength)
                    let trainF = try PETFeatures.build(train.examples, builder: builder)
                    let testF = try PETFeatures.build(test.examples, builder: builder)
                    let poolF = try PETFeatures.build(pool, builder: builder)
                    for rep in 0..<options.repetitions {
                        let model = try ModelLoader.loadMaskedLM(directory: options.modelDirectory)
                        let scorer = PETScorer(model: model, verbalizer: resolved)
                        let pad = vocabulary.specialTokens.padID
                        let before = try timed("zero-shot") { try scorer.predict(trainF, batchSize: options.evalBatchSize, padID: pad) }
                        let weight = Float(Metrics.accuracy(predictions: Metrics.argmaxRows(before, cols: L), gold: trainF.map { $0.label! }))
                        if options.zeroShot && rep == 0 && hasTest {
                            // The untrained model gives the same test logits for every seed whose test set is the
                            // same (LM-BFF's five seeds share one test set): compute them once.
                            let key = ZeroShotKey(pattern: patternIndex, inputs: testF.map(\.input.inputIDs))
                            let zs = try zeroShotCache[key] ?? timed("zero-shot") {
                                try scorer.predict(testF, batchSize: options.evalBatchSize, padID: pad,
                                                   progress: bar("zero-shot p\(patternIndex)", testF.count))
                            }
                            zeroShotCache[key] = zs
                            zeroShotRuns[patternIndex, default: []].append(score(zs, gold: gold, seed: seed))
                        }
                        guard options.trainPatterns else { continue }
                        var config = options.training
                        config.seed = UInt64(seed) &* 1000 &+ UInt64(rep)
                        let trainer = PETTrainer(config: config, scorer: scorer, padID: pad, maskID: vocabulary.maskTokenID,
                                                 specialIDs: Set(vocabulary.specialTokens.prefix + vocabulary.specialTokens.suffix + [pad, vocabulary.maskTokenID]))
                        let trainBar = bar("train p\(patternIndex) r\(rep) seed \(seed)", config.maxSteps)
                        let unlabeledF = config.alpha == nil ? [] : poolF
                        _ = try timed("pattern training") {
                            try trainer.train(trainF, unlabeled: unlabeledF) { step, loss in trainBar?(step) ; _ = loss }
                        }
                        let logits = try timed("test evaluation") {
                            try scorer.predict(testF, batchSize: options.evalBatchSize, padID: pad, progress: bar("test p\(patternIndex)", testF.count))
                        }
                        let s = hasTest ? score(logits, gold: gold, seed: seed, repetition: rep) : nil
                        log(String(format: "seed %d pattern %d rep %d: %@ (train acc before training %.3f)", seed, patternIndex, rep,
                                   s.map { String(format: "acc %.4f", $0.accuracy) } ?? "trained", weight))
                        if let s { patternRuns[patternIndex, default: []].append(s) }
                        if options.savePatternModels, let dir = options.saveDirectory {
                            let info = PatternModelCheckpoint.Info(pattern: pattern.source, source: pattern.location.description, verbalizer: verbalizer.file,
                                                                   labels: task.labels, seed: seed, repetition: rep, testAccuracy: s?.accuracy)
                            try PatternModelCheckpoint.save(model: model, info: info,
                                to: (dir as NSString).appendingPathComponent("seed-\(seed)/pattern-\(patternIndex)-rep-\(rep)"),
                                tokenizerFrom: options.modelDirectory)
                        }
                        for i in logits.indices { testSum[i] += logits[i]; testWSum[i] += weight * logits[i] }
                        if !poolF.isEmpty {
                            let pl = try timed("unlabelled logits") {
                                try scorer.predict(poolF, batchSize: options.evalBatchSize, padID: pad, progress: bar("pool p\(patternIndex)", poolF.count))
                            }
                            for i in pl.indices { poolWSum[i] += weight * pl[i] }
                        }
                        weightTotal += weight
                        models += 1
                    }
                }
            }
            if models > 0 && hasTest {
                ensembleMean.append(score(testSum.map { $0 / Float(models) }, gold: gold, seed: seed))
                // PET's wmean: np.average(logits, weights=train accuracies); uniform when all weights are 0.
                let wTest = weightTotal > 0 ? testWSum.map { $0 / weightTotal } : testSum.map { $0 / Float(models) }
                ensembleWeighted.append(score(wTest, gold: gold, seed: seed))
                log(String(format: "seed %d ensemble: mean %.4f, weighted %.4f", seed, ensembleMean.last!.accuracy, ensembleWeighted.last!.accuracy))
            }
            let plainColumns = task.format.columns.map { c in ["text_a", "text_b"].filter { c[$0] != nil } } ?? []
            let plain = PlainInput.builder(columns: plainColumns.isEmpty ? ["text_a"] : plainColumns, vocabulary: vocabulary, maxLength: maxLength)
            let pad = vocabulary.specialTokens.padID
            let testPlain = try PETFeatures.build(test.examples, builder: plain)
            /// Trains a fresh classification head on the checkpoint's encoder, scores it on the test set
            /// and saves it as `seed-S/<name>`: the distilled classifier and the fine-tuning baseline.
            func trainClassifier(_ name: String, phase: String, features: [PETFeature], targets: SequenceClassifierTrainer.Targets,
                                 config base: PETTrainingConfig) throws -> RunScore? {
                let loaded = try ModelLoader.load(directory: options.modelDirectory, mlmHead: .none, classificationLabels: L, seed: UInt64(seed))
                var config = base
                config.seed = UInt64(seed)
                let trainer = SequenceClassifierTrainer(config: config, model: loaded.model, head: loaded.classifier!, padID: pad)
                let b = bar("\(phase) seed \(seed)", config.maxSteps)
                _ = try timed(phase) { try trainer.train(features, targets: targets) { s, _ in b?(s) } }
                let logits = try timed("test evaluation") { try trainer.predict(testPlain, batchSize: options.evalBatchSize) }
                if options.saveClassifiers, let dir = options.saveDirectory {
                    try ClassifierCheckpoint.save(model: loaded.model, head: loaded.classifier!, labels: task.labels,
                                                  to: (dir as NSString).appendingPathComponent("seed-\(seed)/\(name)"), tokenizerFrom: options.modelDirectory)
                }
                guard hasTest else { return nil }
                let s = score(logits, gold: gold, seed: seed)
                log(String(format: "seed %d %@: acc %.4f", seed, phase, s.accuracy))
                return s
            }
            if options.distill && !pool.isEmpty && weightTotal > 0 {
                let teacher = poolWSum.map { $0 / weightTotal }
                if let s = try trainClassifier("final-classifier", phase: "distillation", features: try PETFeatures.build(pool, builder: plain),
                                               targets: .teacherLogits(teacher, temperature: options.temperature), config: options.distillation) {
                    distilled.append(s)
                }
            }
            if options.fineTune {
                if let s = try trainClassifier("fine-tuned-classifier", phase: "fine-tuning", features: try PETFeatures.build(train.examples, builder: plain),
                                               targets: .labels, config: options.fineTuning) {
                    fineTuned.append(s)
                }
            }
        }
        let order = ["zero-shot", "pattern training", "unlabelled logits", "test evaluation", "distillation", "fine-tuning"]
        let timings = order.compactMap { p in phaseSeconds[p].map { PhaseTiming(phase: p, seconds: $0) } }
        func results(_ runs: [Int: [RunScore]]) -> [PatternResult] {
            runs.keys.sorted().map { i in
                PatternResult(pattern: patternInfo[i]!.pattern, source: patternInfo[i]!.source, verbalizer: patternInfo[i]!.verbalizer,
                              scores: ScoreSummary(runs: runs[i]!))
            }
        }
        let t = options.training
        var settings: [String: String] = [
            "steps": "\(t.maxSteps)", "batchSize": "\(t.batchSize)", "learningRate": "\(t.learningRate)",
            "warmupSteps": "\(t.warmupSteps)", "maxLength": "\(maxLength)", "repetitions": "\(options.repetitions)",
            "unlabeled": "\(options.unlabeledCount)", "temperature": "\(options.temperature)",
            "distillSteps": "\(options.distillation.maxSteps)", "distillLearningRate": "\(options.distillation.learningRate)",
            "fineTuneSteps": "\(options.fineTuning.maxSteps)", "fineTuneLearningRate": "\(options.fineTuning.learningRate)",
            "k": options.k.map(String.init) ?? "split as is",
        ]
        if let a = t.alpha { settings["alpha"] = "\(a)" }
        return RunResults(task: task.name, model: options.modelDirectory, k: options.k ?? 0, seeds: options.seeds,
                          metric: task.metric.rawValue, settings: settings,
                          zeroShot: results(zeroShotRuns), patterns: results(patternRuns),
                          fineTuning: fineTuned.isEmpty ? nil : ScoreSummary(runs: fineTuned),
                          ensembleMean: ensembleMean.isEmpty ? nil : ScoreSummary(runs: ensembleMean),
                          ensembleWeighted: ensembleWeighted.isEmpty ? nil : ScoreSummary(runs: ensembleWeighted),
                          finalClassifier: distilled.isEmpty ? nil : ScoreSummary(runs: distilled), timings: timings)
    }

    struct ZeroShotKey: Hashable {
        var pattern: Int
        var inputs: [[Int32]]
    }

    func bar(_ label: String, _ total: Int) -> ((Int) -> Void)? {
        guard options.progress else { return nil }
        let b = ProgressBar(label, total: total)
        return { b.update($0) }
    }
}
