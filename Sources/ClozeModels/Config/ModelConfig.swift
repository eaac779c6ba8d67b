import Foundation

/// The transformer families Cloze implements.
public enum Architecture: String, CaseIterable, Sendable {
    case bert, roberta, xlmRoberta = "xlm-roberta", albert, distilbert

    /// Hugging Face `base_model_prefix`: encoder tensor names start with "<prefix>." in a *ForMaskedLM checkpoint.
    public var prefix: String {
        switch self {
        case .bert: return "bert"
        case .roberta, .xlmRoberta: return "roberta"
        case .albert: return "albert"
        case .distilbert: return "distilbert"
        }
    }

    /// Names accepted in `model_type` / `architectures`, for the error on anything else.
    public static let supportedNames = [
        "bert (BertForMaskedLM, BertModel)", "roberta (RobertaForMaskedLM)", "xlm-roberta (XLMRobertaForMaskedLM)",
        "camembert (CamembertForMaskedLM)", "albert (AlbertForMaskedLM)", "distilbert (DistilBertForMaskedLM)",
    ]
}

/// Hidden activation (`hidden_act` / DistilBERT `activation`).
public enum Activation: String, Sendable {
    case gelu, geluNew = "gelu_new", geluPytorchTanh = "gelu_pytorch_tanh", relu
    static let supported = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"]
}

/// A Hugging Face config.json, normalised across BERT / RoBERTa / XLM-R / ALBERT / DistilBERT.
/// Missing fields take the transformers config-class defaults for that architecture.
public struct ModelConfig: Sendable {
    public var architecture: Architecture
    public var modelType: String
    public var architectures: [String]
    public var vocabSize: Int
    public var hiddenSize: Int
    /// Width of the token embeddings: `embedding_size` for ALBERT, else `hiddenSize`.
    public var embeddingSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var intermediateSize: Int
    public var hiddenAct: Activation
    public var layerNormEps: Float
    public var maxPositions: Int
    /// 0 for DistilBERT (no token-type embeddings).
    public var typeVocabSize: Int
    public var padTokenId: Int
    public var hiddenDropout: Float
    public var attentionDropout: Float
    /// Dropout before a classification head (`classifier_dropout`, else hidden dropout; DistilBERT `seq_classif_dropout`).
    public var classifierDropout: Float
    public var initializerRange: Float
    /// ALBERT: layers share weights in `numHiddenGroups` groups of `innerGroupNum` layers.
    public var numHiddenGroups: Int
    public var innerGroupNum: Int
    /// DistilBERT `sinusoidal_pos_embds`: the position table is the fixed sinusoid.
    public var sinusoidalPositions: Bool
    public var tieWordEmbeddings: Bool
    /// Labels of a classification checkpoint (from `id2label`), if any.
    public var numLabels: Int?
    /// Every field of the original file, written back by `save`.
    public var raw: [String: JSONValue]

    public var headDim: Int { hiddenSize / numHeads }

    public static func load(directory: String) throws -> ModelConfig {
        let path = (directory as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.config(file: path, message: "cannot read config.json (is \(directory) a Hugging Face model directory?)")
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> ModelConfig {
        let raw: [String: JSONValue]
        do {
            raw = try JSONDecoder().decode([String: JSONValue].self, from: data)
        } catch {
            throw ModelError.config(file: file, message: "not a JSON object: \(error.localizedDescription)")
        }
        return try ModelConfig(raw: raw, file: file)
    }

    public init(raw: [String: JSONValue], file: String) throws {
        self.raw = raw
        architectures = raw["architectures"].flatMap { v -> [String]? in
            if case .array(let a) = v { return a.compactMap(\.string) }
            return nil
        } ?? []
        modelType = raw["model_type"]?.string ?? ""
        architecture = try Self.architecture(modelType: modelType, architectures: architectures, file: file)
        let reader = ConfigReader(raw: raw, file: file)
        let fields: ArchitectureFields
        switch architecture {
        case .distilbert: fields = try .distilbert(reader)
        case .albert: fields = try .albert(reader)
        case .bert, .roberta, .xlmRoberta: fields = try .bertFamily(reader, isBert: architecture == .bert)
        }
        vocabSize = fields.vocabSize
        hiddenSize = fields.hiddenSize
        embeddingSize = fields.embeddingSize
        numLayers = fields.numLayers
        numHeads = fields.numHeads
        intermediateSize = fields.intermediateSize
        hiddenAct = fields.hiddenAct
        layerNormEps = fields.layerNormEps
        maxPositions = fields.maxPositions
        typeVocabSize = fields.typeVocabSize
        padTokenId = fields.padTokenId
        hiddenDropout = fields.hiddenDropout
        attentionDropout = fields.attentionDropout
        classifierDropout = fields.classifierDropout
        sinusoidalPositions = fields.sinusoidalPositions
        numHiddenGroups = fields.numHiddenGroups
        innerGroupNum = fields.innerGroupNum
        initializerRange = try reader.float("initializer_range", 0.02)
        tieWordEmbeddings = try reader.bool("tie_word_embeddings", true)
        if case .object(let labels)? = raw["id2label"] { numLabels = labels.count } else { numLabels = nil }
        let problems = sizeProblems()
        if !problems.isEmpty { throw ModelError.config(file: file, message: problems.joined(separator: "; ")) }
    }

    /// Sizes that cannot build a model are config errors, not crashes later.
    func sizeProblems() -> [String] {
        var problems: [String] = []
        for (name, value) in [("vocab size", vocabSize), ("hidden size", hiddenSize), ("embedding size", embeddingSize),
                              ("layers", numLayers), ("attention heads", numHeads), ("intermediate size", intermediateSize),
                              ("max positions", maxPositions)] where value <= 0 {
            problems.append("\(name) must be positive, got \(value)")
        }
        if typeVocabSize < 0 { problems.append("type_vocab_size must not be negative, got \(typeVocabSize)") }
        if numHeads > 0, hiddenSize % numHeads != 0 {
            problems.append("hidden size \(hiddenSize) is not divisible by \(numHeads) attention heads")
        }
        if architecture == .albert, numHiddenGroups < 1 || numHiddenGroups > numLayers || innerGroupNum < 1 {
            problems.append("ALBERT num_hidden_groups \(numHiddenGroups) must be in 1...\(numLayers) and inner_group_num \(innerGroupNum) >= 1")
        }
        if padTokenId < 0 || padTokenId >= vocabSize { problems.append("pad_token_id \(padTokenId) is outside the vocabulary of \(vocabSize)") }
        for (name, p) in [("hidden dropout", hiddenDropout), ("attention dropout", attentionDropout)] where !(0..<1).contains(p) {
            problems.append("\(name) \(p) must be in [0, 1)")
        }
        return problems
    }

    static func architecture(modelType: String, architectures: [String], file: String) throws -> Architecture {
        switch modelType {
        case "bert": return .bert
        case "roberta", "camembert": return .roberta
        case "xlm-roberta": return .xlmRoberta
        case "albert": return .albert
        case "distilbert": return .distilbert
        case "": break
        default:
            throw ModelError.unsupportedArchitecture(file: file, found: "model_type '\(modelType)'", supported: Architecture.supportedNames)
        }
        // Older configs without model_type: go by the class name.
        for name in architectures {
            if name.hasPrefix("XLMRoberta") { return .xlmRoberta }
            if name.hasPrefix("Roberta") || name.hasPrefix("Camembert") { return .roberta }
            if name.hasPrefix("DistilBert") { return .distilbert }
            if name.hasPrefix("Albert") { return .albert }
            if name.hasPrefix("Bert") { return .bert }
        }
        let found = architectures.isEmpty ? "no model_type and no architectures" : "architectures \(architectures)"
        throw ModelError.unsupportedArchitecture(file: file, found: found, supported: Architecture.supportedNames)
    }

    /// The config.json `save` writes: the original fields with `architectures` set to `className`.
    func jsonForSave(className: String) throws -> Data {
        var out = raw
        out["architectures"] = .array([.string(className)])
        let encoder = JSONEncoder.readable
        return try encoder.encode(out)
    }
}

/// Typed reads of config.json fields: a missing or null field takes the fallback, a mistyped one is an error naming the key.
struct ConfigReader {
    let raw: [String: JSONValue]
    let file: String

    func int(_ key: String, _ fallback: Int) throws -> Int {
        guard let v = raw[key], !v.isNull else { return fallback }
        guard let i = v.int else { throw ModelError.config(file: file, message: "'\(key)' must be an integer, got \(v)") }
        return i
    }

    func float(_ key: String, _ fallback: Float) throws -> Float {
        guard let v = raw[key], !v.isNull else { return fallback }
        guard let d = v.double else { throw ModelError.config(file: file, message: "'\(key)' must be a number, got \(v)") }
        return Float(d)
    }

    func bool(_ key: String, _ fallback: Bool) throws -> Bool {
        guard let v = raw[key], !v.isNull else { return fallback }
        guard let b = v.bool else { throw ModelError.config(file: file, message: "'\(key)' must be true or false, got \(v)") }
        return b
    }

    func activation(_ key: String, _ fallback: Activation) throws -> Activation {
        guard let v = raw[key], !v.isNull else { return fallback }
        guard let s = v.string, let a = Activation(rawValue: s) else {
            throw ModelError.config(file: file, message: "'\(key)' = \(v) is not supported; Cloze supports \(Activation.supported.joined(separator: ", "))")
        }
        return a
    }
}

/// The fields whose config.json names and defaults differ by architecture (transformers' config-class defaults).
struct ArchitectureFields {
    var vocabSize, hiddenSize, embeddingSize, numLayers, numHeads, intermediateSize: Int
    var hiddenAct: Activation
    var layerNormEps: Float
    var maxPositions, typeVocabSize, padTokenId: Int
    var hiddenDropout, attentionDropout, classifierDropout: Float
    var sinusoidalPositions: Bool
    var numHiddenGroups, innerGroupNum: Int

    static func distilbert(_ r: ConfigReader) throws -> ArchitectureFields {
        let hidden = try r.int("dim", 768), layers = try r.int("n_layers", 6)
        return ArchitectureFields(
            vocabSize: try r.int("vocab_size", 30522), hiddenSize: hidden, embeddingSize: hidden, numLayers: layers,
            numHeads: try r.int("n_heads", 12), intermediateSize: try r.int("hidden_dim", 4 * 768),
            hiddenAct: try r.activation("activation", .gelu),
            layerNormEps: 1e-12,  // fixed in DistilBERT's modeling code
            maxPositions: try r.int("max_position_embeddings", 512), typeVocabSize: 0, padTokenId: try r.int("pad_token_id", 0),
            hiddenDropout: try r.float("dropout", 0.1), attentionDropout: try r.float("attention_dropout", 0.1),
            classifierDropout: try r.float("seq_classif_dropout", 0.2),
            sinusoidalPositions: try r.bool("sinusoidal_pos_embds", false), numHiddenGroups: layers, innerGroupNum: 1)
    }

    static func albert(_ r: ConfigReader) throws -> ArchitectureFields {
        ArchitectureFields(
            vocabSize: try r.int("vocab_size", 30000), hiddenSize: try r.int("hidden_size", 4096),
            embeddingSize: try r.int("embedding_size", 128), numLayers: try r.int("num_hidden_layers", 12),
            numHeads: try r.int("num_attention_heads", 64), intermediateSize: try r.int("intermediate_size", 16384),
            hiddenAct: try r.activation("hidden_act", .geluNew), layerNormEps: try r.float("layer_norm_eps", 1e-12),
            maxPositions: try r.int("max_position_embeddings", 512), typeVocabSize: try r.int("type_vocab_size", 2),
            padTokenId: try r.int("pad_token_id", 0), hiddenDropout: try r.float("hidden_dropout_prob", 0),
            attentionDropout: try r.float("attention_probs_dropout_prob", 0),
            classifierDropout: try r.float("classifier_dropout_prob", 0.1), sinusoidalPositions: false,
            numHiddenGroups: try r.int("num_hidden_groups", 1), innerGroupNum: try r.int("inner_group_num", 1))
    }

    /// BERT, RoBERTa and XLM-R: the same field names; RoBERTa's defaults differ in vocabulary, eps and padding id.
    static func bertFamily(_ r: ConfigReader, isBert: Bool) throws -> ArchitectureFields {
        if let pet = r.raw["position_embedding_type"]?.string, pet != "absolute" {
            throw ModelError.config(file: r.file, message: "position_embedding_type '\(pet)' is not supported (only 'absolute')")
        }
        let hidden = try r.int("hidden_size", 768), layers = try r.int("num_hidden_layers", 12)
        let hiddenDropout = try r.float("hidden_dropout_prob", 0.1)
        return ArchitectureFields(
            vocabSize: try r.int("vocab_size", isBert ? 30522 : 50265), hiddenSize: hidden, embeddingSize: hidden,
            numLayers: layers, numHeads: try r.int("num_attention_heads", 12),
            intermediateSize: try r.int("intermediate_size", 3072), hiddenAct: try r.activation("hidden_act", .gelu),
            layerNormEps: try r.float("layer_norm_eps", isBert ? 1e-12 : 1e-5),
            maxPositions: try r.int("max_position_embeddings", 512), typeVocabSize: try r.int("type_vocab_size", 2),
            padTokenId: try r.int("pad_token_id", isBert ? 0 : 1), hiddenDropout: hiddenDropout,
            attentionDropout: try r.float("attention_probs_dropout_prob", 0.1),
            classifierDropout: try r.float("classifier_dropout", hiddenDropout), sinusoidalPositions: false,
            numHiddenGroups: layers, innerGroupNum: 1)
    }
}
