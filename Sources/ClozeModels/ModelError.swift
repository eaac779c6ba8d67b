import Foundation

/// Everything that can go wrong loading, checking or running a model. Each message names the file,
/// the tensor and/or byte offset involved, and what to do about it.
public enum ModelError: Error, CustomStringConvertible, LocalizedError {
    /// A safetensors file is malformed (bad header, offsets, dtype, truncated data).
    case safetensors(file: String, tensor: String?, offset: Int?, message: String)
    /// config.json is missing, not JSON, or lacks a required field.
    case config(file: String, message: String)
    /// The config names an architecture Cloze does not implement.
    case unsupportedArchitecture(file: String, found: String, supported: [String])
    /// A checkpoint tensor is missing, unexpected, or has the wrong shape for the config.
    case weights(file: String, problems: [String])
    /// Input a model cannot run on (token id outside the vocabulary, sequence too long, ...).
    case input(String)
    /// Anything else: a file that cannot be read or written.
    case io(file: String, message: String)

    public var description: String {
        switch self {
        case let .safetensors(file, tensor, offset, message):
            var where_ = file
            if let tensor { where_ += ", tensor '\(tensor)'" }
            if let offset { where_ += ", byte offset \(offset)" }
            return "safetensors error (\(where_)): \(message)"
        case let .config(file, message):
            return "model config error (\(file)): \(message)"
        case let .unsupportedArchitecture(file, found, supported):
            return "unsupported model architecture '\(found)' in \(file); Cloze supports: \(supported.joined(separator: ", "))"
        case let .weights(file, problems):
            let shown = problems.prefix(20).map { "  - " + $0 }.joined(separator: "\n")
            let more = problems.count > 20 ? "\n  ... and \(problems.count - 20) more" : ""
            return "checkpoint \(file) does not match its config.json (\(problems.count) problem(s)):\n\(shown)\(more)"
        case let .input(message):
            return "invalid model input: \(message)"
        case let .io(file, message):
            return "I/O error (\(file)): \(message)"
        }
    }

    public var errorDescription: String? { description }
}
