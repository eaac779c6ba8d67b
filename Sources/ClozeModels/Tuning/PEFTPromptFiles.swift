import ClozeTensor
import Foundation

/// Prompt-learning adapters (P_TUNING, PREFIX_TUNING) and bottleneck adapters in adapter directories.
/// PEFT saves a prompt method's *output* (`prompt_embeddings`: the encoder's virtual tokens, or the
/// prefix table after its projection), so reparameterisation networks are dropped on save and a
/// saved adapter is served without them.
extension PEFTAdapterFile {
    /// Config keys every prompt-learning method shares.
    static func promptConfig(_ type: String, virtualTokens: Int, tokenDim: Int, model: any MaskedLanguageModel, layers: Int,
                             baseModel: String) -> [String: JSONValue] {
        [
            "peft_type": .string(type), "task_type": .string("TOKEN_CLS"),
            "num_virtual_tokens": .number(Double(virtualTokens)), "token_dim": .number(Double(tokenDim)),
            "num_transformer_submodules": .number(1), "num_attention_heads": .number(Double(model.config.numHeads)),
            "num_layers": .number(Double(layers)), "inference_mode": .bool(true),
            "base_model_name_or_path": .string(baseModel), "revision": .null,
        ]
    }

    /// Writes the model's P-tuning virtual tokens (the prompt encoder's output) as PEFT P_TUNING.
    public static func savePTuning(_ model: any MaskedLanguageModel, baseModel: String, to directory: String) throws {
        guard let prompt = model.softPrompt, let encoder = prompt.encoder else {
            throw ModelError.input("the model has no P-tuning prompt encoder to save")
        }
        let table = prompt.table(tape: nil)
        var json = promptConfig("P_TUNING", virtualTokens: prompt.count, tokenDim: table.shape[1], model: model,
                                layers: model.config.numLayers, baseModel: baseModel)
        json["encoder_reparameterization_type"] = .string(encoder.kind.rawValue.uppercased())
        json["encoder_hidden_size"] = .number(Double(encoder.hiddenSize))
        json["encoder_num_layers"] = .number(2)
        json["encoder_dropout"] = .number(0)
        try write(config: json, tensors: [("prompt_embeddings", table.shape, table.data)], to: directory)
    }

    /// Writes the model's prefix as PEFT PREFIX_TUNING (projection folded in: prefix_projection false).
    public static func savePrefix(_ model: any MaskedLanguageModel, baseModel: String, to directory: String) throws {
        guard let prefix = model.prefix else { throw ModelError.input("the model has no prefix to save") }
        let table = prefix.table(tape: nil)
        var json = promptConfig("PREFIX_TUNING", virtualTokens: prefix.virtualTokens, tokenDim: prefix.width, model: model,
                                layers: prefix.steps, baseModel: baseModel)
        json["prefix_projection"] = .bool(false)
        json["encoder_hidden_size"] = .number(Double(prefix.width))
        try write(config: json, tensors: [("prompt_embeddings", table.shape, table.data)], to: directory)
    }

    /// Reads a PEFT PREFIX_TUNING directory (`prompt_embeddings` [n, L·2·H], PEFT's past_key_values
    /// layout) into `model.prefix`. Returns the virtual-token count.
    static func loadPrefix(from directory: String, into model: any MaskedLanguageModel) throws -> Int {
        let weightsPath = (directory as NSString).appendingPathComponent(weightsName)
        let file = try SafeTensorsFile(path: weightsPath)
        guard let e = file.entries["prompt_embeddings"] else {
            throw ModelError.weights(file: weightsPath, problems: ["no 'prompt_embeddings' tensor (a PREFIX_TUNING adapter has one)"])
        }
        let (steps, width) = (model.appliedLayers, model.config.hiddenSize)
        guard e.shape.count == 2, e.shape[0] >= 1, e.shape[1] == steps * 2 * width else {
            throw ModelError.weights(file: weightsPath, problems: ["prompt_embeddings \(e.shape) does not fit \(steps) layers × 2 × hidden \(width) = \(steps * 2 * width) columns (wrong base model?)"])
        }
        let t = Tensor(shape: e.shape, data: try file.floats(e), requiresGrad: true, name: "prefix_encoder.embedding.weight")
        model.prefix = try PrefixPrompt(embedding: t, projection: nil, steps: steps, width: width)
        return e.shape[0]
    }

    /// Writes bottleneck adapters (no PEFT type exists for them): adapter_config.json with
    /// peft_type CLOZE_BOTTLENECK_ADAPTER and tensors `<module>.adapter.{down,up}.{weight,bias}`.
    public static func saveBottleneckAdapters(_ model: TransformerMaskedLM, config: BottleneckAdapterConfig, baseModel: String,
                                              to directory: String) throws {
        let tensors = model.bottleneckAdapterParameters.map { ($0.name, $0.tensor.shape, $0.tensor.data) }
        guard !tensors.isEmpty else { throw ModelError.input("the model has no bottleneck adapter to save") }
        let json: [String: JSONValue] = [
            "peft_type": .string(bottleneckType), "placement": .string(config.placement.rawValue),
            "reduction_factor": .number(Double(config.reductionFactor)), "non_linearity": .string(config.nonLinearity.rawValue),
            "base_model_name_or_path": .string(baseModel),
        ]
        try write(config: json, tensors: tensors, to: directory)
    }

    static let bottleneckType = "CLOZE_BOTTLENECK_ADAPTER"

    /// Reads `saveBottleneckAdapters`' directory into the model's layers. Returns how many adapters.
    static func loadBottleneckAdapters(from directory: String, into model: any MaskedLanguageModel, config o: [String: JSONValue],
                                       configPath: String) throws -> Int {
        guard let m = model as? TransformerMaskedLM else { throw ModelError.config(file: configPath, message: "bottleneck adapters need a transformer masked LM") }
        guard case .string(let f)? = o["non_linearity"], let nonLinearity = BottleneckAdapter.NonLinearity(rawValue: f) else {
            throw ModelError.config(file: configPath, message: "non_linearity must be one of \(BottleneckAdapter.NonLinearity.allCases.map(\.rawValue))")
        }
        let weightsPath = (directory as NSString).appendingPathComponent(weightsName)
        let file = try SafeTensorsFile(path: weightsPath)
        var loaded = 0, problems: [String] = []
        for (layer, slot) in m.adapterSlots {
            let base = slot.linear.name + ".adapter."
            let names = ["down.weight", "down.bias", "up.weight", "up.bias"].map { base + $0 }
            let present = names.filter { file.entries[$0] != nil }
            if present.isEmpty { continue }
            guard present.count == 4 else { problems.append("\(slot.linear.name): an adapter needs down/up weight and bias"); continue }
            let t = try names.map { n in Tensor(shape: file.entries[n]!.shape, data: try file.floats(file.entries[n]!), requiresGrad: true, name: n) }
            let (w, b) = (m.config.hiddenSize, t[0].shape.first ?? 0)
            guard t[0].shape == [b, w], t[1].shape == [b], t[2].shape == [w, b], t[3].shape == [w], b >= 1 else {
                problems.append("\(slot.linear.name): adapter shapes \(t.map(\.shape)) do not fit hidden size \(w)"); continue
            }
            slot.set(layer, BottleneckAdapter(down: t[0], downBias: t[1], up: t[2], upBias: t[3], nonLinearity: nonLinearity))
            loaded += 1
        }
        if loaded * 4 != file.names.count { problems.append("\(file.names.count - loaded * 4) tensors do not belong to an adapter of this model (wrong base model?)") }
        guard problems.isEmpty else { throw ModelError.weights(file: weightsPath, problems: problems) }
        return loaded
    }
}

extension TransformerMaskedLM {
    /// The two bottleneck-adapter slots of each distinct layer: after the attention output and after
    /// the feed-forward output, named by the Linear they follow.
    var adapterSlots: [(TransformerLayer, (linear: Linear, get: (TransformerLayer) -> BottleneckAdapter?, set: (TransformerLayer, BottleneckAdapter) -> Void))] {
        layers.flatMap { l in [
            (l, (linear: l.attentionOutput, get: { $0.attentionAdapter }, set: { $0.attentionAdapter = $1 })),
            (l, (linear: l.ffnOut, get: { $0.outputAdapter }, set: { $0.outputAdapter = $1 })),
        ] }
    }

    /// Bottleneck adapters' tensors, named after the Linear they follow.
    public var bottleneckAdapterParameters: [(name: String, tensor: Tensor)] {
        adapterSlots.flatMap { layer, slot in (slot.get(layer)?.parameters ?? []).map { (slot.linear.name + "." + $0.name, $0.tensor) } }
    }
}
