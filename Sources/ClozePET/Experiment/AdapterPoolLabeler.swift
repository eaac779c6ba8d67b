import ClozeModels
import ClozeTensor
import Foundation

/// A trained pattern model's task adapter: `cloze train --save-pattern-models` writes
/// `cloze-pattern.json` (pattern, verbalizer, labels) beside `adapter/` (PEFT layout).
public struct TaskAdapter {
    public let directory: String
    public let info: PatternModelCheckpoint.Info
    public let pattern: Pattern
    public let verbalizer: ResolvedVerbalizer
    /// Trained with demonstrations: its saved pool and settings.
    let demonstrations: PoolDemonstrations?
    let vocabulary: any TokenVocabulary

    /// `directory` is the pattern-model directory, or its `adapter/` subdirectory.
    public init(directory given: String, vocabulary: any TokenVocabulary) throws {
        let dir = (given as NSString).lastPathComponent == "adapter" ? (given as NSString).deletingLastPathComponent : given
        directory = dir
        self.vocabulary = vocabulary
        info = try PatternModelCheckpoint.readInfo(directory: dir)
        let location = SourceLocation(file: (dir as NSString).appendingPathComponent(PatternModelCheckpoint.infoFile))
        pattern = try PatternParser.parseLine(info.pattern, location: location)
        let path = FileManager.default.fileExists(atPath: info.verbalizer) ? info.verbalizer : (ClozeHome.root as NSString).appendingPathComponent(info.verbalizer)
        verbalizer = try Verbalizer.load(path: path).resolve(labels: info.labels, vocabulary: vocabulary)
        // Its training inputs carried demonstrations: labelling renders them from the saved pool.
        if let saved = info.demonstrations {
            demonstrations = try PoolDemonstrations(saved: saved, pattern: pattern, verbalizer: verbalizer, vocabulary: vocabulary,
                                                    location: location)
        } else if pattern.demonstrations {
            throw PETError(.notSupportedYet, "this pattern model was trained with demonstrations ({demo}) but its \(PatternModelCheckpoint.infoFile) has no saved demonstration pool (saved by an older Cloze): train it again with --save-pattern-models", at: location)
        } else {
            demonstrations = nil
        }
    }

    public var adapterDirectory: String { (directory as NSString).appendingPathComponent("adapter") }

    /// Sets per row whose logits `cloze label` averages (demonstration samples; 1 without).
    public var samplesPerRow: Int { demonstrations?.samples ?? 1 }

    /// The inputs `cloze label` scores for `chunk` (pool rows `firstRow...`): `samplesPerRow` per
    /// row, sample-major; without demonstrations the pattern alone at `maxLength`.
    public func labellingInputs(_ chunk: [Example], firstRow: Int, maxLength: Int) throws -> [PETFeature] {
        if let demonstrations { return try demonstrations.features(chunk, firstRow: firstRow) }
        return try PETFeatures.build(chunk, builder: PETInputBuilder(pattern: pattern, vocabulary: vocabulary, maxLength: maxLength))
    }
}

/// `cloze label --adapter a,b,c`: labels one pool for several task adapters over one frozen base,
/// writing one resumable output per adapter. LoRA adapters share the base in one stacked pass
/// (StackedLoRAAdapter: every base GEMM runs once over all tasks' rows); any other adapter kind runs
/// on its own pass over the same loaded base and tokenised pool.
public struct AdapterPoolLabeler {
    public let modelDirectory: String
    public let adapters: [TaskAdapter]
    public let vocabulary: any TokenVocabulary
    public var maxLength = 128
    public var batchSize = 32
    public var chunkSize = 512
    public var progress = true
    /// False: one pass per adapter even for LoRA (the baseline the shared pass is measured against).
    public var share = true
    /// `.nf4`: the shared base's layer weights in NF4 (QLoRA serving).
    public var quantization = WeightQuantization.none

    public init(modelDirectory: String, adapters: [TaskAdapter], vocabulary: any TokenVocabulary) {
        self.modelDirectory = modelDirectory; self.adapters = adapters; self.vocabulary = vocabulary
    }

    /// Labels `pool` into `outputs[k]` for adapter k. Returns rows written per output.
    public func run(pool: Dataset, outputs: [String], format: LabelOutputWriter.Format) throws -> [Int] {
        precondition(outputs.count == adapters.count)
        let model = try ModelLoader.loadMaskedLM(directory: modelDirectory, quantization: quantization)
        if share, let loras = try sharedLoRAs(model) {
            StackedLoRAAdapter.install(on: model, tasks: loras)
            return try label(pool: pool, model: model, tasks: Array(adapters.indices), outputs: outputs, format: format)
        }
        var written: [Int] = []
        for k in adapters.indices {
            model.removeAllAdapters()
            try PEFTAdapterFile.load(from: adapters[k].adapterDirectory, into: model)
            written += try label(pool: pool, model: model, tasks: [k], outputs: [outputs[k]], format: format)
        }
        return written
    }

    /// Every adapter's LoRA tensors by Linear name, when all adapters are plain LoRA (else nil).
    func sharedLoRAs(_ model: any MaskedLanguageModel) throws -> [[String: LoRAAdapter]]? {
        var out: [[String: LoRAAdapter]] = []
        for a in adapters {
            model.removeAllAdapters()
            guard case .lora(let c) = try PEFTAdapterFile.load(from: a.adapterDirectory, into: model), !c.useDoRA else {
                model.removeAllAdapters()
                return nil
            }
            out.append(Dictionary(uniqueKeysWithValues: model.linears.compactMap { l in (l.adapter as? LoRAAdapter).map { (l.name, $0) } }))
        }
        model.removeAllAdapters()
        return out
    }

    /// One pass over the pool for the adapters `tasks` (several only when stacked), chunk by chunk,
    /// each output resuming where its own partial file ended.
    func label(pool: Dataset, model: any MaskedLanguageModel, tasks: [Int], outputs: [String],
               format: LabelOutputWriter.Format) throws -> [Int] {
        let columns = pool.fileColumns
        let writers = try zip(tasks, outputs).map { k, out in
            try LabelOutputWriter(outputPath: out, format: format, inputColumns: columns, labels: adapters[k].info.labels)
        }
        let starts = try writers.map { try $0.resumeRow(inputRows: pool.examples.count) }
        let samples = tasks.map { adapters[$0].samplesPerRow }
        let bar = ProgressBar("label ×\(tasks.count)", total: pool.examples.count, enabled: progress)
        var i = starts.min() ?? 0
        bar.update(i)
        while i < pool.examples.count {
            let chunk = Array(pool.examples[i..<min(i + chunkSize, pool.examples.count)])
            let features = try tasks.map { try adapters[$0].labellingInputs(chunk, firstRow: i, maxLength: maxLength) }
            let probabilities = try chunkProbabilities(features, samples: samples, model: model, tasks: tasks)
            for (t, writer) in writers.enumerated() where i + chunk.count > starts[t] {
                let labels = adapters[tasks[t]].info.labels, L = labels.count
                let rows = chunk.enumerated().filter { i + $0.offset >= starts[t] }.map { j, ex in
                    let p = Array(probabilities[t][(j * L)..<((j + 1) * L)])
                    return LabelOutputWriter.Row(values: columns.map { ex.fields[$0] ?? "" }, predictedLabel: labels[Metrics.argmaxRows(p, cols: L)[0]], probabilities: p)
                }
                try writer.append(rows)
            }
            i += chunk.count
            bar.update(i)
        }
        for w in writers { try w.finish() }
        return starts.map { pool.examples.count - $0 }
    }

    /// Label probabilities [n, L_t] per task for one chunk of n examples; task t has `samples[t]`
    /// sample-major inputs per example (demonstration sets, logits averaged). Every (task, input) is
    /// ordered by its own length and batches of `batchSize` per task are cut from that order, each
    /// grouped by task (the stacked adapters' blocks): the tasks' patterns differ in length, and padding
    /// every task's rows to the longest pattern's would cost the stacked pass more than it shares. Rows
    /// return in input order.
    func chunkProbabilities(_ features: [[PETFeature]], samples: [Int], model: any MaskedLanguageModel, tasks: [Int]) throws -> [[Float]] {
        var logits = tasks.indices.map { [Float](repeating: 0, count: features[$0].count * adapters[tasks[$0]].info.labels.count) }
        let rows = tasks.map { adapters[$0].verbalizer.vocabularyRows }, union = Array(Set(rows.joined())).sorted()
        let column = Dictionary(uniqueKeysWithValues: union.enumerated().map { ($1, $0) })
        let stacked = model.linears.compactMap { $0.adapter as? StackedLoRAAdapter }
        defer { for s in stacked { s.blockSequences = nil } }
        let length = { (item: (task: Int, row: Int)) in features[item.task][item.row].input.inputIDs.count }
        let items = tasks.indices.flatMap { t in features[t].indices.map { (task: t, row: $0) } }
            .sorted { (length($0), $0.task, $0.row) < (length($1), $1.task, $1.row) }
        let size = max(1, batchSize) * tasks.count
        for start in stride(from: 0, to: items.count, by: size) {
            let group = items[start..<min(start + size, items.count)].sorted { ($0.task, $0.row) < ($1.task, $1.row) }
            let counts = tasks.indices.map { t in group.filter { $0.task == t }.count }
            for s in stacked { s.blockSequences = counts }
            let batch = try PETBatch(group.map { features[$0.task][$0.row] }, padID: vocabulary.specialTokens.padID)
            var noRNG: SeededRNG? = nil
            let hidden = try model.encode(batch.encoded, training: false, rng: &noRNG, tape: nil)
            let words = try model.mlmLogits(hidden: hidden, positions: batch.maskRows, vocabularyRows: union, tape: nil)
            let w = union.count
            for (j, item) in group.enumerated() {
                // This row's task's own verbalizer columns, in its vocabularyRows order.
                let v = adapters[tasks[item.task]].verbalizer, L = v.labels.count
                let label = v.labelLogits(rows[item.task].map { words.data[j * w + column[$0]!] }, count: 1)
                for l in 0..<L { logits[item.task][item.row * L + l] = label[l] }
            }
        }
        return tasks.indices.map { t in
            let L = adapters[tasks[t]].info.labels.count
            return Ops.softmaxRows(DemonstrationPlan.average(logits[t], samples: samples[t], columns: L),
                                   rows: features[t].count / samples[t], cols: L)
        }
    }
}
