import ClozeTensor
import Foundation

/// LoRA settings with PEFT's `LoraConfig` names and meanings.
public struct LoRAConfig: Sendable, Equatable {
    public var rank = 8
    public var alpha: Float = 8
    public var dropout: Float = 0
    /// Module-name suffixes (PEFT `target_modules`): a Linear matches when its name equals a target or
    /// ends with "." + target. nil = the architecture's PEFT default.
    public var targetModules: [String]?
    /// PEFT `use_rslora`: scale alpha/sqrt(r) instead of alpha/r.
    public var useRSLoRA = false
    public init(rank: Int = 8, alpha: Float = 8, dropout: Float = 0, targetModules: [String]? = nil) {
        self.rank = rank; self.alpha = alpha; self.dropout = dropout; self.targetModules = targetModules
    }

    public var scaling: Float { useRSLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }

    /// PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING for the masked LMs Cloze loads.
    public static func defaultTargets(_ architecture: Architecture) -> [String] {
        architecture == .distilbert ? ["q_lin", "v_lin"] : ["query", "value"]
    }

    static func matches(_ name: String, _ targets: [String]) -> Bool {
        targets.contains { name == $0 || name.hasSuffix("." + $0) }
    }
}

/// y = x·Wᵀ + b + s·(dropout(x)·Aᵀ)·Bᵀ with A [r, in], B [out, r], s = alpha/r (PEFT `lora.Linear`).
/// Backward comes from the ops: no dW GEMM while W is frozen; dA, dB, dX are rank-r GEMMs.
public final class LoRAAdapter: LinearAdapter {
    public let a: Tensor
    public let b: Tensor
    public let scaling: Float
    public let dropout: Float
    /// True while s·B·A is folded into the Linear's weight (the adapter then adds nothing).
    public private(set) var merged = false

    public init(a: Tensor, b: Tensor, scaling: Float, dropout: Float) {
        self.a = a; self.b = b; self.scaling = scaling; self.dropout = dropout
    }

    /// PEFT's default init: A ~ kaiming_uniform(a=√5) = U(−1/√in, 1/√in), B = 0, so the adapted model
    /// starts equal to the base model.
    public convenience init(linear: Linear, config: LoRAConfig, rng: inout SeededRNG) {
        let bound = 1 / Float(linear.inFeatures).squareRoot()
        let values = (0..<(config.rank * linear.inFeatures)).map { _ in (rng.nextUniform() * 2 - 1) * bound }
        self.init(a: Tensor(shape: [config.rank, linear.inFeatures], data: values, requiresGrad: true, name: linear.name + ".lora_A.weight"),
                  b: Tensor(zeros: [linear.outFeatures, config.rank], requiresGrad: true, name: linear.name + ".lora_B.weight"),
                  scaling: config.scaling, dropout: config.dropout)
    }

    public var rank: Int { a.shape[0] }
    public var parameters: [(name: String, tensor: Tensor)] { [("lora_A.weight", a), ("lora_B.weight", b)] }

    public func apply(x: Tensor, base: Tensor, linear: Linear, training: Bool, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        guard !merged else { return base }
        let dropped = training && dropout > 0 && rng != nil ? Ops.dropout(x, p: dropout, rng: &rng, tape: tape) : x
        let down = Ops.linear(dropped, weight: a, bias: nil, tape: tape)     // [N, r]
        let up = Ops.linear(down, weight: b, bias: nil, tape: tape)          // [N, out]
        return Ops.addScaled(base, up, alpha: 1, beta: scaling, tape: tape)
    }

    /// s·B·A [out, in].
    func delta() -> [Float] {
        Ops.matmul(b, a, transposeA: false, transposeB: false, batch: 1, tape: nil).data.map { $0 * scaling }
    }

    public func mergedWeight(_ linear: Linear) -> [Float] {
        merged ? linear.weight.data : zip(linear.weight.data, delta()).map { $0 + $1 }
    }

    /// Folds s·B·A into W (inference without the extra GEMMs); `unmerge` takes it out again.
    public func merge(into linear: Linear) {
        guard !merged else { return }
        linear.weight.data = mergedWeight(linear)
        merged = true
    }

    public func unmerge(from linear: Linear) {
        guard merged else { return }
        linear.weight.data = zip(linear.weight.data, delta()).map { $0 - $1 }
        merged = false
    }
}

public enum LoRA {
    /// Attaches a fresh LoRA adapter (seeded PEFT init) to every Linear matching the targets.
    /// Returns the adapted module names; throws when nothing matches (with the names that exist).
    @discardableResult
    public static func attach(to model: any MaskedLanguageModel, config: LoRAConfig, seed: UInt64) throws -> [String] {
        let targets = config.targetModules ?? LoRAConfig.defaultTargets(model.config.architecture)
        guard config.rank >= 1 else { throw ModelError.input("LoRA rank must be ≥ 1, got \(config.rank)") }
        var rng = SeededRNG(seed: seed)
        let chosen = model.linears.filter { LoRAConfig.matches($0.name, targets) }
        guard !chosen.isEmpty else {
            let examples = model.linears.prefix(8).map(\.name).joined(separator: ", ")
            throw ModelError.input("LoRA target modules \(targets) match no linear layer of this \(model.config.architecture.rawValue) model; its layers are named like \(examples)")
        }
        for linear in chosen { linear.adapter = LoRAAdapter(linear: linear, config: config, rng: &rng) }
        return chosen.map(\.name)
    }

    /// Folds every LoRA adapter into its weight and removes it (a plain model again).
    public static func mergeAndUnload(_ model: any MaskedLanguageModel) {
        for linear in model.linears {
            guard let lora = linear.adapter as? LoRAAdapter else { continue }
            lora.merge(into: linear)
            linear.adapter = nil
        }
    }
}
