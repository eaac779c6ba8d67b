import Foundation
import ClozeTensor

/// Several task adapters over one frozen base, in one forward pass (multi-tenant serving, as S-LoRA /
/// Punica batch LoRA requests): the batch is the K tasks' equal-sized sub-batches stacked task-major,
/// so every activation [N, ·] is K equal row blocks (token rows in the encoder, mask rows in the MLM
/// head). Every Linear computes the frozen projection x·Wᵀ + b once for all rows (one large GEMM: the
/// weights are read once instead of once per task), and each task's low-rank update s·(x_k·Aᵀ)·Bᵀ is
/// added to its own block only. Inference only (no tape).
public final class StackedLoRAAdapter: LinearAdapter {
    /// Per task, in block order: its LoRA on this layer, or nil (layer not adapted for that task).
    public let tasks: [LoRAAdapter?]

    public init(tasks: [LoRAAdapter?]) {
        precondition(tasks.allSatisfy { $0?.magnitude == nil }, "StackedLoRAAdapter: DoRA adapters cannot share the base projection")
        self.tasks = tasks
    }

    /// Sequences of each task's block in the next batches (task order; the batch holds their sum), so
    /// each task can bring the inputs of its own length; nil: equal blocks.
    public var blockSequences: [Int]?

    public var parameters: [(name: String, tensor: Tensor)] { [] }

    /// Row ranges of the tasks' blocks in x.
    func blockRanges(rows: Int) -> [Range<Int>] {
        let k = tasks.count
        guard let counts = blockSequences else {
            precondition(rows % k == 0, "StackedLoRAAdapter: \(rows) rows are not \(k) equal task blocks")
            return (0..<k).map { ($0 * rows / k)..<(($0 + 1) * rows / k) }
        }
        let total = counts.reduce(0, +)
        precondition(counts.count == k && total > 0 && rows % total == 0, "StackedLoRAAdapter: \(rows) rows do not hold blocks of \(counts) sequences")
        let perSequence = rows / total
        var start = 0, ranges: [Range<Int>] = []
        for c in counts { ranges.append(start..<(start + c * perSequence)); start += c * perSequence }
        return ranges
    }

    public func forward(_ x: Tensor, linear: Linear, training: Bool, rng: inout SeededRNG?, tape: Tape?) -> Tensor {
        precondition(tape == nil && !training, "StackedLoRAAdapter serves inference only")
        let y = linear.project(x, bias: linear.bias, tape: nil)   // dense or NF4 base
        let (inF, outF) = (linear.inFeatures, linear.outFeatures)
        for (lora, range) in zip(tasks, blockRanges(rows: x.rows)) where !range.isEmpty {
            guard let lora else { continue }
            let rows = Tensor(shape: [range.count, inF], data: Array(x.data[(range.lowerBound * inF)..<(range.upperBound * inF)]))
            let delta = Ops.linear(Ops.linear(rows, weight: lora.a, bias: nil, tape: nil), weight: lora.b, bias: nil, tape: nil)
            y.data.withUnsafeMutableBufferPointer { py in
                delta.data.withUnsafeBufferPointer { pd in
                    Vectorized.addScaled(py.baseAddress! + range.lowerBound * outF, pd.baseAddress!, lora.scaling, count: range.count * outF)
                }
            }
        }
        return y
    }

    /// Serving-only: there is no single merged weight for several tasks.
    public func mergedWeight(_ linear: Linear) -> [Float] { linear.denseWeight }

    /// Installs one stacked adapter on every Linear any task adapts (`tasks[k]`: Linear name -> task k's LoRA).
    public static func install(on model: any MaskedLanguageModel, tasks: [[String: LoRAAdapter]]) {
        for linear in model.linears {
            let perTask = tasks.map { $0[linear.name] }
            linear.adapter = perTask.contains { $0 != nil } ? StackedLoRAAdapter(tasks: perTask) : nil
        }
    }
}
