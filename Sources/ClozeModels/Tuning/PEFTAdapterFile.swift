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
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ModelError.io(file: directory, message: "cannot create directory: \(error.localizedDescription)")
        }
        var tensors: [(name: String, shape: [Int], data: [Float])] = []
        for (linear, lora) in adapted {
            tensors.append((prefix + linear.name + ".lora_A.weight", lora.a.shape, lora.a.data))
            tensors.append((prefix + linear.name + ".lora_B.weight", lora.b.shape, lora.b.data))
        }
        let targets = config.targetModules ?? LoRAConfig.defaultTargets(model.config.architecture)
        let json: [String: JSONValue] = [
            "peft_type": .string("LORA"), "task_type": .null, "r": .number(Double(config.rank)),
            "lora_alpha": .number(Double(config.alpha)), "lora_dropout": .number(Double(config.dropout)),
            "target_modules": .array(targets.map { .string($0) }), "bias": .string("none"),
            "fan_in_fan_out": .bool(false), "use_rslora": .bool(config.useRSLoRA), "use_dora": .bool(false),
            "modules_to_save": .null, "init_lora_weights": .bool(true), "inference_mode": .bool(true),
            "base_model_name_or_path": .string(baseModel), "rank_pattern": .object([:]), "alpha_pattern": .object([:]),
            "layers_to_transform": .null, "layers_pattern": .null, "revision": .null,
        ]
        let configPath = (directory as NSString).appendingPathComponent(configName)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(JSONValue.object(json)).write(to: URL(fileURLWithPath: configPath), options: .atomic)
        } catch {
            throw ModelError.io(file: configPath, message: "cannot write: \(error.localizedDescription)")
        }
        try SafeTensorsWriter.write(tensors, to: (directory as NSString).appendingPathComponent(weightsName))
    }

    // MARK: loading

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
        var pairs: [String: (a: Tensor?, b: Tensor?)] = [:]
        for name in file.names {
            guard name.hasPrefix(prefix), name.hasSuffix(".lora_A.weight") || name.hasSuffix(".lora_B.weight") else {
                throw ModelError.weights(file: weightsPath, problems: ["tensor '\(name)' is not a LoRA tensor (base_model.model.<module>.lora_A/B.weight); only LoRA adapters without modules_to_save are supported"])
            }
            let module = String(name.dropFirst(prefix.count).dropLast(".lora_A.weight".count))
            let e = file.entries[name]!
            let t = Tensor(shape: e.shape, data: try file.floats(e), requiresGrad: true, name: String(name.dropFirst(prefix.count)))
            if name.hasSuffix(".lora_A.weight") { pairs[module, default: (nil, nil)].a = t } else { pairs[module, default: (nil, nil)].b = t }
        }
        var problems: [String] = []
        var checked: [(Linear, Tensor, Tensor)] = []
        for (module, pair) in pairs.sorted(by: { $0.key < $1.key }) {
            guard let linear = byName[module] else { problems.append("module '\(module)' is not a linear layer of this model (wrong base model?)"); continue }
            guard let a = pair.a, let b = pair.b else { problems.append("module '\(module)' has only one of lora_A / lora_B"); continue }
            let r = a.shape.first ?? 0
            guard a.shape == [r, linear.inFeatures], b.shape == [linear.outFeatures, r], r >= 1 else {
                problems.append("module '\(module)': lora_A \(a.shape) / lora_B \(b.shape) do not fit a [\(linear.outFeatures), \(linear.inFeatures)] layer")
                continue
            }
            checked.append((linear, a, b))
        }
        if checked.isEmpty && problems.isEmpty { problems.append("no LoRA tensors") }
        guard problems.isEmpty else { throw ModelError.weights(file: weightsPath, problems: problems) }
        for (linear, a, b) in checked {
            let scaling = config.useRSLoRA ? config.alpha / Float(a.shape[0]).squareRoot() : config.alpha / Float(a.shape[0])
            linear.adapter = LoRAAdapter(a: a, b: b, scaling: scaling, dropout: config.dropout)
        }
        return config
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
        if case .bool(true)? = o["use_dora"] { throw fail("use_dora adapters are not supported yet") }
        if case .bool(true)? = o["fan_in_fan_out"] { throw fail("fan_in_fan_out (GPT-2 Conv1D layout) does not apply to these models") }
        if case .string(let bias)? = o["bias"], bias != "none" { throw fail("bias '\(bias)' is not supported; only bias: none") }
        for key in ["rank_pattern", "alpha_pattern"] {
            if case .object(let p)? = o[key], !p.isEmpty { throw fail("\(key) (per-module ranks/alphas) is not supported yet") }
        }
        if case .array(let m)? = o["modules_to_save"], !m.isEmpty { throw fail("modules_to_save is not supported yet") }
        if case .array(let t)? = o["target_modules"] {
            config.targetModules = t.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        }
        return config
    }
}
