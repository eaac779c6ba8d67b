import ClozeTensor

/// Where a model tensor sits, as trainability policies see it.
public struct ParameterRole: Sendable, Equatable {
    public enum Region: Sendable, Equatable {
        /// Word / position / type embeddings, their LayerNorm, ALBERT's E→H projection (and a tied decoder).
        case embeddings
        /// A transformer layer; `depth` is its position in the applied order (0 = bottom). A shared
        /// ALBERT layer has the deepest position at which it is applied.
        case layer(depth: Int)
        /// The MLM head's own tensors (transform, untied decoder, decoder bias).
        case mlmHead
        /// Added by an adapter or prompt method; not part of the checkpoint.
        case adapter
    }
    public var region: Region
    /// A Linear or LayerNorm bias, or the decoder bias (what BitFit trains).
    public var isBias: Bool
    /// BitFit's small subset (Ben Zaken et al. 2022): the query bias and the first MLP bias of each layer.
    public var isBitFitSubsetBias: Bool
}

/// Which of a masked LM's tensors a trainer updates. One policy serves every trainer (PET pattern
/// models, distillation, fine-tuning); a task head (sequence classifier) is always trained, and
/// adapter tensors are always trained.
public enum TrainabilityPolicy: Sendable, Equatable, CustomStringConvertible {
    /// Every tensor (full fine-tuning).
    case full
    /// BitFit: every bias (Linear, LayerNorm and decoder biases); weights frozen.
    case biases
    /// BitFit's subset: query and first-MLP biases only.
    case bitfitSubset
    /// Partial freezing: the top K applied layers and the MLM head; embeddings (so a tied decoder) frozen.
    case topLayers(Int)
    /// Nothing of the base model (adapter or prompt methods train only their own tensors).
    case frozen

    public var description: String {
        switch self {
        case .full: return "full"
        case .biases: return "bitfit"
        case .bitfitSubset: return "bitfit-subset"
        case .topLayers(let k): return "freeze:\(k)"
        case .frozen: return "frozen"
        }
    }

    /// Parses `full`, `bitfit`, `bitfit-subset`, `freeze:K` (train the top K layers), `frozen`.
    public init?(parsing text: String) {
        switch text {
        case "full": self = .full
        case "bitfit": self = .biases
        case "bitfit-subset": self = .bitfitSubset
        case "frozen": self = .frozen
        default:
            guard text.hasPrefix("freeze:"), let k = Int(text.dropFirst("freeze:".count)), k >= 0 else { return nil }
            self = .topLayers(k)
        }
    }

    /// Whether the policy updates transformer-layer Linear weights (impossible for an NF4 base).
    public var trainsLayerWeights: Bool {
        switch self {
        case .full: return true
        case .topLayers(let k): return k > 0
        case .biases, .bitfitSubset, .frozen: return false
        }
    }

    public func isTrainable(_ role: ParameterRole, appliedLayers: Int) -> Bool {
        if role.region == .adapter { return true }
        switch self {
        case .full: return true
        case .biases: return role.isBias
        case .bitfitSubset: return role.isBitFitSubsetBias
        case .frozen: return false
        case .topLayers(let k):
            switch role.region {
            case .embeddings: return false
            case .mlmHead, .adapter: return true
            case .layer(let depth): return depth >= appliedLayers - k
            }
        }
    }
}

/// Trainable and total scalar counts, printed the way PEFT's `print_trainable_parameters` does.
public struct TrainableCount: Sendable, Equatable, CustomStringConvertible {
    public var trainable: Int
    public var all: Int
    public init(trainable: Int, all: Int) { self.trainable = trainable; self.all = all }
    public var percent: Double { all == 0 ? 0 : 100 * Double(trainable) / Double(all) }
    public var description: String {
        "trainable params: \(Self.grouped(trainable)) || all params: \(Self.grouped(all)) || trainable%: \(String(format: "%.4f", percent))"
    }
    /// 1234567 -> "1,234,567" (Python's `:,d`).
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }
}

extension MaskedLanguageModel {
    /// Sets `requiresGrad` on every model tensor by `policy` (task-head tensors in `head` always) and
    /// returns the trainable ones, in parameter order, with the counts.
    public func applyTrainability(_ policy: TrainabilityPolicy, head: [(name: String, tensor: Tensor)] = [])
        -> (trainable: [(name: String, tensor: Tensor)], count: TrainableCount) {
        var trainable: [(name: String, tensor: Tensor)] = []
        var count = TrainableCount(trainable: 0, all: 0)
        for p in parameters {
            let on = policy.isTrainable(role(of: p.tensor), appliedLayers: appliedLayers)
            p.tensor.requiresGrad = on
            count.all += p.tensor.count
            if on { trainable.append(p); count.trainable += p.tensor.count }
        }
        for p in head {
            p.tensor.requiresGrad = true
            trainable.append(p)
            count.all += p.tensor.count
            count.trainable += p.tensor.count
        }
        return (trainable, count)
    }
}
