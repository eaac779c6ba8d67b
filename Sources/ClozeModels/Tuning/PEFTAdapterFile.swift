import ClozeTensor
import Foundation

/// Adapter directories in Hugging Face PEFT's layout: `adapter_config.json` + `adapter_model.safetensors`
/// with tensors named `base_model.model.<module>.lora_A.weight` / `.lora_B.weight`, so `PeftModel.from_pretrained`
/// loads what Cloze saves and Cloze loads what PEFT saves.
public enum PEFTAdapterFile {
    static let prefix = "base_model.model."
    public static let configName = "adapter_config.json"
    public static let weightsName = "adapter_model.safetensors"

    // MARK: saving

    /// Writes the model's LoRA adapters (all must share rank/alpha/dropout, as one PEFT config does).
    public static func saveLoRA(_ model: any MaskedLanguageModel, config: LoRAConfig, baseModel: String, to directory: String) throws {
        let adapted = model.linears.compactMap { l in (l.adapter as? LoRAAdapter).map { (l, $0) } }
        guard !adapted.isEmpty else { throw ModelError.input("the model has no LoRA adapter to save") }
        var tensors: [(name: String, shape: [Int], data: [Float])] = []
        for (linear, lora) in adapted {
            tensors.append((prefix + linear.name + ".lora_A.weight", lora.a.shape, lora.a.data))
            tensors.append((prefix + linear.name + ".lora_B.weight", lora.b.shape, lora.b.data))
            if let m = lora.magnitude { tensors.append((prefix + linear.name + ".lora_magnitude_vector", m.shape, m.data)) }
        }
        let targets = config.targetModules ?? LoRAConfig.defaultTargets(model.config.architecture)
        let json: [String: JSONValue] = [
            "peft_type": .string("LORA"), "task_type": .null, "r": .number(Double(config.rank)),
            "lora_alpha": .number(Double(config.alpha)), "lora_dropout": .number(Double(config.dropout)),
            "target_modules": .array(targets.map { .string($0) }), "bias": .string("none"),
            "fan_in_fan_out": .bool(false), "use_rslora": .bool(config.useRSLoRA), "use_dora": .bool(adapted.contains { $0.1.isDoRA }),
            "modules_to_save": .null, "init_lora_weights": .bool(true), "inference_mode": .bool(true),
            "base_model_name_or_path": .string(baseModel), "rank_pattern": .object([:]), "alpha_pattern": .object([:]),
            "layers_to_transform": .null, "layers_pattern": .null, "revision": .null,
        ]
        try write(config: json, tensors: tensors, to: directory)
    }

    /// Writes the model's (IA)³ vectors as PEFT IA3.
    public static func saveIA3(_ model: any MaskedLanguageModel, baseModel: String, to directory: String) throws {
        let adapted = model.linears.compactMap { l in (l.adapter as? IA3Adapter).map { (l, $0) } }
        guard !adapted.isEmpty else { throw ModelError.input("the model has no (IA)³ adapter to save") }
        let tensors = adapted.map { (prefix + $0.0.name + ".ia3_l", $0.1.scale.shape, $0.1.scale.data) }
        // Exact module names: what the model has is what PEFT re-targets.
        let json: [String: JSONValue] = [
            "peft_type": .string("IA3"), "task_type": .null,
            "target_modules": .array(adapted.map { .string($0.0.name) }),
            "feedforward_modules": .array(adapted.filter { $0.1.isFeedforward }.map { .string($0.0.name) }),
            "fan_in_fan_out": .bool(false), "init_ia3_weights": .bool(true), "modules_to_save": .null,
            "inference_mode": .bool(true), "base_model_name_or_path": .string(baseModel), "revision": .null,
        ]
        try write(config: json, tensors: tensors, to: directory)
    }

    /// Writes the model's soft prompt as PEFT PROMPT_TUNING (task type TOKEN_CLS, whose forward
    /// prepends the virtual tokens to a masked LM's inputs).
    public static func savePrompt(_ model: any MaskedLanguageModel, baseModel: String, to directory: String) throws {
        guard let prompt = model.softPrompt else { throw ModelError.input("the model has no soft prompt to save") }
        if prompt.encoder != nil { return try savePTuning(model, baseModel: baseModel, to: directory) }
        let c = model.config
        let json: [String: JSONValue] = [
            "peft_type": .string("PROMPT_TUNING"), "task_type": .string("TOKEN_CLS"),
            "num_virtual_tokens": .number(Double(prompt.count)), "token_dim": .number(Double(prompt.embeddings.shape[1])),
            "num_transformer_submodules": .number(1), "num_attention_heads": .number(Double(c.numHeads)),
            "num_layers": .number(Double(c.numLayers)), "prompt_tuning_init": .string("RANDOM"),
            "inference_mode": .bool(true), "base_model_name_or_path": .string(baseModel), "revision": .null,
        ]
        try write(config: json, tensors: [("prompt_embeddings", prompt.embeddings.shape, prompt.embeddings.data)], to: directory)
    }

    static func write(config json: [String: JSONValue], tensors: [(name: String, shape: [Int], data: [Float])], to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ModelError.io(file: directory, message: "cannot create directory: \(error.localizedDescription)")
        }
        let configPath = (directory as NSString).appendingPathComponent(configName)
        do {
            let encoder = JSONEncoder.readable
            try encoder.encode(JSONValue.object(json)).write(to: URL(fileURLWithPath: configPath), options: .atomic)
        } catch {
            throw ModelError.io(file: configPath, message: "cannot write: \(error.localizedDescription)")
        }
        try SafeTensorsWriter.write(tensors, to: (directory as NSString).appendingPathComponent(weightsName))
    }

    // MARK: loading

    /// What a PEFT adapter directory held.
    public enum Loaded: Sendable, Equatable {
        case lora(LoRAConfig)
        case prompt(virtualTokens: Int)
        case ia3(modules: Int)
        case prefix(virtualTokens: Int)
        case bottleneckAdapters(modules: Int)
    }

    /// Loads a LORA, IA3, PROMPT_TUNING, P_TUNING, PREFIX_TUNING or Cloze bottleneck-adapter directory into `model`.
    @discardableResult
    public static func load(from directory: String, into model: any MaskedLanguageModel) throws -> Loaded {
        let configPath = (directory as NSString).appendingPathComponent(configName)
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw ModelError.io(file: configPath, message: "missing or unreadable; pass a PEFT adapter directory")
        }
        guard case .object(let o)? = try? JSONDecoder().decode(JSONValue.self, from: data), case .string(let type)? = o["peft_type"] else {
            throw ModelError.config(file: configPath, message: "not a JSON object with a peft_type")
        }
        // P_TUNING saves its encoder's output: served exactly like prompt tuning's virtual tokens.
        if type == "PROMPT_TUNING" || type == "P_TUNING" { return .prompt(virtualTokens: try loadPrompt(from: directory, into: model)) }
        if type == "PREFIX_TUNING" { return .prefix(virtualTokens: try loadPrefix(from: directory, into: model)) }
        if type == bottleneckType {
            return .bottleneckAdapters(modules: try loadBottleneckAdapters(from: directory, into: model, config: o, configPath: configPath))
        }
        if type == "IA3" { return .ia3(modules: try loadIA3(from: directory, into: model, config: o, configPath: configPath)) }
        return .lora(try loadLoRA(from: directory, into: model))
    }

    /// Reads a PEFT PROMPT_TUNING directory (tensor `prompt_embeddings` [n, E]) into `model.softPrompt`.
    public static func loadPrompt(from directory: String, into model: any MaskedLanguageModel) throws -> Int {
        let weightsPath = (directory as NSString).appendingPathComponent(weightsName)
        let file = try SafeTensorsFile(path: weightsPath)
        guard let e = file.entries["prompt_embeddings"] else {
            throw ModelError.weights(file: weightsPath, problems: ["no 'prompt_embeddings' tensor (a PROMPT_TUNING adapter has one)"])
        }
        let width = model.parameters.first { $0.name.hasSuffix("embeddings.word_embeddings.weight") }?.tensor.shape[1] ?? -1
        guard e.shape.count == 2, e.shape[0] >= 1, e.shape[1] == width else {
            throw ModelError.weights(file: weightsPath, problems: ["prompt_embeddings \(e.shape) does not fit word embeddings of width \(width) (wrong base model?)"])
        }
        model.softPrompt = SoftPrompt(embeddings: Tensor(shape: e.shape, data: try file.floats(e), requiresGrad: true, name: "prompt_embeddings"))
        return e.shape[0]
    }

    /// Reads a PEFT LoRA directory and attaches its adapters to `model`. Returns the LoRA config read.
    @discardableResult
    public static func loadLoRA(from directory: String, into model: any MaskedLanguageModel) throws -> LoRAConfig {
        let configPath = (directory as NSString).appendingPathComponent(configName)
        let config = try readConfig(configPath)
        let weightsPath = (directory as NSString).appendingPathComponent(weightsName)
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw ModelError.io(file: weightsPath, message: "missing; a PEFT adapter directory holds adapter_config.json and adapter_model.safetensors (a .bin adapter must be converted to safetensors)")
        }
        let file = try SafeTensorsFile(path: weightsPath)
        let byName = Dictionary(uniqueKeysWithValues: model.linears.map { ($0.name, $0) })
        var pairs: [String: (a: Tensor?, b: Tensor?, m: Tensor?)] = [:]
        let suffixes = [".lora_A.weight", ".lora_B.weight", ".lora_magnitude_vector"]
        for name in file.names {
            guard name.hasPrefix(prefix), let suffix = suffixes.first(where: { name.hasSuffix($0) }) else {
                throw ModelError.weights(file: weightsPath, problems: ["tensor '\(name)' is not a LoRA tensor (base_model.model.<module>.lora_A/B.weight, .lora_magnitude_vector); only LoRA adapters without modules_to_save are supported"])
            }
            let module = String(name.dropFirst(prefix.count).dropLast(suffix.count))
            let e = file.entries[name]!
            let t = Tensor(shape: e.shape, data: try file.floats(e), requiresGrad: true, name: String(name.dropFirst(prefix.count)))
            switch suffix {
            case ".lora_A.weight": pairs[module, default: (nil, nil, nil)].a = t
            case ".lora_B.weight": pairs[module, default: (nil, nil, nil)].b = t
            default: pairs[module, default: (nil, nil, nil)].m = t
            }
        }
        var problems: [String] = []
        var checked: [(Linear, Tensor, Tensor, Tensor?)] = []
        for (module, pair) in pairs.sorted(by: { $0.key < $1.key }) {
            guard let linear = byName[module] else { problems.append("module '\(module)' is not a linear layer of this model (wrong base model?)"); continue }
            guard let a = pair.a, let b = pair.b else { problems.append("module '\(module)' has only one of lora_A / lora_B"); continue }
            let r = a.shape.first ?? 0
            guard a.shape == [r, linear.inFeatures], b.shape == [linear.outFeatures, r], r >= 1 else {
                problems.append("module '\(module)': lora_A \(a.shape) / lora_B \(b.shape) do not fit a [\(linear.outFeatures), \(linear.inFeatures)] layer")
                continue
            }
            if config.useDoRA != (pair.m != nil) || (pair.m.map { $0.count != linear.outFeatures } ?? false) {
                problems.append("module '\(module)': use_dora is \(config.useDoRA) but lora_magnitude_vector is \(pair.m.map { "\($0.shape)" } ?? "missing") (a DoRA adapter has one of [\(linear.outFeatures)] per module)")
                continue
            }
            checked.append((linear, a, b, pair.m))
        }
        if checked.isEmpty && problems.isEmpty { problems.append("no LoRA tensors") }
        guard problems.isEmpty else { throw ModelError.weights(file: weightsPath, problems: problems) }
        for (linear, a, b, m) in checked {
            let scaling = config.useRSLoRA ? config.alpha / Float(a.shape[0]).squareRoot() : config.alpha / Float(a.shape[0])
            linear.adapter = LoRAAdapter(a: a, b: b, scaling: scaling, dropout: config.dropout, magnitude: m.map {
                Tensor(shape: [linear.outFeatures], data: $0.data, requiresGrad: true, name: $0.name)
            })
        }
        return config
    }

    /// Reads a PEFT IA3 directory (tensors `base_model.model.<module>.ia3_l`, [out, 1] or [1, in] for
    /// the feed-forward modules). Returns how many modules it adapts.
    static func loadIA3(from directory: String, into model: any MaskedLanguageModel, config o: [String: JSONValue], configPath: String) throws -> Int {
        try rejectUnsupportedLayerOptions(o, path: configPath)
        let weightsPath = (directory as NSString).appendingPathComponent(weightsName)
        let file = try SafeTensorsFile(path: weightsPath)
        let byName = Dictionary(uniqueKeysWithValues: model.linears.map { ($0.name, $0) })
        var problems: [String] = []
        var checked: [(Linear, IA3Adapter)] = []
        for name in file.names {
            guard name.hasPrefix(prefix), name.hasSuffix(".ia3_l") else {
                problems.append("tensor '\(name)' is not an (IA)³ tensor (base_model.model.<module>.ia3_l)"); continue
            }
            let module = String(name.dropFirst(prefix.count).dropLast(".ia3_l".count))
            guard let linear = byName[module] else { problems.append("module '\(module)' is not a linear layer of this model (wrong base model?)"); continue }
            let e = file.entries[name]!
            let feedforward = e.shape == [1, linear.inFeatures]
            guard feedforward || e.shape == [linear.outFeatures, 1] else {
                problems.append("module '\(module)': ia3_l \(e.shape) fits neither [\(linear.outFeatures), 1] nor [1, \(linear.inFeatures)]"); continue
            }
            let t = Tensor(shape: e.shape, data: try file.floats(e), requiresGrad: true, name: module + ".ia3_l")
            checked.append((linear, IA3Adapter(scale: t, isFeedforward: feedforward)))
        }
        if checked.isEmpty && problems.isEmpty { problems.append("no (IA)³ tensors") }
        guard problems.isEmpty else { throw ModelError.weights(file: weightsPath, problems: problems) }
        for (linear, adapter) in checked { linear.adapter = adapter }
        return checked.count
    }

    /// Options of a Linear-wrapping PEFT config (LORA, IA3) that Cloze does not support.
    static func rejectUnsupportedLayerOptions(_ o: [String: JSONValue], path: String) throws {
        if case .bool(true)? = o["fan_in_fan_out"] {
            throw ModelError.config(file: path, message: "fan_in_fan_out (GPT-2 Conv1D layout) does not apply to these models")
        }
        if case .array(let m)? = o["modules_to_save"], !m.isEmpty {
            throw ModelError.config(file: path, message: "modules_to_save is not supported yet")
        }
    }

    static func readConfig(_ path: String) throws -> LoRAConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.io(file: path, message: "missing or unreadable; pass a PEFT adapter directory")
        }
        guard case .object(let o)? = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw ModelError.config(file: path, message: "not a JSON object")
        }
        func fail(_ m: String) -> ModelError { .config(file: path, message: m) }
        guard case .string(let type)? = o["peft_type"] else { throw fail("no peft_type") }
        guard type == "LORA" else { throw fail("peft_type \(type) is not supported; Cloze loads LORA adapters") }
        guard case .number(let r)? = o["r"], r >= 1, r == r.rounded() else { throw fail("r must be a positive integer") }
        var config = LoRAConfig(rank: Int(r))
        if case .number(let a)? = o["lora_alpha"] { config.alpha = Float(a) } else { config.alpha = 8 }
        if case .number(let d)? = o["lora_dropout"] { config.dropout = Float(d) }
        if case .bool(true)? = o["use_rslora"] { config.useRSLoRA = true }
        if case .bool(true)? = o["use_dora"] { config.useDoRA = true }
        if case .string(let bias)? = o["bias"], bias != "none" { throw fail("bias '\(bias)' is not supported; only bias: none") }
        for key in ["rank_pattern", "alpha_pattern"] {
            if case .object(let p)? = o[key], !p.isEmpty { throw fail("\(key) (per-module ranks/alphas) is not supported yet") }
        }
        try rejectUnsupportedLayerOptions(o, path: path)
        if case .array(let t)? = o["target_modules"] {
            config.targetModules = t.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        }
        return config
    }
}
