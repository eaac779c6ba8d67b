import ClozeTensor
import Foundation

/// Whether to build the MLM head.
public enum MLMHeadPolicy: Sendable {
    /// Error if the checkpoint has none.
    case required
    /// Build it when the checkpoint has it (bare encoders and classification checkpoints load without).
    case ifPresent
    /// Encoder only; head tensors in the file are ignored (and reported).
    case none
}

/// What loading did besides building the model.
public struct LoadReport: Sendable {
    /// Stored tensors that were not used but are known to be harmless (position_ids buffers,
    /// poolers, pre-training heads, tied copies), reported as transformers does.
    public var ignored: [String] = []
    /// Parameters absent from the checkpoint and randomly initialised (classification heads).
    public var randomlyInitialized: [String] = []
}

public struct LoadedModel {
    public let model: TransformerMaskedLM
    public let classifier: SequenceClassificationHead?
    public let report: LoadReport
}

/// Loads Hugging Face checkpoint directories (config.json + model.safetensors).
public enum ModelLoader {
    /// A masked LM with its head (the usual entry point).
    /// `quantization: .nf4` stores the transformer-layer Linear weights in NF4 (frozen; QLoRA).
    public static func loadMaskedLM(directory: String, quantization: WeightQuantization = .none) throws -> TransformerMaskedLM {
        try load(directory: directory, mlmHead: .required, quantization: quantization).model
    }

    /// - Parameters:
    ///   - classificationLabels: also build a sequence-classification head with this many labels
    ///     (loaded if stored, else random from `seed`).
    ///   - allowUnexpected: accept unknown extra tensors instead of failing.
    ///   - quantization: `.nf4` quantises each transformer-layer Linear weight as it is read (frozen).
    public static func load(directory: String, mlmHead: MLMHeadPolicy = .required, classificationLabels: Int? = nil,
                            seed: UInt64 = 42, allowUnexpected: Bool = false,
                            quantization: WeightQuantization = .none) throws -> LoadedModel {
        let config = try ModelConfig.load(directory: directory)
        let path = (directory as NSString).appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelError.io(file: path, message: "no model.safetensors (convert pytorch_model.bin with transformers' save_pretrained(safe_serialization=True))")
        }
        let file = try SafeTensorsFile(path: path)
        let weights = CheckpointWeights(file: file, prefix: config.architecture.prefix)
        weights.quantization = quantization
        let headBias = mlmHeadMarker(config.architecture)
        let withHead: Bool
        switch mlmHead {
        case .required: withHead = true
        case .ifPresent: withHead = weights.has(headBias)
        case .none: withHead = false
        }
        if mlmHead == .required, !weights.has(headBias) {
            throw ModelError.weights(file: path, problems: [
                "no MLM head: '\(headBias)' is missing; this looks like a bare encoder or classification checkpoint (\(config.architectures.joined(separator: ", ")))"])
        }
        let model = build(config: config, weights: weights, withMLMHead: withHead)
        var classifier: SequenceClassificationHead?
        if let labels = classificationLabels {
            guard labels > 0 else { throw ModelError.input("classification head needs at least 1 label, got \(labels)") }
            weights.fallback = RandomWeights(seed: seed, std: config.initializerRange)
            var builder = ParameterBuilder(OptionalWeights(weights))
            classifier = SequenceClassificationHead(config: config, numLabels: labels, builder: &builder)
        }
        var report = LoadReport()
        report.randomlyInitialized = weights.randomlyInitialized
        var unexpected: [String] = []
        for name in weights.unused {
            if isHarmless(name, architecture: config.architecture, withHead: withHead) { report.ignored.append(name) }
            else { unexpected.append(name) }
        }
        var problems = weights.problems
        if !allowUnexpected {
            problems += unexpected.map { "unexpected tensor '\($0)' (not part of \(withHead ? model.className : model.baseClassName) for this config)" }
        } else {
            report.ignored += unexpected
        }
        if !problems.isEmpty { throw ModelError.weights(file: path, problems: problems) }
        return LoadedModel(model: model, classifier: classifier, report: report)
    }

    /// A model with seeded random weights (benchmarks, tests).
    public static func random(config: ModelConfig, seed: UInt64, quantization: WeightQuantization = .none) -> TransformerMaskedLM {
        let weights = RandomWeights(seed: seed, std: config.initializerRange)
        weights.quantization = quantization
        return build(config: config, weights: weights, withMLMHead: true)
    }

    static func build(config: ModelConfig, weights: WeightProvider, withMLMHead: Bool) -> TransformerMaskedLM {
        switch config.architecture {
        case .bert: return BertForMaskedLM(config: config, weights: weights, withMLMHead: withMLMHead)
        case .roberta, .xlmRoberta: return RobertaForMaskedLM(config: config, weights: weights, withMLMHead: withMLMHead)
        case .albert: return AlbertForMaskedLM(config: config, weights: weights, withMLMHead: withMLMHead)
        case .distilbert: return DistilBertForMaskedLM(config: config, weights: weights, withMLMHead: withMLMHead)
        }
    }

    /// The tensor whose presence means "this checkpoint has an MLM head".
    static func mlmHeadMarker(_ a: Architecture) -> String {
        switch a {
        case .bert: return "cls.predictions.bias"
        case .roberta, .xlmRoberta: return "lm_head.bias"
        case .albert: return "predictions.bias"
        case .distilbert: return "vocab_projector.bias"
        }
    }

    /// Unused tensors transformers also drops without complaint when loading a masked LM.
    static func isHarmless(_ name: String, architecture: Architecture, withHead: Bool) -> Bool {
        if name.hasSuffix("position_ids") || name.hasSuffix("token_type_ids") { return true }  // buffers
        let bare = name.hasPrefix(architecture.prefix + ".") ? String(name.dropFirst(architecture.prefix.count + 1)) : name
        if bare.hasPrefix("pooler.") { return true }                                   // BertModel / AlbertModel pooler
        if bare.hasPrefix("cls.seq_relationship.") || bare.hasPrefix("sop_classifier.") { return true }  // pre-training heads
        if bare.hasPrefix("classifier.") || bare.hasPrefix("pre_classifier.") { return true }  // a classification head not asked for
        if !withHead {
            for head in ["cls.predictions.", "lm_head.", "predictions.", "vocab_transform.", "vocab_layer_norm.", "vocab_projector."]
            where bare.hasPrefix(head) { return true }
        }
        return false
    }
}

/// Makes every request optional, so absent classification-head tensors fall back to random init.
private final class OptionalWeights: WeightProvider {
    let base: CheckpointWeights
    init(_ base: CheckpointWeights) { self.base = base }
    func has(_ name: String) -> Bool { base.has(name) }
    func tensor(_ name: String, shape: [Int], initializer: ParameterInit, optional: Bool) -> Tensor? {
        base.tensor(name, shape: shape, initializer: initializer, optional: true)
    }
}
