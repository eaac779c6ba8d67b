import ClozeModels
import ClozePET
import ClozeTokenizers
import Foundation

/// One harness per parser that reads a user file. A harness feeds arbitrary bytes to the parser the
/// way `cloze` does (file-based loaders get a scratch file); a thrown error is the expected outcome
/// for bad input, while a trap, a hang or a runaway allocation is a bug libFuzzer reports.
public enum FuzzTargets {
    public static let names: [String] = all.keys.sorted()

    public static let all: [String: ([UInt8]) -> Void] = [
        "pattern": { b in _ = try? PatternParser.parseFile(text: String(decoding: b, as: UTF8.self), file: "fuzz.txt") },
        "verbalizer": { b in _ = try? Verbalizer.parse(text: String(decoding: b, as: UTF8.self), file: "fuzz.txt") },
        "csv": { b in delimited(b, kind: .csv, ext: "csv") },
        "tsv": { b in delimited(b, kind: .tsv, ext: "tsv") },
        "jsonl": { b in delimited(b, kind: .jsonl, ext: "jsonl") },
        "task": { b in _ = try? TaskDescriptor.load(path: scratch(b, "task.json")) },
        "config": { b in _ = try? ModelConfig.parse(Data(b), file: "config.json") },
        "safetensors": { b in safetensors(b) },
        "tokenizer-json": { b in _ = try? Tokenizer.load(tokenizerJSON: URL(fileURLWithPath: scratch(b, "tokenizer.json"))) },
        "vocab-txt": { b in _ = try? Tokenizer.load(vocabTxt: URL(fileURLWithPath: scratch(b, "vocab.txt"))) },
        "vocab-json-merges": { b in vocabAndMerges(b) },
        "spiece": { b in _ = try? Tokenizer.load(sentencePieceModel: URL(fileURLWithPath: scratch(b, "spiece.model"))) },
        "encode": { b in encodeDecode(b) },
        "adapter-config": { b in adapterConfig(b) },
        "sentence-encoder": { b in sentenceEncoderFiles(b) },
    ]

    /// 1_Pooling/config.json, modules.json and sentence_bert_config.json, split at NULs.
    static func sentenceEncoderFiles(_ b: [UInt8]) {
        let parts = b.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false).map { Data($0) }
        func part(_ i: Int) -> Data? { i < parts.count ? parts[i] : nil }
        _ = try? SentenceEncoderSettings.parse(pooling: part(0), modules: part(1), sentenceBert: part(2), directory: "fuzz")
    }

    /// Fixture adapter weights the adapter-config harness pairs with the fuzzed config (first byte picks one).
    static let adapterWeights = ["tiny-bert-lora", "tiny-bert-dora", "tiny-bert-ia3", "tiny-bert-prompt",
                                 "tiny-bert-ptuning-mlp/adapter", "tiny-bert-prefix/adapter"]
    nonisolated(unsafe) static var adapterModel: (any MaskedLanguageModel)? = {
        try? ModelLoader.loadMaskedLM(directory: fixtureRoot() + "/../models/tiny-bert")
    }()

    /// adapter_config.json and cloze-pattern.json (split at the first NUL) over fixture adapter weights,
    /// loaded the way `--adapter` does into tiny BERT.
    static func adapterConfig(_ b: [UInt8]) {
        guard let model = adapterModel else { return }
        let pick = Int(b.first ?? 0) % adapterWeights.count, body = Array(b.dropFirst())
        let cut = body.firstIndex(of: 0) ?? body.count
        let dir = (scratchDirectory as NSString).appendingPathComponent("adapter")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/adapter_config.json", contents: Data(body[..<cut]))
        let weights = fixtureRoot() + "/../peft/" + adapterWeights[pick] + "/adapter_model.safetensors"
        try? FileManager.default.removeItem(atPath: dir + "/adapter_model.safetensors")
        try? FileManager.default.copyItem(atPath: weights, toPath: dir + "/adapter_model.safetensors")
        _ = try? PEFTAdapterFile.load(from: dir, into: model)
        model.removeAllAdapters()
        FileManager.default.createFile(atPath: scratchDirectory + "/" + PatternModelCheckpoint.infoFile, contents: Data(body[min(cut + 1, body.count)...]))
        guard var info = try? PatternModelCheckpoint.readInfo(directory: scratchDirectory), let vocab = adapterVocabulary else { return }
        // The adapter as `cloze label` binds it, its saved demonstrations rendered for one row (the
        // filter encoder is not loaded: a path from the input would load whatever model is there).
        info.demonstrations?.filterEncoder = nil
        info.verbalizer = scratchDirectory + "/verbalizer.txt"
        FileManager.default.createFile(atPath: info.verbalizer, contents: Data("0: bad\n1: good\n".utf8))
        guard let data = try? JSONEncoder().encode(info) else { return }
        FileManager.default.createFile(atPath: scratchDirectory + "/" + PatternModelCheckpoint.infoFile, contents: data)
        guard let adapter = try? TaskAdapter(directory: scratchDirectory, vocabulary: vocab) else { return }
        let row = Example(fields: ["text_a": "a fine film", "text_b": "it is"], label: nil, location: SourceLocation(file: "fuzz"))
        _ = try? adapter.labellingInputs([row], firstRow: 0, maxLength: 64)
    }

    nonisolated(unsafe) static let adapterVocabulary: TokenizerVocabulary? =
        try? TokenizerVocabulary.load(directory: fixtureRoot() + "/../tokenizers/bert-cased")

    /// Where scratch files go: RAM-backed when available (a file per execution).
    static let scratchDirectory: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let dir = (base as NSString).appendingPathComponent("cloze-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    static func scratch(_ bytes: [UInt8], _ name: String) -> String {
        let path = (scratchDirectory as NSString).appendingPathComponent(name)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    static func delimited(_ b: [UInt8], kind: DataFormat.Kind, ext: String) {
        // The first byte picks header/labels options so one corpus covers the loader's branches.
        let flags = b.first ?? 0, body = Array(b.dropFirst())
        let format = DataFormat(kind: kind, header: kind == .jsonl ? nil : flags & 1 == 0,
                                columnNames: flags & 1 == 0 || kind == .jsonl ? nil : ["label", "sentence"],
                                columns: ["text_a": "sentence"], labelColumn: flags & 2 == 0 ? "label" : nil,
                                encoding: flags & 4 == 0 ? nil : .latin1)
        _ = try? DatasetLoader.load(path: scratch(body, "data.\(ext)"), format: format, labels: ["0", "1"], requireLabels: flags & 2 == 0)
    }

    static func safetensors(_ b: [UInt8]) {
        guard let file = try? SafeTensorsFile(data: Data(b), path: "fuzz.safetensors") else { return }
        for name in file.names { _ = try? file.floats(name) }
    }

    /// vocab.json and merges.txt in one input, split at the first NUL byte.
    static func vocabAndMerges(_ b: [UInt8]) {
        let cut = b.firstIndex(of: 0) ?? b.count
        let vocab = scratch(Array(b[..<cut]), "vocab.json"), merges = scratch(Array(b[min(cut + 1, b.count)...]), "merges.txt")
        _ = try? Tokenizer.load(vocabJSON: URL(fileURLWithPath: vocab), merges: URL(fileURLWithPath: merges))
    }

    /// The fixture tokenizers (WordPiece, byte-level BPE, Unigram), loaded once: encode arbitrary text
    /// alone and as a truncated pair, decode the ids and arbitrary ids.
    nonisolated(unsafe) public static var tokenizers: [Tokenizer] = {
        let root = fixtureRoot()
        return ["bert-cased", "bpe", "unigram"].compactMap { try? Tokenizer.load(directory: URL(fileURLWithPath: root + "/" + $0)) }
    }()

    static func encodeDecode(_ b: [UInt8]) {
        let text = String(decoding: b, as: UTF8.self)
        for t in tokenizers {
            let e = t.encode(text)
            _ = t.decode(e.ids)
            let half = text.unicodeScalars.count / 2
            let pair = String(String.UnicodeScalarView(text.unicodeScalars.prefix(half)))
            _ = t.encode(pair, pair: String(String.UnicodeScalarView(text.unicodeScalars.dropFirst(half))))
            let raw = stride(from: 0, to: b.count - 1, by: 2).map { Int32(b[$0]) << 8 | Int32(b[$0 + 1]) }
            _ = t.decode(raw, skipSpecialTokens: b.count % 2 == 0)
        }
    }

    /// Tests/Fixtures/tokenizers of this package (CLOZE_FUZZ_TOKENIZERS overrides).
    static func fixtureRoot() -> String {
        if let d = ProcessInfo.processInfo.environment["CLOZE_FUZZ_TOKENIZERS"] { return d }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/Fixtures/tokenizers").path
    }
}
