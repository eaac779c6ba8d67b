import ClozeTensor

/// (IA)³ settings with PEFT's `IA3Config` names: learned vectors that rescale the outputs of the
/// target layers, or the inputs of the feed-forward ones (Liu et al. 2022).
public struct IA3Config: Sendable, Equatable {
    /// Module-name suffixes as LoRA's; nil = the architecture's default.
    public var targetModules: [String]?
    /// The subset of targets whose input (not output) is scaled.
    public var feedforwardModules: [String]?
    public init(targetModules: [String]? = nil, feedforwardModules: [String]? = nil) {
        self.targetModules = targetModules; self.feedforwardModules = feedforwardModules
    }

    /// PEFT's TRANSFORMERS_MODELS_TO_IA3_(TARGET|FEEDFORWARD)_MODULES_MAPPING for BERT and RoBERTa
    /// (XLM-R); PEFT has none for DistilBERT and ALBERT, so Cloze uses the same roles there: key,
    /// value and the feed-forward output projection. BERT's "output.dense" also matches the attention
    /// output projection, as in PEFT.
    public static func defaults(_ architecture: Architecture) -> (targets: [String], feedforward: [String]) {
        switch architecture {
        case .distilbert: return (["k_lin", "v_lin", "lin2"], ["lin2"])
        case .albert: return (["key", "value", "ffn_output"], ["ffn_output"])
        default: return (["key", "value", "output.dense"], ["output.dense"])
        }
    }

    func resolved(_ architecture: Architecture) -> (targets: [String], feedforward: [String]) {
        let d = Self.defaults(architecture)
        let targets = targetModules ?? d.targets
        return (targets, feedforwardModules ?? d.feedforward.filter { targets.contains($0) })
    }
}

/// PEFT `ia3.Linear`: y = (x·Wᵀ + b)·l with l [out, 1], or for a feed-forward layer y = (x·l)·Wᵀ + b
/// with l [1, in]. Starts at l = 1 (the base model).
public final class IA3Adapter: LinearAdapter {
    public let scale: Tensor
    public let isFeedforward: Bool

    public init(scale: Tensor, isFeedforward: Bool) { self.scale = scale; self.isFeedforward = isFeedforward }

    public convenience init(linear: Linear, isFeedforward: Bool) {
        let shape = isFeedforward ? [1, linear.inFeatures] : [linear.outFeatures, 1]
        self.init(scale: Tensor(shape: shape, data: [Float](repeating: 1, count: shape[0] * shape[1]), requiresGrad: true,
                                name: linear.name + ".ia3_l"), isFeedforward: isFeedforward)
    }

    public var parameters: [(name: String, tensor: Tensor)] { [("ia3_l", scale)] }

    public func forward(_ x: Tensor, linear: Linear, training: Bool, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        if isFeedforward {
            return linear.project(Ops.scaleColumns(x, by: scale, tape: tape), bias: linear.bias, tape: tape)
        }
        return Ops.scaleColumns(linear.project(x, bias: linear.bias, tape: tape), by: scale, tape: tape)
    }

    public func mergedWeight(_ linear: Linear) -> [Float] {
        let cols = linear.inFeatures, l = scale.data
        var w = linear.denseWeight
        for r in 0..<linear.outFeatures {
            for c in 0..<cols { w[r * cols + c] *= isFeedforward ? l[c] : l[r] }
        }
        return w
    }

    public func mergedBias(_ linear: Linear) -> [Float]? {
        guard let b = linear.bias?.data else { return nil }
        return isFeedforward ? b : zip(b, scale.data).map { $0 * $1 }
    }
}

public enum IA3 {
    /// Attaches a fresh (IA)³ vector to every Linear matching the targets; returns the adapted names.
    @discardableResult
    public static func attach(to model: any MaskedLanguageModel, config: IA3Config) throws -> [String] {
        let (targets, feedforward) = config.resolved(model.config.architecture)
        if let stray = feedforward.first(where: { !targets.contains($0) }) {
            throw ModelError.input("(IA)³ feed-forward module '\(stray)' is not among the target modules \(targets)")
        }
        let chosen = try model.linears(matching: targets, method: "(IA)³")
        for linear in chosen {
            linear.adapter = IA3Adapter(linear: linear, isFeedforward: LoRAConfig.matches(linear.name, feedforward))
        }
        return chosen.map(\.name)
    }
}
