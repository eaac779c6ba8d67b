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
    /// PEFT `use_dora`: DoRA (Liu et al. 2024) — a learned magnitude per output row times the
    /// direction (W + s·B·A) / ‖W + s·B·A‖.
    public var useDoRA = false
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
/// With a magnitude m [out] it is DoRA, as PEFT computes it: y = (m/n)·(x·Wᵀ + s·x·Aᵀ·Bᵀ) + b where
/// n = ‖W + s·B·A‖ per output row, treated as a constant (DoRA §4.3: no gradient through the norm).
/// Backward comes from the ops: no dW GEMM while W is frozen; dA, dB, dX are rank-r GEMMs.
public final class LoRAAdapter: LinearAdapter {
    public let a: Tensor
    public let b: Tensor
    public let scaling: Float
    public let dropout: Float
    /// DoRA's magnitude vector [out] (PEFT `lora_magnitude_vector`); nil = plain LoRA.
    public let magnitude: Tensor?
    /// True while the update is folded into the Linear's weight (the adapter then adds nothing).
    public private(set) var merged = false
    /// DoRA cannot subtract its update back out exactly: the weight before merging.
    private var weightBeforeMerge: [Float]?

    public init(a: Tensor, b: Tensor, scaling: Float, dropout: Float, magnitude: Tensor? = nil) {
        self.a = a; self.b = b; self.scaling = scaling; self.dropout = dropout; self.magnitude = magnitude
    }

    /// PEFT's default init: A ~ kaiming_uniform(a=√5) = U(−1/√in, 1/√in), B = 0, so the adapted model
    /// starts equal to the base model; DoRA's magnitude starts at ‖W‖ per row.
    public convenience init(linear: Linear, config: LoRAConfig, rng: inout SeededRNG) {
        let bound = 1 / Float(linear.inFeatures).squareRoot()
        let values = (0..<(config.rank * linear.inFeatures)).map { _ in (rng.nextUniform() * 2 - 1) * bound }
        let magnitude = config.useDoRA
            ? Tensor(shape: [linear.outFeatures], data: LoRAAdapter.rowNorms(linear.denseWeight, columns: linear.inFeatures),
                     requiresGrad: true, name: linear.name + ".lora_magnitude_vector")
            : nil
        self.init(a: Tensor(shape: [config.rank, linear.inFeatures], data: values, requiresGrad: true, name: linear.name + ".lora_A.weight"),
                  b: Tensor(zeros: [linear.outFeatures, config.rank], requiresGrad: true, name: linear.name + ".lora_B.weight"),
                  scaling: config.scaling, dropout: config.dropout, magnitude: magnitude)
    }

    public var rank: Int { a.shape[0] }
    public var isDoRA: Bool { magnitude != nil }
    public var parameters: [(name: String, tensor: Tensor)] {
        [("lora_A.weight", a), ("lora_B.weight", b)] + (magnitude.map { [("lora_magnitude_vector", $0)] } ?? [])
    }

    public func forward(_ x: Tensor, linear: Linear, training: Bool, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        guard !merged else { return linear.project(x, bias: linear.bias, tape: tape) }
        let dropping = training && dropout > 0 && rng != nil
        let dropped = dropping ? Ops.dropout(x, p: dropout, rng: &rng, tape: tape) : x
        let down = Ops.linear(dropped, weight: a, bias: nil, tape: tape)     // [N, r]
        let up = Ops.linear(down, weight: b, bias: nil, tape: tape)          // [N, out]
        guard let magnitude else {
            return Ops.addScaled(linear.project(x, bias: linear.bias, tape: tape), up, alpha: 1, beta: scaling, tape: tape)
        }
        let norm = weightNorm(linear)
        let direction = linear.project(dropped, bias: nil, tape: tape)
        let combined = Ops.addScaled(direction, up, alpha: 1, beta: scaling, tape: tape)
        guard dropping else { return Ops.scaleColumns(combined, by: magnitude, dividedBy: norm, plus: linear.bias, tape: tape) }
        // PEFT with active dropout: base(x) + (m/n − 1)·dropout(x)·Wᵀ + (m/n)·s·lora(dropout(x)).
        let base = linear.project(x, bias: linear.bias, tape: tape)
        let rescaled = Ops.scaleColumns(combined, by: magnitude, dividedBy: norm, tape: tape)
        return Ops.add(Ops.addScaled(base, direction, alpha: 1, beta: -1, tape: tape), rescaled, tape: tape)
    }

    /// s·B·A [out, in].
    func delta() -> [Float] {
        Ops.matmul(b, a, transposeA: false, transposeB: false, batch: 1, tape: nil).data.map { $0 * scaling }
    }

    /// ‖W + s·B·A‖ per output row (DoRA's n; a constant for the gradient).
    func weightNorm(_ linear: Linear) -> [Float] {
        Self.rowNorms(zip(linear.denseWeight, delta()).map { $0 + $1 }, columns: linear.inFeatures)
    }

    public static func rowNorms(_ w: [Float], columns: Int) -> [Float] {
        w.withUnsafeBufferPointer { p in
            (0..<(w.count / columns)).map { r in Vectorized.dot(p.baseAddress! + r * columns, p.baseAddress! + r * columns, count: columns).squareRoot() }
        }
    }

    public func mergedWeight(_ linear: Linear) -> [Float] {
        if merged { return linear.weight.data }
        var w = zip(linear.denseWeight, delta()).map { $0 + $1 }
        guard let magnitude else { return w }
        let n = Self.rowNorms(w, columns: linear.inFeatures), cols = linear.inFeatures
        for r in 0..<linear.outFeatures {
            let f = magnitude.data[r] / n[r]
            for c in 0..<cols { w[r * cols + c] *= f }
        }
        return w
    }

    /// Folds the update into W (inference without the extra GEMMs); `unmerge` takes it out again.
    /// Refused for an NF4 base: W + s·B·A has no exact 4-bit form (saving writes the merged f32
    /// weight from `mergedWeight` instead, as QLoRA users merge into the dequantised base).
    public func merge(into linear: Linear) {
        precondition(!linear.isQuantized, "LoRA merge: \(linear.name) is an NF4 weight; merging into 4-bit storage is not supported (save the model to get the merged f32 weights)")
        guard !merged else { return }
        if isDoRA { weightBeforeMerge = linear.weight.data }
        linear.weight.data = mergedWeight(linear)
        merged = true
    }

    public func unmerge(from linear: Linear) {
        guard merged else { return }
        if let w = weightBeforeMerge { linear.weight.data = w } else { linear.weight.data = zip(linear.weight.data, delta()).map { $0 - $1 } }
        weightBeforeMerge = nil
        merged = false
    }
}

extension MaskedLanguageModel {
    /// The Linears whose names match PEFT-style target suffixes; throws when none does, naming the
    /// layers that exist.
    func linears(matching targets: [String], method: String) throws -> [Linear] {
        let chosen = linears.filter { LoRAConfig.matches($0.name, targets) }
        guard !chosen.isEmpty else {
            let examples = linears.prefix(8).map(\.name).joined(separator: ", ")
            throw ModelError.input("\(method) target modules \(targets) match no linear layer of this \(config.architecture.rawValue) model; its layers are named like \(examples)")
        }
        return chosen
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
        let chosen = try model.linears(matching: targets, method: "LoRA")
        for linear in chosen { linear.adapter = LoRAAdapter(linear: linear, config: config, rng: &rng) }
        return chosen.map(\.name)
    }

    /// Folds every LoRA adapter into its weight and removes it (a plain model again).
    public static func mergeAndUnload(_ model: any MaskedLanguageModel) {
        for linear in model.linears {
            guard let lora = linear.adapter as? LoRAAdapter else { continue }  // (DoRA included)
            lora.merge(into: linear)
            linear.adapter = nil
        }
    }
}
