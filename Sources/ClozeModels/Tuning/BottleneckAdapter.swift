import Foundation
import ClozeTensor

/// Houlsby et al. (2019) bottleneck adapter: x + W_up·f(W_down·x + b_down) + b_up, inserted after a
/// sublayer's output projection (and its dropout), before the residual add and LayerNorm. Houlsby
/// puts one after attention and one after the feed-forward block; Pfeiffer keeps only the second.
/// Initialised to the identity (W_up = 0, b_up = 0; W_down ~ N(0, 0.02)), so training starts from
/// the frozen model's function.
public final class BottleneckAdapter {
    public enum NonLinearity: String, Sendable, CaseIterable { case relu, gelu, swish }

    public let down: Tensor, downBias: Tensor   // [m, H], [m]
    public let up: Tensor, upBias: Tensor       // [H, m], [H]
    public let nonLinearity: NonLinearity

    public init(down: Tensor, downBias: Tensor, up: Tensor, upBias: Tensor, nonLinearity: NonLinearity) {
        self.down = down; self.downBias = downBias; self.up = up; self.upBias = upBias; self.nonLinearity = nonLinearity
    }

    /// A fresh identity adapter of width `width` and bottleneck `bottleneck`, seeded.
    public convenience init(width: Int, bottleneck: Int, nonLinearity: NonLinearity, rng: inout SeededRNG) {
        let w = SoftPrompt.standardNormal(bottleneck * width, &rng).map { $0 * 0.02 }
        self.init(down: Tensor(shape: [bottleneck, width], data: w, requiresGrad: true),
                  downBias: Tensor(zeros: [bottleneck], requiresGrad: true),
                  up: Tensor(zeros: [width, bottleneck], requiresGrad: true),
                  upBias: Tensor(zeros: [width], requiresGrad: true), nonLinearity: nonLinearity)
    }

    public var bottleneck: Int { down.shape[0] }

    /// Names relative to the Linear the adapter follows (e.g. `...attention.output.dense.adapter.down.weight`).
    public var parameters: [(name: String, tensor: Tensor)] {
        [("adapter.down.weight", down), ("adapter.down.bias", downBias), ("adapter.up.weight", up), ("adapter.up.bias", upBias)]
    }

    /// x [N, H] -> x + up(f(down(x))).
    func callAsFunction(_ x: Tensor, tape: Tape?) -> Tensor {
        let h = Ops.linear(x, weight: down, bias: downBias, tape: tape)
        let a: Tensor
        switch nonLinearity {
        case .relu: a = Ops.relu(h, tape: tape)
        case .gelu: a = Ops.gelu(h, kind: .erf, tape: tape)
        case .swish: a = Ops.mul(h, Ops.sigmoid(h, tape: tape), tape: tape)
        }
        return Ops.add(x, Ops.linear(a, weight: up, bias: upBias, tape: tape), tape: tape)
    }
}

/// Where bottleneck adapters go: Houlsby (after attention and after the feed-forward block) or
/// Pfeiffer (after the feed-forward block only).
public struct BottleneckAdapterConfig: Sendable, Equatable {
    public enum Placement: String, Sendable { case houlsby, pfeiffer }
    public var placement: Placement = .houlsby
    /// Bottleneck width = hidden size / reductionFactor (adapter-hub's default 16).
    public var reductionFactor: Int = 16
    public var nonLinearity: BottleneckAdapter.NonLinearity = .swish
    public init() {}

    /// Attaches fresh adapters to every distinct layer (ALBERT's shared layer gets one pair); returns how many.
    @discardableResult
    public func attach(to model: TransformerMaskedLM, seed: UInt64) throws -> Int {
        guard reductionFactor >= 1 else { throw ModelError.input("the adapter reduction factor must be at least 1, got \(reductionFactor)") }
        let width = model.config.hiddenSize, m = Swift.max(1, width / reductionFactor)
        var rng = SeededRNG(seed: seed), count = 0
        for layer in model.layers {
            if placement == .houlsby {
                layer.attentionAdapter = BottleneckAdapter(width: width, bottleneck: m, nonLinearity: nonLinearity, rng: &rng)
                count += 1
            }
            layer.outputAdapter = BottleneckAdapter(width: width, bottleneck: m, nonLinearity: nonLinearity, rng: &rng)
            count += 1
        }
        return count
    }
}
