import Foundation

/// Where in a user-supplied file something went wrong. Lines and columns are 1-based; columns count
/// Unicode scalars; `byteOffset` is the 0-based offset inside the line (for encoding errors).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var byteOffset: Int?

    public init(file: String, line: Int? = nil, column: Int? = nil, byteOffset: Int? = nil) {
        self.file = file; self.line = line; self.column = column; self.byteOffset = byteOffset
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let column { s += ":\(column)" }
        if let byteOffset { s += " (byte offset \(byteOffset))" }
        return s
    }
}

/// Every user-facing failure of the PET layer (bad pattern, verbalizer, data, task file, output file).
/// `code` lets callers and tests tell failures apart; `description` is what the CLI prints.
public struct PETError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public enum Code: String, Sendable {
        // patterns
        case noMask, multipleMasks, unknownSlot, unclosedBrace, unclosedBracket, emptySlot, badSlotName,
             unknownModifier, unknownBracketToken, notSupportedYet, misplacedDemo, badEscape, strayClosingBrace,
             multipleSegmentBreaks, emptySegment, noPatterns
        // verbalizers
        case badVerbalizerLine, duplicateLabel, duplicateWord, noWords, notSingleToken, labelNotInData,
             labelWithoutWords
        // input assembly
        case cannotShorten, missingField
        // data
        case emptyDataset, missingColumn, extraColumn, invalidUTF8, unknownLabel, unclosedQuote, badQuote,
             badJSON, fileNotFound, kTooLarge, badTaskDescriptor
        // output
        case outputMismatch, outputIO
    }

    public var code: Code
    public var location: SourceLocation?
    public var message: String

    public init(_ code: Code, _ message: String, at location: SourceLocation? = nil) {
        self.code = code; self.message = message; self.location = location
    }

    public var description: String {
        if let location { return "\(location): error: \(message)" }
        return "error: \(message)"
    }
    public var errorDescription: String? { description }
}
