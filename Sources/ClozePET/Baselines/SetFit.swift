import ClozeModels
import ClozeTensor
import Foundation

/// Settings of `cloze setfit` (SetFit 1.x defaults).
public struct SetFitOptions {
    public var encoderDirectory: String
    public var seeds: [Int]
    /// Body learning rate of the contrastive phase, pairs per batch, epochs over the pairs, warmup share.
    public var learningRate: Float = 2e-5
    public var batchSize = 16
    /// Padded tokens per encoder pass inside a batch (length-sorted sentences; each pass padded to its
    /// own longest).
    public var microBatchTokens = 256
    public var epochs = 1
    public var warmupProportion = 0.1
    /// Logistic-regression inverse regularisation (sklearn C).
    public var headC = 1.0
    public var dataRoot: String?
    public var testLimit: Int?
    public var evalBatchSize = 32
    public var progress = true
    public init(encoderDirectory: String, seeds: [Int]) { self.encoderDirectory = encoderDirectory; self.seeds = seeds }
}

/// A SetFit-style baseline (Tunstall et al. 2022): contrastive fine-tuning of a sentence encoder on
/// pairs of training sentences (target cosine 1 for the same class, 0 otherwise; SetFit's
/// CosineSimilarityLoss with its "oversampling" pair strategy), then a logistic-regression head on the
/// fine-tuned embeddings.
public struct SetFitRun {
    public let task: TaskDescriptor
    public let options: SetFitOptions
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(task: TaskDescriptor, options: SetFitOptions) { self.task = task; self.options = options }

    /// Pair indices (i, j, same class?) for one epoch: every unordered pair once, the smaller of the
    /// positive and negative sets drawn again at random until both are the size of the larger, shuffled.
    public static func pairs(labels: [Int], rng: inout SeededRNG) -> [(Int, Int, Bool)] {
        var positive: [(Int, Int, Bool)] = [], negative: [(Int, Int, Bool)] = []
        for i in labels.indices {
            for j in (i + 1)..<labels.count {
                if labels[i] == labels[j] { positive.append((i, j, true)) } else { negative.append((i, j, false)) }
            }
        }
        func grow(_ a: inout [(Int, Int, Bool)], to n: Int) {
            guard !a.isEmpty else { return }
            var extra: [(Int, Int, Bool)] = []
            while a.count + extra.count < n {
                var copy = a
                FewShotSampler.shuffle(&copy, &rng)
                extra += copy.prefix(n - a.count - extra.count)
            }
            a += extra
        }
        let n = max(positive.count, negative.count)
        grow(&positive, to: n); grow(&negative, to: n)
        var all = positive + negative
        FewShotSampler.shuffle(&all, &rng)
        return all
    }

    /// Scores per seed, wall seconds per seed (load, training, test embedding) and training seconds
    /// (contrastive phase and head: what SetFit's trainer.train() times).
    public func run() throws -> (runs: [RunScore], seconds: [Double], trainingSeconds: [Double]) {
        var runs: [RunScore] = [], seconds: [Double] = [], training: [Double] = []
        for seed in options.seeds {
            let start = Date()
            let (score, train) = try runSeed(seed)
            runs.append(score); training.append(train)
            seconds.append(Date().timeIntervalSince(start))
            log(String(format: "seed %d: SetFit-style accuracy %.4f (%.1f s, training %.1f s)", seed, score.accuracy, seconds.last!, train))
        }
        return (runs, seconds, training)
    }

    func runSeed(_ seed: Int) throws -> (RunScore, trainingSeconds: Double) {
        let train = try task.loadSplit("train", seed: seed, dataRoot: options.dataRoot)
        var test = try task.loadSplit("test", seed: seed, dataRoot: options.dataRoot)
        if let limit = options.testLimit { test.examples = Array(test.examples.prefix(limit)) }
        let encoder = try SentenceEncoder(directory: options.encoderDirectory)
        let texts = train.examples.map(Self.text), labels = train.examples.map { $0.label! }
        let start = Date()
        try contrastivePhase(encoder, texts: texts, labels: labels, seed: UInt64(seed))
        let d = encoder.dimension
        let head = LogisticRegression.fit(try encoder.embed(texts), labels: labels, classes: task.labels.count, dimension: d, c: options.headC)
        let trainingSeconds = Date().timeIntervalSince(start)
        let testEmbeddings = try encoder.embed(test.examples.map(Self.text), batchSize: options.evalBatchSize)
        let predictions = Metrics.argmaxRows(head.logits(testEmbeddings), cols: task.labels.count)
        let gold = test.examples.map { $0.label! }
        return (RunScore(seed: seed, accuracy: Metrics.accuracy(predictions: predictions, gold: gold),
                         macroF1: Metrics.macroF1(predictions: predictions, gold: gold, classes: task.labels.count)), trainingSeconds)
    }

    /// The example's text: text_a, and text_b after a space when present (as LM-BFF embeds pairs).
    static func text(_ e: Example) -> String { [e.fields["text_a"], e.fields["text_b"]].compactMap { $0 }.joined(separator: " ") }

    /// Contrastive fine-tuning: MSE between the cosine of each pair's mean-pooled embeddings and its
    /// target, AdamW with linear warmup and decay, dropout on, every encoder weight trained.
    func contrastivePhase(_ encoder: SentenceEncoder, texts: [String], labels: [Int], seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        var pairs: [(Int, Int, Bool)] = []
        for _ in 0..<options.epochs { pairs += Self.pairs(labels: labels, rng: &rng) }
        let steps = (pairs.count + options.batchSize - 1) / options.batchSize
        let model = encoder.model
        let ids = texts.map(encoder.ids)
        // The word table trains through a window over the training texts' tokens and the padding id
        // (same numbers as the dense table, 141 MB less).
        let window = try model.openWordWindow(ids: Set(ids.joined()).union([encoder.tokenizer.padTokenID ?? 0]))
        let params = window.substituted(in: model.applyTrainability(.full, head: []).trainable)
        let noDecay = Set(params.filter { $0.name.contains("bias") || $0.name.contains("LayerNorm.weight") }.map { ObjectIdentifier($0.tensor) })
        let opt = AdamW(parameters: params.map(\.tensor), learningRate: options.learningRate, eps: 1e-6, weightDecay: 0.01, noDecay: noDecay)
        let schedule = LinearSchedule(baseLR: options.learningRate, warmupSteps: Int((Double(steps) * options.warmupProportion).rounded(.up)), totalSteps: steps)
        var dropout: SeededRNG? = SeededRNG(seed: seed &+ 1)
        let bar = options.progress ? ProgressBar("setfit contrastive", total: steps) : nil
        for step in 0..<steps {
            let batch = Array(pairs[(step * options.batchSize)..<min((step + 1) * options.batchSize, pairs.count)])
            let tape = Tape()
            // Each distinct sentence of the batch is encoded once (16 pairs of 32 training sentences hold ~20
            // distinct ones); both sides of the pairs gather their rows, and the gradients add up there.
            let unique = Array(Set(batch.flatMap { [$0.0, $0.1] })).sorted { (ids[$0].count, $0) < (ids[$1].count, $1) }
            let slot = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($1, $0) })
            let pooled = try pooledByLength(encoder, unique.map { ids[$0] }, rng: &dropout, tape: tape)
            let u = Ops.gatherRows(pooled, rows: batch.map { slot[$0.0]! }, tape: tape)
            let v = Ops.gatherRows(pooled, rows: batch.map { slot[$0.1]! }, tape: tape)
            let target = Tensor(shape: [batch.count, 1], data: batch.map { $0.2 ? 1 : 0 })
            let diff = Ops.addScaled(Ops.cosineRows(u, v, tape: tape), target, alpha: 1, beta: -1, tape: tape)
            let loss = Ops.mean(Ops.mul(diff, diff, tape: tape), tape: tape)
            applyUpdate(loss: loss, tape: tape, optimizer: opt, schedule: schedule, step: step, maxGradNorm: 1)
            bar?.update(step + 1)
        }
        for p in params { p.tensor.requiresGrad = false }
        let decay = (0..<steps).reduce(Float(1)) { $0 * (1 - schedule.lr(atStep: $1) * opt.weightDecay) }
        model.closeWordWindow(otherRowsDecay: decay)
    }

    /// Pooled embeddings of length-sorted sequences, encoded in groups of at most
    /// `options.microBatchTokens` padded tokens, each padded only to its own longest: a 16-pair batch
    /// can mix 5- and 60-token sentences (padding all to the longest doubled the work and activation
    /// memory), while short sentences still share one pass (small GEMMs cost more per row).
    func pooledByLength(_ encoder: SentenceEncoder, _ sequences: [[Int32]], rng: inout SeededRNG?, tape: Tape) throws -> Tensor {
        var parts: [Tensor] = [], start = 0
        while start < sequences.count {
            var end = start + 1
            while end < sequences.count && (end + 1 - start) * sequences[end].count <= options.microBatchTokens { end += 1 }
            parts.append(try encoder.pooled(Array(sequences[start..<end]), training: true, rng: &rng, tape: tape))
            start = end
        }
        return parts.count == 1 ? parts[0] : Ops.concatRows(parts, tape: tape)
    }
}
