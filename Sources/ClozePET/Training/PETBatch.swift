import ClozeModels
import ClozeTensor

/// One assembled example ready for the model.
public struct PETFeature: Sendable, Equatable {
    public var input: PETInput
    /// Class index, nil for unlabelled examples.
    public var label: Int?
    public init(input: PETInput, label: Int?) { self.input = input; self.label = label }
}

/// A dynamically padded batch (padded to its longest member, not to max length) with the flat rows
/// (b*T + maskPosition) of every mask.
public struct PETBatch {
    public var encoded: EncodedBatch
    public var maskRows: [Int]
    public var labels: [Int?]
    /// Multi-mask PET: per example, the flat rows of all its masks (b*T + maskPosition + j).
    public var allMaskRows: [[Int]]

    public init(_ features: [PETFeature], padID: Int32) throws {
        encoded = try EncodedBatch(sequences: features.map(\.input.inputIDs), tokenTypes: features.map(\.input.tokenTypeIDs), padId: padID)
        let t = encoded.seqLen
        for (b, f) in features.enumerated() {
            encoded.softRows += f.input.softPositions.map { b * t + $0 }
            encoded.softIndex += f.input.softPositions.indices
        }
        maskRows = features.enumerated().map { $0.offset * t + $0.element.input.maskPosition }
        allMaskRows = features.enumerated().map { b, f in (0..<f.input.maskCount).map { b * t + f.input.maskPosition + $0 } }
        labels = features.map(\.label)
    }
}

public enum PETFeatures {
    /// Builds the inputs of every example with one pattern (errors name the example's file:line).
    public static func build(_ examples: [Example], builder: PETInputBuilder) throws -> [PETFeature] {
        try examples.map { PETFeature(input: try builder.build($0.fields, location: $0.location), label: $0.label) }
    }
}

/// Inference over many features: sorted by length so each batch pads to similar lengths, `logits`
/// maps one batch to a [batch, columns] tensor, and rows come back in the features' original order.
enum BatchedInference {
    static func run(_ features: [PETFeature], batchSize: Int, padID: Int32, columns: Int, progress: ((Int) -> Void)?,
                    logits: (PETBatch) throws -> Tensor) throws -> [Float] {
        var out = [Float](repeating: 0, count: features.count * columns)
        let order = features.indices.sorted { features[$0].input.inputIDs.count < features[$1].input.inputIDs.count }
        var done = 0
        for start in stride(from: 0, to: order.count, by: max(1, batchSize)) {
            let idx = Array(order[start..<min(start + max(1, batchSize), order.count)])
            let result = try logits(try PETBatch(idx.map { features[$0] }, padID: padID))
            result.data.withUnsafeBufferPointer { src in
                for (j, i) in idx.enumerated() {
                    for c in 0..<columns { out[i * columns + c] = src[j * columns + c] }
                }
            }
            done += idx.count
            progress?(done)
        }
        return out
    }
}
