import ClozeTensor

/// Builds parameters from a `WeightProvider`; a missing or mis-shaped tensor becomes a zero
/// placeholder (the provider has recorded the problem and loading throws before any use).
struct ParameterBuilder {
    let weights: WeightProvider
    /// Every parameter created, in order (HF names).
    private(set) var all: [(name: String, tensor: Tensor)] = []
    /// Bias-like parameters (Linear and LayerNorm biases, the decoder bias): what BitFit trains.
    var biases = Set<ObjectIdentifier>()
    /// Every Linear built, by HF module name: the injection point for adapters (LoRA, ...).
    private(set) var linears: [Linear] = []
    /// Frozen compact tensors of an NF4 model (layer weights, the f16 word table), kept out of `all`
    /// (they are not trainable): name, shape and how to get their f32 values for saving.
    private(set) var frozenTensors: [(name: String, shape: [Int], values: () -> [Float])] = []

    init(_ weights: WeightProvider) { self.weights = weights }

    mutating func param(_ name: String, _ shape: [Int], _ initializer: ParameterInit = .normal) -> Tensor {
        let t = weights.tensor(name, shape: shape, initializer: initializer, optional: false)
            ?? Tensor(zeros: shape, requiresGrad: true, name: name)
        all.append((name, t))
        return t
    }

    /// A parameter that may be absent from the checkpoint (nil if absent and not randomly filled).
    mutating func optionalParam(_ name: String, _ shape: [Int], _ initializer: ParameterInit = .normal) -> Tensor? {
        guard let t = weights.tensor(name, shape: shape, initializer: initializer, optional: true) else { return nil }
        all.append((name, t))
        return t
    }

    mutating func bias(_ name: String, _ shape: [Int]) -> Tensor {
        let t = param(name, shape, .zeros)
        biases.insert(ObjectIdentifier(t))
        return t
    }

    mutating func linear(_ name: String, in inF: Int, out outF: Int) -> Linear {
        let l = Linear(name: name, weight: param(name + ".weight", [outF, inF]), bias: bias(name + ".bias", [outF]))
        linears.append(l)
        return l
    }

    /// A transformer layer's Linear: quantised to NF4 as it is read when the provider asks for it
    /// (the f32 tensor lives only until it is packed). An NF4 weight is frozen and not a parameter.
    mutating func layerLinear(_ name: String, in inF: Int, out outF: Int) -> Linear {
        guard weights.quantization == .nf4 else { return linear(name, in: inF, out: outF) }
        let dense = weights.tensor(name + ".weight", shape: [outF, inF], initializer: .normal, optional: false)
        let packed = NF4Matrix(quantizing: dense?.data ?? [Float](repeating: 0, count: outF * inF), rows: outF, cols: inF)
        let l = Linear(name: name, nf4: packed, bias: bias(name + ".bias", [outF]))
        linears.append(l)
        frozenTensors.append((name + ".weight", [outF, inF], { l.adapter?.mergedWeight(l) ?? l.denseWeight }))
        return l
    }

    /// The word-embedding table: an f32 parameter, or for an NF4 model a frozen f16 table (the
    /// largest tensor left in f32 otherwise; 47 MB saved at BERT-base) and an empty placeholder.
    mutating func wordEmbeddings(_ name: String, _ shape: [Int]) -> (Tensor, HalfMatrix?) {
        guard weights.quantization == .nf4 else { return (param(name, shape), nil) }
        let dense = weights.tensor(name, shape: shape, initializer: .normal, optional: false)
        let table = HalfMatrix(rounding: dense?.data ?? [Float](repeating: 0, count: shape[0] * shape[1]), rows: shape[0], cols: shape[1])
        frozenTensors.append((name, shape, { table.expanded() }))
        return (Tensor(shape: [0], data: [], name: name + " (f16)"), table)
    }

    mutating func layerNorm(_ name: String, _ width: Int, eps: Float) -> LayerNorm {
        LayerNorm(gamma: param(name + ".weight", [width], .ones), beta: bias(name + ".bias", [width]), eps: eps)
    }
}

/// What an adapter adds to a Linear's output (LoRA, DoRA, (IA)³...). `base` is x·Wᵀ + b.
public protocol LinearAdapter: AnyObject {
    /// Hugging Face PEFT-style names of the adapter's own tensors, relative to the Linear's module.
    var parameters: [(name: String, tensor: Tensor)] { get }
    /// The adapted layer's output. The adapter computes the base projection itself, because methods
    /// differ in where they act: LoRA adds to it, (IA)³ rescales its input or output, DoRA rescales
    /// it without the bias.
    func forward(_ x: Tensor, linear: Linear, training: Bool, rng: inout SeededRNG?, tape: Tape?) -> Tensor
    /// W with the adapter folded in ([out, in]), for saving or merging.
    func mergedWeight(_ linear: Linear) -> [Float]
    /// b with the adapter folded in (nil when the layer has none).
    func mergedBias(_ linear: Linear) -> [Float]?
}

extension LinearAdapter {
    public func mergedBias(_ linear: Linear) -> [Float]? { linear.bias?.data }
}

/// y = x Wᵀ + b, PyTorch layout W [out, in]. A class so that adapters can be injected after loading.
/// W is dense f32 (`weight`) or a frozen NF4 matrix (`nf4Weight`, QLoRA's quantised base); code that
/// needs the base projection calls `project`, code that needs W's values reads `denseWeight`.
public final class Linear {
    /// Hugging Face module name (e.g. `bert.encoder.layer.0.attention.self.query`).
    public let name: String
    /// The f32 weight [out, in]; for an NF4 layer an empty [0] placeholder (the values live in
    /// `nf4Weight`), so dense-only code fails loudly instead of reading stale values.
    public let weight: Tensor
    public let bias: Tensor?
    /// The frozen NF4 weight; nil = dense.
    public let nf4Weight: NF4Matrix?
    /// Applied on top of the base projection; nil = a plain linear layer.
    public var adapter: (any LinearAdapter)?
    public let inFeatures: Int
    public let outFeatures: Int

    init(name: String, weight: Tensor, bias: Tensor?) {
        self.name = name; self.weight = weight; self.bias = bias; self.nf4Weight = nil
        inFeatures = weight.shape[1]; outFeatures = weight.shape[0]
    }

    init(name: String, nf4 weight: NF4Matrix, bias: Tensor?) {
        self.name = name; self.nf4Weight = weight; self.bias = bias
        self.weight = Tensor(shape: [0], data: [], name: name + ".weight (NF4)")
        inFeatures = weight.cols; outFeatures = weight.rows
    }

    public var isQuantized: Bool { nf4Weight != nil }

    /// W's values [out, in] (dequantised for NF4: a full f32 copy, for merging and saving only).
    public var denseWeight: [Float] { nf4Weight?.dequantized() ?? weight.data }

    /// x·Wᵀ + bias from whichever storage W has: what adapters call for the base projection.
    public func project(_ x: Tensor, bias: Tensor?, tape: Tape?) -> Tensor {
        if let nf4Weight { return Ops.linear(x, nf4: nf4Weight, bias: bias, tape: tape) }
        return Ops.linear(x, weight: weight, bias: bias, tape: tape)
    }

    public func callAsFunction(_ x: Tensor, tape: Tape?) -> Tensor {
        var noRNG: SeededRNG? = nil
        return forward(x, training: false, rng: &noRNG, tape: tape)
    }

    /// `training` and `rng` reach the adapter (LoRA dropout); the base projection has none.
    public func forward(_ x: Tensor, training: Bool, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        guard let adapter else { return project(x, bias: bias, tape: tape) }
        return adapter.forward(x, linear: self, training: training, rng: &rng, tape: tape)
    }
}

public struct LayerNorm {
    public let gamma: Tensor
    public let beta: Tensor
    public let eps: Float
    public func callAsFunction(_ x: Tensor, tape: Tape?) -> Tensor {
        Ops.layerNorm(x, gamma: gamma, beta: beta, eps: eps, tape: tape)
    }
}

extension Activation {
    func callAsFunction(_ x: Tensor, tape: Tape?) -> Tensor {
        switch self {
        case .gelu: return Ops.gelu(x, kind: .erf, tape: tape)
        case .geluNew, .geluPytorchTanh: return Ops.gelu(x, kind: .tanh, tape: tape)
        case .relu: return Ops.relu(x, tape: tape)
        }
    }
}

/// Dropout settings for one forward pass: probabilities are applied only while training with an RNG.
struct DropoutContext {
    let training: Bool
    func apply(_ x: Tensor, p: Float, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        guard training, p > 0, rng != nil else { return x }
        return Ops.dropout(x, p: p, rng: &rng, tape: tape)
    }
}

/// One post-LayerNorm transformer block (BERT, RoBERTa, ALBERT and DistilBERT share this shape;
/// only the tensor names and where hidden dropout sits differ).
public final class TransformerLayer {
    let query: Linear, key: Linear, value: Linear, attentionOutput: Linear
    let attentionNorm: LayerNorm
    let ffnIn: Linear, ffnOut: Linear
    let outputNorm: LayerNorm
    let heads: Int
    let activation: Activation
    let hiddenDropout: Float
    let attentionDropout: Float
    /// BERT/ALBERT drop out the attention output projection; DistilBERT does not.
    let dropoutAfterAttentionOutput: Bool
    /// Bottleneck adapters (Houlsby / Pfeiffer) after the attention and feed-forward sublayers; nil = none.
    public var attentionAdapter: BottleneckAdapter?
    public var outputAdapter: BottleneckAdapter?

    init(query: Linear, key: Linear, value: Linear, attentionOutput: Linear, attentionNorm: LayerNorm,
         ffnIn: Linear, ffnOut: Linear, outputNorm: LayerNorm, heads: Int, activation: Activation,
         hiddenDropout: Float, attentionDropout: Float, dropoutAfterAttentionOutput: Bool) {
        self.query = query; self.key = key; self.value = value; self.attentionOutput = attentionOutput
        self.attentionNorm = attentionNorm; self.ffnIn = ffnIn; self.ffnOut = ffnOut; self.outputNorm = outputNorm
        self.heads = heads; self.activation = activation
        self.hiddenDropout = hiddenDropout; self.attentionDropout = attentionDropout
        self.dropoutAfterAttentionOutput = dropoutAfterAttentionOutput
    }

    /// x [B*T, H] -> [B*T, H].
    /// Every Linear of the layer, in forward order.
    var linears: [Linear] { [query, key, value, attentionOutput, ffnIn, ffnOut] }
    /// Every tensor of the layer (weights, biases, LayerNorms).
    var tensors: [Tensor] {
        linears.flatMap { ($0.isQuantized ? [] : [$0.weight]) + ($0.bias.map { [$0] } ?? []) }
            + [attentionNorm.gamma, attentionNorm.beta, outputNorm.gamma, outputNorm.beta]
    }

    /// `prefix`: prefix tuning's keys and values [P, H] put before every sequence's own (never masked).
    func forward(_ x: Tensor, batch: Int, seqLen: Int, keyMask: [Float], prefix: (key: Tensor, value: Tensor)? = nil,
                 dropout: DropoutContext, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        let t = dropout.training
        let q = query.forward(x, training: t, rng: &rng, tape: tape)
        var k = key.forward(x, training: t, rng: &rng, tape: tape)
        var v = value.forward(x, training: t, rng: &rng, tape: tape)
        var mask = keyMask, keyLength = seqLen
        if let prefix {
            let p = prefix.key.rows
            k = Ops.prependRows(prefix.key, to: k, batch: batch, seqLen: seqLen, tape: tape)
            v = Ops.prependRows(prefix.value, to: v, batch: batch, seqLen: seqLen, tape: tape)
            mask = (0..<batch).flatMap { [Float](repeating: 1, count: p) + keyMask[($0 * seqLen)..<(($0 + 1) * seqLen)] }
            keyLength += p
        }
        let context = Ops.attention(q: q, k: k, v: v, batch: batch, queryLength: seqLen, keyLength: keyLength, heads: heads,
                                    keyMask: mask, dropout: dropout.training ? attentionDropout : 0, rng: &rng, tape: tape)
        var attended = attentionOutput.forward(context, training: t, rng: &rng, tape: tape)
        if dropoutAfterAttentionOutput { attended = dropout.apply(attended, p: hiddenDropout, rng: &rng, tape: tape) }
        if let adapter = attentionAdapter { attended = adapter(attended, tape: tape) }
        let h1 = attentionNorm(Ops.add(attended, x, tape: tape), tape: tape)
        let inner = activation(ffnIn.forward(h1, training: t, rng: &rng, tape: tape), tape: tape)
        var ffn = dropout.apply(ffnOut.forward(inner, training: t, rng: &rng, tape: tape), p: hiddenDropout, rng: &rng, tape: tape)
        if let adapter = outputAdapter { ffn = adapter(ffn, tape: tape) }
        return outputNorm(Ops.add(ffn, h1, tape: tape), tape: tape)
    }
}
