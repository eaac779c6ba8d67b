import ClozeModels
import Foundation

/// Saving and loading trained sequence classifiers in Hugging Face layout (config.json +
/// model.safetensors), loadable by Cloze and by transformers' *ForSequenceClassification.
public enum ClassifierCheckpoint {
    public static func save(model: TransformerMaskedLM, head: SequenceClassificationHead, labels: [String], to directory: String,
                            tokenizerFrom source: String) throws {
        try model.save(to: directory, extraParameters: head.parameters)
        try copyTokenizerFiles(from: source, to: directory)
        // The encoder writes itself as the bare model; name the classification class and its labels.
        let path = (directory as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: path),
              var json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw PETError(.outputIO, "cannot re-read config.json", at: SourceLocation(file: path))
        }
        let base = (json["architectures"] as? [String])?.first ?? "BertModel"
        json["architectures"] = [base.replacingOccurrences(of: "Model", with: "ForSequenceClassification")]
        json["id2label"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ("\($0.offset)", $0.element) })
        json["label2id"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) })
        let out = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try out.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Copies the tokenizer files of `source` so a saved model directory is self-contained.
    static func copyTokenizerFiles(from source: String, to directory: String) throws {
        for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt", "spiece.model"] {
            let src = (source as NSString).appendingPathComponent(name), dst = (directory as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: src) else { continue }
            try? FileManager.default.removeItem(atPath: dst)
            do { try FileManager.default.copyItem(atPath: src, toPath: dst) } catch {
                throw PETError(.outputIO, "cannot copy \(name): \(error)", at: SourceLocation(file: dst))
            }
        }
    }

    /// Loads a saved classifier; its labels come from config.json's id2label. `.nf4` quantises the
    /// encoder's layer weights as they load (inference in less memory).
    public static func load(directory: String, quantization: WeightQuantization = .none)
        throws -> (model: TransformerMaskedLM, head: SequenceClassificationHead, labels: [String]) {
        let path = (directory as NSString).appendingPathComponent("config.json")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PETError(.fileNotFound, "classifier directory not found (train with `cloze train --save --out DIR` and pass DIR/seed-S/final-classifier)",
                           at: SourceLocation(file: directory))
        }
        guard let data = FileManager.default.contents(atPath: path),
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let id2label = json["id2label"] as? [String: Any] else {
            throw PETError(.fileNotFound, "not a classifier checkpoint (config.json with id2label)", at: SourceLocation(file: path))
        }
        let labels = (0..<id2label.count).map { "\(id2label["\($0)"] ?? "\($0)")" }
        let loaded = try ModelLoader.load(directory: directory, mlmHead: .none, classificationLabels: labels.count, quantization: quantization)
        guard loaded.report.randomlyInitialized.isEmpty else {
            throw PETError(.badTaskDescriptor, "classifier weights missing from the checkpoint: \(loaded.report.randomlyInitialized.joined(separator: ", "))",
                           at: SourceLocation(file: directory))
        }
        return (loaded.model, loaded.classifier!, labels)
    }
}

/// A trained pattern model (the MLM after PET training) in Hugging Face `*ForMaskedLM` layout, plus
/// `cloze-pattern.json` naming the pattern and verbalizer it was trained with, so it can be evaluated
/// again (`cloze eval --model DIR`) or loaded in transformers.
public enum PatternModelCheckpoint {
    public struct Info: Codable, Equatable, Sendable {
        public var pattern: String
        public var source: String
        public var verbalizer: String
        public var labels: [String]
        public var seed: Int
        public var repetition: Int
        /// Nil when the task has no test split.
        public var testAccuracy: Double?
        /// Trained with demonstrations: what labelling needs to give its inputs the same kind of demonstrations.
        public var demonstrations: SavedDemonstrations? = nil
    }

    /// A pattern model's demonstration settings and pool (its seed's training examples), saved so that
    /// `cloze label --adapter` renders demonstrations as training and `cloze train` evaluation did.
    public struct SavedDemonstrations: Codable, Equatable, Sendable {
        public struct PoolExample: Codable, Equatable, Sendable {
            public var fields: [String: String]
            public var label: Int
        }
        public var pool: [PoolExample]
        /// Sets per labelled example whose logits are averaged (`--demo-samples`).
        public var samples: Int
        /// Similarity filtering: the sentence encoder's directory and the share kept per class; nil: no filter.
        public var filterEncoder: String?
        public var filterRate: Double
        public var querySlotLimit: Int?
        public var demonstrationSlotLimit: Int?
        /// GPT-3-style in-context demonstrations per input (`--in-context`).
        public var inContext: Int?
        /// The max length the pattern model's inputs were built with.
        public var maxLength: Int
        /// Seed of the per-row draws: row r of a pool gets the same sets whatever the chunking or resumption.
        public var seed: UInt64

        public init(pool: [PoolExample], options o: DemonstrationOptions, maxLength: Int, seed: UInt64) {
            self.pool = pool; samples = o.samples; filterEncoder = o.filterEncoder; filterRate = o.filterRate
            querySlotLimit = o.limits.querySlot; demonstrationSlotLimit = o.limits.demonstrationSlot
            inContext = o.inContext; self.maxLength = maxLength; self.seed = seed
        }

        public var options: DemonstrationOptions {
            var o = DemonstrationOptions()
            o.samples = samples; o.filterEncoder = filterEncoder; o.filterRate = filterRate; o.inContext = inContext
            o.limits = DemonstrationLimits(querySlot: querySlotLimit, demonstrationSlot: demonstrationSlotLimit)
            return o
        }
    }

    public static let infoFile = "cloze-pattern.json"

    public static func save(model: any MaskedLanguageModel, info: Info, to directory: String, tokenizerFrom source: String) throws {
        try model.save(to: directory)
        try ClassifierCheckpoint.copyTokenizerFiles(from: source, to: directory)
        let path = (directory as NSString).appendingPathComponent(infoFile)
        let enc = JSONEncoder.readable
        do { try enc.encode(info).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw PETError(.outputIO, "cannot write \(infoFile): \(error.localizedDescription)", at: SourceLocation(file: path))
        }
    }

    public static func readInfo(directory: String) throws -> Info {
        let path = (directory as NSString).appendingPathComponent(infoFile)
        let bytes = try TextFile.readBytes(path: path)
        do { return try JSONDecoder().decode(Info.self, from: Data(bytes)) } catch {
            throw PETError(.badTaskDescriptor, "not a Cloze pattern-model file: \(error)", at: SourceLocation(file: path))
        }
    }
}
