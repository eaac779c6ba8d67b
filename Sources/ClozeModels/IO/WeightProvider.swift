import ClozeTensor

/// How a parameter is initialised when it is created from scratch (random weights, or a
/// classification head absent from the checkpoint). Matches transformers' `_init_weights`.
public enum ParameterInit: Sendable {
    case normal      // N(0, initializer_range), linear / embedding weights
    case zeros       // biases, LayerNorm beta
    case ones        // LayerNorm gamma
}

/// Supplies parameters by Hugging Face name (in the *ForMaskedLM layout, e.g.
/// "bert.encoder.layer.0.attention.self.query.weight"), so one model-building routine serves
/// checkpoints and random initialisation alike.
public protocol WeightProvider: AnyObject {
    /// The parameter `name` with `shape`. `optional` = may be absent (then nil, or randomly
    /// initialised by providers that do that).
    func tensor(_ name: String, shape: [Int], initializer: ParameterInit, optional: Bool) -> Tensor?
    /// Whether the source has this tensor (random providers: true).
    func has(_ name: String) -> Bool
    /// How transformer-layer Linear weights are stored once built.
    var quantization: WeightQuantization { get }
}

/// Storage of the frozen transformer-layer Linear weights (QLoRA keeps embeddings, LayerNorms,
/// biases and the MLM head in f32).
public enum WeightQuantization: String, Sendable, CaseIterable {
    /// f32, trainable.
    case none
    /// bitsandbytes NF4, block 64, double-quantised scales; frozen, dequantised on the fly.
    case nf4
}

extension WeightProvider {
    public var quantization: WeightQuantization { .none }
}

/// Seeded random parameters (benchmarks, fresh classification heads).
public final class RandomWeights: WeightProvider {
    var rng: SeededRNG
    let std: Float
    public var quantization = WeightQuantization.none
    /// Names created, in order (for reports).
    public private(set) var created: [String] = []

    public init(seed: UInt64, std: Float) {
        rng = SeededRNG(seed: seed)
        self.std = std
    }

    public func has(_ name: String) -> Bool { true }

    public func tensor(_ name: String, shape: [Int], initializer: ParameterInit, optional: Bool) -> Tensor? {
        created.append(name)
        return Self.make(name, shape: shape, initializer: initializer, std: std, rng: &rng)
    }

    static func make(_ name: String, shape: [Int], initializer: ParameterInit, std: Float, rng: inout SeededRNG) -> Tensor {
        let n = shape.reduce(1, *)
        var data: [Float]
        switch initializer {
        case .zeros: data = [Float](repeating: 0, count: n)
        case .ones: data = [Float](repeating: 1, count: n)
        case .normal:
            data = [Float](repeating: 0, count: n)
            // Box-Muller: two uniforms -> two standard normals.
            var i = 0
            while i < n {
                let u1 = max(rng.nextUniform(), 1e-7), u2 = rng.nextUniform()
                let r = (-2 * Float.log(u1)).squareRoot()
                data[i] = std * r * Float.cos(2 * .pi * u2)
                if i + 1 < n { data[i + 1] = std * r * Float.sin(2 * .pi * u2) }
                i += 2
            }
        }
        return Tensor(shape: shape, data: data, requiresGrad: true, name: name)
    }
}

/// Parameters from a safetensors checkpoint. Accepts names with or without the base-model prefix
/// ("bert.embeddings..." or "embeddings..."), as transformers does. Collects every problem
/// (missing, mis-shaped, unreadable) instead of stopping at the first, so one error lists them all.
public final class CheckpointWeights: WeightProvider {
    public let file: SafeTensorsFile
    let prefix: String
    public var quantization = WeightQuantization.none
    /// Used for optional tensors that are absent (classification heads); nil = leave them absent.
    var fallback: RandomWeights?
    public private(set) var used: Set<String> = []
    public private(set) var problems: [String] = []
    /// Optional tensors that were absent and randomly initialised.
    public private(set) var randomlyInitialized: [String] = []

    public init(file: SafeTensorsFile, prefix: String) {
        self.file = file
        self.prefix = prefix
    }

    /// The name as stored in the file, trying the prefixed and unprefixed spellings.
    func storedName(_ name: String) -> String? {
        if file.entries[name] != nil { return name }
        let p = prefix + "."
        if name.hasPrefix(p) {
            let bare = String(name.dropFirst(p.count))
            if file.entries[bare] != nil { return bare }
        } else if file.entries[p + name] != nil {
            return p + name
        }
        return nil
    }

    public func has(_ name: String) -> Bool { storedName(name) != nil }

    public func tensor(_ name: String, shape: [Int], initializer: ParameterInit, optional: Bool) -> Tensor? {
        guard let stored = storedName(name), let entry = file.entries[stored] else {
            if optional {
                if let fb = fallback {
                    randomlyInitialized.append(name)
                    return fb.tensor(name, shape: shape, initializer: initializer, optional: true)
                }
                return nil
            }
            problems.append("missing tensor '\(name)' (expected shape \(shape))")
            return nil
        }
        used.insert(stored)
        // Exact shape match: [N] and [1, N] are not interchangeable in transformers either.
        guard entry.shape == shape else {
            problems.append("tensor '\(stored)' has shape \(entry.shape) but the config needs \(shape)")
            return nil
        }
        do {
            return Tensor(shape: shape, data: try file.floats(entry), requiresGrad: true, name: name)
        } catch {
            problems.append("\(error)")
            return nil
        }
    }

    /// Marks a tensor as consumed without loading it (e.g. a tied decoder weight stored anyway).
    func markUsed(_ name: String) { if let s = storedName(name) { used.insert(s) } }

    /// Tensors in the file that nothing asked for.
    var unused: [String] { file.names.filter { !used.contains($0) } }
}
