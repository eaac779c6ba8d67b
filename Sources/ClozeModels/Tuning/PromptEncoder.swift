import Foundation
import ClozeTensor

/// P-tuning's prompt encoder (Liu et al. 2021; PEFT `P_TUNING` PromptEncoder): the virtual-token
/// embeddings [n, E] pass through an MLP, or a 2-layer bidirectional LSTM and an MLP, before they
/// enter the model, so the tokens are trained jointly rather than independently. Tensor names and
/// shapes are PEFT's (`mlp_head.*`, `lstm_head.weight_ih_l0_reverse`, ...). After training the
/// encoder's output is what is saved (PEFT saves `prompt_embeddings` the same way).
public final class PromptEncoder {
    public enum Kind: String, Sendable { case mlp, lstm }

    public let kind: Kind
    /// The encoder's hidden size (PEFT encoder_hidden_size).
    public var hiddenSize: Int { lstm.first?.first?.whh.shape[1] ?? mlp[0].weight.shape[0] }
    /// (name, weight, bias) of the MLP head's Linear layers, ReLU between them.
    let mlp: [(name: String, weight: Tensor, bias: Tensor)]
    /// Per LSTM layer and direction (forward, reverse): W_ih [4h, in], W_hh [4h, h], b_ih, b_hh [4h].
    let lstm: [[(suffix: String, wih: Tensor, whh: Tensor, bih: Tensor, bhh: Tensor)]]

    init(kind: Kind, mlp: [(name: String, weight: Tensor, bias: Tensor)],
         lstm: [[(suffix: String, wih: Tensor, whh: Tensor, bih: Tensor, bhh: Tensor)]]) {
        self.kind = kind; self.mlp = mlp; self.lstm = lstm
    }

    /// PEFT's layout for token width `e` and encoder hidden size `h`, initialised as PyTorch does
    /// (nn.Linear and nn.LSTM: U(±1/√fan) — fan_in for Linear, h for LSTM), seeded; `tensors(name)`
    /// supplies stored values instead (loading PEFT's encoder).
    public convenience init(kind: Kind, width e: Int, hidden h: Int, seed: UInt64,
                            tensors stored: ((String, [Int]) throws -> Tensor?)? = nil) throws {
        guard e >= 1, h >= 1 else { throw ModelError.input("the prompt encoder needs a hidden size of at least 1, got \(h)") }
        var rng = SeededRNG(seed: seed)
        func make(_ name: String, _ shape: [Int], bound: Float) throws -> Tensor {
            if let stored, let t = try stored(name, shape) { return t }
            let data = (0..<shape.reduce(1, *)).map { _ in (rng.nextUniform() * 2 - 1) * bound }
            return Tensor(shape: shape, data: data, requiresGrad: true, name: "prompt_encoder." + name)
        }
        func linear(_ name: String, _ inF: Int, _ outF: Int) throws -> (name: String, weight: Tensor, bias: Tensor) {
            let b = 1 / Float(inF).squareRoot()
            return (name, try make(name + ".weight", [outF, inF], bound: b), try make(name + ".bias", [outF], bound: b))
        }
        switch kind {
        case .mlp:
            self.init(kind: kind, mlp: [try linear("mlp_head.0", e, h), try linear("mlp_head.2", h, h), try linear("mlp_head.4", h, e)], lstm: [])
        case .lstm:
            let b = 1 / Float(h).squareRoot()
            var layers: [[(suffix: String, wih: Tensor, whh: Tensor, bih: Tensor, bhh: Tensor)]] = []
            for l in 0..<2 {
                layers.append(try ["", "_reverse"].map { dir in
                    let s = "_l\(l)\(dir)", inF = l == 0 ? e : 2 * h
                    return (s, try make("lstm_head.weight_ih" + s, [4 * h, inF], bound: b), try make("lstm_head.weight_hh" + s, [4 * h, h], bound: b),
                            try make("lstm_head.bias_ih" + s, [4 * h], bound: b), try make("lstm_head.bias_hh" + s, [4 * h], bound: b))
                })
            }
            // PyTorch creates the LSTM before the MLP head, so the head's draws come after.
            self.init(kind: kind, mlp: [try linear("mlp_head.0", 2 * h, 2 * h), try linear("mlp_head.2", 2 * h, e)], lstm: layers)
        }
    }

    /// Trainable tensors with PEFT's names (under `prompt_encoder.`).
    public var parameters: [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        for d in lstm.joined() {
            let p = "prompt_encoder.lstm_head."
            out += [(p + "weight_ih" + d.suffix, d.wih), (p + "weight_hh" + d.suffix, d.whh),
                    (p + "bias_ih" + d.suffix, d.bih), (p + "bias_hh" + d.suffix, d.bhh)]
        }
        for l in mlp { out += [("prompt_encoder." + l.name + ".weight", l.weight), ("prompt_encoder." + l.name + ".bias", l.bias)] }
        return out
    }

    /// [n, E] -> [n, E].
    public func callAsFunction(_ x: Tensor, tape: Tape?) -> Tensor {
        var h = x
        for layer in lstm {
            h = Ops.concatColumns(layer.enumerated().map { i, d in
                Self.lstmDirection(h, wih: d.wih, whh: d.whh, bih: d.bih, bhh: d.bhh, reverse: i == 1, tape: tape)
            }, tape: tape)
        }
        for (i, l) in mlp.enumerated() {
            h = Ops.linear(h, weight: l.weight, bias: l.bias, tape: tape)
            if i + 1 < mlp.count { h = Ops.relu(h, tape: tape) }
        }
        return h
    }

    /// One LSTM direction over the n rows of x: gates i, f, g, o (PyTorch's order) from
    /// x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh; c = f∘c + i∘g, h = o∘tanh(c). Returns the hidden states [n, h].
    static func lstmDirection(_ x: Tensor, wih: Tensor, whh: Tensor, bih: Tensor, bhh: Tensor, reverse: Bool, tape: Tape?) -> Tensor {
        let n = x.rows, hw = whh.shape[1]
        let projected = Ops.linear(x, weight: wih, bias: bih, tape: tape)   // [n, 4h], every step at once
        var h = Tensor(zeros: [1, hw]), c = Tensor(zeros: [1, hw])
        var outputs = [Tensor?](repeating: nil, count: n)
        func gate(_ g: Tensor, _ k: Int) -> Tensor { Ops.gatherColumns(g, columns: Array((k * hw)..<((k + 1) * hw)), tape: tape) }
        for step in 0..<n {
            let row = reverse ? n - 1 - step : step
            let gates = Ops.add(Ops.gatherRows(projected, rows: [row], tape: tape), Ops.linear(h, weight: whh, bias: bhh, tape: tape), tape: tape)
            let (i, f) = (Ops.sigmoid(gate(gates, 0), tape: tape), Ops.sigmoid(gate(gates, 1), tape: tape))
            let (g, o) = (Ops.tanh(gate(gates, 2), tape: tape), Ops.sigmoid(gate(gates, 3), tape: tape))
            c = Ops.add(Ops.mul(f, c, tape: tape), Ops.mul(i, g, tape: tape), tape: tape)
            h = Ops.mul(o, Ops.tanh(c, tape: tape), tape: tape)
            outputs[row] = h
        }
        return Ops.concatRows(outputs.map { $0! }, tape: tape)
    }
}
