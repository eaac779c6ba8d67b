import ClozeModels

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

    public init(_ features: [PETFeature], padID: Int32) throws {
        encoded = try EncodedBatch(sequences: features.map(\.input.inputIDs), tokenTypes: features.map(\.input.tokenTypeIDs), padId: padID)
        let t = encoded.seqLen
        maskRows = features.enumerated().map { $0.offset * t + $0.element.input.maskPosition }
        labels = features.map(\.label)
    }
}

public enum PETFeatures {
    /// Builds the inputs of every example with one pattern (errors name the example's file:line).
    public static func build(_ examples: [Example], builder: PETInputBuilder) throws -> [PETFeature] {
        try examples.map { PETFeature(input: try builder.build($0.fields, location: $0.location), label: $0.label) }
    }
}
