import ClozeModels
import ClozeTensor
import Foundation

/// One pattern of a seed's prompts: its verbalizer bound to the model's vocabulary and its inputs
/// built for the training, test and pool examples (once, shared by repetitions and generations).
struct PatternSpec {
    var index: Int
    var pattern: Pattern
    var verbalizerFile: String
    var verbalizer: ResolvedVerbalizer
    /// Multi-mask PET: the label verbalizations' tokens (the builder then expands the mask).
    var multiToken: MultiTokenVerbalizer?
    var builder: PETInputBuilder
    var train: [PETFeature]
    /// Test and pool inputs: `samples` sample-major sets each (more than one with demonstrations).
    var test: [PETFeature]
    var pool: [PETFeature]
    var demonstrations: DemonstrationPlan? = nil
    var samples = 1
}

/// Identifies one pattern model of a generation: pattern index and repetition.
public struct PatternModelID: Hashable, Sendable, Comparable {
    public var pattern: Int
    public var repetition: Int
    public static func < (a: Self, b: Self) -> Bool { (a.pattern, a.repetition) < (b.pattern, b.repetition) }
}

/// What one pattern model leaves for the ensembles, iPET's pseudo-labelling and distillation.
public struct PatternModelOutput: Sendable {
    public var id: PatternModelID
    /// Accuracy on its own training set before training (PET's wmean weight); 1 without a training set.
    public var weight: Float
    /// Label logits [test, labels] and [pool, labels], row-major.
    public var testLogits: [Float]
    public var poolLogits: [Float]
    public var score: RunScore?
}

extension PETExperiment {
    /// Binds every pattern of the seed's prompts to the model and builds its inputs.
    func patternSpecs(_ data: SeedData, state: RunState) throws -> [PatternSpec] {
        var specs: [PatternSpec] = []
        for (patterns, verbalizer) in data.prompts {
            let multiToken = options.multiMask ? try verbalizer.resolveMultiToken(labels: task.labels, vocabulary: vocabulary) : nil
            let resolved = try multiToken.map { ResolvedVerbalizer(labels: $0.labels, vocabularyRows: [], labelColumns: []) }
                ?? verbalizer.resolve(labels: task.labels, vocabulary: vocabulary)
            for pattern in patterns {
                let index = specs.count
                state.patternInfo[index] = (pattern.source, pattern.location.description, verbalizer.file)
                let builder = PETInputBuilder(pattern: pattern, vocabulary: vocabulary, maxLength: maxLength(for: pattern),
                                              maskCount: multiToken?.maskCount ?? 1)
                var spec = PatternSpec(index: index, pattern: pattern, verbalizerFile: verbalizer.file, verbalizer: resolved,
                                       multiToken: multiToken, builder: builder, train: [], test: [], pool: [])
                if let o = demonstrationOptions(for: pattern) {
                    state.demonstrationPatterns = true
                    let d = try demonstrationFeatures(pattern: pattern, builder: builder, verbalizer: resolved, index: index, data: data,
                                                      options: o, state: state)
                    (spec.demonstrations, spec.train, spec.test, spec.pool, spec.samples) = (d.plan, d.train, d.test, d.pool, o.samples)
                } else {
                    (spec.train, spec.test, spec.pool) = (try PETFeatures.build(data.train.examples, builder: builder),
                        try PETFeatures.build(data.test.examples, builder: builder), try PETFeatures.build(data.pool, builder: builder))
                }
                specs.append(spec)
            }
        }
        return specs
    }

    /// Stage 2: one pattern model. Loads a fresh model, weighs it by its zero-shot accuracy on its training
    /// set (`spec.train` + `extraTraining`), records the zero-shot test score once per pattern, trains it
    /// (unless `train` is false or it has no examples), scores it on the test set, optionally saves it, and
    /// computes its pool logits. Returns nil for `cloze eval` (zero-shot only).
    func runPatternModel(_ spec: PatternSpec, repetition rep: Int, generation: Int, extraTraining: [PETFeature],
                         data: SeedData, state: RunState) throws -> PatternModelOutput? {
        let L = task.labels.count, pad = vocabulary.specialTokens.padID
        let model = try ModelLoader.loadMaskedLM(directory: options.modelDirectory, quantization: options.quantization)
        try attachAdapters(model, seed: UInt64(data.seed) &* 1000 &+ UInt64(rep) &+ UInt64(generation) &* 1_000_003,
                           softTokens: spec.pattern.softTokenCount)
        let scorer = spec.multiToken.map { PETScorer(model: model, multiToken: $0) } ?? PETScorer(model: model, verbalizer: spec.verbalizer)
        let trainingSet = spec.train + extraTraining
        let before = try state.timed("zero-shot") { try scorer.predict(trainingSet, batchSize: options.evalBatchSize, padID: pad) }
        let weight = trainingSet.isEmpty ? 1
            : Float(Metrics.accuracy(predictions: Metrics.argmaxRows(before, cols: L), gold: trainingSet.map { $0.label! }))
        var zeroShotTest: [Float]?
        if options.zeroShot && rep == 0 && generation == 0 && data.hasTest {
            zeroShotTest = try zeroShotTestLogits(spec, scorer: scorer, state: state)
            state.zeroShotRuns[spec.index, default: []].append(score(zeroShotTest!, gold: data.gold, seed: data.seed))
        }
        guard options.trainPatterns else { return nil }
        let trains = !trainingSet.isEmpty
        if trains { try trainPatternModel(scorer, trainingSet, spec: spec, repetition: rep, generation: generation, seed: data.seed, state: state) }
        let logits = try zeroShotTest.flatMap { trains ? nil : $0 } ?? state.timed("test evaluation") {
            try predictAveraged(scorer, spec.test, samples: spec.samples, progress: "test p\(spec.index)")
        }
        let s = data.hasTest ? score(logits, gold: data.gold, seed: data.seed, repetition: rep) : nil
        let tag = generation > 0 || options.method == .ipet ? "generation \(generation) " : ""
        log(String(format: "seed %d %@pattern %d rep %d: %@ (train acc before training %.3f)", data.seed, tag, spec.index, rep,
                   s.map { String(format: "acc %.4f", $0.accuracy) } ?? (trains ? "trained" : "untrained"), weight))
        if trains && options.savePatternModels, let dir = options.saveDirectory {
            // `--demos` trained it with demonstrations: the saved pattern says so.
            let source = spec.demonstrations != nil && !spec.pattern.demonstrations ? spec.pattern.source + " {demo}" : spec.pattern.source
            var info = PatternModelCheckpoint.Info(pattern: source, source: spec.pattern.location.description,
                                                   verbalizer: spec.verbalizerFile, labels: task.labels, seed: data.seed,
                                                   repetition: rep, testAccuracy: s?.accuracy)
            info.demonstrations = savedDemonstrations(spec, seed: data.seed)
            let name = generation > 0 ? "g\(generation)-pattern-\(spec.index)-rep-\(rep)" : "pattern-\(spec.index)-rep-\(rep)"
            let path = (dir as NSString).appendingPathComponent("seed-\(data.seed)/\(name)")
            try PatternModelCheckpoint.save(model: model, info: info, to: path, tokenizerFrom: options.modelDirectory)
            try saveAdapters(model, to: (path as NSString).appendingPathComponent("adapter"))
        }
        let poolLogits = spec.pool.isEmpty ? [] : try state.timed("unlabelled logits") {
            try predictAveraged(scorer, spec.pool, samples: spec.samples, progress: "pool p\(spec.index)")
        }
        return PatternModelOutput(id: PatternModelID(pattern: spec.index, repetition: rep), weight: weight,
                                  testLogits: logits, poolLogits: poolLogits, score: s)
    }

    /// The demonstration pool and settings of a pattern trained with demonstrations (nil without).
    func savedDemonstrations(_ spec: PatternSpec, seed: Int) -> PatternModelCheckpoint.SavedDemonstrations? {
        guard let plan = spec.demonstrations, let o = demonstrationOptions(for: spec.pattern) else { return nil }
        let pool = plan.trainExamples.map { PatternModelCheckpoint.SavedDemonstrations.PoolExample(fields: $0.fields, label: $0.label!) }
        return .init(pool: pool, options: o, maxLength: maxLength(with: o),
                     seed: UInt64(seed) &* 7_368_787 &+ UInt64(spec.index) &* 131 &+ 3)
    }

    /// The trained adapter in PEFT's layout (the model's own merged checkpoint sits beside it).
    func saveAdapters(_ model: any MaskedLanguageModel, to dir: String) throws {
        let base = options.modelDirectory
        if model.softPrompt != nil { try PEFTAdapterFile.savePrompt(model, baseModel: base, to: dir) }
        if model.prefix != nil { try PEFTAdapterFile.savePrefix(model, baseModel: base, to: dir) }
        if let lora = options.lora { try PEFTAdapterFile.saveLoRA(model, config: lora, baseModel: base, to: dir) }
        if options.ia3 != nil { try PEFTAdapterFile.saveIA3(model, baseModel: base, to: dir) }
        if let c = options.bottleneckAdapters, let m = model as? TransformerMaskedLM {
            try PEFTAdapterFile.saveBottleneckAdapters(m, config: c, baseModel: base, to: dir)
        }
    }

    /// Attaches the configured adapters (LoRA / DoRA, (IA)³, soft prompt / P-tuning, prefix, bottleneck
    /// adapters) to a freshly loaded model, seeded per model.
    /// `softTokens`: the pattern's [SOFT] tokens, which get a soft prompt of that size under any tuning
    /// method (P-tuning's in-pattern tokens; --prompt-init and --ptuning-encoder apply to them).
    func attachAdapters(_ model: any MaskedLanguageModel, seed: UInt64, softTokens: Int = 0) throws {
        let initialization = options.softPrompt?.initialization ?? .vocabulary(limit: 5000)
        let promptCount = softTokens > 0 ? softTokens : options.softPrompt?.count
        if let count = promptCount {
            let p = try SoftPrompt(count: count, model: model, initialization: initialization, seed: seed &+ 0x5072_6F6D)
            if let e = options.promptEncoder {
                let width = p.embeddings.shape[1]
                let encoder = try PromptEncoder(kind: e.kind, width: width, hidden: e.hidden ?? width, seed: seed &+ 0x5054_756E)
                model.softPrompt = SoftPrompt(embeddings: p.embeddings, encoder: encoder)
            } else {
                model.softPrompt = p
            }
        }
        if let prefix = options.prefix {
            model.prefix = try PrefixPrompt(virtualTokens: prefix.count, projectionHidden: prefix.projectionHidden, model: model,
                                            seed: seed &+ 0x5072_6566)
        }
        if let c = options.bottleneckAdapters {
            guard let m = model as? TransformerMaskedLM else { throw PETError(.badTaskDescriptor, "bottleneck adapters need a transformer masked LM") }
            try c.attach(to: m, seed: seed &+ 0x4164_6170)
        }
        if let ia3 = options.ia3 {
            do { try IA3.attach(to: model, config: ia3) } catch let e as ModelError {
                throw PETError(.badTaskDescriptor, "--lora-targets: \(e.description)")
            }
        }
        guard let lora = options.lora else { return }
        do { try LoRA.attach(to: model, config: lora, seed: seed &+ 0x4C6F_5241) } catch let e as ModelError {
            throw PETError(.badTaskDescriptor, "--lora-targets: \(e.description)")
        }
    }

    /// The untrained model's test logits: the same for every seed whose test set is the same (LM-BFF's
    /// five seeds share one test set), so they are computed once.
    func zeroShotTestLogits(_ spec: PatternSpec, scorer: PETScorer, state: RunState) throws -> [Float] {
        let key = ZeroShotKey(pattern: spec.index, inputs: spec.test.map(\.input.inputIDs))
        if let cached = state.zeroShotCache[key] { return cached }
        let logits = try state.timed("zero-shot") {
            try predictAveraged(scorer, spec.test, samples: spec.samples, progress: "zero-shot p\(spec.index)")
        }
        state.zeroShotCache[key] = logits
        return logits
    }

    func trainPatternModel(_ scorer: PETScorer, _ features: [PETFeature], spec: PatternSpec, repetition rep: Int,
                           generation: Int, seed: Int, state: RunState) throws {
        var config = options.training
        // Generation 0 keeps PET's seeds; later iPET generations get their own.
        config.seed = UInt64(seed) &* 1000 &+ UInt64(rep) &+ UInt64(generation) &* 1_000_003
        let pad = vocabulary.specialTokens.padID, maskID = vocabulary.maskTokenID
        let trainer = PETTrainer(config: config, scorer: scorer, padID: pad, maskID: maskID,
                                 specialIDs: Set(vocabulary.specialTokens.prefix + vocabulary.specialTokens.suffix + [pad, maskID]))
        let trainBar = bar("train p\(spec.index) r\(rep) seed \(seed)" + (generation > 0 ? " g\(generation)" : ""), config.maxSteps)
        let unlabeled = config.alpha == nil ? [] : spec.pool
        let result = try state.timed("pattern training") {
            // With demonstrations, the seed's own training examples get a fresh set at every draw.
            try trainer.train(count: features.count, feature: { i, rng in
                if let plan = spec.demonstrations, i < plan.trainExamples.count { return try plan.trainingFeature(i, rng: &rng) }
                return features[i]
            }, unlabeled: unlabeled) { step, _ in trainBar?(step) }
        }
        state.recordTrainable("pattern models", result, log: log)
    }
}

/// Mutable bookkeeping of one experiment run shared by its stages: phase timings, the zero-shot cache
/// and per-pattern descriptions.
final class RunState {
    var phaseSeconds: [String: Double] = [:]
    /// Wall time of each generation's pattern models (training, scoring, pool logits) and of the
    /// pseudo-labelling that precedes it, summed over seeds.
    var generationSeconds: [Int: Double] = [:]
    var zeroShotCache: [ZeroShotKey: [Float]] = [:]
    /// Demonstration filtering: the sentence encoder (loaded once) and every text's embedding.
    var sentenceEncoder: SentenceEncoder?
    var embeddingCache: [String: [Float]] = [:]
    /// Some pattern had demonstrations (from `--demos` or its own `{demo}`).
    var demonstrationPatterns = false
    var zeroShotRuns: [Int: [RunScore]] = [:]
    var patternInfo: [Int: (pattern: String, source: String, verbalizer: String)] = [:]
    /// Parameter counts and mean step time of each trained stage (pattern models, distillation, fine-tuning).
    var trainable: [String: TrainableCount] = [:]
    var stepSeconds: [String: (seconds: Double, steps: Int)] = [:]

    /// Notes a training run's counts (printed once per stage, like PEFT's print_trainable_parameters).
    func recordTrainable(_ stage: String, _ run: PETTrainingLog, log: (String) -> Void) {
        if trainable[stage] == nil { log("\(stage): \(run.trainable)") }
        trainable[stage] = run.trainable
        let s = stepSeconds[stage] ?? (0, 0)
        stepSeconds[stage] = (s.seconds + run.seconds, s.steps + run.stepLosses.count)
    }

    func timed<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
        let t0 = Date()
        defer { phaseSeconds[phase, default: 0] += Date().timeIntervalSince(t0) }
        return try body()
    }

    func timed<T>(generation g: Int, _ body: () throws -> T) rethrows -> T {
        let t0 = Date()
        defer { generationSeconds[g, default: 0] += Date().timeIntervalSince(t0) }
        return try body()
    }
}

struct ZeroShotKey: Hashable {
    var pattern: Int
    var inputs: [[Int32]]
}
