/// torch.nn.utils.clip_grad_norm_ (L2): total = √(Σ over parameters with a gradient of ‖g‖²);
/// if total > maxNorm every gradient is scaled by maxNorm / (total + 1e-6). Returns total.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var sq: Double = 0
    for p in parameters where p.grad != nil {
        sq += Double(p.grad!.withUnsafeBufferPointer { Vectorized.dot($0.baseAddress!, $0.baseAddress!, count: $0.count) })
    }
    let total = Float(sq.squareRoot())
    let coef = maxNorm / (total + 1e-6)
    if coef < 1 {
        for p in parameters where p.grad != nil {
            p.grad!.withUnsafeMutableBufferPointer { Vectorized.scale($0.baseAddress!, $0.baseAddress!, by: coef, count: $0.count) }
        }
    }
    return total
}
