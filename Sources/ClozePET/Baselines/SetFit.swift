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

    public func run() throws -> (runs: [RunScore], seconds: [Double]) {
        var runs: [RunScore] = [], seconds: [Double] = []
        for seed in options.seeds {
            let start = Date()
            runs.append(try runSeed(seed))
            seconds.append(Date().timeIntervalSince(start))
            log(String(format: "seed %d: SetFit-style accuracy %.4f (%.1f s)", seed, runs.last!.accuracy, seconds.last!))
        }
        return (runs, seconds)
    }

    func runSeed(_ seed: Int) throws -> RunScore {
        let train = try task.loadSplit("train", seed: seed, dataRoot: options.dataRoot)
        var test = try task.loadSplit("test", seed: seed, dataRoot: options.dataRoot)
        if let limit = options.testLimit { test.examples = Array(test.examples.prefix(limit)) }
        let encoder = try SentenceEncoder(directory: options.encoderDirectory)
        let texts = train.examples.map(Self.text), labels = train.examples.map { $0.label! }
        try contrastivePhase(encoder, texts: texts, labels: labels, seed: UInt64(seed))
        let d = encoder.dimension
        let head = LogisticRegression.fit(try encoder.embed(texts), labels: labels, classes: task.labels.count, dimension: d, c: options.headC)
        let testEmbeddings = try encoder.embed(test.examples.map(Self.text), batchSize: options.evalBatchSize)
        let predictions = Metrics.argmaxRows(head.logits(testEmbeddings), cols: task.labels.count)
        let gold = test.examples.map { $0.label! }
        return RunScore(seed: seed, accuracy: Metrics.accuracy(predictions: predictions, gold: gold),
                        macroF1: Metrics.macroF1(predictions: predictions, gold: gold, classes: task.labels.count))
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
        let (params, _) = model.applyTrainability(.full, head: [])
        let noDecay = Set(params.filter { $0.name.contains("bias") || $0.name.contains("LayerNorm.weight") }.map { ObjectIdentifier($0.tensor) })
        let opt = AdamW(parameters: params.map(\.tensor), learningRate: options.learningRate, eps: 1e-6, weightDecay: 0.01, noDecay: noDecay)
        let schedule = LinearSchedule(baseLR: options.learningRate, warmupSteps: Int((Double(steps) * options.warmupProportion).rounded(.up)), totalSteps: steps)
        let ids = texts.map(encoder.ids)
        var dropout: SeededRNG? = SeededRNG(seed: seed &+ 1)
        let bar = options.progress ? ProgressBar("setfit contrastive", total: steps) : nil
        for step in 0..<steps {
            let batch = Array(pairs[(step * options.batchSize)..<min((step + 1) * options.batchSize, pairs.count)])
            let tape = Tape()
            let u = try encoder.pooled(batch.map { ids[$0.0] }, training: true, rng: &dropout, tape: tape)
            let v = try encoder.pooled(batch.map { ids[$0.1] }, training: true, rng: &dropout, tape: tape)
            let target = Tensor(shape: [batch.count, 1], data: batch.map { $0.2 ? 1 : 0 })
            let diff = Ops.addScaled(Ops.cosineRows(u, v, tape: tape), target, alpha: 1, beta: -1, tape: tape)
            let loss = Ops.mean(Ops.mul(diff, diff, tape: tape), tape: tape)
            applyUpdate(loss: loss, tape: tape, optimizer: opt, schedule: schedule, step: step, maxGradNorm: 1)
            bar?.update(step + 1)
        }
        for p in params { p.tensor.requiresGrad = false }
    }
}
