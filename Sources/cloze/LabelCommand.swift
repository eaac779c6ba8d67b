import ArgumentParser
import ClozeModels
import ClozePET
import ClozeTensor
import Foundation

struct LabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "label",
        abstract: "Label a pool of examples with a trained classifier (streaming, resumable: rerun the same command after an interruption).")

    @Option(help: "Task (datasets/*.json or a name): gives the pool's file format, columns and labels.") var task: String
    @Option(help: "Trained classifier directory (saved by `cloze train --save`).") var classifier: String?
    @Option(help: "Comma-separated task adapters (pattern-model directories saved by `cloze train --save-pattern-models` with an adapter method, or their adapter/ subdirectories) over one frozen base (--model): one pass labels the pool for all of them (LoRA adapters share every base GEMM), one output per adapter in the --out directory.")
    var adapter: String?
    @Option(help: "Base model of --adapter (default: the shared MiniLM).") var model: String?
    @Option(help: "With --adapter: jsonl or csv.") var format = "jsonl"
    @Flag(name: .customLong("no-share"), help: "With --adapter: one pass per adapter (the baseline of the shared pass).") var noShare = false
    @Option(name: .customLong("in"), help: "Pool file, in the task's format (default: the task's own unlabelled pool).") var input: String?
    @Option(help: "With the task's own pool: the split seed whose train/dev/test sentences are left out of it.") var seed: Int?
    @Option(help: "Output file (.jsonl or .csv).") var out: String
    @Option(name: .customLong("batch-size")) var batchSize = 32
    @Option(name: .customLong("max-length")) var maxLength: Int?
    @Option(help: "Worker threads (default: all cores).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(name: .customLong("no-progress")) var noProgress = false
    @Flag(help: "Print a JSON summary instead of text.") var json = false
    @Option(help: ArgumentHelp(quantizeHelp)) var quantize = "none"

    func run() throws {
        BLASThreads.set(threads)
        let t = try TaskDescriptor.load(path: ClozeHome.taskPath(task))
        if let adapter { return try runAdapters(adapter, task: t) }
        guard let classifier else { throw ValidationError("pass --classifier DIR or --adapter DIR[,DIR...]") }
        let format: LabelOutputWriter.Format
        if out.hasSuffix(".csv") { format = .csv } else if out.hasSuffix(".jsonl") || out.hasSuffix(".json") { format = .jsonl }
        else { throw ValidationError("--out must end in .jsonl or .csv") }
        let (model, head, labels) = try ClassifierCheckpoint.load(directory: classifier, quantization: try weightQuantization(quantize))
        guard labels == t.labels else {
            throw ValidationError("classifier labels \(labels) differ from task '\(t.name)' labels \(t.labels)")
        }
        let pool = try loadPool(t)
        let vocab = try TokenizerVocabulary.load(directory: classifier)
        var labeler = PoolLabeler(model: model, head: head, labels: labels, vocabulary: vocab)
        labeler.batchSize = batchSize; labeler.maxLength = maxLength ?? t.maxLength ?? 128; labeler.progress = !noProgress
        let textColumns = ["text_a", "text_b"].filter { t.format.columns?[$0] != nil }
        let r = try labeler.run(pool: pool, textColumns: textColumns.isEmpty ? ["text_a"] : textColumns, outputPath: out, format: format)
        if json {
            var summary: [String: Any] = ["written": r.written, "resumedFrom": r.resumedFrom, "out": out]
            if let a = r.accuracy { summary["accuracy"] = a }
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        var line = "labelled \(r.written) rows" + (r.resumedFrom > 0 ? " (resumed after \(r.resumedFrom) rows already written)" : "") + " -> \(out)"
        if let a = r.accuracy { line += String(format: "; accuracy against the pool's labels %.2f%%", 100 * a) }
        print(line)
    }

    /// The pool: --in, or the task's own unlabelled pool for --seed.
    func loadPool(_ t: TaskDescriptor) throws -> Dataset {
        if let input { return try DatasetLoader.load(path: input, format: t.format, labels: t.labels, requireLabels: false) }
        guard t.hasUnlabeledPool else { throw ValidationError("task '\(t.name)' has no unlabelled pool: pass --in FILE") }
        let seeded = (t.unlabeled?.exclude ?? []).contains { t.splits[$0]?.contains("{seed}") == true }
        if seeded && seed == nil {
            throw ValidationError("task '\(t.name)' leaves each seed's train/dev/test sentences out of its pool: pass --seed S (the split seed the classifier was trained on)")
        }
        return try t.loadUnlabeled(seed: seed, dataRoot: nil).pool
    }

    /// `--adapter a,b,c`: one output per adapter, `OUT/<k>-<name>.<format>`.
    func runAdapters(_ list: String, task t: TaskDescriptor) throws {
        guard let fmt = LabelOutputWriter.Format(rawValue: format) else { throw ValidationError("--format: expected jsonl or csv, got '\(format)'") }
        let base = model ?? ClozeHome.defaultModel
        let vocab = try TokenizerVocabulary.load(directory: base)
        let dirs = list.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !dirs.isEmpty else { throw ValidationError("--adapter: no directory given") }
        let adapters = try dirs.map { try TaskAdapter(directory: $0, vocabulary: vocab) }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let outputs = adapters.enumerated().map { k, a in
            (out as NSString).appendingPathComponent("\(k)-\((a.directory as NSString).lastPathComponent).\(fmt.rawValue)")
        }
        var labeler = AdapterPoolLabeler(modelDirectory: base, adapters: adapters, vocabulary: vocab)
        labeler.batchSize = batchSize; labeler.maxLength = maxLength ?? t.maxLength ?? 128; labeler.progress = !noProgress
        labeler.share = !noShare; labeler.quantization = try weightQuantization(quantize)
        let started = Date()
        let written = try labeler.run(pool: try loadPool(t), outputs: outputs, format: fmt)
        let seconds = Date().timeIntervalSince(started)
        for (o, w) in zip(outputs, written) { print("labelled \(w) rows -> \(o)") }
        print(String(format: "%d adapters in %.1f s%@", adapters.count, seconds, labeler.share ? "" : " (one pass per adapter)"))
    }
}
