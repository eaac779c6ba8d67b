import ClozeModels
import ClozeTensor
import Foundation

/// `cloze label`: labels every row of a pool with a trained classifier, streaming to a resumable
/// output (LabelOutputWriter): rows go out in input order in chunks, each chunk fsync'ed.
public struct PoolLabeler {
    public let model: TransformerMaskedLM
    public let head: SequenceClassificationHead
    public let labels: [String]
    public let vocabulary: any TokenVocabulary
    public var maxLength = 128
    public var batchSize = 32
    /// Rows per written (and fsync'ed) chunk.
    public var chunkSize = 512
    public var progress = true

    public init(model: TransformerMaskedLM, head: SequenceClassificationHead, labels: [String], vocabulary: any TokenVocabulary) {
        self.model = model; self.head = head; self.labels = labels; self.vocabulary = vocabulary
    }

    /// Labels `pool` (slots `textColumns`, e.g. text_a/text_b) into `outputPath`. Returns rows written in
    /// this call, the rows skipped because an earlier run wrote them, and the accuracy over the whole
    /// output against the pool's gold labels when every row has one.
    public func run(pool: Dataset, textColumns: [String], outputPath: String, format: LabelOutputWriter.Format) throws
        -> (written: Int, resumedFrom: Int, accuracy: Double?) {
        let columns = pool.fileColumns
        let writer = try LabelOutputWriter(outputPath: outputPath, format: format, inputColumns: columns, labels: labels)
        let start = try writer.resumeRow(inputRows: pool.examples.count)
        let builder = PlainInput.builder(columns: textColumns, vocabulary: vocabulary, maxLength: maxLength)
        let trainer = SequenceClassifierTrainer(config: PETTrainingConfig(), model: model, head: head, padID: vocabulary.specialTokens.padID)
        let bar = ProgressBar("label", total: pool.examples.count, enabled: progress)
        let L = labels.count
        var i = start
        bar.update(i)
        while i < pool.examples.count {
            let chunk = Array(pool.examples[i..<min(i + chunkSize, pool.examples.count)])
            let features = try PETFeatures.build(chunk, builder: builder)
            let logits = try trainer.predict(features, batchSize: batchSize)
            let probs = Ops.softmaxRows(logits, rows: chunk.count, cols: L)
            let rows = chunk.enumerated().map { j, ex in
                let p = Array(probs[(j * L)..<((j + 1) * L)])
                let best = Metrics.argmaxRows(p, cols: L)[0]
                return LabelOutputWriter.Row(values: columns.map { ex.fields[$0] ?? "" }, predictedLabel: labels[best], probabilities: p)
            }
            try writer.append(rows)
            i += chunk.count
            bar.update(i)
        }
        try writer.finish()
        var accuracy: Double?
        let gold = pool.examples.compactMap(\.label)
        if gold.count == pool.examples.count {
            let predicted = try Self.predictedLabels(outputPath: outputPath, format: format)
            let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
            accuracy = Metrics.accuracy(predictions: predicted.map { index[$0] ?? -1 }, gold: gold)
        }
        return (pool.examples.count - start, start, accuracy)
    }

    /// The predicted_label column of a finished output file.
    public static func predictedLabels(outputPath: String, format: LabelOutputWriter.Format) throws -> [String] {
        let bytes = try TextFile.readBytes(path: outputPath)
        switch format {
        case .csv:
            var recs = try DelimitedReader.records(bytes, delimiter: 0x2C, quoting: true, file: outputPath)
            guard !recs.isEmpty, let col = recs.removeFirst().fields.firstIndex(of: "predicted_label") else { return [] }
            return recs.map { $0.fields[col] }
        case .jsonl:
            return try bytes.split(separator: 0x0A).map { line in
                guard let obj = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let l = obj["predicted_label"] as? String else {
                    throw PETError(.badJSON, "row without predicted_label", at: SourceLocation(file: outputPath))
                }
                return l
            }
        }
    }
}
