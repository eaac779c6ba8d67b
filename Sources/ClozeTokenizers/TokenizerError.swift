import CUTF8Proc

/// Version of the utf8proc library Cloze normalises with.
public func utf8procVersion() -> String { String(cString: utf8proc_version()) }

/// Every failure while loading a tokenizer names the file and the place in it.
public struct TokenizerError: Error, CustomStringConvertible {
    public let file: String
    public let place: String
    public let message: String
    public init(file: String, place: String = "", _ message: String) {
        self.file = file; self.place = place; self.message = message
    }
    public var description: String {
        place.isEmpty ? "\(file): \(message)" : "\(file): \(place): \(message)"
    }
}
