import ClozeModels
import ClozeTensor
import Foundation

/// Settings of a `cloze train` run.
public struct PETExperimentOptions {
    public enum Method: String, Sendable { case pet, ipet }
    public var method = Method.pet
    public var ipet = IPETOptions()
    public var modelDirectory: String
    public var seeds: [Int]
    /// Examples per class sampled from the train split (nil: the split as is, e.g. LM-BFF's 16-shot files;
    /// 0: no labelled examples, zero-shot iPET).
    public var k: Int?
    public var repetitions = 1
    /// Multi-mask PET: verbalizations of several tokens, one mask per token (hinge loss, max-first decoding).
    public var multiMask = false
    public var training = PETTrainingConfig()
    /// LoRA adapters on every pattern model and classifier (base frozen through the stages' trainability).
    public var lora: LoRAConfig?
    /// (IA)³ vectors on every pattern model and classifier (base frozen likewise).
    public var ia3: IA3Config?
    /// Prompt tuning: this many virtual tokens before every input, initialised as given.
    public var softPrompt: (count: Int, initialization: SoftPrompt.Initialization)?
    /// P-tuning: the soft prompt's tokens pass through this encoder (kind, hidden size; nil size = the model's width).
    public var promptEncoder: (kind: PromptEncoder.Kind, hidden: Int?)?
    /// Prefix tuning: this many key/value prefixes per layer, optionally through a reparameterisation MLP.
    public var prefix: (count: Int, projectionHidden: Int?)?
    /// Houlsby / Pfeiffer bottleneck adapters in every layer.
    public var bottleneckAdapters: BottleneckAdapterConfig?
    /// `.nf4`: every model is loaded with its transformer-layer Linear weights in NF4 (QLoRA's frozen
    /// base); only trainability policies that leave those weights frozen are accepted.
    public var quantization = WeightQuantization.none
    public var maxLength: Int?
    /// LM-BFF demonstrations (`--demos`); patterns ending in `{demo}` get them with the defaults anyway.
    public var demonstrations: DemonstrationOptions?
    public var evalBatchSize = 32
    public var testLimit: Int?
    public var dataRoot: String?
    public var zeroShot = true
    /// False: zero-shot evaluation only (`cloze eval`).
    public var trainPatterns = true
    /// Standard fine-tuning baseline (classification head on the K examples); steps/lr from `fineTuning`.
    public var fineTune = true
    public var fineTuning = PETTrainingConfig()
    /// Size of the unlabelled pool (ensemble soft labels, distillation, iPET); 0 = no pool.
    public var unlabeledCount = 0
    public var distill = true
    public var distillation = PETTrainingConfig()
    public var temperature: Float = 2
    public var progress = true
    /// Where to save trained models in Hugging Face layout (nil: nothing is saved).
    public var saveDirectory: String?
    /// Save each seed's distilled and fine-tuned classifiers under `saveDirectory/seed-S/`.
    public var saveClassifiers = true
    /// Also save every trained pattern model (MLM) under `saveDirectory/seed-S/[gG-]pattern-P-rep-R`.
    public var savePatternModels = false

    public init(modelDirectory: String, seeds: [Int]) {
        self.modelDirectory = modelDirectory; self.seeds = seeds
    }
}

/// PET (and iPET) end to end for one task, as a composition of stages per seed:
/// 1. `loadSeedData`: K-shot training set, test set, unlabelled pool, prompts;
/// 2. `runPatternModel` for every pattern × repetition: zero-shot score, training, test and pool logits;
/// 3. `Ensemble`: mean and train-accuracy-weighted (PET's wmean) logits on the test set and the pool;
/// 4. iPET only: further generations, each model trained on T plus pool examples pseudo-labelled by
///    an ensemble of the previous generation's other models (`IPETSampling`);
/// 5. `classifierStage`: the last generation's weighted pool logits distilled into a sequence
///    classifier (KL at temperature T), and a plain fine-tuning baseline.
public struct PETExperiment {
    public let task: TaskDescriptor
    public let options: PETExperimentOptions
    public let vocabulary: any TokenVocabulary
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(task: TaskDescriptor, options: PETExperimentOptions, vocabulary: any TokenVocabulary) {
        self.task = task; self.options = options; self.vocabulary = vocabulary
    }

    var maxLength: Int { options.maxLength ?? task.maxLength ?? 128 }

    /// NF4 weights cannot train: refuse a stage whose policy would update transformer-layer weights.
    func checkQuantization() throws {
        guard options.quantization != .none else { return }
        let stages = [(options.trainPatterns, options.training.trainability, "pattern models"),
                      (options.distill, options.distillation.trainability, "distillation"),
                      (options.fineTune, options.fineTuning.trainability, "fine-tuning")]
        for (runs, policy, stage) in stages where runs && policy.trainsLayerWeights {
            throw PETError(.badTaskDescriptor, "--quantize \(options.quantization.rawValue): the quantised layer weights are frozen, but \(stage) would train them (--tuning \(policy)); use --tuning lora, dora, ia3, prompt, bitfit or bitfit-subset")
        }
    }

    public func run() throws -> RunResults {
        if options.method == .ipet {
            guard options.unlabeledCount > 0 else { throw PETError(.emptyDataset, "iPET labels an unlabelled pool: give --unlabeled N") }
            guard options.ipet.generations >= 1 else { throw PETError(.emptyDataset, "iPET needs at least one generation") }
        }
        try checkQuantization()
        let state = RunState()
        var collector = ResultsCollector()
        for seed in options.seeds {
            let data = try loadSeedData(seed: seed)
            let specs = try patternSpecs(data, state: state)
            var outputs = try state.timed(generation: 0) { try generation(0, specs: specs, data: data, extraTraining: [:], state: state) }
            collector.record(generation: 0, outputs: outputs, ensembles: ensembleScores(outputs, data: data, generation: 0))
            if options.method == .ipet && options.trainPatterns {
                for g in 1..<options.ipet.generations {
                    outputs = try state.timed(generation: g) {
                        let extra = state.timed("pseudo-labelling") { pseudoLabelledSets(after: g - 1, outputs: outputs, specs: specs, data: data) }
                        return try generation(g, specs: specs, data: data, extraTraining: extra, state: state)
                    }
                    collector.record(generation: g, outputs: outputs, ensembles: ensembleScores(outputs, data: data, generation: g))
                }
            }
            let teacher = outputs.isEmpty || data.pool.isEmpty ? nil : Ensemble.weighted(outputs.map(\.poolLogits), weights: outputs.map(\.weight))
            let (distilled, fineTuned) = try classifierStage(data, teacher: teacher, state: state)
            collector.distilled += distilled.map { [$0] } ?? []
            collector.fineTuned += fineTuned.map { [$0] } ?? []
        }
        return collector.results(experiment: self, state: state)
    }

    /// Every pattern × repetition of one generation (generation 0: PET's pattern models).
    func generation(_ g: Int, specs: [PatternSpec], data: SeedData, extraTraining: [PatternModelID: [PETFeature]],
                    state: RunState) throws -> [PatternModelOutput] {
        var outputs: [PatternModelOutput] = []
        for spec in specs {
            for rep in 0..<options.repetitions {
                let id = PatternModelID(pattern: spec.index, repetition: rep)
                if let out = try runPatternModel(spec, repetition: rep, generation: g, extraTraining: extraTraining[id] ?? [],
                                                 data: data, state: state) {
                    outputs.append(out)
                }
            }
        }
        return outputs
    }

    /// Test-set ensembles of one generation (nil without a test set or models).
    func ensembleScores(_ outputs: [PatternModelOutput], data: SeedData, generation: Int) -> (mean: RunScore, weighted: RunScore)? {
        guard !outputs.isEmpty && data.hasTest else { return nil }
        let mean = score(Ensemble.mean(outputs.map(\.testLogits)), gold: data.gold, seed: data.seed)
        let weighted = score(Ensemble.weighted(outputs.map(\.testLogits), weights: outputs.map(\.weight)), gold: data.gold, seed: data.seed)
        let tag = options.method == .ipet ? "generation \(generation) " : ""
        log(String(format: "seed %d %@ensemble: mean %.4f, weighted %.4f", data.seed, tag, mean.accuracy, weighted.accuracy))
        return (mean, weighted)
    }

    /// iPET: every model of the next generation gets pool examples labelled by an ensemble of a random
    /// fraction of the *other* models of generation `g`, keeping T's label distribution.
    func pseudoLabelledSets(after g: Int, outputs: [PatternModelOutput], specs: [PatternSpec], data: SeedData) -> [PatternModelID: [PETFeature]] {
        let L = task.labels.count
        let trainLabels = data.train.examples.map { $0.label! }
        let newCount = IPETSampling.newExampleCount(trainCount: trainLabels.count, generation: g, scaleFactor: options.ipet.scaleFactor)
        let perLabel = IPETSampling.examplesPerLabel(trainLabels: trainLabels, labelCount: L, newExamples: newCount)
        var rng = SeededRNG(seed: UInt64(data.seed) &* 7919 &+ UInt64(g))
        var sets: [PatternModelID: [PETFeature]] = [:]
        for out in outputs {
            var others = outputs.filter { $0.id != out.id }
            if others.isEmpty {
                log("warning: iPET with a single pattern model: it labels its own next training set (add patterns or --repetitions)")
                others = [out]
            }
            let draw = IPETSampling.draw(others: others.map { ($0.poolLogits, $0.weight) }, labelCount: L, examplesPerLabel: perLabel,
                                         logitsPercentage: options.ipet.logitsPercentage,
                                         nMostLikely: g == 0 ? options.ipet.nMostLikely : -1, rng: &rng)
            if !draw.emptyLabels.isEmpty {
                log("seed \(data.seed) generation \(g + 1): the ensemble predicts no pool example as \(draw.emptyLabels.map { task.labels[$0] }); drew the examples most likely under it")
            }
            let pool = specs[out.id.pattern].pool
            sets[out.id] = zip(draw.indices, draw.labels).map { PETFeature(input: pool[$0].input, label: $1) }
        }
        log("seed \(data.seed) generation \(g + 1): \(newCount) pseudo-labelled examples per model (per label \(perLabel))")
        return sets
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

    func bar(_ label: String, _ total: Int) -> ((Int) -> Void)? {
        guard options.progress else { return nil }
        let b = ProgressBar(label, total: total)
        return { b.update($0) }
    }
}
